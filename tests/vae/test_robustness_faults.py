"""Robustness, faults lose nothing: a run killed mid-epoch resumes to the same weights, a NaN stops
the run and keeps the last good checkpoint, corrupted or stale cache files are recomputed (never
shown), and a full disk gives a clear error with nothing half-written.
"""

from __future__ import annotations

import base64
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import torch
from app_helpers import app_test
from pagecheck import assert_app_ok
from streamlit.testing.v1 import AppTest

import vae.checkpoint
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.cli import main
from vae.data.cache import load_arrays, save_arrays
from vae.errors import CheckpointError
from vae.folders import update_meta

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_DIGITS = ROOT / "checkpoints" / "digits"


def run_main(argv: list[str]) -> tuple[int, str]:
    """The CLI in this process: (exit code, stderr)."""
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def one_line(err: str) -> str:
    """The error: one line, at the end, after (at most) the per-epoch progress lines."""
    lines = err.strip().splitlines()
    assert lines and "Traceback" not in err, err
    assert lines[-1].startswith("python -m vae ") and ": error: " in lines[-1], err
    assert all(line.startswith("epoch ") for line in lines[:-1]), err
    return lines[-1]


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- SIGKILL in the middle of an epoch -----------------------------------------------------------------
TRAIN = ["train", "--dataset", "digits", "--arch", "mlp", "--latent-dim", "3", "--hidden", "256,128",
         "--epochs", "3", "--batch-size", "2", "--seed", "3", "--threads", "1", "--no-progress"]


def _train(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vae", *TRAIN, "--out", str(out), *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _epochs_done(out: Path) -> int:
    try:
        return int(json.loads((out / "meta.json").read_text())["epochs_done"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_training_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path):
    full_out, cut_out = tmp_path / "full", tmp_path / "cut"
    full = _train(full_out)  # the reference, trained beside the victim (one thread each)
    victim = _train(cut_out)
    deadline = time.monotonic() + 240
    while _epochs_done(cut_out) < 1:
        assert victim.poll() is None, victim.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the first epoch never finished"
        time.sleep(0.02)
    time.sleep(0.3)  # the second epoch (about 2 s of batches) is under way
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    assert victim.returncode == -signal.SIGKILL

    # the previous checkpoint is whole: it loads strictly, epoch 1, the same as the reference's epoch 1
    ck = load_checkpoint(cut_out)
    assert ck.meta["epochs_done"] == 1 and ck.meta["status"] == "training"
    assert (cut_out / "optimizer.safetensors").is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".cut")]  # no half-written folder

    assert full.wait(300) == 0, full.communicate()[1][-2000:]
    reference = load_checkpoint(full_out)
    assert ck.history[0]["test_neg_elbo"] == pytest.approx(reference.history[0]["test_neg_elbo"], abs=1e-6)

    resumed = _train(cut_out, "--resume")
    assert resumed.wait(300) == 0, resumed.communicate()[1][-2000:]
    done = load_checkpoint(cut_out)
    assert [r["epoch"] for r in done.history] == [1, 2, 3] and done.meta["status"] == "complete"
    ref_w, got_w = reference.model.state_dict(), done.model.state_dict()
    for k in ref_w:
        assert torch.allclose(ref_w[k], got_w[k], atol=1e-5), k
    assert done.history[-1]["test_neg_elbo"] == pytest.approx(reference.history[-1]["test_neg_elbo"], abs=1e-3)


# -- NaN during training, from the command line ----------------------------------------------------------
def test_nan_in_training_exits_2_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    """Library-level: tests/vae/test_train.py::test_nan_loss_stops_and_keeps_last_good_checkpoint."""
    from vae.model import VAE, LossOutput

    real_loss, calls = VAE.loss, {"n": 0}

    def poisoned(self, x, beta=None):  # the 4th batch of the second epoch (23 batches an epoch) goes NaN
        calls["n"] += 1
        out = real_loss(self, x, beta)
        if calls["n"] == 23 + 4:
            return LossOutput(out.loss * float("nan"), out.recon, out.kl, out.kl_per_dim)
        return out

    monkeypatch.setattr(VAE, "loss", poisoned)
    out = tmp_path / "nan"
    code, err = run_main(["train", "--dataset", "digits", "--arch", "mlp", "--latent-dim", "3", "--hidden", "32",
                          "--epochs", "3", "--batch-size", "64", "--out", str(out), "--no-progress"])
    assert code == 2
    assert "the loss became nan at epoch 2, step 4" in one_line(err)
    assert "the last good checkpoint (epoch 1)" in err and "Try a lower --lr" in err
    ck = load_checkpoint(out)
    assert ck.meta["epochs_done"] == 1 and all(torch.isfinite(v).all() for v in ck.model.state_dict().values())


def test_nan_in_the_first_epoch_writes_nothing(tmp_path):
    out = tmp_path / "diverged"
    r = subprocess.run([sys.executable, "-m", "vae", "train", "--dataset", "digits", "--arch", "mlp",
                        "--lr", "1e6", "--epochs", "2", "--out", str(out), "--no-progress"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "no checkpoint had been saved yet" in one_line(r.stderr)
    assert not out.exists() and list(tmp_path.iterdir()) == []


# -- a full disk, or a read-only checkpoints folder --------------------------------------------------------
def _enospc(*a, **k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    ck = load_checkpoint(SHIPPED_DIGITS)
    path = save_checkpoint(tmp_path / "ck", ck.model, {"dataset": "digits", "round": 1})
    return ck.model, path


@pytest.mark.parametrize("where", ["weights", "optimizer", "fsync", "swap-out", "swap-in"])
def test_disk_full_while_saving_keeps_the_previous_checkpoint(saved, monkeypatch, where):
    model, path = saved
    before = files_of(path)
    if where in ("weights", "optimizer"):
        real = vae.checkpoint.save_file

        def save_file(tensors, filename, metadata=None):
            if Path(filename).name == ("model.safetensors" if where == "weights" else "optimizer.safetensors"):
                Path(filename).write_bytes(b"\0" * 100)  # a partial write, then the disk is full
                _enospc()
            return real(tensors, filename, metadata=metadata)

        monkeypatch.setattr(vae.checkpoint, "save_file", save_file)
    elif where == "fsync":
        monkeypatch.setattr(vae.checkpoint.os, "fsync", _enospc)
    else:  # the renames that put the new folder in place: the first, or the second
        real_replace, calls = os.replace, {"n": 0}

        def replace(src, dst):
            calls["n"] += 1
            if calls["n"] == (1 if where == "swap-out" else 2):
                _enospc()
            return real_replace(src, dst)

        monkeypatch.setattr(vae.checkpoint.os, "replace", replace)
    opt = torch.optim.Adam(model.parameters()).state_dict() if where == "optimizer" else None
    with pytest.raises(CheckpointError, match=r"saving the checkpoint to .*ck failed \(No space left on device\); "
                                              r"the previous one is kept"):
        save_checkpoint(path, model, {"dataset": "digits", "round": 2}, optimizer_state=opt)
    monkeypatch.undo()
    assert files_of(path) == before  # byte for byte
    assert [p.name for p in path.parent.iterdir()] == ["ck"]  # no temporary or old folder left behind
    assert load_checkpoint(path).meta["round"] == 1


def test_read_only_checkpoints_folder_gives_a_clear_error(saved, monkeypatch):
    """As root, chmod cannot make a folder read-only, so the file system's answer is simulated."""
    model, path = saved

    def read_only(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(vae.checkpoint.tempfile, "mkdtemp", read_only)
    with pytest.raises(CheckpointError, match="cannot write a checkpoint in .*: Read-only file system"):
        save_checkpoint(path.parent / "new", model, {})
    monkeypatch.setattr(vae.checkpoint.tempfile, "mkstemp", read_only)
    with pytest.raises(CheckpointError, match=r"updating .*meta.json failed \(Read-only file system\); "
                                              "the previous one is kept"):
        update_meta(path, metrics={"x": 1})
    assert not (path.parent / "new").exists()


def test_disk_full_when_updating_metadata(saved, monkeypatch):
    _, path = saved
    before = files_of(path)
    monkeypatch.setattr(vae.checkpoint.os, "replace", _enospc)
    with pytest.raises(CheckpointError, match=r"updating .*meta.json failed \(No space left on device\)"):
        update_meta(path, metrics={"neg_elbo": 1.0})
    assert files_of(path) == before and sorted(p.name for p in path.iterdir()) == sorted(before)


def test_disk_full_during_training_from_the_cli(tmp_path, monkeypatch):
    real, calls = vae.checkpoint.save_file, {"n": 0}

    def save_file(tensors, filename, metadata=None):
        if Path(filename).name == "model.safetensors":
            calls["n"] += 1
            if calls["n"] == 2:  # the second epoch's checkpoint
                _enospc()
        return real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(vae.checkpoint, "save_file", save_file)
    out = tmp_path / "run"
    code, err = run_main(["train", "--dataset", "digits", "--arch", "mlp", "--latent-dim", "3", "--hidden", "32",
                          "--epochs", "3", "--out", str(out), "--no-progress"])
    assert code == 2
    assert "No space left on device" in one_line(err) and "the previous one is kept" in err
    assert load_checkpoint(out).meta["epochs_done"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_disk_full_while_caching_loses_only_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _enospc)
    assert save_arrays(tmp_path / "cache", "enc-x", {"a": np.zeros(3)}) is None
    assert list((tmp_path / "cache").iterdir()) == []


# -- corrupted or stale cache files, in the app ----------------------------------------------------------
def _decode(v) -> np.ndarray:
    if isinstance(v, dict):  # plotly's typed arrays: {"dtype": "f4", "bdata": base64}
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def map_points(at: AppTest) -> dict[int, tuple[float, float]]:
    """Every data point the Map page's chart draws: index -> (x, y)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    points = {}
    for trace in spec["data"]:
        if "customdata" not in trace:
            continue
        cd = _decode(trace["customdata"]).reshape(-1, 2)
        xs, ys = _decode(trace["x"]), _decode(trace["y"])
        for (kind, i), x, y in zip(cd, xs, ys, strict=True):
            if kind == 0:
                points[int(i)] = (float(x), float(y))
    return points


class CacheApp:
    """The Map page on a copy of the digits checkpoint (no shipped maps), with its own disk cache.

    Every ``open()`` uses a new copy of the checkpoint, so Streamlit's in-memory caches miss and
    the page has to read the disk cache again (the same content, so the same cache keys).
    """

    def __init__(self, tmp_path: Path, monkeypatch):
        import pages._loaders

        self.root, self.cache = tmp_path / "checkpoints", tmp_path / "cache"
        self.n = 0
        monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", self.root)
        monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", self.cache)

    def open(self) -> AppTest:
        self.n += 1
        name = f"copy{self.n}"
        shutil.copytree(SHIPPED_DIGITS, self.root / name, ignore=shutil.ignore_patterns("projections"))
        at = app_test(120)
        at.session_state["ckpt"] = name
        at.session_state["map_method"] = "pca"
        at.run()
        assert_app_ok(at, errors=True)
        assert any("PCA · 360 points" in c.value for c in at.caption)
        return at

    def files(self) -> dict[str, Path]:
        return {p.name.split("-")[0]: p for p in self.cache.glob("*.npz")}


def test_corrupted_or_stale_cache_files_are_recomputed_not_shown(tmp_path, monkeypatch):
    app = CacheApp(tmp_path, monkeypatch)
    truth = map_points(app.open())
    assert len(truth) == 360
    files = app.files()
    assert set(files) == {"enc", "proj"}
    good = {k: load_arrays(app.cache, p.stem) for k, p in files.items()}

    # 1. a flipped byte in the encoding
    data = bytearray(files["enc"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    files["enc"].write_bytes(bytes(data))
    assert map_points(app.open()) == truth
    np.testing.assert_array_equal(load_arrays(app.cache, files["enc"].stem)["mu"], good["enc"]["mu"])

    # 2. a stale map: a valid file, but written for another key, with other coordinates
    garbage = np.random.default_rng(0).normal(50, 1, (360, 2)).astype(np.float32)
    stale = save_arrays(tmp_path / "elsewhere", "proj-0000000000000000-test-360-pca", {"coords": garbage})
    shutil.copy(stale, files["proj"])
    assert map_points(app.open()) == truth
    np.testing.assert_array_equal(load_arrays(app.cache, files["proj"].stem)["coords"], good["proj"]["coords"])

    # 3. a truncated map, and an encoding that is not an npz at all
    files["proj"].write_bytes(files["proj"].read_bytes()[:200])
    files["enc"].write_text("not a cache file")
    assert map_points(app.open()) == truth
    assert all(load_arrays(app.cache, p.stem) is not None for p in files.values())


def test_disk_full_while_caching_the_page_still_shows_the_map(tmp_path, monkeypatch):
    app = CacheApp(tmp_path, monkeypatch)
    monkeypatch.setattr(np, "savez", _enospc)
    assert len(map_points(app.open())) == 360
    assert not app.cache.exists() or list(app.cache.iterdir()) == []
