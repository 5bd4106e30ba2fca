"""The Map's selection, handed from the app to the notebook that opened it (:func:`vae.explore`).

A server started by ``vae.explore`` names an exchange folder in ``$VAE_NOTEBOOK_EXCHANGE``. Each
notebook session has a random token and one file there, ``<token>.json``, which the notebook creates
(:func:`open_session`) and the Map page of the browser session whose link carries ``?nb=<token>``
rewrites (:func:`publish`) whenever what it shows changes::

    {"checkpoint": "digits", "split": "test", "indices": [3, 17, 250], "point": null, "updated": 1767225600.0}

``indices`` are positions in the explore set, which are the data set's own indices (``load_dataset(name,
split)``; for the explore set "all", the test split then the train split). The page only rewrites a file
the notebook created, under a token of the strict form, so a link can neither create files nor reach
another session's file; every write is atomic (a temporary file, then a rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ENV = "VAE_NOTEBOOK_EXCHANGE"  # the exchange folder of a server started by vae.explore
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    """A fresh session token (16 URL-safe characters, 96 random bits)."""
    return secrets.token_urlsafe(12)


def exchange_folder() -> Path | None:
    """This server's exchange folder, or None when it was not started by ``vae.explore``."""
    raw = os.environ.get(ENV, "").strip()
    return Path(raw) if raw and Path(raw).is_dir() else None


def session_file(folder: str | Path, token: str) -> Path | None:
    """The file of the session ``token``, or None when the token is malformed or no notebook opened it."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    path = Path(folder) / f"{token}.json"
    return path if path.is_file() else None


def _write(path: Path, record: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_session(folder: str | Path, token: str, checkpoint: str, split: str) -> Path:
    """Create the session's file, with nothing selected yet (the notebook's side)."""
    if not TOKEN_RE.match(token):
        raise ValueError(f"{token!r} is not a session token; make one with new_token()")
    path = Path(folder) / f"{token}.json"
    _write(path, record(checkpoint, split, [], None, updated=0.0))
    return path


def record(checkpoint: str, split: str, indices: Sequence[int], point: int | None,
           updated: float | None = None) -> dict[str, Any]:
    """What the file holds: the page's checkpoint and explore set, the selected indices, the one point."""
    return {"checkpoint": checkpoint, "split": split, "indices": [int(i) for i in indices],
            "point": None if point is None else int(point), "updated": time.time() if updated is None else updated}


def shown_selection(data_idx: Sequence[int], many: bool, other_pick: bool,
                    chosen: int | None) -> tuple[list[int], int | None]:
    """(indices, point) of what the Map's panel shows: the images inside a box or lasso (sorted, no
    repeats, no point), one clicked image, nothing for a decoded spot or a prior sample (``other_pick``),
    else the image chosen earlier (a link's ``point``, another page), else nothing."""
    if many:
        return sorted({int(i) for i in data_idx}), None
    if data_idx:
        return [int(data_idx[0])], int(data_idx[0])
    if other_pick or chosen is None:
        return [], None
    return [int(chosen)], int(chosen)


def digest(checkpoint: str, split: str, indices: Sequence[int], point: int | None) -> str:
    """A short fingerprint of a selection, so that the page writes the file only when it changes."""
    text = json.dumps([checkpoint, split, [int(i) for i in indices], point])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def publish(folder: str | Path, token: str, checkpoint: str, split: str, indices: Sequence[int],
            point: int | None) -> bool:
    """Rewrite the session's file with this selection (the page's side). False, writing nothing, when
    the token is malformed or names no session the notebook opened (or no longer has open)."""
    path = session_file(folder, token)
    if path is None:
        return False
    try:
        _write(path, record(checkpoint, split, indices, point))
    except OSError:  # the notebook closed the session meanwhile (its folder gone)
        return False
    return True


def read(folder: str | Path, token: str) -> dict[str, Any] | None:
    """The session's record, or None when its file is gone or unreadable."""
    path = session_file(folder, token)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
