"""Projection cost and quality: UMAP (cold and warm JIT), PCA and t-SNE on 10,000 and 70,000 codes.

Codes are the checkpoint's posterior means: the test split for the small size, train +
test splits for the large one (skipped, with a note, where the train split is missing).
Each method is recorded on its own (``peer`` is null): seconds in ``ours`` and
``trustworthiness`` (``vae.explore.projection.trustworthiness``, k = 10, on a random subset of
at most 5,000 points) as an extra key and in the note. Settings are the app's
(``ProjectionConfig``). "Cold" UMAP runs in a fresh process with an empty numba cache
(import + compile + fit, what the first ever map costs); "warm" runs in this process
after a small fit has compiled everything.

Quick: 2,000 test codes, no cold UMAP (the first_map benchmark's peer is a cold start) and
no large size (the full run does 10,000 and 70,000; t-SNE on 70,000 points alone takes a
long while on two cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vae.checkpoint import load_checkpoint
from vae.errors import DataError
from vae.explore.projection import ProjectionConfig, fit_projection, trustworthiness
from vae.explore.sets import explore_set

from .records import Record, median, spread
from .settings import ROOT, Settings

NAME = "projection"
TRUST_K = 10


def codes_for(checkpoint: Path, n_small: int, say, big: bool = True) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(small codes, large codes or None, why the large set is missing)."""
    ck = load_checkpoint(checkpoint)
    test = ck.load_data("test")
    small = np.asarray(explore_set(ck, test).mu[:n_small], dtype=np.float32)
    if not big:
        return small, None, "train + test size only in the full run (UMAP alone takes minutes there)"
    try:
        train = ck.load_data("train")
    except DataError as e:
        return small, None, f"no train split here ({str(e).splitlines()[0][:120]})"
    say(f"projection: encoding {len(train) + len(test):,} images (train + test)")
    mu_train, _ = ck.model.embed(train.images)
    big = np.concatenate([mu_train.numpy(), explore_set(ck, test).mu]).astype(np.float32)
    if len(big) <= len(small):
        return small, None, f"train + test has only {len(big)} images"
    return small, big, ""


def umap_cold(codes: np.ndarray) -> dict:
    """Import + compile + fit in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory(prefix="bench-umap-cold-") as tmp:
        path = Path(tmp) / "codes.npy"
        np.save(path, codes)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba"),
               "VAE_EXPLORER_CACHE": str(Path(tmp) / "cache")}
        out = subprocess.run([sys.executable, "-m", "benchmarks.umap_cold", str(path)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(f"cold UMAP run failed:\n{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def fit_timed(codes: np.ndarray, method: str, repeats: int = 1) -> tuple[list[float], np.ndarray]:
    times, coords = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        coords, _ = fit_projection(codes, ProjectionConfig(method=method))
        times.append(time.perf_counter() - t0)
    return times, coords


def record(method: str, codes: np.ndarray, times: list[float], coords: np.ndarray | None, note: str = "",
           extra: dict | None = None) -> Record:
    tw = trustworthiness(codes, coords, k=TRUST_K) if coords is not None else None
    label = {"umap": "UMAP (warm JIT)", "umap_cold": "UMAP (cold: import + numba compile + fit)",
             "pca": "PCA", "tsne": "t-SNE (sklearn)"}[method]
    parts = [f"trustworthiness {tw:.3f}" if tw is not None else "", note]
    return Record(f"projection_{method}_{len(codes)}", median(times), None, "s", len(times), "lower",
                  ours_label=label, note="; ".join(p for p in parts if p),
                  extra={"trustworthiness": tw, "points": len(codes), "spread": spread(times), **(extra or {})})


def run(settings: Settings) -> list[Record]:
    n_small = settings.pick(2_000, 10_000)
    small, big, why = codes_for(settings.checkpoint, n_small, settings.say, big=not settings.quick)
    recs: list[Record] = []
    cold = None
    if not settings.quick:  # quick: first_map's peer already shows what a cold start costs
        settings.say(f"projection: cold UMAP on {len(small):,} codes in a fresh process")
        cold = umap_cold(small)
    settings.say("projection: warming up UMAP in this process")
    fit_projection(small[: min(len(small), 300)], ProjectionConfig())  # compile (or load) numba code
    sizes = [(small, settings.pick(1, 2), True)]
    if big is not None:
        sizes.append((big, 1, True))
    for codes, repeats, with_tsne in sizes:
        n = len(codes)
        settings.say(f"projection: UMAP on {n:,} codes")
        times, coords = fit_timed(codes, "umap", repeats)
        if codes is small and cold is not None:
            recs.append(record("umap_cold", codes, [cold["total_s"]], coords,
                               note=f"of which import {cold['import_s']:.1f} s; compile ≈ cold − warm",
                               extra={"cold": cold}))
        recs.append(record("umap", codes, times, coords))
        settings.say(f"projection: PCA on {n:,} codes")
        times, coords = fit_timed(codes, "pca", 5)
        recs.append(record("pca", codes, times, coords))
        if with_tsne:
            settings.say(f"projection: t-SNE on {n:,} codes (slow)")
            times, coords = fit_timed(codes, "tsne", 1)
            recs.append(record("tsne", codes, times, coords))
    if big is None:
        recs.append(Record("projection_large", None, None, "s", 0, note=f"train + test size skipped: {why}"))
    return recs
