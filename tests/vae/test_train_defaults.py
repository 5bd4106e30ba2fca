"""What the Train page starts a new model of a data set from (vae.training.defaults), and the pictures it
shows of a run (vae.training.previews): grey data stays grey, colour data stays colour."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae.archs import ARCHITECTURES
from vae.config import ModelConfig
from vae.data.datasets import DATASETS
from vae.likelihoods import LIKELIHOODS
from vae.model import VAE
from vae.training.defaults import COLOUR, GREY, model_defaults
from vae.training.previews import data_preview, reconstruction_preview, spread


def test_a_colour_data_set_starts_from_the_shipped_colour_models_settings():
    d = model_defaults("emoji")
    assert (d.arch, d.likelihood, d.latent_dim, d.beta) == ("conv", "gaussian", 16, 2.0)
    assert model_defaults("digits") == GREY and model_defaults("fashion-mnist").likelihood == "bernoulli"
    assert GREY.arch is None  # a grey set keeps the architecture the user had
    for x in (COLOUR, GREY):
        assert x.likelihood in LIKELIHOODS and (x.arch is None or x.arch in ARCHITECTURES)
    ModelConfig(
        arch=COLOUR.arch,
        latent_dim=COLOUR.latent_dim,
        beta=COLOUR.beta,
        likelihood=COLOUR.likelihood,
        image_shape=(3, 32, 32),
    ).validate()
    assert all(model_defaults(n) for n in DATASETS if ":" not in n)
    with pytest.raises(ValueError, match="unknown data set 'emojis'"):
        model_defaults("emojis")


def test_spread_takes_the_first_the_last_and_evenly_between():
    assert spread(100, 5).tolist() == [0, 25, 50, 74, 99]  # round(24.75) = 25, round(74.25) = 74
    assert spread(3, 12).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="at least one image"):
        spread(0)


@pytest.mark.parametrize("channels", [1, 3])
def test_previews_keep_the_datas_channels(channels):
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.random((40, channels, 8, 8)).astype(np.float32))
    row = data_preview(images, k=6, scale=2)
    assert row.mode == ("RGB" if channels == 3 else "L")
    assert row.size == (2 * (6 * 9 + 1), 2 * (9 + 1))  # six 8-pixel images, 1-pixel gaps, twice the size
    # the first image of the row is images[0], pixel for pixel (nearest-neighbour, twice the size)
    first = np.asarray(row, np.float32)[2:18:2, 2:18:2] / 255
    want = (
        images[0].numpy().transpose(1, 2, 0).squeeze(-1)
        if channels == 1
        else images[0].numpy().transpose(1, 2, 0)
    )
    assert np.abs(first - want).max() <= 1 / 255 + 1e-6
    torch.manual_seed(0)
    model = VAE(
        ModelConfig(arch="mlp", latent_dim=2, hidden_dims=(16,), image_shape=(channels, 8, 8)).validate()
    )
    pair = reconstruction_preview(model, images, k=6, scale=1)
    assert pair.mode == row.mode and pair.size == (6 * 9 + 1, 2 * 9 + 1)
    below = np.asarray(pair, np.float32)[10:18, 1:9] / 255  # the first reconstruction, under its image
    with torch.inference_mode():
        recon = model.eval().reconstruct(images[:1])[0].numpy().transpose(1, 2, 0)
    assert np.abs(below - (recon.squeeze(-1) if channels == 1 else recon)).max() <= 1 / 255 + 1e-6
