"""Sliders: one slider per latent dimension; the decoded image follows every move.

Only the slider panel reruns (``st.fragment``). The current code lives in the URL
(``?z=...``), so a link reopens the exact image.
"""

import numpy as np
import streamlit as st
from PIL import Image

from pages._common import (
    encode_code,
    fmt_code,
    get_ctx,
    parse_code,
    selected_index,
    show_image,
)
from vae.images import png_bytes, upscale
from vae.latent import dims_by_kl, prior_samples

LIMIT = 4.0  # slider range: +-4 prior standard deviations
TRAIL = 60  # positions kept in the trail on the mini map

ctx = get_ctx()
D = ctx.latent_dim
st.title("Sliders")
st.caption(
    "One slider per latent dimension, **most informative first** (highest average KL). Drag one and the "
    "decoder turns the new code z into an image at once. The small map shows where z lands among the "
    "encoded images, and the trail where it has been. Copy the page's URL to share this exact image."
)


def _start(code, label: str, index: int | None = None) -> None:
    """Set a new starting code and move every slider to it."""
    code = np.clip(np.asarray(code, dtype=np.float32), -LIMIT, LIMIT)
    st.session_state["sl_start"] = [float(v) for v in code]
    st.session_state["sl_start_label"] = label
    st.session_state["sl_start_index"] = index
    st.session_state["sl_for"] = (ctx.name, D)
    for d in range(D):
        st.session_state[f"sl_z{d}"] = float(round(code[d], 2))
    st.session_state["sl_trail"] = []


# -- where to start: a request from another page, the URL, or the prior mean ---------------------
request = st.session_state.pop("sliders_start_request", None)
url_code, url_problem = parse_code(st.query_params.get("z"), D, LIMIT)
if request and request.get("kind") == "index" and 0 <= int(request["index"]) < len(ctx.enc):
    i = int(request["index"])
    _start(ctx.enc.mu[i], f"image #{i} ({ctx.class_name(i)})", i)
elif request and request.get("kind") == "code" and len(request.get("code", [])) == D:
    _start(request["code"], "a chosen code")
elif st.session_state.get("sl_for") != (ctx.name, D):
    if url_code is not None:
        _start(url_code, "the code in the link")
    else:
        if url_problem:
            st.warning(f"Ignored the link's code: {url_problem}. Starting from the prior mean.")
        _start(np.zeros(D), "the prior mean (z = 0)")

c1, c2, c3, c4 = st.columns([1, 1, 1, 1.3])
if c1.button("Prior mean (z = 0)", key="sl_btn_zero", width="stretch"):
    _start(np.zeros(D), "the prior mean (z = 0)")
if c2.button("Random sample", key="sl_btn_random", icon=":material/casino:", width="stretch",
             help="Draw z ~ N(0, I)"):
    seed = int(st.session_state.get("sl_seed", 0)) + 1
    st.session_state["sl_seed"] = seed
    _start(prior_samples(1, D, seed=seed)[0], f"a random prior sample (seed {seed})")
chosen = selected_index(ctx)
if c3.button("Image chosen on the map", key="sl_btn_map", width="stretch", disabled=chosen is None,
             help="Click a point on the Map page first" if chosen is None else f"#{chosen}"):
    _start(ctx.enc.mu[chosen], f"image #{chosen} ({ctx.class_name(chosen)})", chosen)
with c4:
    idx = st.number_input("…or start from image #", 0, len(ctx.enc) - 1, value=None, key="sl_index",
                          placeholder=f"0 – {len(ctx.enc) - 1}")
    if idx is not None and st.session_state.get("sl_index_used") != idx:
        st.session_state["sl_index_used"] = idx
        _start(ctx.enc.mu[int(idx)], f"image #{int(idx)} ({ctx.class_name(int(idx))})", int(idx))

kl = ctx.kl_per_dim
order = dims_by_kl(kl)
collapsed = set(ctx.collapsed)
active = [d for d in order if d not in collapsed]
hidden = [d for d in order if d in collapsed]
with st.expander("Display options"):
    show_collapsed = st.toggle(
        f"Show the {len(hidden)} collapsed dimension(s)", key="sl_show_collapsed", disabled=not hidden,
        help="Dimensions whose KL is ≈ 0: the encoder ignores them, so the decoder barely reacts.")
    use_fragment = st.toggle("Rerun only the slider panel (fast)", value=True, key="sl_fragment",
                             help="Off: every move reruns the whole page, as a naive Streamlit app does.")
    n_cols = st.radio("Slider columns", [1, 2, 3], index=1 if D > 6 else 0, horizontal=True, key="sl_cols")
bundle = ctx.map()
minimap = ctx.minimap()


def _start_views(start: np.ndarray) -> dict:
    """What shows the start, computed once per start (not on every move): PNGs and map position."""
    si = st.session_state.get("sl_start_index")
    key = (ctx.name, ctx.split, si, start.tobytes())
    cached = st.session_state.get("sl_start_views")
    if cached is None or cached["key"] != key:
        recon = ctx.decode(start[None])[0]
        shown = ([(ctx.data.images[si], f"start: #{si}"), (recon, "its reconstruction")] if si is not None
                 else [(recon, "start")])
        images = []
        for im, cap in shown:
            a = upscale(im, 120)
            images.append((png_bytes(Image.fromarray(a)), cap, a.shape[1]))
        cached = {"key": key, "xy": bundle.latent_map.to_map(start[None])[0], "images": images}
        st.session_state["sl_start_views"] = cached
    return cached


def panel() -> None:
    start = np.asarray(st.session_state["sl_start"], dtype=np.float32)
    left, right = st.columns([3, 2], gap="large")
    z = np.array([st.session_state.get(f"sl_z{d}", float(start[d])) for d in range(D)], dtype=np.float32)
    with right:  # the new image first: it goes out before anything else of this rerun
        show_image(ctx.decode(z[None])[0], "decoded z", size=280, inline=True)
    xy = bundle.latent_map.to_map(z[None])[0]
    trail = st.session_state.setdefault("sl_trail", [])
    if not trail or np.hypot(trail[-1][0] - xy[0], trail[-1][1] - xy[1]) > 1e-6:
        trail.append([float(xy[0]), float(xy[1])])
        del trail[:-TRAIL]
    st.query_params["z"] = encode_code(z)
    views = _start_views(start)
    with right:
        for col, (png, cap, width) in zip(st.columns(2), views["images"], strict=False):
            col.image(png, caption=cap, width=width)
        st.caption(f"Started from {st.session_state.get('sl_start_label', 'the prior mean')}. "
                   f"‖z‖ = {np.linalg.norm(z):.2f} (a typical prior sample has ‖z‖ ≈ {np.sqrt(D):.1f}).")
        dist, nn = bundle.latent_map.nearest_latent(z[None], 1)
        j = int(nn[0, 0])
        st.caption(f"Nearest encoded image: #{j} ({ctx.class_name(j)}), {dist[0, 0]:.2f} away in latent space.")
        show_image(minimap.render(xy, trail, start=views["xy"]),
                   f"Where z lands on the {bundle.label} map (★), the start (○) and the trail.", size=0,
                   inline=True)
        with st.popover("Current code"):
            st.code(fmt_code(z), language=None)
    # the sliders last: the new image reaches the browser before their (unchanged) updates
    with left:
        dims = active + (hidden if show_collapsed else [])
        cols = st.columns(int(n_cols))
        for j, d in enumerate(dims):
            label = f"z{d} · KL {kl[d]:.2f}" + (" · collapsed" if d in collapsed else "")
            cols[j % int(n_cols)].slider(label, -LIMIT, LIMIT, step=0.05, key=f"sl_z{d}")
        if hidden and not show_collapsed:
            st.caption(f"{len(hidden)} collapsed dimension(s) hidden (KL < 0.05 nats): "
                       + ", ".join(f"z{d}" for d in hidden) + ". They stay at their starting values.")


if use_fragment:
    st.fragment(panel)()
else:
    panel()
