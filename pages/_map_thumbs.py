"""The Map page's thumbnails: past a zoom level the points become their own images (issue #34 item 6).

Here: the choice (real images, decoded μ, off) and its link key; what it draws is components/map_thumbs
(the files, the choosing and drawing in the page) on both maps: the canvas map draws them itself, the
Plotly map gets a canvas over its plot.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import streamlit as st

from components import map_thumbs
from pages import _live as live
from pages._context import Ctx
from pages._i18n import N_, _
from pages._link import one_of
from pages._loaders import MapBundle
from vae.explore.thumb_view import THUMBS_BELOW

CHOICES = {"real": N_("real images"), "decoded": N_("decoded μ"), "off": N_("off")}
DEFAULT = "real"


def _param():
    """``thumbs=decoded`` or ``thumbs=off`` (the default, real images, stays out of the link)."""
    p = one_of("thumbs", "map_thumbs", N_("thumbnails"), list(CHOICES))
    return dataclasses.replace(
        p, dump=lambda ctx: None if st.session_state.get("map_thumbs") in (None, DEFAULT) else p.dump(ctx)
    )


PARAM = _param()


def choice(column) -> str:
    """The thumbnails control, in ``column``."""
    if st.session_state.get("map_thumbs") not in CHOICES:
        st.session_state["map_thumbs"] = DEFAULT
    return (
        column.segmented_control(
            _("Thumbnails"),
            list(CHOICES),
            key="map_thumbs",
            format_func={k: _(v) for k, v in CHOICES.items()}.get,
            help=_(
                "Zoom in until at most {n} images are in view: the points become their own images (real images), "
                "or what the model makes of them (decoded μ, decoded in your browser)."
            ).format(n=THUMBS_BELOW),
        )
        or DEFAULT
    )


def spec(ctx: Ctx, bundle: MapBundle, mode: str) -> dict[str, Any] | None:
    """What ``bundle``'s map needs to draw thumbnails of the explore set (None: off). Decoded μ falls back to the
    real images where the page cannot decode (the model could not be exported)."""
    if mode == "off":
        return None
    decoder = None
    if mode == "decoded":
        urls, _problem = live.model_urls(ctx.ck)
        decoder = urls["decoder"] if urls else None
        mode = "decoded" if decoder else "real"
    tag = f"{ctx.split}-{len(ctx.enc)}"
    return map_thumbs.spec(
        ctx.ck.content_hash,
        tag,
        f"{tag}-{bundle.cfg.key()}",
        ctx.data.images,
        bundle.coords,
        mode,
        mu=np.asarray(ctx.enc.mu) if mode == "decoded" else None,
        decoder=decoder,
    )


def overlay(chart_key: str, thumbs: dict[str, Any] | None, found: np.ndarray | None) -> None:
    """The thumbnails over the Plotly map ``chart_key``."""
    map_thumbs.mount(chart_key, thumbs, found, key="map_thumbs_overlay")
