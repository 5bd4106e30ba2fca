"""Directions: every direction of a source as a row of decoded images (a grid of traversals), each row
named by what it does and ranked by its effect; a chosen row opens on Sliders or Interpolate. And
analogies: a − b + c, its decoded image and its nearest real images.

The lists, names, codes and arithmetic come from vae.explore.direction_sets and vae.explore.analogies;
the whole grid is decoded in one call. Everything chosen is in the link.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages import _link as link
from pages import _nav as nav
from pages._context import Ctx, get_ctx, selected_index
from pages._directions import class_direction_names, directions, linked_key, slider_names
from pages._i18n import N_, _
from pages._link import LinkError, Param, integer, number, one_of
from pages._widgets import encode_code, show_image, show_images, side_by_side
from vae.data.images import image_grid, png_bytes
from vae.explore.analogies import Term, analogy
from vae.explore.direction_sets import (
    NAME_AT,
    key_of,
    moved,
    rank,
    shares,
    traversal_grid,
)
from vae.explore.directions import Direction
from vae.explore.knn import ExactKnn

TABS = {"grid": N_("Traversal grid"), "analogy": N_("Analogies")}  # link value -> tab label
SOURCES = {"latent": N_("latent dimensions"), "pca": N_("principal directions (PCA of μ)"),
           "sefa": N_("SeFa directions (decoder weights)"), "class": N_("class to class")}
SORTS = {"effect": N_("effect"), "name": N_("name")}
TERM_KINDS = {"mean": N_("class mean"), "image": N_("image #")}
ALL = "all"  # the "to" class of class directions: every other class
KEEP = "page"  # widget values survive switching between the two views, not pages
MAX_ROWS = 16
VALUES = 7  # images per row: -3 … +3
THUMB = 64  # a grid image, pixels
NEIGHBOURS = 6  # nearest real images of an analogy


# -- the link ----------------------------------------------------------------------------------------
def _classes(ctx: Ctx) -> list[int]:
    return sorted({int(c) for c in np.unique(ctx.enc.labels)})


def _term_param(key: str, prefix: str, what: str) -> Param:
    """A code picked as a class mean ("mean:7") or an image ("123") (vae.explore.analogies.Term)."""

    def parse(text: str, ctx) -> dict:
        try:
            term = Term.parse(text)
        except ValueError:
            raise LinkError(_("it is not an image index (123) or a class mean (mean:7)")) from None
        if term.kind == "image":
            if term.value >= len(ctx.enc):
                raise LinkError(_("it is outside {lo} to {hi}").format(lo=0, hi=len(ctx.enc) - 1))
            return {f"{prefix}_kind": "image", f"{prefix}_index": term.value}
        if term.value not in _classes(ctx):
            raise LinkError(_("the explore set has no image of class {c}").format(c=term.value))
        return {f"{prefix}_kind": "mean", f"{prefix}_class": term.value}

    def dump(ctx) -> str | None:
        term = _term_state(prefix)
        return None if term is None else str(term)

    return Param(key, what, parse, dump, states=(f"{prefix}_kind", f"{prefix}_index", f"{prefix}_class"))


def _term_state(prefix: str) -> Term | None:
    kind = st.session_state.get(f"{prefix}_kind")
    value = st.session_state.get(f"{prefix}_{'index' if kind == 'image' else 'class'}")
    return None if kind is None or value is None else Term(kind, int(value))


def _to_parse(text: str, ctx) -> dict:
    if text == ALL:
        return {"dir_to": ALL}
    c = link.parse_int(text, 0, len(ctx.class_names) - 1)
    if c not in _classes(ctx):
        raise LinkError(_("the explore set has no image of class {c}").format(c=c))
    return {"dir_to": c}


def _row_parse(text: str, ctx) -> dict:
    return {"dir_row": linked_key(text, ctx, _("it is not latent:D, pca:K, sefa:K or class:A:B"))}


def _sources(ctx) -> list[str]:
    return [s for s in SOURCES if s != "sefa" or not isinstance(directions(ctx, "sefa"), str)]


PARAMS = link.declare("directions", [
    one_of("tab", "dir_tab", N_("tab"), list(TABS)),
    one_of("source", "dir_source", N_("source of directions"), _sources),
    integer("from", "dir_from", N_("from class"), 0, lambda ctx: len(ctx.class_names) - 1),
    Param("to", N_("to class"), _to_parse, lambda ctx: None if st.session_state.get("dir_to") is None
          else str(st.session_state["dir_to"]), states=("dir_to",)),
    _term_param("start", "dir_start", N_("start code")),
    integer("rows", "dir_rows", N_("number of rows"), 1, MAX_ROWS),
    one_of("sort", "dir_sort", N_("order"), list(SORTS)),
    number("reach", "dir_reach", N_("range"), 1.0, 4.0),
    Param("row", N_("chosen direction"), _row_parse, lambda ctx: st.session_state.get("dir_row"),
          states=("dir_row",)),
    _term_param("a", "dir_a", N_("analogy input a")),
    _term_param("b", "dir_b", N_("analogy input b")),
    _term_param("c", "dir_c", N_("analogy input c")),
])


@nav.page("directions")
def main() -> None:
    ctx = get_ctx()
    link.restore("directions", ctx)
    st.title(_("Directions"))
    st.caption(_("Every direction of a source as a row of decoded images, named by what changes along it and "
                 "ranked by its effect; pick one to steer it on Sliders or walk it on Interpolate. Or add and "
                 "subtract codes: a − b + c."))
    if st.session_state.get("dir_tab") not in TABS:
        st.session_state["dir_tab"] = "grid"
    tab = st.segmented_control(_("View"), list(TABS), format_func=lambda t: _(TABS[t]), key="dir_tab",
                               label_visibility="collapsed", required=True)
    if tab == "analogy":
        analogies(ctx)
    else:
        grid(ctx)
    link.sync("directions", ctx)


# -- picking a code ------------------------------------------------------------------------------------
def _pick_term(ctx: Ctx, prefix: str, label: str, default: Term) -> Term:
    """A class mean or an image, picked in two widgets; returns it as a Term."""
    classes = _classes(ctx)
    st.session_state.setdefault(f"{prefix}_kind", default.kind)
    if st.session_state.get(f"{prefix}_class") not in classes:
        st.session_state[f"{prefix}_class"] = default.value if default.kind == "mean" else classes[0]
    n = len(ctx.enc)
    index = st.session_state.get(f"{prefix}_index")
    if index is None or not 0 <= int(index) < n:
        st.session_state[f"{prefix}_index"] = default.value if default.kind == "image" else 0
    kind = st.radio(label, list(TERM_KINDS), format_func=lambda k: _(TERM_KINDS[k]), horizontal=True,
                    persist_state=KEEP, key=f"{prefix}_kind")
    if kind == "mean":
        c = st.selectbox(_("Class"), classes, format_func=lambda c: ctx.class_names[c], persist_state=KEEP,
                         key=f"{prefix}_class",
                         label_visibility="collapsed")
        return Term("mean", int(c))
    i = st.number_input(_("Image index"), 0, n - 1, step=1, persist_state=KEEP, key=f"{prefix}_index",
                        label_visibility="collapsed",
                        help=_("0 … {last}: an image of the {split} split").format(last=n - 1, split=ctx.split_label))
    return Term("image", int(i))


def _term_label(ctx: Ctx, term: Term) -> str:
    if term.kind == "mean":
        return _("mean of {cls}").format(cls=ctx.class_names[term.value])
    return f"#{term.value} {ctx.class_name(term.value)}"


# -- the grid of traversals --------------------------------------------------------------------------
def _direction_label(ctx: Ctx, d: Direction) -> str:
    """z3, PC2, SeFa1 or "T-shirt/top → Coat" (class names in the session's language)."""
    if d.kind == "class":
        a, b = d.index
        return _("{a} → {b}").format(a=ctx.class_names[a], b=ctx.class_names[b])
    return d.label


def _effect_label(d: Direction, share: float) -> str:
    if d.kind == "latent":
        return _("KL {kl:.2f} nats").format(kl=d.effect)
    if d.kind == "pca":
        return _("variance {v:.3g} ({share} of it)").format(v=d.effect, share=f"{100 * share:.1f}%")
    if d.kind == "sefa":
        return _("eigenvalue {v:.3g} ({share} of their sum)").format(v=d.effect, share=f"{100 * share:.1f}%")
    return _("length ‖v‖ = {v:.2f}").format(v=d.effect)


def _source_pickers(ctx: Ctx) -> tuple[str, tuple[int, int | None] | None]:
    """The source, and for class directions the pair of classes (to: None for every other class)."""
    options = _sources(ctx)
    if st.session_state.get("dir_source") not in options:
        st.session_state["dir_source"] = "latent"
    source = st.radio(_("Source of directions"), options, format_func=lambda s: _(SOURCES[s]), horizontal=True,
                      persist_state=KEEP, key="dir_source",
                      help=_("Latent dimensions, ranked by average KL; principal directions of the encoded images, "
                             "by variance; SeFa, the eigenvectors of AᵀA for the decoder's first layer A, by "
                             "eigenvalue; class to class, the mean code of one class minus another's, by length."))
    if "sefa" not in options:
        st.caption(directions(ctx, "sefa"))
    if source != "class":
        return source, None
    classes = _classes(ctx)
    if len(classes) < 2:
        st.info(_("Attribute vectors need at least two classes in the explore set; this one has one."))
        st.stop()
    if st.session_state.get("dir_from") not in classes:
        st.session_state["dir_from"] = classes[0]
    c1, c2 = st.columns(2)
    a = int(c1.selectbox(_("From class"), classes, format_func=lambda c: ctx.class_names[c], persist_state=KEEP,
                         key="dir_from"))
    targets = [ALL] + [c for c in classes if c != a]
    if st.session_state.get("dir_to") not in targets:
        st.session_state["dir_to"] = ALL
    b = c2.selectbox(_("To class"), targets, persist_state=KEEP, key="dir_to",
                     format_func=lambda c: _("every other class") if c == ALL else ctx.class_names[c])
    return source, (a, None if b == ALL else int(b))


def _names(ctx: Ctx, source: str, dirs: list[Direction]) -> list[str]:
    """Each direction's name, in the session's language (the Sliders page's names for the same directions)."""
    if source == "class":
        return [n.text(_) for n in class_direction_names(ctx, dirs)]
    by_index = slider_names(ctx, source)
    return [by_index[int(d.index)].text(_) for d in dirs]


def grid(ctx: Ctx) -> None:
    """The source and start, the grid (one decode for every image), the chosen row and where it opens."""
    source, pair = _source_pickers(ctx)
    dirs = directions(ctx, source, pair)
    if isinstance(dirs, str):
        st.error(dirs)
        return
    names = _names(ctx, source, dirs)
    share = shares(dirs)
    c1, c2, c3, c4 = st.columns([1.6, 1, 1, 1], gap="medium")
    with c1:
        default = Term("mean", pair[0]) if pair else Term("mean", _classes(ctx)[0])
        start_term = _pick_term(ctx, "dir_start", _("Start from"), default)
    with c2:
        st.session_state.setdefault("dir_rows", 8)
        n_rows = min(len(dirs), int(st.number_input(_("Rows"), 1, MAX_ROWS, persist_state=KEEP, key="dir_rows",
                                                    help=_("How many directions to show, from the top of the order."))))
    with c3:
        st.session_state.setdefault("dir_sort", "effect")
        by = st.radio(_("Order by"), list(SORTS), format_func=lambda s: _(SORTS[s]), horizontal=True,
                      persist_state=KEEP, key="dir_sort")
    with c4:
        st.session_state.setdefault("dir_reach", NAME_AT)
        reach = float(st.slider(_("Range ±"), 1.0, 4.0, step=0.5, persist_state=KEEP, key="dir_reach",
                                help=_("Latent dimensions are set to −r … +r; other directions step r units from "
                                       "the start (a class direction: ±3 is one whole class difference).")))
    start = start_term.code(ctx.enc.mu, ctx.enc.labels)
    order = rank(dirs, names, by)[:n_rows]
    shown = [dirs[i] for i in order]
    values = np.linspace(-reach, reach, VALUES).astype(np.float32)
    images = ctx.decode(traversal_grid(start, shown, values))  # (rows * VALUES, C, H, W): one decode
    st.caption(_("Start: {start}. Each row moves it along one direction, from −{r:g} (left) to +{r:g} (right); the "
                 "middle image is the start.").format(start=_term_label(ctx, start_term), r=reach))
    chosen = _chosen_key(dirs, shown)
    for row, i in enumerate(order):
        d = dirs[i]
        label, pics = st.columns([1.8, 4], vertical_alignment="center")
        mark = "▶ " if str(key_of(d)) == chosen else ""
        label.markdown(f"{mark}**{_direction_label(ctx, d)}** · {_effect_label(d, share[i])}  \n{names[i]}")
        strip = side_by_side(list(images[row * VALUES:(row + 1) * VALUES]), THUMB)  # one picture: it shrinks
        pics.image(strip, width=strip.shape[1], output_format="PNG",  # on a phone instead of wrapping
                   caption=_("left to right: {values}").format(values="  ".join(f"{v:+g}" for v in values))
                   if row == 0 else None)
    st.download_button(_("Traversal grid (PNG)"), png_bytes(image_grid(images, ncol=VALUES, scale=3)),
                       file_name=f"{ctx.name}-{source}-directions.png", mime="image/png", key="dir_dl_grid",
                       on_click="ignore", icon=":material/image:")
    _open_row(ctx, dirs, names, start_term, start, reach)


def _chosen_key(dirs: list[Direction], shown: list[Direction]) -> str:
    """The chosen row's key: the link's or the widget's when it is one of this source's, else the top row's."""
    keys = [str(key_of(d)) for d in dirs]
    if st.session_state.get("dir_row") not in keys:
        st.session_state["dir_row"] = str(key_of(shown[0]))
    return st.session_state["dir_row"]


def _open_row(ctx: Ctx, dirs: list[Direction], names: list[str], start_term: Term, start: np.ndarray,
              reach: float) -> None:
    """Pick a direction, then open it on Sliders (as a slider of its own), on Interpolate (start to +r) or on the
    Map (drawn along it)."""
    keys = [str(key_of(d)) for d in dirs]
    by_key = dict(zip(keys, range(len(dirs)), strict=True))
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    key = c1.selectbox(_("Direction"), keys, persist_state=KEEP, key="dir_row",
                       format_func=lambda k: f"{_direction_label(ctx, dirs[by_key[k]])} · {names[by_key[k]]}")
    d = dirs[by_key[key]]
    where = {"image": str(start_term.value)} if start_term.kind == "image" else {"z": encode_code(start)}
    if c2.button(_("Open on Sliders"), key="dir_to_sliders", icon=":material/tune:", width="stretch",
                 help=_("The Sliders page starts from this start code, with this direction as a slider of its own.")):
        link.forget()
        nav.switch("sliders", {"dir": key, **where})
    if c3.button(_("Open on Interpolate"), key="dir_to_interp", icon=":material/timeline:", width="stretch",
                 help=_("A path from the start code to where this direction takes it at +{r:g}.").format(r=reach)):
        end = moved(start, d, np.array([reach], np.float32))[0]
        a = str(start_term.value) if start_term.kind == "image" else f"z:{encode_code(start)}"
        link.forget()
        nav.switch("interpolate", {"tab": "path", "a": a, "b": f"z:{encode_code(end)}"})
    if c4.button(_("Open on the Map"), key="dir_to_map", icon=":material/map:", width="stretch",
                 help=_("The map with this direction as its x axis: each image placed by how far along it its code "
                        "is (y: the widest spread left).")):
        link.forget()
        nav.switch("map", {"axis": key})


# -- analogies -----------------------------------------------------------------------------------------
def _default_terms(ctx: Ctx) -> tuple[Term, Term, Term]:
    """The point picked on the Map, minus its class, plus another ("this one, as ..."); else "this sandal, as a
    boot" where the data set has both; else the first image, its class, another class."""
    names, classes = list(ctx.data.class_names), _classes(ctx)
    picked = selected_index(ctx)
    if picked is not None:
        c0 = int(ctx.enc.labels[picked])
        other = next((c for c in classes if c != c0), c0)
        return Term("image", int(picked)), Term("mean", c0), Term("mean", other)
    pair = ("Sandal", "Ankle boot")
    if set(pair) <= set(names) and {names.index(n) for n in pair} <= set(classes):
        s, b = names.index("Sandal"), names.index("Ankle boot")
        return Term("image", int(np.flatnonzero(ctx.enc.labels == s)[0])), Term("mean", s), Term("mean", b)
    c0 = int(ctx.enc.labels[0])
    other = next((c for c in classes if c != c0), c0)
    return Term("image", 0), Term("mean", c0), Term("mean", other)


@st.cache_resource(show_spinner=False, max_entries=8)
def _knn(name: str, content_hash: str, split: str, limit: int | None, _mu: np.ndarray) -> ExactKnn:
    return ExactKnn(_mu)


def analogies(ctx: Ctx) -> None:
    """a − b + c: the three codes, the result decoded beside them, and its nearest real images."""
    st.caption(_("Pick three codes, each a class mean or an image: the result is a − b + c. \"This sandal, as a "
                 "boot\": a sandal image − the mean of sandals + the mean of ankle boots."))
    da, db, dc = _default_terms(ctx)
    cols = st.columns(3, gap="medium")
    terms = []
    for col, (prefix, letter, default) in zip(cols, [("dir_a", "a", da), ("dir_b", "b", db), ("dir_c", "c", dc)],
                                              strict=True):
        with col:
            terms.append(_pick_term(ctx, prefix, f"**{letter}**", default))
    out = analogy(*terms, ctx.enc.mu, ctx.enc.labels, k=NEIGHBOURS,
                  index=_knn(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, ctx.enc.mu))
    decoded = ctx.decode(np.concatenate([out.codes, out.result[None]]))  # (4, C, H, W)
    st.markdown(_("**{a}** − **{b}** + **{c}**").format(a=_term_label(ctx, terms[0]), b=_term_label(ctx, terms[1]),
                                                        c=_term_label(ctx, terms[2])))
    parts = st.columns(4)
    for col, img, cap in zip(parts, decoded, ["a", "b", "c", _("a − b + c")], strict=True):
        with col:
            show_image(img, cap, 120)
    st.caption(_("Each input decoded from its code (an image's posterior mean μ, or a class's mean μ), and the "
                 "result decoded."))
    near, where = st.columns([3, 2], gap="medium")
    with near:
        st.markdown(_("**The nearest real images** to the result (latent space, Euclidean distance between μ):"))
        show_images(ctx.data.images[out.nearest],
                    [f"#{int(j)} {ctx.class_name(int(j))} · {dist:.2f}" for j, dist in zip(out.nearest, out.distances,
                                                                                            strict=True)], 88)
    with where:  # the four codes placed on the model's map by its fast map (vae.explore.projection.LatentMap)
        bundle = ctx.map()
        xy = bundle.latent_map.to_map(np.concatenate([out.codes, out.result[None]]))  # a, b, c, the result
        show_image(ctx.minimap().render(xy[3], trail=[xy[1], xy[2]], start=xy[0]),
                   _("On the {map} map: a (○), the result (★), and the line from b to c: what was added.").format(
                       map=bundle.label), size=0, inline=True)
    counts = {}
    for j in out.nearest:
        counts[ctx.class_name(int(j))] = counts.get(ctx.class_name(int(j)), 0) + 1
    top, n = max(counts.items(), key=lambda kv: kv[1])
    st.caption(_("{n} of the {k} nearest images are {cls}.").format(n=n, k=len(out.nearest), cls=top))
