"""The drawing pad of Your image (components/live_decoder/draw.js): its colours, and its pixels as the
model's input.

A grey model's pad is drawn light on black, like its data; a colour model's is drawn in
:data:`PALETTE`'s colours on white, like the emoji. The pad is :data:`PAD_SIZE` pixels square; the model
sees the mean of each block of it that falls on one of its pixels:

- :func:`pad_to_input` is the twin of ``canvasToInput`` in components/live_decoder/pixels.js (a grey
  model: the block's mean brightness, (R + G + B) / 3, in its one channel; a colour model: the block's mean
  of each of R, G and B, in the model's (C, H, W) layout);
- :func:`input_to_pad` is the twin of ``inputToCanvas`` there (a model input painted back, each pixel the
  block that :func:`pad_to_input` averages into it, so that a drawing a link carries reopens as it was).

tests/vae/test_pad.py runs the page's functions under node on the same pixels and holds them to these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..i18n import N_

PAD_SIZE = 280  # the pad's canvas, pixels a side


@dataclass(frozen=True)
class Swatch:
    """One colour of the pad's palette."""

    colour: str  # CSS "#rgb": each channel a multiple of 17, one of a drawing's 16 levels (vae.data.drawings)
    name: str  # what it is called (marked for translation)


#: A colour model's palette: the colours most emoji are made of, then white to rub out with.
PALETTE: tuple[Swatch, ...] = (
    Swatch("#fc3", N_("yellow")),
    Swatch("#f80", N_("orange")),
    Swatch("#d22", N_("red")),
    Swatch("#853", N_("brown")),
    Swatch("#000", N_("black")),
    Swatch("#37d", N_("blue")),
    Swatch("#3a4", N_("green")),
    Swatch("#fff", N_("white (rubs out)")),
)
#: The pad's paper and its first ink, by the model's channels: light on dark for grey, black-outlined
#: yellow on white for colour.
BACKGROUND = {1: "#000", 3: "#fff"}
INK = {1: "#fff", 3: PALETTE[0].colour}


def rgb_of(colour: str) -> tuple[int, int, int]:
    """``"#rgb"`` or ``"#rrggbb"`` as 8-bit (R, G, B)."""
    if not re.fullmatch(r"#([0-9a-fA-F]{3}){1,2}", colour):
        raise ValueError(f"a colour is '#rgb' or '#rrggbb' (hexadecimal digits), got {colour!r}")
    h = colour[1:] if len(colour) == 7 else "".join(ch * 2 for ch in colour[1:])
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _blocks(size: int, n: int) -> np.ndarray:
    """The model pixel (0..n-1) each of ``size`` pad pixels falls in: floor(i * n / size)."""
    return np.minimum(n - 1, (np.arange(size) * n) // size)


def pad_to_input(rgba: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """The pad's pixels (H, W, 4) in 0..255 as the model's input (C, H, W) float32 in [0, 1]: the mean of
    each block (brightness for one channel, each of R, G, B for three). Twin of pixels.js ``canvasToInput``."""
    c, h, w = (int(v) for v in shape)
    if c not in (1, 3):
        raise ValueError(f"a model input has 1 or 3 channels, got shape {shape!r}")
    px = np.asarray(rgba, dtype=np.int64)
    if px.ndim != 3 or px.shape[2] != 4:
        raise ValueError(f"the pad's pixels are (height, width, 4) RGBA, got shape {px.shape}")
    rows, cols = _blocks(px.shape[0], h), _blocks(px.shape[1], w)
    sums = np.zeros((h, w, 3), np.int64)
    np.add.at(sums, (rows[:, None], cols[None, :]), px[..., :3])
    counts = np.zeros((h, w), np.int64)
    np.add.at(counts, (rows[:, None], cols[None, :]), 1)
    counts = np.maximum(counts, 1)[..., None]
    if c == 3:
        return (sums / (255.0 * counts)).transpose(2, 0, 1).astype(np.float32)
    return (sums.sum(-1, keepdims=True) / (765.0 * counts)).transpose(2, 0, 1).astype(np.float32)


def input_to_pad(x: np.ndarray, shape: tuple[int, int, int], size: int = PAD_SIZE) -> np.ndarray:
    """A model input (C*H*W values in [0, 1]) painted on a ``size``-pixel pad: (size, size, 4) uint8, each
    model pixel the block :func:`pad_to_input` averages back into it (its first channel for a grey model).
    Twin of pixels.js ``inputToCanvas``."""
    c, h, w = (int(v) for v in shape)
    a = np.clip(np.asarray(x, dtype=np.float64).reshape(c, h, w), 0.0, 1.0)
    v = np.floor(a * 255 + 0.5).astype(np.uint8)  # Math.round
    rgb = v[[0, 1, 2]] if c == 3 else v[[0, 0, 0]]  # (3, h, w)
    # pad pixel y lies in the model row r with ceil(r * size / h) <= y < ceil((r + 1) * size / h)
    rows = np.searchsorted(-(-np.arange(1, h + 1) * size // h), np.arange(size), side="right")
    cols = np.searchsorted(-(-np.arange(1, w + 1) * size // w), np.arange(size), side="right")
    out = np.full((size, size, 4), 255, np.uint8)
    out[..., :3] = rgb[:, rows[:, None], cols[None, :]].transpose(1, 2, 0)
    return out
