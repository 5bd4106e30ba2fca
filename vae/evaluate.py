"""Evaluation of a trained VAE on a test split, with baselines measured in the same run.

Metrics (all on the test split, or its first ``limit`` images):

- ``neg_elbo``, ``recon``, ``kl``: the negative ELBO and its parts, nats per image.
- ``iwae_nll``: the importance-weighted bound on -log p(x) (Burda et al. 2016) with
  ``iwae_k`` samples, on the first ``iwae_images`` images (it is costly).
- ``bits_per_dim``, ``iwae_bits_per_dim``: the same two bounds in bits per pixel value
  (nats / (C * H * W * ln 2)). ``bits_per_dim_comparable`` says whether the likelihood is a
  probability over the 256 grey levels (the discretised logistic), so that the figure compares
  with published ones; for Bernoulli or a Gaussian density it compares only within the likelihood.
- ``recon_mse``: mean squared error per pixel of the posterior-mean reconstruction.
- ``kl_per_dim`` and ``dims_in_use``: the dimensions whose average KL is at least 0.05 nats, the rule
  every page counts with (:data:`vae.explore.latent.COLLAPSED_KL`); ``active_units``: Burda et al.'s looser
  count, dimensions with Cov_x(E_q[z]) > 0.01, for comparison with published figures.
- ``knn_acc``: a 5-nearest-neighbour classifier on the latent means, fitted on the train split.
- ``baselines``: PCA with as many components as the latent space (reconstruction MSE and
  k-NN accuracy) and k-NN on raw pixels.

:func:`store_report` keeps them in the checkpoint's ``meta.json``: ``metrics`` holds the
*complete* evaluation (the whole test split, default settings, k-NN fitted on the whole train
split), which the app, the README and the benchmarks read; a partial or differently
configured run never replaces it unless asked to (``replace=True``, ``evaluate --replace``).
Every run is also kept under ``evaluations``, keyed by its settings.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .data.datasets import ImageDataset
from .errors import ConfigError, DataError
from .explore.latent import COLLAPSED_KL, in_use, mean_variance
from .folders import META, read_json, update_meta
from .model import LOG_2PI, VAE

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al.'s active units: Var_x(μ_j) above this


@dataclass
class EvalConfig:
    """What to evaluate and how hard."""

    limit: int | None = None  # evaluate on the first N test images (None: all)
    iwae_k: int = 1000  # importance samples per image for the IWAE bound
    iwae_images: int = 1000  # images the IWAE bound is computed on (the first N)
    knn_k: int = 5  # neighbours of the k-NN classifier
    knn_train: int | None = None  # fit k-NN / PCA on the first N training images (None: all)
    data_dir: str | None = None  # searched first for the dataset's files
    seed: int = 0  # seeds the posterior samples
    baselines: bool = True  # also measure PCA and raw-pixel k-NN

    def validate(self) -> EvalConfig:
        if self.iwae_k < 1:
            raise ConfigError(f"iwae_k must be >= 1, got {self.iwae_k}")
        if self.iwae_images < 1:
            raise ConfigError(f"iwae_images must be >= 1, got {self.iwae_images}")
        if self.knn_k < 1:
            raise ConfigError(f"knn_k must be >= 1, got {self.knn_k}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be >= 1, got {self.limit}")
        return self


@torch.inference_mode()
def iwae_bound(
    model: VAE, x: torch.Tensor, k: int = 1000, seed: int = 0, max_batch: int = 20000,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Per-image importance-weighted lower bound on log p(x) with ``k`` samples: (N,).

    log p(x) >= E[log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)],  z_i ~ q(z|x).
    -iwae_bound(...).mean() is the bound on the test NLL in nats.
    """
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    per_chunk = max(1, max_batch // k)  # images per forward pass
    out = []
    device = model.device
    for i in range(0, len(x), per_chunk):
        xb = x[i : i + per_chunk].to(device)  # (b, C, H, W)
        b = len(xb)
        mu, logvar = model.encode(xb)  # (b, D)
        log_w = torch.empty(b, k, device=device)
        step = max(1, max_batch // b)  # samples per image per pass
        for j in range(0, k, step):
            s = min(step, k - j)
            eps = torch.randn(b, s, mu.shape[1], generator=gen).to(device)  # (b, s, D)
            z = mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps
            logits = model.decode(z.reshape(b * s, -1))
            x_rep = xb[:, None].expand(b, s, *xb.shape[1:]).reshape(b * s, *xb.shape[1:])
            log_px = model.log_likelihood(logits, x_rep).view(b, s)
            log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
            log_qz = -0.5 * (eps.pow(2) + logvar[:, None] + LOG_2PI).sum(-1)
            log_w[:, j : j + s] = (log_px + log_pz - log_qz).float()
        out.append((torch.logsumexp(log_w.double(), dim=1) - math.log(k)).cpu())
        if progress:
            progress(min(i + per_chunk, len(x)), len(x))
    return torch.cat(out) if out else torch.zeros(0)


def bits_per_dim(nats: float, num_pixels: int) -> float:
    """A negative log-likelihood in nats per image as bits per pixel value (per dimension)."""
    return nats / (num_pixels * math.log(2.0))


def dims_in_use(metrics: dict[str, Any]) -> int | None:
    """The dimensions in use by the app's one rule (vae.explore.latent.COLLAPSED_KL), from an evaluation's
    ``kl_per_dim``: reports written before ``dims_in_use`` was stored count the same way."""
    kl = metrics.get("kl_per_dim")
    return int(in_use(kl).sum()) if isinstance(kl, list) and kl else None


def active_units(mu: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, list[float]]:
    """Burda et al.'s active units: dimensions whose Cov_x(E_q[z|x]) exceeds ``threshold``."""
    var = mean_variance(mu)
    return int((var > threshold).sum()), [float(v) for v in var]


def knn_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                 test_y: np.ndarray, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier (Euclidean distance)."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=min(k, len(train_x)), algorithm="brute", n_jobs=-1)
    clf.fit(train_x, train_y)
    return float((clf.predict(test_x) == test_y).mean())


def _fit_split(ck: Checkpoint, cfg: EvalConfig, test: ImageDataset):
    """The images k-NN and PCA are fitted on: the train split, or half the test set offline."""
    try:
        return ck.load_data("train", cfg.knn_train, cfg.data_dir, download=False), test, "train"
    except DataError:
        half = len(test) // 2
        fit = ImageDataset(test.name, "test[:half]", test.images[:half], test.labels[:half],
                           test.class_names)
        rest = ImageDataset(test.name, "test[half:]", test.images[half:], test.labels[half:],
                            test.class_names)
        return fit, rest, "first half of the test split (train split not available)"


def evaluate(ck: Checkpoint, cfg: EvalConfig | None = None,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """All metrics of one checkpoint as a JSON-ready dict (see the module docstring)."""
    cfg = (cfg or EvalConfig()).validate()
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    model = ck.model.eval()
    test = ck.load_data("test", cfg.limit, cfg.data_dir)
    say(f"ELBO on {len(test)} test images")
    terms = model.per_image_terms(test.images, seed=cfg.seed)
    n_iwae = min(cfg.iwae_images, len(test))
    # an imported model may declare no likelihood: then there is no ELBO, no IWAE bound, no bits/dim
    scored = getattr(model.likelihood, "available", True)
    if scored:
        say(f"IWAE bound, k={cfg.iwae_k}, on {n_iwae} images")
        iw = iwae_bound(model, test.images[:n_iwae], k=cfg.iwae_k, seed=cfg.seed)
    au, au_var = active_units(terms["mu"])
    recon = terms["recon"].double().mean().item() if scored else None
    neg_elbo = recon + terms["kl"].double().mean().item() if scored else None
    iwae_nll = -iw.double().mean().item() if scored else None
    report: dict[str, Any] = {
        "dataset": ck.dataset,
        "n_images": len(test),
        "limit": cfg.limit,
        "seed": cfg.seed,
        "latent_dim": ck.config.latent_dim,
        "neg_elbo": neg_elbo,
        "recon": recon,
        "kl": terms["kl"].double().mean().item(),
        "iwae_nll": iwae_nll,
        "iwae_k": cfg.iwae_k,
        "iwae_images": n_iwae,
        "likelihood": ck.config.likelihood,
        "bits_per_dim": bits_per_dim(neg_elbo, ck.config.num_pixels) if scored else None,
        "iwae_bits_per_dim": bits_per_dim(iwae_nll, ck.config.num_pixels) if scored else None,
        "bits_per_dim_comparable": bool(model.likelihood.discrete),
        "recon_mse": terms["mse"].double().mean().item(),
        "kl_per_dim": [float(v) for v in terms["kl_dims"].double().mean(0)],
        "dims_in_use": int(in_use(terms["kl_dims"].double().mean(0).numpy()).sum()),
        "active_units": au,
        "active_unit_variance": au_var,
    }
    say("k-NN on latent means")
    fit, held, fit_name = _fit_split(ck, cfg, test)
    fit_mu, _ = model.embed(fit.images)
    held_mu = terms["mu"][len(test) - len(held):] if held is not test else terms["mu"]
    report["knn_k"] = cfg.knn_k
    report["knn_fit"] = fit_name
    report["knn_fit_size"] = len(fit)
    report["knn_acc"] = knn_accuracy(fit_mu.numpy(), fit.labels.numpy(), held_mu.numpy(),
                                     held.labels.numpy(), cfg.knn_k)
    if cfg.baselines:
        say("baselines: PCA and raw pixels")
        report["baselines"] = pca_pixel_baselines(fit, held, test, ck.config.latent_dim, cfg.knn_k)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["complete"] = is_complete(report, ck.meta)
    return report


def is_complete(report: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Whether an evaluation report covers the whole test split with the default settings and
    k-NN fitted on the whole train split (also for reports written before this was recorded)."""
    d = EvalConfig()
    n = report.get("n_images")
    test_size, train_size = meta.get("test_size"), meta.get("train_size")
    return (report.get("limit", None) is None and (test_size is None or n == test_size)
            and report.get("iwae_k") == d.iwae_k and isinstance(n, int)
            and report.get("iwae_images") == min(d.iwae_images, n)
            and report.get("knn_fit") == "train" and report.get("knn_k", d.knn_k) == d.knn_k
            and (train_size is None or report.get("knn_fit_size") == train_size)
            and report.get("seed", d.seed) == d.seed)


def settings_key(report: dict[str, Any]) -> str:
    """What an evaluation was run on and how, as a short readable key."""
    return (f"n={report.get('n_images')} iwae={report.get('iwae_k')}x{report.get('iwae_images')} "
            f"knn={report.get('knn_k')} on {report.get('knn_fit')} ({report.get('knn_fit_size')}) "
            f"seed={report.get('seed', 0)}")


def store_report(path: str | Path, report: dict[str, Any], replace: bool = False) -> str:
    """Keep an evaluation report in a checkpoint's meta.json; returns one line saying where.

    ``metrics`` (what the app and the README read) takes the report when it is complete, when
    there is none yet, when the one there is partial too, or when ``replace`` asks for it;
    otherwise the complete evaluation already there is kept. Every report is also stored under
    ``evaluations[settings_key(report)]``.
    """
    path = Path(path)
    meta = read_json(path / META) if (path / META).exists() else {}
    report = {**report, "complete": is_complete(report, meta)}
    key = settings_key(report)
    evaluations = {**(meta.get("evaluations") or {}), key: report}
    current = meta.get("metrics") or None
    if replace or current is None or report["complete"] or not is_complete(current, meta):
        update_meta(path, metrics=report, evaluations=evaluations)
        kind = "complete" if report["complete"] else "partial"
        return f"stored these {kind} metrics ({key}) as the checkpoint's metrics in {path / META}"
    update_meta(path, evaluations=evaluations)
    return (f"kept the complete evaluation ({settings_key(current)}) as the checkpoint's metrics; "
            f"this partial one is stored under evaluations[{key!r}] in {path / META} "
            "(pass --replace to make it the checkpoint's metrics)")


def pca_pixel_baselines(fit: ImageDataset, held: ImageDataset, test: ImageDataset,
                        n_components: int, k: int = 5) -> dict[str, float]:
    """PCA (same size as the latent space) reconstruction MSE and k-NN; raw-pixel k-NN."""
    from sklearn.decomposition import PCA

    xf = fit.images.flatten(1).numpy()
    xt = test.images.flatten(1).numpy()
    n_comp = min(n_components, xf.shape[1], len(xf))
    pca = PCA(n_components=n_comp, random_state=0).fit(xf)
    recon = pca.inverse_transform(pca.transform(xt))
    xh = held.images.flatten(1).numpy()
    return {
        "pca_components": n_comp,
        "pca_recon_mse": float(np.mean((recon - xt) ** 2)),
        "pca_knn_acc": knn_accuracy(pca.transform(xf), fit.labels.numpy(), pca.transform(xh),
                                    held.labels.numpy(), k),
        "pixel_knn_acc": knn_accuracy(xf, fit.labels.numpy(), xh, held.labels.numpy(), k),
    }


def _bits_lines(r: dict[str, Any]) -> list[str]:
    if r.get("bits_per_dim") is None:  # stored before bits per dimension were measured, or no likelihood
        return []
    which = ("a probability over 256 grey levels: comparable with published figures"
             if r.get("bits_per_dim_comparable") else f"{r.get('likelihood', '?')}: compare with the same likelihood only")
    return [f"  bits/dim        {r['bits_per_dim']:9.4f}       IWAE: {r['iwae_bits_per_dim']:.4f}  ({which})"]


def format_report(r: dict[str, Any]) -> str:
    """A human-readable table of an evaluation report."""
    b = r.get("baselines") or {}
    if r.get("neg_elbo") is None:  # an imported model that declares no likelihood
        elbo = [f"  -ELBO           n/a: the model declares no likelihood p(x|z) (KL alone {r['kl']:.2f} nats)"]
    else:
        elbo = [f"  -ELBO           {r['neg_elbo']:9.2f} nats  (recon {r['recon']:.2f} + KL {r['kl']:.2f})",
                f"  IWAE bound      {r['iwae_nll']:9.2f} nats  (k = {r['iwae_k']}, first {r['iwae_images']} images)"]
    lines = [
        f"{r['dataset']}: {r['n_images']} test images, latent {r['latent_dim']}",
        *elbo,
        *_bits_lines(r),
        f"  recon MSE       {r['recon_mse']:9.5f}" + (
            f"       PCA-{b['pca_components']}: {b['pca_recon_mse']:.5f} "
            f"(ratio {r['recon_mse'] / b['pca_recon_mse']:.2f})" if b else ""),
        f"  k-NN accuracy   {r['knn_acc']:9.4f}" + (
            f"       PCA: {b['pca_knn_acc']:.4f}, raw pixels: {b['pixel_knn_acc']:.4f}" if b else ""),
        f"  dims in use     {dims_in_use(r):>5} / {r['latent_dim']}       (average KL >= {COLLAPSED_KL} nats; "
        f"Burda's active units: {r['active_units']})",
        f"  (k-NN fitted on {r['knn_fit']}, {r['knn_fit_size']} images; {r['seconds']:.0f} s)",
    ]
    if r.get("complete") is False:
        lines.append("  partial: not the whole test split with the default settings and the train split")
    return "\n".join(lines)
