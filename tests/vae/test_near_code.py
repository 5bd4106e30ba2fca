"""vae.explore.neighbours.NeighbourIndex.near_code: the nearest images of a code from outside the set (an
upload's or a drawing's μ, "find images like this one") against NumPy's brute force and scikit-learn's cosine
distances."""

from __future__ import annotations

import numpy as np
import pytest

from vae.explore.neighbours import NeighbourIndex


def brute(mu: np.ndarray, z: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The whole row of distances from z to every code, argsorted: (indices, distances)."""
    x = np.asarray(mu, np.float64)
    if metric == "cosine":
        from sklearn.metrics.pairwise import cosine_distances

        d = cosine_distances(np.asarray(z, np.float64)[None], x)[0]
    else:
        d = np.sqrt(((x - np.asarray(z, np.float64)) ** 2).sum(1))
    order = np.argsort(d, kind="stable")[:k]
    return order, d[order]


@pytest.mark.parametrize("dim", [2, 16, 64])  # 2: a 2-D model's codes (ExactKnn's tree)
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_the_neighbours_of_a_new_code_match_brute_force(dim, metric):
    rng = np.random.default_rng(dim)
    mu = rng.standard_normal((700, dim)).astype(np.float32)
    index = NeighbourIndex(mu)
    queries = [rng.standard_normal(dim) * s for s in (0.3, 1.0, 3.0)] + [mu[5].astype(np.float64) + 1e-3]
    for z in queries:
        for k in (1, 8, 30):
            got = index.near_code(z, k, metric)
            want_idx, want_d = brute(mu, z, k, metric)
            assert len(got) == k
            np.testing.assert_allclose(got.distances, want_d, rtol=1e-6, atol=1e-6)
            tie = np.isclose(want_d, want_d[-1], rtol=1e-6, atol=1e-6)  # the last place may be tied
            assert set(got.indices[~tie]) == set(want_idx[~tie]), (got.indices, want_idx)


def test_a_code_of_the_set_finds_itself_first():
    """Unlike NeighbourIndex.latent (the image itself left out), a code from outside keeps every image."""
    mu = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32)
    got = NeighbourIndex(mu).near_code(mu[42], 5)
    assert got.indices[0] == 42 and got.distances[0] == pytest.approx(0.0, abs=1e-6)


def test_k_larger_than_the_set_gives_every_image():
    mu = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    got = NeighbourIndex(mu).near_code(np.zeros(4), 50)
    assert sorted(got.indices.tolist()) == list(range(6))


@pytest.mark.parametrize(
    "z, k, metric, words",
    [
        (np.zeros(3), 5, "euclidean", "code of 4 finite numbers"),
        (np.array([0.0, np.nan, 0.0, 0.0]), 5, "euclidean", "finite"),
        (np.zeros(4), 0, "euclidean", "k >= 1"),
        (np.zeros(4), 5, "manhattan", "is not one of euclidean, cosine"),
    ],
)
def test_a_bad_query_is_named(z, k, metric, words):
    mu = np.random.default_rng(2).standard_normal((20, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=words):
        NeighbourIndex(mu).near_code(z, k, metric)
