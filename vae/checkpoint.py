"""Checkpoints: self-describing folders of safetensors + JSON, never pickles.

A checkpoint folder holds::

    model.safetensors      the weights (float32, or float16 when saved small)
    config.json            the ModelConfig that rebuilds the model
    meta.json              dataset, class names, image shape, training history, metrics
    optimizer.safetensors  optional: Adam's state, so that training can resume exactly

Folders are written atomically: a temporary sibling folder is filled, then renamed into
place, so an interrupted save never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .config import ModelConfig
from .data.datasets import ImageDataset, load_dataset
from .data.images import DataBackground
from .errors import CheckpointError, ConfigError, DataError
from .folders import (
    CONFIG,
    FORMAT_VERSION,
    IMPORTED_NOTE,
    META,
    ONNX_KIND,
    OPTIMIZER,
    WEIGHTS,
    check_no_pickles,
    content_hash,
    folder_kind,
    json_default,
    read_json,
    swap_into_place,
)
from .i18n import N_, Text
from .model import VAE


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode), its config and its metadata."""

    path: Path
    model: VAE
    config: ModelConfig
    meta: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dataset(self) -> str:
        return self.meta.get("dataset", "unknown")

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.get("class_names", []))

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.meta.get("metrics") or {})

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.meta.get("history") or [])

    def data_folder(self, data_dir: str | Path | None = None) -> Path:
        """Where a ``folder:`` checkpoint's images are: ``data_dir`` when given (the folder
        moved), else the path in meta.json. Checkpoints from before paths were stored absolute
        hold the path as it was typed; it is looked up from the current folder, then from the
        folder training ran in (worked out from ``train_config.out``). Raises DataError naming
        the places looked in when the folder is in none of them.
        """
        if not self.dataset.startswith("folder:"):
            raise DataError(f"{self.name} was trained on {self.dataset}, not on a folder of images")
        if data_dir is not None:
            folder = Path(data_dir).expanduser()
            if not folder.is_dir():
                raise DataError(f"--data-dir {str(data_dir)!r} is not a folder; pass the folder that holds "
                                f"{self.name}'s class sub-folders")
            return folder
        stored = Path(self.dataset.split(":", 1)[1]).expanduser()
        if stored.is_absolute():
            if stored.is_dir():
                return stored
            raise DataError(f"the image folder {stored} that {self.name} was trained on is gone (moved or "
                            "deleted); pass --data-dir with its new place")
        candidates = [Path.cwd() / stored]
        trained_in = self._training_folder()
        if trained_in is not None:
            candidates.append(trained_in / stored)
        for folder in candidates:
            if folder.is_dir():
                return folder
        where = " or ".join(str(c) for c in dict.fromkeys(candidates))
        raise DataError(f"the image folder {str(stored)!r} that {self.name} was trained on (a path relative to "
                        f"where training ran) is not in {where}; pass --data-dir with its place")

    def _training_folder(self) -> Path | None:
        """The working folder of the training run, when its relative ``--out`` ends this path."""
        out = Path(str((self.meta.get("train_config") or {}).get("out") or ""))
        if not out.parts or out.is_absolute() or ".." in out.parts:
            return None
        here = Path(os.path.abspath(self.path))
        if here.parts[-len(out.parts):] != out.parts:
            return None
        return Path(*here.parts[: -len(out.parts)])

    def load_data(self, split: str = "test", limit: int | None = None, data_dir: str | Path | None = None,
                  download: bool = True) -> ImageDataset:
        """One split of the data this model was trained on (its first ``limit`` images), exactly as
        the model expects it: a folder's images at the model's size and channels.

        ``data_dir``: where the IDX files are searched first, or for a ``folder:`` checkpoint the
        image folder itself (when it moved). Raises DataError when the data is not here.
        """
        name, kw = self.dataset, {}
        if name.startswith("folder:"):
            c, h, _ = self.config.image_shape
            name, kw, data_dir = f"folder:{self.data_folder(data_dir)}", {"image_size": h, "channels": c}, None
        data = load_dataset(name, split, data_dir=data_dir, download=download, **kw).subset(limit)
        if tuple(data.image_shape) != tuple(self.config.image_shape):
            raise DataError(f"{self.dataset} images are {tuple(data.image_shape)} but {self.name} expects "
                            f"{tuple(self.config.image_shape)}")
        return data

    def data_background(self, images: torch.Tensor | None = None) -> DataBackground | None:
        """How light the training images' borders are: meta.json's record (made at training time),
        else measured on ``images`` (the model's own data, e.g. the explore set), else on the first
        1,000 test images when they are on this machine; None when there is nothing to measure."""
        record = self.meta.get("data_background")
        if isinstance(record, dict):
            try:
                return DataBackground.from_dict(record)
            except (KeyError, TypeError, ValueError):
                pass  # a hand-edited meta.json: measure instead
        if images is None:
            try:
                images = self.load_data("test", limit=1000, download=False).images
            except DataError:
                return None
        return DataBackground.of(images) if len(images) else None

    def summary(self) -> str:
        """One line: dataset, latent size, beta, test -ELBO."""
        c = self.config
        neg = self.metrics.get("neg_elbo")
        if neg is None and self.history:
            neg = self.history[-1].get("test_neg_elbo")
        has_elbo = isinstance(neg, (int, float))
        if self.imported:
            if has_elbo:
                return Text(N_("{dataset} · imported ONNX · latent {d} · {likelihood} likelihood, test -ELBO {elbo:.1f} "
                               "nats"), dataset=self.dataset, d=c.latent_dim, likelihood=c.likelihood, elbo=neg)
            return Text(N_("{dataset} · imported ONNX · latent {d} · {likelihood} likelihood"), dataset=self.dataset,
                        d=c.latent_dim, likelihood=c.likelihood)
        if has_elbo:
            return Text(N_("{dataset} · {arch} · latent {d} · β = {beta:g}, test -ELBO {elbo:.1f} nats"),
                        dataset=self.dataset, arch=c.arch, d=c.latent_dim, beta=c.beta, elbo=neg)
        return Text(N_("{dataset} · {arch} · latent {d} · β = {beta:g}"), dataset=self.dataset, arch=c.arch,
                    d=c.latent_dim, beta=c.beta)

    @property
    def imported(self) -> bool:
        """Whether the model was brought from elsewhere as ONNX graphs (it cannot be trained here)."""
        return self.config.arch == "onnx"

    def save(self, path: str | Path, note: str | None = None, evaluate: bool = True, eval_config: Any = None,
             half: bool = False, progress: Callable[[str], None] | None = None) -> Checkpoint:
        """This checkpoint's model as it is now (fine-tuned, say) as a NEW checkpoint folder ``path``,
        written atomically; returns it loaded.

        Its meta.json keeps the data's description, records what it was derived from (this
        checkpoint's name and content hash, when, ``note``) and none of this one's training record
        or results; with ``evaluate`` (default) its metrics are measured on the new weights
        (``eval_config``: a :class:`vae.evaluate.EvalConfig`; default: the complete evaluation).
        ``half`` stores float16 weights. CheckpointError for an imported model or an existing
        ``path``. :func:`save_checkpoint` writes a meta.json as given, for a model of your own.
        """
        from .derived import as_saved, derived_meta
        from .evaluate import evaluate as run_evaluation
        from .evaluate import is_complete, settings_key

        path = Path(path)
        if self.imported:
            raise CheckpointError(f"{IMPORTED_NOTE.format(name=self.name)}, so there is no fine-tuned model to "
                                  "save; fine-tune it in your own code and import it again")
        if path.exists():
            raise CheckpointError(f"{path} already exists; save a derived model to a new folder")
        meta = derived_meta(self, note)
        if evaluate:  # on exactly the weights written (float16-rounded when half)
            model = self.model
            was_training = model.training
            try:
                saved = as_saved(model, half).eval()
                report = run_evaluation(Checkpoint(path, saved, self.config, meta, ""), eval_config, progress)
            finally:
                model.train(was_training)
            report["complete"] = is_complete(report, meta)
            meta["metrics"], meta["evaluations"] = report, {settings_key(report): report}
        save_checkpoint(path, self.model, meta, half=half)
        return load_checkpoint(path)


@dataclass
class ModelFolder:
    """A loaded comparison model (a GAN generator, a classifier): eval mode, frozen, with its
    config and metadata. They live in ``models/``, apart from the VAEs in ``checkpoints/``."""

    path: Path
    model: nn.Module
    config: Any
    meta: dict[str, Any]
    content_hash: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.get("class_names") or [])

    @property
    def training_seconds(self) -> float | None:
        s = (self.meta.get("training") or {}).get("seconds")
        return float(s) if isinstance(s, (int, float)) else None


def load_folder(path: str | Path, config_from_dict: Callable[[dict[str, Any]], Any],
                build: Callable[[Any], nn.Module], kind: str, device: str | torch.device = "cpu") -> ModelFolder:
    """Load a comparison model's folder strictly (see :func:`load_model_folder`)."""
    path = Path(path)
    model, config, meta = load_model_folder(path, config_from_dict, build, kind=kind, device=device)
    return ModelFolder(path, model, config, meta, content_hash(path))


def _usable_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch.device, or CheckpointError in one line when this machine lacks it."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise CheckpointError(f"device {str(device)!r} is not a device name torch knows; use 'cpu', 'cuda' "
                              "or 'mps'") from None
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise CheckpointError(f"device {str(device)!r} was asked for but this machine has no usable CUDA "
                                  "GPU; load the checkpoint with device='cpu'")
        if dev.index is not None and dev.index >= n:
            raise CheckpointError(f"device {str(device)!r} was asked for but this machine has {n} CUDA "
                                  f"GPU{'s' if n > 1 else ''} (cuda:0{f' to cuda:{n - 1}' if n > 1 else ''})")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise CheckpointError(f"device {str(device)!r} was asked for but Apple's MPS is not available "
                                  "here; load the checkpoint with device='cpu'")
    elif dev.type != "cpu":
        raise CheckpointError(f"device {str(device)!r} is not supported; use 'cpu', 'cuda' or 'mps'")
    return dev


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu", trainable: bool = False) -> Checkpoint:
    """Load a checkpoint folder strictly; the model comes back in eval mode.

    ``trainable=False`` (the default) freezes every parameter, as the explorer wants; with
    ``trainable=True`` they keep ``requires_grad``, for fine-tuning::

        ck = load_checkpoint(path, trainable=True)
        ck.model.train(); ck.model.loss(x).loss.backward()

    Raises :class:`CheckpointError` with one clear sentence for a missing folder or file,
    a corrupted file, a pickle in the folder, weights that do not match the config, or a
    device this machine does not have.
    """
    path = Path(path)
    if folder_kind(path) == ONNX_KIND:
        return _load_imported(path, device, trainable)
    model, config, meta = load_model_folder(path, ModelConfig.from_dict, VAE, device=device, trainable=trainable,
                                            upgrade=VAE.upgrade_state_dict)
    return Checkpoint(path, model, config, meta, content_hash(path))


def check_trainable(path: str | Path) -> None:
    """CheckpointError when ``path`` holds an imported model, which ``train --resume`` cannot continue."""
    if folder_kind(Path(path)) == ONNX_KIND:
        raise CheckpointError(f"--resume: {IMPORTED_NOTE.format(name=path)}; train a new --out, or fine-tune it "
                              "in your own code and import it again")


def _load_imported(path: Path, device: str | torch.device, trainable: bool) -> Checkpoint:
    """An imported model's folder (vae.byo.model): two checked ONNX graphs run by onnxruntime."""
    from .byo.graphs import OnnxFileError
    from .byo.model import OnnxConfig, folder_hash, load_graphs

    _usable_device(device)  # onnxruntime picks its own provider; a device this machine lacks is still an error
    if trainable:
        raise CheckpointError(IMPORTED_NOTE.format(name=path))
    check_no_pickles(path)
    cfg_dict = dict(read_json(path / CONFIG))
    cfg_dict.pop("kind")
    try:
        config = OnnxConfig.from_dict(cfg_dict)
    except (ConfigError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path / CONFIG} is not a valid imported-model config: {e}") from None
    try:
        model = load_graphs(path, config)
    except OnnxFileError as e:
        raise CheckpointError(str(e)) from None
    meta = read_json(path / META) if (path / META).exists() else {}
    return Checkpoint(path, model, config, meta, folder_hash(path))  # type: ignore[arg-type]


def load_model_folder(path: str | Path, config_from_dict: Callable[[dict[str, Any]], Any],
                      build: Callable[[Any], nn.Module], kind: str | None = None,
                      device: str | torch.device = "cpu", trainable: bool = False,
                      upgrade: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
                      ) -> tuple[Any, Any, dict[str, Any]]:
    """(model, config, meta) of a folder of weights + config.json + meta.json, loaded strictly.

    ``config_from_dict`` validates config.json (minus its ``kind``), ``build`` makes the module
    from the config. ``kind`` is what config.json must name ("gan-generator", "classifier"; None
    for a VAE, whose config names no kind). ``upgrade`` maps the weight names of older files to
    today's. The model comes back in eval mode, frozen unless ``trainable``; a device this machine
    lacks is a CheckpointError.
    """
    path = Path(path)
    device = _usable_device(device)
    if not path.is_dir():
        raise CheckpointError(f"checkpoint folder {path} does not exist")
    check_no_pickles(path)
    cfg_dict = dict(read_json(path / CONFIG))
    found = cfg_dict.pop("kind", None)
    if found != kind:
        what = f"a {found}" if found else "a VAE"
        raise CheckpointError(f"{path} holds {what}, not {'a ' + kind if kind else 'a VAE'}; "
                              "VAEs go in checkpoints/, the comparison models in models/")
    try:
        config = config_from_dict(cfg_dict)
    except (ConfigError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path / CONFIG} is not a valid model config: {e}") from None
    if not (path / WEIGHTS).is_file():
        raise CheckpointError(f"{path} has no {WEIGHTS}; the weights are missing")
    try:
        state = load_file(str(path / WEIGHTS), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(
            f"{path / WEIGHTS} is corrupted or truncated ({str(e)[:100]}); retrain or copy it again"
        ) from None
    meta = read_json(path / META) if (path / META).exists() else {}
    if upgrade is not None:
        state = upgrade(state)
    model = build(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing {missing[:3]}")
        if extra:
            parts.append(f"unexpected {extra[:3]}")
        if wrong:
            k = wrong[0]
            parts.append(f"{k} has shape {tuple(state[k].shape)}, config needs {tuple(expected[k].shape)}")
        raise CheckpointError(
            f"{path / WEIGHTS} does not match {path / CONFIG}: {'; '.join(parts)}"
        )
    state = {k: v.to(expected[k].dtype) for k, v in state.items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path / WEIGHTS} holds NaN or infinite weights in {bad[0]}")
    model.load_state_dict(state, strict=True)
    model.to(device).eval()
    if not trainable:
        for p in model.parameters():
            p.requires_grad_(False)
    return model, config, meta


def _optimizer_to_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    tensors: dict[str, torch.Tensor] = {}
    for idx, s in state["state"].items():
        for k, v in s.items():
            t = v if torch.is_tensor(v) else torch.tensor(v)
            tensors[f"state.{idx}.{k}"] = t.detach().cpu().contiguous()
    return tensors, {"param_groups": json.dumps(state["param_groups"])}


def load_optimizer_state(path: str | Path) -> dict[str, Any] | None:
    """Adam's state saved beside a checkpoint, or None when there is none."""
    f = Path(path) / OPTIMIZER
    if not f.is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(f), framework="pt") as fh:
            groups = json.loads(fh.metadata()["param_groups"])
            state: dict[int, dict[str, torch.Tensor]] = {}
            for key in fh.keys():
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = fh.get_tensor(key)
    except Exception as e:
        raise CheckpointError(f"{f} is corrupted ({str(e)[:100]}); resume without it") from None
    return {"state": state, "param_groups": groups}


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    meta: dict[str, Any],
    optimizer_state: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write a checkpoint folder atomically (temporary sibling, then rename).

    ``model.config.to_json()`` becomes config.json: a VAE's ModelConfig, or the config of a
    comparison model (a GAN generator, a classifier), which names its ``kind``. ``meta`` is written
    as given: to save a loaded model you changed, use :meth:`Checkpoint.save`, which does not carry
    the old model's metrics and training record over.
    """
    path = Path(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
    except OSError as e:
        raise CheckpointError(f"cannot write a checkpoint in {parent}: {e.strerror or e}") from None
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        save_file(state, str(tmp / WEIGHTS), metadata={"format": "vae-explorer", "version": str(FORMAT_VERSION)})
        with open(tmp / CONFIG, "w", encoding="utf-8") as f:
            f.write(model.config.to_json() + "\n")
        meta = dict(meta)
        meta.setdefault("format_version", FORMAT_VERSION)
        meta["saved_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with open(tmp / META, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, default=json_default)
            f.write("\n")
        if optimizer_state is not None:
            tensors, md = _optimizer_to_tensors(optimizer_state)
            save_file(tensors, str(tmp / OPTIMIZER), metadata=md)
        for f in tmp.iterdir():
            os.chmod(f, 0o644)
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o755)
        swap_into_place(tmp, path)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(
            f"saving the checkpoint to {path} failed ({e.strerror or e}); the previous one is kept"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


@dataclass
class CheckpointEntry:
    """One folder under a checkpoints root: loadable (``error`` is None) or not, and why."""

    name: str
    path: Path
    error: str | None = None
    summary: str = ""
    dataset: str = ""  # what meta.json says it was trained on (when it loads)


def list_checkpoints(root: str | Path) -> list[CheckpointEntry]:
    """Every sub-folder of ``root``, each marked loadable or given its error (not raised)."""
    root = Path(root)
    if not root.is_dir():
        return []
    entries = []
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name.startswith((".", "_")):
            continue
        try:
            ck = load_checkpoint(p)
            entries.append(CheckpointEntry(p.name, p, None, ck.summary(), ck.dataset))
        except CheckpointError as e:
            entries.append(CheckpointEntry(p.name, p, str(e)))
    return entries


def find_model(root: str | Path, kind: str, dataset: str) -> Path | None:
    """The first folder under ``root`` whose config.json names ``kind`` and whose meta.json names
    ``dataset`` (e.g. the GAN of fashion-mnist in models/), or None. Reads only the two JSON files."""
    root = Path(root)
    if not root.is_dir():
        return None
    for p in sorted(root.iterdir()):
        try:
            if (p.is_dir() and read_json(p / CONFIG).get("kind") == kind
                    and read_json(p / META).get("dataset") == dataset):
                return p
        except CheckpointError:
            continue
    return None
