"""2-D maps of the latent space, and fast maps in both directions.

``fit_projection(codes, ProjectionConfig(...))`` projects latent means (N, D) to (N, 2)
with UMAP (default), PCA, t-SNE, or the latent space itself for a 2-D model.

``LatentMap(codes, coords)`` answers, in microseconds per query (measured on 10,000 16-D
codes, 2 CPU cores; docs/benchmarks.md):

- ``to_map(z)``: where new latent codes land on the map (forward), by inverse-distance
  weighting of the 2-D positions of their nearest neighbours in latent space, found
  exactly by ``vae.explore.knn.ExactKnn`` (about 8 µs; umap-learn's warm ``transform``: 1 ms);
- ``to_latent(xy)``: the latent code behind any spot of the map (inverse), by
  inverse-distance weighting of the latent codes of the nearest points on the map
  (about 35 µs; umap-learn's ``inverse_transform``: 3.4 s), and how far the spot is from
  the data (``describe``).

PCA and the 2-D latent space have exact maps and use them.

Large sets (70,000 codes and more): :func:`place_on_map` puts codes on a map fitted on a
sample with the same exact k-NN placement (``to_map``), so that UMAP or t-SNE is fitted
once on (say) the 10,000 test codes and every other code is placed in microseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..data.cache import cache_numba_kernels, numba_cache_dir
from ..errors import ConfigError
from ..i18n import N_
from .knn import ExactKnn

Method = Literal["umap", "pca", "tsne", "latent"]
METHODS: tuple[str, ...] = ("umap", "pca", "tsne", "latent")
METHOD_LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE", "latent": N_("latent space (2-D model)")}


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


def default_config(latent_dim: int, chosen: str | None = None, n_points: int | None = None) -> ProjectionConfig:
    """A model's default map: the latent space itself for a 2-D model, UMAP otherwise (PCA for ``n_points``
    too few for UMAP); ``chosen``: the map an imported model's folder names (meta.json's ``default_map``)."""
    if chosen in ("pca", "tsne") or (chosen == "latent" and latent_dim == 2):
        return ProjectionConfig(method=chosen)
    if latent_dim == 2:
        return ProjectionConfig(method="latent")
    umap = ProjectionConfig(method="umap")
    return umap if n_points is None or n_points > umap.n_neighbors else ProjectionConfig(method="pca")


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

    cache_numba_kernels("umap", "pynndescent")
    say(f"UMAP on {len(codes):,} points")
    reducer = umap.UMAP(n_components=2, n_neighbors=cfg.n_neighbors, min_dist=cfg.min_dist,
                        random_state=cfg.seed, n_jobs=1)
    coords = reducer.fit_transform(codes)
    return np.asarray(coords, dtype=np.float32), reducer


@dataclass(frozen=True)
class AxisMap:
    """A map of codes along one direction, as Latent Space Cartography draws an attribute vector: x is a code's
    coordinate along the direction (its unit vector, from the codes' mean), y its coordinate along the first
    principal direction of what is left once x is taken out. Linear both ways, like a fitted PCA (``mean_``,
    ``components_``, ``transform``, ``inverse_transform``): a LatentMap with ``linear=`` it is exact."""

    mean_: np.ndarray  # (D,) the codes' mean
    components_: np.ndarray  # (2, D) orthonormal rows: the direction, then the widest spread left

    def transform(self, codes: np.ndarray) -> np.ndarray:
        """Codes (N, D) -> map positions (N, 2)."""
        return (np.asarray(codes, np.float64) - self.mean_) @ self.components_.T

    def inverse_transform(self, xy: np.ndarray) -> np.ndarray:
        """Map positions (N, 2) -> the codes in the map's plane (N, D)."""
        return self.mean_ + np.asarray(xy, np.float64) @ self.components_


def axis_map(codes: np.ndarray, direction: np.ndarray) -> AxisMap:
    """The :class:`AxisMap` of ``codes`` (N, D) along ``direction`` (D,). The second axis's sign is fixed (its
    largest entry positive), so that the same codes and direction always give the same map."""
    codes = np.asarray(codes, np.float64)
    d = np.asarray(direction, np.float64).reshape(-1)
    if codes.ndim != 2 or d.shape != (codes.shape[1],):
        raise ValueError(f"direction must have one number per latent dimension ({codes.shape[-1]}), got {d.shape}")
    norm = float(np.linalg.norm(d))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError(f"direction must be a finite, non-zero vector, got length {norm}")
    u = d / norm
    mean = codes.mean(0)
    x = codes - mean
    rest = x - np.outer(x @ u, u)
    v = np.linalg.svd(rest, full_matrices=False)[2][0] if len(codes) > 1 else np.zeros_like(u)
    v = v - (v @ u) * u  # exactly orthogonal to the direction
    if np.linalg.norm(v) < 1e-12:  # nothing left (a 1-D space, or codes on a line): any unit vector orthogonal
        v = np.eye(len(u))[int(np.argmin(np.abs(u)))] - u * u[int(np.argmin(np.abs(u)))]
    v = v / (np.linalg.norm(v) or 1.0)
    if v[np.argmax(np.abs(v))] < 0:
        v = -v
    return AxisMap(mean, np.stack([u, v]))


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
        if self.linear is None and not self.identity:
            return self._nn_latent.weighted_mean(z, self.coords, self.k, self.power)
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if self.identity:
            return z[:, :2].copy()
        return self.linear.transform(z).astype(np.float32)

    def to_latent(self, xy: np.ndarray) -> np.ndarray:
        """Map positions (M, 2) -> latent codes (M, D)."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float32))
        if self.identity:
            return xy.copy()
        if self.linear is not None:
            return self.linear.inverse_transform(xy).astype(np.float32)
        return self._nn_map.weighted_mean(xy, self.codes, self.k, self.power)

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
            verdict = N_("inside the data")
        elif ratio <= 10:
            verdict = N_("at the edge of the data")
        else:
            verdict = N_("extrapolating: far from any encoded image")
        return {"distance": d, "spacings": ratio, "nearest_index": int(idx[0, 0]), "verdict": verdict}


def place_on_map(lmap: LatentMap, codes: np.ndarray, chunk: int = 65_536,
                 progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Map positions (M, 2) of many codes (M, D) on the map of ``lmap``: its exact k-NN placement
    (``to_map``), in chunks; a code that is one of the map's own lands exactly on its point."""
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    out = np.empty((len(codes), 2), dtype=np.float32)
    for start in range(0, len(codes), chunk):
        out[start : start + chunk] = lmap.to_map(codes[start : start + chunk])
        if progress and len(codes) > chunk:
            progress(f"placed {min(start + chunk, len(codes)):,} of {len(codes):,} codes")
    return out


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
