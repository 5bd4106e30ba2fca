"""The canvas map of many codes: drawn in the page, a density that turns into points as you zoom.

A Streamlit components-v2 component (its JavaScript in the ``.js`` files beside this one, joined
as live_decoder joins its own). Plotly's WebGL scatter, which draws the 10,000-point map, would
take every point through Streamlit's JSON on every rerun and redraw all of them on every pan
(at 70,000 points: a frame every ~0.5 s on 2 cores, a colour change ~3 s). Here the page fetches
the codes' map positions (float32) and a colour byte of each (uint8) once, as static files under
``static/models/<content hash>/`` (generated, never in git), and draws each frame itself: the
codes in view binned into a raster, or each one as a dot once at most ``points_below`` are in
view. Panning and zooming never wait for the server.

- :func:`mount`: the million posterior samples; a click returns the index of the nearest code.
- :func:`explore`: the Map page's large explore sets (more than :func:`canvas_above` images):
  colour by class or by a value, box and lasso, prior samples, a picture behind the codes, and
  the live preview beside the map (components/live_decoder reads the spot under the mouse).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from components.live_decoder import MODELS_DIR, bundle_js, file_tag, static_asset

HERE = Path(__file__).resolve().parent
POINTS_BELOW = 40_000  # codes in view below which each is drawn as a dot (the million-code map)
EXPLORE_POINTS_BELOW = 100_000  # the same on the explore map: 70,000 images are dots even zoomed out
#: Explore sets larger than this are drawn by the canvas map instead of Plotly (VAE_MAP_CANVAS_ABOVE
#: lowers it, for tests on small sets).
CANVAS_ABOVE = 20_000
JS_MODULES = ("../live_decoder/touch.js", "../live_decoder/runtime.js", "../map_thumbs/thumbs.js", "raster.js",
              "selection.js", "labels.js", "contours.js", "big_map.js")  # touch, thumbs: shared with the Plotly map
KINDS = ("point", "spot", "prior", "box", "lasso")

_component = st.components.v2.component(
    "vae_big_map", js=bundle_js(HERE, JS_MODULES), css=(HERE / "big_map.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the live preview (another component) finds the map by its class
)


def canvas_above() -> int:
    """How many images an explore set may have and still be drawn by Plotly."""
    raw = os.environ.get("VAE_MAP_CANVAS_ABOVE", "")
    try:
        return int(raw) if raw.strip() else CANVAS_ABOVE
    except ValueError:
        return CANVAS_ABOVE


def _files(content_hash: str, tag: str, coords: np.ndarray, colour_tag: str, colours: np.ndarray) -> dict[str, str]:
    folder = MODELS_DIR / content_hash
    return {
        "coords": static_asset(folder / f"bigmap-{file_tag(tag)}.f32",
                               lambda: np.ascontiguousarray(coords, "<f4").tobytes()),
        "classes": static_asset(folder / f"bigmap-{file_tag(colour_tag)}.u8",
                                lambda: np.asarray(colours, np.uint8).tobytes()),
    }


def mount(content_hash: str, tag: str, coords: np.ndarray, classes: np.ndarray, colors: list[str],
          bounds: tuple[float, float, float, float], selected: tuple[float, float] | None, key: str,
          height: int = 640) -> int | None:
    """Draw the map of ``coords`` (M, 2) coloured by ``classes`` (M,) (an index into ``colors``);
    ``tag`` names this set of positions (one pair of static files each). Returns the index of the
    code clicked in this run, or None."""
    result = _component(key=key, height="content", on_clicked_change=lambda: None, data={
        **_files(content_hash, tag, coords, tag, classes), "tag": tag, "colors": colors,
        "bounds": [float(b) for b in bounds], "height": height, "pointsBelow": POINTS_BELOW,
        "selected": [float(v) for v in selected] if selected is not None else None,
        "text": {"loading": f"Loading {len(coords):,} map positions…",
                 "density": "{n} codes in view, drawn as a density (colour: class; darker: more codes) · "
                            "scroll to zoom in until they become points · drag to pan · double-click to reset",
                 "points": "{n} codes in view, one dot each · click one to see its image · drag to pan · "
                           "double-click to reset",
                 "failed": "The map positions could not be loaded: {reason}"},
    })
    clicked = getattr(result, "clicked", None)
    return int(clicked) if clicked is not None else None


@dataclass(frozen=True)
class Pick:
    """What the user picked on the explore map: a point (``index``), an empty spot (``xy``), a prior
    sample (``index``), or a box or lasso (``polygon`` (V, 2), map coordinates)."""

    kind: str
    index: int | None = None
    xy: np.ndarray | None = None
    polygon: np.ndarray | None = None


def parse_pick(value: Any, n_points: int, n_prior: int) -> Pick | None:
    """The component's ``pick`` state as a Pick, or None where it is absent or does not fit this map
    (a stale index, a malformed shape: the page then shows what it shows with nothing picked)."""
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        return None
    kind = value["kind"]
    try:
        if kind in ("point", "prior"):
            i = int(value["index"])
            return Pick(kind, index=i) if 0 <= i < (n_points if kind == "point" else n_prior) else None
        if kind == "spot":
            xy = np.asarray(value["xy"], np.float32)
            return Pick(kind, xy=xy) if xy.shape == (2,) and np.isfinite(xy).all() else None
        polygon = np.asarray(value["polygon"], np.float64)
        ok = polygon.ndim == 2 and polygon.shape[1] == 2 and len(polygon) >= 3 and np.isfinite(polygon).all()
        return Pick(kind, polygon=polygon) if ok else None
    except (KeyError, TypeError, ValueError):
        return None


def explore(content_hash: str, tag: str, coords: np.ndarray, colour_tag: str, colours: np.ndarray,
            palette: list[str], legend: dict[str, Any], bounds: tuple[float, float, float, float], *,
            key: str, mark: np.ndarray | None, selection: np.ndarray | None, overlay: np.ndarray | None,
            background: dict[str, Any] | None, points: bool, dot: int, n_prior: int, text: dict[str, Any],
            height: int = 600, rings: np.ndarray | None = None, found: np.ndarray | None = None,
            labels: list[dict[str, Any]] | None = None, thumbs: dict[str, Any] | None = None,
            contours: dict[str, Any] | None = None) -> Pick | None:
    """Draw the explore map of ``coords`` (N, 2), each coloured ``palette[colours[i]]`` (``colour_tag``
    names that colouring's file); ``legend``: {"kind": "classes", "names"} or {"kind": "scale",
    "title", "low", "high"}. ``mark``: where the ring goes (what the panel shows); ``selection``:
    the polygon whose points are marked selected; ``overlay`` (P, 2): prior samples; ``background``:
    {"src", "bounds", "opacity"}. ``text``: what the map says, in the session's language: "loading",
    "density" and "points" (with ``{n}``: the codes in view), "failed" (with ``{reason}``), "toggle",
    "overlay" and "tools" ({"pan", "box", "lasso"}). ``rings`` (R, 2): small rings (a point's neighbours);
    ``found``: indices marked as a selection is, the rest faded (a search's matches; a box or lasso
    replaces them while it lasts); ``labels``: [{"x", "y", "text", "colour", "least"}], largest cluster first,
    drawn as many as fit without overlapping at the current zoom, each once the zoom reaches its "least"
    (labels.js); ``thumbs``: the points' images drawn
    over their dots once few are in view (components/map_thumbs.spec; None: dots only); ``contours``: density
    contours under the points (vae.explore.contours.encode; contours.js strokes them). Returns what the
    user picked (kept across reruns), or None."""
    result = _component(key=key, height="content", on_pick_change=lambda: None, data={
        **_files(content_hash, tag, coords, colour_tag, colours), "tag": tag, "colors": palette, "legend": legend,
        "bounds": [float(b) for b in bounds], "height": height, "pointsBelow": EXPLORE_POINTS_BELOW,
        "explore": True, "points": bool(points), "dot": int(dot), "background": background,
        "selected": None if mark is None else [float(v) for v in mark],
        "selection": None if selection is None else np.asarray(selection, float).tolist(),
        "overlay": None if overlay is None else np.asarray(overlay, float).round(5).tolist(),
        "rings": None if rings is None else np.asarray(rings, float).round(5).tolist(),
        "found": None if found is None else np.asarray(found, np.int64).tolist(),
        "labels": labels or None,
        "thumbs": thumbs,
        "contours": contours,
        "text": text,
    })
    return parse_pick(getattr(result, "pick", None), len(coords), n_prior)
