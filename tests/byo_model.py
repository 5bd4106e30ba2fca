"""A VAE that is not ours, as a researcher brings it: for the "bring your own VAE" tests.

Unlike our models it is an MLP on flattened input (B, 784), has a 20-D latent, returns its codes
as a list, and its decoder ends in a clamp to [0, 1] (or a sigmoid, or a tanh for [-1, 1] data).
It is trained briefly on the shipped Fashion-MNIST test images, with its own loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LATENT = 20


class TheirVAE(nn.Module):
    """pytorch/examples' VAE shape: fc layers, ``encode -> [mu, logvar]``, ``decode -> image``."""

    def __init__(self, latent: int = LATENT, pixels: int = 784, hidden: int = 256, last: str = "clamp",
                 as_list: bool = True):
        super().__init__()
        self.last, self.as_list = last, as_list
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc_mu, self.fc_logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.fc3, self.fc4 = nn.Linear(latent, hidden), nn.Linear(hidden, pixels)

    def encode(self, x: torch.Tensor):
        h = F.relu(self.fc1(x))  # x: (B, 784), flattened
        out = (self.fc_mu(h), self.fc_logvar(h))
        return list(out) if self.as_list else out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        y = self.fc4(F.relu(self.fc3(z)))  # (B, 784)
        if self.last == "clamp":
            return y.clamp(0.0, 1.0)
        return torch.sigmoid(y) if self.last == "sigmoid" else torch.tanh(y)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out = self.decode(z)
        if self.last == "tanh":  # a Gaussian on [-1, 1] data
            recon = (out - x).pow(2).sum() / (2 * 0.2**2)
        else:  # pytorch/examples: binary cross-entropy on probabilities
            recon = F.binary_cross_entropy(out, x, reduction="sum")
        return (recon - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())) / len(x)


def train_their_vae(images: torch.Tensor, epochs: int = 4, seed: int = 0, **kw) -> TheirVAE:
    """A TheirVAE trained for a few epochs on ``images`` (N, 1, 28, 28) in [0, 1]: a few seconds."""
    torch.manual_seed(seed)
    model = TheirVAE(**kw)
    x = images.flatten(1)
    if model.last == "tanh":
        x = x * 2.0 - 1.0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for i in range(0, len(x), 100):
            opt.zero_grad()
            model.loss(x[i : i + 100]).backward()
            opt.step()
    return model.eval()
