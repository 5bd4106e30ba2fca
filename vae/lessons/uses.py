"""What a trained VAE is used for, each as a plain function of the model (no Streamlit).

- :func:`denoise`: noisy image -> encoder -> decoder (the clean image is the likeliest explanation).
- :func:`inpaint`: fill a masked region by iterating encode -> decode, keeping the known pixels.
- :func:`neg_elbo` and :func:`other_images`: anomaly scores (-ELBO, nats) of the model's own test
  images and of images it never saw, with :func:`auroc` to judge how well they separate.
- :func:`compression`: what one image costs as a latent code (the KL, in bits), against the
  PNG file of the same image.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..data.images import to_pil
from ..i18n import N_, Text
from ..model import VAE

LN2 = math.log(2.0)
MASKS = ("left half", "bottom half", "centre square", "random 60% of pixels")  # the app names them in pages/uses.py


def add_noise(x: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """x + N(0, std²) per pixel, clipped back to [0, 1]: (N, C, H, W)."""
    g = torch.Generator().manual_seed(int(seed))
    return (x + std * torch.randn(x.shape, generator=g)).clamp(0.0, 1.0)


def denoise(model: VAE, noisy: torch.Tensor) -> torch.Tensor:
    """Decode the posterior mean of each noisy image: (N, C, H, W) in [0, 1]."""
    return model.reconstruct(noisy)


def denoising_errors(model: VAE, x: torch.Tensor, stds: tuple[float, ...], seed: int = 0) -> list[dict[str, float]]:
    """For each noise level: mean squared error per pixel of the noisy images and of their
    encode -> decode, both against the clean images ``x``."""
    out = []
    for std in stds:
        noisy = add_noise(x, std, seed)
        out.append({"std": float(std), "noisy": float((noisy - x).pow(2).mean()),
                    "denoised": float((denoise(model, noisy) - x).pow(2).mean())})
    return out


def mask(kind: str, image_shape: tuple[int, int, int], seed: int = 0) -> torch.Tensor:
    """A mask of known pixels (1 = known, 0 = to fill in), shape (C, H, W); ``kind`` from MASKS."""
    c, h, w = image_shape
    m = torch.ones(c, h, w)
    if kind == "left half":
        m[:, :, : w // 2] = 0
    elif kind == "bottom half":
        m[:, h // 2 :, :] = 0
    elif kind == "centre square":
        m[:, h // 4 : h - h // 4, w // 4 : w - w // 4] = 0
    elif kind == "random 60% of pixels":
        g = torch.Generator().manual_seed(int(seed))
        m = (torch.rand(1, h, w, generator=g) >= 0.6).float().expand(c, h, w).clone()
    else:
        raise ValueError(f"mask must be one of {', '.join(MASKS)}, got {kind!r}")
    return m


def inpaint(model: VAE, x: torch.Tensor, known: torch.Tensor, iterations: int = 20,
            fill: float = 0.0) -> list[torch.Tensor]:
    """Fill the unknown pixels of images x (N, C, H, W) by iterating x <- known·x + (1-known)·decode(encode(x)).

    Unknown pixels start at ``fill``. Returns the images after 0, 1, ..., ``iterations`` rounds;
    the known pixels never change. (A simple fixed-point scheme in the spirit of Rezende et al.
    2014's imputation by iterated sampling, with the posterior mean instead of a sample.)
    """
    current = known * x + (1 - known) * fill
    out = [current]
    for _ in range(iterations):
        current = known * x + (1 - known) * model.reconstruct(current)
        out.append(current)
    return out


def masked_mse(a: torch.Tensor, b: torch.Tensor, region: torch.Tensor) -> float:
    """Mean squared difference over the pixels where ``region`` is 1."""
    r = region.expand_as(a)
    return float(((a - b).pow(2) * r).sum() / r.sum().clamp_min(1))


def neg_elbo(model: VAE, images: torch.Tensor, seed: int = 0) -> np.ndarray:
    """-ELBO of each image, nats (one seeded posterior sample): (N,). Lower: more likely under the model."""
    t = model.per_image_terms(images, seed=seed)
    return (t["recon"] + t["kl"]).numpy()


def _resize(images: torch.Tensor, size: tuple[int, int], box: float = 1.0) -> torch.Tensor:
    """Images (N, C, h, w) -> (N, C, H, W): resized (bilinear) to ``box`` of the size and centred."""
    h, w = size
    ih, iw = max(1, round(h * box)), max(1, round(w * box))
    small = torch.nn.functional.interpolate(images, size=(ih, iw), mode="bilinear", align_corners=False)
    out = torch.zeros(len(images), images.shape[1], h, w)
    top, left = (h - ih) // 2, (w - iw) // 2
    out[:, :, top : top + ih, left : left + iw] = small.clamp(0, 1)
    return out


@dataclass
class OtherSet:
    """Images a model never saw, for anomaly scoring."""

    name: str
    images: torch.Tensor  # (N, C, H, W) in [0, 1]
    note: str


def other_images(image_shape: tuple[int, int, int], own: torch.Tensor, dataset: str, n: int = 1000,
                 seed: int = 0) -> list[OtherSet]:
    """Out-of-distribution images shaped like the model's: another data set (handwritten digits,
    scikit-learn's 8x8 scaled into the middle 20x20 as MNIST draws them; or, for a model of
    digits, Fashion-MNIST's test images shrunk), uniform noise, and the model's own test images
    ``own`` turned upside down and inverted."""
    from ..data.datasets import load_dataset

    c, h, w = image_shape
    if dataset in ("digits", "mnist"):
        other = load_dataset("fashion-mnist", "test").images[:n]
        name, note = "Fashion-MNIST", Text(N_("{n} Fashion-MNIST test images, shrunk to {w}×{h}"), n=len(other), w=w, h=h)
        box = 1.0
    else:
        other = torch.cat([load_dataset("digits", "test").images, load_dataset("digits", "train").images])[:n]
        name = Text(N_("handwritten digits"))
        note = Text(N_("scikit-learn's {n} 8×8 digits, enlarged into the middle of {w}×{h}"), n=len(other), w=w, h=h)
        box = 20 / 28
    other = _resize(other, (h, w), box).expand(-1, c, -1, -1).contiguous()
    g = torch.Generator().manual_seed(int(seed))
    own = own[:n]
    return [
        OtherSet(name, other, note),
        OtherSet(Text(N_("uniform noise")), torch.rand(n, c, h, w, generator=g), Text(N_("every pixel uniform in [0, 1]"))),
        OtherSet(Text(N_("upside-down")), own.flip(-2), Text(N_("the model's own test images, flipped vertically"))),
        OtherSet(Text(N_("inverted")), 1.0 - own, Text(N_("the model's own test images, dark and light swapped"))),
    ]


def auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """Area under the ROC curve of the score -ELBO for telling ``outside`` (positive) from ``inside``:
    1.0 separates perfectly, 0.5 is chance, below 0.5 the outsiders look *more* likely."""
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.zeros(len(inside)), np.ones(len(outside))]
    return float(roc_auc_score(y, np.r_[inside, outside]))


def png_size(img: torch.Tensor) -> int:
    """Bytes of the image (C, H, W) in [0, 1] as an 8-bit PNG, compressed as hard as PIL can."""
    buf = io.BytesIO()
    to_pil(img).save(buf, format="PNG", optimize=True)
    return len(buf.getvalue())


def compression(model: VAE, images: torch.Tensor, seed: int = 0) -> dict[str, np.ndarray]:
    """Per image: ``kl_bits``, what sending its latent code costs (KL(q(z|x) || p(z)) / ln 2: the
    length of a code for z ~ q(z|x) under relative-entropy coding, Havasi et al. 2019), ``mse`` of
    the image decoded from the code (the loss of this lossy compression), ``png_bytes`` (the exact
    image, losslessly) and ``raw_bytes`` (8 bits a pixel)."""
    t = model.per_image_terms(images, seed=seed)
    raw = int(np.prod(images.shape[1:]))
    return {
        "kl_bits": (t["kl"] / LN2).numpy(),
        "png_bytes": np.array([png_size(im) for im in images]),
        "raw_bytes": np.full(len(images), raw),
        "mse": t["mse"].numpy(),
    }

