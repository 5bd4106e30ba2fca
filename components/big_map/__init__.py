"""The map of a million codes: a density raster in the page that turns into points as you zoom.

A Streamlit components-v2 component (its JavaScript in ``big_map.js`` beside this file). Plotly's
WebGL scatter, which draws the maps of 10,000 and 70,000 points, would take a million points
through Streamlit's JSON on every rerun and redraw all of them on every pan. Here the page fetches
the codes' map positions (float32) and classes (uint8) once, as static files under
``static/models/<content hash>/`` (generated, never in git), and draws each frame itself: the
codes in view binned into a raster, or each one as a dot once at most ``points_below`` are in
view. Panning and zooming never wait for the server; a click sends the index of the nearest code
back to Python (:func:`mount` returns it), which shows that code's image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from components.live_decoder import MODELS_DIR, _asset, _tag

HERE = Path(__file__).resolve().parent
POINTS_BELOW = 40_000  # codes in view below which each is drawn as a dot

_component = st.components.v2.component(
    "vae_big_map", js=(HERE / "big_map.js").read_text(encoding="utf-8"),
    css=(HERE / "big_map.css").read_text(encoding="utf-8"), isolate_styles=False,
)


def mount(content_hash: str, tag: str, coords: np.ndarray, classes: np.ndarray, colors: list[str],
          bounds: tuple[float, float, float, float], selected: tuple[float, float] | None, key: str,
          height: int = 640) -> int | None:
    """Draw the map of ``coords`` (M, 2) coloured by ``classes`` (M,) (an index into ``colors``);
    ``tag`` names this set of positions (one pair of static files each). Returns the index of the
    code clicked in this run, or None."""
    folder = MODELS_DIR / content_hash
    urls = {
        "coords": _asset(folder / f"bigmap-{_tag(tag)}.f32", lambda: np.ascontiguousarray(coords, "<f4").tobytes()),
        "classes": _asset(folder / f"bigmap-{_tag(tag)}.u8", lambda: np.asarray(classes, np.uint8).tobytes()),
    }
    result = _component(key=key, height="content", on_clicked_change=lambda: None, data={
        **urls, "tag": tag, "colors": colors, "bounds": [float(b) for b in bounds], "height": height,
        "pointsBelow": POINTS_BELOW, "selected": [float(v) for v in selected] if selected is not None else None,
        "text": {"loading": f"Loading {len(coords):,} map positions…",
                 "density": "{n} codes in view, drawn as a density (colour: class; darker: more codes) · "
                            "scroll to zoom in until they become points · drag to pan · double-click to reset",
                 "points": "{n} codes in view, one dot each · click one to see its image · drag to pan · "
                           "double-click to reset",
                 "failed": "The map positions could not be loaded: {reason}"},
    })
    clicked = getattr(result, "clicked", None)
    return int(clicked) if clicked is not None else None
