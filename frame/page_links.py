"""Which page and which checkpoint a URL of the app names, read without importing anything heavy: the
session's first run (frame/first_map.py) and the HTML's early start of live decoding (frame/early_start.py)
both need it before torch, Plotly or the pages are imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

MAP_PATHS = ("", "map")  # the Map page's URL paths (it is the default page)
#: Pages that decode in the browser (the Map's hover preview, Sliders, Interpolate's scrub, Your image's
#: drawing): their first run starts the runtime and loads the decoder before anything heavy is imported.
LIVE_PATHS = (*MAP_PATHS, "sliders", "interpolate", "your_image")
DEFAULT_CHECKPOINT = "fashion-mnist"  # as pages/_loaders.py's


def checkpoint_root() -> Path:
    """The folder of checkpoints the app offers: pages/_loaders.py's (a test may have moved it) where that is
    imported already, else the same default it would compute (VAE_CHECKPOINTS, else ./checkpoints)."""
    loaded = sys.modules.get("pages._loaders")
    if loaded is not None:
        return Path(loaded.CHECKPOINT_ROOT)
    root = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("VAE_CHECKPOINTS") or root / "checkpoints").expanduser()


def page_path(url: str | None, base: str = "") -> str | None:
    """The page's path in the app ("" for the default page, "map", "sliders"...) from the browser's URL,
    without ``server.baseUrlPath``; None when unknown."""
    if not url:
        return None
    path = urlparse(url).path.strip("/")
    base = base.strip("/")
    if base:
        if path != base and not path.startswith(base + "/"):
            return None
        path = path[len(base):].strip("/")
    return path


def linked_checkpoint(params: dict[str, str], root: Path) -> Path | None:
    """The checkpoint folder the link names (``ckpt``), else the default one; None when it is not one of the
    root's folders (never a path: "../x" is not a folder name). The sidebar says why, later in the run."""
    name = params.get("ckpt") or DEFAULT_CHECKPOINT
    if not root.is_dir() or name not in {p.name for p in root.iterdir() if p.is_dir()}:
        return None
    return root / name
