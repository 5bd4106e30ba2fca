"""The Map page's linked views (issue #34): small charts of the per-image values (class, reconstruction
error, −ELBO, KL, posterior σ, your own columns); a brushed range or clicked bars filter the map, whose
other points fade as a search's non-matches do (the map draws the filter's result through the same
``found`` path); a box or lasso on the map shows in the charts as the coloured part.

The maths is vae.explore.crossfilter; here: the charts (Altair, Streamlit's selection events), the
session's filters and their link key ``filter=kl:0.5..2;class:1,7`` (the built-in columns only: your own
columns belong to this session, as the colouring by them does). Each chart shows all images in grey and,
in colour, those that pass the *other* charts' filters (and lie in the map's selection, if there is one).

The filters are session state, kept apart from the charts' own selection states: a chart's brush is the
way to change its term, and a link or the clear button changes the terms under the charts, so they then
get new keys (GEN), which drops the brushes they showed.
"""

from __future__ import annotations

import re

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from pages import _map_columns as map_columns
from pages import _map_selections as selections
from pages import _presenter as presenter
from pages._context import Ctx
from pages._i18n import N_, _, tr
from pages._link import LinkError, Param
from vae.explore.crossfilter import (
    Among,
    Column,
    FilterError,
    Filters,
    Masks,
    Range,
    Table,
    category_counts,
    dump,
    histogram,
    mask,
    parse,
    rounded,
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
PER_ROW = 3  # charts side by side (about 300 pixels each at 1024×768)
HEIGHT = 90  # a numeric chart's plot, pixels
BAR_PX = 15  # a category's bar, pixels
MAX_BARS_PX = (
    300  # a categorical chart's plot at most, pixels (a folder data set's many classes: thinner bars)
)
TITLE_AXIS_PX = 46  # a chart's title and x axis, pixels, around its plot
GREY, KEPT = "#d4d4d4", "#4c78a8"  # all images; those passing (a numeric column's colour)
BRUSH, PICK = "brush", "pick"  # the charts' selection parameters


def _set_key(ctx: Ctx) -> tuple:
    return ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, len(ctx.enc)


def table(ctx: Ctx) -> Table:
    """The per-image values the map can be filtered by: the built-in ones, then your own columns."""
    enc = ctx.enc
    cols = {
        "class": Column(np.asarray(enc.labels), tuple(_(str(n)) for n in ctx.class_names)),
        "recon": Column(enc.recon),
        "elbo": Column(enc.neg_elbo),
        "kl": Column(enc.kl),
        "sigma": Column(enc.sigma_mean),
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
        gen = int(st.session_state.get(GEN, 0))
        names = list(tab.columns)
        for start in range(0, len(names), PER_ROW):
            cells = st.columns(PER_ROW, gap="small")
            for cell, name in zip(cells, names[start : start + PER_ROW], strict=False):
                with cell:
                    _chart(ctx, tab, filters, masks, name, within, f"map_filter_{name}_{gen}")


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


def _chart(
    ctx: Ctx, tab: Table, filters: Filters, masks: Masks, name: str, within: np.ndarray | None, key: str
) -> None:
    """One column's chart: grey all, coloured those passing the other filters; brushing or clicking sets
    this column's term (through :func:`_on_select`, before the page reruns)."""
    col = tab.columns[name]
    keep = masks.without(name)
    if within is not None:
        keep &= within
    term = filters.get(name)
    chart = _numeric(col, keep, term) if col.numeric else _categories(col, keep, term, name == "class")
    plot = presenter.px(HEIGHT if col.numeric else min(BAR_PX * len(col.categories), MAX_BARS_PX))
    st.altair_chart(
        chart.properties(title=alt.TitleParams(_title(name), fontSize=presenter.font(12), anchor="start")),
        key=key,
        on_select=lambda: _on_select(ctx, name, key),
        width="stretch",
        height=plot + presenter.px(TITLE_AXIS_PX),
        selection_mode=BRUSH if col.numeric else PICK,
    )


def _numeric(col: Column, keep: np.ndarray, term) -> alt.LayerChart:
    b = histogram(col.values, keep)
    inside = (
        np.ones(len(b.all), bool)
        if not isinstance(term, Range)
        else (b.edges[1:] >= term.lo) & (b.edges[:-1] <= term.hi)
    )
    df = pd.DataFrame(
        {
            "lo": b.edges[:-1],
            "hi": b.edges[1:],
            "all": b.all,
            "kept": b.kept,
            "inside": inside,
            "bar": [f"{lo:.4g} – {hi:.4g}" for lo, hi in zip(b.edges[:-1], b.edges[1:], strict=True)],
        }
    )
    x = alt.X(
        "lo:Q",
        title=None,
        scale=alt.Scale(zero=False, nice=False),
        axis=alt.Axis(
            labelFontSize=presenter.font(10),
            tickCount=4,
            format="~s" if np.abs(b.edges).max() >= 1e3 else ".3~g",
        ),
    )
    brush = alt.selection_interval(name=BRUSH, encodings=["x"])
    # y2: bars from 0 (with x2 and no y2, Vega-Lite draws them floating at their height)
    base = alt.Chart(df).encode(x=x, x2="hi:Q", y2=alt.datum(0))
    grey = base.mark_bar(color=GREY).encode(
        y=alt.Y("all:Q", title=None, axis=None),
        tooltip=[alt.Tooltip("bar:N", title=_("values in the bar")), *_counts_tooltip()],
    )
    kept = base.mark_bar(color=KEPT).encode(
        y=alt.Y("kept:Q", axis=None), opacity=alt.condition("datum.inside", alt.value(1.0), alt.value(0.25))
    )
    return alt.layer(grey.add_params(brush), kept)


def _counts_tooltip() -> list[alt.Tooltip]:
    return [alt.Tooltip("all:Q", title=_("all images")), alt.Tooltip("kept:Q", title=_("coloured"))]


def _categories(col: Column, keep: np.ndarray, term, classes: bool) -> alt.LayerChart:
    names = list(col.categories)
    all_, kept = category_counts(col.values, len(names), keep)
    chosen = (
        np.ones(len(names), bool)
        if not isinstance(term, Among)
        else np.isin(np.arange(len(names)), list(term.codes))
    )
    df = pd.DataFrame(
        {
            "code": np.arange(len(names)),
            "name": names,
            "all": all_,
            "kept": kept,
            "chosen": chosen,
            "colour": [class_color(c) if classes else KEPT for c in range(len(names))],
        }
    )
    y = alt.Y(
        "name:N",
        title=None,
        sort=names,
        axis=alt.Axis(
            labelFontSize=presenter.font(10),
            labelLimit=presenter.px(90),
            labelOverlap=BAR_PX * len(names) > MAX_BARS_PX,
            labelFlush=False,
        ),
    )
    pick = alt.selection_point(name=PICK, fields=["code"])
    base = alt.Chart(df).encode(y=y)
    grey = base.mark_bar(color=GREY).encode(
        x=alt.X("all:Q", title=None, axis=None),
        tooltip=[alt.Tooltip("name:N", title=" "), *_counts_tooltip()],
    )
    coloured = base.mark_bar().encode(
        x=alt.X("kept:Q", axis=None),
        color=alt.Color("colour:N", scale=None),
        opacity=alt.condition("datum.chosen", alt.value(1.0), alt.value(0.25)),
    )
    return alt.layer(grey.add_params(pick), coloured)


def _on_select(ctx: Ctx, name: str, key: str) -> None:
    """A chart's brush or clicked bars -> its column's term (an empty selection removes it)."""
    state = st.session_state.get(key)
    _store(ctx, current(ctx).with_term(name, term_of((state or {}).get("selection") or {})))


def term_of(selection: dict) -> Range | Among | None:
    """The term a chart's selection event stands for: a brush ``{"brush": {"lo": [a, b]}}`` -> its range
    (ends rounded outwards: what the link keeps), clicked bars ``{"pick": [{"code": 1}, ...]}`` -> those
    categories; nothing selected -> None."""
    brush = selection.get(BRUSH)
    ends = brush.get("lo") if isinstance(brush, dict) else None
    if isinstance(ends, (list, tuple)) and len(ends) == 2:
        lo, hi = sorted(float(v) for v in ends)
        return rounded(lo, hi)
    picked = selection.get(PICK)
    if isinstance(picked, list) and picked:
        codes = frozenset(int(p["code"]) for p in picked if isinstance(p, dict) and p.get("code") is not None)
        return Among(codes) if codes else None
    return None
