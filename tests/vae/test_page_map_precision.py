"""What the page's map loses by downloading its codes as float16 (components/live_decoder:
``as_sent``): the codes it finds for a spot, and the images they decode to, against the server's float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from components.live_decoder import WIRE_DTYPE, as_sent
from vae.checkpoint import load_checkpoint
from vae.explore.projection import build_latent_map
from vae.explore.sets import default_projection, explore_set, projection

ROOT = Path(__file__).resolve().parents[2]
#: The page's pixels must stay within 2/255 of the server's; the rounding may use a quarter of that.
PIXELS = 0.5 / 255


@pytest.mark.parametrize("name", ["fashion-mnist", "fashion-mnist-beta4", "digits"])
def test_float16_map_points_move_the_decoded_images_by_under_half_a_grey_level(name):
    if not (ROOT / "checkpoints" / name / "model.safetensors").is_file():
        pytest.skip(f"no checkpoints/{name}")
    ck = load_checkpoint(ROOT / "checkpoints" / name)
    enc = explore_set(ck, ck.load_data("test", download=False))
    cfg = default_projection(ck, len(enc))
    coords, _ = projection(ck, "test", enc, cfg)
    lm = build_latent_map(enc.mu, coords, cfg.method, None)
    sent = as_sent(lm)
    assert sent.codes.dtype == np.float32 and np.array_equal(sent.codes, lm.codes.astype(WIRE_DTYPE).astype(np.float32))
    assert np.array_equal(sent.coords, lm.coords)
    rng = np.random.default_rng(0)
    lo, hi = lm.bounds
    spots = rng.uniform(lo, hi, (300, 2)).astype(np.float32)
    z, z16 = lm.to_latent(spots), sent.to_latent(spots)
    with torch.inference_mode():
        a = ck.model.float().decode_mean(torch.from_numpy(z)).numpy()
        b = ck.model.float().decode_mean(torch.from_numpy(z16)).numpy()
    assert float(np.abs(a - b).max()) <= PIXELS, f"{name}: {np.abs(a - b).max() * 255:.2f}/255"
    codes = enc.mu[rng.choice(len(enc), 300)]
    span = float(np.max(hi - lo))
    assert float(np.abs(lm.to_map(codes) - sent.to_map(codes)).max()) <= 0.01 * span  # the marker: < 1% of the map


def test_exact_maps_are_sent_as_they_are():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(50, 2)).astype(np.float32)
    identity = build_latent_map(codes, codes, "latent", None)
    assert as_sent(identity) is identity
