"""The variational autoencoder: encoder q(z|x), decoder p(x|z), and its ELBO.

Vocabulary follows pytorch/examples' VAE: ``encode(x) -> (mu, logvar)``,
``reparameterize``, ``decode(z)``, and a loss that returns the total, the
reconstruction term and the KL term separately. All sizes come from
:class:`vae.config.ModelConfig`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .archs import get_architecture
from .config import ModelConfig
from .likelihoods import LOG_2PI, get_likelihood

__all__ = ["VAE", "LossOutput", "gaussian_kl", "image_noise", "LOG_2PI", "ELBO_SAMPLES"]

#: Posterior samples behind the −ELBO of one image wherever the explorer shows it (the Map, How it
#: works, Reconstructions, Your image, the tour): their mean is the reconstruction term, their spread /
#: √k its standard error (about 0.8 nats for the shipped Fashion-MNIST model).
ELBO_SAMPLES = 16

#: state-dict keys of older checkpoints and their names now (the Gaussian's sigma moved into
#: its likelihood module); the parameters' order, which Adam's saved state relies on, is unchanged.
LEGACY_KEYS = {"log_sigma": "likelihood.log_sigma"}


@dataclass
class LossOutput:
    """The terms of the (beta-weighted) negative ELBO, in nats per image."""

    loss: torch.Tensor  # scalar: recon + beta_eff * kl, averaged over the batch (what is minimised)
    recon: torch.Tensor  # scalar: E_q[-log p(x|z)], batch mean
    kl: torch.Tensor  # scalar: KL(q(z|x) || N(0, I)), batch mean
    kl_per_dim: torch.Tensor  # (latent_dim,): KL of each latent dimension, batch mean
    terms: dict[str, torch.Tensor] | None = None  # the per-image tensors behind it (elbo_terms)

    @property
    def neg_elbo(self) -> torch.Tensor:
        """The plain negative ELBO (beta = 1), whatever beta the loss used."""
        return self.recon + self.kl


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per element; same shape as ``mu``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def image_noise(x: torch.Tensor, k: int, dim: int, seed: int = 0) -> torch.Tensor:
    """ε ~ N(0, I) of shape (B, k, dim), fixed per image: each image's ε comes from a generator seeded by
    its 8-bit pixels (and ``seed``), so the same image gets the same ε alone or in a batch, at any
    position, on any page. Different images get independent draws. On the CPU."""
    q = x.detach().float().cpu().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).reshape(len(x), -1).numpy()
    salt = int(seed).to_bytes(16, "little", signed=True)
    out = torch.empty(len(x), k, dim)
    for i in range(len(x)):
        key = int.from_bytes(hashlib.blake2b(q[i].tobytes(), digest_size=8, salt=salt).digest(), "little")
        out[i] = torch.randn(k, dim, generator=torch.Generator().manual_seed(key >> 1))
    return out


class VAE(nn.Module):
    """A VAE with a diagonal-Gaussian posterior and a N(0, I) prior.

    Images are (B, C, H, W) floats in [0, 1]. The encoder and decoder come from the
    architecture named by ``config.arch`` (:mod:`vae.archs`); what the decoder's outputs mean
    comes from the likelihood named by ``config.likelihood`` (:mod:`vae.likelihoods`).
    ``decode`` returns those outputs (Bernoulli logits, say); :meth:`decode_mean` returns the
    image E[x|z] in [0, 1].
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.validate()
        arch = get_architecture(config.arch)(config)
        likelihood = get_likelihood(config.likelihood)
        self.encoder = arch.encoder()
        self.decoder = arch.decoder(config.image_shape[0] * likelihood.outputs_per_pixel)
        self.likelihood = likelihood(config)

    @staticmethod
    def upgrade_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A state dict saved by an older version, with today's key names (a new dict)."""
        return {LEGACY_KEYS.get(k, k): v for k, v in state.items()}

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # -- the three standard pieces -------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) -> mu (B, latent_dim), logvar (B, latent_dim)."""
        h = self.encoder(x)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None):
        """z = mu + sigma * eps with eps ~ N(0, I) (or the given eps): (B, latent_dim)."""
        if eps is None:
            eps = torch.randn_like(mu)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> the likelihood's parameters (B, k*C, H, W), k its outputs per pixel."""
        return self.decoder(z)

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> E[x|z] as images in [0, 1], (B, C, H, W)."""
        return self.likelihood.mean(self.decode(z))

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None):
        """x (B, C, H, W) -> (likelihood parameters (B, k*C, H, W), mu, logvar, z); ``eps`` fixes
        the noise."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar, z

    # -- likelihood and loss ---------------------------------------------------------------
    def log_likelihood(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per image, summed over pixels: params (B, k*C, H, W), x (B, C, H, W) -> (B,)."""
        return self.likelihood.log_prob(params, x)

    def elbo_terms(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Per-image terms with one posterior sample (drawn, or z = mu + sigma * ``eps``):
        recon (B,), kl (B,), kl_dims (B, D), and the tensors on the way: mu, logvar, z (B, D),
        logits (B, C, H, W)."""
        logits, mu, logvar, z = self(x, eps)
        recon = -self.log_likelihood(logits, x)
        kl_dims = gaussian_kl(mu, logvar)
        return {"recon": recon, "kl": kl_dims.sum(1), "kl_dims": kl_dims, "mu": mu, "logvar": logvar,
                "z": z, "logits": logits}

    def loss(self, x: torch.Tensor, beta: float | None = None, eps: torch.Tensor | None = None) -> LossOutput:
        """The beta-weighted negative ELBO of a batch, and its parts (nats per image)."""
        beta = self.config.beta if beta is None else beta
        t = self.elbo_terms(x, eps)
        recon = t["recon"].mean()
        kl_per_dim = t["kl_dims"].mean(0)
        kl = kl_per_dim.sum()
        return LossOutput(loss=recon + beta * kl, recon=recon, kl=kl, kl_per_dim=kl_per_dim, terms=t)

    # -- inference helpers (no gradients) -------------------------------------------------------
    # Under no_grad, not inference_mode: their results are ordinary tensors that a caller may
    # go on using with autograd (a latent code to optimise, images for a fine-tuning loss).
    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances of many images, in batches: (N, D), (N, D)."""
        mus, logvars = [], []
        for i in range(0, len(x), batch_size):
            mu, logvar = self.encode(x[i : i + batch_size].to(self.device))
            mus.append(mu.float().cpu())
            logvars.append(logvar.float().cpu())
        if not mus:
            d = self.latent_dim
            return torch.zeros(0, d), torch.zeros(0, d)
        return torch.cat(mus), torch.cat(logvars)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Decode latent codes (N, D) to images in [0, 1], (N, C, H, W), on the CPU."""
        out = []
        for i in range(0, len(z), batch_size):
            out.append(self.decode_mean(z[i : i + batch_size].to(self.device)).float().cpu())
        if not out:
            return torch.zeros(0, *self.config.image_shape)
        return torch.cat(out)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Decode the posterior mean of each image: (N, C, H, W) in [0, 1]."""
        mu, _ = self.embed(x, batch_size)
        return self.generate(mu, batch_size)

    @torch.no_grad()
    def per_image_terms(self, x: torch.Tensor, batch_size: int = 1000, seed: int = 0, samples: int = 1):
        """Per-image recon, its standard error, KL, KL per dim, mu, logvar and MSE of the mean reconstruction.

        recon (N,) is the mean of -log p(x|z) over ``samples`` posterior samples z = mu + sigma * eps,
        with eps fixed per image (:func:`image_noise`): the same image gets the same figure in any
        call; recon_se (N,) is their standard deviation / sqrt(samples) (NaN for one sample). The KL is
        exact. Returns a dict of CPU tensors.
        """
        if samples < 1:
            raise ValueError(f"samples must be at least 1, got {samples}")
        keys = ("recon", "recon_se", "kl", "kl_dims", "mu", "logvar", "mse")
        acc: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
        step = max(1, batch_size // samples)  # images a batch, so that a batch decodes about batch_size codes
        for i in range(0, len(x), step):
            xb = x[i : i + step].to(self.device)
            mu, logvar = self.encode(xb)  # (b, D) each
            b, d = mu.shape
            eps = image_noise(xb, samples, d, seed).to(self.device)  # (b, k, D)
            z = self.reparameterize(mu[:, None], logvar[:, None], eps).reshape(b * samples, d)
            xk = xb.repeat_interleave(samples, dim=0)  # image j's samples are rows j*k ... j*k + k - 1
            ll = self.log_likelihood(self.decode(z), xk).reshape(b, samples).float()  # (b, k)
            kl_dims = gaussian_kl(mu, logvar)
            vals = {
                "recon": -ll.mean(1),
                "recon_se": ll.std(1) / samples**0.5 if samples > 1 else torch.full((b,), float("nan")),
                "kl": kl_dims.sum(1),
                "kl_dims": kl_dims,
                "mu": mu,
                "logvar": logvar,
                "mse": (self.decode_mean(mu) - xb).pow(2).flatten(1).mean(1),
            }
            for k in keys:
                acc[k].append(vals[k].float().cpu())
        return {k: torch.cat(v) if v else torch.zeros(0) for k, v in acc.items()}

    def num_parameters(self, part: Literal["all", "encoder", "decoder"] = "all") -> int:
        """How many weights the model has: all of them, or the encoder's or the decoder's alone."""
        if part not in ("all", "encoder", "decoder"):
            raise ValueError(f"part must be 'all', 'encoder' or 'decoder', got {part!r}")
        module = self if part == "all" else getattr(self, part)
        return sum(p.numel() for p in module.parameters())
