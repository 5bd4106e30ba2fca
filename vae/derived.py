"""A model changed after loading (fine-tuned, pruned, edited), saved as a new checkpoint of its own.

What :meth:`vae.checkpoint.Checkpoint.save` writes::

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import __version__

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

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


def as_saved(model: torch.nn.Module, half: bool) -> torch.nn.Module:
    """The model with the weights it will be read back with (float16-rounded when ``half``), in eval mode."""
    if not half:
        return model
    twin = copy.deepcopy(model)
    with torch.no_grad():
        for t in (*twin.parameters(), *twin.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())
    return twin


__all__ = ["derived_meta", "as_saved", "DATA_KEYS"]
