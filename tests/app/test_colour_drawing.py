"""Your image's drawing pad on the colour emoji model (AppTest): the pad gets the palette and white paper, a
colour drawing travels in the link as three planes and reopens the page on the same figures, and the page
shows it as drawn (not inverted); a grey model's pad is as before (light ink on black, no palette)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from app_helpers import open_link, reopened, url

from vae.data.drawings import decode_drawing, encode_drawing
from vae.data.pad import PALETTE, rgb_of

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not (ROOT / "checkpoints" / "emoji" / "meta.json").exists(), reason="no checkpoints/emoji"
)


def _pad_data(at) -> dict:
    (el,) = [e for e in at.get("bidi_component") if e.proto.component_name == "vae_live_decoder"]
    return json.loads(el.proto.json or el.proto.mixed.json)


def _face() -> np.ndarray:
    """A yellow disc with two brown eyes on white, (3, 32, 32) at a drawing's levels."""
    yy, xx = np.mgrid[:32, :32]
    x = np.ones((3, 32, 32), np.float32)
    disc = (yy - 16) ** 2 + (xx - 16) ** 2 < 12**2
    x[:, disc] = (np.asarray(rgb_of(PALETTE[0].colour), np.float32) / 255)[:, None]
    for cx in (11, 21):
        x[:, 11:15, cx - 1 : cx + 1] = (np.asarray(rgb_of("#853"), np.float32) / 255)[:, None, None]
    return x


def test_a_colour_models_pad_has_the_palette_and_white_paper():
    at = open_link("your_image", {"ckpt": "emoji", "sample": "draw"})
    data = _pad_data(at)
    assert data["mode"] == "draw" and data["image"]["shape"] == [3, 32, 32]
    assert data["paper"] == "#fff" and data["ink"] == PALETTE[0].colour
    assert [s["colour"] for s in data["palette"]] == [s.colour for s in PALETTE]
    assert [s["name"] for s in data["palette"]][:2] == ["yellow", "orange"]
    assert "the colour you pick" in data["text"]["pad"]
    zh = open_link("your_image", {"ckpt": "emoji", "sample": "draw", "lang": "zh"})
    assert [s["colour"] for s in _pad_data(zh)["palette"]] == [s.colour for s in PALETTE]


def test_a_grey_models_pad_is_unchanged():
    data = _pad_data(open_link("your_image", {"ckpt": "digits", "sample": "draw"}))
    assert data["paper"] == "#000" and data["ink"] == "#fff" and data["palette"] == []
    assert data["text"]["pad"] == "Draw here, light on dark like the data."


def test_a_colour_drawing_travels_in_the_link_and_is_shown_as_drawn():
    """The drawing's three planes are in the link; the page reopens on the same figures; the model's input
    is the drawing itself in RGB (yellow stays yellow) and the original is not inverted."""
    from pages.your_image import drawing_text, drawn_image

    x = _face()
    text = encode_drawing(x)
    assert text.startswith("2.")
    assert drawing_text({"pixels": x.ravel().tolist()}, (3, 32, 32)) == text
    at = open_link("your_image", {"ckpt": "emoji", "sample": "draw", "drawn": text})
    assert not at.link_notices and at.session_state["img_drawn"] == text
    assert "What the model sees" in [h.value for h in at.subheader]
    assert url(at)["drawn"] == text
    np.testing.assert_array_equal(np.asarray(_pad_data(at)["initial"], np.float32), x.ravel())
    again = reopened(at, "your_image")
    elbo = [[m.value for m in a.metric if m.label == "−ELBO (nats)"] for a in (at, again)]
    assert elbo[0] == elbo[1] and len(elbo[0]) == 1, elbo
    prep, err = drawn_image(x.ravel().tolist(), (3, 32, 32))
    assert err is None
    np.testing.assert_array_equal(prep.tensor.numpy(), x)
    original = np.asarray(prep.original.convert("RGB"))
    assert tuple(original[16, 16]) == rgb_of(PALETTE[0].colour) and tuple(original[0, 0]) == (255, 255, 255)
    grey = open_link("your_image", {"ckpt": "digits", "sample": "draw", "drawn": text})
    assert len(grey.link_notices) == 1 and "colour drawing" in grey.link_notices[0], grey.link_notices
    np.testing.assert_array_equal(decode_drawing(text, (3, 32, 32)), x)
