"""The Map page's linked views (issue #34): small charts of the per-image values (class, reconstruction
error, −ELBO, KL, posterior σ, your own columns); a brushed range or clicked bars filter the map, whose
other points fade as a search's non-matches do (the map draws the filter's result through the same
``found`` path); a box or lasso on the map shows in the charts as the coloured part.

The maths is vae.explore.crossfilter; the charts are components/map_filter, drawn and brushed in the page
(the charts and the map follow a brush at once; the terms reach the server when the gesture ends); here: the
session's filters and their link key ``filter=kl:0.5..2;class:1,7`` (the built-in columns only: your own
columns belong to this session, as the colouring by them does). Each chart shows all images in grey and,
in colour, those that pass the *other* charts' filters (and lie in the map's selection, if there is one).

The filters are session state, kept apart from the charts' own state: a gesture on the charts is the way to
change a term, and a link or the clear button changes the terms under the charts, so they then get a new key
(GEN), which starts them from the new terms.
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from components import map_filter
from pages import _map_columns as map_columns
from pages import _map_selections as selections
from pages import _presenter as presenter
from pages._context import Ctx
from pages._i18n import N_, _, tr
from pages._link import LinkError, Param
from vae.explore.crossfilter import (
    Column,
    FilterError,
    Filters,
    Masks,
    Range,
    Table,
    dump,
    from_json,
    mask,
    parse,
)
from vae.explore.figures import class_color

STATE = "map_filter"  # session state: {"set": the explore set's key, "filters": Filters}
GEN = "map_filter_gen"  # the charts' key suffix: a new one drops their brushes (a link, the clear button)
OPEN = "map_filter_open"  # the panel stays open once its clear button was used
LINKED = {
    "class": N_("class"),
    "recon": N_("reconstruction error"),
    "elbo": N_("−ELBO"),
    "kl": N_("KL"),
    "sigma": N_("mean posterior σ"),
}  # the built-in columns (in the link), with their charts' titles
BAD = "map_filter_bad"  # session state: why the charts' last terms could not be read (shown once)


def _set_key(ctx: Ctx) -> tuple:
    return ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, len(ctx.enc)


def table(ctx: Ctx) -> Table:
    """The per-image values the map can be filtered by: the built-in ones, then your own columns."""
    enc = ctx.enc
    cols = {
        "class": Column(np.asarray(enc.labels), tuple(_(str(n)) for n in ctx.class_names)),
        # float64, as the page's charts test them (crossfilter.js): float32 values would be compared in float32
        "recon": Column(np.asarray(enc.recon, np.float64)),
        "elbo": Column(np.asarray(enc.neg_elbo, np.float64)),
        "kl": Column(np.asarray(enc.kl, np.float64)),
        "sigma": Column(np.asarray(enc.sigma_mean, np.float64)),
    }
    attrs = map_columns.loaded(ctx)
    for name in attrs.names if attrs is not None else ():
        key = map_columns.PREFIX + name
        if attrs.is_numeric(name):
            cols[key] = Column(np.asarray(attrs.columns[name], np.float64))
        else:
            codes, names = map_columns.categories(ctx, key)
            cols[key] = Column(codes, tuple(names))
    return Table(cols)


def current(ctx: Ctx) -> Filters:
    """The filters in force on this explore set (none after a switch to another)."""
    s = st.session_state.get(STATE)
    return s["filters"] if isinstance(s, dict) and s.get("set") == _set_key(ctx) else Filters()


def _store(ctx: Ctx, filters: Filters) -> None:
    st.session_state[STATE] = {"set": _set_key(ctx), "filters": filters}


# -- the link -------------------------------------------------------------------------------------
def _parse(text: str, ctx) -> dict:
    try:
        filters = parse(text, table(ctx), names=LINKED)
    except FilterError as e:
        raise LinkError(tr(e.args[0])) from None
    return {STATE: {"set": _set_key(ctx), "filters": filters}, GEN: int(st.session_state.get(GEN, 0)) + 1}


def _dump(ctx) -> str | None:
    return dump(current(ctx), names=LINKED) or None


#: The Map page's key for the filters (pages/map.py declares it with its own).
PARAMS = [Param("filter", N_("filter"), _parse, _dump, states=(STATE,))]


# -- what the map shows ---------------------------------------------------------------------------
def highlight(ctx: Ctx, found: np.ndarray | None) -> np.ndarray | None:
    """The indices the map draws over its faded rest: the filter's images (those of a search too, if one
    is on: both must hold), or ``found`` unchanged when no filter is on."""
    filters = current(ctx)
    if not filters:
        return found
    passing = np.flatnonzero(mask(table(ctx), filters))
    return passing if found is None else np.intersect1d(passing, found)


# -- the panel ------------------------------------------------------------------------------------
def section(ctx: Ctx, selected: list[int] | None) -> None:
    """The charts in an expander: the count, the clear button, one chart per column (``selected``: the
    map's box or lasso, shown as the coloured part of the charts; None: none)."""
    tab, filters = table(ctx), current(ctx)
    masks = Masks.of(tab, filters)  # each term's mask once; a chart's coloured part is the others' AND
    n, total = int(masks.without(None).sum()), tab.n
    label = (
        _("Filter by values: {n:,} of {total:,} images pass").format(n=n, total=total)
        if filters
        else _("Filter by values (linked charts)")
    )
    # keyed: a new count in the label keeps the expander (and whether it is open)
    with st.expander(
        label,
        expanded=bool(filters) or bool(st.session_state.get(OPEN)),
        icon=":material/filter_alt:",
        key="map_filter_panel",
    ):
        within, what = _within(ctx, selected)
        _summary(ctx, tab, filters, n, within, what)
        bad = st.session_state.pop(BAD, None)
        if bad:
            st.error(bad)
        _charts(ctx, tab, filters, within, f"map_filter_charts_{int(st.session_state.get(GEN, 0))}")


def _within(ctx: Ctx, selected: list[int] | None) -> tuple[np.ndarray | None, str]:
    """(N,) the images the charts colour (None: all), and what they are: the map's box or lasso, else a
    kept selection chosen here (pages/_map_selections.py)."""
    if selected:
        indices, what = np.asarray(selected, np.int64), _("the map's selection")
    else:
        kept = {s.name: s for s in selections.kept(ctx)}
        if not kept:
            return None, ""
        name = st.selectbox(
            _("Colour a kept selection in the charts"),
            [None, *kept],
            key="map_filter_within",
            format_func=lambda k: _("none") if k is None else k,
            help=_(
                "A box or lasso on the map is coloured in the charts while it lasts; without "
                "one, a selection you kept can be."
            ),
        )
        if name not in kept:
            return None, ""
        indices, what = kept[name].indices, _("the kept selection “{name}”").format(name=_plain(name))
    within = np.zeros(len(ctx.enc), bool)
    within[indices] = True
    return within, what


def _plain(text: str) -> str:
    """``text`` (your own columns' names and values, a selection's name) shown as it is, never as Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def _summary(ctx: Ctx, tab: Table, filters: Filters, n: int, within: np.ndarray | None, what: str) -> None:
    """The count, the terms in force, the clear button; what the charts' colours mean."""
    text, button = st.columns([4, 1], vertical_alignment="center")
    if filters:
        terms = _plain(" · ".join(_describe(tab, n, t) for n, t in filters.terms))
        text.markdown(_("**{n:,} of {total:,} images pass**: {terms}").format(n=n, total=tab.n, terms=terms))
    else:
        text.caption(
            _(
                "Drag across a chart to keep a range of its values, click a bar to keep a class (shift-click: "
                "several); the map fades the other images."
            )
        )
    button.button(
        _("Clear filters"),
        key="map_filter_clear",
        icon=":material/filter_alt_off:",
        disabled=not filters,
        on_click=_clear,
        args=(ctx,),
        width="stretch",
    )
    if within is not None:
        st.caption(
            _(
                "Grey: all images. Colour: those of {what} ({k:,} images) that pass the other charts' "
                "filters."
            ).format(what=what, k=int(within.sum()))
        )
    else:
        st.caption(_("Grey: all images. Colour: those that pass the other charts' filters."))


def _clear(ctx: Ctx) -> None:
    _store(ctx, Filters())
    st.session_state[GEN] = int(st.session_state.get(GEN, 0)) + 1
    st.session_state[OPEN] = True  # the panel stays open after its own button


def _title(name: str) -> str:
    return name.removeprefix(map_columns.PREFIX) if name.startswith(map_columns.PREFIX) else _(LINKED[name])


def _describe(tab: Table, name: str, term) -> str:
    col = tab.columns.get(name)
    if isinstance(term, Range):
        if np.isinf(term.lo):
            return f"{_title(name)} ≤ {term.hi:.4g}"
        return (
            f"{_title(name)} ≥ {term.lo:.4g}"
            if np.isinf(term.hi)
            else f"{_title(name)} {term.lo:.4g} – {term.hi:.4g}"
        )
    names = col.categories if col is not None and col.categories else ()
    return f"{_title(name)}: " + ", ".join(names[c] if c < len(names) else str(c) for c in sorted(term.codes))


def _spec(ctx: Ctx, tab: Table) -> dict:
    titles = {name: _title(name) for name in tab.columns}
    palette = [class_color(c) for c in range(len(ctx.class_names))]
    return map_filter.spec(ctx.ck.content_hash, tab, titles, {"class": palette}, "class", palette)


def _charts(ctx: Ctx, tab: Table, filters: Filters, within: np.ndarray | None, key: str) -> None:
    """The charts, drawn and brushed in the page (components/map_filter): grey all, coloured those passing the
    other charts' terms; a gesture filters the charts and the map at once, then sets the terms here
    (:func:`_on_change`, before the page reruns)."""
    map_filter.mount(
        key,
        _spec(ctx, tab),
        filters,
        within,
        text={
            "all": _("all images"),
            "coloured": _("coloured"),
            "passing": _("Now {n} of {total} images pass (the map follows)"),
            "keys": _("drag to keep a range, click bars to keep categories; keys: arrows, Space, Esc"),
        },
        scale=presenter.px(100) / 100,
        on_change=lambda: _on_change(ctx, key),
    )


def follow(
    ctx: Ctx,
    search: np.ndarray | None,
    map_kind: str,
    chart: str | None,
    search_text: str,
    search_classes: list[str] | None,
) -> None:
    """Beside the map: what fades it in the page while the charts' terms or a search typed into the box are newer
    than this run's (components/map_filter's "map" mode; the charts' panel may be closed). ``search``: the search's
    matches; ``map_kind``: "plotly" (``chart``: its key) or "canvas"; ``search_text`` and ``search_classes``: the
    search box's text, and what the page needs to answer it (pages/_map_tools.page_search)."""
    map_filter.follow(
        "map_filter_follow",
        _spec(ctx, table(ctx)),
        current(ctx),
        search,
        map_kind,
        chart,
        search_text,
        search_classes,
    )


def _on_change(ctx: Ctx, key: str) -> None:
    """The charts' terms, as the user's last gesture left them (a term that cannot be read: the filters stay)."""
    try:
        _store(ctx, from_json(map_filter.terms(key) or [], table(ctx)))
    except FilterError as e:
        st.session_state[BAD] = str(e)
