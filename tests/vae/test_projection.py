"""Projections and the fast maps: compared against the data and sklearn's trustworthiness."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vae.data.cache import load_arrays, save_arrays
from vae.errors import ConfigError
from vae.explore.projection import (
    LatentMap,
    ProjectionConfig,
    build_latent_map,
    fit_projection,
    trustworthiness,
)


@pytest.fixture(scope="module")
def codes_and_labels():
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=1200, n_features=8, centers=6, cluster_std=1.0, random_state=0)
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(codes_and_labels):
    """fit_projection of the module's codes, once per method: two tests read the same t-SNE fit."""
    codes, _ = codes_and_labels
    fits = {}

    def fit(method: str):
        if method not in fits:
            fits[method] = fit_projection(codes, ProjectionConfig(method=method))
        return fits[method]

    return fit


@pytest.mark.parametrize("method", ["pca", pytest.param("tsne", marks=pytest.mark.slow),
                                    pytest.param("umap", marks=pytest.mark.slow)])
def test_projection_preserves_neighbourhoods(codes_and_labels, fitted, method):
    codes, _ = codes_and_labels
    coords, _ = fitted(method)
    assert coords.shape == (len(codes), 2) and np.isfinite(coords).all()
    assert trustworthiness(codes, coords, k=10) >= (0.8 if method == "pca" else 0.9)


def test_projection_config_rules():
    with pytest.raises(ConfigError, match="method must be one of"):
        ProjectionConfig(method="mds").validate()
    with pytest.raises(ConfigError, match="needs latent_dim 2, got 16"):
        ProjectionConfig(method="latent").validate(latent_dim=16)
    with pytest.raises(ConfigError, match="n_neighbors must be between 2 and 200"):
        ProjectionConfig(n_neighbors=1).validate()
    assert ProjectionConfig().key() == "umap-nn15-md0.1-s42"


@pytest.mark.slow
def test_fast_maps_agree_with_the_data(codes_and_labels, fitted):
    codes, _ = codes_and_labels
    coords, _ = fitted("tsne")
    lm = LatentMap(codes, coords)
    # a point's own 2-D position maps back to its own latent code, and vice versa
    assert np.allclose(lm.to_latent(coords[:50]), codes[:50], atol=1e-5)
    assert np.allclose(lm.to_map(codes[:50]), coords[:50], atol=1e-5)
    # a slightly perturbed code lands near its own position (within a few neighbour gaps)
    rng = np.random.default_rng(0)
    z = codes[:200] + rng.normal(0, 0.05, codes[:200].shape).astype(np.float32)
    err = np.linalg.norm(lm.to_map(z) - coords[:200], axis=1)
    assert np.median(err) < 3 * lm.spacing
    # a spot between two neighbours decodes to a code near theirs
    mid = (coords[0] + coords[lm.nearest(coords[:1], 2)[1][0, 1]]) / 2
    z_mid = lm.to_latent(mid[None])[0]
    assert np.linalg.norm(z_mid - codes[0]) < np.linalg.norm(codes - codes[0], axis=1).mean()


def test_describe_tells_inside_from_outside(codes_and_labels):
    codes, _ = codes_and_labels
    coords, _ = fit_projection(codes, ProjectionConfig(method="pca"))
    lm = LatentMap(codes, coords)
    assert lm.describe(coords[5])["verdict"] == "inside the data"
    far = coords.max(0) + 100 * (coords.max(0) - coords.min(0))
    assert lm.describe(far)["verdict"].startswith("extrapolating")


def test_exact_maps_for_pca_and_2d_latent(codes_and_labels):
    codes, _ = codes_and_labels
    coords, pca = fit_projection(codes, ProjectionConfig(method="pca"))
    lm = build_latent_map(codes, coords, "pca", pca)
    assert np.allclose(lm.to_map(codes[:10]), coords[:10], atol=1e-4)
    z2 = codes[:, :2]
    ident = build_latent_map(z2, z2, "latent")
    assert np.array_equal(ident.to_latent(np.array([[0.3, -1.0]])), np.array([[0.3, -1.0]], np.float32))


def test_cache_detects_corruption_and_stale_keys(tmp_path):
    arrays = {"coords": np.arange(10, dtype=np.float32).reshape(5, 2)}
    path = save_arrays(tmp_path, "proj-abc", arrays)
    assert np.array_equal(load_arrays(tmp_path, "proj-abc")["coords"], arrays["coords"])
    assert load_arrays(tmp_path, "proj-other") is None
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_arrays(tmp_path, "proj-abc") is None  # detected and discarded
    assert not path.exists()
    save_arrays(tmp_path, "proj-abc", arrays)
    path.write_bytes(b"not a zip")
    assert load_arrays(tmp_path, "proj-abc") is None
    assert save_arrays(tmp_path, "../../escape", arrays).parent == tmp_path


@pytest.mark.parametrize("n,dim", [(10_000, 16), (2_000, 2), (300, 8), (5, 16), (37, 32), (700, 5), (3_000, 64)])
def test_exact_knn_matches_sklearn(n, dim):
    """The fast neighbour search returns sklearn's neighbours and distances, one query or many:
    near the data, far outside it (the quantised query is clipped), with an outlier that
    coarsens the quantisation, with duplicates, and in dimensions that are not a multiple of 8."""
    from sklearn.neighbors import NearestNeighbors

    from vae.explore.projection import ExactKnn

    rng = np.random.default_rng(n + dim)
    pts = rng.standard_normal((n, dim)).astype(np.float32)
    pts[1] = pts[0]  # a duplicate point
    if n > 100:
        pts[50] *= 40  # an outlier: 40x coarser int8 steps for everyone
    near = pts[rng.integers(0, n, 20)] + 0.05 * rng.standard_normal((20, dim)).astype(np.float32)
    queries = np.concatenate([rng.standard_normal((20, dim)).astype(np.float32), near,
                              1e5 * rng.standard_normal((3, dim)).astype(np.float32), pts[:3]])
    index = ExactKnn(pts)
    for k in sorted({1, min(n, 8), min(n, 20)}):
        ref = NearestNeighbors(n_neighbors=k).fit(pts)
        for q in (queries, queries[:3], queries[:1], queries[-1:]):
            dist, idx = index.query(q, k)
            ref_dist, ref_idx = ref.kneighbors(q)
            np.testing.assert_allclose(dist, ref_dist, atol=1e-4)
            assert (np.diff(dist, axis=1) >= 0).all()
            # the same neighbours, except where two are equally far (then either one is right)
            ref_of_ours = np.linalg.norm(pts[ref_idx] - q[:, None, :], axis=2)
            assert ((idx == ref_idx) | np.isclose(ref_of_ours, dist, rtol=1e-5)).all()
            if q is queries[-1:]:
                assert dist[0, 0] == 0.0 and idx[0, 0] == 2  # a data point finds itself at distance 0


def test_minimap_draws_points_and_marker():
    from vae.explore.minimap import MiniMap

    coords = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    mm = MiniMap(coords, np.array([0, 1, 2, 3]), size=300)
    corners = mm.to_pixels(coords)
    assert corners[:, 0].min() > 0 and corners[:, 0].max() < 299
    assert corners[1, 1] < corners[0, 1]  # y points up on the map, down in the image
    img = mm.render([0.5, 0.5], trail=[[0.0, 0.0], [0.5, 0.5]], start=[0.0, 0.0])
    assert img.shape == (300, 300, 3) and img.dtype == np.uint8
    cx, cy = mm.to_pixels([[0.5, 0.5]])[0].round().astype(int)
    assert tuple(img[cy, cx]) == (214, 39, 40)  # the red star on the current position
    bg = np.asarray(mm.background)
    assert tuple(bg[cy, cx]) == (255, 255, 255)  # ... drawn on a copy: the background is untouched
    x0, y0 = corners[0].round().astype(int)
    assert bg[y0, x0].min() < 255  # a data point is drawn
    with pytest.raises(ValueError, match="coordinates"):
        MiniMap(np.zeros((3, 3)), np.zeros(3))


def test_knn_kernels_use_vnni_only_where_the_cpu_has_it():
    """The int8 products compile to AVX-512 VNNI (vpdpbusd) exactly where the CPU numba
    compiles for has it, and to plain vector code elsewhere."""
    from numba import njit
    from numba.core.registry import cpu_target

    from vae.explore import knn

    kernels = knn._kernels()
    fresh = njit(kernels._scores.py_func)  # not from the disk cache: its machine code can be read
    rng = np.random.default_rng(0)
    xv, nq, *_ = knn.ExactKnn(rng.standard_normal((300, 6)).astype(np.float32))._index
    acc, block_min = np.empty(len(nq), np.int32), np.empty(len(nq) // knn.BLOCK, np.int32)
    yb = rng.integers(0, 256, 8).astype(np.uint8)  # the query's bytes ŷ + 128, four to a word
    fresh(xv, nq, yb.view(np.int32), acc, block_min)
    # the int8 points, out of the kernels' layout (block, group of 4 dimensions, point, 4 values)
    x = xv.reshape(len(block_min), -1, knn.BLOCK, 4).transpose(0, 2, 1, 3).reshape(len(nq), -1).astype(np.int64)
    y = yb.astype(np.int64) - 128
    np.testing.assert_array_equal(acc[:300], (x**2).sum(1)[:300] - 2 * x[:300] @ y)
    np.testing.assert_array_equal(block_min, acc.reshape(len(block_min), -1).min(1))
    asm = fresh.inspect_asm(fresh.signatures[0])
    features = cpu_target.target_context.codegen()._tm_features.split(",")
    assert ("vpdpbusd" in asm) == ("+avx512vnni" in features and "+avx512bw" in features)


HASWELL = "+64bit,+avx,+avx2,+bmi,+bmi2,+cmov,+cx16,+f16c,+fma,+lzcnt,+movbe,+popcnt,+sse,+sse2,+sse3,+sse4.1," \
          "+sse4.2,+ssse3,+xsave"


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64") or "NUMBA_CPU_NAME" in os.environ,
                    reason="compiles the kernels for an x86 CPU without AVX-512")
@pytest.mark.slow
def test_exact_knn_without_vnni(tmp_path):
    """On a CPU without AVX-512 VNNI (here: compiled for a Haswell, AVX2 only, in a fresh process
    with its own numba cache) the search still returns sklearn's neighbours."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": HASWELL}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::test_exact_knn_matches_sklearn",
         f"{__file__}::test_knn_kernels_use_vnni_only_where_the_cpu_has_it"],
        env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0 and "8 passed in" in run.stdout, run.stdout[-4000:] + run.stderr[-2000:]


def test_exact_knn_from_many_threads():
    """One index serves every session's thread: its scratch space is shared, so queries from
    concurrent threads must still get their own answers."""
    from concurrent.futures import ThreadPoolExecutor

    from vae.explore.knn import ExactKnn

    rng = np.random.default_rng(3)
    pts = rng.standard_normal((3_000, 16)).astype(np.float32)
    values = rng.standard_normal((3_000, 2)).astype(np.float32)
    batches = rng.standard_normal((32, 200, 16)).astype(np.float32)  # long calls: they would overlap
    index = ExactKnn(pts)
    alone = [index.weighted_mean(q, values, 8) for q in batches]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: index.weighted_mean(q, values, 8), batches))
    np.testing.assert_array_equal(np.stack(together), np.stack(alone))


def test_knn_warm_up_and_bad_input():
    from vae.explore import knn

    thread = knn.warm_up(background=False)
    assert not thread.is_alive() and knn._KERNELS is not None
    assert knn.warm_up() is thread  # started once per process
    flat = knn.ExactKnn(np.zeros((10, 5), np.float32))  # all points equal: scale 0 must not divide
    dist, idx = flat.query(np.ones((1, 5), np.float32), 3)
    np.testing.assert_allclose(dist, np.sqrt(5.0))
    with pytest.raises(ValueError, match=r"\(M, 5\)"):
        flat.query(np.zeros((1, 4)), 1)
    with pytest.raises(ValueError, match="non-empty"):
        knn.ExactKnn(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="up to 16384 dimensions"):
        knn.ExactKnn(np.zeros((2, 16_385), np.float32))
    with pytest.raises(ValueError, match="NaN or infinity"):
        flat.query(np.full((1, 5), np.nan, np.float32), 1)
    with pytest.raises(ValueError, match="NaN or infinity"):
        flat.weighted_mean(np.array([[0, 0, np.inf, 0, 0]], np.float32), np.zeros((10, 2), np.float32), 3)


def test_numba_cache_falls_back_to_a_temporary_folder(tmp_path, monkeypatch):
    """numba refuses to build cached kernels without a writable cache folder: a read-only
    install (here: a cache path below a plain file) gets the system's temporary folder."""
    import tempfile

    from vae.data.cache import numba_cache_dir

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    path = numba_cache_dir(blocker / "numba")
    assert path == Path(tempfile.gettempdir()) / "vae-explorer-numba" and path.is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(path)


@pytest.mark.slow
def test_umap_kernels_are_in_numbas_disk_cache(fitted):
    """umap-learn and pynndescent declare half their numba functions without cache=True: each new
    process (the app's server, a CLI run) compiled them again. fit_projection switches the cache on."""
    from vae.data.cache import UNCACHEABLE_KERNELS, cache_numba_kernels, uncached_numba_kernels

    fitted("umap")
    import umap.layouts
    import umap.umap_

    uncached = {key for key, _ in uncached_numba_kernels("umap", "pynndescent")}
    assert uncached == UNCACHEABLE_KERNELS, "numba cannot cache those two (it would warn on every compile)"
    assert cache_numba_kernels("umap", "pynndescent") == 0, "switched on once"
    # two that the fit compiled (declared without cache=True) are now in the cache folder
    for fn in (umap.umap_.smooth_knn_dist, umap.layouts._nb_optimize_layout_euclidean_single_epoch):
        assert fn.signatures and Path(fn._cache._cache_file._index_path).is_file(), fn
