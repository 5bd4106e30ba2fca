"""Images in and out: tensors <-> PIL, crisp upscaling, grids, PNG and GIF bytes,
and turning a user's own picture into what the model expects.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ..i18n import N_, Text

#: Uploads larger than this many pixels are refused before decoding (decompression bombs).
MAX_UPLOAD_PIXELS = 40_000_000
#: A data set has a consistent background when at least this share of its images has a border on
#: the same side of mid-grey; otherwise (photos, mixed scans) "auto" never inverts an upload.
CONSISTENT_BACKGROUND = 0.8


class ImageError(ValueError):
    """An image cannot be read or converted; the message says what is wrong."""


def to_pil(img: torch.Tensor | np.ndarray, scale: int = 1) -> Image.Image:
    """One image (C, H, W) or (H, W) in [0, 1] -> PIL image, upscaled by ``scale`` (nearest)."""
    a = img.detach().cpu().float().numpy() if torch.is_tensor(img) else np.asarray(img, np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    im = Image.fromarray(a, mode="L" if a.ndim == 2 else "RGB")
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST)
    return im


def upscale(img: torch.Tensor | np.ndarray, size: int = 168) -> np.ndarray:
    """An image as uint8 (H', W'[, 3]) upscaled with nearest-neighbour to about ``size`` pixels."""
    a = img.detach().cpu().float().numpy() if torch.is_tensor(img) else np.asarray(img, np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    factor = max(1, round(size / max(a.shape[:2])))
    a = np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def diverging(img: torch.Tensor | np.ndarray, size: int = 168, scale: float | None = None) -> np.ndarray:
    """A signed image (1, H, W) or (H, W) as RGB uint8 (H', W', 3): negative blue, zero white,
    positive red, ``scale`` (default: the largest magnitude) at full colour; upscaled like :func:`upscale`."""
    a = img.detach().cpu().float().numpy() if torch.is_tensor(img) else np.asarray(img, np.float32)
    a = a.reshape(a.shape[-2:])
    s = float(scale if scale is not None else np.abs(a).max()) or 1.0
    t = np.clip(a / s, -1.0, 1.0)
    pos, neg = np.clip(t, 0, None), np.clip(-t, 0, None)
    rgb = np.stack([1 - neg, 1 - pos - neg, 1 - pos], 0)  # red for +, blue for -
    return upscale(rgb, size)


def image_grid(images: torch.Tensor, ncol: int | None = None, scale: int = 1, pad: int = 1,
               pad_value: float = 1.0) -> Image.Image:
    """A grid of images (N, C, H, W) in [0, 1] as one PIL image (nearest-neighbour upscaled)."""
    if images.ndim != 4 or len(images) == 0:
        raise ImageError(f"image_grid needs a non-empty (N, C, H, W) tensor, got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    ncol = ncol or int(np.ceil(np.sqrt(n)))
    nrow = int(np.ceil(n / ncol))
    grid = torch.full((c, nrow * (h + pad) + pad, ncol * (w + pad) + pad), pad_value)
    for i in range(n):
        r, col = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, y : y + h, x : x + w] = images[i].float().clamp(0, 1)
    return to_pil(grid, scale=scale)


def png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def save_png(im: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format="PNG")
    return path


def gif_bytes(frames: torch.Tensor, scale: int = 4, duration_ms: int = 120, bounce: bool = True) -> bytes:
    """An animated GIF of images (N, C, H, W), played forward then backward when ``bounce``."""
    ims = [to_pil(f, scale=scale).convert("P") for f in frames]
    if bounce and len(ims) > 2:
        ims = ims + ims[-2:0:-1]
    buf = io.BytesIO()
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def lightness(a: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """HLS lightness (max + min) / 2 over the channel axis: (..., C, H, W) -> (..., H, W)."""
    if torch.is_tensor(a):
        return 0.5 * (a.amax(dim=-3) + a.amin(dim=-3))
    return 0.5 * (a.max(axis=-3) + a.min(axis=-3))


def border(a: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """The one-pixel frame of images (..., H, W) as (..., 2H + 2W) values (corners twice)."""
    cat = torch.cat if torch.is_tensor(a) else np.concatenate
    return cat([a[..., 0, :], a[..., -1, :], a[..., :, 0], a[..., :, -1]], -1)


def invert_lightness(a: np.ndarray) -> np.ndarray:
    """Light <-> dark with every hue kept: (C, H, W) in [0, 1] -> the same shape.

    Each pixel's channels move by the same amount, 1 - max - min, which maps HLS lightness L to
    1 - L and leaves hue and saturation as they were (white <-> black, a red stays red). For
    grayscale this is 1 - a.
    """
    return np.clip(a + (1.0 - a.max(axis=0, keepdims=True) - a.min(axis=0, keepdims=True)), 0.0, 1.0)


@dataclass(frozen=True)
class DataBackground:
    """How light the borders of a model's training images are: what "auto" inversion matches."""

    lightness: float  # mean border lightness over the images: 0 black .. 1 white
    dark_fraction: float  # share of images whose mean border is darker than mid-grey

    @classmethod
    def of(cls, images: torch.Tensor) -> DataBackground:
        """Measured on images (N, C, H, W) in [0, 1]."""
        per_image = border(lightness(images.float())).mean(-1)  # (N,)
        return cls(float(per_image.mean()), float((per_image < 0.5).float().mean()))

    @classmethod
    def from_dict(cls, d: dict) -> DataBackground:
        return cls(float(d["lightness"]), float(d["dark_fraction"]))

    def to_dict(self) -> dict[str, float]:
        return {"lightness": round(self.lightness, 4), "dark_fraction": round(self.dark_fraction, 4)}

    @property
    def kind(self) -> str:
        """"dark", "light", or "mixed" (no background colour that most images share)."""
        if self.dark_fraction >= CONSISTENT_BACKGROUND:
            return "dark"
        if self.dark_fraction <= 1.0 - CONSISTENT_BACKGROUND:
            return "light"
        return "mixed"

    def wants_inversion(self, upload_lightness: float) -> bool:
        """True when the upload's border sits on the other side of mid-grey from the data's."""
        if self.kind == "dark":
            return upload_lightness > 0.5
        if self.kind == "light":
            return upload_lightness < 0.5
        return False


@dataclass
class PreparedImage:
    """A user's image converted for the model, and what was done to it."""

    tensor: torch.Tensor  # (C, H, W) in [0, 1]: what the model sees
    original: Image.Image  # the decoded upload (RGB or L), EXIF orientation applied
    inverted: bool  # True when light and dark were swapped to match the data's background
    notes: list[str]  # human-readable steps taken


def prepare_image(data: bytes, image_shape: tuple[int, int, int], invert: bool | None = None,
                  max_pixels: int = MAX_UPLOAD_PIXELS, background: DataBackground | None = None) -> PreparedImage:
    """Decode uploaded bytes and convert them the way the model's data was made.

    Grayscale or RGB as the model expects, transparency flattened onto white, EXIF
    rotation applied, centred square crop-free fit (padding), resize to the model's size.
    Light and dark are swapped (hues kept: :func:`invert_lightness`) when ``invert`` is True,
    or, with ``invert=None``, when the picture's border is on the other side of mid-grey from
    the borders of the model's training images (``background``; without it, never).
    Raises :class:`ImageError` with a clear sentence for anything unreadable.
    """
    c, h, w = image_shape
    if not data:
        raise ImageError(Text(N_("the file is empty")))
    try:
        probe = Image.open(io.BytesIO(data))
        width, height = probe.size
    except Image.DecompressionBombError:
        raise ImageError(Text(N_("the image is far too large (a possible decompression bomb); "
                                 "use a smaller one"))) from None
    except Exception:
        raise ImageError(Text(N_("this file is not an image that can be read (PNG, JPEG, GIF, BMP or WebP)"))) from None
    if width * height > max_pixels:
        raise ImageError(Text(N_("the image is {width} x {height} pixels, more than the {limit:,} allowed; "
                                 "resize it first"), width=width, height=height, limit=max_pixels))
    if width < 1 or height < 1:
        raise ImageError(Text(N_("the image has no pixels")))
    notes: list[str] = []
    try:
        with Image.open(io.BytesIO(data)) as im:
            if getattr(im, "n_frames", 1) > 1:
                notes.append(Text(N_("animated image: used the first of {n} frames"), n=im.n_frames))
            im.seek(0)
            im = ImageOps.exif_transpose(im)
            im.load()
            im = _flatten(im, notes)
    except ImageError:
        raise
    except Exception as e:
        raise ImageError(Text(N_("the image could not be decoded ({error}); it may be truncated or corrupted"),
                              error=type(e).__name__)) from None
    original = im.copy()
    im = im.convert("L" if c == 1 else "RGB")
    if im.size != (w, h):
        im = ImageOps.pad(im, (max(im.size),) * 2, color=_border_color(im), centering=(0.5, 0.5)) \
            if im.width != im.height else im
        im = im.resize((w, h), Image.Resampling.LANCZOS if min(im.size) > w else Image.Resampling.BILINEAR)
        notes.append(Text(N_("resized {w0}x{h0} -> {w}x{h}"), w0=original.width, h0=original.height, w=w, h=h))
    a = np.asarray(im, dtype=np.float32) / 255.0
    a = a[None] if c == 1 else a.transpose(2, 0, 1)
    if invert is None:
        edge = float(border(lightness(a)).mean())
        do_invert = background is not None and background.wants_inversion(edge)
    else:
        do_invert = bool(invert)
    if do_invert:
        light_to_dark = float(border(lightness(a)).mean()) > 0.5
        a = invert_lightness(a)
        what = Text(N_("light background made dark")) if light_to_dark else Text(N_("dark background made light"))
        notes.append(Text(N_("inverted: {what}, like the training images, colours kept") if c == 3
                          else N_("inverted: {what}, like the training images"), what=what))
    if c == 1 and original.mode not in ("L", "1", "I", "I;16", "F"):
        notes.append(Text(N_("converted to grayscale")))
    return PreparedImage(torch.from_numpy(np.ascontiguousarray(a)), original, do_invert, notes)


def _flatten(im: Image.Image, notes: list[str]) -> Image.Image:
    """Any mode -> RGB or L; transparency over white; 16-bit and float scaled to 8-bit."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        notes.append(Text(N_("{mode} image scaled to 8-bit"), mode=im.mode))
        return Image.fromarray(a.astype(np.uint8), mode="L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA"):
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        bg.alpha_composite(im.convert("RGBA"))
        notes.append(Text(N_("transparency flattened onto white")))
        return bg.convert("RGB")
    if im.mode == "CMYK":
        notes.append(Text(N_("CMYK converted to RGB")))
        return im.convert("RGB")
    if im.mode in ("L", "RGB"):
        return im
    return im.convert("RGB")


def _border_color(im: Image.Image):
    a = np.asarray(im)
    border = np.concatenate([a[0].reshape(-1, *a.shape[2:]), a[-1].reshape(-1, *a.shape[2:]),
                             a[:, 0].reshape(-1, *a.shape[2:]), a[:, -1].reshape(-1, *a.shape[2:])])
    m = np.median(border, axis=0)
    return int(m) if np.ndim(m) == 0 else tuple(int(v) for v in m)
