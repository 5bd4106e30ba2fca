"""A checkpoint's decoder and encoder as ONNX files, for running the model in a browser.

``export_onnx(model, out_dir)`` writes two self-contained files (weights inside, no
external-data side file), each with a dynamic batch dimension:

- ``decoder.onnx``: input ``z`` float32 (B, D) -> output ``image`` float32 (B, C, H, W),
  the image mean E[x|z] in [0, 1] (``VAE.decode_mean``: the sigmoid is part of the graph);
- ``encoder.onnx``: input ``x`` float32 (B, C, H, W) in [0, 1] -> outputs ``mu`` and
  ``logvar`` float32 (B, D) (``VAE.encode``, log-variance clamped as in torch).

onnxruntime reproduces torch's outputs within 1e-5 (tests/vae/test_onnx_export.py, every shipped
checkpoint, batch 1 and 64). The exporter is torch's own (``torch.onnx.export(dynamo=True)``,
which needs ``onnxscript``); it takes about 2 s a graph once warm (6 s for the first one in a
process), so the app keeps the files per checkpoint content hash (:func:`export_cached`).
"""

from __future__ import annotations

import copy
import os
import tempfile
import threading
import warnings
from pathlib import Path

import torch
from torch import nn

from ..model import VAE

DECODER_FILE = "decoder.onnx"
ENCODER_FILE = "encoder.onnx"
#: ONNX opset of the exported graphs: 18 is read by onnxruntime >= 1.14, including onnxruntime-web.
OPSET = 18
PARTS = ("decoder", "encoder")


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


def onnx_bytes(model: VAE, part: str) -> bytes:
    """One part ("decoder" or "encoder") of a model as a serialised ONNX model (dynamic batch)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
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


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` via a temporary file and a rename (readable by everyone)."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from a web server run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    """Both ONNX files of a checkpoint in ``root/<content_hash>/``, exported on the first call.

    The content hash (``Checkpoint.content_hash``: weights and config) names the folder, so a
    retrained checkpoint gets new files and an unchanged one is never exported twice. Calls for
    the same hash wait for one another (one export, not several).
    """
    if not content_hash or not content_hash.isalnum():
        raise ValueError(f"content_hash must be a non-empty alphanumeric string, got {content_hash!r}")
    folder = Path(root) / content_hash
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(content_hash, threading.Lock())
    with lock:
        files = {"decoder": folder / DECODER_FILE, "encoder": folder / ENCODER_FILE}
        missing = tuple(p for p, f in files.items() if not f.is_file())
        if missing:
            export_onnx(model, folder, missing)
        return files
