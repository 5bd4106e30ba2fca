"""Interpolate: walk between two codes, traverse single dimensions, move along attribute vectors.

Three tabs, run lazily (only the open tab computes). Widget values persist while the user stays on
this page. Images are sent as PNG and upscaled with nearest-neighbour, so pixels stay crisp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from components import live_decoder
from pages import _link as link
from pages import _live as live
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx, map_methods, selected_index
from pages._i18n import N_, _, tr_fig
from pages._link import LinkError, Param, integer, number, one_of, parse_int
from pages._widgets import encode_code, parse_code, show_image, show_images
from vae.data.images import gif_bytes, image_grid, png_bytes, upscale
from vae.explore.figures import mini_map, png_data_uri
from vae.explore.latent import (
    attribute_vector,
    class_means,
    dims_by_kl,
    lerp,
    path_point,
    prior_samples,
    slerp,
    traversal_codes,
)
from vae.explore.projection import METHOD_LABELS, ProjectionConfig
from vae.explore.sets import default_projection

TABS = [N_("Interpolation"), N_("Traversals"), N_("Attribute vectors")]  # shown (and kept in state) translated
KINDS = {"index": N_("by index"), "class": N_("by class"), "prior": N_("random prior sample")}
CODE_KIND = {"code": N_("the code in the link")}  # offered while an end holds a code from a link (z:...)
EXPORT_PX = 112  # exported frames are upscaled to about this many pixels
KEEP = "page"  # widget values survive switching tabs, not pages
SCRUB_PX = 196  # the scrubbed image, pixels
STRENGTHS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]  # an attribute vector's row
TAB_NAMES = {"path": "Interpolation", "traversals": "Traversals", "attributes": "Attribute vectors"}  # in the link


# -- the link ----------------------------------------------------------------------------------------
def _end_param(tag: str) -> Param:
    """End A or B of the path, as the link writes it: "123" (an image), "class:7:mean" (the mean code of
    class 7), "class:7:3" (a random member of class 7, seed 3), "prior:5" (a prior sample, seed 5)."""
    t = tag.lower()

    def parse(text: str, ctx) -> dict:
        parts = str(text).strip().split(":")
        classes = sorted({int(c) for c in set(ctx.enc.labels.tolist())})
        if parts[0] == "z" and len(parts) == 2:  # a code, e.g. from the Directions page
            code, problem = parse_code(parts[1], ctx.latent_dim, 10.0)
            if problem:
                raise LinkError(problem)
            return {f"interp_{t}_kind": "code", f"interp_{t}_code": [float(v) for v in code]}
        if len(parts) == 1:
            return {f"interp_{t}_kind": "index", f"interp_{t}_index": parse_int(parts[0], 0, len(ctx.enc) - 1)}
        if parts[0] == "prior" and len(parts) == 2:
            return {f"interp_{t}_kind": "prior", f"interp_{t}_prior_seed": parse_int(parts[1], 0, 1_000_000)}
        if parts[0] == "class" and len(parts) == 3:
            c = parse_int(parts[1], 0, len(ctx.class_names) - 1)
            if c not in classes:
                raise LinkError(_("the explore set has no image of class {c}").format(c=c))
            if parts[2] == "mean":
                return {f"interp_{t}_kind": "class", f"interp_{t}_class": c, f"interp_{t}_how": "mean"}
            return {f"interp_{t}_kind": "class", f"interp_{t}_class": c, f"interp_{t}_how": "member",
                    f"interp_{t}_seed": parse_int(parts[2], 0, 1_000_000)}
        raise LinkError(_("it is not an image index, class:C:mean, class:C:SEED, prior:SEED or z:CODE"))

    def dump(ctx) -> str | None:
        def get(key: str, default=None):
            return st.session_state.get(f"interp_{t}_{key}", default)

        kind = get("kind")
        if kind == "index" and get("index") is not None:
            return str(int(get("index")))
        if kind == "prior" and get("prior_seed") is not None:
            return f"prior:{int(get('prior_seed'))}"
        if kind == "code" and get("code") is not None:
            return f"z:{encode_code(np.asarray(get('code'), np.float32))}"
        if kind == "class" and get("class") is not None:
            c = int(get("class"))
            return f"class:{c}:mean" if get("how", "member") == "mean" else f"class:{c}:{int(get('seed', 0))}"
        return None

    keys = ("kind", "index", "class", "how", "seed", "prior_seed", "code")
    what = {"A": N_("end A of the path"), "B": N_("end B of the path")}[tag]
    return Param(tag.lower(), what, parse, dump, states=tuple(f"interp_{t}_{k}" for k in keys))


PARAMS = link.declare("interpolate", [
    one_of("tab", "interp_tab", N_("tab"), list(TAB_NAMES.values()), aliases=TAB_NAMES),
    _end_param("A"),
    _end_param("B"),
    one_of("path", "interp_path", N_("path"), ["lerp", "slerp"]),
    integer("steps", "interp_steps", N_("number of steps"), 3, 20),
    number("t", "interp_scrub", N_("scrub position"), 0.0, 1.0),
    one_of("method", "interp_map", N_("map"), map_methods),
])


@nav.page("interpolate")
def main() -> None:
    """The page: the three tabs, each computed only while open."""
    ctx = get_ctx()
    link.restore("interpolate", ctx)
    _request_from_the_map(ctx)
    st.title(_("Interpolate"))
    st.caption(
        _("Decode the codes between two images, one latent dimension at a time, or along the direction "
          "that separates two classes. Every image on this page is the decoder's output for a code z "
          "(the posterior mean μ for data images); originals are marked as such.")
    )
    if st.session_state.get("interp_tab") not in [_(t) for t in TABS]:  # e.g. kept from the other language
        st.session_state.pop("interp_tab", None)
    tab_path, tab_trav, tab_attr = st.tabs([_(t) for t in TABS], key="interp_tab", on_change="rerun")
    with tab_path:
        if tab_path.open:
            interpolation(ctx)
    with tab_trav:
        if tab_trav.open:
            traversals(ctx)
    with tab_attr:
        if tab_attr.open:
            attributes(ctx)
    link.sync("interpolate", ctx)


def _request_from_the_map(ctx: Ctx) -> None:
    """The Map's "Interpolate from here": its image becomes end A, on the first tab."""
    request = st.session_state.pop("interp_a_request", None)
    if request is not None and 0 <= int(request) < len(ctx.enc):
        st.session_state["interp_a_kind"] = "index"
        st.session_state["interp_a_index"] = int(request)
        st.session_state["interp_tab"] = _(TABS[0])


# -- small helpers ------------------------------------------------------------------------------
def _img(img: torch.Tensor, caption: str | None = None, size: int = 168) -> None:
    """One image, larger in presenter mode."""
    show_image(img, caption, presenter.px(size))


def _row(images, captions: list[str] | None, size: int) -> None:
    """Images side by side, larger in presenter mode, wrapping onto more lines when the page is narrow."""
    show_images(images, captions, presenter.px(size))


def _export_scale(ctx: Ctx) -> int:
    """The upscaling of exported frames: about EXPORT_PX pixels."""
    return max(1, round(EXPORT_PX / int(ctx.ck.config.image_shape[1])))


def _classes(ctx: Ctx) -> list[int]:
    """The classes the explore set has images of."""
    return sorted({int(c) for c in np.unique(ctx.enc.labels)})


def _clamp(key: str, lo, hi) -> None:
    """Keep a remembered widget value inside its (model-dependent) bounds."""
    v = st.session_state.get(key)
    if v is not None and not (lo <= v <= hi):
        st.session_state[key] = min(max(v, lo), hi)


def _class_pick(ctx: Ctx, label: str, key: str, default: int) -> int:
    present = _classes(ctx)
    if st.session_state.get(key) not in present:
        st.session_state[key] = default if default in present else present[0]
    return int(st.selectbox(label, present, format_func=dict(enumerate(ctx.class_names)).get, key=key,
                            persist_state=KEEP))


def _index_pick(ctx: Ctx, label: str, key: str, default: int) -> int:
    n = len(ctx.enc)
    _clamp(key, 0, n - 1)
    st.session_state.setdefault(key, int(default))
    return int(st.number_input(label, 0, n - 1, step=1, key=key, persist_state=KEEP,
                               help=_("0 … {last}: an image of the {split} split").format(last=n - 1, split=ctx.split_label)))


def _member(ctx: Ctx, c: int, seed: int) -> int:
    """A seeded random image of class ``c``."""
    return int(np.random.default_rng(seed).choice(np.flatnonzero(ctx.enc.labels == c)))


def _nearest_class(z: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(M,) index of the closest class mean for each code (M, D); absent classes never win."""
    d = np.linalg.norm(np.atleast_2d(z)[:, None, :] - means[None], axis=2)
    return np.nanargmin(np.where(np.isnan(d), np.inf, d), axis=1)


# -- 1. interpolation between A and B ---------------------------------------------------------------
@dataclass
class End:
    """One end of the path."""

    z: np.ndarray  # (D,) the code
    image: torch.Tensor | None  # (C, H, W) the original, when the end is a data image
    index: int | None  # its index in the explore set
    label: str  # short description


def _endpoint(ctx: Ctx, tag: str, default_kind: str, default_index: int, default_class: int) -> End:
    t = tag.lower()
    st.session_state.setdefault(f"interp_{t}_kind", default_kind)
    code = st.session_state.get(f"interp_{t}_code")
    kinds = {**KINDS, **CODE_KIND} if code is not None and len(code) == ctx.latent_dim else KINDS
    if st.session_state.get(f"interp_{t}_kind") not in kinds:
        st.session_state[f"interp_{t}_kind"] = default_kind
    kind = st.radio(_("**{end}** is").format(end=tag), list(kinds), format_func={k: _(v) for k, v in kinds.items()}.get,
                    horizontal=True, key=f"interp_{t}_kind", persist_state=KEEP)
    if kind == "code":
        st.caption(_("‖z‖ = {norm:.2f}").format(norm=float(np.linalg.norm(code))))
        return End(np.asarray(code, np.float32), None, None, _("a code from the link"))
    if kind == "index":
        i = _index_pick(ctx, _("Image index"), f"interp_{t}_index", default_index)
        return End(ctx.enc.mu[i], ctx.data.images[i], i, f"#{i} {ctx.class_name(i)}")
    if kind == "class":
        c = _class_pick(ctx, _("Class"), f"interp_{t}_class", default_class)
        how = st.radio(_("Use"), ["member", "mean"], horizontal=True, key=f"interp_{t}_how", persist_state=KEEP,
                       format_func={"member": _("a random member"), "mean": _("the class mean code")}.get)
        if how == "mean":
            z = ctx.enc.mu[ctx.enc.labels == c].mean(0)
            return End(z.astype(np.float32), None, None, _("mean of {cls}").format(cls=ctx.class_names[c]))
        seed = int(st.number_input(_("Seed"), 0, 1_000_000, 0, key=f"interp_{t}_seed", persist_state=KEEP))
        i = _member(ctx, c, seed)
        return End(ctx.enc.mu[i], ctx.data.images[i], i, f"#{i} {ctx.class_name(i)}")
    seed = int(st.number_input(_("Seed"), 0, 1_000_000, 1 if t == "a" else 2, key=f"interp_{t}_prior_seed",
                               persist_state=KEEP))
    return End(prior_samples(1, ctx.latent_dim, seed=seed)[0], None, None,
               _("prior sample (seed {seed})").format(seed=seed))


def _scrub(ctx: Ctx, za: np.ndarray, zb: np.ndarray, kind: str) -> None:
    """A slider along the path; the page decodes every position while it moves (the server decodes
    where it is let go, which is what shows where the page cannot decode)."""
    scrub = _("Scrub along the path: t")  # also how the page's decoder finds the slider
    s1, s2 = st.columns([3, 2], gap="medium")
    with s1:
        t = float(st.slider(scrub, 0.0, 1.0, 0.5, step=0.01, key="interp_scrub", persist_state=KEEP,
                            help=_("0 is A, 1 is B; the image follows the thumb.")))
        st.caption(_("Drag the thumb: every position along the path is decoded as it moves."))
    with s2:
        px = presenter.px(SCRUB_PX)
        server = png_data_uri(png_bytes(Image.fromarray(upscale(ctx.decode(path_point(za, zb, t, kind)[None])[0],
                                                                 px))))
        urls, problem = live.model_urls(ctx.ck)
        if urls is None:
            st.image(server, caption=f"t = {t:.2f}")
            live.off_line(problem, _("The image is decoded on the server when you let go."))
            return
        live_decoder.mount("scrub", {
            "decoder": urls["decoder"], "image": live_decoder.image_spec(ctx.ck, px), "label": scrub,
            "t": t, "a": [float(v) for v in za], "b": [float(v) for v in zb], "kind": kind, "server": server,
            "text": {"caption": _("t = {t} (decoded in your browser)"), "server": f"t = {t:.2f}",
                     "off": _("Live decoding is off: {reason}. {what}").replace(
                         "{what}", _("The image is decoded on the server when you let go."))},
        }, key="interp_scrub_view")


def interpolation(ctx: Ctx) -> None:
    """The two ends and the path's settings, the decoded frames with the scrubber, the downloads, and
    the path on a map."""
    labels = ctx.enc.labels
    a_default = selected_index(ctx)
    a_default = 0 if a_default is None else a_default
    a_class = int(labels[a_default])
    other = np.flatnonzero(labels != a_class)
    b_default = int(other[0]) if len(other) else min(1, len(ctx.enc) - 1)
    c1, c2, c3 = st.columns([1, 1, 1], gap="medium")
    with c1:
        a = _endpoint(ctx, "A", "index", a_default, a_class)
    with c2:
        b = _endpoint(ctx, "B", "index", b_default, int(labels[b_default]))
    with c3:
        path_kind = st.radio(_("Path"), ["lerp", "slerp"], horizontal=True, key="interp_path", persist_state=KEEP,
                             format_func={"lerp": _("linear"), "slerp": _("spherical (slerp)")}.get,
                             help=_("Linear: a straight line. Spherical: a great-circle arc that keeps the "
                                    "length of z, as samples of N(0, I) have."))
        steps = int(st.slider(_("Steps (decoded frames)"), 3, 20, 9, key="interp_steps", persist_state=KEEP))
    codes = (slerp if path_kind == "slerp" else lerp)(a.z, b.z, steps)  # (steps, D)
    _filmstrip(ctx, a, b, codes, path_kind)
    st.subheader(_("The path in latent space"))
    _path_on_a_map(ctx, codes)


def _filmstrip(ctx: Ctx, a: End, b: End, codes: np.ndarray, path_kind: str) -> None:
    """The decoded frames between the two originals, the scrubber, PNG and GIF downloads."""
    steps = len(codes)
    frames = ctx.decode(codes)  # (steps, C, H, W)
    ts = np.linspace(0.0, 1.0, steps)
    strip = ([a.image] if a.image is not None else []) + list(frames) + ([b.image] if b.image is not None else [])
    caps = ([_("A: original")] if a.image is not None else []) + [f"t = {t:.2f}" for t in ts] \
        + ([_("B: original")] if b.image is not None else [])
    with st.container(key="interp_strip"):  # the tour's focus on a walk between two images
        st.markdown((_("**A** = {a} → **B** = {b}, {n} decoded frames (spherical path)") if path_kind == "slerp"
                     else _("**A** = {a} → **B** = {b}, {n} decoded frames (linear path)")).format(
            a=a.label, b=b.label, n=steps))
        _row(strip, caps, size=int(np.clip(1100 // len(strip), 72, 140)))  # one line on a wide screen
    _scrub(ctx, a.z, b.z, path_kind)
    d1, d2, _rest = st.columns([1, 1, 1])
    scale = _export_scale(ctx)
    grid_img = image_grid(torch.stack(strip), ncol=len(strip), scale=scale, pad=1)
    d1.download_button(_("Filmstrip (PNG)"), png_bytes(grid_img), file_name=f"{ctx.name}-interpolation.png",
                       mime="image/png", key="interp_dl_png", on_click="ignore", icon=":material/image:")
    d2.download_button(_("Animation (GIF)"), gif_bytes(frames, scale=scale),
                       file_name=f"{ctx.name}-interpolation.gif", mime="image/gif", key="interp_dl_gif",
                       on_click="ignore", icon=":material/movie:",
                       help=_("The decoded frames, played forward then back."))


def _path_on_a_map(ctx: Ctx, codes: np.ndarray) -> None:
    """The frames on a map of the explore set, with each frame's nearest image and distance to it."""
    n = len(ctx.enc)
    methods = map_methods(ctx)
    if st.session_state.get("interp_map") not in methods:
        wanted = st.session_state.get("map_method")  # the Map page's choice, while it is still known
        st.session_state["interp_map"] = wanted if wanted in methods else default_projection(ctx.ck, n).method
    left, right = st.columns([3, 2], gap="medium")
    with right:
        method = st.selectbox(_("Map"), methods, format_func={m: _(METHOD_LABELS[m]) for m in methods}.get,
                              key="interp_map", persist_state=KEEP,
                              help=_("PCA and the 2-D latent space are linear maps, so the path is drawn exactly; "
                                     "UMAP and t-SNE place each code by its nearest encoded neighbours."))
        bundle = ctx.map(ProjectionConfig(method=method))
        dist, idx = bundle.latent_map.nearest_latent(codes)
        table = pd.DataFrame({
            "t": np.round(np.linspace(0.0, 1.0, len(codes)), 2),
            "‖z‖": np.linalg.norm(codes, axis=1).round(2),
            _("nearest image"): [f"#{j} {ctx.class_name(j)}" for j in idx[:, 0]],
            _("distance to it"): dist[:, 0].round(2),
        })
        st.dataframe(table, hide_index=True, key="interp_path_table")
        data_norm = float(np.linalg.norm(ctx.enc.mu, axis=1).mean())
        st.caption(
            _("Typical length ‖z‖: {data:.2f} for encoded images, about √D = {prior:.2f} for samples "
              "of the prior N(0, I). A straight line between two codes cuts a chord, shorter than either end; "
              "slerp keeps the length between the two ends'. A large distance to the nearest image means "
              "the frame lies where the model saw no data.").format(data=data_norm, prior=np.sqrt(ctx.latent_dim))
        )
    with left:
        xy = bundle.latent_map.to_map(codes)
        st.plotly_chart(tr_fig(mini_map(bundle.coords, ctx.enc.labels, current=xy[-1], trail=xy, start=xy[0],
                                        height=440, class_names=ctx.class_names, font=presenter.font(12))),
                        key="interp_path_map", config={"displayModeBar": False})
        st.caption(_("{map}: coloured dots are encoded images (a sample of 3,000), the ring is A, "
                     "the star is B, black dots are the decoded frames.").format(map=bundle.label))


# -- 2. latent traversals -----------------------------------------------------------------------
def traversals(ctx: Ctx) -> None:
    """Each row: one dimension of the code run across the prior's range, the others kept."""
    D = ctx.latent_dim
    kl = ctx.kl_per_dim
    st.caption(
        _("Each row changes **one** coordinate of z across the prior's range and keeps the others fixed, "
          "for the dimensions with the most KL (the most information about the image). A dimension the "
          "model uses changes the image smoothly; a collapsed one (average KL ≈ 0) changes nothing.")
        + (" " + _("This model has only two dimensions, so the two rows are the axes of the Map page's decoded "
                   "background.") if D == 2 else "")
    )
    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1], gap="medium")
    with c1:
        start = st.radio(_("Start from"), ["zero", "image"], horizontal=True, key="interp_trav_start",
                         persist_state=KEEP,
                         format_func={"zero": _("the prior mean (z = 0)"), "image": _("an image's code")}.get)
        if start == "image":
            default = selected_index(ctx)
            i = _index_pick(ctx, _("Image index"), "interp_trav_index", 0 if default is None else default)
            base = ctx.enc.mu[i].copy()
            start_label = f"#{i} {ctx.class_name(i)}"
        else:
            base = np.zeros(D, np.float32)
            start_label = "z = 0"
    with c2:
        if D > 1:
            _clamp("interp_trav_dims", 1, D)
            k = int(st.slider(_("Dimensions (top by KL)"), 1, D, min(D, 6), key="interp_trav_dims",
                              persist_state=KEEP))
        else:
            k = 1
    with c3:
        r = float(st.slider(_("Range ±"), 0.5, 5.0, 3.0, 0.5, key="interp_trav_range", persist_state=KEEP,
                            help=_("In prior standard deviations: ±3 covers {share} of N(0, 1).").format(share="99.7%")))
    with c4:
        nv = int(st.slider(_("Values per row"), 3, 15, 9, 2, key="interp_trav_values", persist_state=KEEP))
    if start == "image":
        with c1:
            _img(ctx.data.images[i], _("the starting image"), 72)

    dims = dims_by_kl(kl)[:k]
    values = np.linspace(-r, r, nv).astype(np.float32)
    grid = ctx.decode(traversal_codes(base, dims, values))  # (k * nv, C, H, W)
    size = 72 if nv > 9 else 96
    st.caption(_("Starting code: {start}. Across each row the dimension runs from {lo:+g} to {hi:+g} "
                 "(values under the first row).").format(start=start_label, lo=-r, hi=r))
    collapsed = set(ctx.collapsed)
    for row, d in enumerate(dims):
        label, pics = st.columns([1, 6], vertical_alignment="center")
        note = " · " + _("collapsed") if d in collapsed else ""
        label.markdown(f"**z{d}** · KL {kl[d]:.2f} nats{note}")
        with pics:
            _row(grid[row * nv : (row + 1) * nv], [f"{v:+.2g}" for v in values] if row == 0 else None, size)
    if start == "image":
        st.caption(_("The image's own values on these rows: {values}").format(
            values=", ".join(f"z{d} = {base[d]:+.2f}" for d in dims)))
    st.download_button(_("Traversal grid (PNG)"), png_bytes(image_grid(grid, ncol=nv, scale=_export_scale(ctx))),
                       file_name=f"{ctx.name}-traversals.png", mime="image/png", key="interp_dl_trav",
                       on_click="ignore", icon=":material/image:")


# -- 3. attribute vectors -----------------------------------------------------------------------
def _default_pair(ctx: Ctx) -> tuple[int, int]:
    present = _classes(ctx)
    names = list(ctx.data.class_names)  # the data set's own (English) names
    for a, b in (("Shirt", "Sneaker"), ("1", "7")):
        if a in names and b in names and names.index(a) in present and names.index(b) in present:
            return names.index(a), names.index(b)
    return present[0], present[min(1, len(present) - 1)]


def attributes(ctx: Ctx) -> None:
    """An image moved along the vector from one class's mean code to another's."""
    labels, present = ctx.enc.labels, _classes(ctx)
    if len(present) < 2:
        st.info(_("Attribute vectors need at least two classes in the explore set; this one has one."))
        return
    src0, tgt0 = _default_pair(ctx)
    c1, c2, c3, c4 = st.columns([1, 1, 1.2, 1.4], gap="medium")
    with c1:
        src = _class_pick(ctx, _("From class"), "interp_attr_from", src0)
    with c2:
        tgt = _class_pick(ctx, _("To class"), "interp_attr_to", tgt0)
    with c3:
        pick = st.radio(_("Image"), ["member", "index"], horizontal=True, key="interp_attr_pick",
                        persist_state=KEEP,
                        format_func={"member": _("a random {cls}").format(cls=ctx.class_names[src]),
                                     "index": _("by index")}.get)
        if pick == "member":
            seed = int(st.number_input(_("Seed"), 0, 1_000_000, 0, key="interp_attr_seed", persist_state=KEEP))
            i = _member(ctx, src, seed)
        else:
            default = selected_index(ctx)
            i = _index_pick(ctx, _("Image index"), "interp_attr_index", 0 if default is None else default)
    with c4:
        s = float(st.slider(_("Strength s"), -1.0, 3.0, 1.0, 0.05, key="interp_attr_strength", persist_state=KEEP,
                            help=_("z' = z + s · v. At s = 1 an average member of the first class lands on "
                                   "the average member of the second.")))
    if src == tgt:
        st.info(_("Pick two different classes: the vector between a class and itself is zero."))
        return
    v = attribute_vector(ctx.enc.mu, labels, src, tgt)
    means = class_means(ctx.enc.mu, labels, len(ctx.class_names))
    z = ctx.enc.mu[i]
    src_name, tgt_name = ctx.class_names[src], ctx.class_names[tgt]
    st.markdown(
        _("**v** = mean code of *{tgt}* − mean code of *{src}*, ‖v‖ = {norm:.2f}. "
          "Image #{i} ({cls}) is moved to z + s·v.").format(tgt=tgt_name, src=src_name, norm=np.linalg.norm(v), i=i,
                                                            cls=ctx.class_name(i))
    )
    moved = ctx.decode(np.stack([z, z + s * v]))  # (2, C, H, W): reconstruction, moved
    near = _nearest_class(z + s * v, means)[0]
    a, b, c, _rest = st.columns([1, 1, 1, 1.2])
    with a:
        _img(ctx.data.images[i], _("original #{i}").format(i=i))
    with b:
        _img(moved[0], _("reconstruction (s = 0)"))
    with c:
        _img(moved[1], _("s = {s:+.2f} · nearest class mean: {cls}").format(s=s, cls=ctx.class_names[near]))

    st.markdown(_("**At several strengths** (caption: the class whose mean code is nearest)"))
    codes = np.stack([z + t * v for t in STRENGTHS])
    row = ctx.decode(codes)
    nearest = _nearest_class(codes, means)
    _row(row, [f"s = {t:g} · {ctx.class_names[c]}" for t, c in zip(STRENGTHS, nearest, strict=True)], 96)
    st.caption(_("Class means are a crude direction: they mix every way two classes differ, and the moved code "
                 "can leave the region where the data lie (the decode then blurs)."))
    st.download_button(_("This row (PNG)"), png_bytes(image_grid(row, ncol=len(STRENGTHS), scale=_export_scale(ctx))),
                       file_name=f"{ctx.name}-{src_name}-to-{tgt_name}.png".replace("/", "-"), mime="image/png",
                       key="interp_dl_attr", on_click="ignore", icon=":material/image:")


