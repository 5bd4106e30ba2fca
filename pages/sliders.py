"""Sliders: one slider per latent dimension (or principal direction, or SeFa direction); the decoded
image follows every move, and each slider's label names what it does ("Sneaker → Bag · more ink").

The decoder runs in the browser while a slider is dragged (components/live_decoder: the image
and the mini map's marker move with the thumb); Python hears the new value when the drag ends.
Only the slider panel reruns then (``st.fragment``), redrawing the server's image, which is also
what shows where the browser cannot decode. The current code lives in the URL (``?z=...``), so a
link reopens the exact image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from components import live_decoder
from pages import _link as link
from pages import _live as live
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx, selected_index
from pages._directions import class_direction_names, linked_key, resolve, slider_names, vector_direction_name
from pages._i18n import N_, _
from pages._link import LinkError, Param, one_of, parse_int
from pages._loaders import MapBundle, get_checkpoint
from pages._map_selections import DIRECTION_KEY
from pages._widgets import class_legend, encode_code, fmt_code, parse_code, show_image
from vae.data.images import png_bytes, upscale
from vae.explore.direction_sets import DirectionKey, step_scale
from vae.explore.directions import (
    Direction,
    DirectionName,
    NoLinearLayer,
    first_layer_weight,
    sefa_directions,
)
from vae.explore.latent import dims_by_kl, principal_axes, prior_samples
from vae.explore.minimap import MiniMap

LIMIT = 4.0  # slider range: +-4 prior standard deviations
TRAIL = 60  # positions kept in the trail on the mini map
SIZE = 280  # the decoded image, pixels
AXES = {"latent": N_("latent dimensions"), "pca": N_("principal directions (PCA of μ)"),
        "sefa": N_("SeFa directions (decoder weights)")}
STEPPED = {"pca": "sl_pc", "sefa": "sl_sf"}  # axes whose sliders step from the start: their state keys' prefix
MIN_SHARE = 0.001  # directions with less of the variance (or eigenvalue) are tucked away like collapsed dims
#: The toggle that shows the sliders tucked away: its label and help, by axes.
TUCKED = {
    "latent": (N_("Show the {n} collapsed dimension(s)"),
               N_("Dimensions whose KL is ≈ 0: the encoder ignores them, so the decoder barely reacts.")),
    "pca": (N_("Show the {n} direction(s) with almost no variance"),
            N_("Directions along which the encoded images hardly vary.")),
    "sefa": (N_("Show the {n} direction(s) with almost no effect"),
             N_("Directions that hardly change the decoder's first layer.")),
}
NAME_AT = 3.0  # names compare the images at -3 and +3 (a latent value, or steps along a direction)


# -- the link ----------------------------------------------------------------------------------------
def _code_parse(text: str, ctx) -> dict:
    code, problem = parse_code(text, ctx.latent_dim, LIMIT)
    if problem:
        raise LinkError(problem)
    return {"sliders_start_request": {"kind": "code", "code": [float(v) for v in code],
                                      "label": N_("the code in the link")}}


def _code_fallback(ctx) -> str:
    if st.session_state.get("sl_for") == (ctx.name, ctx.latent_dim):
        return _("The sliders keep their code.")
    return _("Starting from the prior mean.")


def _start_parse(text: str, ctx) -> dict:
    return {"sliders_start_request": {"kind": "index", "index": parse_int(text, 0, len(ctx.enc) - 1)}}


VECTOR = "v:"  # a direction given by its vector (the Map's kept selections: mean of A − mean of B), "v:0.1,-2,..."


def _vector(text: str, ctx) -> np.ndarray:
    """The vector of a ``v:`` direction; LinkError naming what is wrong."""
    vec, problem = parse_code(text[len(VECTOR):], ctx.latent_dim, 100.0)
    if problem:
        raise LinkError(problem)
    if not np.linalg.norm(vec) > 0:
        raise LinkError(_("it is the zero vector, which points nowhere"))
    return vec


def _dir_parse(text: str, ctx) -> dict:
    if str(text).startswith(VECTOR):
        _vector(text, ctx)
        return {"sl_dir": str(text), "sl_dir_t": 0.0}
    return {"sl_dir": linked_key(text, ctx, _("it is not latent:D, pca:K, sefa:K or class:A:B")), "sl_dir_t": 0.0}


def _axes_options(ctx) -> list[str]:
    """The slider axes this model offers: SeFa only where its decoder starts with a linear layer."""
    return [k for k in AXES if k != "sefa" or isinstance(_sefa(ctx.name, ctx.ck.content_hash, ctx.device), tuple)]


PARAMS = link.declare("sliders", [
    one_of("axes", "sl_axes", N_("slider axes"), _axes_options),
    Param("z", N_("code"), _code_parse, lambda ctx: st.session_state.get("sl_z_text"), _code_fallback),
    # an instruction, not state: start from this image (the code then goes into z)
    Param("image", N_("start image"), _start_parse, lambda ctx: None),
    # a direction of the Directions page, as a slider of its own: latent:D, pca:K, sefa:K or class:A:B
    Param("dir", N_("direction"), _dir_parse, lambda ctx: st.session_state.get("sl_dir"), states=("sl_dir",)),
])


@nav.page("sliders")
def main() -> None:
    """The page: where to start, the display options, then the slider panel (rerun on its own)."""
    ctx = get_ctx()
    link.restore("sliders", ctx)  # ?z= (the code) and ?image= arrive as a start request, ?axes= as the axes
    st.title(_("Sliders"))
    st.caption(
        _("One slider per latent dimension, **most informative first** (highest average KL), or per principal "
          "direction of the encoded data, or per SeFa direction of the decoder's weights. Each label says what "
          "its slider does: the classes the classifier reads at its two ends and what changes most (its ⓘ "
          "says it all). Drag one and the decoder, running in your browser, redraws the image as the thumb "
          "moves. The small map shows where z lands among the encoded images, and the trail where it has been. "
          "Copy the page's URL to share this exact image.")
    )
    _apply_start_request(ctx)
    _start_buttons(ctx)
    v = _display_options(ctx)
    if v.use_fragment:
        st.fragment(_panel)(v)
    else:
        _panel(v)
    link.sync("sliders", ctx)


# -- where the sliders start -----------------------------------------------------------------------
def _start(ctx: Ctx, code, label: str, index: int | None = None) -> None:
    """Set a new starting code and move every slider to it."""
    D = ctx.latent_dim
    code = np.clip(np.asarray(code, dtype=np.float32), -LIMIT, LIMIT)
    st.session_state["sl_start"] = [float(v) for v in code]
    st.session_state["sl_start_label"] = label
    st.session_state["sl_start_index"] = index
    st.session_state["sl_for"] = (ctx.name, D)
    for d in range(D):
        st.session_state[f"sl_z{d}"] = float(round(code[d], 2))
        for prefix in STEPPED.values():
            st.session_state[f"{prefix}{d}"] = 0.0  # principal and SeFa directions move away from the start
    st.session_state["sl_dir_t"] = 0.0  # the Directions page's direction, too
    st.session_state["sl_trail"] = []
    st.session_state["sl_start_id"] = int(st.session_state.get("sl_start_id", 0)) + 1


def _code(kind: str, start: np.ndarray, axes: np.ndarray | None) -> np.ndarray:
    """The code the sliders of ``kind`` set: latent values, or the start plus steps along ``axes`` (K, D)."""
    D = len(start)
    if kind in STEPPED:
        coef = np.array([st.session_state.get(f"{STEPPED[kind]}{k}", 0.0) for k in range(len(axes))], dtype=np.float32)
        return np.clip(start + coef @ axes, -LIMIT, LIMIT).astype(np.float32)
    return np.array([st.session_state.get(f"sl_z{d}", float(start[d])) for d in range(D)], dtype=np.float32)


def _switch_axes(ctx: Ctx) -> None:
    """The other kind of sliders starts from the code the previous ones had reached."""
    start = np.asarray(st.session_state["sl_start"], dtype=np.float32)
    reached = st.session_state.get("sl_reached")
    z = np.asarray(reached, np.float32) if reached is not None and len(reached) == len(start) else start
    index = st.session_state.get("sl_start_index")
    label = st.session_state.get("sl_start_label", "")
    _start(ctx, z, label if np.allclose(z, start) else _("the code reached before switching axes"),
           index if np.allclose(z, start) else None)


def _apply_start_request(ctx: Ctx) -> None:
    """A request from another page or a link (an image, a code), else the prior mean for a new model."""
    D = ctx.latent_dim
    request = st.session_state.pop("sliders_start_request", None)
    if request and request.get("kind") == "index" and 0 <= int(request["index"]) < len(ctx.enc):
        i = int(request["index"])
        _start(ctx, ctx.enc.mu[i], _("image #{i} ({cls})").format(i=i, cls=ctx.class_name(i)), i)
    elif request and request.get("kind") == "code" and len(request.get("code", [])) == D:
        _start(ctx, request["code"], _(request.get("label", N_("a chosen code"))))
    elif st.session_state.get("sl_for") != (ctx.name, D):
        _start(ctx, np.zeros(D), _("the prior mean (z = 0)"))


def _start_buttons(ctx: Ctx) -> None:
    """Start again from the prior mean, a random sample, the point chosen on the map, or an image."""
    D = ctx.latent_dim
    c1, c2, c3, c4 = st.columns([1, 1.15, 1.15, 1.2])
    if c1.button(_("Prior mean (z = 0)"), key="sl_btn_zero", width="stretch"):
        _start(ctx, np.zeros(D), _("the prior mean (z = 0)"))
    if c2.button(_("Random sample"), key="sl_btn_random", icon=":material/casino:", width="stretch",
                 help=_("Draw z ~ N(0, I)")):
        seed = int(st.session_state.get("sl_seed", 0)) + 1
        st.session_state["sl_seed"] = seed
        _start(ctx, prior_samples(1, D, seed=seed)[0], _("a random prior sample (seed {seed})").format(seed=seed))
    chosen = selected_index(ctx)
    if c3.button(_("Chosen on the map"), key="sl_btn_map", width="stretch", disabled=chosen is None,
                 help=_("Click a point on the Map page first") if chosen is None else f"#{chosen}"):
        _start(ctx, ctx.enc.mu[chosen], _("image #{i} ({cls})").format(i=chosen, cls=ctx.class_name(chosen)), chosen)
    with c4:
        idx = st.number_input(_("…or start from image #"), 0, len(ctx.enc) - 1, value=None, key="sl_index",
                              placeholder=f"0 – {len(ctx.enc) - 1}")
        if idx is not None and st.session_state.get("sl_index_used") != idx:
            st.session_state["sl_index_used"] = idx
            _start(ctx, ctx.enc.mu[int(idx)], _("image #{i} ({cls})").format(i=int(idx), cls=ctx.class_name(int(idx))),
                   int(idx))


# -- the display options ------------------------------------------------------------------------------
@dataclass
class SliderView:
    """What the slider panel draws, as the display options chose it."""

    ctx: Ctx
    axes: np.ndarray | None  # (K, D): row k = the step of one unit of slider k (None: latent dimensions)
    share: np.ndarray | None  # (K,) each direction's share of the variance (PCA) or of the eigenvalues (SeFa)
    effect: np.ndarray | None  # (K,) its variance or eigenvalue
    axes_kind: str  # "latent", "pca" or "sefa"
    show_collapsed: bool  # also the sliders tucked away (collapsed dimensions, directions of ~no variance)
    use_fragment: bool  # only the panel reruns when a slider moves
    n_cols: int
    decode_live: bool  # the decoder runs in the browser while a slider is dragged
    bundle: MapBundle
    minimap: MiniMap
    names: list[str]  # what each slider does (index as in axes, or the latent dimension), in the session's language
    details: list[str]  # ... in full: its help
    chosen: ChosenDirection | None = None  # a direction from the Directions page (?dir=): a slider of its own
    strips: bool = True  # thumbnails along each slider's track, decoded in the browser (components/live_decoder/strips.js)


@dataclass(frozen=True)
class ChosenDirection:
    """A direction the Directions page sent (``?dir=``): its slider steps ``t · step`` from the other sliders'
    code."""

    key: str  # e.g. "sefa:2", "class:7:9"
    label: str  # the slider's label: the direction and its name
    step: np.ndarray  # (D,) one unit of the slider
    details: str  # its help


def _chosen_direction(ctx: Ctx, named: dict[str, list[DirectionName]]) -> ChosenDirection | None:
    """The direction of ``?dir=`` for this model, named as the Directions page names it; None without one
    (or when this model has no such direction: the slider goes)."""
    text = st.session_state.get("sl_dir")
    if not text:
        return None
    if text.startswith(VECTOR):
        return _vector_direction(ctx, text)
    key = DirectionKey.parse(text)
    d = resolve(ctx, key)
    if not isinstance(d, Direction):
        st.session_state["sl_dir"] = None
        return None
    if d.kind == "class":
        a, b = d.index
        title = _("{a} → {b}").format(a=ctx.class_names[a], b=ctx.class_names[b])
        name = class_direction_names(ctx, [d])[0]
    else:
        title = d.label
        name = named.setdefault(d.kind, slider_names(ctx, d.kind))[int(d.index)]
    english = ctx.data.class_names
    says_it = d.kind == "class" and name.classes == (english[d.index[0]], english[d.index[1]])
    label = _("★ {name}").format(name=name.text(_)) if says_it else \
        _("★ {direction} · {name}").format(direction=title, name=name.text(_))  # the name says the classes already
    return ChosenDirection(text, label,
                           (d.vector * step_scale(d)).astype(np.float32), _details(name))


def _vector_direction(ctx: Ctx, text: str) -> ChosenDirection | None:
    """A direction given by its vector (``dir=v:...``: the Map's two kept selections, mean of A − mean of B):
    ±3 on its slider is the whole difference, as for a class direction; named by the selections where this
    session made it, and by what changes along it."""
    try:
        vec = _vector(text, ctx)
    except LinkError:
        st.session_state["sl_dir"] = None
        return None
    request = st.session_state.get(DIRECTION_KEY)
    title = request["name"] if isinstance(request, dict) and request.get("vector") is not None and \
        np.allclose(request["vector"], vec, atol=1e-3) else _("a direction from the Map")
    d = Direction("class", (0, 0), vec, float(np.linalg.norm(vec)), title)  # steps like a class direction
    step = (vec * step_scale(d)).astype(np.float32)
    name = vector_direction_name(ctx, step)
    return ChosenDirection(text, _("★ {direction} · {name}").format(direction=title, name=name.text(_)), step,
                           _details(name))


def _directions(ctx: Ctx, kind: str) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(axes (K, D), share (K,), effect (K,)) of the sliders of ``kind``; Nones for latent dimensions."""
    if kind == "pca":
        axes, share = principal_axes(ctx.enc.mu)  # row k = direction k times its standard deviation
        return axes, share, np.square(np.linalg.norm(axes, axis=1))
    if kind == "sefa":
        vectors, values = _sefa(ctx.name, ctx.ck.content_hash, ctx.device)  # unit rows: steps of one prior σ
        return vectors, values / max(float(values.sum()), 1e-12), values
    return None, None, None


@st.cache_data(show_spinner=False, max_entries=16)
def _sefa(name: str, content_hash: str, device: str) -> tuple[np.ndarray, np.ndarray] | str:
    """SeFa's directions (D, D) and eigenvalues of the checkpoint's decoder, or why it has none."""
    try:
        return sefa_directions(first_layer_weight(get_checkpoint(name, device).model))
    except NoLinearLayer as e:
        return str(e)


def _display_options(ctx: Ctx) -> SliderView:
    with st.expander(_("Display options")):
        options = _axes_options(ctx)
        if st.session_state.get("sl_axes") not in options:
            st.session_state["sl_axes"] = "latent"
        axes_kind = st.radio(_("Slider axes"), options, format_func={k: _(v) for k, v in AXES.items()}.get,
                             horizontal=True, key="sl_axes", on_change=_switch_axes, args=(ctx,),
                             help=_("Principal directions: the directions in which the encoded images vary most "
                                    "(most variance first), in units of their spread. SeFa directions: the "
                                    "eigenvectors of AᵀA, A the decoder's first layer, those that change its output "
                                    "most first, in prior standard deviations. Both start from the current code."))
        if "sefa" not in options:
            st.caption(_("No SeFa directions for this model: {reason}.").format(
                reason=_sefa(ctx.name, ctx.ck.content_hash, ctx.device)))
        axes, share, effect = _directions(ctx, axes_kind)
        n_tucked = int((share < MIN_SHARE).sum()) if axes_kind in STEPPED else len(ctx.collapsed)
        tuck_label, tuck_help = TUCKED[axes_kind]
        show_collapsed = st.toggle(_(tuck_label).format(n=n_tucked), key="sl_show_collapsed", disabled=not n_tucked,
                                   help=_(tuck_help))
        use_fragment = st.toggle(_("Rerun only the slider panel (fast)"), value=True, key="sl_fragment",
                                 help=_("Off: every move reruns the whole page, as a naive Streamlit app does."))
        n_cols = st.radio(_("Slider columns"), [1, 2, 3], index=1 if ctx.latent_dim > 6 else 0, horizontal=True,
                          key="sl_cols")
        decode_live = st.toggle(_("Decode in the browser while dragging"), value=True, key="sl_live",
                                help=_("The decoder runs in this page, so the image follows the thumb. Off: the image "
                                       "comes from the server when you let go."))
        strips = st.toggle(_("Thumbnails along the sliders"), value=True, key="sl_strips", disabled=not decode_live,
                           help=_("Under each slider, what the decoder draws at seven spots of its track, the other "
                                  "sliders staying where they are: what a slider does, without dragging it. Drawn in "
                                  "your browser; they follow the code when it stops moving."))
        here = st.toggle(_("Name the sliders from the start image"), key="sl_names_here",
                         help=_("Each slider's name says what changes between its two ends (±3): the classes the "
                                "classifier reads there and the measurements that change most (ink, brightness, "
                                "width, height, symmetry, position). Off: over two images of every class, so that "
                                "the name describes the direction; on: from the start image alone."))
    start = tuple(st.session_state["sl_start"]) if here else None
    named = slider_names(ctx, axes_kind, start)
    chosen = _chosen_direction(ctx, {axes_kind: named} if start is None else {})
    return SliderView(ctx, axes, share, effect, axes_kind, show_collapsed, use_fragment, int(n_cols), decode_live,
                      ctx.map(), ctx.minimap(), [n.text(_) for n in named], [_details(n) for n in named], chosen,
                      strips=bool(strips and decode_live))


def _details(name: DirectionName) -> str:
    """A slider's help: the classes read at its ends and every noticeable change, in the session's language."""
    if name.class_change:
        return _("From −{t:g} to +{t:g}: {a} ({pa:.0%} of the start images) becomes {b} ({pb:.0%}); {changes}.").format(
            t=NAME_AT, a=_(name.classes[0]), pa=name.shares[0], b=_(name.classes[1]), pb=name.shares[1],
            changes=name.changed(_))
    return _("From −{t:g} to +{t:g}: {changes}.").format(t=NAME_AT, changes=name.changed(_))


def _slider_specs(v: SliderView) -> list[tuple[str, str, int, bool]]:
    """(state key, label, index, collapsed) of every slider of the chosen axes, in display order; a
    label ends with the slider's name (what it does), except where the slider is tucked away."""
    ctx, share = v.ctx, v.share

    def named(label: str, i: int, tucked: bool) -> str:
        return label if tucked or not v.names[i] else f"{label} · {v.names[i]}"

    if v.axes_kind == "pca":
        return [(f"sl_pc{k}", named(_("PC{k} · {share} of variance").format(k=k + 1, share=f"{100 * share[k]:.1f}%"),
                                    k, share[k] < MIN_SHARE), k, share[k] < MIN_SHARE) for k in range(len(share))]
    if v.axes_kind == "sefa":
        return [(f"sl_sf{k}", named(_("SeFa{k} · eigenvalue {value:.3g}").format(k=k + 1, value=v.effect[k]),
                                    k, share[k] < MIN_SHARE), k, share[k] < MIN_SHARE) for k in range(len(share))]
    kl, collapsed = ctx.kl_per_dim, set(ctx.collapsed)
    return [(f"sl_z{d}", named(f"z{d} · KL {kl[d]:.2f}" + (" · " + _("collapsed") if d in collapsed else ""), d,
                               d in collapsed), d, d in collapsed) for d in dims_by_kl(kl)]


# -- the slider panel ----------------------------------------------------------------------------------
def _panel(v: SliderView) -> None:
    """The decoded image first (it reaches the browser before the rest), the code's place on the mini map,
    then the sliders; the code goes into the link."""
    ctx = v.ctx
    start = np.asarray(st.session_state["sl_start"], dtype=np.float32)
    left, right = st.columns([3, 2], gap="large")
    z = _code(v.axes_kind, start, v.axes)
    if v.chosen is not None:
        t = float(st.session_state.get("sl_dir_t", 0.0))
        z = np.clip(z + t * v.chosen.step, -LIMIT, LIMIT).astype(np.float32)
    with right, st.container(key="sl_server_image"):  # the new image first: it goes out before the rest
        show_image(ctx.decode(z[None])[0], _("decoded z"), size=presenter.px(SIZE), inline=True)
    xy = v.bundle.latent_map.to_map(z[None])[0]
    trail = st.session_state.setdefault("sl_trail", [])
    if not trail or np.hypot(trail[-1][0] - xy[0], trail[-1][1] - xy[1]) > 1e-6:
        trail.append([float(xy[0]), float(xy[1])])
        del trail[:-TRAIL]
    st.session_state["sl_z_text"] = encode_code(z)
    st.session_state["sl_reached"] = [float(c) for c in z]  # where a switch of axes starts from
    link.write("z", st.session_state["sl_z_text"])  # the link reopens this exact image
    views = _start_views(v, start)
    specs = _slider_specs(v)
    shown = [s for s in specs if v.show_collapsed or not s[3]]
    with right:
        if v.decode_live:
            labels = {label: i for _key, label, i, _c in shown}
            if v.chosen is not None:
                labels[v.chosen.label] = len(v.axes) if v.axes_kind in STEPPED else ctx.latent_dim
            _live_view(v, start, trail, views["xy"], xy, labels)
        _where_z_is(v, z, xy, trail, views)
    # the sliders last: the new image reaches the browser before their (unchanged) updates
    with left:
        _sliders(v, specs, shown)


def _start_views(v: SliderView, start: np.ndarray) -> dict:
    """What shows the start, computed once per start (not on every move): PNGs and map position."""
    ctx = v.ctx
    si = st.session_state.get("sl_start_index")
    key = (ctx.name, ctx.split, si, start.tobytes(), presenter.on())
    cached = st.session_state.get("sl_start_views")
    if cached is None or cached["key"] != key:
        recon = ctx.decode(start[None])[0]
        shown = ([(ctx.data.images[si], _("start: #{i}").format(i=si)), (recon, _("its reconstruction"))]
                 if si is not None else [(recon, _("start"))])
        images = []
        for im, cap in shown:
            a = upscale(im, presenter.px(120))
            images.append((png_bytes(Image.fromarray(a)), cap, a.shape[1]))
        cached = {"key": key, "xy": v.bundle.latent_map.to_map(start[None])[0], "images": images}
        st.session_state["sl_start_views"] = cached
    return cached


def _live_view(v: SliderView, start: np.ndarray, trail: list, start_xy, here, sliders: dict[str, int]) -> None:
    """The in-browser decoder over the server's image and mini map (which it hides once it draws); ``here`` is
    where the code the page draws first lands on the map (the page fetches the map's codes only once the code
    changes: its first frame does not need them)."""
    ctx, bundle = v.ctx, v.bundle
    urls, problem = live.model_urls(ctx.ck)
    if urls is None:
        live.off_line(problem, _("Images are decoded on the server when you let go of a slider."))
        return
    tag = f"{ctx.split}-{len(ctx.enc)}"
    if v.axes_kind in STEPPED:
        origin, basis = start, v.axes.tolist()
        coef = [float(st.session_state.get(f"{STEPPED[v.axes_kind]}{k}", 0.0)) for k in range(len(v.axes))]
    else:
        origin, basis = np.zeros(ctx.latent_dim, np.float32), None
        coef = [float(c) for c in _code("latent", start, v.axes)]
    if v.chosen is not None:  # one more row: the chosen direction (after the latent axes, written out)
        basis = (basis if basis is not None else np.eye(ctx.latent_dim).tolist()) + [v.chosen.step.tolist()]
        coef = coef + [float(st.session_state.get("sl_dir_t", 0.0))]
    live_decoder.mount("sliders", {
        "decoder": urls["decoder"], "image": live_decoder.image_spec(ctx.ck, presenter.px(SIZE)),
        "labels": sliders, "origin": [float(c) for c in origin], "axes": basis, "coef": coef,
        "map": live_decoder.map_spec(ctx.ck, bundle.latent_map, tag, f"{tag}-{bundle.cfg.key()}"),
        "minimap": {**live_decoder.minimap_spec(ctx.ck, v.minimap, f"{tag}-{bundle.cfg.key()}"), "trail": trail,
                    "start": [float(c) for c in start_xy], "here": [float(c) for c in here],
                    "start_id": int(st.session_state.get("sl_start_id", 0))},
        "hide": ["sl_server_image", "sl_server_map"],
        "strips": {"label": _("What the decoder draws along this slider, the other sliders staying where they are")}
        if v.strips else None,
        "text": {"caption": _("decoded z (in your browser)"),
                 "loading": _("Loading the decoder into this page… Until it is ready, the image changes when you let go "
                              "of a slider."),
                 "map_caption": _("Where z lands on the {map} map (★), the start (○) and the trail.").format(
                     map=bundle.label),
                 "off": _("Live decoding is off: {reason}. {what}").replace(
                     "{what}", _("Images are decoded on the server when you let go of a slider."))},
    }, key="sl_live_view")


def _where_z_is(v: SliderView, z: np.ndarray, xy: np.ndarray, trail: list, views: dict) -> None:
    """The start's images, z's length and nearest image, the mini map with the trail, the code."""
    ctx = v.ctx
    for col, (png, cap, width) in zip(st.columns(2), views["images"], strict=False):
        col.image(png, caption=cap, width=width)
    st.caption(_("Started from {start}. ‖z‖ = {norm:.2f} (a typical prior sample has ‖z‖ ≈ {typical:.1f}).").format(
        start=st.session_state.get("sl_start_label") or _("the prior mean"), norm=np.linalg.norm(z),
        typical=np.sqrt(ctx.latent_dim)))
    dist, nn = v.bundle.latent_map.nearest_latent(z[None], 1)
    j = int(nn[0, 0])
    st.caption(_("Nearest encoded image: #{j} ({cls}), {d:.2f} away in latent space.").format(
        j=j, cls=ctx.class_name(j), d=dist[0, 0]))
    with st.container(key="sl_server_map"):
        show_image(v.minimap.render(xy, trail, start=views["xy"]),
                   _("Where z lands on the {map} map (★), the start (○) and the trail.").format(map=v.bundle.label),
                   size=0, inline=True)
    class_legend(ctx.class_names, sorted({int(c) for c in np.unique(ctx.enc.labels)}))
    with st.popover(_("Current code")):
        st.code(fmt_code(z), language=None, wrap_lines=True)


def _sliders(v: SliderView, specs: list[tuple[str, str, int, bool]], shown: list[tuple[str, str, int, bool]]) -> None:
    """The sliders shown, and a line naming the ones tucked away."""
    # column by column, most informative first: on a phone Streamlit stacks the columns, which then read
    # in the same order (filled row by row, a phone showed the 1st, 3rd, 5th, ... then the 2nd, 4th, ...)
    if v.chosen is not None:
        _chosen_slider(v.chosen)
    cols = st.columns(v.n_cols)
    per_col = -(-len(shown) // v.n_cols)
    for j, (key, label, i, _c) in enumerate(shown):
        cols[j // per_col].slider(label, -LIMIT, LIMIT, step=0.05, key=key, help=v.details[i])
    tucked = [label.split(" · ")[0] for _key, label, _i, c in specs if c and not v.show_collapsed]
    if tucked and v.axes_kind == "sefa":
        st.caption(_("{n} direction(s) with almost no effect hidden (under {share} of the eigenvalues each): {names}. "
                     "They stay at 0.").format(n=len(tucked), share=f"{100 * MIN_SHARE:.1f}%", names=", ".join(tucked)))
    elif tucked and v.axes_kind in STEPPED:
        st.caption(_("{n} direction(s) with almost no variance hidden (under {share} each): {names}. "
                     "They stay at 0.").format(n=len(tucked), share=f"{100 * MIN_SHARE:.1f}%", names=", ".join(tucked)))
    elif tucked:
        st.caption(_("{n} collapsed dimension(s) hidden (KL < 0.05 nats): {names}. They stay at their starting "
                     "values.").format(n=len(tucked), names=", ".join(tucked)))


def _chosen_slider(chosen: ChosenDirection) -> None:
    """The Directions page's direction, above the others: a slider that steps along it, and a button that
    takes it away."""
    st.session_state.setdefault("sl_dir_t", 0.0)
    with st.container(border=True, key="sl_dir_box"):
        st.slider(chosen.label, -LIMIT, LIMIT, step=0.05, key="sl_dir_t", help=chosen.details)
        st.caption(_("A direction from the Directions page; it steps from the code the other sliders set."))
        if st.button(_("Remove this direction"), key="sl_dir_remove", icon=":material/close:"):
            st.session_state["sl_dir"] = None
            st.rerun(scope="app")
