"""The Map page's research tools: a chosen image's nearest neighbours, and search (issue #34).

The maths is vae.explore.neighbours; here: the widgets, their link keys, the thumbnails. The map
draws what these return (the neighbours ringed, the matches over the faded rest) before the panel
beside it shows the lists, so the page asks for them twice a run: each is a few µs to a few ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from pages import _presenter as presenter
from pages._context import Ctx
from pages._i18n import LANGUAGES, N_, _, tr, translation
from pages._link import LinkError, Param, integer, one_of
from pages._widgets import show_images
from vae.errors import SearchError
from vae.explore.neighbours import MAX_QUERY, METRICS, NeighbourIndex, NeighbourReport, search

K_MIN, K_MAX, K_DEFAULT = 5, 30, 10  # the neighbours slider
METRIC_LABELS = {"euclidean": N_("Euclidean"), "cosine": N_("cosine")}
THUMB_PX = 56  # a neighbour's or a match's thumbnail, pixels
MATCHES_SHOWN = 24  # a search's first matches shown as thumbnails


# -- the link -------------------------------------------------------------------------------------
def _find_parse(text: str, ctx) -> dict:
    if len(text) > MAX_QUERY:
        raise LinkError(_("it is longer than {n} characters").format(n=MAX_QUERY))
    return {"map_search": text}


def _find_dump(ctx) -> str | None:
    text = (st.session_state.get("map_search") or "").strip()
    return text or None


#: The Map page's keys for these tools (pages/map.py declares them with its own).
PARAMS = [
    integer("k", "map_nn_k", N_("number of neighbours"), K_MIN, K_MAX),
    one_of("nn", "map_nn_metric", N_("neighbour distance"), list(METRICS)),
    Param("find", N_("search text"), _find_parse, _find_dump, states=("map_search",)),
]


# -- the computations -----------------------------------------------------------------------------
@st.cache_resource(max_entries=4, show_spinner=False)
def _index(name: str, content_hash: str, split: str, limit: int | None, n: int, _mu, _images) -> NeighbourIndex:
    """One exact neighbour index per explore set, shared by the sessions (never mutated but for its
    lazily built searches)."""
    return NeighbourIndex(_mu, _images)


def neighbour_index(ctx: Ctx) -> NeighbourIndex:
    return _index(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, len(ctx.enc), ctx.enc.mu, ctx.data.images)


def settings() -> tuple[int, str]:
    """k and the latent metric, as the widgets (or a link) left them."""
    k = st.session_state.get("map_nn_k") or K_DEFAULT
    metric = st.session_state.get("map_nn_metric")
    return int(min(max(int(k), K_MIN), K_MAX)), metric if metric in METRICS else METRICS[0]


def neighbours(ctx: Ctx, i: int) -> NeighbourReport:
    """Image ``i``'s neighbours with the current settings."""
    k, metric = settings()
    return neighbour_index(ctx).report(i, k, metric)


@dataclass
class Found:
    """What the search box found: the text, the matching indices (None: no search), or why not."""

    text: str
    matches: np.ndarray | None
    problem: str | None = None


def found(ctx: Ctx, texts: list[np.ndarray] | None = None) -> Found:
    """The search box's matches (the box is drawn by :func:`search_box`; its text is read here first, so
    that the map can show the matches); ``texts``: your own text columns, searched too."""
    text = " ".join(str(st.session_state.get("map_search") or "").split())
    if not text:
        return Found("", None)
    try:
        names = ctx.data.class_names  # a class is found by its name in any of the app's languages
        translated = {n: " / ".join(translation(lang).gettext(n) for lang in LANGUAGES) for n in names}
        hits = search(text, ctx.enc.labels, names, translated, ctx.data.files or None, texts or ())
    except SearchError as e:
        return Found(text, None, tr(e.args[0]))
    return Found(text, hits)


def page_search(ctx: Ctx, texts: list[np.ndarray] | None = None) -> list[str] | None:
    """What the page needs to answer the search box itself (components/map_filter/search.js): each class's names
    in the app's languages, case-folded; None where the search also reads file names or your own text columns
    (the server answers those alone)."""
    if ctx.data.files or texts:
        return None
    names = ctx.data.class_names
    translated = {n: " / ".join(translation(lang).gettext(n) for lang in LANGUAGES) for n in names}  # as found()
    return [f"{str(n).casefold()}\n{translated[n].casefold()}" for n in names]


# -- the widgets ----------------------------------------------------------------------------------
def search_box(ctx: Ctx, f: Found) -> None:
    """The search box above the map, and what it found in a line."""
    st.text_input(_("Find images"), key="map_search", max_chars=MAX_QUERY,
                  placeholder=_("#123, or a class such as {cls}").format(cls=ctx.class_names[-1]),
                  help=_("An image's number (123 or #123), a class or part of its name, or part of a file name; "
                         "upper or lower case; the text columns you loaded too. The matches are marked on the map, the rest fade.")
                  if ctx.data.files else
                  _("An image's number (123 or #123), a class or part of its name; upper or lower case; the text "
                    "columns you loaded too. The matches are marked on the map, the rest fade."))
    if f.problem:
        st.warning(f.problem)
    elif f.matches is not None and len(f.matches):
        st.caption(_("**{n:,} images match “{text}”**, marked on the map; the first {k} are listed under it.").format(
            n=len(f.matches), text=f.text, k=min(len(f.matches), MATCHES_SHOWN)))
    elif f.matches is not None:
        st.info(_("No image matches “{text}”: type an image's number (0 to {last}), a class or part of its "
                  "name.").format(text=f.text, last=len(ctx.enc) - 1))


def matches(ctx: Ctx, f: Found) -> None:
    """The search's first matches as thumbnails, under the map."""
    if f.matches is None or not len(f.matches):
        return
    shown = f.matches[:MATCHES_SHOWN]
    st.markdown(_("**The first {k} of the {n:,} images that match “{text}”:**").format(
        n=len(f.matches), text=f.text, k=len(shown)))
    show_images(ctx.data.images[shown], [f"#{j} {ctx.class_name(j)}" for j in shown], size=THUMB_PX)


def k_slider() -> None:
    """The neighbours slider (a clicked point's and Find like this's share it). Its default is given only while
    the session holds no value: a link's ``k`` sets it first, and a default beside it makes Streamlit warn."""
    default = {} if "map_nn_k" in st.session_state else {"value": K_DEFAULT}
    st.slider(_("Neighbours (k)"), K_MIN, K_MAX, key="map_nn_k", **default,
              help=_("How many of the explore set's images nearest to this one are shown, and ringed on the map."))


def section(ctx: Ctx, rep: NeighbourReport) -> None:
    """The chosen image's nearest neighbours: the controls, the latent list, the pixel list, what they share."""
    st.subheader(_("Nearest neighbours"))
    k_slider()
    # a radio, one choice a line: the point's column is narrow beside the map (buttons side by side overflowed it)
    st.radio(_("Distance between codes"), list(METRICS), index=0, key="map_nn_metric",
             format_func=lambda m: _(METRIC_LABELS[m]),
             help=_("Between the posterior means μ: Euclidean, or cosine (1 − the cosine of the angle "
                    "between them: only the direction counts)."))
    shared = set(rep.shared.tolist())
    k = len(rep.latent)
    st.metric(_("Shared by both lists"), _("{n} of {k}").format(n=len(shared), k=k),
              help=_("How many of the image's {k} nearest neighbours by code are also among its {k} nearest by "
                     "pixels; ★ marks them. Few in common: the model groups images by more than their pixels."
                     ).format(k=k))
    st.caption(_("★: among the nearest images in both spaces. Below each image: its number, class and distance."))
    st.markdown(_("**In latent space** ({metric} distance between the codes μ), ringed on the map:").format(
        metric=_(METRIC_LABELS[rep.metric])))
    show_images(ctx.data.images[rep.latent.indices], _captions(ctx, rep.latent, shared),
                size=presenter.px(THUMB_PX))
    st.markdown(_("**In pixel space** (Euclidean distance between the images):"))
    show_images(ctx.data.images[rep.pixel.indices], _captions(ctx, rep.pixel, shared), size=presenter.px(THUMB_PX))


def _captions(ctx: Ctx, nb, shared: set[int]) -> list[str]:
    return [("★ " if j in shared else "") + f"#{j} {ctx.class_name(j)} · {d:.3g}"
            for j, d in zip(nb.indices.tolist(), nb.distances.tolist(), strict=True)]
