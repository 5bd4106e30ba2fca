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

__all__ = [
    "VAE", "LossOutput", "gaussian_kl", "ModelConfig", "TrainConfig", "ConfigError",
    "Architecture", "register_architecture", "Likelihood", "register_likelihood",
    "Checkpoint", "CheckpointError", "load_checkpoint", "save_checkpoint", "list_checkpoints",
    "ImageDataset", "DataError", "load_dataset", "load_training_data", "Trainer", "NonFiniteLossError",
    "set_seed", "train", "explore", "Session", "__version__",
]

#: Every public name, imported from its module on first use: ``import vae`` (or any of its modules, e.g.
#: the torch-free vae.explore.figures) does not import torch, so a first page can draw before torch loads.
_LAZY = {
    "Architecture": "archs", "register_architecture": "archs",
    "Checkpoint": "checkpoint", "list_checkpoints": "checkpoint", "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "ModelConfig": "config", "TrainConfig": "config",
    "ImageDataset": "data.datasets", "load_dataset": "data.datasets", "load_training_data": "data.datasets",
    "CheckpointError": "errors", "ConfigError": "errors", "DataError": "errors",
    "Likelihood": "likelihoods", "register_likelihood": "likelihoods",
    "VAE": "model", "LossOutput": "model", "gaussian_kl": "model",
    "NonFiniteLossError": "training.trainer", "Trainer": "training.trainer", "set_seed": "training.trainer",
    "train": "training.trainer",
    "explore": "notebook", "Session": "notebook",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # once: later lookups find it without this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
