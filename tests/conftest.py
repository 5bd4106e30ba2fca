"""Seeded, tiny fixtures shared by the suite: a digits checkpoint trained once per session."""

from __future__ import annotations

import os
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
