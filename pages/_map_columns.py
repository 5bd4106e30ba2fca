"""The Map page's own columns (issue #34): a CSV of per-image attributes loaded by the user, to colour,
search and export the map by.

The reading is vae.explore.attributes; here: the uploader, what the colour choice and the search get from
the loaded columns. The columns belong to the session that loaded them (session state, never a cache) and
to the explore set they were read for: on another set the file the uploader holds is read again, against
that set's images. A bad file leaves the columns loaded before it in place.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from pages._context import Ctx
from pages._i18n import _, tr
from pages._widgets import uploader_texts
from vae.errors import AttributesError
from vae.explore.attributes import MAX_BYTES, Attributes, read_attributes
from vae.export.tables import attribute_table

PREFIX = "col:"  # a colouring by your column NAME is "col:NAME" (never in the link: the columns are this session's)
MAX_CATEGORIES = 20  # a text column's most frequent values get a colour each; the rest share one
STATE, PROBLEM, SEEN, UPLOAD = "map_columns", "map_columns_problem", "map_columns_seen", "map_columns_file"


def _set_key(ctx: Ctx) -> tuple:
    return ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, len(ctx.enc)


def loaded(ctx: Ctx) -> Attributes | None:
    """The columns loaded in this session for this explore set (None: none)."""
    s = st.session_state.get(STATE)
    return s["attrs"] if isinstance(s, dict) and s.get("set") == _set_key(ctx) else None


def read_upload(ctx: Ctx) -> None:
    """Read the file the uploader holds, once per file (call before the colour choice is drawn, so that a
    new file's columns are among its choices in the same run). A bad file's message is kept for
    :func:`section`; the columns loaded before stay."""
    up = st.session_state.get(UPLOAD)
    if up is None or st.session_state.get(SEEN) == (up.file_id, _set_key(ctx)):
        return
    st.session_state[SEEN] = (up.file_id, _set_key(ctx))
    try:
        attrs = read_attributes(up.getvalue(), len(ctx.enc), ctx.data.files or None, name=up.name)
    except AttributesError as e:
        st.session_state[PROBLEM] = e.args[0]
        return
    st.session_state[PROBLEM] = None
    st.session_state[STATE] = {"set": _set_key(ctx), "attrs": attrs}


def choices(ctx: Ctx) -> dict[str, str]:
    """The colour choices the loaded columns add: key -> label."""
    attrs = loaded(ctx)
    if attrs is None:
        return {}
    return {PREFIX + n: (_("{name} (your column, numbers)") if attrs.is_numeric(n) else
                         _("{name} (your column, text)")).format(name=n) for n in attrs.names}


def title(color_by: str) -> str:
    """The colour bar's title of a colouring by a column: its name."""
    return color_by.removeprefix(PREFIX)


def values(ctx: Ctx, color_by: str) -> np.ndarray | None:
    """(N,) a numeric column's values (NaN: none), for a colouring by it; None for anything else."""
    attrs = loaded(ctx)
    name = title(color_by)
    if not color_by.startswith(PREFIX) or attrs is None or name not in attrs.columns or not attrs.is_numeric(name):
        return None
    return attrs.columns[name]


def categories(ctx: Ctx, color_by: str) -> tuple[np.ndarray, list[str]] | None:
    """A text column as classes, for a colouring by it: (N,) each image's category, and the categories'
    names (the most frequent first, the rest as one "other"; "(no value)" for images without one)."""
    attrs = loaded(ctx)
    name = title(color_by)
    if not color_by.startswith(PREFIX) or attrs is None or name not in attrs.columns or attrs.is_numeric(name):
        return None
    uniq, inverse, counts = np.unique(attrs.columns[name].astype(str), return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes = np.minimum(rank[inverse], MAX_CATEGORIES - 1)
    names = [str(uniq[c]) if uniq[c] else _("(no value)") for c in order[:MAX_CATEGORIES]]
    if len(uniq) > MAX_CATEGORIES:
        names[-1] = _("{n} other values").format(n=len(uniq) - MAX_CATEGORIES + 1)
    return codes.astype(np.int64), names


def digest(ctx: Ctx, color_by: str) -> str:
    """A short digest of a column's values: the canvas map caches colours under it."""
    attrs = loaded(ctx)
    col = None if attrs is None else attrs.columns.get(title(color_by))
    return "" if col is None else hashlib.sha1(np.asarray(col).astype(str).tobytes()).hexdigest()[:12]


def texts(ctx: Ctx) -> list[np.ndarray]:
    """The loaded text columns, for the search box."""
    attrs = loaded(ctx)
    return [] if attrs is None else [attrs.columns[n] for n in attrs.text]


def section(ctx: Ctx) -> None:
    """The uploader, what it loaded (or why not), and a button that removes the columns."""
    attrs = loaded(ctx)
    problem = st.session_state.get(PROBLEM)
    with st.expander(_("Your own columns (CSV)"), expanded=bool(problem)):
        st.file_uploader(
            _("Your own columns (CSV)"), type=["csv"], key=UPLOAD, label_visibility="collapsed",
            help=_("A CSV file, one row per image: a column `index` (the image numbers, 0 to {last}) or `file` (a "
                   "folder data set's file names), then your columns. Numbers colour the map on a scale, text "
                   "by category, and the search box finds the text; the CSV downloads carry the columns. At most "
                   "{mb} MB.").format(last=len(ctx.enc) - 1, mb=MAX_BYTES // 2**20))
        uploader_texts(UPLOAD, ["csv"])
        if problem:
            st.error(_("Cannot use this file: {why}").format(why=tr(problem)) +
                     (" " + _("The columns loaded before stay.") if attrs is not None else ""))
        if attrs is not None:
            st.caption(tr(attrs.summary()) + ("" if attrs.left_out() is None else " " + tr(attrs.left_out())))
            enc, names = ctx.enc, ctx.class_names  # the table is made when the button is clicked (a callable)
            st.download_button(_("Every image's latent code with your columns (CSV)"),
                               lambda: attribute_table(enc.mu, enc.labels, names, attrs),
                               file_name=f"{ctx.name}-{ctx.split}-columns.csv", mime="text/csv",
                               key="map_columns_download", icon=":material/download:")
            if st.button(_("Remove your columns"), key="map_columns_remove", icon=":material/delete:"):
                st.session_state.pop(STATE, None)
                st.session_state[PROBLEM] = None
                st.rerun()
        else:
            st.caption(_("A CSV file, one row per image; for example, a first row `{header}`, then rows such as "
                         "`{row}`. Numbers colour the map on a scale, text by category.").format(
                header="index,weight,tag", row="0,1.5,sharp"))
