"""vae.lessons.uses: denoising, inpainting, anomaly scores and compression on the shipped models."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae.checkpoint import load_checkpoint
from vae.data.datasets import load_dataset
from vae.lessons import uses

ROOT = Path(__file__).resolve().parents[2]


def model_and_images(name: str, n: int = 64):
    path = ROOT / "checkpoints" / name
    if not (path / "model.safetensors").is_file():
        pytest.skip(f"checkpoints/{name} is not there")
    ck = load_checkpoint(path)
    return ck, load_dataset(ck.dataset, "test").images[:n]


@pytest.mark.parametrize("name", ["digits", "fashion-mnist"])
def test_denoising_helps_under_heavy_noise_and_costs_its_blur_under_light_noise(name):
    ck, x = model_and_images(name)
    errors = uses.denoising_errors(ck.model, x, (0.05, 0.5), seed=0)
    light, heavy = errors
    assert heavy["denoised"] < 0.7 * heavy["noisy"], errors  # measured: 0.43 (digits), 0.53 (fashion-mnist)
    assert light["denoised"] > light["noisy"], errors  # the reconstruction's own error is larger than light noise
    noisy = uses.add_noise(x, 0.5, seed=0)
    assert float(noisy.min()) >= 0 and float(noisy.max()) <= 1
    assert heavy["noisy"] == pytest.approx(float((noisy - x).pow(2).mean()))


@pytest.mark.parametrize("kind", uses.MASKS)
def test_masks_hide_what_they_say(kind):
    m = uses.mask(kind, (1, 28, 28), seed=0)
    assert m.shape == (1, 28, 28) and set(m.unique().tolist()) <= {0.0, 1.0}
    hidden = 1 - float(m.mean())
    assert {"left half": 0.5, "bottom half": 0.5, "centre square": 0.25}.get(kind, 0.6) == pytest.approx(hidden, abs=0.05)


def test_unknown_mask_is_refused():
    with pytest.raises(ValueError, match="mask must be one of"):
        uses.mask("top", (1, 28, 28))


def test_inpainting_keeps_known_pixels_and_fills_the_hole():
    ck, x = model_and_images("fashion-mnist", 32)
    known = uses.mask("left half", (1, 28, 28))
    steps = uses.inpaint(ck.model, x, known, iterations=15)
    assert len(steps) == 16
    for s in steps:
        assert torch.equal(s * known, x * known)
    hole = 1 - known
    errs = [uses.masked_mse(s, x, hole) for s in steps]
    assert errs[-1] < 0.5 * errs[0], errs
    # the filled half is better than filling with the mean of the known images' pixels
    mean_fill = uses.masked_mse(x.mean(0, keepdim=True).expand_as(x), x, hole)
    assert errs[-1] < mean_fill


def test_masked_mse_against_numpy():
    a, b = torch.rand(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    region = (torch.rand(1, 4, 4) > 0.5).float()
    r = region.expand_as(a).numpy().astype(bool)
    assert uses.masked_mse(a, b, region) == pytest.approx(float(((a.numpy() - b.numpy()) ** 2)[r].mean()), rel=1e-5)


def test_auroc_matches_the_pairwise_definition():
    rng = np.random.default_rng(0)
    inside, outside = rng.normal(size=60), rng.normal(0.7, size=40)
    pairs = (outside[:, None] > inside[None]).mean() + 0.5 * (outside[:, None] == inside[None]).mean()
    assert uses.auroc(inside, outside) == pytest.approx(pairs)
    assert uses.auroc(inside, inside + 100) == 1.0


@pytest.mark.parametrize("name, other", [("fashion-mnist", "handwritten digits"), ("digits", "Fashion-MNIST")])
def test_other_images_are_shaped_like_the_model_s_data(name, other):
    ck, x = model_and_images(name, 100)
    sets = uses.other_images(tuple(ck.config.image_shape), x, ck.dataset, n=100)
    assert [s.name for s in sets] == [other, "uniform noise", "upside-down", "inverted"]
    for s in sets:
        assert s.images.shape[1:] == x.shape[1:] and float(s.images.min()) >= 0 and float(s.images.max()) <= 1


def test_noise_and_inverted_images_score_far_worse_than_the_model_s_own():
    ck, x = model_and_images("fashion-mnist", 300)
    own = uses.neg_elbo(ck.model, x)
    terms = ck.model.per_image_terms(x)
    assert np.allclose(own, (terms["recon"] + terms["kl"]).numpy())
    scores = {s.name: uses.neg_elbo(ck.model, s.images) for s in uses.other_images((1, 28, 28), x, ck.dataset, 300)}
    assert uses.auroc(own, scores["uniform noise"]) > 0.99
    assert uses.auroc(own, scores["inverted"]) > 0.99


def test_compression_counts_bits_and_png_bytes():
    ck, x = model_and_images("fashion-mnist", 20)
    c = uses.compression(ck.model, x)
    kl = ck.model.per_image_terms(x)["kl"].numpy()
    assert np.allclose(c["kl_bits"], kl / np.log(2))
    buf = io.BytesIO()
    Image.fromarray((x[3, 0].numpy() * 255 + 0.5).astype(np.uint8)).save(buf, format="PNG", optimize=True)
    assert c["png_bytes"][3] == len(buf.getvalue())
    assert (c["raw_bytes"] == 784).all() and (c["mse"] < 0.05).all()
    black, noise = torch.zeros(1, 28, 28), torch.rand(1, 28, 28)
    assert uses.png_size(black) < uses.png_size(noise)
