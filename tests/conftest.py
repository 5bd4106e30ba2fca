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
