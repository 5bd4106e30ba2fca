"""What the explorer needs from a checkpoint, cached on disk by content hash.

- :func:`explore_set`: the data split the map shows, encoded (means, variances, per-image
  ELBO terms), cached under ``enc-<hash>-<split>-<n>``.
- :func:`projection`: its 2-D map, cached under ``proj-<hash>-<split>-<n>-<method params>``.
  A checkpoint may ship its projections in ``<checkpoint>/projections/`` (written by
  ``python -m vae project``), so that the first open is instant.

Cache files carry a checksum and their key; a corrupted or stale file is recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cache import DEFAULT_CACHE_DIR, load_arrays, save_arrays
from .checkpoint import Checkpoint
from .data import ImageDataset
from .latent import Encoding, encode_dataset
from .projection import ProjectionConfig, fit_projection

SHIPPED_DIR = "projections"


def encoding_key(ck: Checkpoint, split: str, n: int) -> str:
    return f"enc-{ck.content_hash}-{split}-{n}"


def projection_key(ck: Checkpoint, split: str, n: int, cfg: ProjectionConfig) -> str:
    return f"proj-{ck.content_hash}-{split}-{n}-{cfg.key()}"


def explore_set(ck: Checkpoint, data: ImageDataset, cache_dir: str | Path = DEFAULT_CACHE_DIR) -> Encoding:
    """Encode ``data`` with the checkpoint's model (from the disk cache when possible)."""
    key = encoding_key(ck, data.split, len(data))
    for folder in (ck.path / SHIPPED_DIR, Path(cache_dir)):
        cached = load_arrays(folder, key)
        if cached is not None and len(cached.get("mu", [])) == len(data):
            return Encoding.from_arrays(cached)
    enc = encode_dataset(ck.model, data.images, data.labels)
    save_arrays(cache_dir, key, enc.to_arrays())
    return enc


def projection(ck: Checkpoint, split: str, enc: Encoding, cfg: ProjectionConfig,
               cache_dir: str | Path = DEFAULT_CACHE_DIR,
               progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, object | None]:
    """2-D coordinates (N, 2) of the encoded split, and the fitted reducer if one was fitted now."""
    key = projection_key(ck, split, len(enc), cfg)
    for folder in (ck.path / SHIPPED_DIR, Path(cache_dir)):
        cached = load_arrays(folder, key)
        if cached is not None and cached.get("coords") is not None and len(cached["coords"]) == len(enc):
            return cached["coords"], None
    coords, reducer = fit_projection(enc.mu, cfg, progress=progress)
    save_arrays(cache_dir, key, {"coords": coords}, info={"method": cfg.method})
    return coords, reducer


def ship_projection(ck: Checkpoint, data: ImageDataset, cfg: ProjectionConfig,
                    progress: Callable[[str], None] | None = None) -> list[Path]:
    """Compute the encoding and projection and store them inside the checkpoint folder."""
    enc = encode_dataset(ck.model, data.images, data.labels)
    coords, _ = fit_projection(enc.mu, cfg, progress=progress)
    folder = ck.path / SHIPPED_DIR
    written = [
        save_arrays(folder, encoding_key(ck, data.split, len(data)), enc.to_arrays()),
        save_arrays(folder, projection_key(ck, data.split, len(data), cfg), {"coords": coords},
                    info={"method": cfg.method}),
    ]
    return [p for p in written if p is not None]


def default_projection(ck: Checkpoint, n_points: int | None = None) -> ProjectionConfig:
    """The latent space itself for a 2-D model, UMAP otherwise (PCA for ``n_points`` too few for UMAP);
    an imported model's map is the one chosen at import (meta.json's ``default_map``)."""
    chosen = ck.meta.get("default_map")
    if chosen in ("pca", "tsne") or (chosen == "latent" and ck.config.latent_dim == 2):
        return ProjectionConfig(method=chosen)
    if ck.config.latent_dim == 2:
        return ProjectionConfig(method="latent")
    umap = ProjectionConfig(method="umap")
    return umap if n_points is None or n_points > umap.n_neighbors else ProjectionConfig(method="pca")
