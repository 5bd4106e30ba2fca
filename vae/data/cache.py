"""A small disk cache of NumPy arrays: one ``.npz`` per key, verified on every read.

Each file stores its arrays plus a SHA-256 of their bytes and the key it was written
for; a truncated, corrupted or stale file is detected, deleted and reported as a miss
(never returned). Files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# cache/ in a checkout; an installed package (no pyproject.toml beside it) uses the user's cache folder
_CACHE_HOME = (PROJECT_ROOT / "cache" if (PROJECT_ROOT / "pyproject.toml").is_file()
               else Path.home() / ".cache" / "vae-explorer")
DEFAULT_CACHE_DIR = Path(os.environ.get("VAE_EXPLORER_CACHE", _CACHE_HOME))
_SAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


def safe_name(key: str) -> str:
    """A key as a file name: only letters, digits and ``_.=-``; never a path."""
    name = _SAFE.sub("_", key).strip("._")
    if not name:
        raise ValueError(f"cache key {key!r} has no usable characters")
    return name[:180]


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_arrays(folder: str | Path, key: str, arrays: dict[str, np.ndarray],
                info: dict | None = None) -> Path | None:
    """Store arrays under ``key``; returns the path, or None when the folder is not writable."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    except OSError:
        return None
    meta = {"key": key, "sha256": _digest(arrays), "info": info or {}}
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __meta__=np.array(json.dumps(meta)), **arrays)
        os.chmod(tmp, 0o644)
        path = folder / (safe_name(key) + ".npz")
        os.replace(tmp, path)
        return path
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return None


def load_arrays(folder: str | Path, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or None if absent, corrupted or written for another key."""
    path = Path(folder) / (safe_name(key) + ".npz")
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError):
        _discard(path)
        return None
    if meta.get("key") != key or meta.get("sha256") != _digest(arrays):
        _discard(path)
        return None
    return arrays


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass  # a read-only shipped cache: just never use it


#: numba functions that numba cannot cache ("it uses dynamic globals"): left as they are, so that
#: they compile in each process as before instead of warning there on every compile
UNCACHEABLE_KERNELS = frozenset({"nn_descent", "nn_descent_internal"})  # pynndescent's
_CACHING_LOCK = threading.Lock()


def cache_numba_kernels(*packages: str) -> int:
    """Switch numba's on-disk cache on for every jitted function of ``packages`` (already imported)
    that was declared without ``cache=True``, before it is first compiled; returns how many.

    umap-learn and pynndescent declare 253 of their 520 numba functions without it, so every new
    process would compile them again: with this, a new process's first UMAP fit takes half the CPU
    time and gives the same coordinates (docs/measurements.md).
    numba checks each cached function against its source file's time stamp, as it does for those
    declared with ``cache=True``; the cache folder is this project's (``numba_cache_dir``).
    """
    with _CACHING_LOCK:  # sessions of the app may fit their first maps at the same moment
        todo = [fn for key, fn in uncached_numba_kernels(*packages) if key not in UNCACHEABLE_KERNELS]
        for fn in todo:
            fn.enable_caching()
    return len(todo)


def uncached_numba_kernels(*packages: str) -> list[tuple[str, Any]]:
    """(name, function) of each jitted function of ``packages`` (already imported) without numba's disk
    cache: once per function, wherever else it is imported (two modules may hold two of one name)."""
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    found = {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in packages:
            continue
        for key, fn in list(vars(module).items()):
            if isinstance(fn, CPUDispatcher) and isinstance(fn._cache, NullCache):
                found.setdefault(id(fn), (key, fn))
    return list(found.values())


def numba_cache_dir(root: str | Path | None = None) -> Path:
    """Point numba's on-disk JIT cache at a writable folder (so compiling is paid once).

    Falls back to the system's temporary folder where the project's cache folder cannot be
    created (a read-only install): numba refuses to build cached functions without one.
    """
    for path in (Path(root) if root else DEFAULT_CACHE_DIR / "numba",
                 Path(tempfile.gettempdir()) / "vae-explorer-numba"):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            os.environ.setdefault("NUMBA_CACHE_DIR", str(path))
            return path
    return path


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
