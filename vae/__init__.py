"""vae: variational autoencoders you can train, evaluate, save and explore.

A plain library (no Streamlit, nothing runs on import)::

    from vae import load_checkpoint, load_dataset
    ck = load_checkpoint("checkpoints/fashion-mnist")
    test = load_dataset("fashion-mnist", "test")
    mu, logvar = ck.model.embed(test.images)

In a notebook, ``session = vae.explore("checkpoints/fashion-mnist")`` opens the explorer inline and
``session.selection`` reads back the Map's selection (:mod:`vae.notebook`, imported on first use).
"""

__version__ = "0.1.0"

from .archs import Architecture, register_architecture
from .checkpoint import Checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from .config import ModelConfig, TrainConfig
from .data.datasets import ImageDataset, load_dataset, load_training_data
from .errors import CheckpointError, ConfigError, DataError
from .likelihoods import Likelihood, register_likelihood
from .model import VAE, LossOutput, gaussian_kl
from .training.trainer import NonFiniteLossError, Trainer, set_seed, train

__all__ = [
    "VAE", "LossOutput", "gaussian_kl", "ModelConfig", "TrainConfig", "ConfigError",
    "Architecture", "register_architecture", "Likelihood", "register_likelihood",
    "Checkpoint", "CheckpointError", "load_checkpoint", "save_checkpoint", "list_checkpoints",
    "ImageDataset", "DataError", "load_dataset", "load_training_data", "Trainer", "NonFiniteLossError",
    "set_seed", "train", "explore", "Session", "__version__",
]

_LAZY = {"explore": "notebook", "Session": "notebook"}  # imported on first use: importing vae stays cheap


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
