"""Seeded, tiny fixtures shared by the suite: a digits checkpoint trained once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "tests" / "artifacts"
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def digits_data():
    from vae.data import load_dataset

    return load_dataset("digits", "train"), load_dataset("digits", "test")


@pytest.fixture(scope="session")
def digits_checkpoint(tmp_path_factory, digits_data):
    """A small MLP VAE trained for 4 epochs on digits (a few seconds)."""
    from vae.config import ModelConfig, TrainConfig
    from vae.train import Trainer

    out = tmp_path_factory.mktemp("ck") / "digits-mlp"
    mc = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=4, hidden_dims=(64, 32))
    tc = TrainConfig(dataset="digits", out=str(out), epochs=4, batch_size=64, lr=3e-3, seed=0)
    Trainer(mc, tc, *digits_data).run()
    return out


@pytest.fixture()
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def write_image_folder(root: Path, size: int | tuple[int, int] = 16, mode: str = "RGB", per_class: int = 12,
                       classes: tuple[str, ...] = ("circle", "square", "triangle"), background="white",
                       seed: int = 0) -> Path:
    """A folder dataset of seeded coloured (or grey) shapes, one sub-folder per class: root/<class>/*.png."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    w, h = (size, size) if isinstance(size, int) else size
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            im = Image.new(mode, (w, h), background)
            d = ImageDraw.Draw(im)
            colour = tuple(rng.randrange(0, 200) for _ in range(3)) if mode == "RGB" else rng.randrange(0, 120)
            r = rng.uniform(0.2, 0.35) * min(w, h)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            box = (cx - r, cy - r, cx + r, cy + r)
            if cls == "circle":
                d.ellipse(box, fill=colour)
            elif cls == "square":
                d.rectangle(box, fill=colour)
            else:
                d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
            im.save(root / cls / f"{i:03d}.png")
    return root


@pytest.fixture()
def image_folder():
    """write_image_folder, for tests that need a folder dataset of their own."""
    return write_image_folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test that used a streamlit server (fixture ``server``) shows that server's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    from pagecheck import SERVER_LOGS

    server = item.funcargs.get("server")
    url = server.get("url") if isinstance(server, dict) else server
    if isinstance(url, str) and url in SERVER_LOGS:
        rep.sections.append((f"streamlit server log ({url}), last lines", SERVER_LOGS[url]()))


# -- the suite leaves the working tree as it found it ------------------------------------------
def _git_status() -> set[str] | None:
    """`git status --porcelain` lines (None outside a git checkout or without git)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


def pytest_sessionstart(session):
    session.config.stash[_GIT_BEFORE] = _git_status()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when it changed what git sees (a rewritten screenshot, doc or checkpoint):
    test output belongs in ignored folders (tests/artifacts/, runs/, cache/)."""
    before = session.config.stash.get(_GIT_BEFORE, None)
    after = _git_status() if before is not None else None
    if after is None:
        return
    changed = sorted(after - before)
    if changed:
        rep = session.config.pluginmanager.get_plugin("terminalreporter")
        msg = ("the tests changed the working tree (git status); write test output into an ignored "
               "folder instead:\n  " + "\n  ".join(changed[:20]))
        if rep is not None:
            rep.write_sep("=", "working tree changed", red=True)
            rep.write_line(msg)
        else:
            print(msg, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_GIT_BEFORE = pytest.StashKey[set | None]()


# -- bring your own VAE (tests/byo_model.py) ----------------------------------------------------------
@pytest.fixture(scope="session")
def their_vae():
    """TheirVAE (not ours: MLP on flattened input, 20-D, clamped output), 4 epochs on 5,000 shipped images."""
    from byo_model import train_their_vae

    from vae.data import load_dataset

    return train_their_vae(load_dataset("fashion-mnist", "test").images[:5000])


@pytest.fixture(scope="session")
def their_onnx(tmp_path_factory, their_vae):
    """TheirVAE exported to encoder.onnx and decoder.onnx, as a researcher would hand them over."""
    from vae.byo import export_graphs

    return export_graphs(their_vae, tmp_path_factory.mktemp("their-onnx"), (1, 28, 28))


@pytest.fixture(scope="session")
def imported_root(tmp_path_factory, their_onnx):
    """A checkpoints folder: ``theirs`` (TheirVAE imported; PCA map, a quick IWAE) beside a link to our
    shipped ``fashion-mnist``."""
    from vae.byo import import_onnx

    root = tmp_path_factory.mktemp("byo") / "checkpoints"
    import_onnx(*their_onnx, "fashion-mnist", root / "theirs", iwae_k=10, iwae_images=50, map_method="pca")
    (root / "fashion-mnist").symlink_to(ROOT / "checkpoints" / "fashion-mnist")
    return root
