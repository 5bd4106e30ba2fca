"""vae.explore.spaces: two latent spaces of the same images, against scipy's and scikit-learn's references."""

from __future__ import annotations

import numpy as np
import pytest

from vae.explore.spaces import (
    PairError,
    Space,
    SpacesConfig,
    check_pair,
    compare_spaces,
    knn_accuracy,
    neighbour_lists,
    procrustes,
    shared_neighbours,
    trustworthiness,
)


def _blobs(n=400, d=6, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = rng.normal(0, 3, (classes, d))
    return (centres[labels] + rng.normal(0, 1, (n, d))).astype(np.float32), labels


def _space(name, mu, coords, labels, seed=0, elbo=True):
    rng = np.random.default_rng(seed)
    return Space(name, mu, coords, labels, rng.random(len(mu)).astype(np.float32),
                 rng.normal(240, 5, len(mu)) if elbo else None)


# -- Procrustes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mirror", [False, True])
def test_procrustes_matches_scipy(mirror):
    from scipy.spatial import procrustes as scipy_procrustes

    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 2)) * [3, 1] + [5, -2]
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    b = (a @ rot) * 0.3 + [10, 4] + rng.normal(0, 0.2, a.shape)
    if mirror:
        b[:, 0] *= -1
    std_a, std_b, disparity = scipy_procrustes(a, b)
    al = procrustes(a, b)
    assert al.disparity == pytest.approx(disparity, rel=1e-9, abs=1e-12)
    mean_a, norm_a = a.mean(0), np.linalg.norm(a - a.mean(0))
    np.testing.assert_allclose((al.aligned - mean_a) / norm_a, std_b, atol=1e-6)
    np.testing.assert_allclose(b @ al.rotation * al.scale + al.translation, al.aligned, atol=1e-4)
    assert al.mirrored == mirror
    np.testing.assert_allclose(al.rotation @ al.rotation.T, np.eye(2), atol=1e-12)


def test_procrustes_of_a_map_onto_itself_is_exact():
    a = np.random.default_rng(2).normal(size=(50, 2))
    al = procrustes(a, a * 4 + 1)
    assert al.disparity == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(al.aligned, a, atol=1e-5)


def test_procrustes_refuses_bad_maps_by_their_shapes():
    with pytest.raises(ValueError, match=r"\(5, 2\) and \(4, 2\)"):
        procrustes(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="all at one place"):
        procrustes(np.ones((5, 2)), np.random.default_rng(0).normal(size=(5, 2)))


# -- neighbours -------------------------------------------------------------------------------------
def _brute_neighbours(x, k):
    d = ((x[:, None].astype(np.float64) - x[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, 1, kind="stable")[:, :k]


@pytest.mark.parametrize("d", [2, 16])
def test_neighbour_lists_match_a_brute_force_search(d):
    x = np.random.default_rng(3).normal(size=(500, d)).astype(np.float32)
    np.testing.assert_array_equal(neighbour_lists(x, 7), _brute_neighbours(x, 7))


def test_shared_neighbours_match_a_brute_force_count():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(400, 16)).astype(np.float32), rng.normal(size=(400, 8)).astype(np.float32)
    b[:, :4] = a[:, :4] * 3  # half-related spaces: every count from 0 to k is possible
    k = 10
    got = shared_neighbours(neighbour_lists(a, k), neighbour_lists(b, k))
    na, nb = _brute_neighbours(a, k), _brute_neighbours(b, k)
    want = np.array([len(set(na[i]) & set(nb[i])) for i in range(len(a))])
    np.testing.assert_array_equal(got, want)
    assert 0 < got.mean() < k


def test_neighbour_lists_refuse_k_as_large_as_the_set():
    with pytest.raises(ValueError, match="k must be from 1 to 9"):
        neighbour_lists(np.zeros((10, 3), np.float32), 10)


def test_knn_accuracy_matches_scikit_learn_leave_one_out():
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    x, y = _blobs(n=150, d=5, seed=5)
    x += np.random.default_rng(6).normal(0, 2.5, x.shape).astype(np.float32)  # overlapping classes: errors
    for k in (4, 5):  # 4: ties, which both break towards the lowest class
        want = (cross_val_predict(KNeighborsClassifier(k, algorithm="brute"), x, y, cv=LeaveOneOut()) == y).mean()
        assert knn_accuracy(neighbour_lists(x, k), y) == pytest.approx(want)
    assert 0.3 < want < 1.0


# -- trustworthiness --------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [5, 10])
def test_trustworthiness_matches_scikit_learn(k):
    from sklearn.decomposition import PCA
    from sklearn.manifold import trustworthiness as sk

    x, _ = _blobs(n=400, d=10, seed=7)
    for coords in (PCA(2).fit_transform(x), np.random.default_rng(8).normal(size=(400, 2))):
        assert trustworthiness(x, coords, k) == pytest.approx(sk(x, coords, n_neighbors=k), abs=2e-6)


def test_trustworthiness_refuses_too_many_neighbours():
    with pytest.raises(ValueError, match="k < N / 2, got k = 10 for 15 points"):
        trustworthiness(np.zeros((15, 3)), np.zeros((15, 2)), 10)


# -- the comparison ---------------------------------------------------------------------------------
def test_compare_spaces_gathers_the_references():
    from sklearn.manifold import trustworthiness as sk

    mu_a, y = _blobs(n=300, d=8, seed=9)
    rng = np.random.default_rng(10)
    mu_b = np.concatenate([mu_a[:, :3] * 2, rng.normal(0, 0.001, (300, 3))], 1).astype(np.float32)  # 3 dims in use
    map_a, map_b = mu_a[:, :2].copy(), (mu_a[:, :2] @ [[0, 1], [-1, 0]]) * 5
    a, b = _space("A", mu_a, map_a, y), _space("B", mu_b, map_b, y, seed=1, elbo=False)
    cmp = compare_spaces(a, b, SpacesConfig(neighbours=8, knn_k=5))
    assert cmp.alignment.disparity == pytest.approx(0, abs=1e-9), "B's map is A's, turned and scaled"
    np.testing.assert_allclose(cmp.alignment.aligned, map_a, atol=1e-4)
    na, nb = _brute_neighbours(mu_a, 8), _brute_neighbours(mu_b, 8)
    np.testing.assert_array_equal(cmp.shared, [len(set(na[i]) & set(nb[i])) for i in range(300)])
    assert cmp.shared_histogram().sum() == 300 and len(cmp.shared_histogram()) == 9
    assert cmp.chance == pytest.approx(64 / 299)
    assert cmp.a.active_units == 8 and cmp.b.active_units == 3
    assert cmp.a.latent_dim == 8 and cmp.b.latent_dim == 6
    assert cmp.a.neg_elbo == pytest.approx(a.neg_elbo.mean()) and cmp.b.neg_elbo is None
    assert cmp.a.recon_mse == pytest.approx(a.mse.mean())
    assert cmp.a.trustworthiness == pytest.approx(sk(mu_a, map_a, n_neighbors=8), abs=2e-6)
    assert cmp.b.trustworthiness == pytest.approx(sk(mu_b, map_b, n_neighbors=8), abs=2e-6)
    assert cmp.a.knn_accuracy == pytest.approx(knn_accuracy(na[:, :5], y))
    assert set(cmp.seconds) == {"neighbours", "procrustes", "summaries"}


def test_compare_spaces_refuses_different_images_by_name():
    mu, y = _blobs(n=60, seed=11)
    a = _space("fashion-mnist", mu, mu[:, :2], y)
    with pytest.raises(PairError, match="fashion-mnist encodes 60 images and other 59"):
        compare_spaces(a, _space("other", mu[:59], mu[:59, :2], y[:59]))
    y2 = y.copy()
    y2[7] = (y2[7] + 1) % 4
    with pytest.raises(PairError, match="labels differ at image 7"):
        compare_spaces(a, _space("other", mu, mu[:, :2], y2))
    bad = mu.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="other's mu holds NaN"):
        compare_spaces(a, _space("other", bad, mu[:, :2], y))


def test_check_pair_names_both_checkpoints_in_one_message():
    check_pair("fashion-mnist", "fashion-mnist", (1, 28, 28), "fashion-mnist-ae", "fashion-mnist", [1, 28, 28])
    with pytest.raises(PairError, match=r"fashion-mnist \(fashion-mnist, 1×28×28 images\) and digits \(digits, "
                                        r"1×8×8 images\).*same data set"):
        check_pair("fashion-mnist", "fashion-mnist", (1, 28, 28), "digits", "digits", (1, 8, 8))


@pytest.mark.parametrize("cfg, match", [
    (SpacesConfig(neighbours=0), "neighbours must be a whole number >= 1, got 0"),
    (SpacesConfig(knn_k=2.5), "knn_k must be a whole number >= 1, got 2.5"),
    (SpacesConfig(active_threshold=-1), "active_threshold must be >= 0, got -1"),
    (SpacesConfig(neighbours=30), "less than half the 60 images compared"),
])
def test_config_names_the_bad_value(cfg, match):
    mu, y = _blobs(n=60, seed=12)
    with pytest.raises(ValueError, match=match):
        compare_spaces(_space("A", mu, mu[:, :2], y), _space("B", mu, mu[:, 1:3], y), cfg)


# -- the figure both maps are drawn with ------------------------------------------------------------
def test_select_points_selects_exactly_the_given_images_in_every_class_trace():
    from vae.explore.figures import KIND_DATA, UNSELECTED_GREY, latent_map, select_points

    mu, y = _blobs(n=200, d=2, seed=13)
    want = [0, 7, 55, 199, 120]
    fig = select_points(latent_map(mu, y, ["a", "b", "c", "d"], highlight=[7]), want)
    got = []
    for t in fig.data:
        if t.customdata is not None and len(t.customdata) and t.customdata[0][0] == KIND_DATA:
            got += [t.customdata[j][1] for j in t.selectedpoints]
            assert t.unselected.marker.color == UNSELECTED_GREY
    assert sorted(got) == sorted(want)
    nothing = select_points(latent_map(mu, y, ["a", "b", "c", "d"]), [])
    assert all(list(t.selectedpoints) == [] for t in nothing.data), "an empty selection greys every point"
    free = select_points(latent_map(mu, y, ["a", "b", "c", "d"]), None)
    assert all(t.selectedpoints is None for t in free.data), "None leaves the selection to the browser"


def test_point_ref_reads_customdata_as_plotly_sends_it():
    from vae.explore.figures import point_ref

    assert point_ref({"customdata": [0, 17]}) == (0, 17)
    assert point_ref({"customdata": {"0": 1, "1": 5}}) == (1, 5), "a typed array arrives as a dict"
    assert point_ref({"x": 1}) is None and point_ref({"customdata": [0]}) is None and point_ref(None) is None
