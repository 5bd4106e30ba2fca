"""Distributed training (torchrun + DistributedDataParallel, gloo on the CPU): the global batch is
split, not multiplied; two processes take the steps one process takes; a dead process stops the run
with one clear line and --resume finishes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from vae.cli import main
from vae.training.distributed import GlobalBatchSampler, epoch_seed

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--dataset", "digits", "--arch", "mlp", "--hidden", "32", "--latent-dim", "4", "--lr", "3e-3",
        "--kl-warmup", "1", "--no-progress"]
#: How far two runs that add the same per-image gradients in a different order may drift apart
#: (largest |difference| of any weight; the weights are of size ~0.5). A process sums the gradients
#: of its share of the batch, gloo adds the two shares, one process sums the whole batch in one go:
#: float32 addition is not associative (each addition rounds at ~6e-8 relative), and Adam carries
#: these last-digit differences from step to step. Measured here: 6e-8 after 48 steps, a few 1e-7
#: after a few hundred. Drawing the noise or the batches differently moves the weights by ~1e-2.
TOLERANCE = 1e-5


def torchrun(*args: str, nproc: int = 2) -> list[str]:
    # --standalone: a free port of its own (tests and other users of this machine never collide)
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
            "-m", "vae", "train", *args]


def run_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("VAE_DATA_DIR", None)  # digits ship with scikit-learn: nothing else is looked for
    return env


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


def max_difference(a: Path, b: Path) -> float:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    return max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)


def meta(path: Path) -> dict:
    return json.loads((path / "meta.json").read_text())


# -- the sampler --------------------------------------------------------------------------------
def test_one_process_draws_the_single_process_permutation():
    s = GlobalBatchSampler(1527, 100, num_replicas=1, rank=0, seed=3)
    for epoch in (0, 4):
        s.set_epoch(epoch)
        want = torch.randperm(1527, generator=torch.Generator().manual_seed(epoch_seed(3, epoch)))
        assert torch.equal(torch.cat([idx for idx, _ in s.batches()]), want)
        assert [size for _, size in s.batches()] == [100] * 15 + [27]
    assert isinstance(s, torch.utils.data.DistributedSampler) and len(s) == 1527


@pytest.mark.parametrize("world", [2, 3])
def test_each_global_batch_is_split_between_the_processes(world):
    one = GlobalBatchSampler(1527, 100, seed=0)
    shares = [GlobalBatchSampler(1527, 100, num_replicas=world, rank=r, seed=0) for r in range(world)]
    for s in (one, *shares):
        s.set_epoch(2)
    for step, (whole, size) in enumerate(one.batches()):
        parts = [list(s.batches())[step] for s in shares]
        assert all(n == size for _, n in parts)  # every process knows the global batch's size
        assert torch.equal(torch.sort(torch.cat([idx for idx, _ in parts])).values, torch.sort(whole).values)
        sizes = [len(idx) for idx, _ in parts]
        assert max(sizes) - min(sizes) <= 1  # nothing padded, nothing dropped
    assert sum(len(s) for s in shares) == 1527


def test_the_epoch_reshuffles():
    s = GlobalBatchSampler(500, 64, seed=0)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first and sorted(s) == sorted(first)


def test_a_single_process_run_records_its_world_size(tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["train", *ARGS, "--epochs", "1", "--batch-size", "100", "--out", str(out)]) == 0
    training = meta(out)["training"]
    assert training["world_size"] == 1 and "backend" not in training


# -- torchrun, two processes --------------------------------------------------------------------
def _worker(parent: int, rank: int, timeout: float = 60) -> int:
    """The pid of torchrun's worker of ``rank`` (its environment says RANK=...)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                env = (d / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == parent and f"RANK={rank}".encode() in env:
                return int(d.name)
        time.sleep(0.05)
    raise TimeoutError(f"no worker of rank {rank} under pid {parent}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds torchrun's workers through /proc (Linux)")
def test_a_killed_process_stops_the_run_and_resume_finishes_it(tmp_path, capsys):
    """Two processes (`train --nproc-per-node 2`), one killed mid-run: the other stops with one line,
    the launcher adds one saying which died, and nothing else is printed but the epochs' lines;
    --resume on two processes (torchrun) finishes the run, and it ends where one uninterrupted process
    ends: the global batch (32; the last of each epoch, 1,437 % 32 = 29 images, as 15 + 14) split, not
    multiplied, same seed, so the same weights up to the order of floating-point additions, the same
    losses in every epoch."""
    out, reference = tmp_path / "run", tmp_path / "reference"
    settings = [*ARGS, "--epochs", "12", "--batch-size", "32"]
    launch = [sys.executable, "-m", "vae", "train", "--nproc-per-node", "2", *settings, "--out", str(out)]
    proc = subprocess.Popen(launch, cwd=ROOT, env=run_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        victim = _worker(proc.pid, 1)
        deadline = time.monotonic() + 120
        while not (out / "meta.json").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)  # mid-run: after the first checkpoint, long before the last
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    lines = [line for line in err.splitlines() if line.startswith("python -m vae train: error:")]
    assert len(lines) == 2, err[-3000:]
    assert lines[1] == "python -m vae train: error: process 1 of 2 was killed by SIGKILL; the run stopped"
    assert not [line for line in err.splitlines() if not line.startswith(("epoch ", "python -m vae train: error:"))], \
        f"only the epochs' lines and the two errors: {err[-3000:]}"
    assert lines[0].startswith("python -m vae train: error: process 0 of 2 stopped: another process of the "
                               "run died or was stopped (")
    done = meta(out)["epochs_done"]
    assert 1 <= done < 12 and f"the checkpoint in {out} is whole, at epoch {done}: run the same command " \
                              "with --resume to finish" in lines[0]
    from vae.checkpoint import load_checkpoint

    assert len(load_checkpoint(out).history) == done  # whole: it loads, strictly
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no half-written folder left

    r = subprocess.run(torchrun("--out", str(out), "--resume", "--no-progress"), cwd=ROOT, env=run_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    # one process reports: one summary line, one line per epoch it ran
    assert r.stdout.count("complete: ") == 1, r.stdout
    assert sum(line.startswith("epoch ") for line in r.stderr.splitlines()) == 12 - done, r.stderr
    m2 = meta(out)
    assert m2["epochs_done"] == 12 and m2["status"] == "complete"
    assert m2["training"]["world_size"] == 2 and m2["training"]["backend"] == "gloo"
    assert m2["training"]["command"].startswith("python -m vae train --nproc-per-node 2 --dataset digits")
    assert m2["training"]["resumed_with"][0].startswith("torchrun --nproc-per-node 2 -m vae train --out")
    assert m2["train_config"]["batch_size"] == 32  # the global batch, as given
    # the interrupted run ends where one uninterrupted process ends
    assert main(["train", *settings, "--out", str(reference)]) == 0
    capsys.readouterr()
    diff = max_difference(out, reference)
    assert diff <= TOLERANCE, f"killed, resumed on 2 processes vs 1 uninterrupted: weights differ by up to {diff:.3g}"
    for a, b in zip(meta(reference)["history"], m2["history"], strict=True):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-3 and abs(a["test_neg_elbo"] - b["test_neg_elbo"]) < 1e-3


#: A process with Termination installed, and a finalizer like torch.library's ``_del_library`` during which
#: the SIGTERM arrives; what follows it decides when the finalizer runs.
SIGTERM_IN_FINALIZER = (
    "import gc, os, signal, sys, weakref\n"
    "import torch\n"
    "from vae.training.distributed import Dist, PeerLostError, Termination\n"
    "term = Termination(Dist(0, 2, 0, 'gloo', torch.device('cpu')), None).install()\n"
    "class Library: pass\n"
    "def _del_library(*args):  # as torch.library's finalizer: the signal arrives while it runs\n"
    "    os.kill(os.getpid(), signal.SIGTERM)\n"
    "    for _ in range(1000): sum(range(100))\n"
)


def _run_sigterm_script(tmp_path: Path, rest: str) -> subprocess.CompletedProcess:
    script = tmp_path / "sigterm.py"
    script.write_text(SIGTERM_IN_FINALIZER + rest, encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=run_env(), capture_output=True, text=True,
                          timeout=60)


def test_sigterm_while_exiting_adds_nothing_to_the_runs_line(tmp_path):
    """A process that has said its line (the run lost a peer: gloo's error) and exits can get torchrun's
    SIGTERM while ``weakref.finalize`` runs the finalizers left at exit (torch.library's
    ``_del_library``): its exception went to sys.excepthook, a "[rank0]: Traceback" of 10 lines after
    the run's one line (seen in a full run). Nothing but the line may be printed."""
    r = _run_sigterm_script(tmp_path, (
        "kept = Library()  # alive until exit: its finalizer runs in weakref's exit function\n"
        "weakref.finalize(kept, _del_library)\n"
        "print('python -m vae train: error: process 0 of 2 stopped', file=sys.stderr)\n"
        "sys.exit(1)\n"))
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.splitlines() == ["python -m vae train: error: process 0 of 2 stopped"], r.stderr


def test_sigterm_inside_a_finalizer_still_ends_the_run_with_one_line(tmp_path):
    """torchrun's SIGTERM can land while the garbage collector runs a finalizer (torch.library's
    ``_del_library``): Python then prints the handler's exception as "Exception ignored in ..." with a
    traceback and carries on. The run must instead stop at its next batch, with its one line."""
    r = _run_sigterm_script(tmp_path, (
        "weakref.finalize(Library(), _del_library)\n"
        "gc.collect()\n"
        "try:\n"
        "    for batch in range(100):\n"
        "        term.check()  # the trainer's callback after each batch\n"
        "except PeerLostError as e:\n"
        "    print(f'python -m vae train: error: {e}', file=sys.stderr)\n"
        "    sys.exit(1)\n"
        "sys.exit(0)\n"))
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.splitlines() == [
        "python -m vae train: error: process 0 of 2 stopped: another process of the run died or was stopped "
        "(torchrun sent SIGTERM)"], r.stderr
