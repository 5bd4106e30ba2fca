"""Structure on the map (issue #34): automatic clusters (scikit-learn's HDBSCAN) with their labels, and
the density of the points as a smoothed grid whose contours enclose a given share of them.

Clusters are found on the 2-D map positions by default: they are the groups the user sees, so a label
sits on the group it names; HDBSCAN is also fastest there (a k-d tree in 2-D). The codes μ themselves
(``space="latent"``) are offered too: groups that the projection may have torn apart or merged, labelled
at their typical member's place on the map.

scikit-learn's HDBSCAN builds its minimum spanning tree with Prim's algorithm, O(N²): 0.5 s on 10,000
points, 30-40 s on 70,000 (2 shared CPUs; benchmarks/map_tools.py). Above ``max_fit`` points it is fitted on a seeded sample of that many
and every other point joins the cluster of its nearest sampled point (noise stays noise); the result
says which (``Clusters.exact``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.neighbors import KDTree

NOISE = -1  # HDBSCAN's label of a point that belongs to no cluster


@dataclass(frozen=True)
class ClusterConfig:
    """How the clusters are found."""

    space: Literal["map", "latent"] = "map"  # cluster the 2-D map positions (what is seen) or the codes μ
    min_share: float = 0.02  # the smallest cluster, as a share of the points (HDBSCAN's min_cluster_size)
    min_size: int = 15  # ... and at least this many points
    min_samples: int = 10  # HDBSCAN's min_samples: the neighbours that make a point's core distance
    # HDBSCAN's cluster_selection_method. "leaf": the finest clusters of the hierarchy. Its default "eom"
    # takes the most persistent ones: on the shipped Fashion-MNIST UMAP map that is 2 (footwear, and all
    # the rest), where "leaf" finds 15, most of them one class at 70-100 % (min_share 0.02).
    selection: Literal["eom", "leaf"] = "leaf"
    max_fit: int = 20_000  # above this many points, fit a seeded sample of this many (see the module's text)
    seed: int = 0  # the sample's seed

    def __post_init__(self) -> None:
        if self.space not in ("map", "latent"):
            raise ValueError(f"space must be 'map' or 'latent', not {self.space!r}")
        if not 0 < self.min_share < 0.5:
            raise ValueError(f"min_share must lie between 0 and 0.5, not {self.min_share}")
        if self.min_size < 2 or self.min_samples < 1:
            raise ValueError(f"min_size must be at least 2 and min_samples at least 1 (got {self.min_size}, "
                             f"{self.min_samples})")
        if self.selection not in ("eom", "leaf"):
            raise ValueError(f"selection must be 'eom' or 'leaf', not {self.selection!r}")
        if self.max_fit < 100:
            raise ValueError(f"max_fit must be at least 100, not {self.max_fit}")

    def min_cluster_size(self, n: int) -> int:
        """HDBSCAN's min_cluster_size for ``n`` points."""
        return max(self.min_size, int(round(self.min_share * n)))

    def hdbscan(self, n: int, fitted: int | None = None) -> HDBSCAN:
        """The scikit-learn estimator these settings make for ``n`` points of which ``fitted`` are fitted (None:
        all); the tests fit it directly. A sample's min_samples shrinks with it (at least 1), so that a core
        distance spans about as much of the map as on every point: with 10 on a 20,000 sample of 70,000
        points, 42 % were noise against 30 % on all of them; with 3, 30 %."""
        m = n if fitted is None else fitted
        return HDBSCAN(min_cluster_size=self.min_cluster_size(m),
                       min_samples=max(1, int(round(self.min_samples * m / n))),
                       cluster_selection_method=self.selection, copy=True)


@dataclass(frozen=True)
class Cluster:
    """One cluster: ``id`` (0 the largest), its size, its most typical member (HDBSCAN's highest
    membership probability; among equals, the one nearest the members' mean), where its label goes
    (that member's map position), and its majority class with that class's share (None: no labels)."""

    id: int
    size: int
    typical: int
    centre: tuple[float, float]
    majority: int | None = None
    share: float | None = None


@dataclass
class Clusters:
    """Every point's cluster (``labels``, (N,) int, NOISE for none) and the clusters, largest first."""

    labels: np.ndarray
    probabilities: np.ndarray  # (N,) HDBSCAN's membership strength, 0 for noise (0 too for a point not fitted)
    clusters: list[Cluster] = field(default_factory=list)
    exact: bool = True  # every point was fitted (False: a sample was, the rest joined their nearest)
    fitted: int = 0  # how many points HDBSCAN saw

    @property
    def noise(self) -> int:
        return int((self.labels == NOISE).sum())

    def largest(self, k: int) -> list[Cluster]:
        return self.clusters[: max(int(k), 0)]


def find_clusters(points: np.ndarray, coords: np.ndarray, labels: np.ndarray | None = None,
                  cfg: ClusterConfig = ClusterConfig()) -> Clusters:
    """HDBSCAN on ``points`` (N, D): the map positions or the codes μ; ``coords`` (N, 2): the map positions,
    where the labels go; ``labels`` (N,): the images' classes (None: a set without labels).

    The clusters are numbered by size, largest first (HDBSCAN's own numbers are arbitrary)."""
    points = np.asarray(points, dtype=np.float64)
    coords = np.asarray(coords, dtype=np.float64)
    n = len(points)
    if points.ndim != 2 or coords.shape != (n, 2) or (labels is not None and len(labels) != n):
        raise ValueError(f"points (N, D), coords (N, 2) and labels (N,) must describe the same N images; got "
                         f"{points.shape}, {coords.shape}, {None if labels is None else np.shape(labels)}")
    if n < 2 * cfg.min_size:
        return Clusters(np.full(n, NOISE), np.zeros(n), [], True, n)
    if n <= cfg.max_fit:
        fitted = np.arange(n)
    else:
        fitted = np.sort(np.random.default_rng(cfg.seed).choice(n, cfg.max_fit, replace=False))
    est = cfg.hdbscan(n, len(fitted)).fit(points[fitted])
    raw = np.full(n, NOISE, dtype=np.int64)
    prob = np.zeros(n)
    raw[fitted], prob[fitted] = est.labels_, est.probabilities_
    if len(fitted) < n:  # the rest join the cluster of their nearest fitted point
        rest = np.setdiff1d(np.arange(n), fitted, assume_unique=True)
        _, near = KDTree(points[fitted]).query(points[rest], k=1)
        raw[rest] = est.labels_[near[:, 0]]
    return _numbered(raw, prob, coords, labels, exact=len(fitted) == n, fitted=len(fitted))


def _numbered(raw: np.ndarray, prob: np.ndarray, coords: np.ndarray, labels: np.ndarray | None, exact: bool,
              fitted: int) -> Clusters:
    """HDBSCAN's labels renumbered by size (largest 0), and each cluster described."""
    ids, sizes = np.unique(raw[raw != NOISE], return_counts=True)
    order = ids[np.argsort(-sizes, kind="stable")]
    renumber = np.full(int(raw.max()) + 2 if len(ids) else 1, NOISE, dtype=np.int64)
    renumber[order] = np.arange(len(order))
    out = np.where(raw == NOISE, NOISE, renumber[raw])
    clusters = []
    for c in range(len(order)):
        members = np.flatnonzero(out == c)
        best = members[prob[members] == prob[members].max()]
        mean = coords[members].mean(axis=0)
        typical = int(best[np.argmin(((coords[best] - mean) ** 2).sum(axis=1))])
        majority = share = None
        if labels is not None:
            counts = np.bincount(np.asarray(labels)[members].astype(np.int64))
            majority, share = int(counts.argmax()), float(counts.max() / len(members))
        clusters.append(Cluster(c, len(members), typical, (float(coords[typical, 0]), float(coords[typical, 1])),
                                majority, share))
    return Clusters(out, prob, clusters, exact, fitted)


def place_labels(boxes: np.ndarray, width: float, height: float) -> list[int]:
    """Which cluster labels the canvas map draws: ``boxes`` (K, 4) each label's centre and half-size in
    pixels (cx, cy, half width, half height), largest cluster first; a label is drawn when its box lies
    wholly in the ``width`` × ``height`` view and overlaps no label drawn before it. The twin of
    ``placeLabels`` in components/big_map/labels.js (zoomed in, clusters spread apart and more fit)."""
    placed: list[tuple[float, float, float, float]] = []
    shown = []
    for i, (cx, cy, hw, hh) in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4).tolist()):
        if cx - hw < 0 or cx + hw > width or cy - hh < 0 or cy + hh > height:
            continue
        if any(abs(cx - x) < hw + a and abs(cy - y) < hh + b for x, y, a, b in placed):
            continue
        placed.append((cx, cy, hw, hh))
        shown.append(i)
    return shown


def min_zoom(sizes: np.ndarray, labelled: int) -> np.ndarray:
    """(K,) from which zoom (the home view's span over the view's) each cluster's label may show on the Plotly
    map, ``sizes`` largest first: 1 for the ``labelled`` largest; a smaller cluster's once it covers as much
    of the screen as the smallest of those does zoomed out (an area grows with the zoom squared):
    sqrt(sizes[labelled - 1] / size). The page (components/plotly_labels) shows a label past its zoom when it
    is in view and overlaps no label shown before it (``place_labels``)."""
    sizes = np.asarray(sizes, np.float64)
    if len(sizes) and (np.any(sizes <= 0) or np.any(np.diff(sizes) > 0)):
        raise ValueError(f"sizes must be positive and largest first, not {sizes.tolist()}")
    if labelled < 1:
        raise ValueError(f"labelled must be at least 1, not {labelled}")
    if len(sizes) <= labelled:
        return np.ones(len(sizes))
    return np.maximum(1.0, np.sqrt(sizes[labelled - 1] / sizes))
