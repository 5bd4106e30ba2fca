"""The epoch loop of the comparison models (vae.baselines: the GAN, the classifier).

    loop = EpochLoop(trainer, train_config, device, len(data), whole_batches=True)
    return loop.run(model, meta_base, step, summary, modules=(gen, disc))

What the trainers share lives here: a seeded shuffle per epoch (the same permutation as the VAE
trainer's, :func:`vae.training.distributed.epoch_seed`), the batches, the callbacks
(on_start, on_batch_end, on_epoch_end, on_end, as :class:`vae.training.trainer.Trainer` fires
them), a stop request honoured after the current batch, the history and an atomic checkpoint
after every epoch. What differs is the trainer's: ``step`` takes one batch's optimisation step,
``summary`` turns an epoch's sums into its history row.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import __version__
from ..checkpoint import save_checkpoint
from ..config import RunConfig
from ..data.datasets import ImageDataset
from ..errors import ConfigError
from .distributed import epoch_seed
from .trainer import Reporting, TrainResult, training_info

#: One batch: the images' indices (B,) on the device, the epoch and the batch's number in it (from 0)
#: -> (what on_batch_end reports, what the epoch sums).
Step = Callable[[torch.Tensor, int, int], tuple[dict[str, float], dict[str, float]]]
#: The epoch's sums, the images and the batches it saw -> its numbers for the history row.
Summary = Callable[[dict[str, float], int, int], dict[str, float]]


def use_threads(threads: int | None) -> None:
    """Let torch use ``threads`` CPU threads (None: torch's own choice)."""
    if threads:
        torch.set_num_threads(threads)


def run_meta(kind: str, train_config: Any, data: ImageDataset, command: str | None, device: torch.device,
             **extra: Any) -> dict[str, Any]:
    """The meta.json of a comparison model's run (a GAN, a classifier), before its history."""
    return {
        "library": "vae-explorer", "version": __version__, "kind": kind, "dataset": train_config.dataset,
        "class_names": data.class_names, "image_shape": list(data.image_shape), "train_size": len(data),
        **extra, "train_config": dataclasses.asdict(train_config), "training": training_info(command, device),
    }


def save_epoch(model: nn.Module, meta_base: dict[str, Any], history: list[dict[str, Any]],
               epochs: int, started: float, half: bool, **extra: Any) -> None:
    """Save a comparison model after an epoch (atomically), its history and wall time in meta.json."""
    final = len(history) == epochs
    meta = {**meta_base, **extra, "history": history, "epochs_done": len(history),
            "status": "complete" if final else "training",
            "training": {**meta_base["training"], "seconds": round(time.perf_counter() - started, 1)}}
    save_checkpoint(meta_base["train_config"]["out"], model, meta, half=half and final)


class EpochLoop:
    """Epochs of seeded shuffles and batches for one comparison model, reported through ``trainer``.

    ``whole_batches``: every batch holds ``batch_size`` images and the rest of a shuffle is left
    out (batch norm dislikes a batch of one); otherwise the last batch of an epoch is smaller.
    """

    def __init__(self, trainer: Reporting, config: RunConfig, device: torch.device, n_images: int,
                 whole_batches: bool = False):
        self.trainer, self.config, self.device, self.n_images = trainer, config, device, n_images
        bs = config.batch_size
        self.steps = n_images // bs if whole_batches else math.ceil(n_images / bs)
        if whole_batches and self.steps < 1:
            raise ConfigError(f"batch_size {bs} is larger than the {n_images} training images")

    def run(self, model: nn.Module, meta_base: dict[str, Any], step: Step, summary: Summary,
            modules: Sequence[nn.Module] = (), meta_keys: Sequence[str] = ()) -> TrainResult:
        """Train ``config.epochs`` epochs, saving ``model`` after each; ``modules`` (default: the
        model) are put in training mode at each epoch's start; ``meta_keys``: entries of the last
        history row that meta.json also holds at its top level."""
        tc, trigger = self.config, self.trainer.trigger
        trigger("on_start", {"epochs": tc.epochs, "start_epoch": 0, "steps_per_epoch": self.steps,
                             "device": str(self.device), "train_size": self.n_images})
        history: list[dict[str, Any]] = []
        t_run = time.perf_counter()
        status = "complete"
        for epoch in range(tc.epochs):
            for m in modules or (model,):
                m.train()
            t_epoch = time.perf_counter()
            sums, seen, done = self._epoch(epoch, step, t_epoch)
            if done < self.steps:  # asked to stop mid-epoch: keep the last finished epoch
                status = "stopped"
                break
            seconds = time.perf_counter() - t_epoch
            row = {"epoch": epoch + 1, **summary(sums, seen, self.steps), "seconds": seconds,
                   "images_per_s": seen / max(seconds, 1e-9)}
            history.append(row)
            save_epoch(model, meta_base, history, tc.epochs, t_run, tc.half_weights, **{k: row[k] for k in meta_keys})
            trigger("on_epoch_end", {**row, "epochs": tc.epochs, "path": tc.out})
        seconds = time.perf_counter() - t_run
        trigger("on_end", {"status": status, "path": tc.out, "history": history, "seconds": seconds})
        return TrainResult(Path(tc.out), history, status, seconds)

    def _epoch(self, epoch: int, step: Step, t_epoch: float) -> tuple[dict[str, float], int, int]:
        """One shuffle's batches: (the sums of what ``step`` returned, images seen, batches done)."""
        tc = self.config
        perm = torch.randperm(self.n_images, generator=torch.Generator().manual_seed(epoch_seed(tc.seed, epoch)))
        sums: dict[str, float] = {}
        seen = done = 0
        for i in range(self.steps):
            if self.trainer.stop_requested:
                break
            idx = perm[i * tc.batch_size : (i + 1) * tc.batch_size].to(self.device)
            report, add = step(idx, epoch, i)
            for k, v in add.items():
                sums[k] = sums.get(k, 0.0) + v
            seen += len(idx)
            done += 1
            self.trainer.trigger("on_batch_end", {
                "epoch": epoch, "step": i, "steps_per_epoch": self.steps, **report,
                "images_per_s": seen / max(time.perf_counter() - t_epoch, 1e-9)})
        return sums, seen, done
