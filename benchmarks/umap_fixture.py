"""The shared set-up of the map benchmarks: one checkpoint's test split, encoded and mapped by UMAP.

umap-learn (the peer) needs its fitted model, so UMAP is fitted here with exactly the
parameters of ``vae.explore.projection.ProjectionConfig()``; our ``LatentMap`` is built on the same
coordinates, so both sides answer questions about the same map. Fitted once per process
and shared by ``inverse_map`` and ``forward_map``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vae.checkpoint import Checkpoint, load_checkpoint
from vae.data.cache import load_arrays
from vae.explore.latent import decode
from vae.explore.projection import LatentMap, ProjectionConfig, build_latent_map, fit_projection
from vae.explore.sets import SHIPPED_DIR, explore_set, projection_key

_FITTED: dict[str, MapFixture] = {}


@dataclass
class MapFixture:
    """A checkpoint, its encoded test split, and both ways of answering map questions."""

    ck: Checkpoint
    codes: np.ndarray  # (N, D) posterior means of the test split
    coords: np.ndarray  # (N, 2) the UMAP map (= reducer.embedding_)
    reducer: Any  # the fitted umap.UMAP (the peer)
    lmap: LatentMap  # ours, on the same coordinates
    fit_seconds: float  # how long the UMAP fit took (warm or cold JIT, whichever came first)
    same_as_app: bool | None  # True when these coordinates equal the map the app shows

    def decode(self, z: np.ndarray) -> torch.Tensor:
        """Codes (M, D) -> images (M, C, H, W), as the app decodes a spot."""
        return decode(self.ck.model, z)

    def embed(self, images: torch.Tensor) -> np.ndarray:
        """Images (M, C, H, W) -> posterior means (M, D)."""
        mu, _ = self.ck.model.embed(images)
        return mu.numpy().astype(np.float32)


def map_fixture(checkpoint: Path, say=lambda m: None) -> MapFixture:
    """The fitted fixture for ``checkpoint`` (fitted on first use, then reused)."""
    key = str(Path(checkpoint).resolve())
    if key not in _FITTED:
        _FITTED[key] = _fit(Path(checkpoint), say)
    return _FITTED[key]


def _fit(checkpoint: Path, say) -> MapFixture:
    torch.manual_seed(0)
    ck = load_checkpoint(checkpoint)
    data = ck.load_data("test")
    enc = explore_set(ck, data)  # the shipped or cached encoding when there is one
    cfg = ProjectionConfig()  # the app's UMAP parameters
    say(f"fitting UMAP on {len(enc):,} codes of {ck.name} (the peer's model)")
    t0 = time.perf_counter()
    coords, reducer = fit_projection(enc.mu, cfg)
    fit_seconds = time.perf_counter() - t0
    same = None
    key = projection_key(ck, data.split, len(enc), cfg)
    from vae.data.cache import DEFAULT_CACHE_DIR

    for folder in (ck.path / SHIPPED_DIR, DEFAULT_CACHE_DIR):
        cached = load_arrays(folder, key)
        if cached is not None and cached.get("coords") is not None:
            same = bool(np.allclose(cached["coords"], coords, atol=1e-3))
            break
    lmap = build_latent_map(enc.mu, coords, "umap")
    return MapFixture(ck, np.asarray(enc.mu, dtype=np.float32), coords, reducer, lmap, fit_seconds, same)


def timed(fn, *args) -> tuple[float, Any]:
    """Wall time of one call, in milliseconds, and its result."""
    t0 = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t0) * 1000.0, out
