"""Background training jobs: a :class:`~vae.training.trainer.Trainer` in a daemon thread, read through snapshots.

    registry = JobRegistry()  # runs up to default_slots() jobs at once; the others wait in a queue
    job = registry.start(model_config, train_config, owner=token)  # queued while every slot is busy
    snap = job.snapshot()  # a consistent copy: status, epoch, step, losses, history, error
    registry.stop(job.job_id, owner=token)  # only its owner may; ends after the current batch

UI-free: the app's Train page polls ``snapshot()``; nothing here prints or imports Streamlit.
A job belongs to the ``owner`` that started it (an opaque token the caller keeps, e.g. one per
browser): everyone may read its progress, only its owner may stop it, and an owner has at most
one job waiting or running. A job never raises out of its thread: every error ends it as
``"failed"`` with a one-line message. Its progress texts are :class:`~vae.i18n.Text` sentences,
so that a page can show them translated. The checkpoint is trained in a hidden sibling folder
(``.NAME.training``, skipped by :func:`vae.checkpoint.list_checkpoints`) and moved to its name
when the run ends, so a half-trained model never shows up among the finished ones.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ModelConfig, TrainConfig, train_options
from ..data.datasets import ImageDataset, load_training_data
from ..errors import CheckpointError, ConfigError, DataError
from ..explore.latent import COLLAPSED_KL
from ..folders import IMPORTED_NOTE, ONNX_KIND, folder_kind, update_meta
from ..i18n import N_, Text
from ..model import gaussian_kl
from ..options import show
from .trainer import NonFiniteLossError, Trainer

ACTIVE = ("queued", "running")
MAX_LOSS_POINTS = 2000  # batch losses kept for the live chart (older ones are thinned, not dropped)
MAX_CODES = 2000  # test images encoded for the live map of the codes
CODES_EVERY_S = 0.5  # the live map's codes are refreshed at most this often (and after the last epoch)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # used with fullmatch
KEEP_ENDED = 20  # ended jobs a registry remembers (each owner's last one is what a page shows)

# What a job is doing, or how it ended: whole sentences, so that a page can show them translated.
WAITING = N_("Waiting for a free slot.")
LOADING = N_("Loading the data.")
TRAINING_ON = (N_("Training on {n:,} images ({device}, {threads} thread)."),
               N_("Training on {n:,} images ({device}, {threads} threads)."))
EPOCH = N_("Epoch {epoch}.")
EVALUATING = N_("Evaluating epoch {epoch} on the test split.")
STOPPING = N_("Stopping after the current batch.")
FINISHED = (N_("Finished {n} epoch; saved to {out}."), N_("Finished {n} epochs; saved to {out}."))
STOPPED = (N_("Stopped after {n} finished epoch; saved to {out}."),
           N_("Stopped after {n} finished epochs; saved to {out}."))
STOPPED_EARLY = N_("Stopped before the first epoch finished; nothing was saved.")
CANCELLED = N_("Cancelled before it started; nothing was saved.")


def _counted(forms: tuple[str, str], count: int, **values: Any) -> Text:
    """The singular or plural sentence of ``forms`` for ``count`` (English's rule; a page translating the
    template it names picks its own language's form from the same count)."""
    return Text(forms[0] if count == 1 else forms[1], **values)


class JobError(RuntimeError):
    """A job cannot start (bad name, folder exists) or be stopped; the message says why."""


class JobBusyError(JobError):
    """The owner already has a job waiting or running (one each)."""


class JobOwnerError(JobError):
    """Someone other than its owner asked to stop a job."""


# -- names, paths and the equivalent command line ---------------------------------------------
def checkpoint_name_problem(root: str | Path, name: str) -> str | None:
    """Why ``name`` cannot be a new checkpoint folder under ``root``, or None when it can.

    A plain folder name (letters, digits, ``_ . -``; never a path) that no folder, file or
    unfinished run under ``root`` uses yet.
    """
    if not name:
        return "give the checkpoint a name"
    if not NAME_RE.fullmatch(name) or ".." in name:
        return (f"{name[:60]!r} is not a plain folder name: start with a letter or digit and use only "
                "letters, digits, '_', '.' and '-' (at most 100 characters, no '/' or '..')")
    root = Path(root)
    if folder_kind(root / name) == ONNX_KIND:
        return f"{IMPORTED_NOTE.format(name=repr(name))}; choose a new name to train a VAE of ours"
    if (root / name).exists():
        return f"a checkpoint named {name!r} already exists; choose another name"
    if staging_path(root / name).exists():
        return (f"an unfinished run named {name!r} is in the hidden folder {staging_path(root / name).name} "
                "(training in another process, or interrupted); choose another name, or delete that folder")
    return None


def staging_path(out: str | Path) -> Path:
    """The hidden folder a job trains in before moving the result to ``out``."""
    out = Path(out)
    return out.with_name(f".{out.name}.training")


def default_slots(cores: int | None = None) -> int:
    """How many background runs train at once: one per four cores, at least one (so on 2 cores runs
    queue rather than share the cores, each taking twice as long while the app slows down)."""
    return max(1, (cores or os.cpu_count() or 1) // 4)


def default_threads(slots: int | None = None, cores: int | None = None) -> int:
    """Torch threads of each background run: all cores but one, shared by the ``slots`` runs that may
    train at once (``default_slots()``), so that the app stays responsive."""
    cores = cores or os.cpu_count() or 1
    return max(1, (cores - 1) // (slots or default_slots(cores)))


# -- the classroom preset ------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """Settings for a run that is quick and reliably gives a usable model (see :data:`CLASSROOM`)."""

    name: str
    description: str
    dataset: str
    model: dict[str, Any]  # ModelConfig fields
    train: dict[str, Any]  # TrainConfig fields

    def configs(self, out: str | Path, threads: int | None = None) -> tuple[ModelConfig, TrainConfig]:
        mc = ModelConfig(**self.model)
        tc = TrainConfig(dataset=self.dataset, out=str(out), threads=threads, **self.train)
        return mc, tc


#: A 2-D VAE on scikit-learn's digits (on every machine, no download) in about 30 s on 2 CPU cores:
#: long enough to narrate. The KL warm-up keeps both dimensions in use: without it, a short run of this
#: model uses neither. Measurements: docs/measurements.md (python -m benchmarks --only classroom).
CLASSROOM = Preset(
    name="classroom",
    description=N_("a 2-D VAE on the 8×8 digits with a KL warm-up: about 30 s on 2 CPU cores"),
    dataset="digits",
    model=dict(arch="mlp", latent_dim=2, hidden_dims=(256, 128), beta=1.0, image_shape=(1, 8, 8)),
    train=dict(epochs=150, batch_size=64, lr=2e-3, kl_warmup_epochs=30.0, seed=0),
)


def collapse_verdict(kl_per_dim: np.ndarray, epochs: int, warmup: float, beta: float) -> str | None:
    """One paragraph when most latent dimensions collapsed (average KL below COLLAPSED_KL nats), or fewer
    than the two a map needs, saying what to change; None otherwise. A :class:`~vae.i18n.Text` (its
    sentence and each fix a marked template), so that the app can show it translated."""
    kl = np.asarray(kl_per_dim, dtype=float)
    used = int((kl >= COLLAPSED_KL).sum())
    d = len(kl)
    if d == 0 or (used >= min(2, d) and used * 2 >= d):
        return None
    fixes = []
    if epochs < 50:
        fixes.append(Text(N_("train longer ({epochs} epochs is too few for the encoder to catch up)"),
                          epochs=epochs))
    if warmup <= 0:
        fixes.append(Text(N_("add a KL warm-up of about a fifth of the epochs ({n})"), n=max(1, epochs // 5)))
    if beta > 1:
        fixes.append(Text(N_("lower β (it is {beta})"), beta=f"{beta:g}"))
    fixes.append(Text(N_("or start from the classroom preset (2-D digits, 150 epochs, 30 of them warm-up)")))
    if d == 1:  # then none is in use: used * 2 < d
        template = N_("Only {used} of {d} latent dimension in use (KL per dimension: {kl} nats; in use means at "
                      "least {threshold}): the model ignores most of its code, so its map shows little and "
                      "sliders on the unused dimensions change nothing. To fix it: {fixes}.")
    elif used * 2 < d:
        template = N_("Only {used} of {d} latent dimensions in use (KL per dimension: {kl} nats; in use means at "
                      "least {threshold}): the model ignores most of its code, so its map shows little and "
                      "sliders on the unused dimensions change nothing. To fix it: {fixes}.")
    else:
        template = N_("Only {used} of {d} latent dimensions in use (KL per dimension: {kl} nats; in use means at "
                      "least {threshold}): the model ignores part of its code, so its map shows little and "
                      "sliders on the unused dimensions change nothing. To fix it: {fixes}.")
    # the fixes as one Text of Texts (its "; " is not marked: each fix is translated, the separator kept)
    joined = Text("; ".join(f"{{f{i}}}" for i in range(len(fixes))), **{f"f{i}": f for i, f in enumerate(fixes)})
    return Text(template, used=used, d=d, kl=", ".join(f"{v:.2f}" for v in kl), threshold=COLLAPSED_KL,
                fixes=joined)


def train_command(model_config: ModelConfig, train_config: TrainConfig, out: str | None = None,
                  multiline: bool = False) -> str:
    """The ``python -m vae train`` command line with the same settings (``out`` replaces the path);
    ``multiline``: one option per line (shell continuation lines), so that no option is split.

    It names the options declared ``command="always"``, those declared ``"changed"`` whose value is
    not the default, and those of a ``group`` with their group's option (vae.config.train_options).
    """
    args: list[str] = []
    named: set[str] = set()
    for o in train_options():
        value = getattr(model_config if o.config is ModelConfig else train_config, o.name)
        if o.named_in_command(value, model_config.arch, named):
            args += [o.flag, show(value)]
            named.add(o.name)
    args += ["--out", str(out if out is not None else train_config.out)]
    if multiline:
        pairs = [f"{shlex.quote(args[i])} {shlex.quote(args[i + 1])}" for i in range(0, len(args), 2)]
        return " \\\n  ".join(["python -m vae train", *pairs])
    return "python -m vae train " + " ".join(shlex.quote(a) for a in args)


# -- what a page reads ---------------------------------------------------------------------------
@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's progress, safe to read while the job runs."""

    job_id: int
    name: str  # the checkpoint folder's name
    out: str  # where the finished checkpoint is (or will be)
    dataset: str
    command: str  # the equivalent `python -m vae train ...`
    status: str  # queued | running | complete | stopped | failed
    message: str  # what is happening now, or how the run ended: a sentence (a vae.i18n.Text, but a failure's)
    error: str | None  # the failure, one line (status "failed" only)
    epochs: int  # epochs asked for
    epoch: int  # epochs finished
    step: int  # batches done in the current epoch
    steps_per_epoch: int | None  # None until the data is loaded
    threads: int  # torch CPU threads the run uses
    images_per_s: float | None  # training throughput of the current epoch
    loss_x: tuple[float, ...]  # (P,) batch positions in epochs (fractional)
    loss_y: tuple[float, ...]  # (P,) batch losses, nats / image (β-weighted), P <= MAX_LOSS_POINTS
    history: tuple[dict[str, Any], ...]  # one row per finished epoch, as in meta.json
    started_at: float | None  # time.time() when the thread started
    finished_at: float | None  # time.time() when it ended
    latent_dim: int = 0  # of the model being trained
    codes: np.ndarray | None = None  # (M, 2) test codes μ (their first two principal axes when D > 2)
    code_labels: np.ndarray | None = None  # (M,) their classes
    codes_epoch: int = 0  # the finished epoch they were encoded after
    class_names: tuple[str, ...] = ()
    kl_per_dim: np.ndarray | None = None  # (D,) average KL per dimension over those test images
    kl_warmup: float = 0.0  # the run's KL warm-up, epochs
    beta: float = 1.0  # the run's β

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def progress(self) -> float:
        """Fraction of all batches done, 0..1."""
        if not self.steps_per_epoch:
            return 0.0 if self.active else 1.0
        done = self.epoch * self.steps_per_epoch + (self.step if self.active else 0)
        return min(1.0, done / (self.epochs * self.steps_per_epoch))

    @property
    def elapsed_s(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace so far (None before the first batches)."""
        p = self.progress
        if not self.active or p < 0.02:
            return None
        return self.elapsed_s * (1 - p) / p

    @property
    def final_test_neg_elbo(self) -> float | None:
        return float(self.history[-1]["test_neg_elbo"]) if self.history else None

    @property
    def collapse(self) -> str | None:
        """What to change when most latent dimensions collapsed (after the last encoded epoch), else None."""
        if self.kl_per_dim is None:
            return None
        return collapse_verdict(self.kl_per_dim, self.epochs, self.kl_warmup, self.beta)


class _LossTrace:
    """Batch losses for a live chart, bounded: when full, every other point is dropped."""

    def __init__(self, max_points: int = MAX_LOSS_POINTS):
        self.max_points = max(2, max_points)
        self.stride = 1  # keep every stride-th batch
        self.count = 0
        self.x: list[float] = []
        self.y: list[float] = []

    def add(self, x: float, y: float) -> None:
        i, self.count = self.count, self.count + 1
        if i % self.stride:
            return
        self.x.append(x)
        self.y.append(y)
        if len(self.x) > self.max_points:
            self.x, self.y = self.x[::2], self.y[::2]
            self.stride *= 2


# -- one job -----------------------------------------------------------------------------------
class TrainingJob:
    """Trains one checkpoint in a daemon thread; ``snapshot()`` and ``stop()`` are thread-safe.

    ``model_config.image_shape`` is taken from the data, as the CLI does. Datasets are never
    downloaded here unless ``download=True``: a missing split fails the job with the way to get it.
    ``owner``: who may stop it (:meth:`owned_by`; None: anyone); ``on_end(job)`` runs in the job's
    thread once it has ended (a registry starts the next queued job there).
    """

    def __init__(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        job_id: int = 0,
        command: str | None = None,
        staging: bool = True,
        download: bool = False,
        max_loss_points: int = MAX_LOSS_POINTS,
        owner: str | None = None,
        on_end: Callable[[TrainingJob], None] | None = None,
    ):
        if train_config.resume:
            raise JobError("a background job always starts a new run; resume one with "
                           "`python -m vae train --resume --out FOLDER`")
        self.model_config = model_config
        self.train_config = train_config.validate()
        self.out = Path(train_config.out)
        self.job_id = job_id
        self.command = command or train_command(model_config, train_config)
        self.staging = staging
        self.download = download
        self.threads = train_config.threads or default_threads()
        self.owner = owner
        self._on_end = on_end
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._trainer: Trainer | None = None
        self._thread = threading.Thread(target=self._run, name=f"vae-train-{self.out.name}", daemon=True)
        self._losses = _LossTrace(max_loss_points)
        self._test: ImageDataset | None = None  # the first MAX_CODES test images, for the live map
        self._codes_at = 0.0  # time.perf_counter() of the last encoding
        self._state: dict[str, Any] = dict(
            status="queued", message=Text(WAITING), error=None, epoch=0, step=0,
            steps_per_epoch=None, images_per_s=None, history=[], started_at=None, finished_at=None,
            codes=None, code_labels=None, codes_epoch=0, kl_per_dim=None,
        )

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the run after the current batch; the last finished epoch's checkpoint is kept."""
        with self._lock:
            self._stop.set()
            if self._trainer is not None:
                self._trainer.request_stop()
            if self._state["status"] in ACTIVE:
                self._state["message"] = Text(STOPPING)

    def cancel(self) -> None:
        """End a job that has not started (a queued one): it never will; nothing is written."""
        with self._lock:
            if self._thread.ident is not None or self._state["status"] != "queued":
                raise JobError(f"the run {self.out.name!r} has already started; stop it instead")
            self._stop.set()
            self._state.update(status="stopped", message=Text(CANCELLED), finished_at=time.time())

    def owned_by(self, owner: str | None) -> bool:
        """Whether ``owner`` may stop this job: its own owner's token (compared in constant time), or
        anyone when it was started without one."""
        if self.owner is None:
            return True
        return owner is not None and hmac.compare_digest(self.owner.encode(), owner.encode())

    @property
    def started(self) -> bool:
        """Whether its thread has been started (a queued job's has not)."""
        return self._thread.ident is not None

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def active(self) -> bool:
        with self._lock:
            return self._state["status"] in ACTIVE

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            s = self._state
            return JobSnapshot(
                job_id=self.job_id, name=self.out.name, out=str(self.out),
                dataset=self.train_config.dataset, command=self.command, status=s["status"],
                message=s["message"], error=s["error"], epochs=self.train_config.epochs,
                epoch=s["epoch"], step=s["step"], steps_per_epoch=s["steps_per_epoch"],
                threads=self.threads, images_per_s=s["images_per_s"],
                loss_x=tuple(self._losses.x), loss_y=tuple(self._losses.y),
                history=tuple(dict(h) for h in s["history"]),
                started_at=s["started_at"], finished_at=s["finished_at"],
                latent_dim=self.model_config.latent_dim, codes=s["codes"], code_labels=s["code_labels"],
                codes_epoch=s["codes_epoch"], kl_per_dim=s["kl_per_dim"],
                class_names=tuple(self._test.class_names) if self._test is not None else (),
                kl_warmup=float(self.train_config.kl_warmup_epochs), beta=float(self.model_config.beta),
            )

    def _set(self, **kw: Any) -> None:
        with self._lock:
            self._state.update(kw)

    # -- callbacks (run in the job's thread) -------------------------------------------------------
    def _on_start(self, trainer: Trainer, info: dict[str, Any]) -> None:
        self._set(steps_per_epoch=info["steps_per_epoch"],
                  message=_counted(TRAINING_ON, self.threads, n=info["train_size"], device=info["device"],
                                   threads=self.threads))

    def _on_batch_end(self, trainer: Trainer, info: dict[str, Any]) -> None:
        spe = info["steps_per_epoch"]
        with self._lock:
            self._losses.add(info["epoch"] + (info["step"] + 1) / spe, float(info["loss"]))
            self._state.update(step=info["step"] + 1, images_per_s=float(info["images_per_s"]))
            if self._state["status"] == "running" and not self._stop.is_set():
                self._state["message"] = Text(EVALUATING if info["step"] + 1 == spe else EPOCH,
                                              epoch=info["epoch"] + 1)

    def _on_epoch_end(self, trainer: Trainer, info: dict[str, Any]) -> None:
        row = {k: v for k, v in info.items() if k not in ("epochs", "path")}
        last = row["epoch"] >= self.train_config.epochs or self._stop.is_set()
        codes = self._encode(trainer) if last or time.perf_counter() - self._codes_at >= CODES_EVERY_S else None
        with self._lock:
            self._state["history"] = [*self._state["history"], row]
            self._state.update(epoch=row["epoch"], step=0)
            if codes is not None:
                self._state.update(codes=codes[0], kl_per_dim=codes[1], code_labels=codes[2],
                                   codes_epoch=row["epoch"])

    def _encode(self, trainer: Trainer) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The test images' codes μ in 2-D (the first two principal axes when D > 2), the average KL per
        dimension, and the labels: for the live map and the collapse check. A few ms for 2,000 images."""
        model, test = trainer.model, self._test
        if model is None or test is None:
            return None
        was = model.training
        model.eval()
        try:
            with torch.no_grad():
                mu, logvar = model.encode(test.images.to(model.device))
                kl = gaussian_kl(mu, logvar).float().mean(0).cpu().numpy()  # (D,)
        finally:
            model.train(was)
        m = mu.float().cpu().numpy()  # (M, D)
        if m.shape[1] > 2:
            centred = m - m.mean(0)
            m = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T  # (M, 2)
        elif m.shape[1] == 1:
            m = np.concatenate([m, np.zeros_like(m)], 1)
        self._codes_at = time.perf_counter()
        return m.astype(np.float32), kl.astype(np.float64), test.labels.numpy().copy()

    # -- the thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        previous_threads = torch.get_num_threads()
        work = staging_path(self.out) if self.staging else self.out
        self._set(status="running", message=Text(LOADING), started_at=time.time())
        status, error = "failed", None
        try:
            torch.set_num_threads(self.threads)  # this thread, and threads started meanwhile
            tc = dataclasses.replace(self.train_config, out=str(work), threads=self.threads)
            if work.exists():
                raise JobError(f"{work} already exists; choose another name or delete that folder")
            train, test = load_training_data(tc.dataset, tc.data_dir, tc.image_size, tc.channels,
                                             download=self.download)
            self._test = ImageDataset(test.name, test.split, test.images[:MAX_CODES], test.labels[:MAX_CODES],
                                      test.class_names, test.source)
            mc = dataclasses.replace(self.model_config, image_shape=tuple(train.image_shape)).validate()
            trainer = Trainer(mc, tc, train, test, command=self.command)
            trainer.add_callback("on_start", self._on_start)
            trainer.add_callback("on_batch_end", self._on_batch_end)
            trainer.add_callback("on_epoch_end", self._on_epoch_end)
            with self._lock:
                self._trainer = trainer
                if self._stop.is_set():
                    trainer.request_stop()
            result = trainer.run()
            status = result.status
        except (DataError, ConfigError, CheckpointError, NonFiniteLossError, JobError) as e:
            error = _one_line(str(e))
        except Exception as e:  # never an unhandled exception in a thread: report it instead
            error = _one_line(f"{type(e).__name__}: {e}")
        finally:
            torch.set_num_threads(previous_threads)
        try:
            moved = self._finish_folder(work, status)
        except (OSError, CheckpointError) as e:
            status, error, moved = "failed", _one_line(f"could not move {work} to {self.out}: {e}"), False
        if error and self.staging:
            error = error.replace(str(work), str(self.out) if moved else str(work))
        with self._lock:
            n = len(self._state["history"])
            if status == "complete":
                message = _counted(FINISHED, n, n=n, out=str(self.out))
            elif status == "stopped":
                message = _counted(STOPPED, n, n=n, out=str(self.out)) if moved else Text(STOPPED_EARLY)
            else:
                message = error or "failed"
            self._state.update(status=status, error=error if status == "failed" else None,
                               message=message, finished_at=time.time())
            self._trainer = None  # let the model and the data be freed
        if self._on_end is not None:
            self._on_end(self)

    def _finish_folder(self, work: Path, status: str) -> bool:
        """Move the trained folder to its name and fix its metadata; True when a checkpoint exists there."""
        if not work.exists():
            return False
        if work != self.out:
            if self.out.exists():
                raise JobError(f"{self.out} appeared while training; the run is kept in {work}")
            os.replace(work, self.out)
        tc = {**dataclasses.replace(self.train_config, threads=self.threads).to_dict(), "out": str(self.out)}
        updates: dict[str, Any] = {"train_config": tc}
        if status == "failed":
            updates["status"] = "failed"
        update_meta(self.out, **updates)
        return True


def _one_line(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- who runs when ------------------------------------------------------------------------------
class JobRegistry:
    """The server's training jobs: up to ``slots`` run at once (default :func:`default_slots`), the
    others wait in a queue, first come first served; each owner has at most one job waiting or
    running, and only a job's owner may stop it. Thread-safe."""

    def __init__(self, slots: int | None = None) -> None:
        self.slots = max(1, slots or default_slots())
        self._lock = threading.Lock()
        self._queue: list[TrainingJob] = []  # waiting, in order
        self._jobs: list[TrainingJob] = []  # started or ended, oldest first (ended ones trimmed to KEEP_ENDED)
        self._next_id = 1

    # -- what a page reads ------------------------------------------------------------------------------
    def running(self) -> list[TrainingJob]:
        """The jobs training now, oldest first."""
        with self._lock:
            return [j for j in self._jobs if j.active]

    def queued(self) -> list[TrainingJob]:
        """The jobs waiting for a slot, first in line first."""
        with self._lock:
            return list(self._queue)

    def place(self, job: TrainingJob) -> int | None:
        """``job``'s place in the queue (1: next to start), or None when it is not waiting."""
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else None

    def current(self) -> TrainingJob | None:
        """The oldest job training now, else the first waiting, else the last that ran (None before any)."""
        with self._lock:
            running = [j for j in self._jobs if j.active]
            return (running or self._queue or self._jobs[-1:] or [None])[0]

    def mine(self, owner: str | None) -> TrainingJob | None:
        """``owner``'s newest job (waiting, running or ended), or None."""
        if owner is None:
            return None
        with self._lock:
            return next((j for j in reversed([*self._jobs, *self._queue]) if j.owner is not None
                         and j.owned_by(owner)), None)

    def busy(self) -> bool:
        """Whether a job is training or waiting."""
        with self._lock:
            return bool(self._queue) or any(j.active for j in self._jobs)

    def get(self, job_id: int) -> TrainingJob | None:
        with self._lock:
            return next((j for j in [*self._jobs, *self._queue] if j.job_id == job_id), None)

    # -- starting and stopping ------------------------------------------------------------------------
    def start(self, model_config: ModelConfig, train_config: TrainConfig, owner: str | None = None,
              **kw: Any) -> TrainingJob:
        """Start a job now, or queue it while every slot is busy (its snapshot's status says which).
        Raises JobBusyError while ``owner`` has a job waiting or running, JobError when ``out`` is taken
        (by a folder, or by a job waiting or running)."""
        with self._lock:
            active = [*[j for j in self._jobs if j.active], *self._queue]
            mine = next((j for j in active if owner is not None and j.owner is not None and j.owned_by(owner)), None)
            if mine is not None:
                raise JobBusyError(f"your run {mine.out.name!r} is still {'waiting' if mine in self._queue else 'running'}; "
                                   "stop it or wait for it to end before starting another")
            out = Path(train_config.out)
            problem = checkpoint_name_problem(out.parent, out.name)
            if problem is None and any(Path(j.out).resolve() == out.resolve() for j in active):
                problem = f"a run named {out.name!r} is already waiting or training; choose another name"
            if problem:
                raise JobError(problem)
            job = TrainingJob(model_config, train_config, job_id=self._next_id, owner=owner,
                              on_end=self._ended, **kw)
            self._next_id += 1
            self._queue.append(job)
            self._advance()
            return job

    def stop(self, job_id: int, owner: str | None = None) -> TrainingJob:
        """Stop job ``job_id`` for ``owner``: a waiting one leaves the queue, a training one ends after the
        current batch. JobOwnerError when ``owner`` is not the job's, JobError when there is no such job."""
        with self._lock:
            job = next((j for j in [*self._jobs, *self._queue] if j.job_id == job_id), None)
            if job is None:
                raise JobError(f"there is no training run number {job_id}")
            if not job.owned_by(owner):
                raise JobOwnerError(f"the run {job.out.name!r} was started in another browser session; "
                                    "only that session can stop it")
            if job in self._queue:
                self._queue.remove(job)
                job.cancel()
                self._remember(job)
                return job
        job.stop()
        return job

    # -- the queue --------------------------------------------------------------------------------------
    def _advance(self) -> None:
        """Start waiting jobs while a slot is free (the registry's lock held)."""
        while self._queue and sum(j.active for j in self._jobs) < self.slots:
            job = self._queue.pop(0)
            self._remember(job)
            job.start()

    def _remember(self, job: TrainingJob) -> None:
        """Add ``job`` to the started or ended ones, forgetting the oldest ended beyond KEEP_ENDED."""
        self._jobs.append(job)
        ended = [j for j in self._jobs if not j.active]
        for old in ended[:max(0, len(ended) - KEEP_ENDED)]:
            self._jobs.remove(old)

    def _ended(self, job: TrainingJob) -> None:
        """A job's thread has ended: its slot goes to the next in line."""
        with self._lock:
            self._advance()
