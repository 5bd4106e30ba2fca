"""The directions view's library: keys, the directions of each source, their ranking, the traversal grid
(against codes written out in NumPy), class directions (against class means computed by hand), and
analogies (against NumPy arithmetic and a brute-force nearest-neighbour search)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vae.explore.analogies import Term, analogy
from vae.explore.direction_sets import (
    CLASS_STEP,
    DirectionKey,
    find,
    key_of,
    moved,
    name_codes,
    rank,
    shares,
    source_directions,
    traversal_grid,
)
from vae.explore.directions import Direction, NoLinearLayer


@pytest.fixture()
def blobs():
    """Three classes of 5-D codes around known centres."""
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0, 0, 0], [2, 0, 1, 0, 0], [0, -1, 0, 3, 0]], np.float64)
    labels = np.repeat([0, 1, 2], [40, 30, 50])
    mu = (centres[labels] + rng.normal(0, 0.3, (len(labels), 5))).astype(np.float32)
    return mu, labels


def test_keys_round_trip_and_bad_keys_say_the_forms():
    for text in ("latent:3", "pca:0", "sefa:12", "class:7:9"):
        assert str(DirectionKey.parse(text)) == text
    assert DirectionKey.parse("class:7:9").index == (7, 9)
    for bad in ("", "pca", "pca:-1", "class:3:3", "class:1", "tsne:2", "sefa:x"):
        with pytest.raises(ValueError, match="latent:D, pca:K, sefa:K or class:A:B"):
            DirectionKey.parse(bad)


def test_class_direction_is_the_difference_of_class_means(blobs):
    mu, labels = blobs
    names = ["a", "b", "c"]
    (d,) = source_directions("class", mu, labels, class_names=names, pair=(0, 2))
    want = mu[labels == 2].astype(np.float64).mean(0) - mu[labels == 0].astype(np.float64).mean(0)
    np.testing.assert_allclose(d.vector, want, atol=1e-5)
    assert d.effect == pytest.approx(np.linalg.norm(want), rel=1e-5)
    assert d.label == "a → c" and str(key_of(d)) == "class:0:2"
    every = source_directions("class", mu, labels, class_names=names, pair=(1, None))
    assert sorted(x.index for x in every) == [(1, 0), (1, 2)]
    assert [x.effect for x in every] == sorted((x.effect for x in every), reverse=True)
    # from class 0's mean, t = 3 (one class difference) lands on class 2's mean
    start = mu[labels == 0].mean(0)
    end = moved(start, d, np.array([3.0]), limit=100)[0]
    np.testing.assert_allclose(end, mu[labels == 2].mean(0), atol=1e-5)
    with pytest.raises(ValueError, match="no class direction from class 0 to class 5"):
        source_directions("class", mu, labels, class_names=names, pair=(0, 5))


def test_latent_and_pca_sources(blobs):
    mu, labels = blobs
    kl = np.array([0.1, 2.0, 0.5, 1.0, 0.0])
    latent = source_directions("latent", mu, kl=kl)
    assert [d.index for d in latent] == [1, 3, 2, 0, 4]
    np.testing.assert_array_equal(latent[0].vector, np.eye(5)[1])
    pca = source_directions("pca", mu)
    x = mu.astype(np.float64) - mu.mean(0)
    var = np.linalg.eigvalsh(x.T @ x / (len(x) - 1))[::-1]
    np.testing.assert_allclose([d.effect for d in pca], var, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(shares(pca), var / var.sum(), rtol=1e-4, atol=1e-6)
    assert find(pca, DirectionKey("pca", 2)) is pca[2]
    with pytest.raises(ValueError, match="no direction pca:9"):
        find(pca, DirectionKey("pca", 9))
    with pytest.raises(ValueError, match="pass kl of shape"):
        source_directions("latent", mu)
    with pytest.raises(ValueError, match="not one of latent, pca, sefa, class"):
        source_directions("umap", mu)


def test_sefa_source_reads_the_first_linear_layer():
    torch.manual_seed(0)
    model = nn.Module()
    model.decoder = nn.Sequential(nn.Linear(4, 9), nn.ReLU(), nn.Linear(9, 3))
    dirs = source_directions("sefa", np.zeros((3, 4)), model=model)
    a = model.decoder[0].weight.detach().numpy().astype(np.float64)
    values = np.linalg.eigvalsh(a.T @ a)[::-1]
    np.testing.assert_allclose([d.effect for d in dirs], values, rtol=1e-6)
    for d in dirs:  # each is an eigenvector: ‖A v‖² is its eigenvalue
        assert np.square(a @ d.vector).sum() == pytest.approx(d.effect, rel=1e-4)
    model.decoder = nn.Sequential(nn.Conv2d(1, 1, 1))
    with pytest.raises(NoLinearLayer, match="starts with Conv2d"):
        source_directions("sefa", np.zeros((3, 4)), model=model)


def test_traversal_grid_is_exact_against_numpy():
    rng = np.random.default_rng(1)
    start = rng.normal(size=6).astype(np.float32)
    values = np.linspace(-3, 3, 7).astype(np.float32)
    v = rng.normal(size=6).astype(np.float32)
    dirs = [Direction("latent", 4, np.eye(6, dtype=np.float32)[4], 1.0, "z4"),
            Direction("sefa", 0, v, 2.0, "SeFa1"),
            Direction("class", (0, 1), v, 3.0, "a → b")]
    grid = traversal_grid(start, dirs, values, limit=100.0)
    assert grid.shape == (3 * 7, 6) and grid.dtype == np.float32
    want_latent = np.tile(start, (7, 1))
    want_latent[:, 4] = values
    want_sefa = start[None] + values[:, None] * v[None]
    want_class = start[None] + values[:, None] * CLASS_STEP * v[None]
    np.testing.assert_allclose(grid, np.concatenate([want_latent, want_sefa, want_class]), rtol=1e-6, atol=1e-6)
    clipped = traversal_grid(start, dirs[1:2], values, limit=1.0)
    np.testing.assert_allclose(clipped, np.clip(want_sefa, -1, 1), atol=1e-6)
    assert traversal_grid(start, [], values).shape == (0, 6)


def test_rank_by_effect_or_name():
    dirs = [Direction("pca", k, np.zeros(2), e, f"PC{k}") for k, e in enumerate([0.5, 2.0, 1.0])]
    assert rank(dirs, ["b", "c", "a"], "effect") == [1, 2, 0]
    assert rank(dirs, ["b", "C", "a"], "name") == [2, 0, 1]
    assert rank(dirs, ["x", "x", "a"], "name") == [2, 1, 0]  # ties: larger effect first
    with pytest.raises(ValueError, match="pass 'effect' or 'name'"):
        rank(dirs, ["a"] * 3, "size")


def test_name_codes_follow_the_sliders_rule_and_class_members(blobs):
    mu, labels = blobs
    starts = mu[:3]
    lo, hi = name_codes(Direction("latent", 2, np.eye(5)[2], 1.0, "z2"), starts, mu, labels)
    assert (lo[:, 2] == -3).all() and (hi[:, 2] == 3).all()
    v = np.full(5, 0.5, np.float32)
    lo, hi = name_codes(Direction("pca", 0, v, 1.0, "PC1"), starts, mu, labels)
    np.testing.assert_allclose(hi - lo, np.clip(starts + 1.5, -4, 4) - np.clip(starts - 1.5, -4, 4), atol=1e-6)
    (d,) = source_directions("class", mu, labels, class_names=["a", "b", "c"], pair=(1, 0))
    lo, hi = name_codes(d, starts, mu, labels)
    np.testing.assert_allclose(lo, mu[labels == 1][:10], atol=1e-6)
    np.testing.assert_allclose(hi, mu[labels == 1][:10] + d.vector, atol=1e-6)


# -- analogies -----------------------------------------------------------------------------------------
def test_terms_round_trip_and_say_what_is_missing(blobs):
    mu, labels = blobs
    assert str(Term.parse("12")) == "12" and str(Term.parse("mean:2")) == "mean:2"
    for bad in ("", "-1", "mean:", "mean:-2", "x"):
        with pytest.raises(ValueError, match=r"image index \(123\) or a class mean"):
            Term.parse(bad)
    with pytest.raises(ValueError, match="image #500 is outside the explore set: pass 0 to 119"):
        Term("image", 500).code(mu, labels)
    with pytest.raises(ValueError, match="no image of class 7"):
        Term("mean", 7).code(mu, labels)


def test_analogy_arithmetic_and_neighbours_against_brute_force(blobs):
    mu, labels = blobs
    a, b, c = Term("image", 45), Term("mean", 1), Term("mean", 2)
    out = analogy(a, b, c, mu, labels, k=6)
    want = mu[45].astype(np.float64) - mu[labels == 1].astype(np.float64).mean(0) + mu[labels == 2].mean(0)
    np.testing.assert_allclose(out.result, want, atol=1e-5)
    np.testing.assert_allclose(out.codes[0], mu[45])
    dist = np.linalg.norm(mu.astype(np.float64) - want[None], axis=1)
    order = np.argsort(dist, kind="stable")[:6]
    np.testing.assert_array_equal(out.nearest, order)
    np.testing.assert_allclose(out.distances, dist[order], atol=1e-4)
    assert (labels[out.nearest] == 2).all()  # image of class 1, as class 2: lands among class 2
    # images only, in more dimensions than the tree handles (the quantised kernel's path)
    rng = np.random.default_rng(3)
    big = rng.normal(size=(600, 12)).astype(np.float32)
    out = analogy(Term("image", 1), Term("image", 2), Term("image", 3), big, np.zeros(600, int), k=5)
    q = big[1].astype(np.float64) - big[2] + big[3]
    np.testing.assert_array_equal(out.nearest, np.argsort(np.linalg.norm(big - q, axis=1), kind="stable")[:5])
    with pytest.raises(ValueError, match="pass k >= 1"):
        analogy(a, b, c, mu, labels, k=0)
