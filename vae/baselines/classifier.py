"""A small convolutional classifier of the data set's classes: the judge of generated images.

Trained on the same training split as the VAEs and the GAN, it gives the comparison pages
three measurements that need no human eye: which class each generated image looks like (the
class histogram of 10,000 samples shows whether a model covers every class), how sure it is,
and a 128-number feature vector per image for the Fréchet distance (FID's recipe with this
classifier in place of Inception, which would need a download and 299x299 colour images).

    python -m vae train-classifier --dataset fashion-mnist --epochs 6 --out models/fashion-mnist-classifier
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import ModelFolder, load_folder
from ..config import JsonConfig, RunConfig, check_stages
from ..data.datasets import ImageDataset, load_dataset
from ..errors import ConfigError
from ..options import option
from ..training.loop import EpochLoop, run_meta, use_threads
from ..training.trainer import Reporting, TrainResult, resolve_device, set_seed

KIND = "classifier"


@dataclass(frozen=True)
class ClassifierConfig(JsonConfig):
    """Everything needed to rebuild the classifier."""

    KIND = KIND
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of the data
    n_classes: int = 10  # outputs
    # 3x3 convolution + 2x2 max-pool stages
    channels: tuple[int, ...] = option((32, 64), "--channels", "per conv + pool stage (default {default})")
    # the penultimate layer: the features of the Fréchet distance
    feature_dim: int = option(128, "--feature-dim", "width of the features the Fréchet distance compares "
                              "(default {default})", minimum=1)

    def validate(self) -> ClassifierConfig:
        check_stages(self.image_shape, self.channels, "pooling stages")
        if not isinstance(self.n_classes, int) or self.n_classes < 2:
            raise ConfigError(f"n_classes must be >= 2, got {self.n_classes!r}")
        if not isinstance(self.feature_dim, int) or self.feature_dim < 2:
            raise ConfigError(f"feature_dim must be >= 2, got {self.feature_dim!r}")
        return self


class Classifier(nn.Module):
    """Images (B, C, H, W) in [0, 1] -> class logits (B, n_classes), via features (B, feature_dim)."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config.validate()
        c, h, w = config.image_shape
        layers: list[nn.Module] = []
        ch = c
        for out_ch in config.channels:  # (B, ch, H, W) -> (B, out_ch, H/2, W/2)
            layers += [nn.Conv2d(ch, out_ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            ch = out_ch
        stride = 2 ** len(config.channels)
        layers += [nn.Flatten(), nn.Linear(ch * (h // stride) * (w // stride), config.feature_dim), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(config.feature_dim, config.n_classes)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    @torch.inference_mode()
    def embed(self, x: torch.Tensor, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, feature_dim) and class probabilities (N, n_classes) of many images, as NumPy."""
        feats, probs = [], []
        for i in range(0, len(x), batch_size):
            f = self.features(x[i : i + batch_size].to(self.device).float())
            feats.append(f.float().cpu())
            probs.append(torch.softmax(self.head(f), dim=1).float().cpu())
        if not feats:
            return np.zeros((0, self.config.feature_dim), np.float32), np.zeros((0, self.config.n_classes), np.float32)
        return torch.cat(feats).numpy(), torch.cat(probs).numpy()

    def predict(self, x: torch.Tensor) -> np.ndarray:
        """The most likely class of each image: (N,) int."""
        return self.embed(x)[1].argmax(1)


@dataclass
class ClassifierTrainConfig(RunConfig):
    """One classifier training run."""

    out: str = "models/classifier"  # folder, rewritten atomically after every epoch
    epochs: int = 6  # passes over the training split


def accuracy(model: Classifier, data: ImageDataset) -> float:
    """Fraction of ``data`` whose predicted class is its label."""
    return float((model.predict(data.images) == data.labels.numpy()).mean()) if len(data) else float("nan")


class ClassifierTrainer(Reporting):
    """Trains the classifier with cross-entropy; test accuracy after every epoch; saves atomically.

    The epochs are :class:`vae.training.loop.EpochLoop`'s; ``run`` gives it the step on one batch and
    the epoch's summary (the mean loss per image, the test accuracy)."""

    def __init__(self, config: ClassifierConfig, train_config: ClassifierTrainConfig,
                 train_data: ImageDataset | None = None, test_data: ImageDataset | None = None,
                 command: str | None = None):
        super().__init__()
        self.config = config.validate()
        self.train_config = train_config.validate()
        self.train_data, self.test_data = train_data, test_data
        self.command = command
        self.device = resolve_device(train_config.device)

    def run(self) -> TrainResult:
        tc, cfg = self.train_config, self.config
        use_threads(tc.threads)
        train = (self.train_data or load_dataset(tc.dataset, "train", data_dir=tc.data_dir)).subset(tc.limit)
        test = self.test_data or load_dataset(tc.dataset, "test", data_dir=tc.data_dir)
        if tuple(train.image_shape) != tuple(cfg.image_shape):
            raise ConfigError(f"the classifier expects images of shape {tuple(cfg.image_shape)} but "
                              f"{train.name} has {train.image_shape}")
        set_seed(tc.seed)
        model = Classifier(cfg).to(self.device)
        opt = torch.optim.Adam(model.parameters(), lr=tc.lr, fused=True)  # one kernel for all weights
        x_all, y_all = train.images.to(self.device), train.labels.to(self.device)

        def step(idx: torch.Tensor, epoch: int, i: int) -> tuple[dict[str, float], dict[str, float]]:
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item()}, {"train_loss": loss.item() * len(idx)}

        def summary(sums: dict[str, float], seen: int, steps: int) -> dict[str, float]:
            model.eval()
            return {"train_loss": sums["train_loss"] / seen, "test_acc": accuracy(model, test)}

        loop = EpochLoop(self, tc, self.device, len(train))
        meta_base = run_meta(KIND, tc, train, self.command, self.device, test_size=len(test))
        return loop.run(model, meta_base, step, summary, meta_keys=("test_acc",))


def load_classifier(path: str | Path, device: str | torch.device = "cpu") -> ModelFolder:
    """Load a classifier folder strictly (as :func:`vae.checkpoint.load_checkpoint` does)."""
    return load_folder(path, ClassifierConfig.from_dict, Classifier, KIND, device)
