"""Two VAEs trained with a third-party library, pythae 0.1.2, as a researcher brings them.

- ``beta``: pythae's ``BetaVAE`` with its default MLPs (``Encoder_VAE_MLP``: flattens its input;
  ``Decoder_AE_MLP``: a sigmoid), latent 10, β = 2.
- ``conv``: pythae's ``VAE`` with encoder and decoder classes of the researcher's own, convolutions
  with BatchNorm, latent 8.

Both encoders return pythae's ``ModelOutput`` (an OrderedDict subclass) with ``embedding`` and
``log_covariance``, the decoders one with ``reconstruction``; neither has ``encode``/``decode``.
They are trained for an epoch or two on the shipped Fashion-MNIST test images (seconds), with
pythae's own loss: good enough to be recognisably better than the data set's mean image.
"""

from __future__ import annotations

import torch
from pythae.models import VAE, BetaVAE, BetaVAEConfig, VAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from torch import nn


class ConvEncoder(BaseEncoder):
    """(B, 1, 28, 28) -> ModelOutput(embedding (B, D), log_covariance (B, D))."""

    def __init__(self, latent: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                 nn.Conv2d(16, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.Flatten())
        self.mu, self.log_var = nn.Linear(32 * 7 * 7, latent), nn.Linear(32 * 7 * 7, latent)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        h = self.net(x)
        return ModelOutput(embedding=self.mu(h), log_covariance=self.log_var(h))


class ConvDecoder(BaseDecoder):
    """(B, D) -> ModelOutput(reconstruction (B, 1, 28, 28) in [0, 1])."""

    def __init__(self, latent: int):
        super().__init__()
        self.fc = nn.Linear(latent, 32 * 7 * 7)
        self.net = nn.Sequential(nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                 nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> ModelOutput:
        return ModelOutput(reconstruction=self.net(self.fc(z).view(-1, 32, 7, 7)))


def build(kind: str):
    """An untrained pythae model: ``beta`` (default MLPs) or ``conv`` (our own conv classes)."""
    if kind == "beta":
        return BetaVAE(BetaVAEConfig(input_dim=(1, 28, 28), latent_dim=10, beta=2.0))
    if kind == "conv":
        return VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=8), encoder=ConvEncoder(8), decoder=ConvDecoder(8))
    raise ValueError(f"kind must be beta or conv, got {kind!r}")


def train_pythae(kind: str, images: torch.Tensor, epochs: int = 2, seed: int = 0):
    """A pythae model trained with its own loss (``model({"data": x}).loss``) on ``images``; eval mode."""
    torch.manual_seed(seed)
    model = build(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(epochs):
        for x in images[torch.randperm(len(images))].split(128):
            loss = model({"data": x}).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()

