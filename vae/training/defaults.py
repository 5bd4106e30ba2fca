"""What a new model of a data set starts from on the Train page (the widgets' values when the data set
is chosen; the user can change them).

A colour data set starts from what the shipped colour model (checkpoints/emoji) was trained with: the
convolutional architecture, whose filters share weights across the image and its channels (an MLP of
32×32×3 inputs has 3,072 of them per hidden unit), and a Gaussian likelihood with a learned σ. Bernoulli
treats each value as the probability of a black-or-white pixel, which fits grey strokes on black but not
the flat, mid-range colours of emoji; the discretised logistic models the 256 levels and is the one whose
bits/dim compare with published figures, but it trained slower to recognisable emoji here. A grey data
set starts from Bernoulli and keeps the architecture the user had.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data.datasets import DATASETS


@dataclass(frozen=True)
class ModelDefaults:
    """The starting values of a data set's new model."""

    likelihood: str  # a name in vae.likelihoods.LIKELIHOODS
    arch: str | None = None  # a name in vae.archs.ARCHITECTURES; None: the one already chosen
    latent_dim: int | None = None  # None: the one already chosen
    beta: float | None = None  # None: the one already chosen


GREY = ModelDefaults("bernoulli")
#: The colour data sets' starting values: checkpoints/emoji's (conv, Gaussian, 16 dimensions, β = 2).
COLOUR = ModelDefaults("gaussian", arch="conv", latent_dim=16, beta=2.0)
COLOUR_DATASETS = ("emoji",)  # the built-in data sets in RGB


def model_defaults(dataset: str) -> ModelDefaults:
    """The starting values of a new model of ``dataset`` (a built-in data set's name)."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")
    return COLOUR if dataset in COLOUR_DATASETS else GREY
