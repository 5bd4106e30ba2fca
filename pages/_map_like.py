"""The Map's "find images like this one" (issue #34): a code from outside the explore set (the μ of an upload
or a drawing on Your image) placed on the map as a ★ by the map's own projection (LatentMap.to_map, as prior
samples are), its k nearest images in latent space drawn over the faded rest as a search's matches are and
ringed as a clicked point's neighbours are, and listed beside the map.

The code travels in the link (``?like=0.12,-1.3,...``: Sliders' ``z=`` format, 3 decimals); Your image opens
the Map with it (:func:`open_map`). It stays on the map until removed; a point or spot clicked on the map is
shown beside it while picked, as a clicked point replaces the one chosen before. The maths is
vae.explore.neighbours (NeighbourIndex.near_code); here: the link key, the ★, the panel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages import _link as link
from pages import _map_tools as map_tools
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx
from pages._i18n import N_, _
from pages._link import LinkError, Param
from pages._loaders import MapBundle
from pages._widgets import encode_code, fmt_code, parse_code, show_image, show_images
from vae.explore.neighbours import METRICS, Neighbours

STATE = "map_like"  # session: {"text": the code as the link writes it, "for": the model's name}
KEY = "like"  # the link's key
LIMIT = 100.0  # a code's numbers are clipped to ±LIMIT (μ of a picture unlike the data can be large)
STAR = dict(size=26, symbol="star", color="black", line=dict(width=2, color="white"))  # as Your image's ★
CANVAS_STAR = "★"  # the canvas map's marker: a label of its own, drawn over the dots and rings


# -- the link -------------------------------------------------------------------------------------
def _parse(text: str, ctx) -> dict:
    code, problem = parse_code(text, ctx.latent_dim, LIMIT)
    if code is None:
        raise LinkError(problem)
    return {STATE: {"text": encode_code(code), "for": ctx.name}}


def _dump(ctx) -> str | None:
    like = st.session_state.get(STATE)
    return like["text"] if isinstance(like, dict) and like.get("for") == ctx.name else None


#: The Map page's key for it (pages/map.py declares it with its own).
PARAMS = [
    Param(
        KEY,
        N_("your image's code"),
        _parse,
        _dump,
        N_("The map shows no image of yours instead."),
        states=(STATE,),
    )
]


def open_map(code: np.ndarray) -> None:
    """Open the Map with ``code`` (D,) (an upload's or a drawing's μ) on it: the link's way, so that the
    Map shows what a reload of its link shows."""
    link.forget()  # the Map reads the new link's code even when this session wrote the same one before
    nav.switch("map", {KEY: encode_code(np.asarray(code, np.float32))})


# -- what the map draws ---------------------------------------------------------------------------
@dataclass
class Like:
    """The code shown on the map, where it lands and its nearest images."""

    code: np.ndarray  # (D,) float32
    xy: np.ndarray  # (2,) its place on this map
    near: Neighbours  # its k nearest images in latent space (the Map's k and distance)
    how: str  # how the map placed it, for the panel's caption
    exact: bool  # placed by the map's own function (a 2-D model's plane, a linear map), not from neighbours


def current(ctx: Ctx, bundle: MapBundle) -> Like | None:
    """The code the link (or Your image) put on this model's map, placed on ``bundle``'s map; None: none."""
    like = st.session_state.get(STATE)
    if not isinstance(like, dict) or like.get("for") != ctx.name:
        return None
    code, _problem = parse_code(like.get("text"), ctx.latent_dim, LIMIT)
    if code is None:  # written by this module, so only another model's code of the same name
        st.session_state.pop(STATE, None)
        return None
    k, metric = map_tools.settings()
    near = map_tools.neighbour_index(ctx).near_code(code, k, metric)
    lmap = bundle.latent_map
    exact = bool(lmap.identity or lmap.linear is not None)
    how = (
        _("at its code itself (this model's latent space is 2-D)")
        if lmap.identity
        else _("by the same linear projection as the data")
        if exact
        else _("at the weighted average of the map positions of its {k} nearest codes").format(k=lmap.k)
    )
    return Like(code, lmap.to_map(code[None])[0], near, how, exact)


def highlight(like: Like | None, found: np.ndarray | None) -> np.ndarray | None:
    """The points the map draws over its faded rest: a search's or filter's when one is on, else the code's
    nearest images."""
    return found if found is not None or like is None else like.near.indices


def add_star(fig: go.Figure, like: Like | None) -> None:
    """The ★ on the Plotly map, over the points (WebGL, as they are: an SVG trace is drawn beneath them), as
    strong while a point clicked on the map is selected."""
    if like is None:
        return
    fig.add_trace(
        go.Scattergl(
            x=[float(like.xy[0])],
            y=[float(like.xy[1])],
            mode="markers",
            name=_("your image"),
            marker=STAR,
            hovertemplate=_("your image") + "<extra></extra>",
            showlegend=False,
            unselected=dict(marker=dict(opacity=1.0)),  # a point clicked on the map fades the rest, not the ★
        )
    )


def canvas_labels(like: Like | None, labels: list[dict] | None) -> list[dict] | None:
    """The canvas map's labels with the ★ first (the first label is always drawn where it is in view)."""
    if like is None:
        return labels
    return [
        {"x": float(like.xy[0]), "y": float(like.xy[1]), "text": CANVAS_STAR, "colour": "#000"},
        *(labels or []),
    ]


# -- the panel beside the map ---------------------------------------------------------------------
def panel(ctx: Ctx, like: Like) -> None:
    """The code: decoded, where it was placed, its nearest images (the neighbours' controls as a clicked
    point's), and the ways back."""
    st.subheader(_("Your image on the map"))
    a, b = st.columns(2)
    size = presenter.px(112)
    with a:
        show_image(ctx.decode(like.code[None])[0], _("reconstruction (decoded μ)"), size)
    with b:
        j = int(like.near.indices[0])
        show_image(
            ctx.data.images[j], _("nearest image: #{j} {cls}").format(j=j, cls=ctx.class_name(j)), size
        )
    st.caption(
        _(
            "The ★ is the code μ of the picture you gave on **Your image**, placed {how}. Its nearest "
            "images in latent space are drawn over the faded rest and ringed."
        ).format(how=like.how)
        + ("" if like.exact else " " + _("They can lie apart on the map: 2-D cannot keep every distance."))
    )
    _neighbours(ctx, like.near)
    st.code(fmt_code(like.code), language=None, wrap_lines=True)
    c1, c2 = st.columns(2)
    if c1.button(_("Back to Your image"), key="map_like_back", icon=":material/arrow_back:", width="stretch"):
        nav.switch("your_image")
    if c2.button(
        _("Remove it from the map"), key="map_like_remove", icon=":material/close:", width="stretch"
    ):
        st.session_state.pop(STATE, None)
        st.rerun()


def _neighbours(ctx: Ctx, near: Neighbours) -> None:
    """The k nearest images, nearest first, with the same controls (and keys) as a clicked point's."""
    map_tools.k_slider()
    st.radio(
        _("Distance between codes"),
        list(METRICS),
        index=0,
        key="map_nn_metric",
        format_func=lambda m: _(map_tools.METRIC_LABELS[m]),
        help=_(
            "Between the posterior means μ: Euclidean, or cosine (1 − the cosine of the angle "
            "between them: only the direction counts)."
        ),
    )
    metric = st.session_state.get("map_nn_metric") or METRICS[0]
    st.markdown(
        _("**In latent space** ({metric} distance between the codes μ), ringed on the map:").format(
            metric=_(map_tools.METRIC_LABELS[metric])
        )
    )
    idx = near.indices.tolist()
    show_images(
        ctx.data.images[near.indices],
        [f"#{j} {ctx.class_name(j)} · {d:.3g}" for j, d in zip(idx, near.distances.tolist(), strict=True)],
        size=presenter.px(map_tools.THUMB_PX),
    )
    names, votes = np.unique(ctx.enc.labels[near.indices], return_counts=True)
    top = int(names[np.argmax(votes)])
    st.caption(
        _("Most common class among them: **{cls}** ({votes} of {n}).").format(
            cls=ctx.class_names[top] if 0 <= top < len(ctx.class_names) else str(top),
            votes=int(votes.max()),
            n=len(idx),
        )
    )
