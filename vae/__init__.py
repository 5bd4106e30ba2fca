"""vae: variational autoencoders you can train, evaluate, save and explore.

A plain library (no Streamlit, nothing runs on import)::

    from vae import load_checkpoint, load_dataset
    ck = load_checkpoint("checkpoints/fashion-mnist")
    test = load_dataset("fashion-mnist", "test")
    mu, logvar = ck.model.embed(test.images)
"""

__version__ = "0.1.0"

from .checkpoint import Checkpoint, CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint
from .config import ConfigError, ModelConfig, TrainConfig
from .data import DataError, ImageDataset, load_dataset
from .model import VAE, LossOutput, gaussian_kl
from .train import NonFiniteLossError, Trainer, set_seed, train

__all__ = [
    "VAE", "LossOutput", "gaussian_kl", "ModelConfig", "TrainConfig", "ConfigError",
    "Checkpoint", "CheckpointError", "load_checkpoint", "save_checkpoint", "list_checkpoints",
    "ImageDataset", "DataError", "load_dataset", "Trainer", "NonFiniteLossError", "set_seed",
    "train", "__version__",
]
