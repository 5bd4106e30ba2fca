"""Distributed training throughput: images/s with 1 and 2 processes (torchrun, DDP, gloo) here.

The default checkpoint's network (conv, its ``config.json``) is trained by ``vae.training.trainer.Trainer``
on seeded uniform noise of its image shape (a step costs the same whatever the pixels; no data
set needs to be present) with its global batch, for a fixed number of steps, under
``torchrun --standalone --nproc-per-node N -m benchmarks.train_ddp`` (this file is also the
worker). Step times come from rank 0's ``on_batch_end``; the first steps are a warm-up.

Ours: 2 processes, one thread each (torchrun's default), each taking half of every batch and
averaging gradients through gloo. Peer: 1 process with torch's own thread count (both cores).
On 2 cores this measures what DDP costs more than what it gains: the two processes share the
same two cores that one process already uses. Where a CUDA GPU is present, one more record
trains on it (one process, NCCL not needed). Reported as measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .records import Record, median, spread
from .settings import ROOT, Settings

NAME = "train_ddp"


def worker(argv: list[str] | None = None) -> None:
    """One process of the run (under torchrun): train, and on rank 0 write the step times as JSON."""
    from vae.config import ModelConfig, TrainConfig
    from vae.data.datasets import ImageDataset
    from vae.training import distributed
    from vae.training.trainer import Trainer

    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    d = distributed.init(args.device)
    finished = False
    try:
        ck = Path(args.checkpoint)
        mc = ModelConfig.from_dict(json.loads((ck / "config.json").read_text()))
        saved = json.loads((ck / "meta.json").read_text()).get("train_config") or {}
        bs = int(saved.get("batch_size", 128))
        gen = torch.Generator().manual_seed(0)  # the same images in every process
        images = torch.rand(args.steps * bs, *mc.image_shape, generator=gen)
        labels = torch.zeros(len(images), dtype=torch.long)
        train = ImageDataset("synthetic", "train", images, labels, ["x"])
        test = ImageDataset("synthetic", "test", images[:8], labels[:8], ["x"])
        with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
            tc = TrainConfig(dataset="synthetic", out=str(Path(tmp) / "ck"), epochs=1, batch_size=bs,
                             lr=float(saved.get("lr", 1e-3)), seed=0, device=args.device, keep_optimizer=False)
            trainer = Trainer(mc, tc, train, test)
            stamps: list[float] = []
            trainer.add_callback("on_start", lambda t, info: stamps.append(time.perf_counter()))
            trainer.add_callback("on_batch_end", lambda t, info: stamps.append(time.perf_counter()))
            trainer.run()
        if d is None or d.is_main:
            Path(args.out).write_text(json.dumps({
                "step_s": list(np.diff(stamps)), "batch_size": bs, "world_size": d.world_size if d else 1,
                "threads": torch.get_num_threads(), "device": str(trainer.device)}))
        finished = True
    finally:
        distributed.shutdown(finished)


def measure(checkpoint: Path, nproc: int, steps: int, device: str = "cpu") -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ddp-out-") as tmp:
        out = Path(tmp) / "steps.json"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
               "-m", "benchmarks.train_ddp", "--checkpoint", str(checkpoint), "--steps", str(steps),
               "--device", device, "--out", str(out)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"torchrun with {nproc} process(es) failed: {r.stderr[-600:]}")
        return json.loads(out.read_text())


def run(settings: Settings) -> list[Record]:
    warm, steps = settings.pick((3, 20), (10, 80))
    repeats = settings.pick(1, 2)
    runs: dict[str, list[float]] = {"1": [], "2": []}
    info: dict[str, dict] = {}
    for _ in range(repeats):  # 1, 2, 1, 2: drift hits both
        for n in ("1", "2"):
            settings.say(f"train_ddp: {n} process(es), {steps} steps")
            m = measure(settings.checkpoint, int(n), warm + steps)
            runs[n] += m["step_s"][warm:]
            info[n] = m
    bs = info["1"]["batch_size"]
    one, two = bs / median(runs["1"]), bs / median(runs["2"])
    where = f"{os.cpu_count()} CPU cores"
    recs = [
        Record("train_ddp_1_process", one, None, "images/s", len(runs["1"]), "higher",
               ours_label=f"1 process, {info['1']['threads']} torch threads (torchrun --nproc-per-node 1)",
               note=f"{where}; global batch {bs}; median step, {warm} warm-up steps not counted",
               extra={"step_ms": spread(np.array(runs["1"]) * 1000), "world_size": 1}),
        Record("train_ddp_2_processes", two, one, "images/s", len(runs["2"]), "higher",
               ours_label=f"2 processes x {info['2']['threads']} thread (DDP, gloo), each half of every batch",
               peer_label="1 process on the same cores (above)",
               note=f"{where}: the 2 processes share the cores the 1 process already uses; global batch {bs}",
               extra={"step_ms": spread(np.array(runs["2"]) * 1000), "world_size": 2}),
    ]
    if torch.cuda.is_available():
        settings.say(f"train_ddp: 1 process on the GPU, {steps} steps")
        g = measure(settings.checkpoint, 1, warm + steps, "cuda")
        t = g["step_s"][warm:]
        recs.append(Record("train_ddp_1_gpu", bs / median(t), one, "images/s", len(t), "higher",
                           ours_label=f"1 process on {torch.cuda.get_device_name(0)}",
                           peer_label="1 process on the CPU (above)", note=f"global batch {bs}",
                           extra={"step_ms": spread(np.array(t) * 1000)}))
    return recs


if __name__ == "__main__":
    worker()
