"""vae.baselines.compare: sharpness, Fréchet distance, class coverage and prior coverage against references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.ndimage import gaussian_filter

from vae.baselines.compare import (
    aggregate_kl,
    class_coverage,
    compare_generators,
    frechet_distance,
    gaussian_frechet,
    nearest_distances,
    prior_gap,
    prior_holes,
    sharpness,
)


def scipy_frechet(mu1, cov1, mu2, cov2) -> float:
    """The textbook formula with scipy's general matrix square root (as pytorch-fid computes it)."""
    covmean = scipy.linalg.sqrtm(cov1 @ cov2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * covmean))


def test_frechet_of_a_set_with_itself_is_zero_and_grows_with_noise():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 8)) @ rng.normal(size=(8, 8))
    assert abs(frechet_distance(a, a)) < 1e-6
    fds = [frechet_distance(a, a + rng.normal(scale=s, size=a.shape)) for s in (0.1, 0.5, 1.0, 2.0)]
    assert all(x < y for x, y in zip(fds, fds[1:], strict=False)), fds


def test_frechet_matches_scipy_on_random_covariances():
    rng = np.random.default_rng(1)
    for _ in range(5):
        a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
        c1, c2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
        m1, m2 = rng.normal(size=6), rng.normal(size=6)
        assert gaussian_frechet(m1, c1, m2, c2) == pytest.approx(scipy_frechet(m1, c1, m2, c2), rel=1e-6)


def test_frechet_of_two_diagonal_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(2)
    m1, m2 = np.array([0.0, 1.0, -1.0]), np.array([0.5, 1.0, 0.0])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([1.5, 1.0, 0.5])
    exact = np.sum((m1 - m2) ** 2) + np.sum((s1 - s2) ** 2)  # W2² of diagonal Gaussians
    a = m1 + s1 * rng.normal(size=(200_000, 3))
    b = m2 + s2 * rng.normal(size=(200_000, 3))
    assert frechet_distance(a, b) == pytest.approx(exact, abs=0.03)


def test_frechet_needs_two_vectors():
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_sharpness_of_an_edge_a_flat_image_and_a_blur():
    edge = np.zeros((1, 1, 10, 10), np.float32)
    edge[..., 5:] = 1.0  # a vertical edge: one jump of 1 per row, on a 9 x 9 grid of differences
    assert sharpness(edge)[0] == pytest.approx(9 / 81)
    assert sharpness(np.full((1, 1, 10, 10), 0.7, np.float32))[0] == 0.0
    img = np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32)
    blurred = gaussian_filter(img, sigma=(0, 0, 1, 1))
    assert sharpness(blurred)[0] < 0.5 * sharpness(img)[0]
    assert sharpness(torch.from_numpy(img))[0] == pytest.approx(sharpness(img)[0])


def test_class_coverage_counts_and_entropy():
    uniform = np.eye(10)[np.arange(1000) % 10]
    c = class_coverage(uniform)
    assert c["counts"] == [100] * 10 and c["entropy_bits"] == pytest.approx(np.log2(10)) and c["min_share"] == 0.1
    one = class_coverage(np.eye(10)[np.zeros(50, int)] * 0.9 + 0.01)
    assert one["counts"][0] == 50 and one["entropy_bits"] == 0.0 and one["min_share"] == 0.0
    assert one["confidence"] == pytest.approx(0.91)


def test_nearest_distances_match_brute_force():
    rng = np.random.default_rng(3)
    q, p = rng.normal(size=(50, 4)), rng.normal(size=(300, 4))
    brute = np.sqrt(((q[:, None] - p[None]) ** 2).sum(-1)).min(1)
    assert np.allclose(nearest_distances(q, p, batch=7), brute, atol=1e-5)


def test_prior_gap_is_one_for_prior_codes_and_large_for_a_shrunken_cloud():
    rng = np.random.default_rng(4)
    like_prior = rng.normal(size=(8000, 4)).astype(np.float32)
    g = prior_gap(like_prior, n=1000, seed=1)
    assert 0.7 < g["ratio"] < 1.4 and g["far_share"] < 0.15
    shrunk = prior_gap(like_prior * 0.1, n=1000, seed=1)
    assert shrunk["ratio"] > 5 and shrunk["far_share"] > 0.9


def test_prior_holes_against_scipy_densities():
    from scipy.stats import multivariate_normal

    from vae.explore.latent import prior_samples

    rng = np.random.default_rng(6)
    mu, logvar = rng.normal(size=(3, 2)), rng.normal(scale=0.3, size=(3, 2))
    z = prior_samples(50, 2, seed=2).astype(np.float64)
    q = np.mean([multivariate_normal(mu[i], np.diag(np.exp(logvar[i]))).pdf(z) for i in range(3)], axis=0)
    p = multivariate_normal(np.zeros(2), np.eye(2)).pdf(z)
    gap = np.log(p) - np.log(q)
    r = prior_holes(mu, logvar, n=50, seed=2, batch=7)
    assert r["kl"] == pytest.approx(gap.mean(), rel=1e-9) and r["hole_share"] == pytest.approx((gap > np.log(100)).mean())


def test_prior_holes_match_the_direct_sum_for_narrow_posteriors_in_16_d():
    """The matrix-product form of the squared distances against the direct (z - mu)^2 / var sum, where
    it could lose digits: an autoencoder-like sigma of 0.01 and codes far from the origin."""
    from scipy.special import logsumexp

    from vae.explore.latent import prior_samples
    from vae.model import LOG_2PI

    rng = np.random.default_rng(7)
    mu, logvar = rng.normal(scale=3.0, size=(400, 16)), np.log(1e-4) + rng.normal(scale=0.5, size=(400, 16))
    z = prior_samples(60, 16, seed=1).astype(np.float64)
    sq = ((z[:, None, :] - mu[None]) ** 2 / np.exp(logvar)[None]).sum(-1)
    log_q = logsumexp(-0.5 * (logvar.sum(1) + 16 * LOG_2PI)[None] - 0.5 * sq, axis=1) - np.log(len(mu))
    gap = -0.5 * ((z**2).sum(1) + 16 * LOG_2PI) - log_q
    r = prior_holes(mu, logvar, n=60, seed=1)
    assert r["kl"] == pytest.approx(gap.mean(), rel=1e-9) and r["hole_share"] == (gap > np.log(100)).mean()


def test_prior_holes_are_few_when_the_posteriors_cover_the_prior_and_many_for_points():
    rng = np.random.default_rng(7)
    mu = rng.normal(scale=np.sqrt(0.4), size=(5000, 3))
    covered = prior_holes(mu, np.full_like(mu, np.log(0.6)), n=500)
    points = prior_holes(mu, np.full_like(mu, np.log(1e-4)), n=500)  # an autoencoder: sigma ~ 0
    assert abs(covered["kl"]) < 0.3 and covered["hole_share"] < 0.05, covered
    assert points["kl"] > 100 and points["hole_share"] > 0.9, points


def test_aggregate_kl_is_zero_when_the_aggregate_matches_the_prior():
    rng = np.random.default_rng(5)
    mu = rng.normal(scale=np.sqrt(0.4), size=(100_000, 3))
    logvar = np.full_like(mu, np.log(0.6))  # Var(mu) + E[sigma^2] = 1 per dimension
    assert abs(aggregate_kl(mu, logvar)) < 0.01
    assert aggregate_kl(mu * 5, logvar) > 10


def test_compare_generators_reports_every_set():
    from vae.baselines.classifier import Classifier, ClassifierConfig
    from vae.baselines.gan import GanConfig, Generator
    from vae.config import ModelConfig
    from vae.model import VAE

    torch.manual_seed(0)
    vae = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(16,))).eval()
    gan = Generator(GanConfig(image_shape=(1, 8, 8), noise_dim=4, channels=(8,))).eval()
    clf = Classifier(ClassifierConfig(image_shape=(1, 8, 8), channels=(4,), feature_dim=6)).eval()
    real = torch.rand(200, 1, 8, 8)
    r = compare_generators(vae, gan, clf, real, n=100)
    assert r["n"] == 100 and set(r["sets"]) == {"test images", "VAE samples", "VAE reconstructions", "GAN samples"}
    for s in r["sets"].values():
        assert sum(s["counts"]) == 100 and s["frechet"] >= -1e-6 and s["sharpness"] >= 0
    assert set(r["seconds_to_generate"]) == {"VAE samples", "GAN samples"}
