"""Structure on the map (issue #34): vae.explore.clusters against scikit-learn's HDBSCAN fitted directly on
the same points, and vae.explore.density's binned KDE against a direct evaluation (scikit-learn's
KernelDensity on the points scaled by the bandwidths)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN
from sklearn.neighbors import KernelDensity

from vae.explore.clusters import NOISE, ClusterConfig, find_clusters
from vae.explore.density import SHARES, at, density, level_density, scott_bandwidth


def blobs(n: int, seed: int = 0, k: int = 6, d: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points around ``k`` centres in ``d`` dimensions, and which centre each came from."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 8
    y = rng.integers(0, k, n)
    return centres[y] + rng.normal(size=(n, d)) * (0.5 + y[:, None] * 0.15), y


def partition(labels: np.ndarray) -> set[frozenset[int]]:
    """The clusters as sets of members (noise left out): equal partitions whatever the numbering."""
    return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels) if c != NOISE}


@pytest.mark.parametrize("seed, selection", [(0, "leaf"), (1, "leaf"), (0, "eom")])
def test_the_clusters_are_scikit_learns_on_the_same_points(seed, selection):
    x, y = blobs(3000, seed)
    cfg = ClusterConfig(selection=selection)
    got = find_clusters(x, x, y, cfg)
    ref = HDBSCAN(min_cluster_size=cfg.min_cluster_size(len(x)), min_samples=cfg.min_samples,
                  cluster_selection_method=selection, copy=True).fit(x)
    assert got.exact and got.fitted == len(x)
    assert partition(got.labels) == partition(ref.labels_)
    np.testing.assert_array_equal(got.labels == NOISE, ref.labels_ == NOISE)
    np.testing.assert_allclose(got.probabilities, ref.probabilities_)
    sizes = [c.size for c in got.clusters]
    assert sizes == sorted(sizes, reverse=True) and sizes == [int((got.labels == c.id).sum()) for c in got.clusters]
    for c in got.clusters:
        members = np.flatnonzero(got.labels == c.id)
        counts = np.bincount(y[members])
        assert (c.majority, c.share) == (int(counts.argmax()), counts.max() / len(members))
        assert got.labels[c.typical] == c.id and got.probabilities[c.typical] == got.probabilities[members].max()
        assert c.centre == tuple(x[c.typical])


def test_the_codes_can_be_clustered_and_labelled_on_the_map():
    mu, y = blobs(2000, 3, d=8)
    coords = mu[:, :2] * 0.5 + 1.0  # a stand-in map
    cfg = ClusterConfig(space="latent")
    got = find_clusters(mu, coords, y, cfg)
    ref = cfg.hdbscan(len(mu)).fit(mu)
    assert partition(got.labels) == partition(ref.labels_)
    assert all(c.centre == tuple(coords[c.typical]) for c in got.clusters)


def test_without_labels_a_cluster_is_named_by_its_typical_image():
    x, _ = blobs(1500, 2)
    got = find_clusters(x, x, None)
    assert got.clusters and all(c.majority is None and c.share is None for c in got.clusters)


def test_above_max_fit_a_sample_is_fitted_and_the_rest_join_their_nearest():
    x, y = blobs(4000, 4)
    cfg = ClusterConfig(max_fit=1000)
    got = find_clusters(x, x, y, cfg)
    assert not got.exact and got.fitted == 1000
    fitted = np.sort(np.random.default_rng(cfg.seed).choice(len(x), 1000, replace=False))
    ref = HDBSCAN(min_cluster_size=cfg.min_cluster_size(1000), min_samples=round(cfg.min_samples * 1000 / 4000),
                  cluster_selection_method=cfg.selection, copy=True).fit(x[fitted])
    assert partition(got.labels[fitted]) == partition(ref.labels_)
    rest = np.setdiff1d(np.arange(len(x)), fitted)
    near = fitted[np.argmin(((x[rest, None] - x[None, fitted]) ** 2).sum(-1), axis=1)]  # brute force
    np.testing.assert_array_equal(got.labels[rest], got.labels[near])


@pytest.mark.parametrize("bad", [dict(space="pixels"), dict(min_share=0.0), dict(min_size=1), dict(max_fit=10),
                                 dict(selection="top")])
def test_a_bad_setting_is_named(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        ClusterConfig(**bad)


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match="same N images"):
        find_clusters(np.zeros((10, 2)), np.zeros((9, 2)))


# -- density ---------------------------------------------------------------------------------------
def direct_kde(points: np.ndarray, xs: np.ndarray, ys: np.ndarray, h: tuple[float, float]) -> np.ndarray:
    """(G, G) [y, x] the Gaussian KDE with bandwidths h evaluated directly at every node (scikit-learn)."""
    scale = np.array(h)
    kde = KernelDensity(bandwidth=1.0, kernel="gaussian", algorithm="kd_tree", rtol=0, atol=0).fit(points / scale)
    gx, gy = np.meshgrid(xs, ys)
    nodes = np.c_[gx.ravel(), gy.ravel()] / scale
    return np.exp(kde.score_samples(nodes)).reshape(len(ys), len(xs)) / (h[0] * h[1])


@pytest.mark.parametrize("n", [500, 5000])
def test_the_binned_density_is_the_direct_kde(n):
    x, _ = blobs(n, 5)
    d = density(x, grid=96)
    assert d.bandwidth == scott_bandwidth(x)
    ref = direct_kde(x, d.x, d.y, d.bandwidth)
    err = np.abs(d.z - ref).max() / ref.max()
    assert err < 0.01, f"binned KDE off by {err:.2%} of the peak"
    cell = (d.x[1] - d.x[0]) * (d.y[1] - d.y[0])
    assert d.z.sum() * cell == pytest.approx(1.0, abs=1e-3)


def test_the_contours_enclose_their_share_of_the_points():
    x, _ = blobs(4000, 6)
    d = density(x)
    here = at(d, x)
    for share in SHARES:
        level = level_density(d, x, share)
        assert (here >= level).mean() == pytest.approx(share, abs=2 / len(x))
        # the grid's "enclosed" share at nodes on that level
        near = np.abs(d.z - level) < 0.02 * level
        if near.any():
            assert np.abs(d.enclosed[near] - share).max() < 0.05


def test_density_refuses_bad_input():
    with pytest.raises(ValueError, match="shape"):
        density(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="grid"):
        density(np.zeros((5, 2)) + np.arange(5)[:, None], grid=4)


def test_labels_are_placed_largest_first_in_view_and_apart():
    from vae.explore.clusters import place_labels

    boxes = [(50, 50, 20, 8), (60, 55, 20, 8), (150, 50, 20, 8), (195, 50, 20, 8), (100, 90, 20, 8)]
    # the 2nd overlaps the 1st; the 4th sticks out of a 200-px view; the 5th is clear
    assert place_labels(np.array(boxes), 200, 100) == [0, 2, 4]
    assert place_labels(np.array(boxes), 300, 100) == [0, 2, 3, 4]
    assert place_labels(np.zeros((0, 4)), 100, 100) == []
