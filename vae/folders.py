"""Model folders on disk: their files' names, strict JSON reads, atomic writes, content hashes.

Every folder of ``checkpoints/`` and ``models/`` is written the same way (a temporary sibling,
filled, then renamed into place: an interrupted write never leaves half a folder) and read as
strictly (a pickle in the folder is refused, never opened). :mod:`vae.checkpoint` loads and saves
VAEs with these; the comparison models and imported ONNX models use them too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .errors import CheckpointError
from .i18n import N_

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
META = "meta.json"
OPTIMIZER = "optimizer.safetensors"
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".joblib")
FORMAT_VERSION = 1
#: config.json's ``kind`` of a model brought from elsewhere as two ONNX graphs (vae.byo.model)
ONNX_KIND = "onnx-vae"
IMPORTED_NOTE = N_("{name} is an imported ONNX model: its weights live in frozen ONNX graphs that this tool "
                    "runs but cannot train")


def folder_kind(path: Path) -> str | None:
    """The ``kind`` config.json names (None for ours, or when it cannot be read: loading says why)."""
    try:
        kind = read_json(path / CONFIG).get("kind")
    except (CheckpointError, OSError):
        return None
    return kind if isinstance(kind, str) else None


def read_json(path: Path) -> dict[str, Any]:
    """A folder's JSON file as a dict; CheckpointError in one sentence when it is missing or broken."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"{path.parent} has no {path.name}; it is not a checkpoint folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}); the file is corrupted") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object, found {type(data).__name__}")
    return data


def content_hash(path: str | Path) -> str:
    """SHA-256 (hex, 16 chars) of the weights and config: the cache key of a checkpoint."""
    path = Path(path)
    h = hashlib.sha256()
    for name in (CONFIG, WEIGHTS):
        with open(path / name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def check_no_pickles(path: Path) -> None:
    """CheckpointError when the folder holds a pickle-style file (never opened: it could run code)."""
    found = sorted(p.name for p in path.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if found:
        raise CheckpointError(
            f"{path} contains {', '.join(found)}: pickle-style files can run code when opened, "
            f"and this tool never loads them. Remove them (weights belong in {WEIGHTS})"
        )


def swap_into_place(tmp: Path, path: Path) -> None:
    """Put the filled folder ``tmp`` where ``path`` is, replacing any folder there (restored if the
    rename fails)."""
    if not path.exists():
        os.replace(tmp, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}-{time.time_ns()}")
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except OSError:
        os.replace(old, path)  # put the previous checkpoint back
        raise
    shutil.rmtree(old, ignore_errors=True)


def update_meta(path: str | Path, **updates: Any) -> dict[str, Any]:
    """Merge keys into a checkpoint's meta.json (atomically) and return the new meta."""
    path = Path(path)
    meta = read_json(path / META) if (path / META).exists() else {}
    meta.update(updates)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".meta-", suffix=".json", dir=path)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, default=json_default)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path / META)
    except OSError as e:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(
            f"updating {path / META} failed ({e.strerror or e}); the previous one is kept"
        ) from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
    return meta


def json_default(o: Any) -> Any:
    """``json.dump``'s fallback for tensors, arrays and paths (both kinds of array have ``tolist``)."""
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__} in JSON")


__all__ = ["WEIGHTS", "CONFIG", "META", "OPTIMIZER", "PICKLE_SUFFIXES", "FORMAT_VERSION", "ONNX_KIND",
           "IMPORTED_NOTE", "folder_kind", "read_json", "content_hash", "check_no_pickles", "swap_into_place",
           "update_meta", "json_default"]
