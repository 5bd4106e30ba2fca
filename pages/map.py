"""Map: the explore set's latent means in 2-D; click points, boxes or empty space.

The chart's figure does not change while the user clicks and selects: Streamlit names a chart after
its figure, so a changed figure is a new chart, which drops the selection just made and resets the
toolbar's tool. Plotly marks the selection itself, in the browser; a point chosen elsewhere (a link,
another page) is built into the figure only while the chart holds no selection of its own.

Sections: the controls, the map (Plotly up to big_map.canvas_above() images, else the canvas map of
pages/_canvas_map.py; many codes per image: pages/_samples_map.py), and the panel beside it: the live
preview of the spot under the mouse, then what was picked (a box's or lasso's images, a point, an
empty spot decoded, a prior sample) or a summary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from components import big_map, live_decoder, map_rings
from pages import _canvas_map as canvas_map
from pages import _link as link
from pages import _live as live
from pages import _loaders as loaders
from pages import _map_axis as map_axis
from pages import _map_columns as map_columns
from pages import _map_filters as map_filters
from pages import _map_like as map_like
from pages import _map_selections as selections
from pages import _map_structure as structure
from pages import _map_thumbs as map_thumbs
from pages import _map_tools as map_tools
from pages import _nav as nav
from pages import _notebook as notebook
from pages import _presenter as presenter
from pages import _samples_map as samples_map
from pages._context import Ctx, get_ctx, map_methods, select_index, selected_index
from pages._i18n import N_, _, tr_fig
from pages._link import LinkError, Param, flag, one_of, parse_int
from pages._loaders import MapBundle
from pages._widgets import elbo_help, fmt_code, show_image, side_by_side
from vae.explore.figures import (
    COLOR_BY,
    KIND_DATA,
    KIND_GRID,
    decoded_grid_background,
    latent_code_bars,
    latent_map,
    padded_bounds,
    spot_grid,
)
from vae.explore.knn import warm_up
from vae.explore.latent import COLLAPSED_KL, ElboEstimate, dims_by_kl, prior_samples
from vae.explore.projection import METHOD_LABELS, ProjectionConfig
from vae.explore.sets import ALL, default_projection
from vae.export.tables import attribute_table

PREVIEW_PX = 112  # the live preview of the spot under the mouse, pixels
PRESENTER_POINT_PX = 150  # a clicked point's two images in presenter mode: they and its −ELBO fit a projector
PRESENTER_PREVIEW_PX = 224  # the same in presenter mode (at least 200 on screen): a back row reads it
MAP_HEIGHT = 600  # the Plotly map, pixels
PRESENTER_MAP_HEIGHT = 450  # in presenter mode: the whole map fits a 720-pixel projector below the tour's bar
LANDSCAPE_TILES = 24  # a 2-D model's decoded plane behind the map: tiles a side
PRESENTER_LANDSCAPE_TILES = 8  # in presenter mode: tiles of 28 pixels or more at 1024×768, each garment legible from afar
SHOWN = 12  # images of a box or lasso selection shown with their reconstructions


# -- the link ----------------------------------------------------------------------------------------
def _point_parse(text: str, ctx) -> dict:
    return {"selected_index": parse_int(text, 0, len(ctx.enc) - 1), "selected_for": ctx.name}


def _point_dump(ctx) -> str | None:
    i = st.session_state.get("selected_index")
    ok = i is not None and st.session_state.get("selected_for") == ctx.name and 0 <= int(i) < len(ctx.enc)
    return str(int(i)) if ok else None


def _codes_parse(text: str, ctx) -> dict:
    k = parse_int(text, 1, max(samples_map.CHOICES))
    if k not in samples_map.CHOICES:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(map(str, samples_map.CHOICES))))
    return {"map_per_image": k}


def _codes_dump(ctx) -> str | None:
    k = st.session_state.get("map_per_image")
    return str(int(k)) if k and int(k) > 1 else None


def _sample_parse(text: str, ctx) -> dict:
    k = int(st.session_state.get("map_per_image") or 1)
    if k <= 1:
        raise LinkError(_("a sample is only shown with several codes per image (codes=5 or 15)"))
    return {"map_sample": {"key": None, "index": parse_int(text, 0, len(ctx.enc) * k - 1)}}


def _sample_dump(ctx) -> str | None:
    chosen = st.session_state.get("map_sample")
    return str(int(chosen["index"])) if chosen and int(st.session_state.get("map_per_image") or 1) > 1 else None


def _prior_parse(text: str, ctx) -> dict:
    n = parse_int(text, 0, 2000)
    if n == 0:
        return {"map_prior": False}
    if n < 50:
        raise LinkError(_("the map shows 50 to 2000 prior samples (0: none)"))
    return {"map_prior": True, "map_n_prior": n}


def _prior_dump(ctx) -> str | None:
    if st.session_state.get("map_prior") is None:
        return None
    return str(int(st.session_state.get("map_n_prior", 300))) if st.session_state.get("map_prior") else "0"


def _color_param() -> Param:
    """The colouring; one by your own column stays out of the link (the columns are this session's)."""
    p = one_of("color", "map_color", N_("colouring"), ["class", "recon", "kl", "sigma", structure.COLOUR])
    mine = lambda: str(st.session_state.get("map_color")).startswith(map_columns.PREFIX)  # noqa: E731
    return dataclasses.replace(p, dump=lambda ctx: None if mine() else p.dump(ctx))


PARAMS = link.declare("map", [
    one_of("method", "map_method", N_("projection"), map_methods),
    _color_param(),
    Param("prior", N_("number of prior samples"), _prior_parse, _prior_dump, states=("map_prior", "map_n_prior")),
    flag("points", "map_points", N_("points switch")),
    Param("point", N_("selected point"), _point_parse, _point_dump, states=("selected_index", "selected_for")),
    Param("codes", N_("codes per image"), _codes_parse, _codes_dump, states=("map_per_image",)),
    Param("sample", N_("selected sample"), _sample_parse, _sample_dump, states=("map_sample",)),
    *map_tools.PARAMS,
    *map_like.PARAMS,
    *structure.PARAMS,
    *selections.PARAMS,
    *map_filters.PARAMS,
    map_axis.PARAM,
    map_thumbs.PARAM,
])


@nav.page("map")
def main() -> None:
    """The page: the controls, the map and, beside it, whatever was picked on it."""
    ctx = get_ctx()
    link.restore("map", ctx)
    st.title(_("Map of the latent space"))
    intro = st.empty()  # the page's caption: what the map offers depends on the view chosen below
    method, color_by, show_prior, n_prior, show_points, shape = _controls(ctx)
    # On screen: the controls above, the search, the map; under it what a first look does not need (a projector's
    # 1024×768 shows the map's top without scrolling). Filled in the order the page needs them, not shown.
    top, middle, below = st.container(), st.container(), st.container()
    with below:
        row = st.container(horizontal=True, gap="medium")  # side by side where they fit, else one under the other
        with row:
            per_image = _codes_per_image()
        thumbs = map_thumbs.choice(row)  # the points as their images once zoomed in
        map_columns.section(ctx)
        filters_slot = st.container()  # the linked charts, drawn once the map's selection is known
    with middle:  # a projection still to compute shows its progress where the map will be
        bundle = ctx.map(ProjectionConfig(method=method))
    intro.caption(_intro(ctx, samples=per_image > 1))
    if per_image > 1:
        with middle:
            samples_map.show(ctx, bundle, per_image)
        link.sync("map", ctx)
        return
    chosen_map, bundle = bundle.label, map_axis.apply(ctx, bundle)  # along a direction, if the link chose one
    method = "axis" if map_axis.titles(bundle) else method
    with top:
        map_axis.notice(bundle, chosen_map)
        v = _view(ctx, bundle, method, color_by, show_prior, n_prior, show_points, shape)
        found = map_tools.found(ctx, map_columns.texts(ctx))
        map_tools.search_box(ctx, found)
    v.found = found.matches if found.matches is not None and len(found.matches) else None
    v.found = map_filters.highlight(ctx, v.found)  # the linked charts' filter fades the rest as a search does
    v.found = map_like.highlight(v.like, v.found)  # else a code from Your image: its nearest images
    if v.canvas and v.chosen is not None:  # the canvas map rings them itself (a Plotly figure cannot: see _rings)
        v.ringed = map_tools.neighbours(ctx, v.chosen).latent.indices
    elif v.canvas and v.like is not None:
        v.ringed = v.like.near.indices
    left, right = middle.columns([3, 2], gap="medium")
    with left:
        picked = (canvas_map.show(ctx, bundle, v.chart_key, color_by, v.values, v.prior_xy, v.background,
                                  show_points, v.chosen, ringed=v.ringed, found=v.found, categories=v.categories,
                                  labels=map_like.canvas_labels(v.like, structure.canvas_labels(ctx, bundle, shape)),
                                  contours=structure.canvas_contours(ctx, bundle, shape),
                                  thumbs=map_thumbs.spec(ctx, bundle, thumbs))
                  if v.canvas else _plotly_map(v))
        if not v.canvas:
            map_thumbs.overlay(v.chart_key, map_thumbs.spec(ctx, bundle, thumbs), v.found)
        # the map faded in the page while the charts' terms or a search typed into the box are newer than this run
        map_filters.follow(ctx, found.matches if found.matches is not None and len(found.matches) else None,
                           "canvas" if v.canvas else "plotly", None if v.canvas else v.chart_key,
                           found.text, map_tools.page_search(ctx, map_columns.texts(ctx)))
        if v.canvas:
            structure.listed(ctx, bundle, shape)  # what the canvas map's structure shows
        map_tools.matches(ctx, found)
        _keep(v, picked, found)
    with filters_slot:
        map_filters.section(ctx, picked.data_idx if picked.many else None)
    notebook.publish(ctx, picked, v.chosen)  # to the notebook that opened this page, if one did
    with right:
        _hover_preview(v, picked.mark)
        shown = _panel(v, picked)
        if not v.canvas:
            _rings(v, shown)
    link.sync("map", ctx)
    # The map is on screen by now: build the 2-D neighbour index for clicks on empty space here
    # (a few hundred ms, once per map), so that the first such click is as fast as the others.
    _spacing = bundle.latent_map.spacing
    warm_up()  # the latent-space search of the other pages compiles while the map is looked at
    map_tools.neighbour_index(ctx).warm_up()  # and the neighbours' searches are built before the first click


# -- the controls --------------------------------------------------------------------------------
def _intro(ctx: Ctx, samples: bool) -> str:
    """The caption under the title; the posterior samples' map has no box or lasso."""
    split_words = _("images (train + test)") if ctx.split == ALL else _("{split}-split images").format(split=ctx.split_label)
    about = (_("Each dot is one of the {n:,} {split_words} of **{dataset}**, placed by its latent code (the posterior "
               "mean of q(z|x), {d} numbers) — this model's latent space *is* 2-D, so the map is the space itself, "
               "with decoded images behind it.") if ctx.latent_dim == 2 else
             _("Each dot is one of the {n:,} {split_words} of **{dataset}**, placed by its latent code (the posterior "
               "mean of q(z|x), {d} numbers), projected to 2-D.")).format(
        n=len(ctx.enc), split_words=split_words, dataset=ctx.ck.dataset, d=ctx.latent_dim)
    how = (_("**Scroll** to zoom into the cloud of samples, **click** one to see the image it was drawn for.")
           if samples else
           _("**Click a dot** to see it, pick the **box or lasso** tool (top right of the map) to select many, "
             "**click empty space** to decode that spot."))
    return about + " " + how


def _controls(ctx: Ctx) -> tuple[str, str, bool, int, bool, structure.Structure]:
    """Projection, colouring, structure, prior samples (and how many), points switch (a 2-D model's own
    plane); with clusters on, their own controls in a row below."""
    methods = map_methods(ctx)
    if st.session_state.get("map_method") not in methods:  # first open: the checkpoint's own map (an import's choice)
        preferred = default_projection(ctx.ck, len(ctx.enc)).method
        st.session_state["map_method"] = preferred if preferred in methods else methods[0]
    c1, c2, c5, c3, c4 = st.columns([0.95, 1.25, 0.95, 1.35, 0.8])  # "Prior samples" in one line at 1024 px
    # persist_state: the projection and colouring chosen here are kept when the user comes back from another
    # page (Streamlit drops a page's widget values on a page switch), instead of falling back to UMAP
    method = c1.selectbox(_("Projection"), methods, format_func={m: _(METHOD_LABELS[m]) for m in methods}.get,
                          key="map_method", persist_state="session")
    map_columns.read_upload(ctx)  # a new file's columns are choices of "Colour by" at once
    colourings = {**{k: _(v) for k, v in COLOR_BY.items()}, structure.COLOUR: _("Cluster"),
                  **map_columns.choices(ctx)}
    if st.session_state.get("map_color") not in colourings:  # a column removed, or another explore set's
        st.session_state["map_color"] = "class"
    color_by = c2.selectbox(_("Colour by"), list(colourings), format_func=colourings.get,
                            key="map_color", persist_state="session")
    with c3:
        show_prior = st.toggle(_("Prior samples"), key="map_prior",
                               help=_("Overlay codes drawn from the prior N(0, I), placed on the map: where the "
                                      "prior puts mass that the data does not."))
        show_points = True
        if method == "latent":
            show_points = st.toggle(_("Points"), value=True, key="map_points",
                                    help=_("Switch the points off to see the decoded images behind them."))
    n_prior = c4.number_input(_("How many"), 50, 2000, 300, step=50, key="map_n_prior") if show_prior else 0
    shape = structure.controls(ctx, structure.choice(c5))
    return method, color_by, show_prior, int(n_prior), show_points, shape


def _codes_per_image() -> int:
    """One code per image (the posterior mean), or several samples of q(z|x) each."""
    k = st.segmented_control(
        _("Codes per image"), samples_map.CHOICES, default=1, key="map_per_image",
        format_func={k: samples_map.label(k) for k in samples_map.CHOICES}.get,
        help=_("One code per image (its posterior mean), or several samples z ~ q(z|x) of each: how uncertain the "
               "encoder is, as clouds around the means. Many codes are drawn as a density that becomes points as you "
               "zoom."))
    return int(k or 1)


@dataclass
class MapView:
    """The map as the controls chose it, and what is drawn on it."""

    ctx: Ctx
    bundle: MapBundle
    method: str
    color_by: str
    show_prior: bool
    n_prior: int
    show_points: bool
    canvas: bool  # drawn in the page (pages/_canvas_map.py): a large explore set
    grid: np.ndarray | None  # (G, 2) spots between the points that the Plotly map can click
    values: np.ndarray | None  # (N,) what the points are coloured by (None: their class)
    categories: tuple[np.ndarray, list[str]] | None  # ((N,) codes, names): a text column's values as classes
    prior_z: np.ndarray | None  # (P, D) prior samples shown
    prior_xy: np.ndarray | None  # (P, 2) where they land
    background: tuple | None  # (PNG, bounds) of the decoded plane behind a 2-D model's codes
    chart_key: str
    chosen: int | None  # the point chosen before this run (a link, another page, an earlier click; the canvas
    # map's click in this run, see _clicked)
    ringed: np.ndarray | None = None  # (k,) the chosen point's nearest neighbours, ringed on the canvas map
    found: np.ndarray | None = None  # the search's matches, drawn over the rest (None: no search)
    shape: structure.Structure | None = None  # contours and cluster labels asked for
    like: map_like.Like | None = None  # a code from Your image, shown while no point is chosen


def _view(ctx: Ctx, bundle: MapBundle, method: str, color_by: str, show_prior: bool, n_prior: int,
          show_points: bool, shape: structure.Structure) -> MapView:
    coords, lmap = bundle.coords, bundle.latent_map
    canvas = len(coords) > big_map.canvas_above()
    prior_z = prior_samples(n_prior, ctx.latent_dim, seed=1) if show_prior else None
    background = None
    if method == "latent":
        lo, hi = padded_bounds(coords)
        tiles = PRESENTER_LANDSCAPE_TILES if presenter.on() else LANDSCAPE_TILES
        background = decoded_grid_background(ctx.decode, lo, hi, n=tiles)
    chart_key = f"map_{'canvas' if canvas else 'chart'}_{ctx.name}_{ctx.split}_{method}"
    clicked = _clicked(st.session_state.get(chart_key), len(coords)) if canvas else None
    if clicked is not None:
        select_index(ctx, clicked)
    like = map_like.current(ctx, bundle)
    return MapView(
        ctx, bundle, method, color_by, show_prior, n_prior, show_points, canvas,
        grid=None if canvas else spot_grid(coords, 70),
        values={"class": None, "recon": ctx.enc.recon, "kl": ctx.enc.kl, "sigma": ctx.enc.sigma_mean}.get(
            color_by, map_columns.values(ctx, color_by)),
        categories=(structure.categories(ctx, bundle, shape.space) if color_by == structure.COLOUR else
                    map_columns.categories(ctx, color_by)),
        prior_z=prior_z, prior_xy=lmap.to_map(prior_z) if prior_z is not None else None, background=background,
        chart_key=chart_key, chosen=clicked if like is not None else selected_index(ctx), shape=shape, like=like)


def _clicked(state, n: int) -> int | None:
    """The point a click left in the canvas map's state before this run draws it (None: no point), so that
    the map rings its neighbours in this run."""
    pick = big_map.parse_pick(state.get("pick") if isinstance(state, dict) else None, n, 0)
    return pick.index if pick is not None and pick.kind == "point" else None


# -- the map ---------------------------------------------------------------------------------------
def _has_points(state) -> bool:
    """Whether the chart's widget state (from the browser) holds a selection of its own."""
    try:
        return bool(state and state["selection"]["points"])
    except (KeyError, TypeError, AttributeError):
        return False


def point_ref(point: dict) -> tuple[int, int] | None:
    """(kind, index) from a selected point's customdata. plotly.js hands NumPy-backed customdata
    over as a typed array, which reaches Python as {"0": kind, "1": index}, not as a list."""
    cd = point.get("customdata")
    if isinstance(cd, dict):
        cd = [cd.get("0"), cd.get("1")]
    if not isinstance(cd, (list, tuple)) or len(cd) < 2 or cd[0] is None or cd[1] is None:
        return None
    return int(cd[0]), int(cd[1])


def _plotly_map(v: MapView) -> canvas_map.Picked:
    """The map as a Plotly WebGL chart (up to big_map.canvas_above() points), and what the user picked on it."""
    ctx = v.ctx
    # The point the figure starts with as selected: the chosen one, but only while the chart holds no
    # selection of its own (else the figure, and so the chart, would change under the user's hand).
    # A search's matches are part of the figure: a new search is a new chart.
    view = [v.chart_key, v.color_by, map_columns.digest(ctx, v.color_by), bool(v.show_prior), int(v.n_prior), bool(v.show_points), presenter.on(),
            None if v.found is None else hashlib.sha1(v.found.tobytes()).hexdigest(),  # small session state
            list(v.shape.key) if v.shape else None]
    pin = st.session_state.get("map_pin")
    if pin is None or pin["view"] != view or (pin["index"] != v.chosen
                                              and not _has_points(st.session_state.get(v.chart_key))):
        pin = st.session_state["map_pin"] = {"view": view, "index": v.chosen}
    labels, names = v.categories or (ctx.enc.labels, ctx.class_names)  # a text column's values as classes
    if v.categories:  # the file's values are text, not Plotly's markup or a hover template's placeholders
        names = [html.escape(n, quote=False).replace("%{", "% {") for n in names]
    fig = latent_map(
        v.bundle.coords, labels, names, color_by="class" if v.categories else map_columns.title(v.color_by),
        values=v.values, grid=v.grid,
        prior=v.prior_xy, selected=pin["index"], background=v.background, points=v.show_points,
        found=v.found,
        axis_titles=map_axis.titles(v.bundle) or (("z0", "z1") if v.method == "latent" else None),
        height=PRESENTER_MAP_HEIGHT if presenter.on() else MAP_HEIGHT,
        marker_size=5 if presenter.on() else 4, font=presenter.font(12),
    )
    # Streamlit selects a clicked point only outside box/lasso mode: dragging pans, the toolbar has box and
    # lasso. The toolbar stays in view (not only on hover), in a top margin of its own, above the legend.
    fig.update_layout(dragmode="pan", margin=dict(t=34))
    clusters = structure.decorate(fig, ctx, v.bundle, v.shape) if v.shape else None
    map_like.add_star(fig, v.like)
    tr_fig(fig)
    event = st.plotly_chart(
        fig, key=v.chart_key, on_select="rerun", selection_mode=("points", "box", "lasso"),
        config={"scrollZoom": True, "displaylogo": False, "displayModeBar": True},
    )
    st.caption((_("{map} · {n:,} points · legend entries toggle classes · drag to pan · scroll to zoom · "
                  "double-click to reset. Box and lasso (toolbar) select many; while one of them is the tool, "
                  "clicks select nothing: pick **Pan** (the cross of arrows) to click points again.")
                if v.color_by == "class" or v.categories else
                _("{map} · {n:,} points · drag to pan · scroll to zoom · double-click to reset. Box and lasso "
                  "(toolbar) select many; while one of them is the tool, clicks select nothing: pick **Pan** (the "
                  "cross of arrows) to click points again.")).format(map=v.bundle.label, n=len(v.bundle.coords)))
    if v.shape:
        structure.caption(ctx, v.shape, clusters)
    return _picked(v, event)


def _keep(v: MapView, picked: canvas_map.Picked, found: map_tools.Found) -> None:
    """The current selection (a box's or lasso's images, else the search's matches) kept under a name, and the
    selections kept so far."""
    if picked.many and picked.data_idx:
        current, what = np.array(sorted(set(picked.data_idx))), _("the box or lasso on the map")
    elif found.matches is not None and len(found.matches):
        current, what = found.matches, _("the images matching “{text}”").format(text=found.text)
    else:
        current, what = None, ""
    selections.keep_form(v.ctx, current, what)
    selections.section(v.ctx, v.bundle.coords)


def _picked(v: MapView, event) -> canvas_map.Picked:
    """What the Plotly chart's selection holds: data points (one clicked, or a box's or lasso's), a spot of
    the grid of empty space, or a prior sample; and where the ring over the map goes."""
    points = list(event.selection.points) if event and event.selection else []
    data_idx, grid_idx, prior_idx = [], [], []
    for p in points:
        ref = point_ref(p)
        if ref is None:
            continue
        kind, i = ref
        (data_idx if kind == KIND_DATA else grid_idx if kind == KIND_GRID else prior_idx).append(i)
    box_or_lasso = bool(event and event.selection and (event.selection.box or event.selection.lasso))
    many = bool(data_idx) and (len(data_idx) > 1 or box_or_lasso)
    spot = v.grid[grid_idx[0]] if grid_idx else None
    coords = v.bundle.coords
    if many:
        mark = None
    elif data_idx:
        mark = coords[data_idx[0]]
    elif spot is not None:
        mark = spot
    elif prior_idx and v.prior_xy is not None:
        mark = v.prior_xy[prior_idx[0]]
    else:
        mark = coords[v.chosen] if v.chosen is not None else None
    return canvas_map.Picked(data_idx, spot, prior_idx, many, mark)


# -- the panel beside the map ----------------------------------------------------------------------
def _hover_preview(v: MapView, mark: np.ndarray | None) -> None:
    """The spot under the mouse, decoded in the page as the mouse moves (a click still decodes on the
    server, below); ``mark``: where the ring over the map goes (what the panel shows), or None."""
    ctx = v.ctx
    urls, problem = live.model_urls(ctx.ck)
    if urls is None:
        live.off_line(problem, _("Click a spot to decode it on the server."))
        return
    tag = f"{ctx.split}-{len(ctx.enc)}"
    live_decoder.mount("hover", {
        "decoder": urls["decoder"],
        "image": live_decoder.image_spec(ctx.ck, PRESENTER_PREVIEW_PX if presenter.on() else PREVIEW_PX),
        "chart": v.chart_key, "mark": None if mark is None else [float(x) for x in mark],
        "map": live_decoder.map_spec(ctx.ck, v.bundle.latent_map, tag, f"{tag}-{v.bundle.cfg.key()}"),
        "text": {"idle": _("Move the mouse over the map: the spot under it is decoded here, in your browser."),
                 "caption": _("under the mouse: ({x}, {y}), decoded in your browser"),
                 "off": _("The live preview is off: {reason}. Click a spot to decode it on the server."),
                 "two_fingers": _("Two fingers move the map; one finger scrolls the page.")},
    }, key="map_hover_view")


def _panel(v: MapView, picked: canvas_map.Picked) -> int | None:
    """What was picked on the map, or, with nothing picked, the point chosen before or a summary; returns
    the image shown alone (None: none)."""
    if picked.many and not picked.data_idx:
        st.info(_("No image lies inside the shape: draw it around some points."))
    elif picked.many:
        _selection(v.ctx, sorted(set(picked.data_idx)))
    elif picked.data_idx:
        select_index(v.ctx, picked.data_idx[0])
        _point_details(v.ctx, picked.data_idx[0])
        return picked.data_idx[0]
    elif picked.spot is not None:
        _spot_details(v, picked.spot)
    elif picked.prior_idx and v.prior_z is not None:
        _prior_sample(v.ctx, v.prior_z, picked.prior_idx[0])
    elif v.like is not None:
        map_like.panel(v.ctx, v.like)
        v.ringed = v.like.near.indices
    elif v.chosen is not None:
        _point_details(v.ctx, v.chosen)
        return v.chosen
    else:
        _summary(v.ctx)
    return None


def _rings(v: MapView, shown: int | None) -> None:
    """The shown image's latent neighbours ringed over the Plotly map: page elements over the chart
    (components/map_rings), as the hover preview's ring is; a figure that changed with each click would
    be a new chart, which drops the selection, the tool and the zoom."""
    ringed = v.ringed if shown is None else map_tools.neighbours(v.ctx, shown).latent.indices
    v.ringed = ringed
    map_rings.mount(v.chart_key, None if ringed is None else v.bundle.coords[ringed], key="map_rings")


def _selection(ctx: Ctx, sel: list[int]) -> None:
    """A box's or lasso's images: their classes, the first ones above their reconstructions, their −ELBO."""
    st.subheader(_("{n:,} images selected").format(n=len(sel)))
    counts = np.bincount(ctx.enc.labels[sel], minlength=len(ctx.class_names))
    st.caption(" · ".join(f"{ctx.class_names[c]}: {n}" for c, n in enumerate(counts) if n))
    show = sel[:SHOWN]
    recons = ctx.decode(ctx.enc.mu[show])
    tiles = [side_by_side([ctx.data.images[j], recons[k]], presenter.px(84), vertical=True)
             for k, j in enumerate(show)]
    st.markdown(_("Each image above its **reconstruction**; the first {n}:").format(n=len(show)))
    st.image(tiles, caption=[f"#{j}" for j in show], width=tiles[0].shape[1], output_format="PNG")
    st.metric(_("Mean −ELBO of the selection (nats)"), f"{ctx.enc.neg_elbo[sel].mean():.1f}",
              delta=f"{ctx.enc.neg_elbo[sel].mean() - ctx.enc.neg_elbo.mean():+.1f}",
              delta_description=_("vs all"), delta_color="inverse", help=_("Lower is better; the delta is against the mean of all images."))
    st.caption(_("Click empty space or a single point: pick **Pan** (the cross of arrows) in the map's toolbar "
                 "first; in box or lasso mode clicks select nothing."))
    st.download_button(_("Latent codes of the selection (CSV)"),
                       attribute_table(ctx.enc.mu[sel], ctx.enc.labels[sel], ctx.class_names, map_columns.loaded(ctx),
                                       np.array(sel)),
                       file_name=f"{ctx.name}-selection.csv", mime="text/csv", key="map_dl_sel")


def _point_details(ctx: Ctx, i: int) -> None:
    """One image: original, reconstruction, its −ELBO and parts, its code; Steer, Interpolate, CSV."""
    x = ctx.data.images[i : i + 1]
    recon = ctx.decode(ctx.enc.mu[i : i + 1])
    st.subheader(f"#{i} · {ctx.class_name(i)}")
    size = PRESENTER_POINT_PX if presenter.on() else None
    with st.container(key="map_point"):  # the tour's focus on one image: what the model makes of it
        a, b = st.columns(2)
        with a:
            show_image(x[0], _("original"), size)
        with b:
            show_image(recon[0], _("reconstruction (decoded μ)"), size)
        _point_metrics(ctx.enc.estimate(i), ctx.enc.mse[i])
    map_tools.section(ctx, map_tools.neighbours(ctx, i))
    order = dims_by_kl(ctx.kl_per_dim)
    st.plotly_chart(tr_fig(latent_code_bars(ctx.enc.mu[i], np.exp(0.5 * ctx.enc.logvar[i]), order,
                                            font=presenter.font(12))),
                    key="map_code_bars", config={"displayModeBar": False})
    st.caption(_("Latent code: posterior mean μ ± σ per dimension (most informative first); the green band "
                 "is ±1 under the prior."))
    if st.button(_("Steer this point"), key="map_steer", icon=":material/tune:", width="stretch",
                 help=_("Open Sliders starting from this image's code")):
        select_index(ctx, i)
        st.session_state["sliders_start_request"] = {"kind": "index", "index": i}
        nav.switch("sliders")
    if st.button(_("Interpolate from here"), key="map_interp", icon=":material/timeline:", width="stretch",
                 help=_("Open Interpolate with this image as the path's start")):
        select_index(ctx, i)
        st.session_state["interp_a_request"] = i
        nav.switch("interpolate")
    st.download_button(
        _("Latent code (CSV)"), attribute_table(ctx.enc.mu[i : i + 1], ctx.enc.labels[i : i + 1], ctx.class_names,
                                                map_columns.loaded(ctx), np.array([i])),
        file_name=f"{ctx.name}-{ctx.split}-{i}.csv", mime="text/csv", key="map_dl_code")


def _point_metrics(est: ElboEstimate, mse: float) -> None:
    """An image's −ELBO and its parts, two metrics a row (four in a row are cut off in a narrow column)."""
    r1, r2 = st.columns(2), st.columns(2)
    r1[0].metric(_("−ELBO (nats)"), f"{est.neg_elbo:.1f}", help=elbo_help(est))
    r1[1].metric(_("Reconstruction"), f"{est.recon:.1f}", help=_("−log p(x|z), nats"))
    r2[0].metric("KL", f"{est.kl:.1f}", help=_("KL(q(z|x) ‖ N(0, I)), nats"))
    r2[1].metric("MSE", f"{mse:.4f}", help=_("mean squared error per pixel of the reconstruction"))


def _spot_details(v: MapView, xy: np.ndarray) -> None:
    """An empty spot of the map, mapped back to a latent code (LatentMap.to_latent) and decoded, with how far
    it lies from the data; on a UMAP map, umap-learn's own inverse one click away."""
    ctx, lmap = v.ctx, v.bundle.latent_map
    t0 = time.perf_counter()
    z = lmap.to_latent(xy[None])[0]
    img = ctx.decode(z[None])[0]
    ms = (time.perf_counter() - t0) * 1000
    where = lmap.describe(xy)
    st.subheader(_("Decoded spot"))
    a, b = st.columns(2)
    with a:
        show_image(img, _("decoded at ({x:.2f}, {y:.2f})").format(x=xy[0], y=xy[1]))
    with b:
        j = where["nearest_index"]
        show_image(ctx.data.images[j], _("nearest image: #{j} {cls}").format(j=j, cls=ctx.class_name(j)))
    verdict = where["verdict"]
    msg = _("**{verdict}** — {d:.2f} map units from the nearest encoded image ({x:.1f}× the typical gap between "
            "neighbours). Decoded in {ms:.0f} ms.").format(verdict=_(verdict), d=where["distance"],
                                                           x=where["spacings"], ms=ms)
    (st.success if verdict == "inside the data" else st.info if "edge" in verdict else st.warning)(msg)
    if v.method in ("umap", "tsne"):
        st.caption(_("Fast inverse: the latent codes of the 8 nearest points on the map, weighted by inverse "
                     "squared distance."))
    else:
        st.caption(_("This map is linear (or the latent space itself), so the inverse is exact."))
    st.code(fmt_code(z), language=None, wrap_lines=True)
    if st.button(_("Steer from this spot"), key="map_steer_spot", icon=":material/tune:"):
        st.session_state["sliders_start_request"] = {"kind": "code", "code": [float(c) for c in z]}
        nav.switch("sliders")
    if v.method == "umap":
        _refine(v, xy, z)


def _refine(v: MapView, xy: np.ndarray, z: np.ndarray) -> None:
    """umap-learn's own inverse_transform of the spot, with what it costs and why it differs."""
    ctx, bundle = v.ctx, v.bundle
    key = (ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, bundle.cfg)
    fitted = bundle.reducer is not None or key in loaders.UMAP_FITS
    n = len(ctx.enc)
    st.caption(_("umap-learn's inverse_transform: another way to guess a code for this spot. It takes a few "
                 "seconds; the fast decode above takes milliseconds.") if fitted else
               _("umap-learn's inverse_transform: another way to guess a code for this spot. It takes the first "
                 "time about 1–2 minutes: umap-learn fits its own UMAP of the {n:,} codes (longer while its code "
                 "compiles); a few seconds a click after that; the fast decode above takes "
                 "milliseconds.").format(n=n))
    if not st.button(_("Refine with umap-learn's inverse_transform"), key="map_refine",
                     icon=":material/hourglass_top:"):
        return
    with st.status(_("Refining with umap-learn…"), expanded=True) as status:
        reducer = bundle.reducer
        if reducer is None:
            st.write(_("Fitting umap-learn's UMAP on {n:,} codes (once per map and server)…").format(n=n))
            t0 = time.perf_counter()
            reducer = loaders.umap_reducer(*key)
            st.write(_("Fitted in {secs:.1f} s.").format(secs=time.perf_counter() - t0) if not fitted
                     else _("Fitted earlier: reused."))
        st.write(_("Optimising a code whose UMAP neighbourhood matches the spot…"))
        t1 = time.perf_counter()
        z2 = np.asarray(reducer.inverse_transform(xy[None].astype(np.float32)), dtype=np.float32)[0]
        secs = time.perf_counter() - t1
        status.update(label=_("Refined in {secs:.1f} s").format(secs=secs), state="complete")
    _refined(v, xy, z, z2, secs)


def _refined(v: MapView, xy: np.ndarray, z: np.ndarray, z2: np.ndarray, secs: float) -> None:
    """The fast decode beside umap-learn's, and why they differ."""
    ctx = v.ctx
    a, b = st.columns(2)
    with a:
        show_image(ctx.decode(z[None])[0], _("fast: 8 nearest codes"), size=presenter.px(112))
    with b:
        show_image(ctx.decode(z2[None])[0], _("umap-learn ({secs:.1f} s)").format(secs=secs), size=presenter.px(112))
    back = v.bundle.latent_map.to_map(np.stack([z, z2]))  # (2, 2): where each code lands on this map
    d_fast, d_umap = (float(np.linalg.norm(p - xy)) for p in back)
    st.caption(_(
        "Why they differ: a spot on a 2-D map stands for many codes ({d} numbers squeezed into 2), so every "
        "inverse is a guess. The fast one averages the codes of the 8 nearest points, weighted by distance; "
        "umap-learn starts from the nearest points of its own fitted map and optimises a code whose neighbourhood "
        "matches. The two codes are {apart:.2f} apart (a typical code's length: {typical:.2f}). Placed back on "
        "this map, the fast code lands {fast:.2f} from the click, umap-learn's {umap:.2f}."
    ).format(d=ctx.latent_dim, apart=np.linalg.norm(z2 - z), typical=np.linalg.norm(ctx.enc.mu, axis=1).mean(),
             fast=d_fast, umap=d_umap))


def _prior_sample(ctx: Ctx, prior_z: np.ndarray, k: int) -> None:
    st.subheader(_("Prior sample {k}").format(k=k))
    show_image(ctx.decode(prior_z[k : k + 1])[0], _("decoded z ~ N(0, I)"))
    st.caption(_("A code drawn from the prior, placed on the map by its nearest encoded neighbours."))
    st.code(fmt_code(prior_z[k]), language=None, wrap_lines=True)


def _summary(ctx: Ctx) -> None:
    """With nothing picked: what to do, and the explore set in three lines."""
    st.info(_("Click a point to see its image, reconstruction and latent code. Drag a box or lasso "
              "(toolbar) to select a group. Click between points to decode that spot of the map."))
    st.markdown(
        _("- **{n:,} images**, {k} classes\n"
          "- mean −ELBO **{elbo:.1f} nats** (reconstruction {recon:.1f} + KL {kl:.1f})\n"
          "- **{used} of {d}** latent dimensions in use (average KL ≥ {t} nats)").format(
            n=len(ctx.enc), k=len(ctx.class_names), elbo=ctx.enc.neg_elbo.mean(), recon=ctx.enc.recon.mean(),
            kl=ctx.enc.kl.mean(), used=int(ctx.active.sum()), d=ctx.latent_dim, t=COLLAPSED_KL)
    )
