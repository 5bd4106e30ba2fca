"""How it works: the VAE explained with the live numbers of the loaded model.

Sections: the encoder -> z -> decoder picture, the ELBO of one image, the reparameterisation
trick, KL per dimension and the dimensions in use, what beta changes, prior versus encoded data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, beta_partners, get_ctx, selected_index
from pages._i18n import N_, _, tr, tr_fig
from pages._link import integer, one_of
from pages._widgets import show_image, show_images
from vae.archs import get_architecture
from vae.errors import CheckpointError, DataError
from vae.evaluate import dims_in_use
from vae.explore.figures import histogram_compare, kl_bars
from vae.explore.latent import COLLAPSED_KL, dims_by_kl, in_use, mean_variance, prior_samples
from vae.model import gaussian_kl

PREFERRED_PARTNER = "fashion-mnist-beta4"
DIAGRAM_FONT = 15  # the diagram's letters, in its own units (larger in presenter mode)
PRESENTER_DIAGRAM_PX = 760  # the diagram's width in presenter mode, pixels

PARAMS = link.declare("how_it_works", [
    integer("image", "how_index", N_("image index"), 0, lambda ctx: len(ctx.enc) - 1),
    integer("eps", "how_eps_seed", N_("seed of ε"), 0, 999_999),
    one_of("compare", "how_partner", N_("checkpoint to compare with"), beta_partners),
])


@nav.page("how_it_works")
def main() -> None:
    """The page: six sections with the loaded model's numbers."""
    ctx = get_ctx()
    link.restore("how_it_works", ctx)
    cfg = ctx.ck.config
    st.title(_("How it works"))
    st.caption(
        _("A variational autoencoder, explained with the numbers of the loaded model **{name}** "
          "({dataset}, {d} latent dimensions, β = {beta:g}). Nothing on this page is a mock-up.")
        .format(name=ctx.name, dataset=ctx.ck.dataset, d=ctx.latent_dim, beta=cfg.beta)
    )
    the_picture(ctx)
    i = the_elbo_of_one_image(ctx)
    the_reparameterisation_trick(ctx, i)
    kl_per_dimension(ctx)
    what_beta_changes(ctx)
    prior_versus_data(ctx)
    link.sync("how_it_works", ctx)


# -- small helpers ------------------------------------------------------------------------------
def _img(img: torch.Tensor, caption: str | None = None, size: int = 140) -> None:
    """One image, larger in presenter mode."""
    show_image(img, caption, presenter.px(size))


def _row(images, captions: list[str] | None = None, size: int = 96) -> None:
    """Images side by side, larger in presenter mode, wrapping onto more lines when the page is narrow."""
    show_images(images, captions, presenter.px(size))


def _pixels(ctx: Ctx) -> tuple[int, int, int, int]:
    """(C, H, W, C·H·W) of the model's images."""
    c, h, w = (int(s) for s in ctx.ck.config.image_shape)
    return c, h, w, c * h * w


def _one_per_class(ctx: Ctx, n: int = 8) -> list[int]:
    """Indices of the first image of each class (then the next images), n in all."""
    labels = ctx.enc.labels
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    rest = [i for i in range(len(ctx.enc)) if i not in set(firsts)]
    return (firsts + rest)[:n]


# -- 1. the picture ----------------------------------------------------------------------------------
def diagram_dot(ctx: Ctx, fontsize: int = 15) -> str:
    """The model as a Graphviz DOT string, with this checkpoint's sizes.

    Drawn top to bottom (x at the top, x̂ at the bottom), three nodes wide, so that in a column beside
    the text its letters stay about ``fontsize`` pixels (a diagram nine nodes wide is scaled down to
    fit the page, its text with it)."""
    model, cfg, D = ctx.model, ctx.ck.config, ctx.latent_dim
    C, H, W, P = _pixels(ctx)
    K = model.likelihood.outputs_per_pixel  # decoder outputs per pixel value
    n_enc, n_dec = model.num_parameters("encoder"), model.num_parameters("decoder")
    if ctx.ck.imported:  # two ONNX graphs: their weight counts, no layer descriptions
        enc_text = dec_text = _("imported ONNX graph")
    else:
        arch = get_architecture(cfg.arch)(cfg)
        enc_text, dec_text = tr(arch.encoder_text()), tr(arch.decoder_text(C * K))
    lik = _(model.likelihood.label)
    lik = lik[:1].upper() + lik[1:]
    image = _("image {c}×{h}×{w}\\n({p} numbers)").format(c=C, h=H, w=W, p=P)
    enc_w, dec_w = (_("{n:,} weights").format(n=n) for n in (n_enc, n_dec))
    enc_label, dec_label, prior_label = _("encoder q(z|x)"), _("decoder p(x|z)"), _("prior p(z) = N(0, I)")
    kl_label = _("KL pulls q(z|x)\\ntowards")
    small = _label_font(fontsize)
    return f"""digraph VAE {{
  rankdir=TB; bgcolor="transparent"; nodesep=0.25; ranksep=0.3;
  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#4a6fa5", fontname="Helvetica",
        fontsize={fontsize}];
  edge [color="#555555"];
  x    [label="x\\n{image}", fillcolor="#ffffff"];
  enc  [label="{enc_label}\\n{enc_text}\\n{enc_w}"];
  mu   [label="μ\\n({D})", shape=ellipse];
  sig  [label="σ = exp(½ log σ²)\\n({D})", shape=ellipse];
  eps  [label="ε ~ N(0, I)\\n({D})", shape=ellipse, fillcolor="#fff4e0", color="#d08a00"];
  z    [label="z = μ + σ ⊙ ε\\n({D})", fillcolor="#e5f5e0", color="#2ca02c"];
  dec  [label="{dec_label}\\n{dec_text}\\n{dec_w}"];
  xhat [label="x̂\\n{C}×{H}×{W}\\n{lik}", fillcolor="#ffffff"];
  prior [label="{prior_label}", shape=ellipse, style="dashed", fillcolor="#ffffff"];
  x -> enc; enc -> mu; enc -> sig; mu -> z; sig -> z; eps -> z; z -> dec; dec -> xhat;
  prior -> z [style=dashed, label="{kl_label}", fontsize={small}, fontcolor="#555555"];
  {{ rank=same; mu; sig; eps; }}
}}"""


def _label_font(fontsize: int) -> int:
    """The diagram's edge label: a little smaller than its nodes' text."""
    return max(10, fontsize - 3)


def _diagram(where, dot: str, fontsize: int) -> None:
    """The Graphviz picture, its letters drawn at the size its boxes were laid out for: Streamlit sets
    every letter of a Graphviz chart to 0.6 rem, tiny text in boxes laid out for ``fontsize``. In
    presenter mode it is PRESENTER_DIAGRAM_PX wide, which keeps its letters at 16 px or more."""
    box = where.container(key="how_diagram")
    box.html(f"<style>.st-key-how_diagram g.node text {{ font-size: {fontsize}px; }} "
             f".st-key-how_diagram g.edge text {{ font-size: {_label_font(fontsize)}px; }}</style>")
    box.graphviz_chart(dot, width=PRESENTER_DIAGRAM_PX if presenter.on() else "stretch")


def the_picture(ctx: Ctx) -> None:
    """The diagram with the model's sizes, and what each part does."""
    D = ctx.latent_dim
    _c, _h, _w, P = _pixels(ctx)
    K = ctx.model.likelihood.outputs_per_pixel
    decodes = (_("{p} pixel probabilities x̂").format(p=P) if ctx.ck.config.likelihood == "bernoulli" else
               _("{n} numbers that define p(x|z), {k} per pixel value, whose mean is the image x̂").format(n=P * K, k=K))
    st.header(_("1 · Encoder → z → decoder"))
    # presenter mode: the picture above its words, wide enough for its letters to reach the back row
    pic, words = (st.container(), st.container()) if presenter.on() else st.columns([1, 1], gap="large")
    _diagram(pic, diagram_dot(ctx, presenter.font(DIAGRAM_FONT)), presenter.font(DIAGRAM_FONT))
    if ctx.ck.imported:
        pic.caption(_("Per-layer sizes are not shown: an imported ONNX model's graphs hold its weights, not a "
                      "description of its layers."))
    words.markdown(
        _("The **encoder** reads an image x ({p} pixel values) and outputs {n} numbers: a mean μ and a "
          "log-variance log σ² for each of the {d} latent dimensions. Together they describe a Gaussian "
          "q(z|x): not one point but a small cloud of codes that could have produced x.\n\n"
          "A code z is drawn from it (z = μ + σ ⊙ ε, with noise ε), and the **decoder** turns z back into "
          "{decodes}.\n\n"
          "The **prior** p(z) = N(0, I) is where codes should come from when we generate new images; the KL "
          "divergence term of the loss pulls every q(z|x) towards it.")
        .format(p=P, n=2 * D, d=D, decodes=decodes)
    )


# -- 2. the ELBO of one image --------------------------------------------------------------------------
def the_elbo_of_one_image(ctx: Ctx) -> int:
    """An image (the one chosen on the Map by default) and its ELBO; returns its index."""
    n = len(ctx.enc)
    st.header(_("2 · The ELBO (evidence lower bound) of one image"))
    default = selected_index(ctx)
    st.session_state.setdefault("how_index", 0 if default is None else default)
    if not 0 <= st.session_state["how_index"] < n:
        st.session_state["how_index"] = 0
    pick, a, b = st.columns([1, 1, 1], gap="medium")
    i = int(pick.number_input(_("Image index"), 0, n - 1, step=1, key="how_index",
                              help=_("The image chosen on the Map page, or any other of the explore set.")))
    with a:
        _img(ctx.data.images[i], f"x: #{i} {ctx.class_name(i)}")
    with b:
        _img(ctx.decode(ctx.enc.mu[i : i + 1])[0], _("decoded μ"))
    if not getattr(ctx.model.likelihood, "available", True):
        st.info(_("The ELBO needs a likelihood p(x|z), which **{name}** does not declare (imported with "
                  "`--likelihood none`); its KL term alone: {kl:.2f} nats.").format(
            name=ctx.name,
            kl=float(gaussian_kl(torch.from_numpy(ctx.enc.mu[i]), torch.from_numpy(ctx.enc.logvar[i])).sum())))
    else:
        show_elbo(ctx, i)
    return i


def show_elbo(ctx: Ctx, i: int) -> None:
    """The ELBO of image ``i``: its formulas, the sign convention, then the four figures (the same −ELBO
    as the Map's and every other page's for this image: ``Encoding.estimate``)."""
    D, (_c, _h, _w, P) = ctx.latent_dim, _pixels(ctx)
    est = ctx.enc.estimate(i)
    with st.container(key="how_elbo"):  # the tour's focus on the ELBO of one image
        recon_word, reg_word = _("reconstruction"), _("regulariser")
        st.latex(rf"-\mathrm{{ELBO}}(x) = \underbrace{{-\mathbb{{E}}_{{q(z\mid x)}}\big[\log p(x\mid z)\big]}}_{{\text{{{recon_word}}}}}"
                 rf" + \underbrace{{\mathrm{{KL}}\big(q(z\mid x)\,\|\,p(z)\big)}}_{{\text{{{reg_word}}}}} \;\ge\; -\log p(x)")
        st.latex(ctx.model.likelihood.formula(P))
        st.latex(rf"\mathrm{{KL}}\big(\mathcal N(\mu, \sigma^2)\,\|\,\mathcal N(0, I)\big) = \tfrac12 \sum_{{j=1}}^{{{D}}}"
                 r" \left(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\right)")
        image_word = _("Image #{i}").format(i=i).replace("#", r"\#")
        st.latex(rf"\text{{{image_word}}}:\quad -\mathrm{{ELBO}} = {est.recon:.1f} + {est.kl:.2f}"
                 rf" = {est.neg_elbo:.1f}\ \text{{nats}}")
    st.info(
        _("**Signs, once for the whole app:** every page reports **−ELBO** = reconstruction + KL, in nats, where "
          "reconstruction is −E[log p(x|z)]: both parts are positive and **lower is better**, as in `python -m vae "
          "evaluate` and the README. The ELBO itself, the bound above, is the same number with a minus sign."),
        icon=":material/swap_vert:",
    )
    m = st.columns(2) + st.columns(2)
    m[0].metric(_("Reconstruction (nats)"), f"{est.recon:.1f}",
                help=_("−E_q[log p(x|z)]: the mean over {k} samples z ~ q(z|x), standard error {se:.2f}").format(
                    k=est.samples, se=est.se))
    m[1].metric(_("KL (nats)"), f"{est.kl:.2f}",
                help=_("The KL divergence KL(q(z|x) ‖ p(z)): exact, from the closed form"))
    m[2].metric(_("−ELBO (nats)"), f"{est.neg_elbo:.1f}",
                delta=f"{est.neg_elbo - ctx.enc.neg_elbo.mean():+.1f}", delta_description=_("vs data average"),
                delta_color="inverse", help=_("reconstruction + KL; an upper bound on −log p(x); lower is better"))
    m[3].metric(_("β used in training"), f"{ctx.ck.config.beta:g}",
                help=_("The loss minimised was reconstruction + β·KL."))
    st.caption(
        _("The reconstruction term is summed over all {p} pixels, so it dominates; the KL is the price, in nats, "
          "of the information z carries about this image. The expectation is estimated from {k} samples z ~ q(z|x) "
          "whose noise ε is fixed for each image, so this image's −ELBO, {elbo:.1f} ± {se:.1f} nats, is the same on "
          "every page. Data average over {n:,} images, estimated the same way: reconstruction {recon:.1f} + KL "
          "{kl:.2f} = −ELBO {avg:.1f} nats.")
        .format(p=P, k=est.samples, elbo=est.neg_elbo, se=est.se, n=len(ctx.enc), recon=ctx.enc.recon.mean(),
                kl=ctx.enc.kl.mean(), avg=ctx.enc.neg_elbo.mean())
    )


# -- 3. the reparameterisation trick -------------------------------------------------------------------
def _draw_again() -> None:
    st.session_state["how_eps_seed"] = (int(st.session_state["how_eps_seed"]) + 1) % 1_000_000


def the_reparameterisation_trick(ctx: Ctx, i: int) -> None:
    """z = μ + σ ⊙ ε for image ``i`` with a fresh ε: the numbers per dimension and the two decodes."""
    D = ctx.latent_dim
    st.header(_("3 · The reparameterisation trick"))
    st.session_state.setdefault("how_eps_seed", 0)
    st.latex(r"z = \mu + \sigma \odot \varepsilon,\qquad \varepsilon \sim \mathcal N(0, I)")
    st.markdown(
        _("Sampling z ~ q(z|x) directly would block the gradient. Drawing the noise ε separately makes z a "
          "plain function of μ and σ (∂z/∂μ = 1, ∂z/∂σ = ε), so training can push the encoder's outputs.")
    )
    c1, c2 = st.columns([1, 3])
    with c1:
        seed = int(st.number_input(_("Seed of ε"), 0, 999_999, step=1, key="how_eps_seed"))
        st.button(_("Draw again"), key="how_draw", icon=":material/casino:", on_click=_draw_again, width="stretch")
    mu_i = ctx.enc.mu[i]
    sigma_i = np.exp(0.5 * ctx.enc.logvar[i])
    eps = torch.randn(D, generator=torch.Generator().manual_seed(seed)).numpy()
    z = (mu_i + sigma_i * eps).astype(np.float32)
    order = dims_by_kl(ctx.kl_per_dim)
    table = pd.DataFrame({
        _("dim"): [f"z{d}" for d in order], "μ": mu_i[order], "σ": sigma_i[order], "ε": eps[order], "z": z[order],
    }).round(3)
    t_col, i_col = st.columns([3, 2], gap="large")
    with t_col:
        st.dataframe(table, hide_index=True, key="how_reparam_table", height=min(38 + 35 * D, 420))
        st.caption(_("Image #{i}, dimensions sorted by average KL. Where σ ≈ 1 and μ ≈ 0 the dimension is "
                     "ignored: z there is pure noise, and the decoder has learned not to listen.").format(i=i))
    with i_col:
        imgs = ctx.decode(np.stack([mu_i, z]))
        x1, x2 = st.columns(2)
        with x1:
            _img(imgs[0], _("decode of μ"))
        with x2:
            _img(imgs[1], _("decode of z (seed {seed})").format(seed=seed))
        st.caption(_("‖z − μ‖ = {dist:.2f}. Draw again: a small σ means the image barely "
                     "changes — the encoder is sure about that image.").format(dist=np.linalg.norm(z - mu_i)))


# -- 4. KL per dimension ------------------------------------------------------------------------------
def kl_per_dimension(ctx: Ctx) -> None:
    """The KL of each dimension, which ones are in use, and what collapse means."""
    active, collapsed, order = ctx.active, ctx.collapsed, dims_by_kl(ctx.kl_per_dim)
    st.header(_("4 · KL per dimension, dimensions in use, collapse"))
    st.plotly_chart(tr_fig(kl_bars(ctx.kl_per_dim, active=active, height=280, font=presenter.font(12))), key="how_kl_bars",
                    config={"displayModeBar": False})
    msg = _("**{a} of {d} dimensions in use**: dimensions that carry information about the image, an average "
            "KL of at least {t} nats; the others are grey.").format(a=int(active.sum()), d=ctx.latent_dim, t=COLLAPSED_KL)
    if collapsed:
        msg += " " + _("**Collapsed**: {dims}. For these q(z_j|x) ≈ N(0, 1) for every "
                       "image — μ_j ≈ 0, σ_j ≈ 1 — so they cost almost no KL, carry no information, and moving along "
                       "them changes nothing. The KL term makes unused dimensions free only when they copy the "
                       "prior, so a VAE switches off what it does not need.").format(
            dims=", ".join(f"z{d}" for d in collapsed))
    else:
        msg += " " + _("No dimension has collapsed: every one carries information about the images.")
    st.markdown(msg)
    with st.expander(_("Per-dimension numbers")):
        sig = np.exp(0.5 * ctx.enc.logvar)
        st.dataframe(pd.DataFrame({
            _("dim"): [f"z{d}" for d in order], _("average KL (nats)"): ctx.kl_per_dim[order],
            "Var_x(μ)": mean_variance(ctx.enc.mu)[order], _("mean σ"): sig.mean(0)[order],
            _("active"): active[order],
        }).round(3), hide_index=True, key="how_dims_table")


# -- 5. what β changes -----------------------------------------------------------------------------------
def what_beta_changes(ctx: Ctx) -> None:
    """The β-weighted loss, and the loaded model beside a checkpoint of the same data with another β."""
    st.header(_("5 · What β changes"))
    st.latex(r"\mathcal L_\beta = -\mathbb{E}_{q(z\mid x)}[\log p(x\mid z)] + \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))")
    partners = beta_partners(ctx, PREFERRED_PARTNER)
    if not partners:
        C, H, W, _p = _pixels(ctx)
        st.info(
            _("No other checkpoint of **{dataset}** ({c}×{h}×{w}) with a different β is available, so "
              "there is nothing to compare with.").format(dataset=ctx.ck.dataset, c=C, h=H, w=W)
            + (" " + _("`checkpoints/{name}` (Fashion-MNIST, β = 4) is not there yet.").format(name=PREFERRED_PARTNER)
               if ctx.ck.dataset == "fashion-mnist" else "")
            + " " + _("Train one with `{command}`.").format(
                command=f"python -m vae train --dataset {ctx.ck.dataset} --latent-dim {ctx.latent_dim} --beta 4 "
                        f"--out checkpoints/{ctx.name}-beta4")
        )
    else:
        if st.session_state.get("how_partner") not in partners:
            st.session_state["how_partner"] = partners[0]
        other_name = st.selectbox(_("Compare with"), partners, key="how_partner",
                                  format_func=lambda n: f"{n} (β = {loaders.get_checkpoint(n, ctx.device).config.beta:g})")
        other = loaders.get_checkpoint(other_name, ctx.device)
        try:
            enc2 = loaders.load_encoding(other_name, other.content_hash, ctx.split, ctx.limit, ctx.device)
        except (DataError, CheckpointError) as e:
            enc2 = None
            st.warning(_("{name} cannot encode the {split} split: {error}").format(name=other_name, split=ctx.split_label, error=e))
        if enc2 is not None:
            _beta_side_by_side(ctx, other_name, other, enc2)
    st.markdown(
        _("A larger β makes information in z more expensive: the posterior stays closer to the prior, fewer "
          "dimensions stay active, reconstructions get blurrier and the −ELBO (which always counts the KL once) "
          "gets worse — in exchange for a smoother latent space whose dimensions tend to vary one factor at a time.")
    )


_KEYS = ("neg_elbo", "recon", "kl", "dims_in_use")  # the metrics the two models are compared by


def _stored(m: dict) -> dict[str, float] | None:
    """A checkpoint's metrics from its meta.json, or None when `python -m vae evaluate` has not stored them all."""
    v = {k: dims_in_use(m) if k == "dims_in_use" else m.get(k) for k in _KEYS}
    return v if all(isinstance(x, (int, float)) for x in v.values()) else None


def _computed(enc) -> dict[str, float]:
    """The same metrics measured on an encoded explore set."""
    return {"neg_elbo": float(enc.neg_elbo.mean()), "recon": float(enc.recon.mean()),
            "kl": float(enc.kl.mean()), "dims_in_use": int(in_use(enc.kl_dims.mean(0)).sum())}


def _beta_side_by_side(ctx: Ctx, other_name: str, other, enc2) -> None:
    """Both models' metrics, reconstructions of the same images and KL per dimension."""
    beta = ctx.ck.config.beta
    v1, v2 = _stored(ctx.ck.metrics), _stored(other.metrics)
    from_meta = v1 is not None and v2 is not None
    if not from_meta:
        v1, v2 = _computed(ctx.enc), _computed(enc2)
    rows = {"neg_elbo": "−ELBO (nats)", "recon": _("reconstruction −log p(x|z) (nats)"),
            "kl": "KL (nats)", "dims_in_use": _("dimensions in use (of {a} / {b})").format(
                a=ctx.latent_dim, b=other.config.latent_dim)}
    col_a, col_b = f"{ctx.name} (β = {beta:g})", f"{other_name} (β = {other.config.beta:g})"
    with st.container(key="how_beta"):  # the tour's focus on β: the table, and the dimensions each model uses
        st.dataframe(pd.DataFrame({
            "": list(rows.values()),
            col_a: [f"{v1[k]:.1f}" if k != "dims_in_use" else str(int(v1[k])) for k in _KEYS],
            col_b: [f"{v2[k]:.1f}" if k != "dims_in_use" else str(int(v2[k])) for k in _KEYS],
        }), hide_index=True, key="how_beta_table")
        k1, k2 = st.columns(2)
        k1.plotly_chart(tr_fig(kl_bars(ctx.kl_per_dim, ctx.active, height=220,
                                       title=_("KL per dim, {model}").format(model=col_a), font=presenter.font(12))),
                        key="how_beta_kl_a", config={"displayModeBar": False})
        k2.plotly_chart(tr_fig(kl_bars(enc2.kl_dims.mean(0), in_use(enc2.kl_dims.mean(0)), height=220,
                                       title=_("KL per dim, {model}").format(model=col_b), font=presenter.font(12))),
                        key="how_beta_kl_b", config={"displayModeBar": False})
    st.caption(_("Test-split metrics from each checkpoint's meta.json (`python -m vae evaluate`).") if from_meta
               else _("Computed on the same {n:,} {split}-split images (the checkpoints' meta.json "
                      "files do not both hold evaluation metrics yet).").format(n=len(ctx.enc), split=ctx.split_label))
    idx = _one_per_class(ctx, 8)
    with torch.inference_mode():
        rec2 = other.model.reconstruct(ctx.data.images[idx])
    st.markdown(_("**Originals** · **this model** · **the other model**, the same images:"))
    _row(ctx.data.images[idx])
    _row(ctx.decode(ctx.enc.mu[idx]), [f"β = {beta:g}"] * len(idx))
    _row(rec2, [f"β = {other.config.beta:g}"] * len(idx))


# -- 6. prior vs encoded data --------------------------------------------------------------------------
def prior_versus_data(ctx: Ctx) -> None:
    """One dimension's encoded means against the prior, and decoded prior samples against reconstructions."""
    n, order = len(ctx.enc), dims_by_kl(ctx.kl_per_dim)
    st.header(_("6 · The prior versus the encoded data"))
    if st.session_state.get("how_hist_dim") not in order:
        st.session_state["how_hist_dim"] = order[0]
    h1, h2 = st.columns([1, 3], gap="large")
    with h1:
        d = int(st.selectbox(_("Dimension"), order, key="how_hist_dim",
                             format_func=lambda j: f"z{j} (KL {ctx.kl_per_dim[j]:.2f} nats)"))
        var_mu = float(ctx.enc.mu[:, d].var())
        mean_s2 = float(np.exp(ctx.enc.logvar[:, d]).mean())
        st.markdown(
            _("Var_x(μ) = **{var:.2f}**  \nE_x[σ²] = **{s2:.2f}**  \nsum = **{total:.2f}**").format(
                var=var_mu, s2=mean_s2, total=var_mu + mean_s2)
        )
        st.caption(_("The aggregate posterior q(z) = average of q(z|x) over the data has exactly this variance. "
                     "If q(z) matched the prior the sum would be 1; a collapsed dimension has Var(μ) ≈ 0, σ² ≈ 1."))
    with h2:
        prior_1d = np.random.default_rng(0).standard_normal(max(n, 20_000)).astype(np.float32)
        st.plotly_chart(tr_fig(histogram_compare(
            prior_1d, ctx.enc.mu[:, d], (_("prior N(0, 1)"), _("encoded means μ (z{d})").format(d=d)),
            _("z{d}: prior samples vs the posterior means of {n:,} images").format(d=d, n=n), height=300)),
                        key="how_hist", config={"displayModeBar": False}, theme=None)
    p1, p2 = st.columns([1, 3])
    with p1:
        pseed = int(st.number_input(_("Prior seed"), 0, 999_999, 0, key="how_prior_seed"))
    idx = _one_per_class(ctx, 8)
    st.markdown(_("**Decoded samples from the prior** z ~ N(0, I):"))
    _row(ctx.decode(prior_samples(8, ctx.latent_dim, seed=pseed)))
    st.markdown(_("**Reconstructions** of encoded images (decoded μ):"))
    _row(ctx.decode(ctx.enc.mu[idx]), [ctx.class_name(j) for j in idx])
    st.caption(_("Generation decodes codes from the prior; they look like the data only where the encoded codes "
                 "cover the prior. Odd or blurry samples come from regions of N(0, I) that no image maps to."))
