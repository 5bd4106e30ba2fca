"""Pictures the Train page shows of a run: a few images of the data set it trains on, and, once it has
finished, a few test images above the new model's reconstructions of them. Grey data gives grey
pictures ("L"), colour data colour ones ("RGB"): nothing is converted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from ..data.images import image_grid

if TYPE_CHECKING:
    from ..model import VAE

PREVIEW_IMAGES = 12  # images a preview shows, spread over the split


def spread(n: int, k: int = PREVIEW_IMAGES) -> np.ndarray:
    """``min(k, n)`` indices spread evenly over ``range(n)`` (the first and the last among them), so that a
    split stored class by class shows several classes."""
    if n < 1:
        raise ValueError(f"a preview needs at least one image, got {n}")
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(int))


def data_preview(images: torch.Tensor, k: int = PREVIEW_IMAGES, scale: int = 2) -> Image.Image:
    """One row of ``k`` images (N, C, H, W) of a split, spread over it."""
    return image_grid(images[torch.from_numpy(spread(len(images), k))], ncol=k, scale=scale)


@torch.inference_mode()
def reconstruction_preview(
    model: VAE, images: torch.Tensor, k: int = PREVIEW_IMAGES, scale: int = 2
) -> Image.Image:
    """Two rows: ``k`` images (N, C, H, W) spread over the split, and under each the model's reconstruction
    (its decoded posterior mean)."""
    x = images[torch.from_numpy(spread(len(images), k))].float()
    recon = model.eval().reconstruct(x)
    return image_grid(torch.cat([x, recon.to(x.dtype)]), ncol=len(x), scale=scale)
