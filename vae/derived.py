"""A model changed after loading (fine-tuned, pruned, edited), saved as a new checkpoint of its own.

:meth:`vae.checkpoint.Checkpoint.save` calls :func:`save_derived`::

    ck = load_checkpoint("checkpoints/fashion-mnist", trainable=True)
    ...                                                  # fine-tune ck.model
    new = ck.save("checkpoints/fashion-mnist-tuned", note="one epoch on my images")

The new folder's meta.json keeps what describes the data (dataset, class names, image shape, split
sizes, the data background) and nothing that describes the parent's training or results: no
``metrics``, ``evaluations``, ``history``, ``training``, ``train_config`` or maps. In their place,
``derived`` records where it came from (the parent's name, path and content hash), when, and the
user's note; ``metrics`` are measured on the new weights (``evaluate=True``), on exactly the
weights written (float16 ones when ``half``). The folder is written atomically and never over
an existing one.
"""

from __future__ import annotations

import copy
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import __version__
from .checkpoint import IMPORTED_NOTE, CheckpointError, load_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from .checkpoint import Checkpoint
    from .evaluate import EvalConfig

#: meta.json keys that describe the data, not the model: a derived checkpoint keeps them.
DATA_KEYS = ("dataset", "class_names", "image_shape", "train_size", "test_size", "data_background", "folder",
             "data_warnings")


def derived_meta(parent: Checkpoint, note: str | None) -> dict[str, Any]:
    """The new checkpoint's meta.json before its evaluation: the parent's data keys and ``derived``."""
    meta = {k: copy.deepcopy(parent.meta[k]) for k in DATA_KEYS if k in parent.meta}
    meta["library"], meta["version"] = "vae-explorer", __version__
    meta["derived"] = {
        "from": {"name": parent.name, "path": str(Path(parent.path).resolve()), "content_hash": parent.content_hash,
                 "saved_at": parent.meta.get("saved_at")},
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "note": note,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    return meta


def _as_saved(model: torch.nn.Module, half: bool) -> torch.nn.Module:
    """The model with the weights it will be read back with (float16-rounded when ``half``), in eval mode."""
    if not half:
        return model
    twin = copy.deepcopy(model)
    with torch.no_grad():
        for t in (*twin.parameters(), *twin.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())
    return twin


def save_derived(parent: Checkpoint, path: str | Path, note: str | None = None, evaluate: bool = True,
                 eval_config: EvalConfig | None = None, half: bool = False,
                 progress: Callable[[str], None] | None = None) -> Checkpoint:
    """``parent``'s model as it is now, saved as the new checkpoint folder ``path`` (see the module
    docstring); returns it loaded. CheckpointError for an imported model or a ``path`` that exists."""
    path = Path(path)
    if parent.imported:
        raise CheckpointError(f"{IMPORTED_NOTE.format(name=parent.name)}, so there is no fine-tuned model to "
                              "save; fine-tune it in your own code and import it again")
    if path.exists():
        raise CheckpointError(f"{path} already exists; save a derived model to a new folder")
    meta = derived_meta(parent, note)
    if evaluate:
        from .checkpoint import Checkpoint
        from .evaluate import evaluate as run_evaluation
        from .evaluate import is_complete, settings_key

        model = parent.model
        was_training = model.training
        try:
            saved = _as_saved(model, half).eval()
            report = run_evaluation(Checkpoint(path, saved, parent.config, meta, ""), eval_config, progress)
        finally:
            model.train(was_training)
        report["complete"] = is_complete(report, meta)
        meta["metrics"], meta["evaluations"] = report, {settings_key(report): report}
    save_checkpoint(path, parent.model, meta, half=half)
    return load_checkpoint(path)


__all__ = ["save_derived", "derived_meta", "DATA_KEYS"]
