"""Two latent spaces of the same images, side by side: how their maps align and what they agree on.

Two checkpoints of the same data (ours, or imported ones) each encode the same images to posterior
means μ (N, D_a) and (N, D_b) and draw them on a 2-D map (N, 2). :func:`compare_spaces` measures,
on exactly those images:

- :func:`procrustes`: map B rotated (or mirrored), scaled and shifted onto map A, the least-squares
  fit of :func:`scipy.spatial.procrustes`, returned in map A's own coordinates (see :class:`Alignment`);
- :func:`shared_neighbours`: how many of each image's k nearest neighbours (Euclidean, in μ space,
  the image itself left out) the two spaces share, 0 to k (:func:`neighbour_lists` finds them with
  :class:`vae.explore.knn.ExactKnn`);
- for each model (:class:`SpaceSummary`): the posterior-mean reconstruction's MSE, the −ELBO where the
  model defines one (an imported model without a likelihood does not: None), the leave-one-out k-NN
  class accuracy in μ space (:func:`knn_accuracy`), Burda et al.'s active units (Cov_x(E_q[z]) > 0.01,
  :func:`vae.evaluate.active_units`) and the :func:`trustworthiness` of its map with respect to μ space.

The k-NN accuracy here is measured on the compared images alone (each image classified by its k
nearest others), so that both models are scored on the same images; ``python -m vae evaluate``'s
``knn_acc`` fits the classifier on the train split instead, so the two figures differ a little.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..evaluate import ACTIVE_UNIT_THRESHOLD, active_units
from ..i18n import N_, Text
from .knn import ExactKnn

ROWS = 512  # rows of the (ROWS, N) distance block of trustworthiness: 20 MB of float32 for N = 10,000


class PairError(ValueError):
    """Two latent spaces that cannot be compared (other data, other images); the message names both."""


@dataclass(frozen=True)
class SpacesConfig:
    """How the two spaces are compared."""

    neighbours: int = 10  # k of the shared neighbours and of trustworthiness (the Map's neighbours default)
    knn_k: int = 5  # neighbours that vote in the k-NN class accuracy (vae.evaluate's knn_k)
    active_threshold: float = ACTIVE_UNIT_THRESHOLD  # Var_x(μ_j) above this: an active unit (Burda et al.)

    def validate(self, n: int | None = None) -> SpacesConfig:
        """Raise ValueError naming the bad value; ``n``: the number of images compared."""
        for name in ("neighbours", "knn_k"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
        if not self.active_threshold >= 0:
            raise ValueError(f"active_threshold must be >= 0, got {self.active_threshold!r}")
        if n is not None and not 2 * self.neighbours < n:
            raise ValueError(f"neighbours must be less than half the {n} images compared (trustworthiness needs "
                             f"it), got {self.neighbours}; compare more images or take fewer neighbours")
        if n is not None and self.knn_k >= n:
            raise ValueError(f"knn_k must be less than the {n} images compared, got {self.knn_k}")
        return self


@dataclass(frozen=True)
class Space:
    """One model's view of the compared images (row i of every array is image i)."""

    name: str  # the checkpoint's name, as shown
    mu: np.ndarray  # (N, D) posterior means
    coords: np.ndarray  # (N, 2) its map
    labels: np.ndarray  # (N,) class of each image
    mse: np.ndarray  # (N,) per-pixel MSE of each image's posterior-mean reconstruction
    neg_elbo: np.ndarray | None  # (N,) −ELBO of each image in nats; None where the model defines none

    @classmethod
    def of(cls, name: str, enc, coords: np.ndarray, has_elbo: bool = True) -> Space:
        """From a :class:`vae.explore.latent.Encoding` (as vae.explore.sets.explore_set gives it) and its map."""
        return cls(name, enc.mu, np.asarray(coords), enc.labels, enc.mse, enc.neg_elbo if has_elbo else None)


def has_elbo(model) -> bool:
    """Whether a model defines an ELBO: an imported model may declare no likelihood (vae.evaluate's rule)."""
    return bool(getattr(model.likelihood, "available", True))


def check_pair(name_a: str, dataset_a: str, shape_a, name_b: str, dataset_b: str, shape_b) -> None:
    """Raise :class:`PairError` unless the two checkpoints were made for the same data set and image size."""
    shape_a, shape_b = tuple(int(s) for s in shape_a), tuple(int(s) for s in shape_b)
    if dataset_a != dataset_b or shape_a != shape_b:
        raise PairError(Text(N_(
            "{a} ({data_a}, {shape_a} images) and {b} ({data_b}, {shape_b} images) were not made for the same "
            "images, so their latent spaces cannot be compared image by image: choose two checkpoints of the same "
            "data set"), a=name_a, data_a=dataset_a, shape_a="×".join(map(str, shape_a)), b=name_b,
            data_b=dataset_b, shape_b="×".join(map(str, shape_b))))


def _check_spaces(a: Space, b: Space) -> int:
    n = len(a.mu)
    for s in (a, b):
        for what, arr, cols in (("mu", s.mu, None), ("coords", s.coords, 2)):
            if arr.ndim != 2 or len(arr) != len(s.labels) or (cols and arr.shape[1] != cols):
                raise ValueError(f"{s.name}'s {what} must be ({len(s.labels)}, {cols or 'D'}), got {arr.shape}")
            if not np.isfinite(arr).all():
                raise ValueError(f"{s.name}'s {what} holds NaN or infinite values: its encoder failed on some images")
    if len(b.mu) != n:
        raise PairError(f"{a.name} encodes {n:,} images and {b.name} {len(b.mu):,}: the two spaces must be "
                        f"compared on the same images")
    if not np.array_equal(a.labels, b.labels):
        raise PairError(f"{a.name} and {b.name} were given different images (their labels differ at image "
                        f"{int(np.flatnonzero(a.labels != b.labels)[0])}): compare them on the same split")
    return n


# -- Procrustes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alignment:
    """Map B fitted onto map A by a similarity transform: ``aligned = b @ rotation * scale + translation``.

    ``aligned`` (N, 2) is in map A's coordinates. scipy.spatial.procrustes(a, b) returns both maps
    standardised (centred, Frobenius norm 1) and B's fitted copy; ``aligned`` is that copy in A's units:
    (aligned - a.mean(0)) / ‖a - a.mean(0)‖ equals scipy's second matrix. ``disparity`` is scipy's: the
    sum of squared differences of the standardised maps, 0 (same shape) to 1 (nothing in common).
    """

    aligned: np.ndarray  # (N, 2) float32: map B in map A's coordinates
    rotation: np.ndarray  # (2, 2) orthogonal, applied on the right; det -1: B is mirrored
    scale: float
    translation: np.ndarray  # (2,)
    disparity: float

    @property
    def mirrored(self) -> bool:
        return bool(np.linalg.det(self.rotation) < 0)


def procrustes(a: np.ndarray, b: np.ndarray) -> Alignment:
    """Align the points ``b`` (N, 2) onto ``a`` (N, 2), row i on row i (scipy.spatial.procrustes's fit)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2 or len(a) < 2:
        raise ValueError(f"Procrustes needs two maps of the same points, (N >= 2, d), got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(0), b.mean(0)
    norm_a, norm_b = np.linalg.norm(a - mean_a), np.linalg.norm(b - mean_b)
    if norm_a == 0 or norm_b == 0:
        raise ValueError("Procrustes needs maps whose points are not all at one place")
    std_a, std_b = (a - mean_a) / norm_a, (b - mean_b) / norm_b
    u, w, vt = np.linalg.svd(std_a.T @ std_b)  # the rotation R minimising ‖std_a R − std_b‖ is u vt
    rotation, s = (u @ vt).T, float(w.sum())
    disparity = float(np.sum((std_a - std_b @ rotation * s) ** 2))
    scale = s * norm_a / norm_b
    translation = mean_a - mean_b @ rotation * scale
    aligned = (b @ rotation * scale + translation).astype(np.float32)
    return Alignment(aligned, rotation, scale, translation, disparity)


# -- neighbours ----------------------------------------------------------------------------------
def neighbour_lists(points: np.ndarray, k: int) -> np.ndarray:
    """Each point's k nearest other points (Euclidean), nearest first: (N, k) indices.

    The point itself is left out (where duplicates tie with it, a duplicate may stay instead)."""
    n = len(points)
    if not 1 <= k < n:
        raise ValueError(f"k must be from 1 to {n - 1} (one less than the points), got {k}")
    _, idx = ExactKnn(points).query(points, k + 1)
    is_self = idx == np.arange(n)[:, None]
    drop = np.where(is_self.any(1), is_self.argmax(1), k)  # the point itself, else the (k+1)-th
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(n), drop] = False
    return idx[keep].reshape(n, k)


def shared_neighbours(nn_a: np.ndarray, nn_b: np.ndarray) -> np.ndarray:
    """How many indices row i of ``nn_a`` (N, k) and row i of ``nn_b`` (N, k) have in common: (N,) int."""
    if nn_a.shape != nn_b.shape:
        raise ValueError(f"neighbour lists must have the same shape, got {nn_a.shape} and {nn_b.shape}")
    return (nn_a[:, :, None] == nn_b[:, None, :]).any(2).sum(1)


def knn_accuracy(nn: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out k-NN class accuracy from each image's k nearest others ``nn`` (N, k): the majority
    class of the neighbours (a tie goes to the lowest class, as scikit-learn's classifier decides)."""
    labels = np.asarray(labels, np.int64)
    votes = labels[nn]  # (N, k)
    n_classes = int(labels.max()) + 1
    counts = np.zeros((len(nn), n_classes), np.int64)
    np.add.at(counts, (np.repeat(np.arange(len(nn)), nn.shape[1]), votes.ravel()), 1)
    return float((counts.argmax(1) == labels).mean())


def trustworthiness(mu: np.ndarray, coords: np.ndarray, k: int = 10) -> float:
    """sklearn.manifold.trustworthiness(mu, coords, n_neighbors=k) on every point, in O(N) memory.

    T = 1 − 2 / (N k (2N − 3k − 1)) Σ_i Σ_{j ∈ U_k(i)} max(0, r(i, j) − k), U_k(i): i's k nearest
    neighbours on the map, r(i, j): j's rank among i's neighbours in μ space. The μ-space distances are
    taken ROWS rows at a time (float32), never as the whole (N, N) matrix that scikit-learn sorts.
    """
    mu = np.ascontiguousarray(mu, np.float32)
    n = len(mu)
    if not 2 * k < n:
        raise ValueError(f"trustworthiness needs k < N / 2, got k = {k} for {n} points")
    on_map = neighbour_lists(np.asarray(coords, np.float32), k)  # (N, k)
    sq = np.einsum("ij,ij->i", mu.astype(np.float64), mu.astype(np.float64)).astype(np.float32)
    penalty = 0
    for s in range(0, n, ROWS):
        m = min(ROWS, n - s)
        d = sq[s : s + m, None] + sq[None] - 2 * (mu[s : s + m] @ mu.T)  # (m, N) squared distances
        d[np.arange(m), np.arange(s, s + m)] = np.inf  # a point is not its own neighbour
        dj = np.take_along_axis(d, on_map[s : s + m], 1)  # (m, k)
        rank = np.stack([np.count_nonzero(d < dj[:, j : j + 1], axis=1) for j in range(k)], 1) + 1
        penalty += int(np.maximum(rank - k, 0).sum())
    return float(1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))


# -- the comparison ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpaceSummary:
    """One model's figures on the compared images."""

    name: str
    latent_dim: int
    recon_mse: float  # mean per-pixel MSE of the posterior-mean reconstructions
    neg_elbo: float | None  # mean −ELBO, nats per image; None: the model defines no ELBO
    knn_accuracy: float  # leave-one-out k-NN class accuracy in μ space, 0 to 1
    active_units: int  # dimensions with Var_x(μ_j) above the threshold
    trustworthiness: float  # of its map with respect to μ space, 0 to 1


@dataclass(frozen=True)
class SpacesComparison:
    """What :func:`compare_spaces` found, image by image and in summary."""

    a: SpaceSummary
    b: SpaceSummary
    alignment: Alignment  # map B onto map A
    neighbours_a: np.ndarray  # (N, k) each image's k nearest others in A's μ space, nearest first
    neighbours_b: np.ndarray  # (N, k) the same in B's
    shared: np.ndarray  # (N,) how many of them both spaces share, 0 to k
    config: SpacesConfig
    seconds: dict[str, float] = field(default_factory=dict)  # what each part took

    @property
    def k(self) -> int:
        return self.config.neighbours

    @property
    def mean_shared(self) -> float:
        return float(self.shared.mean())

    def shared_histogram(self) -> np.ndarray:
        """(k + 1,) how many images share 0, 1, ..., k of their k nearest neighbours."""
        return np.bincount(self.shared, minlength=self.k + 1)

    @property
    def chance(self) -> float:
        """The mean shared count were the two neighbour lists drawn at random: k² / (N − 1)."""
        return self.k**2 / (len(self.shared) - 1)


def summarise(space: Space, nn: np.ndarray, cfg: SpacesConfig) -> SpaceSummary:
    """One model's :class:`SpaceSummary`, from its neighbour lists ``nn`` (N, >= knn_k)."""
    return SpaceSummary(
        name=space.name, latent_dim=int(space.mu.shape[1]), recon_mse=float(np.mean(space.mse, dtype=np.float64)),
        neg_elbo=None if space.neg_elbo is None else float(np.mean(space.neg_elbo, dtype=np.float64)),
        knn_accuracy=knn_accuracy(nn[:, : cfg.knn_k], space.labels),
        active_units=active_units(space.mu, cfg.active_threshold)[0],
        trustworthiness=trustworthiness(space.mu, space.coords, cfg.neighbours),
    )


def compare_spaces(a: Space, b: Space, cfg: SpacesConfig | None = None) -> SpacesComparison:
    """Compare two models' encodings of the same images (see the module's docstring)."""
    n = _check_spaces(a, b)
    cfg = (cfg or SpacesConfig()).validate(n)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    k = max(cfg.neighbours, cfg.knn_k)
    nn_a, nn_b = neighbour_lists(a.mu, k), neighbour_lists(b.mu, k)
    shared = shared_neighbours(nn_a[:, : cfg.neighbours], nn_b[:, : cfg.neighbours])
    seconds["neighbours"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    alignment = procrustes(a.coords, b.coords)
    seconds["procrustes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sa, sb = summarise(a, nn_a, cfg), summarise(b, nn_b, cfg)
    seconds["summaries"] = time.perf_counter() - t0
    return SpacesComparison(sa, sb, alignment, nn_a[:, : cfg.neighbours], nn_b[:, : cfg.neighbours], shared,
                            cfg, seconds)
