"""The Map page's view of a large explore set (more than components.big_map.canvas_above() images,
e.g. all 70,000 Fashion-MNIST images): the canvas map instead of Plotly, with what the Plotly map
offers (click a point or an empty spot, box and lasso, colour by class or a value, prior samples,
the decoded plane behind a 2-D model's codes, the live preview beside it).

Plotly at 70,000 points: a pan frame every ~0.5 s and ~3 s a colour change on 2 cores
(benchmarks/map_scale.py); the canvas fetches the positions once and draws in the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from components import big_map
from pages import _presenter as presenter
from pages._context import Ctx
from pages._i18n import _
from pages._loaders import MapBundle
from vae.explore.figures import COLOR_BY, COLORBAR_TITLES, class_color, padded_bounds, png_data_uri
from vae.explore.map_view import colour_codes, inside_polygon, scale_palette


@dataclass
class Picked:
    """What the panel beside the map shows: data points (one clicked, or a box's or lasso's), an
    empty spot, or a prior sample; ``mark``: where the ring over the map goes."""

    data_idx: list[int]
    spot: np.ndarray | None
    prior_idx: list[int]
    many: bool
    mark: np.ndarray | None


def show(ctx: Ctx, bundle: MapBundle, chart_key: str, color_by: str, values: np.ndarray | None,
         prior_xy: np.ndarray | None, background, show_points: bool, chosen: int | None,
         ringed: np.ndarray | None = None, found: np.ndarray | None = None,
         categories: tuple[np.ndarray, list[str]] | None = None, labels: list[dict] | None = None,
         thumbs: dict | None = None, contours: dict | None = None) -> Picked:
    """Draw the canvas map (in the current column) and return what the user picked on it; ``ringed``:
    points ringed (the chosen point's neighbours), ``found``: points drawn over the faded rest;
    ``categories``: ((N,) codes, names) coloured as classes are (a text column of your own); ``labels``:
    cluster labels ({"x", "y", "text", "colour", "least"}, largest first: pages/_map_structure.py); ``thumbs``: the
    points' images once zoomed in (pages/_map_thumbs.py); ``contours``: density contours under the points
    (pages/_map_structure.canvas_contours)."""
    coords = bundle.coords
    n_prior = 0 if prior_xy is None else len(prior_xy)
    state = st.session_state.get(chart_key)
    pick = big_map.parse_pick(state.get("pick") if isinstance(state, dict) else None, len(coords), n_prior)
    picked = _picked(pick, coords, prior_xy, chosen)
    tag = f"{ctx.split}-{len(ctx.enc)}-{bundle.cfg.key()}"
    if categories is not None:
        colour_tag = f"{tag}-{color_by}-" + hashlib.sha1(categories[0].tobytes()).hexdigest()[:12]
        colours, palette = categories[0], [class_color(c) for c in range(len(categories[1]))]
        legend = {"kind": "classes", "names": list(categories[1])}
    elif color_by == "class" or values is None:
        colour_tag, colours = f"{tag}-class", ctx.enc.labels
        palette = [class_color(c) for c in range(len(ctx.class_names))]
        legend = {"kind": "classes", "names": [_(str(n)) for n in ctx.class_names]}  # as tr_fig names traces
    else:
        colour_tag = f"{ctx.split}-{len(ctx.enc)}-{color_by}"
        if color_by not in COLOR_BY:  # your own column: its values can change under the same name
            colour_tag += "-" + hashlib.sha1(np.ascontiguousarray(values).tobytes()).hexdigest()[:12]
        colours, lo, hi = colour_codes(values)  # a few ms at 70,000
        palette = scale_palette()
        title = COLOR_BY.get(color_by, color_by.removeprefix("col:"))
        legend = {"kind": "scale", "title": _(COLORBAR_TITLES.get(color_by, title)),
                  "low": f"{lo:.3g}", "high": f"{hi:.3g}"}
    lo, hi = padded_bounds(coords)
    bg = None
    if background is not None:
        png, box = background
        bg = {"src": png_data_uri(png), "bounds": [float(v) for v in box], "opacity": 0.6 if show_points else 1.0}
    big_map.explore(
        ctx.ck.content_hash, tag, coords, colour_tag, colours, palette, legend, (lo[0], lo[1], hi[0], hi[1]),
        key=chart_key, mark=picked.mark, selection=pick.polygon if pick is not None else None, overlay=prior_xy,
        background=bg, points=show_points, dot=2 if presenter.on() else 0, n_prior=n_prior,
        text=_map_text(len(coords)), rings=None if ringed is None else coords[ringed], found=found, labels=labels,
        thumbs=thumbs, contours=contours)
    text = (_("{map} · {n:,} points, drawn in your browser · the legend's classes show or hide · box and lasso "
              "(the buttons above the map, right) select many: with one of them chosen, a drag draws the shape; "
              "choose the cross of arrows to pan and click points again.") if legend["kind"] == "classes" else
            _("{map} · {n:,} points, drawn in your browser · box and lasso (the buttons above the map, right) select "
              "many: with one of them chosen, a drag draws the shape; choose the cross of arrows to pan and click points again."))
    st.caption(text.format(map=bundle.label, n=len(coords)))
    return picked


def _map_text(n: int) -> dict:
    """What the canvas map says, in the session's language."""
    return {"loading": _("Loading {n:,} map positions…").format(n=n),
            "density": _("{n} images in view, drawn as a density · scroll to zoom in until they become "
                         "points · drag to pan · double-click to reset"),
            "points": _("{n} images in view · drag to pan · scroll to zoom · double-click to reset"),
            "failed": _("The map positions could not be loaded: {reason}"),
            "toggle": _("Show or hide this class"), "overlay": _("prior samples z ~ N(0, I)"),
            "two_fingers": _("Two fingers move the map; one finger scrolls the page."),
            "tools": {"pan": _("Pan, and click a point or an empty spot"), "box": _("Box select"),
                      "lasso": _("Lasso select")}}


def _picked(pick: big_map.Pick | None, coords: np.ndarray, prior_xy: np.ndarray | None, chosen: int | None) -> Picked:
    if pick is None:
        return Picked([], None, [], False, coords[chosen] if chosen is not None else None)
    if pick.kind == "point":
        return Picked([pick.index], None, [], False, coords[pick.index])
    if pick.kind == "prior":
        return Picked([], None, [pick.index], False, prior_xy[pick.index])
    if pick.kind == "spot":
        return Picked([], pick.xy, [], False, pick.xy)
    inside = np.flatnonzero(inside_polygon(coords, pick.polygon)).tolist()
    return Picked(inside, None, [], True, None)
