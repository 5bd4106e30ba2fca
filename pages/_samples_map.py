"""The Map page's view of many codes per image: k posterior samples z ~ q(z|x) of every image of the
explore set (a million codes for 70,000 images x 15), drawn by the density-raster component."""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from components import big_map
from pages._context import Ctx, select_index
from pages._i18n import _
from pages._loaders import MapBundle
from pages._widgets import fmt_code, show_image
from vae.explore.figures import class_color, padded_bounds

#: Codes per image the Map page offers: the posterior mean, or this many samples of q(z|x).
CHOICES = (1, 5, 15)


def label(k: int) -> str:
    return _("1 (posterior mean)") if k == 1 else _("{k} samples z ~ q(z|x)").format(k=k)


def show(ctx: Ctx, bundle: MapBundle, k: int) -> None:
    """The map of ``k`` posterior samples per image, and the image of the code clicked on it."""
    samples = ctx.samples(k, bundle.cfg)
    labels = ctx.enc.labels[samples.owner]
    lo, hi = padded_bounds(bundle.coords)
    key = f"map_samples_{ctx.name}_{ctx.split}_{bundle.cfg.key()}_{k}"
    chosen = st.session_state.get("map_sample")
    if chosen is not None and chosen.get("key") is None and 0 <= chosen["index"] < len(samples):
        chosen = st.session_state["map_sample"] = {"key": key, "index": chosen["index"]}  # from a link
    if chosen is not None and (chosen.get("key") != key or not 0 <= chosen["index"] < len(samples)):
        chosen = None
    left, right = st.columns([3, 2], gap="medium")
    with left:
        clicked = big_map.mount(
            ctx.ck.content_hash, f"{ctx.split}-{len(ctx.enc)}-{bundle.cfg.key()}-k{k}", samples.coords, labels,
            [class_color(c) for c in range(len(ctx.class_names))], (lo[0], lo[1], hi[0], hi[1]),
            tuple(samples.coords[chosen["index"]]) if chosen else None, key=key)
        st.caption(_("{map} · {n:,} codes: {k} posterior samples of each of the {images:,} images, each placed on the "
                     "map of the posterior means by its nearest encoded neighbours · colour: the class of its "
                     "image.").format(map=bundle.label, n=len(samples), k=k, images=len(ctx.enc)))
    if clicked is not None:
        chosen = {"key": key, "index": int(clicked)}
        st.session_state["map_sample"] = chosen
    with right:
        st.html("<div style='font-size:0.85rem;line-height:1.6'>" + " ".join(
            f"<span style='white-space:nowrap;margin-right:0.6em'><span style='color:{class_color(c)}'>●</span> "
            f"{html.escape(str(n))}</span>" for c, n in enumerate(ctx.class_names)) + "</div>")
        if chosen is None:
            st.info(_("Scroll to zoom into the cloud of codes: it turns into points. Click a point to see the image "
                      "it was drawn for, and what that sample decodes to."))
            st.markdown(_("- **{n:,} codes**, {k} per image\n- mean posterior σ **{sigma:.3f}**: how far the samples "
                          "of one image spread around its mean").format(n=len(samples), k=k,
                                                                        sigma=ctx.enc.sigma_mean.mean()))
            return
        j = chosen["index"]
        i = int(samples.owner[j])
        select_index(ctx, i)
        z = samples.codes[j]
        st.subheader(_("#{i} · {cls} · sample {s} of {k}").format(i=i, cls=ctx.class_name(i), s=j % k + 1, k=k))
        a, b, c = st.columns(3)
        with a:
            show_image(ctx.data.images[i], _("original"), size=96)
        with b:
            show_image(ctx.decode(ctx.enc.mu[i : i + 1])[0], _("decoded mean μ"), size=96)
        with c:
            show_image(ctx.decode(z[None])[0], _("decoded sample z"), size=96)
        sigma = np.exp(0.5 * ctx.enc.logvar[i])
        st.caption(_("z lies {d:.2f} posterior σ from the image's mean ({dims} dimensions: about {typical:.1f} is "
                     "typical).").format(d=np.linalg.norm((z - ctx.enc.mu[i]) / sigma), dims=ctx.latent_dim,
                                         typical=np.sqrt(ctx.latent_dim)))
        st.code(fmt_code(z), language=None)
