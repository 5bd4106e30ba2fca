"""A checkpoint's decoder and encoder as ONNX files, for running the model in a browser.

``export_onnx(model, out_dir)`` writes two self-contained files (weights inside, no
external-data side file), each with a dynamic batch dimension:

- ``decoder.onnx``: input ``z`` float32 (B, D) -> output ``image`` float32 (B, C, H, W),
  the image mean E[x|z] in [0, 1] (``VAE.decode_mean``: the sigmoid is part of the graph);
- ``encoder.onnx``: input ``x`` float32 (B, C, H, W) in [0, 1] -> outputs ``mu`` and
  ``logvar`` float32 (B, D) (``VAE.encode``, log-variance clamped as in torch).

Weights are stored as float16 where that changes no output by more than :data:`TOLERANCE` (they are
cast back to float32 inside the graph, so onnxruntime still computes in float32): half the bytes
for the page to download. The shipped checkpoints' weights are float16 already, so for them the
files are exact; a checkpoint whose outputs would move more keeps float32 weights (:func:`compact`).

onnxruntime reproduces torch's outputs within 1e-5 on every shipped checkpoint
(tests/vae/test_onnx_export.py, batch 1 and 64). The exporter is torch's own
(``torch.onnx.export(dynamo=True)``, which needs ``onnxscript``); it takes about 2 s a graph once
warm (6 s for the first one in a process), so the app keeps the files per checkpoint content hash
(:func:`export_cached`).
"""

from __future__ import annotations

import copy
import threading
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.cache import write_atomic  # noqa: F401  (re-exported)
from ..model import VAE
from .layout import CACHE_LAYOUT, DECODER_FILE, ENCODER_FILE, cached_folder  # noqa: F401  (the files' names, re-exported)

#: ONNX opset of the exported graphs: 18 is read by onnxruntime >= 1.14, including onnxruntime-web.
OPSET = 18
PARTS = ("decoder", "encoder")
#: The most any output (pixels in [0, 1], mu, logvar) may move when the weights are stored as
#: float16: a quarter of one grey level, well inside the 2/255 the page's pixels must keep to the server.
TOLERANCE = 0.25 / 255
#: Weight tensors smaller than this stay float32 (a Cast node would cost more than it saves).
MIN_COMPACT = 16


class _Decoder(nn.Module):
    """z (B, D) -> image mean (B, C, H, W) in [0, 1]."""

    def __init__(self, model: VAE):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode_mean(z)


class _Encoder(nn.Module):
    """x (B, C, H, W) -> mu (B, D), logvar (B, D)."""

    def __init__(self, model: VAE):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode(x)


def onnx_bytes(model: VAE, part: str, compact_weights: bool = True) -> bytes:
    """One part ("decoder" or "encoder") of a model as a serialised ONNX model (dynamic batch), its
    weights stored as float16 where that is exact enough (:func:`compact`)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    raw = _raw_bytes(model, part)
    return compact(raw, _probe(model, part)) if compact_weights else raw


def _raw_bytes(model: VAE, part: str) -> bytes:
    if hasattr(model, "page_onnx"):  # an imported model (vae.byo.model): its own graph, wrapped to these conventions
        return model.page_onnx(part)
    # a private float32 CPU copy: the caller's model may be shared (the app's cached models) or on a GPU
    m = copy.deepcopy(model).float().cpu().eval()
    cfg = m.config
    if part == "decoder":
        module, example = _Decoder(m), torch.zeros(2, cfg.latent_dim)
        names_in, names_out = ["z"], ["image"]
    else:
        module, example = _Encoder(m), torch.zeros(2, *cfg.image_shape)
        names_in, names_out = ["x"], ["mu", "logvar"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        program = torch.onnx.export(
            module.eval(), (example,), dynamo=True, opset_version=OPSET, input_names=names_in,
            output_names=names_out, dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False,
        )
    program.optimize()
    return program.model_proto.SerializeToString()


def _probe(model: VAE, part: str) -> dict[str, np.ndarray]:
    """Inputs the compact graph is checked on: 64 codes from the prior (and 3 far out), or 64 images
    (noise, the mean grey, black and white), all seeded."""
    gen = np.random.default_rng(0)
    cfg = model.config
    if part == "decoder":
        z = gen.standard_normal((67, cfg.latent_dim)).astype(np.float32)
        z[-3:] *= 3.0
        return {"z": z}
    x = gen.random((64, *cfg.image_shape), dtype=np.float32)
    x[-3], x[-2], x[-1] = 0.5, 0.0, 1.0
    return {"x": x}


def compact(data: bytes, probe: dict[str, np.ndarray], tolerance: float = TOLERANCE) -> bytes:
    """``data`` (an ONNX model) with its float32 weights stored as float16 and cast back inside the
    graph, when no output on ``probe`` moves by more than ``tolerance``; else ``data`` unchanged."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= MIN_COMPACT:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), f"{init.name}.f16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                          name=f"{init.name}.to_f32"))
        else:
            kept.append(init)
    if not casts:
        return data
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend([*casts, *nodes])
    small = model.SerializeToString()

    def run(blob: bytes) -> list[np.ndarray]:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"]).run(None, probe)

    for want, got in zip(run(data), run(small), strict=True):
        if not np.all(np.isfinite(got)) or float(np.abs(got - want).max()) > tolerance:
            return data
    return small


def export_onnx(model: VAE, out_dir: str | Path, parts: tuple[str, ...] = PARTS) -> dict[str, Path]:
    """Write ``decoder.onnx`` and/or ``encoder.onnx`` into ``out_dir``; returns {part: path}.

    Files are written atomically (a reader never sees half a file).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for part in parts:
        path = out / (DECODER_FILE if part == "decoder" else ENCODER_FILE)
        write_atomic(path, onnx_bytes(model, part))
        files[part] = path
    return files


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def export_cached(model: VAE, content_hash: str, root: str | Path) -> dict[str, Path]:
    """Both ONNX files of a checkpoint in ``root/<content_hash>/<CACHE_LAYOUT>/``, exported on the first call.

    The content hash (``Checkpoint.content_hash``: weights and config) names the folder, so a
    retrained checkpoint gets new files and an unchanged one is never exported twice. Calls for
    the same hash wait for one another (one export, not several).
    """
    if not content_hash or not content_hash.isalnum():
        raise ValueError(f"content_hash must be a non-empty alphanumeric string, got {content_hash!r}")
    folder = cached_folder(root, content_hash)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(content_hash, threading.Lock())
    with lock:
        files = {"decoder": folder / DECODER_FILE, "encoder": folder / ENCODER_FILE}
        missing = tuple(p for p, f in files.items() if not f.is_file())
        if missing:
            export_onnx(model, folder, missing)
        return files
