"""Training throughput (images/s) of the shipped architectures, against pytorch/examples' VAE.

For each architecture among the shipped checkpoints (mlp, conv) the model is rebuilt from
that checkpoint's ``config.json`` and trained by ``vae.training.trainer.Trainer`` with its
``train_config`` (batch size, learning rate, KL warm-up, AMP) for a fixed number of
batches; step times come from the trainer's ``on_batch_end`` callback, and the first
batches are a warm-up that is not counted. Images are seeded uniform noise of the model's
image shape: the cost of a step does not depend on the pixel values, and no data set
needs to be present.

Peer: the VAE of pytorch/examples (``vae/main.py``: 784-400-20 fully connected, ReLU,
sigmoid output, summed BCE + KL, Adam 1e-3), its input widened to the same image size,
trained on the same images and batch size with that file's plain loop. It is the
textbook reference, not the same model: the ratio says what our architecture and trainer
cost relative to it, and is not a claim that either learns better. Measured on the CPU
with torch's thread count, and again on the GPU where one is present.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vae.config import ModelConfig, TrainConfig
from vae.data.datasets import ImageDataset
from vae.training.trainer import Trainer

from .quality import shipped_checkpoints
from .records import Record, median, spread
from .settings import Settings

NAME = "train_throughput"


class ExamplesVAE(nn.Module):
    """pytorch/examples' ``vae/main.py`` model, for ``n_in`` pixels instead of 784."""

    def __init__(self, n_in: int):
        super().__init__()
        self.n_in = n_in
        self.fc1 = nn.Linear(n_in, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, n_in)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.n_in))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def examples_loss(recon_x, x, mu, logvar, n_in: int):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, n_in), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def peer_step_times(images: torch.Tensor, batch_size: int, device: str) -> list[float]:
    """Seconds per step of pytorch/examples' training loop (one pass over ``images``)."""
    torch.manual_seed(0)
    n_in = images[0].numel()
    model = ExamplesVAE(n_in).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    x_all = images.to(device)
    perm = torch.randperm(len(images))
    stamps = [time.perf_counter()]
    for i in range(0, len(images), batch_size):
        data = x_all[perm[i : i + batch_size].to(x_all.device)]
        opt.zero_grad()
        recon, mu, logvar = model(data)
        loss = examples_loss(recon, data, mu, logvar, n_in)
        loss.backward()
        loss.item()
        opt.step()
        stamps.append(time.perf_counter())
    return list(np.diff(stamps))


def ours_step_times(mc: ModelConfig, tc_saved: dict, images: torch.Tensor, device: str) -> list[float]:
    """Seconds per step of vae.training.trainer.Trainer with the checkpoint's settings (one pass over ``images``)."""
    bs = int(tc_saved.get("batch_size", 128))
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        tc = TrainConfig(dataset="synthetic", out=str(Path(tmp) / "ck"), epochs=1, batch_size=bs,
                         lr=float(tc_saved.get("lr", 1e-3)), lr_schedule=tc_saved.get("lr_schedule", "cosine"),
                         kl_warmup_epochs=float(tc_saved.get("kl_warmup_epochs", 0.0)), seed=0, device=device,
                         amp=bool(tc_saved.get("amp", True)), threads=tc_saved.get("threads"),
                         half_weights=False, keep_optimizer=False)
        labels = torch.zeros(len(images), dtype=torch.long)
        train = ImageDataset("synthetic", "train", images, labels, ["x"])
        test = ImageDataset("synthetic", "test", images[:8], labels[:8], ["x"])
        trainer = Trainer(mc, tc, train, test)
        stamps: list[float] = []
        trainer.add_callback("on_start", lambda t, info: stamps.append(time.perf_counter()))
        trainer.add_callback("on_batch_end", lambda t, info: stamps.append(time.perf_counter()))
        trainer.run()
    return list(np.diff(stamps))


def by_arch(settings: Settings) -> dict[str, Path]:
    """One shipped checkpoint per architecture (the benchmarked checkpoint first)."""
    out: dict[str, Path] = {}
    paths = shipped_checkpoints(settings.checkpoint_root)
    paths.sort(key=lambda p: p.resolve() != settings.checkpoint.resolve())
    for p in paths:
        try:
            arch = ModelConfig.from_dict(json.loads((p / "config.json").read_text())).arch
        except (OSError, ValueError, TypeError):  # not a loadable checkpoint: nothing to measure
            continue
        out.setdefault(arch, p)
    return dict(sorted(out.items()))


def run(settings: Settings) -> list[Record]:
    warm, n_batches = settings.pick((3, 20), (10, 100))
    repeats = settings.pick(1, 2)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    recs: list[Record] = []
    for arch, path in by_arch(settings).items():
        mc = ModelConfig.from_dict(json.loads((path / "config.json").read_text()))
        meta = json.loads((path / "meta.json").read_text()) if (path / "meta.json").exists() else {}
        tc_saved = meta.get("train_config") or {}
        bs = int(tc_saved.get("batch_size", 128))
        gen = torch.Generator().manual_seed(settings.seed)
        images = torch.rand((warm + n_batches) * bs, *mc.image_shape, generator=gen)
        for device in devices:
            settings.say(f"train_throughput: {arch} ({path.name}) on {device}, {n_batches} batches of {bs}")
            ours_t: list[float] = []
            peer_t: list[float] = []
            for _ in range(repeats):  # ours, peer, ours, peer: drift hits both
                ours_t += ours_step_times(mc, tc_saved, images, device)[warm:]
                peer_t += peer_step_times(images, bs, device)[warm:]
            where = (f"cpu, {torch.get_num_threads()} torch threads" if device == "cpu"
                     else torch.cuda.get_device_name(0))
            suffix = "" if device == "cpu" else f"_{device}"
            recs.append(Record(
                f"{NAME}_{arch}{suffix}", bs / median(ours_t), bs / median(peer_t), "images/s", len(ours_t),
                "higher", ours_label=f"vae.training.trainer.Trainer, {arch} {list(mc.hidden_dims)} latent {mc.latent_dim} "
                                     f"({path.name}'s settings)",
                peer_label="pytorch/examples VAE (MLP 400-20) on the same images",
                note=f"{where}; batch {bs}, image {'×'.join(map(str, mc.image_shape))}; "
                     f"median step, {warm} warm-up batches not counted",
                extra={"device": where, "checkpoint": path.name, "batch_size": bs,
                       "ours_mean_images_per_s": bs * len(ours_t) / sum(ours_t),
                       "peer_mean_images_per_s": bs * len(peer_t) / sum(peer_t),
                       "ours_step_ms": spread(np.array(ours_t) * 1000),
                       "peer_step_ms": spread(np.array(peer_t) * 1000)},
            ))
    return recs
