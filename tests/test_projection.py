"""Projections and the fast maps: compared against the data and sklearn's trustworthiness."""

import numpy as np
import pytest

from vae.cache import load_arrays, save_arrays
from vae.config import ConfigError
from vae.projection import LatentMap, ProjectionConfig, build_latent_map, fit_projection, trustworthiness


@pytest.fixture(scope="module")
def codes_and_labels():
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=1200, n_features=8, centers=6, cluster_std=1.0, random_state=0)
    return x.astype(np.float32), y


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_projection_preserves_neighbourhoods(codes_and_labels, method):
    codes, _ = codes_and_labels
    coords, _ = fit_projection(codes, ProjectionConfig(method=method))
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


def test_fast_maps_agree_with_the_data(codes_and_labels):
    codes, _ = codes_and_labels
    coords, _ = fit_projection(codes, ProjectionConfig(method="tsne"))
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
