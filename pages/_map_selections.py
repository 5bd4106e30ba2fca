"""The Map page's kept selections (issue #34): name the current selection (a box's or lasso's images, or
a search's matches), keep several, compare them, export each, and turn two into a latent direction.

The maths and the files are vae.explore.selections; here: the widgets and the session's list. The list
belongs to the session (session state, never a cache) and to the explore set it was made on. It travels
in the link as ``keep=NAME:INDICES;NAME:INDICES`` (INDICES as vae.explore.index_text writes them) while the link
stays short (LINK_MAX characters); a longer list stays in the session and the page says so.

The direction A − B (mean μ of A minus mean μ of B) opens on Interpolate as the path from B's mean code to
A's, and on Sliders starting at B's mean code with the direction as a slider of its own (``dir=v:`` and its
vector in the link; the selections' names stay in this session under DIRECTION_KEY, which names the slider).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import _link as link
from pages import _map_columns as map_columns
from pages import _nav as nav
from pages._context import Ctx
from pages._i18n import N_, _, tr
from pages._link import LinkError, Param
from pages._widgets import encode_code
from vae.explore import index_text
from vae.explore.selections import (
    MAX_NAME,
    Selection,
    compare,
    direction,
    grid_png,
    images_zip,
    table,
)

STATE = "map_kept"  # {"set": the explore set's key, "items": [{"name", "indices"}]}
DIRECTION_KEY = "map_direction_request"  # the direction A − B for Sliders (see the module's text)
LINK_MAX = 6000  # characters of the link's keep= value at most
MAX_KEPT = 12  # selections kept at once


def _set_key(ctx: Ctx) -> tuple:
    return ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, len(ctx.enc)


def kept(ctx: Ctx) -> list[Selection]:
    """The selections kept in this session for this explore set."""
    s = st.session_state.get(STATE)
    if not isinstance(s, dict) or s.get("set") != _set_key(ctx):
        return []
    return [Selection(it["name"], np.asarray(it["indices"], dtype=np.int64)) for it in s["items"]]


def _store(ctx: Ctx, items: list[Selection]) -> None:
    st.session_state[STATE] = {"set": _set_key(ctx), "items": [{"name": s.name, "indices": s.indices}
                                                               for s in items]}


# -- the link -------------------------------------------------------------------------------------
def _keep_parse(text: str, ctx) -> dict:
    items = []
    for part in text.split(";"):
        name, sep, code = part.partition(":")
        if not sep:
            raise LinkError(_("write NAME:INDICES, one selection after another, separated by ;"))
        try:
            indices = index_text.parse(code, len(ctx.enc))
        except ValueError as e:
            raise LinkError(tr(e.args[0])) from None
        try:
            items.append(Selection.of(name, indices, len(ctx.enc)))
        except ValueError as e:
            raise LinkError(str(e)) from None
    return {STATE: {"set": _set_key(ctx), "items": [{"name": s.name, "indices": s.indices} for s in items[:MAX_KEPT]]}}


def _link_text(ctx) -> tuple[str | None, int]:
    """The keep= value (None: nothing kept) and how many selections it leaves out (too long for a link)."""
    parts = []
    left_out = 0
    for s in kept(ctx):
        code = index_text.text(s.indices, len(ctx.enc))
        part = f"{s.name}:{code}"
        if sum(len(p) + 1 for p in parts) + len(part) > LINK_MAX or len(code) > index_text.MAX_TEXT:
            left_out += 1
        else:
            parts.append(part)
    return (";".join(parts) or None), left_out


PARAMS = [Param("keep", N_("kept selections"), _keep_parse, lambda ctx: _link_text(ctx)[0], states=(STATE,))]


# -- the widgets ----------------------------------------------------------------------------------
def metrics(ctx: Ctx) -> dict[str, np.ndarray]:
    """The per-image values the page has: −ELBO and its parts, σ, MSE."""
    e = ctx.enc
    return {"neg_elbo": e.neg_elbo, "recon": e.recon, "kl": e.kl, "sigma": e.sigma_mean, "mse": e.mse}


def _next_name(items: list[Selection]) -> str:
    taken = {s.name for s in items}
    return next(c for c in (*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", *(f"S{k}" for k in range(1, 99))) if c not in taken)


def keep_form(ctx: Ctx, current: np.ndarray | None, what: str) -> None:
    """Name the current selection (``what`` says where it comes from) and keep it."""
    items = kept(ctx)
    if current is None or not len(current):
        st.caption(_("Select images with the box or lasso (the map's toolbar) or the search box, then keep them "
                     "here under a name to compare and export them."))
        return
    with st.form("map_keep_form", border=False, enter_to_submit=True):
        c1, c2 = st.columns(2, vertical_alignment="bottom")
        name = c1.text_input(_("Name this selection"), value=_next_name(items), max_chars=MAX_NAME,
                             key="map_keep_name", help=_("{what}: {n:,} images.").format(what=what, n=len(current)))
        ok = c2.form_submit_button(_("Keep {n:,} images").format(n=len(current)), icon=":material/bookmark_add:",
                                   width="stretch")
    if not ok:
        return
    try:
        sel = Selection.of(name, current, len(ctx.enc))
    except ValueError as e:
        st.error(_("Cannot keep it: {why}").format(why=e))
        return
    items = [s for s in items if s.name != sel.name] + [sel]
    if len(items) > MAX_KEPT:
        st.warning(_("At most {k} selections are kept: the oldest, {name}, was let go.").format(
            k=MAX_KEPT, name=items[0].name))
        items = items[1:]
    _store(ctx, items)
    st.toast(_("Kept “{name}”: {n:,} images.").format(name=sel.name, n=len(sel)))


def section(ctx: Ctx, coords: np.ndarray) -> None:
    """The kept selections: their statistics side by side, each one's exports, the direction between two."""
    items = kept(ctx)
    if not items:
        return
    st.subheader(_("Kept selections"))
    rows = compare(items, ctx.enc.labels, ctx.class_names, metrics(ctx))
    frame = pd.DataFrame({
        _("Name"): [r["name"] for r in rows],
        _("Images"): [r["size"] for r in rows],
        _("Classes"): [r["mix"] for r in rows],
        _("Mean −ELBO"): [r["neg_elbo"] for r in rows],
        _("Reconstruction"): [r["recon"] for r in rows],
        "KL": [r["kl"] for r in rows],
        _("Mean σ"): [r["sigma"] for r in rows],
    })
    st.dataframe(frame, hide_index=True, key="map_kept_table", column_config={
        k: st.column_config.NumberColumn(format="%.2f") for k in (_("Mean −ELBO"), _("Reconstruction"), "KL",
                                                                  _("Mean σ"))})
    left_out = _link_text(ctx)[1]
    if left_out:
        st.caption(_("{k} of the kept selections are too large for the page's link: they stay in this session "
                     "only.").format(k=left_out))
    _exports(ctx, items, coords)
    if len(items) >= 2:
        _direction(ctx, items)


def _exports(ctx: Ctx, items: list[Selection], coords: np.ndarray) -> None:
    """One selection's CSV, PNG grid and ZIP of images, and a button that lets it go."""
    by_name = {s.name: s for s in items}
    name = st.columns([1, 1])[0].selectbox(_("Selection"), list(by_name), key="map_kept_pick",
                                           help=_("The kept selection that the buttons below export or remove."))
    (c2, c3), (c4, c5) = st.columns(2), st.columns(2)  # two a row: four overflowed the map's column at 1024 px
    sel = by_name.get(name) or items[0]
    enc, data, names = ctx.enc, ctx.data, ctx.class_names
    attrs, values = map_columns.loaded(ctx), metrics(ctx)
    stem = f"{ctx.name}-{ctx.split}-{sel.name}".replace(" ", "_")
    c2.download_button(_("CSV"), lambda: table(sel, enc.mu, enc.labels, names, coords, values, attrs),
                       file_name=f"{stem}.csv", mime="text/csv", key="map_kept_csv", icon=":material/download:",
                       width="stretch", help=_("index, class, μ, map position, −ELBO, reconstruction, KL, σ, MSE "
                                               "and your own columns, one row per image"))
    c3.download_button(_("PNG grid"), lambda: grid_png(sel, data.images), file_name=f"{stem}.png",
                       mime="image/png", key="map_kept_png", icon=":material/grid_view:", width="stretch",
                       help=_("The first 400 images in one picture"))
    c4.download_button(_("ZIP"), lambda: images_zip(sel, data.images, names, enc.labels), file_name=f"{stem}.zip",
                       mime="application/zip", key="map_kept_zip", icon=":material/folder_zip:", width="stretch",
                       help=_("Every image as a PNG of its own"))
    if c5.button(_("Remove"), key="map_kept_remove", icon=":material/delete:", width="stretch"):
        _store(ctx, [s for s in items if s.name != sel.name])
        st.rerun()


def _direction(ctx: Ctx, items: list[Selection]) -> None:
    """Two selections' mean codes as a direction A − B, opened on Interpolate or Sliders."""
    names = [s.name for s in items]
    by_name = {s.name: s for s in items}
    st.markdown(_("**A direction from two selections:** the mean code μ of A minus that of B."))
    c1, c2 = st.columns(2)
    a = by_name[c1.selectbox("A", names, index=len(names) - 1, key="map_dir_a")]
    b = by_name[c2.selectbox("B", names, index=len(names) - 2, key="map_dir_b")]
    try:
        vec = direction(ctx.enc.mu, a, b)
    except ValueError as e:
        st.info(_("Pick two different selections: {why}").format(why=e))
        return
    start = ctx.enc.mu[b.indices].mean(axis=0)
    end = start + vec
    st.caption(_("{a} − {b}: length {n:.2f} (a typical code's length: {typical:.2f}).").format(
        a=a.name, b=b.name, n=float(np.linalg.norm(vec)), typical=float(np.linalg.norm(ctx.enc.mu, axis=1).mean())))
    d1, d2 = st.columns(2)
    if d1.button(_("Open on Interpolate"), key="map_dir_interp", icon=":material/timeline:", width="stretch",
                 help=_("The path from B's mean code to A's: the direction walked from one end to the other.")):
        link.forget()
        nav.switch("interpolate", {"tab": "path", "a": f"z:{encode_code(start)}", "b": f"z:{encode_code(end)}"})
    if d2.button(_("Open on Sliders"), key="map_dir_sliders", icon=":material/tune:", width="stretch",
                 help=_("Sliders start at B's mean code; the direction A − B goes with it.")):
        st.session_state[DIRECTION_KEY] = {"name": f"{a.name} − {b.name}", "vector": [float(v) for v in vec],
                                           "start": [float(v) for v in start]}
        link.forget()
        nav.switch("sliders", {"z": encode_code(start), "dir": "v:" + encode_code(vec)})
