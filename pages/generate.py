"""Generate: decode codes drawn from the prior z ~ N(0, T² I), shown large; download PNG and codes."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import streamlit as st

from pages import _link as link
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import get_ctx
from pages._i18n import N_, _
from pages._link import integer, number
from pages._widgets import fmt_code
from vae.data.images import image_grid, png_bytes, upscale
from vae.explore.latent import prior_samples

DISPLAY_WIDTH = 760  # target width of the displayed grid, pixels

PARAMS = link.declare("generate", [
    integer("n", "gen_count", N_("number of samples"), 1, 100),
    number("temp", "gen_temp", N_("temperature"), 0.0, 2.0),
    integer("seed", "gen_seed", N_("seed"), 0, 1_000_000),
])


def grid_scale(ncol: int, width: int, target: int = DISPLAY_WIDTH) -> int:
    """Nearest-neighbour factor so that ``ncol`` images of ``width`` pixels (+1 px gaps) fill ``target``."""
    return max(1, target // (ncol * (width + 1) + 1))


def grid_layout(n: int, width: int, presenting: bool) -> tuple[int, int]:
    """(columns, nearest-neighbour factor) of the grid of ``n`` samples ``width`` pixels wide: about square;
    in presenter mode about twice as wide as tall, so that it fits a projector below the tour's bar, with
    samples of at least presenter.THUMB_PX (a grid wider than the page shrinks to fit it)."""
    if not presenting:
        ncol = min(n, max(1, math.ceil(math.sqrt(n))), 10)
        return ncol, grid_scale(ncol, width)
    ncol = min(n, max(1, math.ceil(math.sqrt(2 * n))), 12)
    return ncol, max(grid_scale(ncol, width, presenter.px(DISPLAY_WIDTH)), math.ceil(presenter.THUMB_PX / width))


def codes_csv(z: np.ndarray, temperature: float, seed: int) -> str:
    """CSV text: sample, temperature, seed, z0..z{D-1}."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["sample", "temperature", "seed", *[f"z{i}" for i in range(z.shape[1])]])
    for k, row in enumerate(z):
        w.writerow([k, f"{temperature:g}", seed, *[f"{v:.6g}" for v in row]])
    return buf.getvalue()


def bump_seed() -> None:
    st.session_state["gen_seed"] = int(st.session_state.get("gen_seed", 0)) + 1


@nav.page("generate")
def main() -> None:
    """The page: sample from the prior, show the grid large, offer downloads."""
    ctx = get_ctx()
    link.restore("generate", ctx)
    st.title(_("Generate"))
    st.caption(
        _("New images from **{name}**: draw latent codes from the prior z ~ N(0, T² I) "
          "({d} numbers each) and decode them. No real image is involved.").format(name=ctx.name, d=ctx.latent_dim)
    )

    c1, c2, c3, c4 = st.columns([1.2, 2.0, 1.0, 0.8], vertical_alignment="bottom")
    count = c1.number_input(_("Samples"), 1, 100, 36, key="gen_count")
    temperature = c2.slider(
        _("Temperature T"), 0.0, 2.0, 1.0, 0.05, key="gen_temp",
        help=_("Scales the prior's standard deviation. T < 1 stays near the centre of the latent space "
               "(typical, cleaner images); T > 1 reaches its outskirts (unusual, often broken images); "
               "T = 0 decodes z = 0 for every sample."),
    )
    seed = c3.number_input(_("Seed"), 0, 1_000_000, 0, key="gen_seed")
    c4.button(_("New seed"), key="gen_new_seed", on_click=bump_seed, width="stretch")

    n = int(count)
    z = prior_samples(n, ctx.latent_dim, temperature=float(temperature), seed=int(seed))  # (n, D)
    images = ctx.decode(z)  # (n, C, H, W)
    h, w = ctx.ck.config.image_shape[1:]
    ncol, scale = grid_layout(n, w, presenter.on())
    grid = image_grid(images, ncol=ncol, scale=scale)
    st.container(key="gen_grid").image(  # the tour's focus: samples of the prior
        grid, output_format="PNG", width=grid.width,
        caption=_("{n} samples · T = {t:g} · seed {seed} · {w}×{h} pixels each, shown ×{scale}").format(
            n=n, t=temperature, seed=seed, w=w, h=h, scale=scale))
    if temperature == 0:
        st.info(_("At T = 0 every code is z = 0, the prior's mean, so all samples are the same image."))

    data_norm = float(np.linalg.norm(ctx.enc.mu, axis=1).mean())
    st.caption(
        _("Average code length ‖z‖ here: {here:.2f}; of the {split}-split images' codes μ: {data:.2f}. "
          "Samples far outside the data's range decode to images unlike any training image.").format(
            here=np.linalg.norm(z, axis=1).mean(), split=ctx.split_label, data=data_norm)
    )

    link.sync("generate", ctx)
    d1, d2 = st.columns(2)
    stem = f"{ctx.name}-samples-T{temperature:g}-seed{seed}"
    d1.download_button(_("Download the grid (PNG)"), png_bytes(grid), file_name=f"{stem}.png",
                       mime="image/png", key="gen_dl_png", width="stretch")
    d2.download_button(_("Download the latent codes (CSV)"), codes_csv(z, float(temperature), int(seed)),
                       file_name=f"{stem}.csv", mime="text/csv", key="gen_dl_csv", width="stretch")

    _one_sample(z, images)


def _one_sample(z: np.ndarray, images) -> None:
    """A sample of the grid, large, with its code and Steer."""
    n = len(z)
    st.subheader(_("One sample up close"))
    s1, s2 = st.columns([1, 2])
    if int(st.session_state.get("gen_pick", 0)) > n - 1:  # fewer samples than before
        st.session_state["gen_pick"] = n - 1
    k = int(s1.number_input(_("Sample"), 0, n - 1, 0, key="gen_pick",
                            help=_("Counted from 0, left to right, top to bottom")))
    with s1:
        big = upscale(images[k], presenter.px(196))
        st.image(big, caption=_("sample {k}").format(k=k), output_format="PNG", width=big.shape[1])
    with s2:
        st.code(fmt_code(z[k]), language=None, wrap_lines=True)
        if st.button(_("Steer this sample"), key="gen_steer", icon=":material/tune:",
                     help=_("Open Sliders starting from this sample's code")):
            st.session_state["sliders_start_request"] = {"kind": "code", "code": [float(v) for v in z[k]]}
            nav.switch("sliders")
