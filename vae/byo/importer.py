"""Bring your own VAE: import two ONNX graphs as a checkpoint folder, or export a PyTorch module to one.

``python -m vae import --encoder E.onnx --decoder D.onnx --dataset NAME --out DIR`` calls
:func:`import_onnx`; from Python, :func:`export_vae` turns a ``torch.nn.Module`` into the two
graphs and imports them: one with ``encode``/``decode`` methods, one with ``encoder``/``decoder``
submodules (pythae), whose outputs may be tuples, dict-likes, dataclasses or a Normal
(:mod:`vae.byo.third_party` lists what is read), or any model with ``encode=``/``decode=`` functions::

    from vae.byo import export_vae
    export_vae(my_vae, "checkpoints/my-vae", dataset="fashion-mnist")

What import infers from the graphs when not told: whether the encoder takes images (B, C, H, W)
or flattened ones (B, C*H*W), the same for the decoder's output, the latent size, and the pixel
range from the decoder's last operation (a Tanh means [-1, 1]; a Sigmoid or a clamp to [0, 1]
means probabilities in [0, 1]). Then it checks both graphs (:mod:`vae.byo.graphs`), runs a round
trip on real test images (finite, in range, and reconstructions closer to their inputs than the
data set's mean image is), writes the folder atomically, evaluates it as far as the likelihood
allows, and ships its 2-D map, as ``python -m vae project`` does.
"""

from __future__ import annotations

import inspect
import json
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..checkpoint import Checkpoint, load_checkpoint
from ..data.datasets import (
    IDX_DATASETS,
    ImageDataset,
    canonical_dataset_name,
    check_dataset_name,
    find_idx,
    load_dataset,
    read_idx,
)
from ..errors import CheckpointError, DataError
from ..folders import CONFIG, META, swap_into_place, update_meta
from .graphs import Graph, OnnxFileError, read_graph
from .model import (
    DECODER_FILE,
    ENCODER_FILE,
    RANGE_TOLERANCE,
    OnnxConfig,
    OnnxVAE,
    check_signatures,
    latent_of,
    layout_of,
    probe,
)
from .third_party import Decoder, Encoder

#: What ``progress=`` takes: True (one line per stage on stderr), False or None (silent), or a
#: function called with each message.
Progress = bool | Callable[[str], None] | None

#: Test images of the import's round trip.
ROUND_TRIP_IMAGES = 256


def print_progress(message: str) -> None:
    """One line on stderr: how ``python -m vae import``, and export_vae by default, say each stage."""
    print(message, file=sys.stderr, flush=True)


def _say(progress: Progress) -> Callable[[str], None]:
    if progress is True:
        return print_progress
    if progress is None or progress is False:
        return lambda msg: None
    if not callable(progress):
        raise CheckpointError(f"progress must be True, False or a function of one message, got {progress!r}")
    return progress


class Stages:
    """The stages of an import, timed: ``start(name, message)`` ends the stage before it and says
    ``message``; messages within a stage go through ``say``; ``summary()`` ends the last."""

    def __init__(self, progress: Progress):
        self.say = _say(progress)
        self.seconds: dict[str, float] = {}
        self._name: str | None = None
        self._t0 = self._started = time.perf_counter()

    def start(self, name: str, message: str) -> None:
        self._stop()
        self._name, self._t0 = name, time.perf_counter()
        self.say(message)

    def _stop(self) -> None:
        if self._name is not None:
            self.seconds[self._name] = self.seconds.get(self._name, 0.0) + time.perf_counter() - self._t0
            self._name = None

    def summary(self) -> str:
        """``done in 172.4 s: export 6.1 s, checks 1.2 s, ...``: the stages in the order they ran."""
        self._stop()
        parts = ", ".join(f"{name} {sec:.1f} s" for name, sec in self.seconds.items())
        return f"done in {time.perf_counter() - self._started:.1f} s: {parts}"


def infer_config(enc: Graph, dec: Graph, image_shape: tuple[int, int, int], **declared: Any) -> OnnxConfig:
    """The config of two graphs: what ``declared`` gives (OnnxConfig fields; None = infer), the rest
    read off the graphs (layouts, latent size, output range and logits from the last operation)."""
    given = {k: v for k, v in declared.items() if v is not None}
    if len(enc.inputs) == 1 and "encoder_input" not in given:
        given["encoder_input"] = layout_of(enc.inputs[0], image_shape, enc.path, "input") or "image"
    if dec.outputs and "decoder_output" not in given:
        given["decoder_output"] = layout_of(dec.outputs[0], image_shape, dec.path, "output") or "image"
    if "latent_dim" not in given:
        sizes = [latent_of(p, "decoder's input", dec.path) for p in dec.inputs[:1]]
        sizes += [latent_of(p, "encoder's output", enc.path) for p in enc.outputs[:2]]
        known = [d for d in sizes if d is not None]
        if not known:
            raise OnnxFileError("neither graph declares the latent size; pass --latent-dim (the D of z's (B, D))")
        given["latent_dim"] = known[0]
    if "output_range" not in given and "decoder_outputs" not in given:
        if dec.last_op == "Tanh" or (dec.last_clip is not None and dec.last_clip[0] < -0.5):
            given["output_range"] = (-1, 1)
    if "input_range" not in given:  # a model whose decoder draws [-1, 1] was trained on [-1, 1] images
        given["input_range"] = given.get("output_range", (0, 1))
    try:
        return OnnxConfig(image_shape=tuple(image_shape), **given).validate()
    except TypeError as e:
        raise OnnxFileError(f"unknown setting: {e}") from None


def round_trip(model: OnnxVAE, images: torch.Tensor) -> dict[str, float]:
    """Encode and decode real images; OnnxFileError when the outputs are not finite, leave the
    declared range, or are no closer to their inputs than the data set's mean image is."""
    cfg = model.config
    try:
        mu, logvar = model.encode(images)
        raw = model.decode(mu)
    except Exception as e:
        raise OnnxFileError(f"the round trip on {len(images)} test images failed: "
                            f"{' '.join(str(e).split())[:200]}") from None
    if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all() and torch.isfinite(raw).all()):
        raise OnnxFileError(f"the round trip on {len(images)} test images gave NaN or infinite values; "
                            "the model is broken")
    if not cfg.logits:
        lo, hi = float(raw.min()), float(raw.max())  # on the [0, 1] scale
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            scale = "[-1, 1]" if tuple(cfg.output_range) == (-1, 1) else "[0, 1]"
            shown = (lo * 2 - 1, hi * 2 - 1) if scale == "[-1, 1]" else (lo, hi)
            raise OnnxFileError(
                f"the decoder's outputs run from {shown[0]:.3g} to {shown[1]:.3g}, outside the declared range "
                f"{scale}; pass --logits if it returns logits, or --output-range=-1,1 for a tanh decoder")
    recon = model.likelihood.mean(raw)
    mse = float((recon - images).pow(2).mean())
    mean_image = images.mean(0, keepdim=True)
    baseline = float((mean_image - images).pow(2).mean())
    if not mse < baseline:
        raise OnnxFileError(
            f"the reconstructions are no closer to their inputs (MSE {mse:.4f}) than the data set's mean image "
            f"is (MSE {baseline:.4f}): check --dataset, --input-range/--output-range and --logits")
    return {"recon_mse": mse, "mean_image_mse": baseline, "images": len(images)}


def _load_test(dataset: str, image_shape: tuple[int, int, int] | None, data_dir: str | None) -> ImageDataset:
    kw: dict[str, Any] = {}
    if dataset.startswith("folder:") and image_shape is not None:
        kw = {"channels": image_shape[0], "image_size": image_shape[1]}
    return load_dataset(dataset, "test", data_dir=data_dir, **kw)


def _declared_image_shape(enc: Graph) -> tuple[int, int, int] | None:
    s = enc.inputs[0].shape if len(enc.inputs) == 1 else None
    if s is not None and len(s) == 4 and all(isinstance(d, int) for d in s[1:]):
        return tuple(s[1:])  # type: ignore[return-value]
    return None


def train_size(dataset: str, data_dir: str | None = None) -> int | None:
    """How many images the data set's train split holds, when it is on this machine (None when not):
    an IDX set's label file is read, not its images; nothing is downloaded."""
    try:
        if dataset in IDX_DATASETS:
            found = find_idx(IDX_DATASETS[dataset], "train", data_dir)
            return len(read_idx(found[1])) if found else None
        return len(load_dataset(dataset, "train", data_dir=data_dir, download=False))
    except (DataError, OSError, ValueError):
        return None


def import_onnx(encoder: str | Path, decoder: str | Path, dataset: str, out: str | Path, *,
                class_names: list[str] | None = None, source: str | None = None, data_dir: str | None = None,
                evaluate: bool = True, iwae_k: int = 1000, iwae_images: int = 1000, map_method: str | None = None,
                progress: Progress = None, **declared: Any) -> Checkpoint:
    """Import two ONNX graphs as the checkpoint folder ``out`` (see the module docstring); returns it loaded.

    ``declared``: :class:`vae.byo.model.OnnxConfig` fields to use instead of inferring them
    (``input_range=(-1, 1)``, ``decoder_outputs="logits"``, ``likelihood="gaussian"``, ``sigma=0.05``, ...).
    ``progress``: True says each stage on stderr, as ``python -m vae import`` does; a function gets
    each message; None or False (the default) is silent.
    Raises CheckpointError (one sentence) for a refused file, a failed check or an ``out`` that exists.
    """
    origin = {"encoder": str(Path(encoder).resolve()), "decoder": str(Path(decoder).resolve())}
    return _import(encoder, decoder, dataset, Path(out), origin, Stages(progress), class_names=class_names,
                   source=source, data_dir=data_dir, evaluate=evaluate, iwae_k=iwae_k, iwae_images=iwae_images,
                   map_method=map_method, **declared)


def _refuse_existing(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CheckpointError(f"{out} already exists; choose another --out or remove it")


def _import(encoder: str | Path, decoder: str | Path, dataset: str, out: Path, origin: dict[str, Any],
            stages: Stages, *, class_names: list[str] | None, source: str | None, data_dir: str | None,
            evaluate: bool, iwae_k: int, iwae_images: int, map_method: str | None, **declared: Any) -> Checkpoint:
    """import_onnx's work; ``origin`` is what meta.json's ``imported`` records of where the graphs came from."""
    say = stages.say
    _refuse_existing(out)
    check_dataset_name(dataset)
    try:
        stages.start("checks", "checking the graphs")
        enc, dec = read_graph(encoder), read_graph(decoder)
        test = _load_test(dataset, _declared_image_shape(enc), data_dir)
        if class_names is not None and len(class_names) != len(test.class_names):
            raise OnnxFileError(f"--class-names names {len(class_names)} classes but {dataset} has "
                                f"{len(test.class_names)}")
        cfg = infer_config(enc, dec, tuple(test.image_shape), **declared)
        check_signatures(cfg, enc, dec)
        model = OnnxVAE(cfg, enc, dec)
        probe(model)
        stages.start("round trip", f"round trip on {min(ROUND_TRIP_IMAGES, len(test))} test images")
        trip = round_trip(model, test.images[:ROUND_TRIP_IMAGES])
    except OnnxFileError as e:
        raise CheckpointError(str(e)) from None
    stages.start("writing", f"writing {out}")
    meta: dict[str, Any] = {
        "dataset": canonical_dataset_name(dataset),
        "class_names": list(class_names or test.class_names),
        "image_shape": list(cfg.image_shape),
        "test_size": len(test),
        "imported": {
            **origin, "source": source or "", "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "round_trip": trip,
            "weights": {"encoder": enc.n_weights, "decoder": dec.n_weights},
        },
    }
    n_train = train_size(dataset, data_dir)
    if n_train is not None:  # unknown when the train split is not here: `info` says "test only"
        meta["train_size"] = n_train
    write_folder(out, enc.data, dec.data, cfg, meta)
    ck = load_checkpoint(out)
    if evaluate:
        from ..evaluate import EvalConfig, store_report
        from ..evaluate import evaluate as run_evaluation

        stages.start("evaluation", "evaluating")
        report = run_evaluation(ck, EvalConfig(iwae_k=iwae_k, iwae_images=iwae_images, data_dir=data_dir), say)
        store_report(ck.path, report)
    if map_method != "none":
        from ..explore.projection import ProjectionConfig
        from ..explore.sets import default_projection, ship_projection

        data = ck.load_data("test", data_dir=data_dir)
        pcfg = ProjectionConfig(method=map_method) if map_method else default_projection(ck, len(data))
        pcfg.validate(n_points=len(data), latent_dim=cfg.latent_dim)
        stages.start("map", f"the 2-D map ({pcfg.method}) of {len(data):,} test images")
        ship_projection(ck, data, pcfg, progress=say)
        update_meta(ck.path, default_map=pcfg.method)  # the map the app shows first
    say(stages.summary())
    return load_checkpoint(out)


def write_folder(out: Path, encoder: bytes, decoder: bytes, cfg: OnnxConfig, meta: dict[str, Any]) -> Path:
    """An imported model's folder, written atomically (a temporary sibling, then a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        (tmp / ENCODER_FILE).write_bytes(encoder)
        (tmp / DECODER_FILE).write_bytes(decoder)
        (tmp / CONFIG).write_text(cfg.to_json() + "\n", encoding="utf-8")
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# -- from a PyTorch module -----------------------------------------------------------------------
def _onnx(module: nn.Module, example: torch.Tensor, names_in: list[str], names_out: list[str]) -> bytes:
    validate = torch.distributions.Distribution._validate_args
    # a distribution's argument checks are branches on the data, which a graph cannot hold
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on its own internals
            program = torch.onnx.export(
                module.eval(), (example,), dynamo=True, opset_version=18, input_names=names_in,
                output_names=names_out, dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False,
                external_data=False,
            )
    finally:
        torch.distributions.Distribution.set_default_validate_args(validate)
    program.optimize()
    return program.model_proto.SerializeToString()


def _example_input(encode: Encoder, image_shape: tuple[int, int, int]) -> tuple[torch.Tensor, Any]:
    """A batch of two blank inputs the encoder accepts, images (B, C, H, W) first, then flattened
    (B, C*H*W), and what it returned for them."""
    c, h, w = image_shape
    refused = ""
    for x in (torch.zeros(2, c, h, w), torch.zeros(2, c * h * w)):
        try:
            with torch.no_grad():
                return x, encode.fn(x)
        except (RuntimeError, ValueError, TypeError) as e:  # a Linear layer that wants the flattened image
            refused = " ".join(str(e).split())[:160]
    raise CheckpointError(f"{encode.call} accepts neither images (B, {c}, {h}, {w}) nor flattened images "
                          f"(B, {c * h * w}) ({refused}); pass the data set's image_shape")


def _export(vae: nn.Module, folder: Path, image_shape: tuple[int, int, int], latent_dim: int | None,
            encode: Callable | None, decode: Callable | None,
            say: Callable[[str], None] | None = None) -> tuple[Path, Path, dict[str, str]]:
    """export_graphs' work; also returns (and says, before the export) how each half was called and
    its output read."""
    if not isinstance(vae, nn.Module):
        raise CheckpointError(f"export_vae needs the model as a torch.nn.Module, got {type(vae).__name__}")
    was_training = vae.training
    vae.eval()
    try:
        enc, dec = Encoder(vae, encode), Decoder(vae, decode)
        example, out = _example_input(enc, image_shape)
        how = {"encoder": enc.describe(out)}
        with torch.no_grad():
            mu, _ = enc(example)
            if mu.ndim != 2:
                raise CheckpointError(f"{enc.call} returns mu of shape {tuple(mu.shape)}, not a flat code (B, D); "
                                      "spatial latents are not supported")
            latent_dim = latent_dim or int(mu.shape[-1])
            z = torch.zeros(2, latent_dim)
            how["decoder"] = dec.describe(dec.fn(z))
        if say is not None:
            say(f"reading {how['encoder']}; {how['decoder']}")
        folder.mkdir(parents=True, exist_ok=True)
        enc_path, dec_path = folder / ENCODER_FILE, folder / DECODER_FILE
        enc_path.write_bytes(_onnx(enc, example, ["x"], ["mu", "logvar"]))
        dec_path.write_bytes(_onnx(dec, z, ["z"], ["image"]))
    finally:
        vae.train(was_training)
    return enc_path, dec_path, how


def export_graphs(vae: nn.Module, folder: str | Path, image_shape: tuple[int, int, int],
                  latent_dim: int | None = None, *, encode: Callable | None = None,
                  decode: Callable | None = None) -> tuple[Path, Path]:
    """A PyTorch VAE's two halves as ``folder``/encoder.onnx and decoder.onnx (dynamic batch, weights
    inside): the encoder takes images (B, C, H, W) when it accepts them, else flattened ones
    (B, C*H*W). Which halves, and how their outputs are read: :mod:`vae.byo.third_party`. Returns the
    two paths; CheckpointError names an output it cannot read and the fix."""
    enc_path, dec_path, _ = _export(vae, Path(folder), image_shape, latent_dim, encode, decode)
    return enc_path, dec_path


def export_vae(vae: nn.Module, out: str | Path, dataset: str, latent_dim: int | None = None,
               image_shape: tuple[int, int, int] | None = None, *, encode: Callable | None = None,
               decode: Callable | None = None, progress: Progress = True, **import_options: Any) -> Checkpoint:
    """Export a PyTorch VAE to ONNX (:func:`export_graphs`) and import it as the checkpoint folder
    ``out`` (:func:`import_onnx`, whose options pass through); returns it loaded.

    The model as it is: ``encode``/``decode`` methods, ``encoder``/``decoder`` submodules (pythae),
    or the ``encode=``/``decode=`` functions given; outputs as :mod:`vae.byo.third_party` reads them.
    A decoder ending in a sigmoid or a clamp to [0, 1] is taken as probabilities, one ending in tanh
    as [-1, 1] (pass ``output_range``/``input_range``/``decoder_outputs`` to say otherwise).
    ``image_shape`` defaults to the data set's; ``latent_dim`` to the size of mu.
    ``progress``: True (the default) says each stage on stderr and ends with their times; False
    is silent; a function gets each message. meta.json records the model's class and how it was
    read (``imported.exported``) and ``source`` (default: "exported from <class>").
    """
    out = Path(out)
    stages = Stages(progress)
    _refuse_existing(out)  # before minutes of work
    if image_shape is None:
        image_shape = tuple(load_dataset(dataset, "test").image_shape)  # type: ignore[assignment]
    cls = f"{type(vae).__module__}.{type(vae).__qualname__}"
    stages.start("export", f"exporting {cls} to ONNX")
    with tempfile.TemporaryDirectory(prefix="vae-export-") as tmp:
        enc_path, dec_path, how = _export(vae, Path(tmp), image_shape, latent_dim, encode, decode, stages.say)
        import_options.setdefault("source", f"exported from {cls}")
        origin = {"exported": {"class": cls, **how, "by": "vae.byo.export_vae", "torch": torch.__version__}}
        return _import(enc_path, dec_path, dataset, out, origin, stages, **{**_IMPORT_DEFAULTS, **import_options})


#: import_onnx's keyword options and their defaults, for export_vae's call of its work
_IMPORT_DEFAULTS = {name: p.default for name, p in inspect.signature(import_onnx).parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "progress"}


__all__ = ["import_onnx", "export_vae", "export_graphs", "infer_config", "round_trip", "write_folder", "train_size",
           "print_progress", "Progress"]
