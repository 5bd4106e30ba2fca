"""Likelihoods p(x|z): what the decoder's outputs mean, per pixel.

One class per likelihood, registered by name::

    @register_likelihood
    class MyLikelihood(Likelihood):
        name = "mine"                    # what --likelihood and config.json say
        outputs_per_pixel = 2            # decoder numbers per pixel and channel
        def log_prob(self, params, x): ...   # (B, k*C, H, W), (B, C, H, W) -> (B,) nats
        def mean(self, params): ...          # (B, k*C, H, W) -> E[x|z], (B, C, H, W) in [0, 1]

The decoder emits ``outputs_per_pixel`` maps per image channel, stacked along the channel
axis (all first outputs, then all second outputs: ``params.chunk(k, dim=1)``). A likelihood is
an ``nn.Module``, so it may hold learned parameters of its own (the Gaussian's shared sigma).

``discrete`` marks a probability mass function over the 256 grey levels of 8-bit images: its
negative log-likelihood in bits per dimension is the figure papers report. Bernoulli (on grey
levels) and a Gaussian density are not: their bits per dimension compare only with models of
the same likelihood.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError
from .i18n import N_

if TYPE_CHECKING:
    from .config import ModelConfig

LOG_2PI = math.log(2.0 * math.pi)
LIKELIHOODS: dict[str, type[Likelihood]] = {}


def register_likelihood(cls: type[Likelihood]) -> type[Likelihood]:
    """Class decorator: make ``cls`` available under ``cls.name`` (``--likelihood``, config.json)."""
    if not getattr(cls, "name", ""):
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute `name`")
    if cls.name in LIKELIHOODS and LIKELIHOODS[cls.name] is not cls:
        raise ValueError(f"a likelihood named {cls.name!r} is already registered")
    LIKELIHOODS[cls.name] = cls
    return cls


def get_likelihood(name: str) -> type[Likelihood]:
    """The registered class called ``name``, or a ConfigError listing the known ones."""
    try:
        return LIKELIHOODS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {name!r}") from None


class Likelihood(nn.Module):
    """p(x|z) given the decoder's outputs; subclasses set the class attributes and two methods."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # a few words for diagrams, e.g. "Bernoulli per pixel"
    outputs_per_pixel: ClassVar[int] = 1  # decoder outputs per pixel and channel
    discrete: ClassVar[bool] = False  # a pmf over 256 grey levels: bits/dim comparable with papers

    def __init__(self, config: ModelConfig):
        super().__init__()

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) of each image, summed over pixels: params (B, k*C, H, W), x (B, C, H, W) -> (B,)."""
        raise NotImplementedError

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """E[x|z]: (B, k*C, H, W) -> images (B, C, H, W) in [0, 1]."""
        raise NotImplementedError

    def formula(self, n_pixels: int) -> str:
        """log p(x|z) as LaTeX, for the app's explanation."""
        return rf"\log p(x\mid z) = \sum_{{i=1}}^{{{n_pixels}}} \log p(x_i \mid z)"


@register_likelihood
class Bernoulli(Likelihood):
    """Each pixel value in [0, 1] scored as a Bernoulli probability: binary cross-entropy on logits."""

    name = "bernoulli"
    label = N_("Bernoulli per pixel")

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return -F.binary_cross_entropy_with_logits(params, x, reduction="none").flatten(1).sum(1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)

    def formula(self, n_pixels: int) -> str:
        return rf"\log p(x\mid z) = \sum_{{i=1}}^{{{n_pixels}}} x_i \log \hat x_i + (1 - x_i)\log(1 - \hat x_i)"


@register_likelihood
class Gaussian(Likelihood):
    """A Gaussian density around sigmoid(params) with one standard deviation for every pixel,
    learned (``variance="learned"``, starting at ``sigma``) or fixed at ``sigma``."""

    name = "gaussian"
    label = N_("Gaussian per pixel")

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        log_sigma = torch.tensor(math.log(config.sigma))
        if config.variance == "learned":
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        log_sigma = self.log_sigma
        ll = -0.5 * ((x - torch.sigmoid(params)) * torch.exp(-log_sigma)).pow(2) - log_sigma - 0.5 * LOG_2PI
        return ll.flatten(1).sum(1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)

    def formula(self, n_pixels: int) -> str:
        return (rf"\log p(x\mid z) = \sum_{{i=1}}^{{{n_pixels}}} -\frac{{(x_i - \hat x_i)^2}}{{2s^2}} - \log s"
                r" - \tfrac12 \log 2\pi")


@register_likelihood
class DiscretisedLogistic(Likelihood):
    """8-bit pixel values under a logistic with its own mean and scale per pixel and channel,
    integrated over each grey level's bin (Salimans et al. 2017, PixelCNN++, one component).

    Suits colour and natural images: a pixel's uncertainty is learned where it is (edges,
    texture), and it is a true probability over the 256 levels, so bits per dimension mean what
    they mean in the literature. Outputs per pixel: the mean (on the [-1, 1] scale) and the log
    scale.
    """

    name = "logistic"
    label = N_("discretised logistic per pixel")
    outputs_per_pixel = 2
    discrete = True
    LEVELS = 256
    MIN_LOG_SCALE = -7.0  # scales below e^-7 (a thousandth of a grey level) add nothing but overflow

    @staticmethod
    def _split(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_s = params.float().chunk(2, dim=1)  # (B, C, H, W) each, mu on [-1, 1]
        return mu, log_s.clamp(min=DiscretisedLogistic.MIN_LOG_SCALE)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        mu, log_s = self._split(params)
        half_bin = 1.0 / (self.LEVELS - 1)  # on the [-1, 1] scale a bin is 2/255 wide
        xs = 2.0 * x.float() - 1.0
        centred = xs - mu
        inv_s = torch.exp(-log_s)
        plus_in = inv_s * (centred + half_bin)
        min_in = inv_s * (centred - half_bin)
        log_cdf_plus = plus_in - F.softplus(plus_in)  # log F(x + half): the lowest level takes the left tail
        log_one_minus_cdf_min = -F.softplus(min_in)  # log (1 - F(x - half)): the highest takes the right tail
        cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
        mid_in = inv_s * centred  # where the bin's mass underflows: density at the centre times its width
        log_pdf_mid = mid_in - log_s - 2.0 * F.softplus(mid_in) + math.log(2.0 * half_bin)
        inner = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)), log_pdf_mid)
        ll = torch.where(xs < -1.0 + half_bin, log_cdf_plus,
                         torch.where(xs > 1.0 - half_bin, log_one_minus_cdf_min, inner))
        return ll.flatten(1).sum(1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of the logistic clamped to [-1, 1], in closed form, mapped to [0, 1]: the
        discretised distribution's mean to within half a grey level."""
        mu, log_s = self._split(params)
        s = torch.exp(log_s)
        m = -1.0 + s * (F.softplus((mu + 1.0) / s) - F.softplus((mu - 1.0) / s))
        return ((m + 1.0) * 0.5).clamp(0.0, 1.0)

    def formula(self, n_pixels: int) -> str:
        return (rf"\log p(x\mid z) = \sum_{{i=1}}^{{{n_pixels}}} \log\Big[\sigma\big(\tfrac{{x_i + \delta - \mu_i}}{{s_i}}"
                r"\big) - \sigma\big(\tfrac{x_i - \delta - \mu_i}{s_i}\big)\Big],\ \ \delta = \tfrac{1}{255}")
