"""Typed configuration for models and training runs.

Every component takes its config object; every rule is checked once, in
``validate()``, and an error names the bad value and how to fix it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConfigError
from .options import Option, option, options

Variance = Literal["learned", "fixed"]
Device = Literal["auto", "cpu", "cuda", "mps"]

VARIANCES: tuple[str, ...] = ("learned", "fixed")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")


def check_stages(image_shape: tuple[int, ...], channels: tuple[int, ...], stages: str) -> None:
    """The rules the comparison models' configs share: an image shape, and stages that halve it."""
    c, h, w = image_shape
    if c not in (1, 3) or h < 1 or w < 1:
        raise ConfigError(f"image_shape must be (1 or 3, height, width), got {image_shape!r}")
    if not channels or any(int(ch) < 1 for ch in channels):
        raise ConfigError(f"channels must be one or more positive sizes, got {channels!r}")
    stride = 2 ** len(channels)
    if h % stride or w % stride:
        raise ConfigError(f"{len(channels)} {stages} need height and width divisible by {stride}, got {h}x{w}; "
                          "use fewer channels")


class JsonConfig:
    """A config dataclass kept as JSON (a folder's config.json, meta.json's train_config).

    ``to_dict``/``to_json`` write tuples as lists and name the ``KIND`` when there is one (a
    comparison model's or an imported model's config.json; a VAE's names none); ``from_dict`` reads
    them back: unknown keys refused by name, lists back to tuples, then ``validate()``.
    """

    KIND = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def to_json(self) -> str:
        d = self.to_dict()
        return json.dumps({"kind": self.KIND, **d} if self.KIND else d, indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Any:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - fields)
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} keys {unknown}; known keys are {sorted(fields)}: "
                              "rename or remove them (a file written by a newer vae-explorer needs that version)")
        d = {k: tuple(int(s) for s in v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d).validate()


@dataclass(frozen=True)
class ModelConfig(JsonConfig):
    """Everything needed to rebuild a :class:`vae.model.VAE`."""

    # a name in vae.archs.ARCHITECTURES: "mlp" (fully connected), "conv" (strided convolutions)
    arch: str = option("conv", "--arch", "mlp (fully connected) or conv (strided convolutions); default {default}",
                       choices=lambda: _registered("archs"), resume="refuse", command="always")
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of the data
    latent_dim: int = option(16, "--latent-dim", "size of z (default {default})", minimum=1, resume="refuse",
                             command="always")
    # mlp: widths of the hidden layers (encoder order; the decoder mirrors them).
    # conv: channels of each stride-2 stage (each halves height and width).
    # The default is the architecture's own (Architecture.default_hidden): conv's here.
    hidden_dims: tuple[int, ...] = option(
        (32, 64), "--hidden", "mlp: hidden widths; conv: channels per stage (default: {default})",
        per_arch=True, resume="refuse", command="changed")
    # conv only: width of the dense layer between the feature map and z
    fc_dim: int = option(256, "--fc-dim", "conv: width of the dense layer (default {default})", minimum=1,
                         arch="conv", resume="refuse", command="changed")
    # weight of the KL term (beta-VAE); 1 is the plain ELBO
    beta: float = option(1.0, "--beta", "KL weight (default {default})", minimum=0.0, resume="refuse",
                         command="always")
    # p(x|z), a name in vae.likelihoods.LIKELIHOODS: "bernoulli" (grey levels as probabilities),
    # "gaussian" (one sigma for all pixels), "logistic" (discretised logistic per pixel: colour, natural images)
    likelihood: str = option(
        "bernoulli", "--likelihood", "p(x|z): bernoulli, gaussian (one sigma), or logistic (discretised, per "
        "pixel: suits colour and natural images); default {default}",
        choices=lambda: _registered("likelihoods"), resume="refuse", command="changed")
    # gaussian only: one learned sigma, or fixed at `sigma`
    variance: Variance = option("learned", "--variance", "gaussian likelihood: learned or fixed sigma (default "
                                "{default})", group="likelihood", resume="refuse")
    # gaussian only: the fixed (or initial learned) standard deviation
    sigma: float = option(0.1, "--sigma", "gaussian likelihood: the (initial) sigma, default {default}",
                          minimum=0.0, strict=True, group="likelihood", resume="refuse")

    def validate(self) -> ModelConfig:
        from .archs import get_architecture  # the registries import this module
        from .likelihoods import get_likelihood

        arch = get_architecture(self.arch)
        if len(self.image_shape) != 3 or any(int(s) < 1 for s in self.image_shape):
            raise ConfigError(
                f"image_shape must be (channels, height, width) with positive sizes, got {self.image_shape!r}"
            )
        c = self.image_shape[0]
        if c not in (1, 3):
            raise ConfigError(f"image_shape channels must be 1 (grayscale) or 3 (RGB), got {c}")
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ConfigError(f"latent_dim must be >= 1, got {self.latent_dim!r}")
        if self.latent_dim > 1024:
            raise ConfigError(f"latent_dim must be <= 1024, got {self.latent_dim}")
        if len(self.hidden_dims) < 1 or any(int(d) < 1 for d in self.hidden_dims):
            raise ConfigError(
                f"hidden_dims must be one or more positive sizes, got {self.hidden_dims!r}"
            )
        if self.fc_dim < 1:
            raise ConfigError(f"fc_dim must be >= 1, got {self.fc_dim}")
        arch(self).check()
        if not (self.beta >= 0.0) or self.beta != self.beta or self.beta == float("inf"):
            raise ConfigError(f"beta must be a finite number >= 0, got {self.beta!r}")
        get_likelihood(self.likelihood)
        if self.variance not in VARIANCES:
            raise ConfigError(
                f"variance must be one of {', '.join(VARIANCES)}, got {self.variance!r}"
            )
        if not (self.sigma > 0.0) or self.sigma == float("inf"):
            raise ConfigError(f"sigma must be a finite number > 0, got {self.sigma!r}")
        return self

    @property
    def num_pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w


@dataclass
class TrainConfig(JsonConfig):
    """One training run: data, optimisation and where the checkpoint goes."""

    # a name from vae.data.datasets.DATASETS, or "folder:PATH"
    dataset: str = option("fashion-mnist", "--dataset", "fashion-mnist, mnist, kmnist, digits, or folder:PATH "
                          "(default {default})", resume="keep", command="always")
    out: str = "checkpoints/run"  # checkpoint folder, rewritten atomically after every epoch
    # passes over the training split
    epochs: int = option(20, "--epochs", "default {default}; with --resume, the number the run was started with",
                         minimum=1, resume="keep", command="always")
    batch_size: int = option(128, "--batch-size", "images per step (default {default})", minimum=1,
                             resume="refuse", command="always")
    lr: float = option(1e-3, "--lr", "Adam's learning rate (default {default})", minimum=0.0, strict=True,
                       resume="refuse", command="always")
    # cosine decays to lr/20 at the end
    lr_schedule: Literal["constant", "cosine"] = option(
        "cosine", "--lr-schedule", "constant, or cosine (decays to lr/20); default {default}", resume="refuse",
        command="changed")
    # KL weight ramps linearly from 0 to beta over this many epochs
    kl_warmup_epochs: float = option(
        0.0, "--kl-warmup", "ramp the KL weight from 0 to beta over this many epochs (default {default})",
        minimum=0.0, metavar="EPOCHS", resume="refuse", command="changed")
    # seeds python, numpy and torch: runs are reproducible on CPU
    seed: int = option(0, "--seed", "seeds python, numpy and torch (default {default})", resume="refuse",
                       command="changed")
    # auto: cuda, then mps, then cpu
    device: Device = option("auto", "--device", "auto: cuda, then mps, then cpu (default {default})")
    # searched first for the dataset's files
    data_dir: str | None = option(None, "--data-dir", "where the dataset's files are searched first",
                                  default_text="none")
    # folder datasets: resize to this square size
    image_size: int | None = option(
        None, "--image-size", "folder datasets: square size to resize to (default: {default})", minimum=1,
        default_text="the images' own size when they share one, else 28", resume="keep")
    # folder datasets: 1 (grayscale) or 3 (RGB)
    channels: int | None = option(
        None, "--channels", "folder datasets: 1 = grayscale, 3 = RGB (default: {default})", choices=(1, 3),
        default_text="RGB when any image is in colour", resume="keep")
    # use only the first N training images (quick runs, tests)
    limit: int | None = option(None, "--limit", "train on the first N images only", minimum=1, default_text="all",
                               resume="refuse", command="changed")
    resume: bool = False  # continue from the checkpoint in `out` (its last finished epoch)
    amp: bool = True  # mixed precision on CUDA (ignored elsewhere)
    # torch CPU threads
    threads: int | None = option(None, "--threads", "torch's CPU threads (default: {default})", minimum=1,
                                 default_text="torch's choice")
    # store weights as float16 (smaller checkpoint)
    half_weights: bool = option(False, "--half", "store the final weights as float16", default_text="float32")
    # store Adam's state so --resume continues exactly
    keep_optimizer: bool = option(True, "--no-optimizer-state",
                                  "drop Adam's state from the final checkpoint (smaller; --resume restarts Adam)",
                                  default_text="Adam's state kept")
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes saved in meta.json

    def validate(self) -> TrainConfig:
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size!r}")
        if not (self.lr > 0.0) or self.lr == float("inf"):
            raise ConfigError(f"lr must be a finite number > 0, got {self.lr!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError(f"lr_schedule must be constant or cosine, got {self.lr_schedule!r}")
        if not (self.kl_warmup_epochs >= 0.0):
            raise ConfigError(f"kl_warmup_epochs must be >= 0, got {self.kl_warmup_epochs!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be >= 1 images, got {self.limit}")
        if self.image_size is not None and not (4 <= self.image_size <= 256):
            raise ConfigError(f"image_size must be between 4 and 256 pixels, got {self.image_size}")
        if self.channels is not None and self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {self.channels}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}")
        if not str(self.out).strip():
            raise ConfigError("out must name a checkpoint folder, got an empty string")
        return self


@dataclass
class RunConfig:
    """One training run of a comparison model (a GAN, a classifier); each subclass sets its defaults."""

    # a name from vae.data.datasets.DATASETS
    dataset: str = option("fashion-mnist", "--dataset", "fashion-mnist, mnist, kmnist or digits (default {default})")
    out: str = "models/run"  # folder, rewritten atomically after every epoch
    epochs: int = option(10, "--epochs", "passes over the training split (default {default})", minimum=1)
    batch_size: int = option(128, "--batch-size", "images per step (default {default})", minimum=1)
    lr: float = option(1e-3, "--lr", "Adam's learning rate (default {default})", minimum=0.0, strict=True)
    seed: int = option(0, "--seed", "seeds python, numpy and torch (default {default})")
    device: str = option("auto", "--device", "auto: cuda, then mps, then cpu (default {default})",
                         choices=DEVICES)
    # searched first for the dataset's files
    data_dir: str | None = option(None, "--data-dir", "where the dataset's files are searched first",
                                  default_text="none")
    limit: int | None = option(None, "--limit", "train on the first N images only", minimum=1, default_text="all")
    threads: int | None = option(None, "--threads", "torch's CPU threads (default: {default})", minimum=1,
                                 default_text="torch's choice")
    half_weights: bool = option(False, "--half", "store the final weights as float16", default_text="float32")

    def validate(self) -> RunConfig:
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be >= 1, got {v!r}")
        if not (self.lr > 0.0) or self.lr == float("inf"):
            raise ConfigError(f"lr must be a finite number > 0, got {self.lr!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be >= 1 images, got {self.limit}")
        return self


def _registered(registry: str) -> list[str]:
    """The names registered now in vae.archs or vae.likelihoods (a registry grows as code registers)."""
    if registry == "archs":
        from .archs import ARCHITECTURES  # lazily: the registries import this module's types

        return list(ARCHITECTURES)
    from .likelihoods import LIKELIHOODS

    return list(LIKELIHOODS)


def train_options() -> list[Option]:
    """`python -m vae train`'s options, in the order its help and the README list them: the data set,
    the model's (:class:`ModelConfig`), then the run's (:class:`TrainConfig`)."""
    run = options(TrainConfig)
    return [run[0], *options(ModelConfig), *run[1:]]
