"""Rings over the Plotly map at map coordinates (the Map page's chosen image's nearest neighbours).

A Streamlit components-v2 component (``map_rings.js``, ``map_rings.css``). The rings are page elements
over the chart named by its key, not part of the chart's figure: a changed figure would be a new chart,
which drops the user's selection, toolbar tool and zoom. The canvas map (components/big_map) draws its
own rings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from components.live_decoder import bundle_js

HERE = Path(__file__).resolve().parent

_component = st.components.v2.component(
    "vae_map_rings", js=bundle_js(HERE, ("map_rings.js",)), css=(HERE / "map_rings.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the rings are placed inside the Plotly chart, another element of the page
)


def mount(chart: str, points: np.ndarray | None, key: str) -> None:
    """Ring ``points`` (R, 2), map coordinates, over the Plotly chart whose key is ``chart`` (None or
    empty: no rings)."""
    pts = [] if points is None else np.asarray(points, float).round(5).tolist()
    _component(key=key, data={"chart": chart, "points": pts}, height="content")
