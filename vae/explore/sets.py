"""What the explorer needs from a checkpoint, cached on disk by content hash.

- :func:`explore_set`: the data split the map shows, encoded (means, variances, per-image
  ELBO terms), cached under ``enc-<hash>-<split>-<n>-k<ELBO_SAMPLES>``.
- :func:`projection`: its 2-D map, cached under ``proj-<hash>-<split>-<n>-<method params>``.
  A checkpoint may ship its projections in ``<checkpoint>/projections/`` (written by
  ``python -m vae project``), so that the first open is instant.

Larger explore sets, built on the map of a smaller one (its *base*) instead of a new fit:

- ``"all"`` (:data:`ALL`): every image, the test split then the train split (70,000 for
  Fashion-MNIST). :func:`placed_projection` fits UMAP or t-SNE on the test codes only (or
  reads their shipped map) and places the train codes with the exact k-NN placement of
  :class:`vae.explore.projection.LatentMap`: seconds instead of a 70,000-point fit.
- :func:`sample_map`: ``k`` posterior samples z ~ q(z|x) of every image (a million codes
  for 70,000 images x 15), each tied to its image, placed on the base's map the same way.

Cache files carry a checksum and their key; a corrupted or stale file is recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import Checkpoint
from ..data.cache import DEFAULT_CACHE_DIR, load_arrays, save_arrays
from ..data.datasets import ImageDataset, dataset_available
from ..errors import DataError
from ..model import ELBO_SAMPLES
from .latent import Encoding, encode_dataset
from .projection import LatentMap, ProjectionConfig, default_config, fit_projection, place_on_map
from .shipped_map import SHIPPED_DIR  # noqa: F401  (re-exported: the shipped folder's name)

ALL = "all"  # the explore set of every image: the test split, then the train split
#: The most codes :func:`sample_map` builds (70,000 images x 15 samples is 1,050,000).
MAX_CODES = 1_100_000


def encoding_key(ck: Checkpoint, split: str, n: int) -> str:
    return f"enc-{ck.content_hash}-{split}-{n}-k{ELBO_SAMPLES}"  # the estimator is part of the key


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
    """The checkpoint's default map (:func:`vae.explore.projection.default_config`): the latent space itself
    for a 2-D model, UMAP otherwise; an imported model's map is the one chosen at import."""
    return default_config(ck.config.latent_dim, ck.meta.get("default_map"), n_points)


# -- larger explore sets ------------------------------------------------------------------------
def base_split(split: str) -> str:
    """The split whose map a larger explore set is placed on (the test split for "all")."""
    return "test" if split == ALL else split


def all_available(ck: Checkpoint, data_dir: str | Path | None = None) -> bool:
    """Whether the "all" explore set can be had here without a download (the train split is present)."""
    name = ck.dataset
    if name.startswith("folder:"):
        return ck.data_folder(data_dir).is_dir()
    return dataset_available(name, "train", data_dir) and dataset_available(name, "test", data_dir)


def all_parts(ck: Checkpoint, data_dir: str | Path | None = None) -> list[ImageDataset]:
    """The parts of the "all" explore set, in its order: the test split, then the train split."""
    if not all_available(ck, data_dir):
        raise DataError(f"the explore set 'all' needs the train split of {ck.dataset}, which is not on this "
                        f"machine; fetch it with `python -m vae data --fetch {ck.dataset}`")
    return [ck.load_data("test", data_dir=data_dir, download=False),
            ck.load_data("train", data_dir=data_dir, download=False)]


def combine(parts: list[ImageDataset]) -> ImageDataset:
    """One explore set of the parts' images, in order (image i of the result is the i-th overall)."""
    first = parts[0]
    return ImageDataset(first.name, ALL, torch.cat([p.images for p in parts]), torch.cat([p.labels for p in parts]),
                        first.class_names, " + ".join(dict.fromkeys(p.source for p in parts if p.source)),
                        files=[f for p in parts for f in p.files] if all(p.files for p in parts) else [])


def explore_parts(ck: Checkpoint, parts: list[ImageDataset], cache_dir: str | Path = DEFAULT_CACHE_DIR) -> Encoding:
    """The encoding of combined parts: each part's own (shipped or cached) encoding, concatenated."""
    encs = [explore_set(ck, p, cache_dir) for p in parts]
    return Encoding.from_arrays({k: np.concatenate([e.to_arrays()[k] for e in encs]) for k in encs[0].to_arrays()})


def placed_projection(ck: Checkpoint, split: str, base: Encoding, enc: Encoding, cfg: ProjectionConfig,
                      cache_dir: str | Path = DEFAULT_CACHE_DIR,
                      progress: Callable[[str], None] | None = None) -> np.ndarray:
    """2-D map (N, 2) of a large explore set whose first ``len(base)`` codes are the base split's.

    UMAP and t-SNE: the base's own map (shipped, cached or fitted now), and every other code placed
    on it by the exact k-NN placement (``LatentMap.to_map``). PCA and the 2-D latent space are exact
    at any size and fitted on everything. Cached under the projection key plus ``-on-<base split>``.
    """
    key = f"{projection_key(ck, split, len(enc), cfg)}-on-{base_split(split)}"
    cached = load_arrays(cache_dir, key)
    if cached is not None and len(cached.get("coords", [])) == len(enc):
        return cached["coords"]
    if cfg.method in ("pca", "latent"):
        coords, _ = fit_projection(enc.mu, cfg, progress=progress)
    else:
        base_coords, _ = projection(ck, base_split(split), base, cfg, cache_dir, progress)
        rest = place_on_map(LatentMap(base.mu, base_coords), enc.mu[len(base):], progress=progress)
        coords = np.concatenate([base_coords, rest])
    save_arrays(cache_dir, key, {"coords": coords}, info={"method": cfg.method, "base": base_split(split)})
    return coords


@dataclass
class SampleMap:
    """Posterior samples of every image of an explore set, placed on a map: a million codes and more."""

    codes: np.ndarray  # (M, D) float32: z ~ q(z|x), k per image
    owner: np.ndarray  # (M,) int32: the image (explore-set index) each code was drawn for
    coords: np.ndarray  # (M, 2) float32: map positions
    per_image: int  # k

    def __len__(self) -> int:
        return len(self.codes)


def posterior_samples(enc: Encoding, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` codes z = mu + sigma * eps per image, eps ~ N(0, I) seeded: codes (N*k, D), owners (N*k,)."""
    if k < 1:
        raise ValueError(f"samples per image must be >= 1, got {k}")
    if len(enc) * k > MAX_CODES:
        raise ValueError(f"{len(enc):,} images x {k} samples is {len(enc) * k:,} codes, more than the "
                         f"{MAX_CODES:,} a map holds; take fewer samples per image")
    owner = np.repeat(np.arange(len(enc), dtype=np.int32), k)
    codes = np.random.default_rng(seed).standard_normal((len(owner), enc.mu.shape[1]), dtype=np.float32)
    for start in range(0, len(owner), 262_144):  # in chunks: no second copy of a million codes
        o = owner[start : start + 262_144]
        c = codes[start : start + 262_144]
        c *= np.exp(0.5 * enc.logvar[o])
        c += enc.mu[o]
    return codes, owner


def sample_map(ck: Checkpoint, split: str, enc: Encoding, base_map: LatentMap, k: int, cfg: ProjectionConfig,
               seed: int = 0, cache_dir: str | Path = DEFAULT_CACHE_DIR,
               progress: Callable[[str], None] | None = None) -> SampleMap:
    """``k`` posterior samples of every image of ``enc``, placed on ``base_map`` (the base split's map:
    where its means are), cached on disk by checkpoint, explore set, k, seed and projection."""
    key = f"samples-{ck.content_hash}-{split}-{len(enc)}-k{k}-s{seed}-{cfg.key()}"
    cached = load_arrays(cache_dir, key)
    if cached is not None and len(cached.get("owner", [])) == len(enc) * k:
        return SampleMap(cached["codes"], cached["owner"], cached["coords"], k)
    codes, owner = posterior_samples(enc, k, seed)
    coords = place_on_map(base_map, codes, progress=progress)
    save_arrays(cache_dir, key, {"codes": codes, "owner": owner, "coords": coords})
    return SampleMap(codes, owner, coords, k)
