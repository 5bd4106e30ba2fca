"""2-D maps of the latent space, and fast maps in both directions.

``fit_projection(codes, ProjectionConfig(...))`` projects latent means (N, D) to (N, 2)
with UMAP (default), PCA, t-SNE, or the latent space itself for a 2-D model.

``LatentMap(codes, coords)`` answers, in well under a millisecond per query:

- ``to_map(z)``: where new latent codes land on the map (forward), by inverse-distance
  weighting of the 2-D positions of their nearest neighbours in latent space
  (umap-learn's ``transform`` takes seconds);
- ``to_latent(xy)``: the latent code behind any spot of the map (inverse), by
  inverse-distance weighting of the latent codes of the nearest points on the map
  (umap-learn's ``inverse_transform`` takes seconds per call), and how far the spot is
  from the data (``describe``).

PCA and the 2-D latent space have exact maps and use them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .config import ConfigError

Method = Literal["umap", "pca", "tsne", "latent"]
METHODS: tuple[str, ...] = ("umap", "pca", "tsne", "latent")
METHOD_LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE", "latent": "latent space (2-D model)"}


@dataclass(frozen=True)
class ProjectionConfig:
    """How to draw the 2-D map."""

    method: Method = "umap"  # umap | pca | tsne | latent (only for a 2-D latent space)
    n_neighbors: int = 15  # umap: size of the local neighbourhood
    min_dist: float = 0.1  # umap: how tightly points may be packed
    perplexity: float = 30.0  # t-SNE: effective number of neighbours
    seed: int = 42  # random state of UMAP and t-SNE

    def validate(self, n_points: int | None = None, latent_dim: int | None = None) -> ProjectionConfig:
        if self.method not in METHODS:
            raise ConfigError(f"projection method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not (2 <= self.n_neighbors <= 200):
            raise ConfigError(f"n_neighbors must be between 2 and 200, got {self.n_neighbors}")
        if not (0.0 <= self.min_dist <= 1.0):
            raise ConfigError(f"min_dist must be between 0 and 1, got {self.min_dist}")
        if not (2.0 <= self.perplexity <= 100.0):
            raise ConfigError(f"perplexity must be between 2 and 100, got {self.perplexity}")
        if self.method == "latent" and latent_dim is not None and latent_dim != 2:
            raise ConfigError(
                f"method 'latent' draws the latent space itself and needs latent_dim 2, got {latent_dim}; "
                "use umap, pca or tsne"
            )
        if n_points is not None and self.method == "umap" and n_points <= self.n_neighbors:
            raise ConfigError(f"UMAP needs more than n_neighbors={self.n_neighbors} points, got {n_points}")
        return self

    def key(self) -> str:
        """The parameters that change the result, as a short stable string."""
        if self.method == "umap":
            return f"umap-nn{self.n_neighbors}-md{self.min_dist:g}-s{self.seed}"
        if self.method == "tsne":
            return f"tsne-p{self.perplexity:g}-s{self.seed}"
        return self.method


def numba_cache_dir(root: str | Path | None = None) -> Path:
    """Point numba's on-disk JIT cache at a writable folder (so UMAP's warm-up is paid once)."""
    from .cache import DEFAULT_CACHE_DIR

    path = Path(root) if root else DEFAULT_CACHE_DIR / "numba"
    try:
        path.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("NUMBA_CACHE_DIR", str(path))
    except OSError:
        pass
    return path


def fit_projection(codes: np.ndarray, cfg: ProjectionConfig | None = None,
                   progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, Any]:
    """Project codes (N, D) to (N, 2); returns the coordinates and the fitted model (or None)."""
    cfg = (cfg or ProjectionConfig()).validate(len(codes), codes.shape[1])
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    say = progress or (lambda m: None)
    if cfg.method == "latent":
        return codes[:, :2].copy(), None
    if cfg.method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=cfg.seed).fit(codes)
        return pca.transform(codes).astype(np.float32), pca
    if cfg.method == "tsne":
        from sklearn.manifold import TSNE

        say(f"t-SNE on {len(codes):,} points")
        tsne = TSNE(n_components=2, perplexity=min(cfg.perplexity, (len(codes) - 1) / 3),
                    init="pca", random_state=cfg.seed)
        return tsne.fit_transform(codes).astype(np.float32), None
    numba_cache_dir()
    say("loading UMAP (compiles once, then cached)")
    import umap

    say(f"UMAP on {len(codes):,} points")
    reducer = umap.UMAP(n_components=2, n_neighbors=cfg.n_neighbors, min_dist=cfg.min_dist,
                        random_state=cfg.seed, n_jobs=1)
    coords = reducer.fit_transform(codes)
    return np.asarray(coords, dtype=np.float32), reducer


def _idw(dist: np.ndarray, values: np.ndarray, power: float = 2.0) -> np.ndarray:
    """Inverse-distance-weighted mean: dist (M, k), values (M, k, F) -> (M, F)."""
    exact = dist[:, 0] < 1e-9
    w = 1.0 / np.maximum(dist, 1e-12) ** power
    w /= w.sum(1, keepdims=True)
    out = (w[..., None] * values).sum(1)
    out[exact] = values[exact, 0]
    return out


class ExactKnn:
    """Exact k nearest neighbours (Euclidean) of a fixed point set, fast for single queries.

    The explorer asks for the neighbours of one code at a time, on every slider move; a
    general-purpose index spends most of such a call on its own overhead (sklearn's
    ``kneighbors``: about 0.3 ms). Here 2-D points sit in a k-d tree (scipy's cKDTree, about
    15 µs a query); higher-dimensional ones are searched by brute force, with a shortcut
    that keeps it exact: the points are split into blocks of about sqrt(N), and the k-th
    smallest block minimum bounds the k-th smallest distance, so only the few points under
    that bound are sorted (about 40 µs for 10,000 16-D points, instead of 120 µs for a full
    ``argpartition``). Distances of the chosen neighbours are recomputed directly, in
    float64, so they match a reference implementation's to rounding.
    """

    def __init__(self, points: np.ndarray):
        self.points = np.ascontiguousarray(points, dtype=np.float32)
        n, dim = self.points.shape
        self._tree = None
        if dim <= 3:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.points.astype(np.float64))
            return
        self._sq = np.einsum("nd,nd->n", self.points, self.points)
        self._m2 = -2.0 * self.points  # d2 - |q|^2 = |x|^2 - 2 x.q, in one matrix-vector product
        self._block = max(1, int(np.sqrt(n)))
        n_blocks = -(-n // self._block)
        self._pad = n_blocks * self._block - n

    def __len__(self) -> int:
        return len(self.points)

    def query(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances (M, k) in float64 and indices (M, k), nearest first, of the rows of q (M, D)."""
        q = np.atleast_2d(np.asarray(q, dtype=np.float32))
        k = int(min(k, len(self.points)))
        if self._tree is not None:
            dist, idx = self._tree.query(q.astype(np.float64), k=k)
            return dist.reshape(len(q), k), idx.reshape(len(q), k).astype(np.int64)
        if len(q) == 1:  # the common case (one slider move): as few numpy calls as possible
            i = self._one(q[0], k)
            diff = (self.points[i] - q[0]).astype(np.float64)
            dist = np.sqrt((diff * diff).sum(1))
            order = dist.argsort(kind="stable")
            return dist[order][None], i[order][None]
        idx = np.empty((len(q), k), dtype=np.int64)
        if len(q) <= 16:
            for r, row in enumerate(q):
                idx[r] = self._one(row, k)
        else:
            for lo in range(0, len(q), 256):  # (256, N) blocks of squared distances at a time
                chunk = q[lo:lo + 256]
                d2 = self._sq[None, :] - 2.0 * (chunk @ self.points.T)
                part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(self.points) else \
                    np.broadcast_to(np.arange(k), (len(chunk), k)).copy()
                idx[lo:lo + len(chunk)] = part
        diff = self.points[idx].astype(np.float64) - q[:, None, :].astype(np.float64)
        dist = np.sqrt(np.einsum("mkd,mkd->mk", diff, diff))
        order = np.argsort(dist, axis=1, kind="stable")
        return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)

    def _one(self, q: np.ndarray, k: int) -> np.ndarray:
        d2 = self._m2 @ q  # squared distance minus |q|^2: the same order
        d2 += self._sq
        n = len(d2)
        if k >= n:
            return np.arange(n)
        if n < 4 * self._block or k > self._block // 2:
            return np.argpartition(d2, k - 1)[:k]
        padded = np.concatenate([d2, np.full(self._pad, np.inf, dtype=d2.dtype)]) if self._pad else d2
        block_min = padded.reshape(-1, self._block).min(1)
        bound = np.partition(block_min, k - 1)[k - 1]  # >= the k-th smallest d2 (k distinct points)
        cand = np.flatnonzero(d2 <= bound)
        return cand[np.argpartition(d2[cand], k - 1)[:k]]


class LatentMap:
    """Fast maps between a latent space and its 2-D projection, fitted on (codes, coords).

    ``linear`` (a fitted sklearn PCA) or ``identity`` make both directions exact.
    """

    def __init__(self, codes: np.ndarray, coords: np.ndarray, k: int = 8, power: float = 2.0,
                 linear: Any = None, identity: bool = False):
        if len(codes) != len(coords):
            raise ValueError(f"codes ({len(codes)}) and coords ({len(coords)}) must have the same length")
        if len(codes) < 2:
            raise ValueError("a LatentMap needs at least 2 points")
        self.codes = np.ascontiguousarray(codes, dtype=np.float32)  # (N, D)
        self.coords = np.ascontiguousarray(coords, dtype=np.float32)  # (N, 2)
        self.k = min(k, len(codes))
        self.power = power
        self.linear = linear
        self.identity = identity
        self._nn_latent = ExactKnn(self.codes)
        lo, hi = self.coords.min(0), self.coords.max(0)
        self.bounds = (lo, hi)

    # built on first use: drawing the map needs neither (and the k-d tree imports scipy.spatial)
    @functools.cached_property
    def _nn_map(self) -> ExactKnn:
        return ExactKnn(self.coords)

    @functools.cached_property
    def spacing(self) -> float:
        """The typical (median) gap between a point and its nearest neighbour on the map."""
        d, _ = self._nn_map.query(self.coords, 2)
        return float(np.median(d[:, 1])) or 1e-6

    @property
    def latent_dim(self) -> int:
        return self.codes.shape[1]

    def to_map(self, z: np.ndarray) -> np.ndarray:
        """Latent codes (M, D) -> map positions (M, 2)."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if self.identity:
            return z[:, :2].copy()
        if self.linear is not None:
            return self.linear.transform(z).astype(np.float32)
        dist, idx = self._nn_latent.query(z, self.k)
        return _idw(dist, self.coords[idx], self.power).astype(np.float32)

    def to_latent(self, xy: np.ndarray) -> np.ndarray:
        """Map positions (M, 2) -> latent codes (M, D)."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float32))
        if self.identity:
            return xy.copy()
        if self.linear is not None:
            return self.linear.inverse_transform(xy).astype(np.float32)
        dist, idx = self._nn_map.query(xy, self.k)
        return _idw(dist, self.codes[idx], self.power).astype(np.float32)

    def nearest(self, xy: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices (M, k) of the nearest data points on the map."""
        return self._nn_map.query(xy, k)

    def nearest_latent(self, z: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices (M, k) of the nearest data points in latent space."""
        return self._nn_latent.query(z, k)

    def describe(self, xy: np.ndarray) -> dict[str, Any]:
        """How far one spot is from the data: distance, in neighbour spacings, and a verdict."""
        dist, idx = self.nearest(xy)
        d = float(dist[0, 0])
        ratio = d / self.spacing
        if ratio <= 3:
            verdict = "inside the data"
        elif ratio <= 10:
            verdict = "at the edge of the data"
        else:
            verdict = "extrapolating: far from any encoded image"
        return {"distance": d, "spacings": ratio, "nearest_index": int(idx[0, 0]), "verdict": verdict}


def build_latent_map(codes: np.ndarray, coords: np.ndarray, method: str, model: Any = None) -> LatentMap:
    """The right LatentMap for a projection method (exact for pca and latent)."""
    if method == "latent":
        return LatentMap(codes, coords, identity=True)
    if method == "pca" and model is not None:
        return LatentMap(codes, coords, linear=model)
    return LatentMap(codes, coords)


def fit_pca_map(codes: np.ndarray, coords: np.ndarray):
    """Refit the (deterministic) 2-D PCA behind cached PCA coordinates, for exact maps."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=42).fit(np.asarray(codes, dtype=np.float32))


def trustworthiness(codes: np.ndarray, coords: np.ndarray, k: int = 10, max_points: int = 5000,
                    seed: int = 0) -> float:
    """sklearn's trustworthiness of the map (on a random subset of at most ``max_points``)."""
    from sklearn.manifold import trustworthiness as tw

    if len(codes) > max_points:
        idx = np.random.default_rng(seed).choice(len(codes), max_points, replace=False)
        codes, coords = codes[idx], coords[idx]
    return float(tw(codes, coords, n_neighbors=k))
