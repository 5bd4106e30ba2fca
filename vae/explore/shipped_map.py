"""The map a checkpoint folder ships, read without torch or the model: what a session's first run draws
while torch and the model load.

A checkpoint's ``projections/`` folder holds its test split's encoding and its default map
(:func:`vae.explore.sets.ship_projection`). The positions and classes in them are all the Map page's
points need; reading them takes NumPy and the folder's JSON files, so a browser's first run can draw the
map a second or more before the model is loaded (frame/first_map.py). The full page then draws the same
points from :func:`vae.explore.sets.projection`, which reads the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.cache import load_arrays
from ..errors import CheckpointError
from ..folders import CONFIG, META, content_hash, read_json
from .projection import ProjectionConfig, default_config

SHIPPED_DIR = "projections"  #: the checkpoint's sub-folder of shipped encodings and maps


@dataclass(frozen=True)
class ShippedMap:
    """A checkpoint's shipped map of one split."""

    coords: np.ndarray  # (N, 2) float32: the map's positions
    labels: np.ndarray  # (N,) int: each image's class
    class_names: list[str]  # as meta.json names them (English)
    config: ProjectionConfig  # the default map's settings (its method says what the axes are)
    dataset: str  # meta.json's data set name, e.g. "fashion-mnist"
    latent_dim: int


def shipped_map(folder: str | Path, split: str = "test") -> ShippedMap | None:
    """The map ``folder`` ships for ``split`` with the checkpoint's default map settings, or None when it ships
    none (or a file cannot be read or belongs to other weights: the page then computes the map as usual)."""
    folder = Path(folder)
    try:
        config, meta = read_json(folder / CONFIG), read_json(folder / META)
        digest = content_hash(folder)
    except (CheckpointError, OSError):
        return None
    latent_dim = config.get("latent_dim")
    if not isinstance(latent_dim, int) or latent_dim < 1:
        return None
    cfg = default_config(latent_dim, meta.get("default_map"))
    shipped = folder / SHIPPED_DIR
    for proj in sorted(shipped.glob(f"proj-{digest}-{split}-*-{cfg.key()}.npz")):
        n = proj.stem.split("-")[3]
        coords = (load_arrays(shipped, proj.stem) or {}).get("coords")
        if coords is None or not n.isdigit() or len(coords) != int(n):
            continue
        for enc in sorted(shipped.glob(f"enc-{digest}-{split}-{n}-k*.npz")):
            labels = (load_arrays(shipped, enc.stem) or {}).get("labels")
            if labels is not None and len(labels) == len(coords):
                names = [str(c) for c in meta.get("class_names") or []]
                if names and int(labels.max(initial=0)) >= len(names):
                    return None
                return ShippedMap(np.asarray(coords, np.float32), np.asarray(labels).astype(np.int64), names, cfg,
                                  str(meta.get("dataset", "")), latent_dim)
    return None
