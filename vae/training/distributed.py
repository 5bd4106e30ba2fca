"""Training on several processes, machines and GPUs with PyTorch's own engine (DDP + torchrun).

    torchrun --nproc-per-node 2 -m vae train ...                       # 2 processes, this machine
    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d \\
             --rdzv-endpoint HOST:29500 -m vae train ...               # the same on each machine

torchrun starts the processes and sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`init` joins them into one process group: NCCL on GPUs (one GPU per process,
``cuda:LOCAL_RANK``), gloo on CPUs. :class:`vae.training.trainer.Trainer` then trains a
DistributedDataParallel model (see :func:`current`).

The global batch stays ``--batch-size``: :class:`GlobalBatchSampler` draws the same
permutation as a single-process run (seeded from the seed and the epoch) and gives each
process every W-th image of each global batch, so W processes take the same optimisation
steps as one process would, up to the order in which floating-point sums are added.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from ..errors import ConfigError

T = TypeVar("T")
#: How long a collective waits for a process that neither answers nor dies (gloo and NCCL).
TIMEOUT = datetime.timedelta(minutes=10)


class PeerLostError(RuntimeError):
    """Another process of a distributed run died or was stopped; this one stopped too."""


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's shuffle (and of its noise, plus one)."""
    return (seed * 1_000_003 + epoch * 7919) % (2**63)


@dataclass(frozen=True)
class Dist:
    """This process's place in a distributed run."""

    rank: int  # 0 .. world_size - 1; rank 0 writes the checkpoint and reports progress
    world_size: int  # processes in the run, on all machines
    local_rank: int  # this process's index on its machine (its GPU)
    backend: str  # "nccl" (GPUs) or "gloo" (CPUs)
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        return f"process {self.rank} of {self.world_size}"


#: The environment variable through which :func:`launch` tells its processes the command the user typed
#: (meta.json records it instead of the torchrun command they would otherwise reconstruct).
COMMAND_ENV = "VAE_LAUNCH_COMMAND"


def launch(nproc: int, argv: list[str], command: str) -> int:
    """``python -m vae train --nproc-per-node N ...``: N processes of this machine, as
    ``torchrun --standalone --nproc-per-node N -m vae train ...`` starts them (PyTorch's elastic
    launcher, in this process), each running ``argv``. Returns the exit code.

    What differs from torchrun is what a failure prints: the processes' own lines (rank 0's one
    sentence naming the epoch to resume from) and one line saying which process failed and how,
    instead of the launcher's log records and its ChildFailedError traceback and report.
    """
    import logging
    import sys
    import uuid

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    for name in ("torch.distributed.elastic", "torch.distributed.launcher"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # its records of SIGTERMs and exit codes
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # as torchrun does for more than one process
    os.environ[COMMAND_ENV] = command
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=str(uuid.uuid4()),
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0, monitor_interval=0.1)
    try:
        elastic_launch(config, sys.executable)("-m", "vae", *argv)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        how = (f"was killed by {failure.signal_name()}" if failure.exitcode < 0
               else f"exited with code {failure.exitcode}")
        print(f"{command.split(' --', 1)[0]}: error: process {rank} of {nproc} {how}; the run stopped",
              file=sys.stderr, flush=True)
        return 1
    return 0


def launch_command() -> str | None:
    """The command :func:`launch` was started with, in one of its processes (None under torchrun)."""
    return os.environ.get(COMMAND_ENV) or None


def launched() -> bool:
    """True in a process that torchrun started for a run of more than one process."""
    return "RANK" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(device: str = "auto") -> Dist | None:
    """Join torchrun's process group (once) and return this process's place; None outside torchrun.

    ``device`` as for training: "auto" and "cuda" use this process's GPU (``LOCAL_RANK``) with
    NCCL when CUDA is there; "cpu" (or no GPU) uses gloo. Apple's MPS has no collective backend.
    """
    if not launched():
        return None
    if device == "mps":
        raise ConfigError("distributed training on Apple's MPS is not supported by PyTorch; use --device cpu")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    gpu = device in ("auto", "cuda") and torch.cuda.is_available()
    if device == "cuda" and not gpu:
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use --device auto")
    if gpu:
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local_rank} but this machine has {torch.cuda.device_count()} GPU(s); "
                              "start at most one process per GPU (--nproc-per-node)")
        torch.cuda.set_device(local_rank)
    backend = "nccl" if gpu else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=TIMEOUT)
    return current()


def current() -> Dist | None:
    """This process's place when a process group of more than one process is initialised, else None."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    backend = dist.get_backend()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank, backend, device)


def shutdown(finished: bool = False) -> None:
    """Leave the process group (at the end of a run; harmless when there is none).

    ``finished``: the run ended normally in this process, so every process gets here. Then all
    leave together: this one first lets go of what still holds the group (a DistributedDataParallel
    wrapper outlives its trainer in a reference cycle until the garbage collector runs) and waits for
    the others (rank 0 evaluates and saves the last epoch after the others are done): a process that
    leaves while rank 0 still saves can abort at exit ("terminate called without an active
    exception"), and torchrun then reports the finished run as failed (docs/measurements.md). After
    a failure the others may never come: no waiting then.
    """
    if dist.is_available() and dist.is_initialized():
        if finished and dist.get_world_size() > 1:
            gc.collect()
            with contextlib.suppress(RuntimeError):
                dist.barrier()
        with contextlib.suppress(RuntimeError):
            dist.destroy_process_group()


@contextlib.contextmanager
def collective(d: Dist | None, what: str, out: str | None = None) -> Iterator[None]:
    """Turn the failure of a collective (a process died: gloo's "Connection closed by peer",
    NCCL's errors, a timeout) into one :class:`PeerLostError` sentence."""
    if d is None:
        yield
        return
    try:
        yield
    except RuntimeError as e:  # torch.distributed.DistBackendError is one
        if isinstance(e, PeerLostError):
            raise
        text = re.sub(r"\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", " ".join(str(e).split()))  # gloo's source line
        first = re.split(r"(?<=[.!]) ", text, maxsplit=1)[0][:200]
        raise PeerLostError(lost_message(d, f"while {what}: {first}", out)) from None


def lost_message(d: Dist, why: str, out: str | None) -> str:
    """One sentence: which process stopped, why, and what is left in ``out`` to resume from."""
    kept = ""
    if out:
        try:
            done = json.loads((Path(out) / "meta.json").read_text(encoding="utf-8")).get("epochs_done")
            kept = (f"; the checkpoint in {out} is whole, at epoch {done}: run the same command with --resume "
                    "to finish")
        except (OSError, ValueError):
            kept = f"; no epoch had finished, so {out} holds no checkpoint yet: start the run again"
    return f"{d.describe()} stopped: another process of the run died or was stopped ({why}){kept}"


class Termination:
    """torchrun's SIGTERM, which it sends to the other processes when one failed, as one
    :class:`PeerLostError` sentence (:func:`lost_message`).

    The signal handler raises it where the process is; when that is inside a finalizer (torch's
    ``_del_library``, a weakref callback run by the garbage collector), Python would print the
    exception as "Exception ignored in ..." with its traceback and carry on, and a finalizer that runs
    at the interpreter's exit (``weakref.finalize``'s exit function) prints it through
    ``sys.excepthook``: :meth:`install` keeps such an exception quiet in both, and :meth:`check` (a
    trainer callback, after every batch) raises it at the next batch instead, so that the run still
    ends with its one line (a process already on its way out has said its line).
    """

    def __init__(self, d: Dist, out: str | None):
        self.d, self.out = d, out
        self.requested = False
        self.message = ""

    def install(self) -> Termination:
        import signal
        import sys

        def on_sigterm(signum, frame) -> None:
            if self.requested:
                return  # said once; the run is already on its way out
            self.requested = True
            self.message = lost_message(self.d, "torchrun sent SIGTERM", self.out)
            raise PeerLostError(self.message)

        previous, previous_excepthook = sys.unraisablehook, sys.excepthook

        def quiet_in_finalizers(unraisable) -> None:
            if not isinstance(unraisable.exc_value, PeerLostError):
                previous(unraisable)

        def quiet_at_exit(kind, value, tb) -> None:  # finalizers run at exit report through sys.excepthook
            if not (isinstance(value, PeerLostError) and self.requested):
                previous_excepthook(kind, value, tb)

        signal.signal(signal.SIGTERM, on_sigterm)
        sys.unraisablehook, sys.excepthook = quiet_in_finalizers, quiet_at_exit
        return self

    def check(self, *_args: Any) -> None:
        """Raise the stop when SIGTERM came (and its exception was lost in a finalizer)."""
        if self.requested:
            raise PeerLostError(self.message)


def on_main(d: Dist | None, fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 only and hand its result (or its error, re-raised as the same class with
    the same message) to every process: reading and checking what only rank 0 may touch."""
    if d is None:
        return fn()
    payload: list[Any] = [None]
    if d.is_main:
        try:
            payload[0] = ("ok", fn())
        except Exception as e:  # every rank must hear of it, or the others wait for ever
            payload[0] = ("error", e)
    with collective(d, "sharing rank 0's answer"):
        dist.broadcast_object_list(payload, src=0, device=d.device if d.backend == "nccl" else None)
    kind, value = payload[0]
    if kind == "error":
        raise value
    return value


def all_sum(d: Dist | None, values: list[float], device: torch.device) -> list[float]:
    """The sums over every process of a few numbers (float64); the numbers themselves when alone."""
    if d is None:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # the caller says what a failure means (collective)
    return t.tolist()


class GlobalBatchSampler(DistributedSampler):
    """Each process's share of every global batch of ``batch_size`` images.

    One permutation per epoch, seeded from ``seed`` and the epoch (:func:`epoch_seed`; the same
    one a single-process run draws), cut into global batches; process ``rank`` takes positions
    ``rank, rank + W, ...`` of each. Nothing is padded or dropped: when a batch does not split
    evenly (the last one, say) the shares differ by one image, and :meth:`batches` says how
    large the whole batch is so that each share's loss can be weighted to the global mean.
    """

    def __init__(self, n: int, batch_size: int, num_replicas: int = 1, rank: int = 0, seed: int = 0):
        super().__init__(range(n), num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        self.n, self.batch_size = n, batch_size

    def permutation(self) -> torch.Tensor:
        gen = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
        return torch.randperm(self.n, generator=gen)

    def batches(self) -> Iterator[tuple[torch.Tensor, int]]:
        """(this process's indices, the global batch's size) for every step of the epoch."""
        perm = self.permutation()
        for start in range(0, self.n, self.batch_size):
            batch = perm[start : start + self.batch_size]
            yield batch[self.rank :: self.num_replicas], len(batch)

    def __iter__(self):
        for idx, _ in self.batches():
            yield from idx.tolist()

    def __len__(self) -> int:
        return sum(len(idx) for idx, _ in self.batches())
