"""Architectures: how a :class:`~vae.config.ModelConfig` becomes an encoder and a decoder.

One class per architecture, registered by name::

    @register_architecture
    class MyNet(Architecture):
        name = "mynet"                      # what --arch and config.json say
        label = "My network"                # what the app shows
        default_hidden = (64, 64)           # --hidden when it is not given
        def encoder(self): ...              # (B, C, H, W) -> (B, 2 * latent_dim)
        def decoder(self, out_channels): ...  # (B, latent_dim) -> (B, out_channels, H, W)

That is all the CLI (``--arch`` choices, default ``--hidden``), the app's Train page and its
How it works diagram, and checkpoint loading need. ``out_channels`` is the image's channels
times the likelihood's outputs per pixel (one for Bernoulli, two for the discretised
logistic's mean and scale), so an architecture never depends on the likelihood.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from torch import nn

from .errors import ConfigError
from .i18n import N_, Text

if TYPE_CHECKING:
    from .config import ModelConfig

ARCHITECTURES: dict[str, type[Architecture]] = {}


def register_architecture(cls: type[Architecture]) -> type[Architecture]:
    """Class decorator: make ``cls`` available under ``cls.name`` (``--arch``, config.json)."""
    if not getattr(cls, "name", ""):
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute `name`")
    if cls.name in ARCHITECTURES and ARCHITECTURES[cls.name] is not cls:
        raise ValueError(f"an architecture named {cls.name!r} is already registered")
    ARCHITECTURES[cls.name] = cls
    return cls


def get_architecture(name: str) -> type[Architecture]:
    """The registered class called ``name``, or a ConfigError listing the known ones."""
    try:
        return ARCHITECTURES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"arch must be one of {', '.join(ARCHITECTURES)}, got {name!r}") from None


class Architecture:
    """An encoder/decoder pair built from a validated config; subclasses set the class attributes."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # a few words for the app, e.g. "MLP (fully connected)"
    description: ClassVar[str] = ""  # one sentence: what the layers are (the Train page's help)
    default_hidden: ClassVar[tuple[int, ...]] = ()  # hidden_dims when --hidden is not given

    def __init__(self, config: ModelConfig):
        self.config = config

    def check(self) -> None:
        """Raise ConfigError naming the fix when the config does not suit this architecture."""

    def encoder(self) -> nn.Module:
        """A module (B, C, H, W) -> (B, 2 * latent_dim): the posterior's mean, then its log-variance."""
        raise NotImplementedError

    def decoder(self, out_channels: int) -> nn.Module:
        """A module (B, latent_dim) -> (B, out_channels, H, W): the likelihood's parameters."""
        raise NotImplementedError

    def encoder_text(self) -> str:
        """The encoder's layers in a line or two (newlines as ``\\n``), for diagrams."""
        return self.label

    def decoder_text(self, out_channels: int) -> str:
        """The decoder's layers, emitting ``out_channels`` maps, in a line or two."""
        return self.label


@register_architecture
class MLP(Architecture):
    """Fully connected layers with SiLU; the decoder mirrors the encoder's widths."""

    name = "mlp"
    label = N_("MLP (fully connected)")
    description = N_("fully connected hidden layers (default 512 and 256 units)")
    default_hidden = (512, 256)

    def encoder(self) -> nn.Module:
        cfg = self.config
        layers: list[nn.Module] = [nn.Flatten()]
        width = cfg.num_pixels
        for h in cfg.hidden_dims:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, 2 * cfg.latent_dim))
        return nn.Sequential(*layers)

    def decoder(self, out_channels: int) -> nn.Module:
        cfg = self.config
        _, h, w = cfg.image_shape
        layers: list[nn.Module] = []
        width = cfg.latent_dim
        for hid in reversed(cfg.hidden_dims):
            layers += [nn.Linear(width, hid), nn.SiLU()]
            width = hid
        layers += [nn.Linear(width, out_channels * h * w), nn.Unflatten(1, (out_channels, h, w))]
        return nn.Sequential(*layers)

    def encoder_text(self) -> str:
        widths = " → ".join(str(h) for h in self.config.hidden_dims)
        return Text(N_("fully connected\\n{inputs} → {widths} → 2×{d}"), inputs=self.config.num_pixels, widths=widths,
                    d=self.config.latent_dim)

    def decoder_text(self, out_channels: int) -> str:
        _, h, w = self.config.image_shape
        widths = " → ".join(str(h) for h in reversed(self.config.hidden_dims))
        return Text(N_("fully connected\\n{d} → {widths} → {outputs}"), d=self.config.latent_dim, widths=widths,
                    outputs=out_channels * h * w)


@register_architecture
class Conv(Architecture):
    """Stride-2 4x4 convolutions (each stage halves the image), a dense layer, and the mirror image."""

    name = "conv"
    label = N_("Convolutional")
    description = N_("stride-2 convolutions (default two stages of 32 and 64 channels); usually sharper "
                     "images, slower on a CPU")
    default_hidden = (32, 64)

    def check(self) -> None:
        cfg = self.config
        _, h, w = cfg.image_shape
        stride = 2 ** len(cfg.hidden_dims)
        if h % stride or w % stride:
            raise ConfigError(
                f"conv with {len(cfg.hidden_dims)} stride-2 stages needs height and width "
                f"divisible by {stride}, got {h}x{w}; use fewer hidden_dims or arch='mlp'"
            )

    def encoder(self) -> nn.Module:
        cfg = self.config
        c, h, w = cfg.image_shape
        layers: list[nn.Module] = []
        ch = c
        for out_ch in cfg.hidden_dims:  # each stage: (B, ch, H, W) -> (B, out_ch, H/2, W/2)
            layers += [nn.Conv2d(ch, out_ch, kernel_size=4, stride=2, padding=1), nn.SiLU()]
            ch = out_ch
        stride = 2 ** len(cfg.hidden_dims)
        flat = ch * (h // stride) * (w // stride)
        layers += [
            nn.Flatten(),
            nn.Linear(flat, cfg.fc_dim),
            nn.SiLU(),
            nn.Linear(cfg.fc_dim, 2 * cfg.latent_dim),
        ]
        return nn.Sequential(*layers)

    def decoder(self, out_channels: int) -> nn.Module:
        cfg = self.config
        _, h, w = cfg.image_shape
        stride = 2 ** len(cfg.hidden_dims)
        chans = list(cfg.hidden_dims)
        top = (chans[-1], h // stride, w // stride)
        layers: list[nn.Module] = [
            nn.Linear(cfg.latent_dim, cfg.fc_dim),
            nn.SiLU(),
            nn.Linear(cfg.fc_dim, top[0] * top[1] * top[2]),
            nn.SiLU(),
            nn.Unflatten(1, top),
        ]
        for i in range(len(chans) - 1, 0, -1):  # (B, chans[i], h, w) -> (B, chans[i-1], 2h, 2w)
            layers += [
                nn.ConvTranspose2d(chans[i], chans[i - 1], kernel_size=4, stride=2, padding=1),
                nn.SiLU(),
            ]
        layers.append(nn.ConvTranspose2d(chans[0], out_channels, kernel_size=4, stride=2, padding=1))
        return nn.Sequential(*layers)

    def encoder_text(self) -> str:
        cfg = self.config
        chans = " → ".join(str(h) for h in cfg.hidden_dims)
        return Text(N_("convolutions 4×4, stride 2\\nchannels {c} → {chans}\\ndense {fc} → 2×{d}"),
                    c=cfg.image_shape[0], chans=chans, fc=cfg.fc_dim, d=cfg.latent_dim)

    def decoder_text(self, out_channels: int) -> str:
        cfg = self.config
        chans = " → ".join(str(h) for h in reversed(cfg.hidden_dims))
        return Text(N_("dense {d} → {fc}\\ntransposed convolutions\\nchannels {chans} → {outputs}"),
                    d=cfg.latent_dim, fc=cfg.fc_dim, chans=chans, outputs=out_channels)
