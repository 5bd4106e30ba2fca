"""A small DCGAN (Radford et al. 2016) trained on the same images as the VAEs, for comparison.

The generator maps noise z ~ N(0, I) to an image; a discriminator learns to tell real images
from generated ones and the generator learns to fool it (the non-saturating loss of
Goodfellow et al. 2014). Only the generator is shipped: a GAN has no encoder and no
likelihood, which is the point of the comparison page.

    python -m vae train-gan --dataset fashion-mnist --epochs 20 --out models/fashion-mnist-gan

A GAN folder looks like a VAE checkpoint (model.safetensors, config.json with
``"kind": "gan-generator"``, meta.json) and loads as strictly, but lives in ``models/``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import ModelFolder, load_folder
from ..config import JsonConfig, RunConfig, check_stages
from ..data.datasets import ImageDataset, load_dataset
from ..errors import ConfigError
from ..options import option
from ..training.loop import EpochLoop, Step, run_meta, use_threads
from ..training.trainer import Reporting, TrainResult, resolve_device, set_seed

KIND = "gan-generator"


@dataclass(frozen=True)
class GanConfig(JsonConfig):
    """Everything needed to rebuild the generator (and its training discriminator)."""

    KIND = KIND
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of the data
    # size of the generator's input z ~ N(0, I)
    noise_dim: int = option(64, "--noise-dim", "size of the noise z the generator takes (default {default})",
                            minimum=1)
    # channels of each stride-2 stage, discriminator order (the generator mirrors them)
    channels: tuple[int, ...] = option((32, 64), "--channels", "per stride-2 stage (default {default})")

    def validate(self) -> GanConfig:
        check_stages(self.image_shape, self.channels, "stride-2 stages")
        if not isinstance(self.noise_dim, int) or not 1 <= self.noise_dim <= 1024:
            raise ConfigError(f"noise_dim must be between 1 and 1024, got {self.noise_dim!r}")
        return self


class Generator(nn.Module):
    """z (B, noise_dim) -> images (B, C, H, W): dense, then transposed convolutions (DCGAN)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config.validate()
        c, h, w = config.image_shape
        chans = list(config.channels)
        stride = 2 ** len(chans)
        top = (chans[-1], h // stride, w // stride)
        layers: list[nn.Module] = [
            nn.Linear(config.noise_dim, top[0] * top[1] * top[2], bias=False),
            nn.BatchNorm1d(top[0] * top[1] * top[2]),
            nn.ReLU(),
            nn.Unflatten(1, top),
        ]
        for i in range(len(chans) - 1, 0, -1):  # (B, chans[i], h, w) -> (B, chans[i-1], 2h, 2w)
            layers += [nn.ConvTranspose2d(chans[i], chans[i - 1], 4, 2, 1, bias=False),
                       nn.BatchNorm2d(chans[i - 1]), nn.ReLU()]
        layers += [nn.ConvTranspose2d(chans[0], c, 4, 2, 1), nn.Tanh()]  # pixels in [-1, 1]
        self.net = nn.Sequential(*layers)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, noise_dim) -> (B, C, H, W) in [-1, 1] (the scale the discriminator sees)."""
        return self.net(z)

    def noise(self, n: int, seed: int = 0) -> torch.Tensor:
        """n seeded draws z ~ N(0, I): (n, noise_dim)."""
        return torch.randn(n, self.config.noise_dim, generator=torch.Generator().manual_seed(int(seed)))

    @torch.inference_mode()
    def generate(self, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Images in [0, 1] from noise (N, noise_dim), on the CPU: (N, C, H, W)."""
        out = [(self(z[i : i + batch_size].to(self.device)).float().cpu() + 1.0) / 2.0
               for i in range(0, len(z), batch_size)]
        return torch.cat(out) if out else torch.zeros(0, *self.config.image_shape)

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """n seeded samples, images in [0, 1]: (n, C, H, W)."""
        return self.generate(self.noise(n, seed))


class Discriminator(nn.Module):
    """Images (B, C, H, W) in [-1, 1] -> one logit each (B,): strided convolutions (DCGAN)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        c, h, w = config.image_shape
        layers: list[nn.Module] = []
        ch = c
        for i, out_ch in enumerate(config.channels):
            layers.append(nn.Conv2d(ch, out_ch, 4, 2, 1, bias=i == 0))
            if i > 0:  # DCGAN: no batch norm on the first layer
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.LeakyReLU(0.2))
            ch = out_ch
        stride = 2 ** len(config.channels)
        layers += [nn.Flatten(), nn.Linear(ch * (h // stride) * (w // stride), 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def _init_weights(m: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) weights, batch-norm scales N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


@dataclass
class GanTrainConfig(RunConfig):
    """One GAN training run (DCGAN's optimiser settings)."""

    out: str = "models/gan"  # folder, rewritten atomically after every epoch
    epochs: int = 15  # passes over the training split
    lr: float = 2e-4  # Adam learning rate of both networks (DCGAN's)
    beta1: float = 0.5  # Adam's first-moment decay (DCGAN's 0.5 instead of 0.9 keeps training stable)

    def validate(self) -> GanTrainConfig:
        super().validate()
        if not 0.0 <= self.beta1 < 1.0:
            raise ConfigError(f"beta1 must be in [0, 1), got {self.beta1!r}")
        return self


class GanTrainer(Reporting):
    """Trains a generator against a discriminator; reports through callbacks, prints nothing.

    Events as :class:`vae.training.trainer.Trainer`'s: on_start, on_batch_end (d_loss, g_loss), on_epoch_end,
    on_end. The epochs are :class:`vae.training.loop.EpochLoop`'s, which saves the generator (atomically)
    after every one; what is the GAN's own is the step on one batch (:meth:`_train_step`).
    """

    def __init__(self, config: GanConfig, train_config: GanTrainConfig,
                 train_data: ImageDataset | None = None, command: str | None = None):
        super().__init__()
        self.config = config.validate()
        self.train_config = train_config.validate()
        self.train_data = train_data
        self.command = command
        self.device = resolve_device(train_config.device)

    def run(self) -> TrainResult:
        tc, cfg = self.train_config, self.config
        use_threads(tc.threads)
        data = (self.train_data or load_dataset(tc.dataset, "train", data_dir=tc.data_dir)).subset(tc.limit)
        if tuple(data.image_shape) != tuple(cfg.image_shape):
            raise ConfigError(f"the GAN expects images of shape {tuple(cfg.image_shape)} but {data.name} "
                              f"has {data.image_shape}")
        loop = EpochLoop(self, tc, self.device, len(data), whole_batches=True)
        set_seed(tc.seed)
        gen, disc = Generator(cfg).to(self.device), Discriminator(cfg).to(self.device)
        gen.apply(_init_weights)
        disc.apply(_init_weights)
        x_all = data.images.to(self.device) * 2.0 - 1.0  # the generator's scale, [-1, 1]
        meta_base = run_meta(KIND, tc, data, self.command, self.device)
        return loop.run(gen, meta_base, self._train_step(gen, disc, x_all), _means, modules=(gen, disc))

    def _train_step(self, gen: Generator, disc: Discriminator, x_all: torch.Tensor) -> Step:
        """The step of one batch: the discriminator's update, then the generator's. It reports and
        sums the batch's losses and the discriminator's mean verdicts on real and generated images."""
        tc, cfg = self.train_config, self.config
        opt_g = torch.optim.Adam(gen.parameters(), lr=tc.lr, betas=(tc.beta1, 0.999), fused=True)
        opt_d = torch.optim.Adam(disc.parameters(), lr=tc.lr, betas=(tc.beta1, 0.999), fused=True)
        ones = torch.ones(tc.batch_size, device=self.device)
        zeros = torch.zeros(tc.batch_size, device=self.device)

        def step(idx: torch.Tensor, epoch: int, i: int) -> tuple[dict[str, float], dict[str, float]]:
            real = x_all[idx]
            fake = gen(torch.randn(tc.batch_size, cfg.noise_dim, device=self.device))
            # discriminator: real -> 1, generated -> 0
            d_real, d_fake = disc(real), disc(fake.detach())
            d_loss = (F.binary_cross_entropy_with_logits(d_real, ones)
                      + F.binary_cross_entropy_with_logits(d_fake, zeros))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            # generator: make the discriminator say 1 (the non-saturating loss)
            g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            vals = {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
                    "d_real": torch.sigmoid(d_real).mean().item(), "d_fake": torch.sigmoid(d_fake).mean().item()}
            if not all(math.isfinite(v) for v in vals.values()):
                raise ConfigError(f"the GAN's losses became {vals} at epoch {epoch + 1}, step {i + 1}; "
                                  "try a lower --lr")
            return {"loss": vals["g_loss"], **vals}, vals

        return step


def _means(sums: dict[str, float], seen: int, steps: int) -> dict[str, float]:
    """An epoch's history row: each batch value's mean over the epoch's batches."""
    return {k: v / steps for k, v in sums.items()}


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> ModelFolder:
    """Load a GAN generator folder strictly (as :func:`vae.checkpoint.load_checkpoint` does)."""
    return load_folder(path, GanConfig.from_dict, Generator, KIND, device)

