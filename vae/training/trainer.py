"""Training: a Trainer that reports through callbacks and prints nothing itself.

    trainer = Trainer(ModelConfig(...), TrainConfig(...))
    trainer.add_callback("on_batch_end", lambda t, info: ...)
    result = trainer.run()

Events: ``on_start(trainer, info)``, ``on_batch_end(trainer, info)``,
``on_epoch_end(trainer, info)``, ``on_end(trainer, info)``. The CLI attaches a tqdm bar;
the app's Train page attaches a progress bar and a live chart.

After every epoch the checkpoint in ``TrainConfig.out`` is rewritten atomically; a
non-finite loss stops the run with :class:`NonFiniteLossError` and keeps the last good
checkpoint. Runs are reproducible on the CPU for a given seed, and ``resume=True``
continues an interrupted run to the same result as an uninterrupted one.

Under torchrun (after :func:`vae.training.distributed.init`, as ``python -m vae train`` does) the
same Trainer trains a DistributedDataParallel model: ``batch_size`` stays the global batch,
split between the processes; only rank 0 reads and writes the checkpoint and fires the
callbacks; a process that dies stops the others with :class:`vae.training.distributed.PeerLostError`.
"""

from __future__ import annotations

import math
import platform
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..checkpoint import check_trainable, load_checkpoint, load_optimizer_state, save_checkpoint
from ..config import ModelConfig, TrainConfig
from ..data.datasets import ImageDataset, canonical_dataset_name, load_training_data
from ..data.images import DataBackground
from ..errors import CheckpointError, ConfigError
from ..model import VAE
from ..options import options, show
from . import distributed
from .distributed import GlobalBatchSampler

Callback = Callable[["Trainer", dict[str, Any]], None]
EVENTS = ("on_start", "on_batch_end", "on_epoch_end", "on_end")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an unavailable explicit choice is an error."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use --device auto")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' was asked for but Apple's MPS is not available; use --device auto")
    if device not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device must be auto, cpu, cuda or mps, got {device!r}")
    return torch.device(device)


def optimisation_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """Backpropagate the loss into every parameter's ``.grad``, then let the optimiser move them."""
    optimizer.zero_grad(set_to_none=True)  # .grad adds up: clear the last step's
    loss.backward()  # d loss / d parameter, by the chain rule
    optimizer.step()  # Adam: w -= lr * m_hat / (sqrt(v_hat) + eps)


class _Objective(nn.Module):
    """The loss as a module's forward: DistributedDataParallel synchronises the gradients of what
    its wrapped module's forward computed (calling ``model.loss`` past it would skip that)."""

    def __init__(self, model: VAE):
        super().__init__()
        self.vae = model

    def forward(self, x: torch.Tensor, beta: float, eps: torch.Tensor):
        out = self.vae.loss(x, beta=beta, eps=eps)
        return out.loss, out.recon, out.kl


@dataclass
class TrainResult:
    """What a run produced: the checkpoint path, its history and how it ended."""

    path: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    status: str = "complete"  # complete | stopped | finished-before (resume asked for no more epochs)
    seconds: float = 0.0


class Reporting:
    """Callbacks and a stop request, shared by the trainers (the VAE's, the GAN's, the classifier's)."""

    def __init__(self) -> None:
        self.callbacks: dict[str, list[Callback]] = defaultdict(list)
        self._stop = threading.Event()

    # -- callbacks, as in minGPT ---------------------------------------------------------------
    def add_callback(self, event: str, fn: Callback) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; events are {', '.join(EVENTS)}")
        self.callbacks[event].append(fn)

    def trigger(self, event: str, info: dict[str, Any]) -> None:
        """Call ``event``'s callbacks, in the order they were added, with ``(self, info)``."""
        for fn in self.callbacks.get(event, []):
            fn(self, info)

    def request_stop(self) -> None:
        """Ask the run to stop after the current batch (the last finished epoch is kept)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()


def training_info(command: str | None, device: torch.device) -> dict[str, Any]:
    """How a model was trained, for its meta.json: the command, the device and the versions."""
    return {
        "command": command,
        "device": str(device) if device.type != "cpu" else
        f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
    }


@dataclass
class _Run:
    """One run's state, passed between the pieces of :meth:`Trainer.run`."""

    out: Path  # the checkpoint folder
    train: ImageDataset
    test: ImageDataset
    model: VAE
    optimizer: torch.optim.Optimizer
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per finished epoch
    start_epoch: int = 0  # epochs finished before this run (resume)
    previous_seconds: float = 0.0  # their training time
    objective: nn.Module | None = None  # the DDP-wrapped loss (distributed runs only)
    sampler: GlobalBatchSampler | None = None
    x_train: torch.Tensor | None = None  # the training images, on the device
    steps_per_epoch: int = 0
    use_amp: bool = False  # bfloat16 autocast (CUDA only)
    meta_base: dict[str, Any] = field(default_factory=dict)  # meta.json without the history
    t_run: float = 0.0  # time.perf_counter() when the epochs started


class Trainer(Reporting):
    """Trains a VAE on a dataset, saving a checkpoint after every epoch."""

    def __init__(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        train_data: ImageDataset | None = None,
        test_data: ImageDataset | None = None,
        command: str | None = None,
    ):
        super().__init__()
        self.train_config = train_config.validate()
        self.model_config = model_config.validate()
        self.train_data = train_data
        self.test_data = test_data
        self.command = command
        # a process of a distributed run (torchrun, after vae.training.distributed.init): its rank's device
        self.dist = distributed.current()
        self.device = self.dist.device if self.dist else resolve_device(train_config.device)
        self.model: VAE | None = None  # set by run(); callbacks may read it
        self.optimizer: torch.optim.Optimizer | None = None
        self.notes: list[str] = []  # what the user should know (inferred data shape, resume caveats)
        self.warnings: list[str] = []  # odd data; both reach on_start's info, one sentence each

    # -- data ------------------------------------------------------------------------------------
    def _load_data(self) -> tuple[ImageDataset, ImageDataset]:
        tc = self.train_config
        train, test = self.train_data, self.test_data
        if train is None or test is None:
            loaded = load_training_data(tc.dataset, tc.data_dir, tc.image_size, tc.channels)
            train = loaded[0] if train is None else train
            test = loaded[1] if test is None else test
        train = train.subset(tc.limit)
        self.notes += train.notes
        self.warnings += train.warnings
        if train.image_shape != tuple(self.model_config.image_shape):
            raise ConfigError(
                f"the model expects images of shape {tuple(self.model_config.image_shape)} but "
                f"{train.name} has {train.image_shape}; set image_shape to match"
            )
        return train, test

    # -- the loop --------------------------------------------------------------------------------
    def trigger(self, event: str, info: dict[str, Any]) -> None:
        if self.dist is None or self.dist.is_main:  # one progress report per run, not one per process
            super().trigger(event, info)

    def run(self) -> TrainResult:
        run = self._prepare()
        if run.start_epoch == self.train_config.epochs:  # a resumed run that asked for no more epochs
            result = TrainResult(run.out, run.history, "finished-before", run.previous_seconds)
            self.trigger("on_end", {"status": result.status, "path": str(run.out), "history": run.history,
                                    "seconds": run.previous_seconds})
            return result
        self._start(run)
        tc, d = self.train_config, self.dist
        status = "complete"
        for epoch in range(run.start_epoch, tc.epochs):
            t_epoch = time.perf_counter()
            sums, seen, beta, lr = self._train_epoch(run, epoch, t_epoch)
            if seen < len(run.train):  # asked to stop mid-epoch: keep the last finished epoch
                status = "stopped"
                break
            train_seconds = time.perf_counter() - t_epoch
            if d is not None and not d.is_main:
                continue  # rank 0 evaluates, saves and reports; the others go on to the next epoch
            row = self._epoch_row(run, epoch, sums, seen, beta, lr, train_seconds)
            self._save_epoch(run, epoch)
            self.trigger("on_epoch_end", {**row, "epochs": tc.epochs, "path": str(run.out)})
        seconds = run.previous_seconds + time.perf_counter() - run.t_run
        if status == "stopped" and run.history and (d is None or d.is_main):
            from ..folders import update_meta
            update_meta(run.out, status="stopped")
        result = TrainResult(run.out, run.history, status, seconds)
        self.trigger("on_end", {"status": status, "path": str(run.out), "history": run.history,
                                "seconds": seconds})
        return result

    def _prepare(self) -> _Run:
        """The data, the seeded model and its optimiser, and with ``resume`` the saved run's state."""
        tc, mc, d = self.train_config, self.model_config, self.dist
        if tc.threads:
            torch.set_num_threads(tc.threads)
        world = d.world_size if d else 1
        if tc.batch_size < world:
            raise ConfigError(f"--batch-size {tc.batch_size} is the global batch, split between {world} "
                              f"processes: it must be at least {world}")
        train, test = self._load_data()
        set_seed(tc.seed)
        model = VAE(mc).to(self.device)
        # fused: every weight updated in one kernel (on a CPU, Adam's step ~4x faster than its per-tensor loop)
        optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, fused=True)
        self.model, self.optimizer = model, optimizer  # visible to callbacks
        run = _Run(Path(tc.out), train, test, model, optimizer)
        self._previous_training: dict[str, Any] = {}
        if tc.resume:  # rank 0 reads the checkpoint; the others get its optimizer state (weights: DDP)
            run.start_epoch, run.history, run.previous_seconds, opt_state = distributed.on_main(
                d, lambda: self._restore(run.out, model, optimizer))
            if d is not None and not d.is_main and opt_state is not None:
                optimizer.load_state_dict(opt_state)
        return run

    def _start(self, run: _Run) -> None:
        """Everything the epochs need (DDP's wrapper, the sampler, the step counts), then on_start."""
        tc, d = self.train_config, self.dist
        world = d.world_size if d else 1
        # DDP broadcasts rank 0's weights to every process here, and averages gradients in backward
        run.objective = (nn.parallel.DistributedDataParallel(
            _Objective(run.model), device_ids=[d.local_rank] if d.backend == "nccl" else None) if d else None)
        run.sampler = GlobalBatchSampler(len(run.train), tc.batch_size, world, d.rank if d else 0, tc.seed)
        run.steps_per_epoch = math.ceil(len(run.train) / tc.batch_size)
        run.use_amp = tc.amp and self.device.type == "cuda"
        run.meta_base = self._meta_base(run.train, run.test)
        self.trigger("on_start", {
            "epochs": tc.epochs, "start_epoch": run.start_epoch, "steps_per_epoch": run.steps_per_epoch,
            "device": str(self.device), "num_parameters": run.model.num_parameters(),
            "train_size": len(run.train), "test_size": len(run.test), "history": run.history,
            "notes": list(self.notes), "warnings": list(self.warnings), "world_size": world})
        run.t_run = time.perf_counter()
        images = run.train.images
        run.x_train = images.to(self.device) if self.device.type != "cpu" else images

    def _train_epoch(self, run: _Run, epoch: int, t_epoch: float) -> tuple[dict[str, float], int, float, float]:
        """One epoch's batches: (sums of the loss terms weighted by images, images seen, the last
        batch's beta and learning rate). Fewer images than the split's when a stop was asked for."""
        tc, d = self.train_config, self.dist
        model, optimizer, sampler, x_train = run.model, run.optimizer, run.sampler, run.x_train
        model.train()
        sampler.set_epoch(epoch)
        torch.manual_seed(distributed.epoch_seed(tc.seed, epoch) + 1)  # the noise: the same in every process
        sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
        seen, beta, lr = 0, 0.0, 0.0
        for step, (idx, batch_size) in enumerate(sampler.batches()):
            if d is None and self._stop.is_set():
                break
            gstep = epoch * run.steps_per_epoch + step
            beta = self._beta(gstep, run.steps_per_epoch)
            lr = self._lr(gstep, run.steps_per_epoch * tc.epochs)
            for g in optimizer.param_groups:
                g["lr"] = lr
            if d is None:
                xb = x_train[idx.to(x_train.device)] if self.device.type != "cpu" else x_train[idx]
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=run.use_amp):
                    out = model.loss(xb, beta=beta)
                loss, n, stop = out.loss, len(idx), False
                terms = (loss.item(), out.recon.item(), out.kl.item())
            else:
                loss, n, terms, stop = self._distributed_forward(run.objective, x_train, idx, batch_size, beta,
                                                                 run.use_amp, run.out)
            if not math.isfinite(terms[0]):
                self._fail_non_finite(run.out, epoch, step, terms[0], run.history)
            if stop:
                break
            with distributed.collective(d, "averaging the gradients", str(run.out)):
                optimisation_step(optimizer, loss)
            seen += n
            sums["loss"] += terms[0] * n
            sums["recon"] += terms[1] * n
            sums["kl"] += terms[2] * n
            self.trigger("on_batch_end", {
                "epoch": epoch, "step": step, "steps_per_epoch": run.steps_per_epoch,
                "global_step": gstep, "loss": terms[0], "recon": terms[1],
                "kl": terms[2], "beta": beta, "lr": lr,
                "images_per_s": seen / max(time.perf_counter() - t_epoch, 1e-9),
            })
        return sums, seen, beta, lr

    def _epoch_row(self, run: _Run, epoch: int, sums: dict[str, float], seen: int, beta: float, lr: float,
                   train_seconds: float) -> dict[str, Any]:
        """The epoch's history row (the test split's -ELBO measured now), appended to the history."""
        test_terms = evaluate_elbo(run.model, run.test.images, seed=self.train_config.seed)
        row = {
            "epoch": epoch + 1,
            "train_loss": sums["loss"] / seen,
            "train_recon": sums["recon"] / seen,
            "train_kl": sums["kl"] / seen,
            "train_neg_elbo": (sums["recon"] + sums["kl"]) / seen,
            "test_neg_elbo": test_terms["neg_elbo"],
            "test_recon": test_terms["recon"],
            "test_kl": test_terms["kl"],
            "beta": beta,
            "lr": lr,
            "seconds": train_seconds,
            "images_per_s": seen / max(train_seconds, 1e-9),
        }
        if not all(math.isfinite(v) for v in row.values()):
            self._fail_non_finite(run.out, epoch, run.steps_per_epoch, float("nan"), run.history)
        run.history.append(row)
        return row

    def _save_epoch(self, run: _Run, epoch: int) -> None:
        """The checkpoint after ``epoch``, atomically; Adam's state kept unless the last epoch drops it."""
        tc = self.train_config
        final = epoch + 1 == tc.epochs
        elapsed = run.previous_seconds + time.perf_counter() - run.t_run
        meta = {**run.meta_base, "history": run.history, "epochs_done": epoch + 1,
                "status": "complete" if final else "training",
                "training": {**run.meta_base["training"], "seconds": round(elapsed, 1)}}
        save_checkpoint(
            run.out, run.model, meta,
            optimizer_state=run.optimizer.state_dict() if (tc.keep_optimizer or not final) else None,
            half=tc.half_weights and final,
        )

    def _distributed_forward(self, objective: nn.Module, x_train: torch.Tensor, idx: torch.Tensor,
                             batch_size: int, beta: float, use_amp: bool, out: Path):
        """This process's share of one global batch: its loss, weighted so that the gradients DDP
        averages are those of the global batch's mean loss, and the batch's losses over all processes.

        Returns (loss to backpropagate, images in the global batch, (loss, recon, kl) means over it,
        whether any process was asked to stop).
        """
        d = self.dist
        n = len(idx)
        # the noise of the whole global batch, drawn alike everywhere: each image gets the eps a
        # single process would have drawn for it (rows rank, rank + W, ... as its images)
        eps = torch.randn(batch_size, self.model_config.latent_dim, device=self.device)[d.rank :: d.world_size]
        if n == 0:  # a last batch smaller than the world: a stand-in image, weighted 0, keeps DDP in step
            idx, eps = torch.zeros(1, dtype=torch.long), torch.zeros(1, eps.shape[1], device=self.device)
        xb = x_train[idx.to(x_train.device)]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            loss, recon, kl = objective(xb, beta, eps)
        local = [loss.item() * n, recon.item() * n, kl.item() * n] if n else [0.0, 0.0, 0.0]
        with distributed.collective(d, "adding up the batch's losses", str(out)):
            total = distributed.all_sum(d, [*local, float(n), float(self._stop.is_set())], self.device)
        means = tuple(v / max(total[3], 1.0) for v in total[:3])
        return loss * (n * d.world_size / batch_size), int(total[3]), means, total[4] > 0

    # -- pieces ----------------------------------------------------------------------------------
    def _beta(self, gstep: int, steps_per_epoch: int) -> float:
        beta = self.model_config.beta
        warm = self.train_config.kl_warmup_epochs
        if warm <= 0:
            return beta
        return beta * min(1.0, (gstep + 1) / (warm * steps_per_epoch))

    def _lr(self, gstep: int, total_steps: int) -> float:
        lr = self.train_config.lr
        if self.train_config.lr_schedule == "constant":
            return lr
        lo = lr / 20.0
        return lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * gstep / max(total_steps, 1)))

    def _restore(self, out: Path, model: VAE, optimizer: torch.optim.Optimizer):
        tc = self.train_config
        if not out.exists():
            raise CheckpointError(f"--resume: {out} does not exist yet; start without --resume")
        check_trainable(out)
        ck = load_checkpoint(out)
        if ck.config != self.model_config:
            diff = {k: (v, getattr(self.model_config, k)) for k, v in ck.config.to_dict().items()
                    if v != self.model_config.to_dict()[k]}
            raise ConfigError(
                f"--resume: the checkpoint in {out} was trained with a different model config "
                f"({', '.join(f'{k}: {a} vs {b}' for k, (a, b) in diff.items())}); "
                "use the same settings or a new --out"
            )
        saved = TrainConfig.from_dict(ck.meta["train_config"]) if ck.meta.get("train_config") else tc
        # the run's settings that change the numbers it computes (declared resume="refuse")
        changed = [(o.flag, getattr(saved, o.name), getattr(tc, o.name)) for o in options(TrainConfig)
                   if o.resume == "refuse" and getattr(saved, o.name) != getattr(tc, o.name)]
        if changed:
            raise ConfigError(
                f"--resume: {out} was trained with "
                + ", ".join(f"{flag} {show(was)} (this run asks for {show(now)})" for flag, was, now in changed)
                + "; pass the run's values to continue it exactly, or choose a new --out"
            )
        done = len(ck.history)
        if done > tc.epochs:
            raise ConfigError(
                f"--resume: {out} has already finished {done} epochs, more than --epochs {tc.epochs}; "
                f"pass --epochs M (more than {done}) to train further"
            )
        planned = saved.epochs
        if done < tc.epochs and tc.epochs != planned and tc.lr_schedule == "cosine":
            self.notes.append(
                f"{out} was planned for --epochs {planned}; going on to {tc.epochs} stretches the cosine "
                f"learning-rate schedule from here, so the result differs from a run started with --epochs {tc.epochs}"
            )
        model.load_state_dict({k: v.to(self.device) for k, v in ck.model.state_dict().items()})
        opt_state = load_optimizer_state(out)
        if opt_state is not None:
            optimizer.load_state_dict(opt_state)
        elif done < tc.epochs:
            self.notes.append(f"{out} holds no optimizer state (saved with --no-optimizer-state): Adam starts "
                              "afresh, so the result differs slightly from an uninterrupted run")
        history = ck.history
        self._previous_training = dict(ck.meta.get("training") or {})
        previous = float(self._previous_training.get("seconds", 0.0))
        # for the other processes of a distributed run (this one has it in place already)
        shared_opt = optimizer.state_dict() if self.dist is not None and opt_state is not None else None
        return done, history, previous, shared_opt

    def _fail_non_finite(self, out: Path, epoch: int, step: int, value: float, history) -> None:
        kept = (f"the last good checkpoint (epoch {len(history)}) in {out} is kept"
                if history else "no checkpoint had been saved yet")
        msg = (f"the loss became {value} at epoch {epoch + 1}, step {step + 1}; training stopped and "
               f"{kept}. Try a lower --lr or a KL warm-up")
        self.trigger("on_end", {"status": "failed", "path": str(out), "history": history,
                                 "error": msg})
        raise NonFiniteLossError(msg)

    def _meta_base(self, train: ImageDataset, test: ImageDataset) -> dict[str, Any]:
        tc = self.train_config
        training = training_info(self.command, self.device)
        training["world_size"] = self.dist.world_size if self.dist else 1  # processes (torchrun)
        if self.dist:
            training["backend"] = self.dist.backend
        prev = getattr(self, "_previous_training", {})
        if prev.get("command"):  # a resumed run: keep how it was started, list how it was resumed
            training["resumed_with"] = [*prev.get("resumed_with", []), self.command]
            training["command"] = prev["command"]
        meta = {
            "library": "vae-explorer",
            "version": __version__,
            "dataset": canonical_dataset_name(tc.dataset),
            "class_names": train.class_names,
            "image_shape": list(train.image_shape),
            "train_size": len(train),
            "test_size": len(test),
            "train_config": tc.to_dict(),
            "training": training,
            "data_background": DataBackground.of(train.images).to_dict(),
        }
        if tc.dataset.startswith("folder:"):
            c, h, _ = train.image_shape
            meta["folder"] = {"path": meta["dataset"].split(":", 1)[1], "given_as": tc.dataset.split(":", 1)[1],
                              "image_size": h, "channels": c}
        if self.warnings:
            meta["data_warnings"] = list(self.warnings)
        return meta


@torch.inference_mode()
def evaluate_elbo(model: VAE, images: torch.Tensor, batch_size: int = 1000, seed: int = 0):
    """Mean -ELBO, reconstruction and KL (nats/image) over ``images``, one seeded sample each."""
    was_training = model.training
    model.eval()
    terms = model.per_image_terms(images, batch_size=batch_size, seed=seed)
    if was_training:
        model.train()
    recon = terms["recon"].double().mean().item()
    kl = terms["kl"].double().mean().item()
    return {"neg_elbo": recon + kl, "recon": recon, "kl": kl}


def train(model_config: ModelConfig, train_config: TrainConfig, **kw) -> TrainResult:
    """Convenience wrapper: build a :class:`Trainer` and run it."""
    return Trainer(model_config, train_config, **kw).run()
