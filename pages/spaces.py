"""Two latent spaces: two checkpoints of the same data, their maps side by side (B aligned onto A by
Procrustes), a selection in one lit up in the other, and a summary table on the same images.

The maths is vae.explore.spaces; the selection's link text is vae.explore.index_text. A chart keeps its
figure while it holds the user's own selection (Streamlit names a chart after its figure: a changed
figure is a new chart, which drops the selection just made); the other chart is drawn with that
selection built in (vae.explore.figures.select_points). Which chart's selection is the newest is told by
comparing each chart's selection with the one it held on the previous run.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._i18n import N_, _, tr, tr_fig
from pages._link import LinkError, Param, one_of
from pages._widgets import show_images
from vae.errors import CheckpointError, DataError
from vae.explore import index_text
from vae.explore.figures import KIND_DATA, grouped_bars, latent_map, point_ref, select_points
from vae.explore.projection import METHOD_LABELS
from vae.explore.sets import default_projection
from vae.explore.spaces import PairError, Space, SpacesComparison, check_pair, compare_spaces, has_elbo

DEFAULT_PAIR = ("fashion-mnist", "fashion-mnist-beta4")
SPLIT = "test"  # the images both models encode
SIDES = ("a", "b")
MAP_HEIGHT = 460
SHOWN = 12  # images of a selection shown
THUMB_PX = 56


# -- the link -------------------------------------------------------------------------------------
def names() -> list[str]:
    """The checkpoints that load, in the sidebar's order."""
    return [e["name"] for e in loaders.checkpoint_entries() if e["error"] is None]


def _images() -> int:
    """How many images the link's first checkpoint (or this session's) compares, for ``sel``'s check."""
    name = st.session_state.get("sp_a") or DEFAULT_PAIR[0]
    try:
        ck = loaders.get_checkpoint(name)
        return len(loaders.load_data(name, ck.content_hash, SPLIT, None))
    except (CheckpointError, DataError, OSError):
        raise LinkError(_("the first checkpoint's images are not on this machine")) from None


def _sel_parse(text: str, ctx) -> dict:
    n = _images()
    try:
        idx = index_text.parse(text, n)
    except ValueError as e:
        raise LinkError(tr(e.args[0])) from None
    return {"sp_sel": index_text.text(idx, n), "sp_src": None}


PARAMS = link.declare("spaces", [
    one_of("a", "sp_a", N_("first checkpoint"), lambda ctx: names()),
    one_of("b", "sp_b", N_("second checkpoint"), lambda ctx: names()),
    Param("sel", N_("selected images"), _sel_parse, lambda ctx: st.session_state.get("sp_sel") or None,
          states=("sp_sel", "sp_src")),
])


# -- the computation, cached for every session ---------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _compare(name_a: str, hash_a: str, name_b: str, hash_b: str) -> tuple[SpacesComparison, np.ndarray, list[str]]:
    """The comparison of the two checkpoints on the test split, map A's coordinates and each map's
    projection method (never mutated)."""
    spaces, methods = [], []
    for name, h in ((name_a, hash_a), (name_b, hash_b)):
        ck = loaders.get_checkpoint(name)
        enc = loaders.load_encoding(name, h, SPLIT, None, "cpu")
        cfg = default_projection(ck, len(enc))
        bundle = loaders.load_map(name, h, SPLIT, None, cfg)
        spaces.append(Space.of(name, enc, bundle.coords, has_elbo(ck.model)))
        methods.append(cfg.method)
    return compare_spaces(spaces[0], spaces[1]), spaces[0].coords, methods


# -- the page -------------------------------------------------------------------------------------
@nav.page("spaces")
def main() -> None:
    link.restore("spaces")
    st.title(_("Two latent spaces"))
    st.caption(_("Two models of the same data encode the same test images. Their maps side by side, the second "
                 "turned, scaled and shifted onto the first (a Procrustes analysis); select images in one map and "
                 "they light up in the other; below, what each model makes of these images, measured on the same "
                 "images."))
    pair = _pickers()
    if pair is None:
        return
    (name_a, ck_a), (name_b, ck_b) = pair
    with st.spinner(_("Comparing the two latent spaces on the test images (once; then cached)…")):
        cmp, coords_a, methods = _compare(name_a, ck_a.content_hash, name_b, ck_b.content_hash)
    data = loaders.load_data(name_a, ck_a.content_hash, SPLIT, None)
    n = len(data)
    sel = _linked_selection(n, (name_a, name_b))
    _maps(cmp, coords_a, data, sel, (name_a, name_b), [_(METHOD_LABELS[m]) for m in methods])
    _panel(cmp, data, sel)
    _summary(cmp)
    link.sync("spaces")


def _pickers() -> tuple[tuple, tuple] | None:
    """The two checkpoint pickers; the pair, loaded, or None (with a message saying why it cannot be compared)."""
    available = names()
    if len(available) < 2:
        st.info(_("Comparing needs two checkpoints of the same data under checkpoints/; there is {n}. Train "
                  "another (Train page) or import one (`python -m vae import`).").format(n=len(available)))
        return None
    for key, default in zip(("sp_a", "sp_b"), DEFAULT_PAIR, strict=True):
        if st.session_state.get(key) not in available:
            st.session_state[key] = default if default in available else available[key == "sp_b"]
    cols = st.columns(2)
    name_a = cols[0].selectbox(_("Model A"), available, key="sp_a")
    name_b = cols[1].selectbox(_("Model B (aligned onto A)"), available, key="sp_b")
    if name_a == name_b:
        st.info(_("Choose two different checkpoints: **{name}** against itself has nothing to compare. "
                  "`fashion-mnist` against `fashion-mnist-beta4` is a good first pair.").format(name=name_a))
        return None
    cks = [loaders.get_checkpoint(n) for n in (name_a, name_b)]
    try:
        check_pair(name_a, cks[0].dataset, cks[0].config.image_shape, name_b, cks[1].dataset,
                   cks[1].config.image_shape)
    except PairError as e:
        st.error(tr(e.args[0]), icon=":material/block:")
        return None
    problem = loaders.data_problem(cks[0].dataset)
    if problem:
        st.error(_("**{name}** cannot be compared here: {problem}.").format(name=name_a, problem=problem))
        return None
    for name, ck in zip((name_a, name_b), cks, strict=True):
        c = ck.config
        cols[name == name_b].caption(_("{arch} · latent {d} · β = {beta:g}").format(arch=c.arch, d=c.latent_dim,
                                                                                beta=c.beta))
    return (name_a, cks[0]), (name_b, cks[1])


# -- the linked selection -------------------------------------------------------------------------
def _own(side: str) -> list[int] | None:
    """The data points the chart's own selection (made in the browser) holds; None: it holds none."""
    state = st.session_state.get(f"sp_map_{side}")
    try:
        sel = state["selection"]
        points, shapes = list(sel["points"]), bool(sel.get("box") or sel.get("lasso"))
    except (KeyError, TypeError, AttributeError):
        return None
    refs = [point_ref(p) for p in points]
    idx = sorted({r[1] for r in refs if r is not None and r[0] == KIND_DATA})
    return idx if idx or shapes else None


def _digest(idx: list[int] | None) -> str | None:
    return None if idx is None else hashlib.sha1(np.asarray(idx, np.int64).tobytes()).hexdigest()


def _linked_selection(n: int, view: tuple) -> np.ndarray | None:
    """The selection both maps show (None: none; empty: a shape around no image), from the chart where it
    was made most recently, or from the link; pins what each chart's figure is built with."""
    seen = st.session_state.setdefault("sp_seen", {})
    own = {s: _own(s) for s in SIDES}
    for s in SIDES:
        d = _digest(own[s])
        if seen.get(s) != d:
            seen[s] = d
            # a new selection made in chart s, or s's own cleared (a chart redrawn by the page loses its
            # own selection too: that one is no news)
            if own[s] is not None or st.session_state.get("sp_src") == s:
                st.session_state["sp_sel"] = None if own[s] is None else index_text.text(own[s], n)
                st.session_state["sp_src"] = s
    text = st.session_state.get("sp_sel")
    try:
        sel = None if text is None else index_text.parse(text, n)
    except ValueError:  # written for another number of images: none
        sel, st.session_state["sp_sel"] = None, None
    pins = st.session_state.setdefault("sp_pin", {})
    for s in SIDES:
        pin = pins.get(s)
        keeps = pin is not None and pin["view"] == list(view) and own[s] is not None
        if keeps and st.session_state.get("sp_src") == s:
            continue  # the user's own selection is on this chart: its figure stays
        if pin is not None and pin["view"] != list(view) and st.session_state.get("sp_src") == s:
            st.session_state["sp_src"] = None  # a redrawn chart drops its selection; the page keeps it
        pins[s] = {"view": list(view), "sel": text}
    return sel


# -- the maps ------------------------------------------------------------------------------------
def _figure(coords: np.ndarray, labels: np.ndarray, class_names: list[str], pinned: str | None, n: int):
    chosen = None if pinned is None else index_text.parse(pinned, n)
    ring = chosen.tolist() if chosen is not None and len(chosen) == 1 else ()
    fig = latent_map(coords, labels, class_names, height=MAP_HEIGHT, marker_size=5 if presenter.on() else 3,
                     highlight=ring, font=presenter.font(12))
    select_points(fig, chosen)
    fig.update_layout(dragmode="select", margin=dict(t=34), legend=dict(orientation="h", y=-0.02, yanchor="top"))
    return tr_fig(fig)


def _maps(cmp: SpacesComparison, coords_a: np.ndarray, data, sel, names_ab: tuple[str, str],
          map_labels: list[str]) -> None:
    """Map A and map B (aligned onto A) side by side; on a phone, one above the other."""
    class_names = [_(c) for c in data.class_names]
    labels = data.labels.numpy()
    n = len(labels)
    pins = st.session_state["sp_pin"]
    label_a, label_b = map_labels
    al = cmp.alignment
    cols = st.columns(2)
    for col, s, coords, title in ((cols[0], "a", coords_a, f"**A · {names_ab[0]}** · {label_a}"),
                                  (cols[1], "b", al.aligned, f"**B · {names_ab[1]}** · {label_b}")):
        with col:
            st.markdown(title)
            with st.container(key=f"sp_box_{s}"):  # both with their legends: the two maps line up
                st.plotly_chart(_figure(coords, labels, class_names, pins[s]["sel"], n),
                                key=f"sp_map_{s}", on_select="rerun", selection_mode=("points", "box", "lasso"),
                                config={"scrollZoom": True, "displaylogo": False, "displayModeBar": True})
    how = (_("Map B is turned, mirrored, scaled and shifted onto map A (a Procrustes analysis of the {n:,} "
             "images' positions; disparity {d:.3f}: 0 is the same layout, 1 nothing in common).") if al.mirrored else
           _("Map B is turned, scaled and shifted onto map A (a Procrustes analysis of the {n:,} images' "
             "positions; disparity {d:.3f}: 0 is the same layout, 1 nothing in common).")).format(n=n, d=al.disparity)
    st.caption(_("Drag a box (or pick the lasso in the toolbar) in either map: the same images light up in the "
                 "other, the rest turn grey. Pick **Pan** (the cross of arrows) to click one image instead; "
                 "double-click a map to clear.") + " " + how)


def _panel(cmp: SpacesComparison, data, sel: np.ndarray | None) -> None:
    """The selected images: one picked image in both spaces, or a selection's classes and images."""
    if sel is None:
        return
    if not len(sel):
        st.info(_("No image lies inside the shape: draw it around some points."))
        return
    names = [_(c) for c in data.class_names]
    labels = data.labels.numpy()
    k = cmp.k
    if len(sel) == 1:
        i = int(sel[0])
        st.subheader(f"#{i} {names[labels[i]]}")
        cols = st.columns([1, 3])
        with cols[0]:
            show_images(data.images[[i]], size=presenter.px(112))
        with cols[1]:
            st.metric(_("Shared neighbours"), _("{n} of {k}").format(n=int(cmp.shared[i]), k=k),
                      help=_("How many of this image's {k} nearest images in A's latent space (μ) are also among "
                             "its {k} nearest in B's; ★ marks them.").format(k=k))
        both = set(cmp.neighbours_a[i].tolist()) & set(cmp.neighbours_b[i].tolist())
        for label, nn in ((_("**Its nearest images in A:**"), cmp.neighbours_a[i]),
                          (_("**Its nearest images in B:**"), cmp.neighbours_b[i])):
            st.markdown(label)
            show_images(data.images[nn], [("★ " if j in both else "") + f"#{j} {names[labels[j]]}" for j in nn.tolist()],
                        size=presenter.px(THUMB_PX))
        return
    st.subheader(_("{n:,} images selected").format(n=len(sel)))
    counts = np.bincount(labels[sel], minlength=len(names))
    st.caption(" · ".join(f"{names[c]}: {m}" for c, m in enumerate(counts) if m))
    st.metric(_("Shared neighbours, these images"),
              f"{float(cmp.shared[sel].mean()):.1f} / {k}",
              help=_("Over all {n:,} images: {x:.2f} of {k}.").format(n=len(cmp.shared), x=cmp.mean_shared, k=k))
    show = sel[:SHOWN]
    show_images(data.images[show], [f"#{j} {names[labels[j]]}" for j in show.tolist()], size=presenter.px(THUMB_PX),
                label=_("The first {k} of them:").format(k=len(show)))


# -- the summary ---------------------------------------------------------------------------------
def table(cmp: SpacesComparison) -> pd.DataFrame:
    """The summary table as the page shows it: one row per measure, one column per model."""
    def elbo(v):
        return "—" if v is None else f"{v:.1f}"

    rows = [
        (_("latent dimensions"), lambda s: str(s.latent_dim)),
        (_("reconstruction error (MSE per pixel)"), lambda s: f"{s.recon_mse:.4f}"),
        (_("−ELBO (nats per image)"), lambda s: elbo(s.neg_elbo)),
        (_("k-NN class accuracy in μ space (k = {k})").format(k=cmp.config.knn_k), lambda s: f"{s.knn_accuracy:.1%}"),
        (_("active units (Var(μ_j) > {t:g})").format(t=cmp.config.active_threshold),
         lambda s: f"{s.active_units} / {s.latent_dim}"),
        (_("trustworthiness of its map (k = {k})").format(k=cmp.k), lambda s: f"{s.trustworthiness:.3f}"),
    ]
    return pd.DataFrame({"": [r[0] for r in rows], f"A · {cmp.a.name}": [r[1](cmp.a) for r in rows],
                         f"B · {cmp.b.name}": [r[1](cmp.b) for r in rows]})


def _summary(cmp: SpacesComparison) -> None:
    st.header(_("The two spaces on the same {n:,} images").format(n=len(cmp.shared)))
    cols = st.columns([3, 2])
    with cols[0]:
        st.table(table(cmp).set_index(""))  # a static table: its text wraps on a narrow screen
    with cols[1]:
        st.metric(_("Shared neighbours, all images"), f"{cmp.mean_shared:.2f} / {cmp.k}",
                  help=_("For each image, how many of its {k} nearest images in A's latent space (μ) are also among "
                         "its {k} nearest in B's. Drawn at random: {chance:.2f}.").format(k=cmp.k, chance=cmp.chance))
        hist = cmp.shared_histogram()
        st.plotly_chart(grouped_bars([str(v) for v in range(len(hist))], {_("images"): hist.tolist()}, height=220,
                                     y_title=_("images")).update_layout(showlegend=False,
                                                                        xaxis_title=_("neighbours shared")),
                        key="sp_shared_hist", config={"displayModeBar": False})
    secs = sum(cmp.seconds.values())
    st.caption(_("All on the {n:,} test images both models encoded. Reconstruction error: the posterior mean's "
                 "reconstruction. k-NN accuracy: each image classified by the vote of its nearest other images "
                 "(the evaluation's figure fits the classifier on the train split instead). −ELBO: — where the model "
                 "defines none (an imported model without a likelihood). Trustworthiness: how far a map's near "
                 "neighbours are near in μ space too (1: always). Computed in {s:.1f} s.").format(n=len(cmp.shared),
                                                                                                   s=secs))
