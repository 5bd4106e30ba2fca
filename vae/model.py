"""The variational autoencoder: encoder q(z|x), decoder p(x|z), and its ELBO.

Vocabulary follows pytorch/examples' VAE: ``encode(x) -> (mu, logvar)``,
``reparameterize``, ``decode(z)``, and a loss that returns the total, the
reconstruction term and the KL term separately. All sizes come from
:class:`vae.config.ModelConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .archs import get_architecture
from .config import ModelConfig
from .likelihoods import LOG_2PI, get_likelihood

__all__ = ["VAE", "LossOutput", "gaussian_kl", "LOG_2PI"]

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
    def per_image_terms(self, x: torch.Tensor, batch_size: int = 1000, seed: int = 0):
        """Per-image recon, KL, KL per dim, mu, logvar and MSE of the mean reconstruction.

        Uses one posterior sample per image drawn from a seeded generator, so repeated
        calls agree. Returns a dict of CPU tensors.
        """
        gen = torch.Generator().manual_seed(seed)
        keys = ("recon", "kl", "kl_dims", "mu", "logvar", "mse")
        acc: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size].to(self.device)
            mu, logvar = self.encode(xb)
            eps = torch.randn(mu.shape, generator=gen).to(self.device)
            z = self.reparameterize(mu, logvar, eps)
            recon = -self.log_likelihood(self.decode(z), xb)
            mean_img = self.decode_mean(mu)
            kl_dims = gaussian_kl(mu, logvar)
            vals = {
                "recon": recon,
                "kl": kl_dims.sum(1),
                "kl_dims": kl_dims,
                "mu": mu,
                "logvar": logvar,
                "mse": (mean_img - xb).pow(2).flatten(1).mean(1),
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
