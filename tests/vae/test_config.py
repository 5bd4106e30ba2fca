"""One tiny test per validation rule: each error names the bad value."""

import pytest

from vae.config import ModelConfig, TrainConfig
from vae.errors import ConfigError


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"arch": "rnn"}, "arch must be one of mlp, conv, got 'rnn'"),
        ({"image_shape": (1, 28)}, "image_shape must be"),
        ({"image_shape": (0, 28, 28)}, "image_shape must be"),
        ({"image_shape": (2, 28, 28)}, "channels must be 1 .* or 3 .*, got 2"),
        ({"latent_dim": 0}, "latent_dim must be >= 1, got 0"),
        ({"latent_dim": -3}, "latent_dim must be >= 1, got -3"),
        ({"latent_dim": 5000}, "latent_dim must be <= 1024"),
        ({"hidden_dims": ()}, "hidden_dims must be one or more positive sizes"),
        ({"hidden_dims": (32, 0)}, "hidden_dims must be one or more positive sizes"),
        ({"fc_dim": 0}, "fc_dim must be >= 1, got 0"),
        ({"arch": "conv", "image_shape": (1, 30, 30)}, "divisible by 4, got 30x30"),
        ({"beta": -1.0}, "beta must be a finite number >= 0, got -1.0"),
        ({"beta": float("nan")}, "beta must be a finite number >= 0"),
        ({"beta": float("inf")}, "beta must be a finite number >= 0"),
        ({"likelihood": "poisson"}, "likelihood must be one of bernoulli, gaussian"),
        ({"variance": "free"}, "variance must be one of learned, fixed"),
        ({"sigma": 0.0}, "sigma must be a finite number > 0, got 0.0"),
    ],
)
def test_model_config_rules(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ModelConfig(**kwargs).validate()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be >= 1, got 0"),
        ({"epochs": -5}, "epochs must be >= 1, got -5"),
        ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"lr_schedule": "step"}, "lr_schedule must be constant or cosine"),
        ({"kl_warmup_epochs": -1.0}, "kl_warmup_epochs must be >= 0"),
        ({"device": "tpu"}, "device must be one of auto, cpu, cuda, mps, got 'tpu'"),
        ({"limit": 0}, "limit must be >= 1 images, got 0"),
        ({"image_size": 2}, "image_size must be between 4 and 256"),
        ({"channels": 2}, "channels must be 1 .* or 3 .*, got 2"),
        ({"threads": 0}, "threads must be >= 1"),
        ({"out": " "}, "out must name a checkpoint folder"),
    ],
)
def test_train_config_rules(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kwargs).validate()


def test_defaults_are_valid_and_round_trip():
    cfg = ModelConfig().validate()
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig().validate().epochs >= 1


def test_unknown_config_key_is_named():
    d = ModelConfig().to_dict()
    d["latent_size"] = 3
    with pytest.raises(ConfigError, match="unknown ModelConfig keys \\['latent_size'\\]"):
        ModelConfig.from_dict(d)


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig])
def test_unknown_keys_are_refused_naming_the_fix(cls):
    with pytest.raises(ConfigError, match=f"unknown {cls.__name__} keys \\['colour'\\].*rename or remove them"):
        cls.from_dict({"colour": "red"})


def test_every_shipped_folder_reads_back_as_written():
    """checkpoints/ and models/ hold files of every version so far: each config.json reads back
    through from_dict and writes out unchanged, and meta.json's train_config is a valid TrainConfig."""
    import json
    from pathlib import Path

    from vae.baselines.classifier import ClassifierConfig
    from vae.baselines.gan import GanConfig

    root = Path(__file__).resolve().parents[2]
    kinds = {"": ModelConfig, GanConfig.KIND: GanConfig, ClassifierConfig.KIND: ClassifierConfig}
    folders = sorted([*(root / "checkpoints").iterdir(), *(root / "models").iterdir()])
    assert len(folders) >= 7
    for folder in folders:
        text = (folder / "config.json").read_text(encoding="utf-8").strip()
        d = json.loads(text)
        cls = kinds[d.pop("kind", "")]
        assert cls.from_dict(d).to_json() == text, folder
        if cls is ModelConfig:
            TrainConfig.from_dict(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["train_config"])
