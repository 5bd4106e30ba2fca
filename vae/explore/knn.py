"""Exact nearest neighbours of a fixed point set, fast for one query at a time.

The explorer asks for the neighbours of one code at a time, on every slider move; a
general-purpose index spends most of such a call on its own overhead (sklearn's
``kneighbors``: about 0.3 ms), and in 16 dimensions no tree prunes much (scipy's cKDTree:
about 150 µs on 10,000 codes). ``ExactKnn`` therefore keeps:

- 2-D (and 3-D) points in scipy's cKDTree (about 15 µs a query);
- higher-dimensional points in a compiled scan over an int8 copy with an exactness
  guarantee (``vae.explore._knn_kernels``): about 5 µs a query for 10,000 16-D points, 3 µs of it
  in the kernel (AVX-512 VNNI where the CPU has it), where numpy's best brute force takes
  60 µs.

Both return what sklearn's ``NearestNeighbors`` returns: the same neighbours (up to ties)
and distances computed in float64 from the float32 points.
"""

from __future__ import annotations

import threading

import numpy as np

from ..data.cache import numba_cache_dir

BLOCK = 256  # points per block of the int8 copy: one block of int32 scores fits the L1 cache
MAX_DIM = 16_384  # |x̂|² + 256·Σx̂ + 2·(ŷ + 128)·x̂ stays below 2**31 (int32 scores never overflow)


_KERNELS = None


def _kernels():
    """The numba kernels, compiled on first use and cached on disk."""
    global _KERNELS
    if _KERNELS is None:
        numba_cache_dir()  # before numba is imported: its cache folder is read once
        from . import _knn_kernels

        _KERNELS = _knn_kernels
    return _KERNELS


def warm_up(background: bool = True) -> threading.Thread:
    """Compile the kernels now (about 3 s the first time, 0.4 s from numba's disk cache), so
    that the first real query does not wait: in a daemon thread, or before returning when
    ``background`` is False. Only the first call starts anything."""
    global _WARMING
    with _WARM_LOCK:
        if _WARMING is None:
            _WARMING = threading.Thread(target=_compile, name="vae-knn-warm-up", daemon=True)
            _WARMING.start()
        thread = _WARMING
    if not background:
        thread.join()
    return thread


def _compile() -> None:
    pts = np.linspace(-1, 1, 600 * 8, dtype=np.float32).reshape(600, 8)
    index = ExactKnn(pts)
    index.query(pts[:2], 3)
    index.weighted_mean(pts[:2], np.ascontiguousarray(pts[:, :2]), 3)


_WARMING: threading.Thread | None = None
_WARM_LOCK = threading.Lock()


class ExactKnn:
    """Exact k nearest neighbours (Euclidean) of the rows of ``points`` (N, D)."""

    def __init__(self, points: np.ndarray):
        self.points = np.ascontiguousarray(points, dtype=np.float32)
        if self.points.ndim != 2 or len(self.points) == 0:
            raise ValueError(f"ExactKnn needs a non-empty (N, D) array, got shape {self.points.shape}")
        n, dim = self.points.shape
        self._tree = None
        if dim <= 3:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.points.astype(np.float64))
            return
        if dim > MAX_DIM:
            raise ValueError(f"ExactKnn handles up to {MAX_DIM} dimensions (its int32 scores would "
                             f"overflow), got {dim}: reduce the dimension first (e.g. with PCA)")
        centred = self.points.astype(np.float64)
        mean = centred.mean(0)
        centred -= mean
        scale = float(np.abs(centred).max()) / 127.0 or 1.0
        quant = np.clip(np.round(centred / scale), -127, 127)
        err = np.linalg.norm(centred - quant * scale, axis=1) * (1 + 1e-6) + 1e-9
        n_blocks = -(-n // BLOCK)
        groups = -(-dim // 4)  # zero dimensions added up to a multiple of 4: distances do not change
        padded = np.zeros((n_blocks * BLOCK, groups * 4), dtype=np.int8)
        padded[:n, :dim] = quant
        # block, group of four dimensions, point, the four values (see vae.explore._knn_kernels)
        xv = np.ascontiguousarray(padded.reshape(n_blocks, BLOCK, groups, 4).transpose(0, 2, 1, 3)).reshape(-1)
        nq = np.full(n_blocks * BLOCK, 2**30, dtype=np.int32)  # padding never wins
        quant = quant.astype(np.int64)
        nq[:n] = (quant**2).sum(1) + 256 * quant.sum(1)  # the kernels' scores come out of (ŷ + 128)·x̂
        # The kernels' scratch space: the scores, the block minima, the query's bytes (four to a
        # word). One per index is safe: the kernels hold the GIL, so no two queries overlap.
        work = np.empty(n_blocks * BLOCK + n_blocks + groups, dtype=np.int32)
        self._index = (xv, nq, err, float(err.max()), self.points, scale, mean, work)

    def __len__(self) -> int:
        return len(self.points)

    def _queries(self, q: np.ndarray) -> np.ndarray:
        if type(q) is np.ndarray and q.dtype == np.float32 and q.ndim == 2 and q.flags.c_contiguous \
                and q.shape[1] == self.points.shape[1]:
            return q  # the common case, as cheaply as possible
        q = np.asarray(q, dtype=np.float32)
        if q.ndim == 1:
            q = q[None]
        if q.ndim != 2 or q.shape[1] != self.points.shape[1]:
            raise ValueError(f"queries must be (M, {self.points.shape[1]}), got shape {q.shape}")
        return np.ascontiguousarray(q)

    def query(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances (M, k) in float64 and indices (M, k), nearest first, of the rows of q (M, D)."""
        q = self._queries(q)
        k = int(min(k, len(self.points)))
        if self._tree is not None:
            dist, idx = self._tree.query(q.astype(np.float64), k=k)
            return dist.reshape(len(q), k), idx.reshape(len(q), k).astype(np.int64)
        dist = np.empty((len(q), k))
        idx = np.empty((len(q), k), dtype=np.int64)
        _kernels().knn(*self._index, q, k, dist, idx)
        return dist, idx

    def weighted_mean(self, q: np.ndarray, values: np.ndarray, k: int, power: float = 2.0) -> np.ndarray:
        """Inverse-distance-weighted mean of ``values`` (N, F) over each query's k nearest points.

        A query that coincides with a point gets that point's value exactly. Returns float32.
        """
        q = self._queries(q)
        k = min(k, len(self.points))
        if self._tree is not None:
            dist, idx = self.query(q, k)
            return idw(dist, values[idx], power).astype(np.float32)
        out = np.empty((len(q), values.shape[1]), dtype=np.float32)
        _kernels().knn_idw(*self._index, q, k, values, power, out)
        return out


def idw(dist: np.ndarray, values: np.ndarray, power: float = 2.0) -> np.ndarray:
    """Inverse-distance-weighted mean: dist (M, k), values (M, k, F) -> (M, F)."""
    exact = dist[:, 0] < 1e-9
    w = 1.0 / np.maximum(dist, 1e-12) ** power
    w /= w.sum(1, keepdims=True)
    out = (w[..., None] * values).sum(1)
    out[exact] = values[exact, 0]
    return out
