"""Thumbnails on the map: past a zoom level its points are drawn as their own images.

The images of the explore set are written once (vae.export.thumbnails: uint8 chunk files under
``static/models/<content hash>/``, content-addressed URLs, Brotli and gzip copies made in the
background) and fetched by the page only when a view first shows thumbnails, only the chunks it needs.
``thumbs.js`` chooses and draws them (the twin of vae.explore.thumb_view); the canvas map
(components/big_map) draws them in its own canvas from :func:`spec`, the Plotly map gets a canvas over
its plot from :func:`mount` (``plotly_thumbs.js``), redrawn on every zoom and pan in the page, never
rerunning the script. "Decoded μ" decodes the codes in view with the page's own decoder
(components/live_decoder's runtime and model session, shared through ``globalThis``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from components import static_files
from components.live_decoder import (
    MODELS_DIR,
    WIRE_DTYPE,
    bundle_js,
    file_tag,
    runtime_urls,
    static_asset,
    static_url,
)
from vae.explore.thumb_view import THUMBS_BELOW, least_side
from vae.export.thumbnails import write_thumbnails

HERE = Path(__file__).resolve().parent
MODES = ("real", "decoded", "off")  # the map's choice: the images themselves, their decoded means, or dots
JS_MODULES = ("../live_decoder/runtime.js", "thumbs.js", "plotly_thumbs.js")

_component = st.components.v2.component(
    "vae_map_thumbs",
    js=bundle_js(HERE, JS_MODULES),
    css=(HERE / "map_thumbs.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the canvas goes inside the Plotly chart, another element of the page
)


def spec(
    content_hash: str,
    tag: str,
    map_tag: str,
    images: Any,
    coords: np.ndarray,
    mode: str,
    mu: np.ndarray | None = None,
    decoder: str | None = None,
) -> dict[str, Any] | None:
    """What the page needs to draw ``images`` (N, C, H, W) in [0, 1], placed at ``coords`` (N, 2), as
    thumbnails (None for "off"); ``tag`` names the explore set ("test-10000"), ``map_tag`` the set and its
    map (the files are in the map's Z-order). "decoded" needs ``mu`` (N, D) and ``decoder`` (its URL)."""
    if mode not in MODES:
        raise ValueError(f"thumbnails are one of {', '.join(MODES)}: got {mode!r}")
    if mode == "off":
        return None
    folder = MODELS_DIR / content_hash
    layout, paths, order = write_thumbnails(images, folder, f"thumbs-{file_tag(map_tag)}", coords)
    static_files.precompress_later([*paths, order])  # served as they are until the copies exist
    out = {
        "key": f"{content_hash}-{tag}",
        "mode": mode,
        "limit": THUMBS_BELOW,
        "least": least_side(layout.width),
        **layout.spec(),
        "chunks": [static_url(p) for p in paths],
        "order": static_url(order),
        "decoded": None,
    }
    if mode == "decoded":
        if mu is None or decoder is None:
            raise ValueError("decoded thumbnails need the codes (mu) and the decoder's URL")
        codes = static_asset(
            folder / f"mu-{file_tag(tag)}.f16", lambda: np.ascontiguousarray(mu, WIRE_DTYPE).tobytes()
        )
        out["decoded"] = {
            "decoder": decoder,
            "codes": codes,
            "d": int(mu.shape[1]),
            "runtime": runtime_urls(),
        }
    return out


def mount(chart: str, thumbs: dict[str, Any] | None, found: np.ndarray | None, key: str) -> None:
    """Draw thumbnails over the Plotly chart whose key is ``chart`` as the view zooms in (``thumbs``: from
    :func:`spec`, None: none); ``found``: a search's matches (the other points' thumbnails faded)."""
    _component(
        key=key,
        height="content",
        data={
            "chart": chart,
            "thumbs": thumbs,
            "found": None if found is None else np.asarray(found, np.int64).tolist(),
        },
    )
