"""Walking the latent space: encodings of a data set, paths, traversals, attribute vectors.

Everything here uses posterior means (``mu``) in eval mode, so the same image always
lands in the same place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model import ELBO_SAMPLES, VAE

#: A latent dimension is *in use* when it carries information about the image: its average
#: KL(q(z_j|x) || p(z_j)) over the images is at least COLLAPSED_KL nats. The others are *collapsed*:
#: q(z_j|x) is (almost) the prior for every image, so they cost no KL and moving along them changes
#: nothing. Every page, ``vae info``, ``evaluate`` (``dims_in_use``) and the Train page count with this
#: one rule, so that they agree on a model. (Burda et al.'s active units, Var_x(μ_j) > 0.01, a looser
#: test, are reported by ``evaluate`` beside it as ``active_units``.)
COLLAPSED_KL = 0.05


@dataclass
class Encoding:
    """A data set pushed through the encoder: one row per image."""

    mu: np.ndarray  # (N, D) posterior means
    logvar: np.ndarray  # (N, D) posterior log-variances
    recon: np.ndarray  # (N,) E_q[-log p(x|z)], the mean over ELBO_SAMPLES samples fixed per image, nats
    kl: np.ndarray  # (N,) KL(q(z|x) || p(z)), nats
    kl_dims: np.ndarray  # (N, D) KL per dimension
    mse: np.ndarray  # (N,) per-pixel MSE of the posterior-mean reconstruction
    labels: np.ndarray  # (N,) integer labels
    recon_se: np.ndarray | None = None  # (N,) standard error of recon (None: not recorded)

    def __len__(self) -> int:
        return len(self.mu)

    @property
    def neg_elbo(self) -> np.ndarray:
        return self.recon + self.kl

    def estimate(self, i: int) -> ElboEstimate:
        """Image ``i``'s −ELBO and its parts, as every page shows them."""
        se = float(self.recon_se[i]) if self.recon_se is not None else float("nan")
        return ElboEstimate(float(self.recon[i]), float(self.kl[i]), se)

    @property
    def sigma_mean(self) -> np.ndarray:
        """(N,) mean posterior standard deviation over dimensions."""
        return np.exp(0.5 * self.logvar).mean(1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        keys = _ARRAYS + (("recon_se",) if self.recon_se is not None else ())
        return {k: getattr(self, k) for k in keys}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Encoding:
        return cls(**{k: a[k] for k in _ARRAYS}, recon_se=a.get("recon_se"))


_ARRAYS = ("mu", "logvar", "recon", "kl", "kl_dims", "mse", "labels")


@dataclass(frozen=True)
class ElboEstimate:
    """The −ELBO of one image, nats: the reconstruction term E_q[−log p(x|z)] estimated from
    :data:`~vae.model.ELBO_SAMPLES` posterior samples fixed per image (``se`` its standard error), and
    the exact KL. The same image gives the same estimate wherever it is computed."""

    recon: float
    kl: float
    se: float  # standard error of recon, and so of the −ELBO (the KL is exact); NaN: unknown
    samples: int = ELBO_SAMPLES

    @property
    def neg_elbo(self) -> float:
        return self.recon + self.kl


@torch.inference_mode()
def image_elbo(model: VAE, x: torch.Tensor, seed: int = 0) -> ElboEstimate:
    """The −ELBO of one image (C, H, W), as :func:`encode_dataset` computes it for each image of a set."""
    t = model.per_image_terms(x[None], seed=seed, samples=ELBO_SAMPLES)
    return ElboEstimate(float(t["recon"][0]), float(t["kl"][0]), float(t["recon_se"][0]))


# The explorer's helpers below run under inference_mode: they serve one cached model shared by every
# session (no graph, no version counters) and take or give NumPy arrays. The model's own methods
# (embed, generate, ...) use no_grad instead, so that a caller may go on with autograd.
@torch.inference_mode()
def encode_dataset(model: VAE, images: torch.Tensor, labels: torch.Tensor, seed: int = 0,
                   batch_size: int = 1000) -> Encoding:
    """Encode all images (N, C, H, W) with per-image ELBO terms (:func:`image_elbo`'s, for each image)."""
    t = model.per_image_terms(images, batch_size=batch_size, seed=seed, samples=ELBO_SAMPLES)
    return Encoding(
        mu=t["mu"].numpy().astype(np.float32), logvar=t["logvar"].numpy().astype(np.float32),
        recon=t["recon"].numpy().astype(np.float32), kl=t["kl"].numpy().astype(np.float32),
        kl_dims=t["kl_dims"].numpy().astype(np.float32), mse=t["mse"].numpy().astype(np.float32),
        labels=labels.numpy().astype(np.int64), recon_se=t["recon_se"].numpy().astype(np.float32),
    )


def dims_by_kl(kl_per_dim: np.ndarray) -> list[int]:
    """Dimension indices, most informative (highest average KL) first."""
    return [int(i) for i in np.argsort(-np.asarray(kl_per_dim), kind="stable")]


def mean_variance(mu: np.ndarray | torch.Tensor) -> np.ndarray:
    """Var_x(μ_j) of each dimension over the images (N, D) -> (D,), unbiased; zeros for one image."""
    m = np.asarray(mu.detach().cpu() if torch.is_tensor(mu) else mu, dtype=np.float64)
    return m.var(0, ddof=1) if len(m) > 1 else np.zeros(m.shape[1])


def in_use(kl_per_dim: np.ndarray | list[float]) -> np.ndarray:
    """(D,) bool: the dimensions in use, average KL at least :data:`COLLAPSED_KL` nats."""
    return np.asarray(kl_per_dim, dtype=np.float64) >= COLLAPSED_KL


def collapsed_dims(kl_per_dim: np.ndarray | list[float]) -> list[int]:
    """The dimensions not in use (:func:`in_use` false): the posterior ignores them."""
    return [int(i) for i in np.flatnonzero(~in_use(kl_per_dim))]


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Straight line from a to b: (steps, D), end points included."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float64)[:, None]
    return ((1 - t) * a[None] + t * b[None]).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation (White 2016): keeps the norm typical of N(0, I) samples.

    Falls back to a straight line when a and b are (anti-)parallel or one is zero.
    """
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na < 1e-8 or nb < 1e-8:
        return lerp(a, b, steps)
    cos = np.clip(np.dot(a64 / na, b64 / nb), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a, b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    out = (np.sin((1 - t) * omega) * a64[None] + np.sin(t * omega) * b64[None]) / np.sin(omega)
    return out.astype(np.float32)


def path_point(a: np.ndarray, b: np.ndarray, t: float, kind: str = "lerp") -> np.ndarray:
    """The code at ``t`` in [0, 1] on the linear ("lerp") or spherical ("slerp") path from a to b:
    the frames of :func:`lerp` and :func:`slerp` at one t (the page's scrub slider has a twin)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    line = ((1 - t) * a64 + t * b64).astype(np.float32)
    if kind != "slerp":
        return line
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na < 1e-8 or nb < 1e-8:
        return line
    omega = np.arccos(np.clip(np.dot(a64 / na, b64 / nb), -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return line
    return ((np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)).astype(np.float32)


def principal_axes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal directions of codes (N, D), most variance first: the PCA of the posterior means,
    as GANSpace (Härkönen et al. 2020) finds editing directions in a GAN's latent space.

    Returns ``axes`` (D, D), row k the k-th unit direction scaled by its standard deviation (so a
    coefficient of 1 moves one typical spread along it), and each direction's share of the total
    variance (D,). Each direction's largest entry is positive, so the signs are reproducible.
    """
    x = np.asarray(codes, np.float64)
    x = x - x.mean(0)
    var, vec = np.linalg.eigh(x.T @ x / max(len(x) - 1, 1))  # ascending
    var, vec = np.maximum(var[::-1], 0.0), vec[:, ::-1].T  # (D,), rows = directions
    vec *= np.sign(vec[np.arange(len(vec)), np.abs(vec).argmax(1)])[:, None]
    share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    return (vec * np.sqrt(var)[:, None]).astype(np.float32), share


def traversal_codes(base: np.ndarray, dims: list[int], values: np.ndarray) -> np.ndarray:
    """One row per dimension: ``base`` with that dimension set to each value: (len(dims)*V, D)."""
    rows = []
    for d in dims:
        z = np.repeat(base[None].astype(np.float32), len(values), axis=0)
        z[:, d] = values
        rows.append(z)
    return np.concatenate(rows) if rows else np.zeros((0, len(base)), np.float32)


def strip_values(lo: float, hi: float, steps: int = 7) -> np.ndarray:
    """The slider positions a slider's strip shows: ``steps`` evenly spaced from ``lo`` to ``hi``, ends included."""
    return lo + (hi - lo) * np.arange(steps) / (steps - 1)


def strip_codes(origin: np.ndarray, axes: np.ndarray | None, coef: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The Sliders page's strips (components/live_decoder/strips.js is the page's twin): for slider k and each
    value v of ``values[k]``, the code with slider k at v and every other slider where it is.

    The sliders set the code ``origin + coef @ axes``: ``origin`` (D,), ``axes`` (K, D) one step of each slider
    (None: the K = D latent dimensions themselves), ``coef`` (K,) where they are; ``values`` (K, T). Returns
    (K, T, D) float32.
    """
    origin = np.asarray(origin, np.float64)
    coef = np.asarray(coef, np.float64)
    basis = np.eye(len(origin)) if axes is None else np.asarray(axes, np.float64)
    base = origin + coef @ basis
    steps = np.asarray(values, np.float64) - coef[:, None]  # (K, T)
    return (base[None, None, :] + steps[..., None] * basis[:, None, :]).astype(np.float32)


def class_means(mu: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean latent code of each class: (n_classes, D); NaN rows for absent classes."""
    out = np.full((n_classes, mu.shape[1]), np.nan, dtype=np.float32)
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            out[c] = mu[sel].mean(0)
    return out


def attribute_vector(mu: np.ndarray, labels: np.ndarray, source: int, target: int) -> np.ndarray:
    """mean(target class) - mean(source class): add it to move an image towards ``target``."""
    src, tgt = labels == source, labels == target
    if not src.any() or not tgt.any():
        raise ValueError(f"both classes need at least one image (class {source}: {int(src.sum())}, "
                         f"class {target}: {int(tgt.sum())})")
    return (mu[tgt].mean(0) - mu[src].mean(0)).astype(np.float32)


def prior_samples(n: int, latent_dim: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """z ~ N(0, temperature^2 I): (n, latent_dim), seeded."""
    g = torch.Generator().manual_seed(int(seed))
    return (torch.randn(n, latent_dim, generator=g) * float(temperature)).numpy()


def posterior_samples(mu: np.ndarray, logvar: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n draws z ~ q(z|x) for one image: (n, D)."""
    g = torch.Generator().manual_seed(int(seed))
    eps = torch.randn(n, len(mu), generator=g).numpy()
    return (mu[None] + np.exp(0.5 * logvar)[None] * eps).astype(np.float32)


@torch.inference_mode()
def decode(model: VAE, z: np.ndarray) -> torch.Tensor:
    """Decode codes (M, D) (NumPy) to images (M, C, H, W) in [0, 1]."""
    return model.generate(torch.as_tensor(np.atleast_2d(z), dtype=torch.float32))
