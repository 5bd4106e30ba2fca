"""Your image's "auto" inversion follows the model's own training data, and never turns a hue into its
complement: only lightness is swapped."""

import colorsys
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from vae.checkpoint import load_checkpoint
from vae.data.images import DataBackground, invert_lightness, prepare_image

ROOT = Path(__file__).resolve().parents[2]


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def red_circle_on(background: str, size: int = 64) -> bytes:
    im = Image.new("RGB", (size, size), background)
    ImageDraw.Draw(im).ellipse((16, 16, 48, 48), fill=(220, 20, 20))
    return _png(im)


DARK = DataBackground(lightness=0.02, dark_fraction=1.0)  # light shapes on black, like Fashion-MNIST
LIGHT = DataBackground(lightness=0.97, dark_fraction=0.0)  # dark shapes on white paper
MIXED = DataBackground(lightness=0.45, dark_fraction=0.55)  # photos: no common background


def test_lightness_inversion_keeps_every_hue():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (3, 40, 40)).astype(np.float32)
    b = invert_lightness(a)
    for (r, g, bl), (r2, g2, b2) in zip(a.reshape(3, -1).T[:200], b.reshape(3, -1).T[:200], strict=True):
        h, light, s = colorsys.rgb_to_hls(r, g, bl)
        h2, light2, s2 = colorsys.rgb_to_hls(r2, g2, b2)
        assert light2 == pytest.approx(1 - light, abs=1e-5)
        if s > 1e-3 and 0.01 < light < 0.99:
            assert h2 == pytest.approx(h, abs=1e-4) and s2 == pytest.approx(s, abs=1e-4)
    grey = rng.uniform(0, 1, (1, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(invert_lightness(grey), 1 - grey, atol=1e-7)


def test_a_red_circle_on_white_stays_red_on_black_for_a_dark_background_model():
    prep = prepare_image(red_circle_on("white"), (3, 32, 32), background=DARK)
    assert prep.inverted and "colours kept" in prep.notes[-1]
    centre, corner = prep.tensor[:, 16, 16], prep.tensor[:, 0, 0]
    assert centre[0] > 0.8 and centre[1] < 0.2 and centre[2] < 0.2, centre  # still red, not cyan
    assert corner.max() < 0.02, corner  # the paper became the data's black


@pytest.mark.parametrize("background, upload, inverted", [
    (LIGHT, "white", False), (LIGHT, "black", True), (DARK, "black", False), (DARK, "white", True),
    (MIXED, "white", False), (MIXED, "black", False), (None, "white", False),
])
def test_auto_matches_the_training_images_background(background, upload, inverted):
    prep = prepare_image(red_circle_on(upload), (3, 32, 32), background=background)
    assert prep.inverted is inverted
    assert prepare_image(red_circle_on(upload), (3, 32, 32), invert=True, background=MIXED).inverted


def test_background_of_images():
    dark = torch.zeros(10, 1, 8, 8)
    dark[:, :, 2:6, 2:6] = 1
    assert DataBackground.of(dark).kind == "dark"
    assert DataBackground.of(1 - dark).kind == "light"
    assert DataBackground.of(torch.cat([dark[:5], 1 - dark[:5]])).kind == "mixed"
    assert DataBackground.from_dict(DataBackground.of(dark).to_dict()) == DataBackground.of(dark)


def test_fashion_mnist_keeps_inverting_dark_ink_on_white():
    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    bg = ck.data_background()  # shipped before the record existed: measured on its test split
    assert bg.kind == "dark" and bg.dark_fraction > 0.95
    shirt = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(shirt).rectangle((80, 40, 200, 250), fill=0)
    assert prepare_image(_png(shirt), (1, 28, 28), background=bg).inverted
    assert not prepare_image(_png(Image.eval(shirt, lambda v: 255 - v)), (1, 28, 28), background=bg).inverted


def test_a_model_of_dark_shapes_on_white_records_it_and_leaves_white_uploads_alone(tmp_path, image_folder):
    from vae.config import ModelConfig, TrainConfig
    from vae.training.trainer import Trainer

    root = image_folder(tmp_path / "shapes", size=16, mode="RGB")
    out = tmp_path / "ck"
    mc = ModelConfig(arch="mlp", image_shape=(3, 16, 16), latent_dim=2, hidden_dims=(8,))
    Trainer(mc, TrainConfig(dataset=f"folder:{root}", out=str(out), epochs=1, batch_size=32)).run()
    ck = load_checkpoint(out)
    record = ck.meta["data_background"]
    assert record["dark_fraction"] == 0.0 and record["lightness"] > 0.9  # (shapes touch some borders)
    bg = ck.data_background()
    assert bg.kind == "light"
    assert not prepare_image(red_circle_on("white"), (3, 16, 16), background=bg).inverted
    prep = prepare_image(red_circle_on("black"), (3, 16, 16), background=bg)
    assert prep.inverted and prep.tensor[0, 8, 8] > 0.8 and prep.tensor[:, 0, 0].min() > 0.98
