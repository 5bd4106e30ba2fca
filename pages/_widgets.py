"""Small widgets the pages share: crisp images, the classes' colours, latent codes as text.

Images are sent as PNG and upscaled with nearest-neighbour, so that pixels stay crisp (JPEG, or any
rescaling by the browser, would smear them); their sizes grow in presenter mode (pages/_presenter.py).
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st
import torch
from PIL import Image

from pages import _presenter as presenter
from pages._i18n import DEFAULT, _, current_language
from vae.data.images import png_bytes, upscale
from vae.explore.figures import class_color, png_data_uri
from vae.explore.latent import ElboEstimate

IMG = 168  # default display size of one image, pixels
CELL = 96  # display size of one image in a grid of tiles, pixels
GAP = 4  # white pixels between the images of a tile


def show_image(img: torch.Tensor | np.ndarray, caption: str | None = None, size: int | None = None,
               inline: bool = False) -> None:
    """One image, upscaled with nearest-neighbour so pixels stay crisp (PNG, shown 1:1). ``size``:
    pixels (default IMG, larger in presenter mode; 0: as it is).

    ``inline``: send the PNG inside the page update (a data: URL) instead of as a media file
    the browser fetches afterwards. For images that change on every slider move it saves the
    extra request: key press to new image ~200 ms -> ~90 ms on 2 cores.
    """
    size = presenter.px(IMG) if size is None else size
    arr = upscale(img, size) if size else np.asarray(img)
    if inline:
        st.image(png_data_uri(png_bytes(Image.fromarray(arr))), caption=caption, width=arr.shape[1])
    else:
        st.image(arr, caption=caption, width=arr.shape[1], output_format="PNG")


def show_images(images: torch.Tensor | np.ndarray, captions: list[str] | None = None, size: int = 84,
                label: str | None = None) -> None:
    """Images side by side at ``size`` pixels (in presenter mode at least presenter.THUMB_PX), wrapping
    onto more lines when the page is narrow; ``label`` names the row."""
    if label:
        st.caption(label)
    side = max(upscale(images[0], 0).shape[:2]) if len(images) else 1  # the images' own pixels
    arrays = [upscale(im, presenter.thumb(size, side)) for im in images]
    if arrays:
        st.image(arrays, caption=captions, width=arrays[0].shape[1], output_format="PNG")


def side_by_side(images: list[torch.Tensor], size: int = CELL, gap: int = GAP, vertical: bool = False) -> np.ndarray:
    """Images (C, H, W) upscaled (nearest) and joined left to right (or top to bottom) with thin white gaps."""
    tiles = [upscale(im, size) for im in images]
    axis = 0 if vertical else 1
    shape = list(tiles[0].shape)
    shape[axis] = gap
    spacer = np.full(shape, 255, np.uint8)
    out = [tiles[0]]
    for t in tiles[1:]:
        out += [spacer, t]
    return np.concatenate(out, axis=axis)


def class_legend(class_names: list[str], classes: list[int] | None = None) -> None:
    """The classes' colours on one wrapping line, for the raster mini maps (no legend of their own)."""
    items = [f'<span style="white-space:nowrap"><span style="color:{class_color(c)}">●</span> '
             f"{html.escape(str(class_names[c]))}</span>"
             for c in (range(len(class_names)) if classes is None else classes)]
    st.html(f'<div style="font-size:0.8rem;line-height:1.5">{" &nbsp; ".join(items)}</div>')  # names escaped


def fmt_code(z: np.ndarray, digits: int = 2) -> str:
    """A latent code as the pages print it: "[+0.12, -1.30, ...]"."""
    return "[" + ", ".join(f"{v:+.{digits}f}" for v in np.asarray(z).ravel()) + "]"


def parse_code(text: str | None, dim: int, limit: float = 10.0) -> tuple[np.ndarray | None, str | None]:
    """A latent code from a URL parameter ("0.1,-2,..."): (code, None) or (None, why it was rejected)."""
    if text is None:
        return None, None
    parts = [p for p in str(text).split(",") if p.strip() != ""]
    if len(parts) != dim:
        return None, _("it has {n} values but this model has {dim} dimensions").format(n=len(parts), dim=dim)
    try:
        vals = np.array([float(p) for p in parts], dtype=np.float32)
    except ValueError:
        return None, _("it is not a list of numbers")
    if not np.all(np.isfinite(vals)):
        return None, _("it contains NaN or infinite values")
    return np.clip(vals, -limit, limit), None


def encode_code(z: np.ndarray) -> str:
    """A latent code for the URL ("0.1,-2,0"), as :func:`parse_code` reads it."""
    return ",".join(f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) > 0 else "0" for v in np.asarray(z).ravel())


def elbo_help(est: ElboEstimate) -> str:
    """The tooltip of an image's −ELBO, wherever a page shows one: how it is estimated, and its ±."""
    return _("Reconstruction + KL, in nats; lower is better. The reconstruction term is the mean over {k} posterior "
             "samples whose noise is fixed for this image (± {se:.1f} nats), so every page shows the same −ELBO "
             "for it.").format(k=est.samples, se=est.se)


def _css_text(text: str) -> str:
    """``text`` as a CSS string (for ``content:``)."""
    return '"' + "".join(c if c.isalnum() or c in " .,:;·•()" or ord(c) > 127 else f"\\{ord(c):x} " for c in text) + '"'


def uploader_texts(key: str, types: list[str]) -> None:
    """The texts Streamlit's file uploader draws itself (its button, the size limit and file types), in the
    session's language: CSS puts them over Streamlit's English ones, which stay out of sight and out of
    the accessibility tree. In English, Streamlit's own texts stay."""
    if current_language() == DEFAULT:
        return
    limit = _("{mb} MB per file · {types}").format(mb=st.get_option("server.maxUploadSize"),
                                                   types="/".join(t.upper() for t in types))
    button = _("Upload")
    box = f".st-key-{key} [data-testid='stFileUploaderDropzone']"
    st.html(f"""<style>
{box} button [data-testid='stMarkdownContainer'] p,
{box} [data-testid='stFileUploaderDropzoneInstructions'] span {{ visibility: hidden; font-size: 0; }}
{box} button [data-testid='stMarkdownContainer'] p::after {{ content: {_css_text(button)};
  visibility: visible; font-size: 0.875rem; }}
{box} [data-testid='stFileUploaderDropzoneInstructions'] span::after {{ content: {_css_text(limit)};
  visibility: visible; font-size: 0.875rem; }}
</style>""")
