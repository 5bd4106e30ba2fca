"""Measurements that compare generative models on equal terms, with no human eye.

- :func:`sharpness`: mean gradient magnitude of an image (blurry images score low).
- :func:`frechet_distance`: the Fréchet distance between two sets of feature vectors, each
  summarised by a Gaussian (FID's formula, Heusel et al. 2017; the features here come from the
  project's own small classifier, see :mod:`vae.baselines.classifier`).
- :func:`class_coverage`: the histogram of predicted classes of many samples, and its entropy.
- :func:`prior_gap`, :func:`prior_holes` and :func:`aggregate_kl`: how well a model's encoded
  data fills its prior N(0, I) (holes are where the prior puts samples and no image's posterior is).
- :func:`compare_generators`: all of it for a VAE and a GAN against the test images, as the
  VAE-vs-GAN page and ``python -m vae compare`` show it. A report is a small JSON file keyed by
  the three models' content hashes: ``python -m vae compare --save`` ships it in the GAN's
  folder (``comparisons/``), so the page opens without measuring again; any other pairing is
  measured on first use and kept in the cache folder (:func:`cached_comparison`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..explore.latent import prior_samples


def sharpness(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mean gradient magnitude of each image (N, C, H, W) in [0, 1]: (N,).

    The gradient is taken by forward differences, sqrt(dx² + dy²) on the (H-1) x (W-1) grid,
    averaged over pixels and channels. A vertical 0 -> 1 edge in an H x W image scores
    1 / (W - 1); a flat image scores 0.
    """
    x = torch.as_tensor(np.asarray(images, dtype=np.float32) if not torch.is_tensor(images) else images).float()
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return torch.sqrt(dx.pow(2) + dy.pow(2)).flatten(1).mean(1).numpy()


def gaussian_frechet(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein²) distance of N(mu1, cov1) and N(mu2, cov2):

    |mu1 - mu2|² + tr(cov1 + cov2 - 2 (cov1^½ cov2 cov1^½)^½), by symmetric eigendecompositions
    (the square root of a symmetric PSD matrix is real; numerical negatives are clipped).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    w, v = np.linalg.eigh((cov1 + cov1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # cov1^½
    middle = root1 @ cov2 @ root1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * cross)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between two sets of feature vectors (N, F) and (M, F), each fitted by a Gaussian."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"the Fréchet distance needs at least 2 vectors in each set, got {len(a)} and {len(b)}")
    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def class_coverage(probs: np.ndarray, n_classes: int | None = None) -> dict[str, Any]:
    """The predicted-class histogram of samples (class probabilities (N, K)) and how even it is.

    ``counts`` (K,), ``entropy_bits`` of the histogram (log2 K when every class is equally
    common), ``min_share`` (the rarest class's share) and ``confidence`` (the mean top probability).
    """
    probs = np.asarray(probs)
    k = n_classes or probs.shape[1]
    counts = np.bincount(probs.argmax(1), minlength=k)[:k]
    share = counts / max(counts.sum(), 1)
    nz = share[share > 0]
    return {"counts": counts.astype(int).tolist(), "entropy_bits": float(-(nz * np.log2(nz)).sum()),
            "max_entropy_bits": math.log2(k), "min_share": float(share.min()),
            "confidence": float(probs.max(1).mean()) if len(probs) else float("nan")}


def nearest_distances(queries: np.ndarray, points: np.ndarray, exclude_self: bool = False,
                      batch: int = 1024) -> np.ndarray:
    """Euclidean distance from each query (Q, D) to its nearest point (N, D): (Q,)."""
    p = torch.as_tensor(np.asarray(points, np.float32))
    out = []
    for i in range(0, len(queries), batch):
        q = torch.as_tensor(np.asarray(queries[i : i + batch], np.float32))
        d = torch.cdist(q, p)  # (b, N)
        if exclude_self:
            d[d == 0] = float("inf")
        out.append(d.min(1).values)
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def prior_gap(mu: np.ndarray, n: int = 2000, seed: int = 0) -> dict[str, float]:
    """How far samples of the prior N(0, I) land from the encoded data (posterior means (N, D)).

    ``data_nn``: the median distance from an encoded image to its nearest other one (the data's
    own spacing); ``prior_nn``: the median distance from a prior sample to its nearest encoded
    image; ``ratio`` = prior_nn / data_nn (1: prior samples land among the data; >> 1: in holes);
    ``far_share``: prior samples farther from the data than 95% of encoded images are from theirs.
    """
    mu = np.asarray(mu, np.float32)
    rng = np.random.default_rng(seed)
    probe = mu[rng.choice(len(mu), size=min(n, len(mu)), replace=False)]
    data_nn = nearest_distances(probe, mu, exclude_self=True)
    prior_nn = nearest_distances(prior_samples(n, mu.shape[1], seed=seed), mu)
    return {"data_nn": float(np.median(data_nn)), "prior_nn": float(np.median(prior_nn)),
            "ratio": float(np.median(prior_nn) / max(np.median(data_nn), 1e-12)),
            "far_share": float((prior_nn > np.quantile(data_nn, 0.95)).mean())}


def prior_holes(mu: np.ndarray, logvar: np.ndarray, n: int = 500, seed: int = 0,
                batch: int = 64) -> dict[str, float]:
    """How much of the prior falls where no image's posterior is (the holes generation draws from).

    q(z) = (1/N) sum_i N(z; mu_i, diag exp(logvar_i)) is the aggregate posterior of the N encoded
    images. For ``n`` samples z ~ p(z) = N(0, I): ``kl`` = mean of log p(z) - log q(z), a Monte
    Carlo estimate of KL(p || q) in nats (0 when q covers the prior; the finite N makes it an
    overestimate), and ``hole_share``: the share of prior samples where q(z) < p(z) / 100.
    """
    from ..model import LOG_2PI

    m = torch.as_tensor(np.asarray(mu, np.float64))
    lv = torch.as_tensor(np.asarray(logvar, np.float64))
    big_n, d = m.shape
    inv_var = torch.exp(-lv)  # (N, D)
    log_norm = -0.5 * (lv.sum(1) + d * LOG_2PI)  # (N,)
    z = torch.as_tensor(prior_samples(n, d, seed=seed), dtype=torch.float64)  # (n, D)
    # sum_d (z_d - m_d)^2 / var_d = z^2 @ (1/var)^T - 2 z @ (m/var)^T + sum_d m_d^2/var_d: two
    # matrix products in float64, instead of a (b, N, D) array of differences
    scaled_mu, mu_term = m * inv_var, (m * m * inv_var).sum(1)  # (N, D), (N,)
    log_q = []
    for i in range(0, n, batch):
        zb = z[i : i + batch]
        sq = (zb * zb) @ inv_var.T - 2.0 * zb @ scaled_mu.T + mu_term[None]  # (b, N)
        log_q.append(torch.logsumexp(log_norm[None] - 0.5 * sq, dim=1) - math.log(big_n))
    log_p = -0.5 * (z.pow(2).sum(1) + d * LOG_2PI)
    gap = (log_p - torch.cat(log_q)).numpy()
    return {"kl": float(gap.mean()), "hole_share": float((gap > math.log(100)).mean())}


def aggregate_kl(mu: np.ndarray, logvar: np.ndarray) -> float:
    """KL(N(m, S) || N(0, I)) in nats, where N(m, S) matches the aggregate posterior q(z)'s mean and
    covariance: m = mean of mu, S = Cov(mu) + diag(mean sigma²). 0 when q(z) looks like the prior."""
    mu = np.asarray(mu, np.float64)
    m = mu.mean(0)
    s = np.cov(mu, rowvar=False).reshape(mu.shape[1], mu.shape[1]) + np.diag(np.exp(np.asarray(logvar, np.float64)).mean(0))
    _, logdet = np.linalg.slogdet(s)
    return float(0.5 * (np.trace(s) + m @ m - len(m) - logdet))


def compare_generators(vae_model, gan_model, classifier, real: torch.Tensor, n: int = 10_000,
                       seed: int = 0) -> dict[str, Any]:
    """Samples of a VAE (decoded prior codes) and of a GAN, judged against real images.

    For each set ("test images", "VAE samples", "VAE reconstructions", "GAN samples"): the mean
    :func:`sharpness`, the :func:`class_coverage` of its ``n`` images by ``classifier``, and the
    :func:`frechet_distance` of its classifier features to the real images'. "test images" is
    the floor: its Fréchet distance is between two halves of the real images. Also the seconds
    each model took to make its ``n`` images. JSON-ready.
    """
    real = real[:n]
    t0 = time.perf_counter()
    vae_samples = vae_model.generate(torch.from_numpy(prior_samples(n, vae_model.latent_dim, seed=seed)))
    vae_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gan_samples = gan_model.sample(n, seed=seed)
    gan_s = time.perf_counter() - t0
    recon = vae_model.reconstruct(real)
    real_feats, real_probs = classifier.embed(real)
    half = len(real) // 2
    sets = {"test images": (real, real_feats, real_probs), "VAE samples": vae_samples,
            "VAE reconstructions": recon, "GAN samples": gan_samples}
    report: dict[str, Any] = {"n": int(len(real)), "seed": seed, "sets": {},
                              "seconds_to_generate": {"VAE samples": vae_s, "GAN samples": gan_s},
                              "measured_at": time.strftime("%Y-%m-%d %H:%M"),
                              "threads": torch.get_num_threads()}
    for name, value in sets.items():
        images, feats, probs = value if isinstance(value, tuple) else (value, *classifier.embed(value))
        fd = (frechet_distance(feats[:half], feats[half:]) if name == "test images"
              else frechet_distance(feats, real_feats))
        report["sets"][name] = {"sharpness": float(sharpness(images).mean()), "frechet": fd,
                                **class_coverage(probs)}
    return report


SHIPPED_COMPARISONS = "comparisons"  # folder inside a GAN's folder


def comparison_key(vae_hash: str, gan_hash: str, classifier_hash: str, n: int, seed: int) -> str:
    return f"cmp-{vae_hash}-{gan_hash}-{classifier_hash}-n{n}-s{seed}"


def load_comparison(folder: str | Path, key: str) -> dict[str, Any] | None:
    """The report stored under ``key`` in ``folder``, or None (absent, unreadable or for another key)."""
    try:
        data = json.loads((Path(folder) / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("report") if isinstance(data, dict) and data.get("key") == key else None


def save_comparison(folder: str | Path, key: str, report: dict[str, Any]) -> Path | None:
    """Store a report atomically; None when the folder is not writable."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"key": key, "report": report}, f, indent=1)
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / f"{key}.json")
        return folder / f"{key}.json"
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return None


def cached_comparison(vae_ck, gan, classifier, real: torch.Tensor, cache_dir: str | Path, n: int = 10_000,
                      seed: int = 0) -> dict[str, Any]:
    """:func:`compare_generators` for a checkpoint, a GAN folder and a classifier folder (as loaded by
    vae.checkpoint / vae.baselines.gan / vae.baselines.classifier): the shipped report when there is one for these exact
    models, else the cached one, else measured now (and cached)."""
    key = comparison_key(vae_ck.content_hash, gan.content_hash, classifier.content_hash, n, seed)
    for folder in (Path(gan.path) / SHIPPED_COMPARISONS, Path(cache_dir)):
        found = load_comparison(folder, key)
        if found is not None:
            return found
    report = compare_generators(vae_ck.model, gan.model, classifier.model, real, n=n, seed=seed)
    save_comparison(cache_dir, key, report)
    return report
