"""Cluster labels on the Plotly map that follow its zoom (issue #34): zoomed in, smaller clusters' labels
appear for the clusters in view, without a rerun.

Plotly has no annotation shown only past a zoom level, and Streamlit's ``st.plotly_chart`` reports selections,
not zooms. So the figure carries every label (pages/_map_structure.decorate: the home view's visible, the
rest at opacity 0, each one's least zoom in ``layout.meta``), and this components-v2 piece, mounted beside the
chart, listens to plotly.js's own relayout events in the page and reveals those that fit
(plotly_labels.js). Nothing goes back to the server.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.live_decoder import bundle_js

HERE = Path(__file__).resolve().parent
JS_MODULES = ("../big_map/labels.js", "plotly_labels.js")

_component = st.components.v2.component(
    "vae_plotly_labels",
    js=bundle_js(HERE, JS_MODULES),
    isolate_styles=False,  # it styles the Plotly chart, another element of the page
)


def mount(meta: str, key: str) -> None:
    """Follow the zoom of the Plotly chart whose ``layout.meta[meta]`` holds its labels' zooms."""
    _component(key=key, height="content", data={"meta": meta})
