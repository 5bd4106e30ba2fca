"""What an image looks like, in numbers a sentence can name: how much ink, how bright, how wide and
tall, how symmetric, where its centre of mass is.

*Ink* is what differs from the background: for Fashion-MNIST's light garments on black, the
lightness itself; for dark strokes on white, one minus it. A pixel is *inked* when its ink is at
least :data:`INK` (a soft threshold: faint, blurry decoder outputs count). Every measurement is a
fraction of the image (area, width, height, position) or of the lightness scale, so images of any
size compare.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.images import border, lightness

#: A pixel is inked when it differs from the background by at least this much (lightness 0..1).
INK = 0.2
#: The measurements, in the order they are reported.
MEASURES = ("ink", "brightness", "width", "height", "symmetry", "x", "y")


def ink_map(images: torch.Tensor | np.ndarray, background: float | None = None) -> np.ndarray:
    """How far each pixel is from the background: (N, C, H, W) in [0, 1] -> (N, H, W) in [0, 1].

    ``background``: the data's background lightness (``DataBackground.lightness``: 0 black, 1 white);
    None: each image's own, the median of its one-pixel border."""
    x = images.detach().float().cpu().numpy() if torch.is_tensor(images) else np.asarray(images, np.float32)
    light = lightness(x).astype(np.float32)  # (N, H, W)
    if background is None:
        bg = np.median(border(light), axis=-1)[:, None, None]
    else:
        bg = np.float32(background)
    return np.clip(np.abs(light - bg), 0.0, 1.0)


def measure(images: torch.Tensor | np.ndarray, background: float | None = None) -> dict[str, np.ndarray]:
    """The measurements of each image (N, C, H, W) in [0, 1], each (N,):

    - ``ink``: the share of the image that is inked;
    - ``brightness``: the mean lightness of the inked pixels (0 black .. 1 white; 0 where none is inked);
    - ``width``, ``height``: the bounding box of the inked pixels, as a share of the image's width and height;
    - ``symmetry``: 1 - Σ|ink - its mirror image (left-right)| / (2 Σ ink): 1 for a mirror-symmetric
      image, 0 when the ink and its mirror image do not overlap;
    - ``x``, ``y``: the ink's centre of mass (0 left or top .. 1 right or bottom; 0.5 where there is none).
    """
    x = images.detach().float().cpu().numpy() if torch.is_tensor(images) else np.asarray(images, np.float32)
    ink = ink_map(x, background)  # (N, H, W)
    n, h, w = ink.shape
    inked = ink >= INK
    area = inked.mean((1, 2))
    light = lightness(x)
    brightness = np.where(area > 0, (light * inked).sum((1, 2)) / np.maximum(inked.sum((1, 2)), 1), 0.0)
    cols, rows = inked.any(1), inked.any(2)  # (N, W), (N, H)
    width = np.where(cols.any(1), (w - cols[:, ::-1].argmax(1) - cols.argmax(1)) / w, 0.0)
    height = np.where(rows.any(1), (h - rows[:, ::-1].argmax(1) - rows.argmax(1)) / h, 0.0)
    total = ink.sum((1, 2))
    safe = np.maximum(total, 1e-8)
    symmetry = np.where(total > 0, 1.0 - np.abs(ink - ink[:, :, ::-1]).sum((1, 2)) / (2 * safe), 1.0)
    xs, ys = (np.arange(w) + 0.5) / w, (np.arange(h) + 0.5) / h
    cx = np.where(total > 0, (ink.sum(1) * xs).sum(1) / safe, 0.5)
    cy = np.where(total > 0, (ink.sum(2) * ys).sum(1) / safe, 0.5)
    out = {"ink": area, "brightness": brightness, "width": width, "height": height, "symmetry": symmetry,
           "x": cx, "y": cy}
    return {k: np.asarray(v, np.float64) for k, v in out.items()}
