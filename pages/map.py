"""Map: the explore set's latent means in 2-D; click points, boxes or empty space."""

import time

import numpy as np
import streamlit as st

from components import live_decoder
from pages import _samples_map as samples_map
from pages._common import (
    fmt_code,
    get_ctx,
    image_row,
    select_index,
    selected_index,
    show_image,
    umap_reducer,
)
from pages._i18n import _, tr_fig
from vae.explorer import ALL, default_projection
from vae.export import latent_table
from vae.figures import (
    COLOR_BY,
    KIND_DATA,
    KIND_GRID,
    decoded_grid_background,
    latent_code_bars,
    latent_map,
    padded_bounds,
    spot_grid,
)
from vae.knn import warm_up
from vae.latent import dims_by_kl, prior_samples
from vae.projection import METHOD_LABELS, ProjectionConfig

ctx = get_ctx()
st.title(_("Map of the latent space"))
two_d = ctx.latent_dim == 2
split_words = _("images (train + test)") if ctx.split == ALL else _("{split}-split images").format(split=ctx.split_label)
st.caption(
    (_("Each dot is one of the {n:,} {split_words} of **{dataset}**, placed by its latent code (the posterior "
       "mean of q(z|x), {d} numbers) — this model's latent space *is* 2-D, so the map is the space itself, with "
       "decoded images behind it.") if two_d else
     _("Each dot is one of the {n:,} {split_words} of **{dataset}**, placed by its latent code (the posterior "
       "mean of q(z|x), {d} numbers), projected to 2-D.")).format(
        n=len(ctx.enc), split_words=split_words, dataset=ctx.ck.dataset, d=ctx.latent_dim)
    + " " + _("**Click a dot** to see it, pick the **box or lasso** tool (top right of the map) to select many, "
              "**click empty space** to decode that spot.")
)

methods = ((["latent"] if two_d else []) + (["umap"] if len(ctx.enc) > ProjectionConfig().n_neighbors else [])
           + ["pca", "tsne"])  # UMAP needs more points than its neighbourhood
if st.session_state.get("map_method") not in methods:  # first open: the checkpoint's own map (an import's choice)
    preferred = default_projection(ctx.ck, len(ctx.enc)).method
    st.session_state["map_method"] = preferred if preferred in methods else methods[0]
c1, c2, c3, c4 = st.columns([1.2, 1.6, 1.0, 1.0])
method = c1.selectbox(_("Projection"), methods, format_func={m: _(METHOD_LABELS[m]) for m in methods}.get,
                      key="map_method")
color_by = c2.selectbox(_("Colour by"), list(COLOR_BY), format_func={k: _(v) for k, v in COLOR_BY.items()}.get,
                        key="map_color")
show_prior = c3.toggle(_("Prior samples"), key="map_prior",
                       help=_("Overlay codes drawn from the prior N(0, I), placed on the map: where the "
                              "prior puts mass that the data does not."))
n_prior = c4.number_input(_("How many"), 50, 2000, 300, step=50, key="map_n_prior", disabled=not show_prior)

bundle = ctx.map(ProjectionConfig(method=method))
per_image = st.segmented_control(
    _("Codes per image"), samples_map.CHOICES, default=1, key="map_per_image",
    format_func={k: samples_map.label(k) for k in samples_map.CHOICES}.get,
    help=_("One code per image (its posterior mean), or several samples z ~ q(z|x) of each: how uncertain the "
           "encoder is, as clouds around the means. Many codes are drawn as a density that becomes points as you "
           "zoom."))
if per_image and per_image > 1:
    samples_map.show(ctx, bundle, int(per_image))
    st.stop()
coords, lmap = bundle.coords, bundle.latent_map
grid = spot_grid(coords, 70)
values = {"class": None, "recon": ctx.enc.recon, "kl": ctx.enc.kl, "sigma": ctx.enc.sigma_mean}[color_by]
prior_z = prior_samples(int(n_prior), ctx.latent_dim, seed=1) if show_prior else None
prior_xy = lmap.to_map(prior_z) if prior_z is not None else None

background = None
if method == "latent":
    lo, hi = padded_bounds(coords)
    background = decoded_grid_background(ctx.decode, lo, hi, n=24)

chosen = selected_index(ctx)
fig = latent_map(
    coords, ctx.enc.labels, ctx.class_names, color_by=color_by, values=values, grid=grid,
    prior=prior_xy, highlight=[chosen] if chosen is not None else [], background=background,
    axis_titles=("z0", "z1") if method == "latent" else None,
)
# Streamlit selects a clicked point only outside box/lasso mode: dragging pans, the toolbar has box and lasso
fig.update_layout(dragmode="pan")
tr_fig(fig)

left, right = st.columns([3, 2], gap="medium")
chart_key = f"map_chart_{ctx.name}_{ctx.split}_{method}"
with left:
    event = st.plotly_chart(
        fig, key=chart_key, on_select="rerun",
        selection_mode=("points", "box", "lasso"), config={"scrollZoom": True, "displaylogo": False},
    )
    st.caption(_("{map} · {n:,} points · legend entries toggle classes · box and lasso select in the toolbar · "
                 "drag to pan · scroll to zoom · double-click to reset.").format(map=bundle.label, n=len(coords)))


def point_ref(point: dict) -> tuple[int, int] | None:
    """(kind, index) from a selected point's customdata. plotly.js hands NumPy-backed customdata
    over as a typed array, which reaches Python as {"0": kind, "1": index}, not as a list."""
    cd = point.get("customdata")
    if isinstance(cd, dict):
        cd = [cd.get("0"), cd.get("1")]
    if not isinstance(cd, (list, tuple)) or len(cd) < 2 or cd[0] is None or cd[1] is None:
        return None
    return int(cd[0]), int(cd[1])


points = list(event.selection.points) if event and event.selection else []
data_idx, grid_idx, prior_idx = [], [], []
for p in points:
    ref = point_ref(p)
    if ref is None:
        continue
    kind, i = ref
    (data_idx if kind == KIND_DATA else grid_idx if kind == KIND_GRID else prior_idx).append(i)
box_or_lasso = bool(event and event.selection and (event.selection.box or event.selection.lasso))


def point_details(i: int) -> None:
    x = ctx.data.images[i : i + 1]
    recon = ctx.decode(ctx.enc.mu[i : i + 1])
    st.subheader(f"#{i} · {ctx.class_name(i)}")
    a, b = st.columns(2)
    with a:
        show_image(x[0], _("original"))
    with b:
        show_image(recon[0], _("reconstruction (decoded μ)"))
    m = st.columns(4)
    m[0].metric("−ELBO", f"{ctx.enc.neg_elbo[i]:.1f}", help=_("nats: reconstruction + KL, one posterior sample"))
    m[1].metric(_("Reconstruction"), f"{ctx.enc.recon[i]:.1f}", help=_("−log p(x|z), nats"))
    m[2].metric("KL", f"{ctx.enc.kl[i]:.1f}", help=_("KL(q(z|x) ‖ N(0, I)), nats"))
    m[3].metric("MSE", f"{ctx.enc.mse[i]:.4f}", help=_("mean squared error per pixel of the reconstruction"))
    order = dims_by_kl(ctx.kl_per_dim)
    st.plotly_chart(tr_fig(latent_code_bars(ctx.enc.mu[i], np.exp(0.5 * ctx.enc.logvar[i]), order)),
                    key="map_code_bars", config={"displayModeBar": False})
    st.caption(_("Latent code: posterior mean μ ± σ per dimension (most informative first); the green band "
                 "is ±1 under the prior."))
    b1, b2 = st.columns(2)
    if b1.button(_("Steer this point"), key="map_steer", icon=":material/tune:", width="stretch",
                 help=_("Open Sliders starting from this image's code")):
        select_index(ctx, i)
        st.session_state["sliders_start_request"] = {"kind": "index", "index": i}
        st.switch_page("pages/sliders.py")
    if b2.button(_("〰️ Interpolate from here"), key="map_interp", width="stretch"):
        select_index(ctx, i)
        st.session_state["interp_a_request"] = i
        st.switch_page("pages/interpolate.py")
    st.download_button(
        _("Latent code (CSV)"), latent_table(ctx.enc.mu[i : i + 1], ctx.enc.labels[i : i + 1], ctx.class_names,
                                          np.array([i])),
        file_name=f"{ctx.name}-{ctx.split}-{i}.csv", mime="text/csv", key="map_dl_code")


def spot_details(xy: np.ndarray) -> None:
    t0 = time.perf_counter()
    z = lmap.to_latent(xy[None])[0]
    img = ctx.decode(z[None])[0]
    ms = (time.perf_counter() - t0) * 1000
    where = lmap.describe(xy)
    st.subheader(_("Decoded spot"))
    a, b = st.columns(2)
    with a:
        show_image(img, _("decoded at ({x:.2f}, {y:.2f})").format(x=xy[0], y=xy[1]))
    with b:
        j = where["nearest_index"]
        show_image(ctx.data.images[j], _("nearest image: #{j} {cls}").format(j=j, cls=ctx.class_name(j)))
    verdict = where["verdict"]
    msg = _("**{verdict}** — {d:.2f} map units from the nearest encoded image ({x:.1f}× the typical gap between "
            "neighbours). Decoded in {ms:.0f} ms.").format(verdict=_(verdict), d=where["distance"],
                                                           x=where["spacings"], ms=ms)
    (st.success if verdict == "inside the data" else st.info if "edge" in verdict else st.warning)(msg)
    if method in ("umap", "tsne"):
        st.caption(_("Fast inverse: the latent codes of the 8 nearest points on the map, weighted by inverse "
                     "squared distance."))
    else:
        st.caption(_("This map is linear (or the latent space itself), so the inverse is exact."))
    st.code(fmt_code(z), language=None)
    if method == "umap":
        if st.button(_("Refine with umap-learn's inverse_transform (slow: seconds)"), key="map_refine"):
            reducer = bundle.reducer or umap_reducer(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit,
                                                     bundle.cfg)
            t1 = time.perf_counter()
            z2 = np.asarray(reducer.inverse_transform(xy[None].astype(np.float32)), dtype=np.float32)[0]
            secs = time.perf_counter() - t1
            show_image(ctx.decode(z2[None])[0], _("umap-learn inverse ({secs:.1f} s)").format(secs=secs))
            st.caption(_("Distance between the two codes: {d:.2f} (typical code norm {norm:.2f}).").format(
                d=np.linalg.norm(z2 - z), norm=np.linalg.norm(ctx.enc.mu, axis=1).mean()))
    if st.button(_("Steer from this spot"), key="map_steer_spot", icon=":material/tune:"):
        st.session_state["sliders_start_request"] = {"kind": "code", "code": [float(v) for v in z]}
        st.switch_page("pages/sliders.py")


PREVIEW_PX = 112


def hover_preview() -> None:
    """The spot under the mouse, decoded in the page as the mouse moves (a click still decodes on the
    server, below)."""
    urls, problem = live_decoder.model_urls(ctx.ck)
    if urls is None:
        live_decoder.off_line(problem, _("Click a spot to decode it on the server."))
        return
    tag = f"{ctx.split}-{len(ctx.enc)}"
    live_decoder.mount("hover", {
        "decoder": urls["decoder"], "image": live_decoder.image_spec(ctx.ck, PREVIEW_PX), "chart": chart_key,
        "map": live_decoder.map_spec(ctx.ck, lmap, tag, f"{tag}-{bundle.cfg.key()}"),
        "text": {"idle": _("Move the mouse over the map: the spot under it is decoded here, in your browser."),
                 "caption": _("under the mouse: ({x}, {y}), decoded in your browser"),
                 "off": _("The live preview is off: {reason}. Click a spot to decode it on the server.")},
    }, key="map_hover_view")


with right:
    hover_preview()
    if data_idx and (len(data_idx) > 1 or box_or_lasso):
        sel = sorted(set(data_idx))
        st.subheader(_("{n:,} images selected").format(n=len(sel)))
        counts = np.bincount(ctx.enc.labels[sel], minlength=len(ctx.class_names))
        st.caption(" · ".join(f"{ctx.class_names[c]}: {n}" for c, n in enumerate(counts) if n))
        show = sel[:24]
        st.markdown(_("**Originals** (top) and **reconstructions** (bottom), first 24"))
        for start in range(0, len(show), 8):
            chunk = show[start : start + 8]
            image_row(ctx.data.images[chunk], size=56, per_row=8)
            image_row(ctx.decode(ctx.enc.mu[chunk]), size=56, per_row=8)
        st.metric(_("Mean −ELBO of the selection"), f"{ctx.enc.neg_elbo[sel].mean():.1f} nats",
                  delta=_("{delta:+.1f} vs all").format(delta=ctx.enc.neg_elbo[sel].mean() - ctx.enc.neg_elbo.mean()),
                  delta_color="inverse")
        st.download_button(_("Latent codes of the selection (CSV)"),
                           latent_table(ctx.enc.mu[sel], ctx.enc.labels[sel], ctx.class_names, np.array(sel)),
                           file_name=f"{ctx.name}-selection.csv", mime="text/csv", key="map_dl_sel")
    elif data_idx:
        select_index(ctx, data_idx[0])
        point_details(data_idx[0])
    elif grid_idx:
        spot_details(grid[grid_idx[0]])
    elif prior_idx and prior_z is not None:
        k = prior_idx[0]
        st.subheader(_("Prior sample {k}").format(k=k))
        show_image(ctx.decode(prior_z[k : k + 1])[0], _("decoded z ~ N(0, I)"))
        st.caption(_("A code drawn from the prior, placed on the map by its nearest encoded neighbours."))
        st.code(fmt_code(prior_z[k]), language=None)
    elif chosen is not None:
        point_details(chosen)
    else:
        st.info(_("Click a point to see its image, reconstruction and latent code. Drag a box or lasso "
                  "(toolbar) to select a group. Click between points to decode that spot of the map."))
        st.markdown(
            _("- **{n:,} images**, {k} classes\n"
              "- mean −ELBO **{elbo:.1f} nats** (reconstruction {recon:.1f} + KL {kl:.1f})\n"
              "- **{used} of {d}** latent dimensions in use (KL > 0.05 nats)").format(
                n=len(ctx.enc), k=len(ctx.class_names), elbo=ctx.enc.neg_elbo.mean(), recon=ctx.enc.recon.mean(),
                kl=ctx.enc.kl.mean(), used=ctx.latent_dim - len(ctx.collapsed), d=ctx.latent_dim)
        )

# The map is on screen by now: build the 2-D neighbour index for clicks on empty space here
# (a few hundred ms, once per map), so that the first such click is as fast as the others.
_spacing = lmap.spacing
warm_up()  # the latent-space search of the other pages compiles while the map is looked at
