"""Autoencoder vs VAE: the same network trained with β = 0 (a plain autoencoder: reconstruction
only) and with β = 1 (the ELBO), side by side: maps, prior samples, paths through the gaps,
and the aggregate posterior against the prior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx
from pages._i18n import N_, _, tr_fig
from pages._link import integer
from pages._story import comparison_model, gap, partner
from pages._widgets import show_images
from vae.baselines.classifier import KIND as CLASSIFIER
from vae.baselines.compare import aggregate_kl, nearest_distances
from vae.explore.figures import histograms, latent_map, lines
from vae.explore.latent import decode, lerp, prior_samples
from vae.explore.sets import default_projection

PATH_STEPS = 9
N_PRIOR = 10  # prior samples through both decoders (one row)
PRESENTER_PRIOR = 8  # the same in presenter mode, where they are larger (one row at 1024 px)

PARAMS = link.declare("ae_vs_vae", [
    integer("seed", "avv_seed", N_("seed"), 0, 1_000_000),
    integer("from", "avv_from", N_("class to start from"), 0, lambda ctx: len(ctx.class_names) - 1),
    integer("to", "avv_to", N_("class to end at"), 0, lambda ctx: len(ctx.class_names) - 1),
    integer("dim", "avv_dim", N_("dimension"), 0, lambda ctx: ctx.latent_dim - 1),
])


def pair(ctx) -> tuple[str | None, str | None]:
    """(autoencoder, VAE) checkpoint names for the loaded one: itself and its β = 0 / β > 0 twin."""
    if ctx.ck.config.beta == 0:
        return ctx.name, partner(ctx, want_beta_zero=False)
    return partner(ctx, want_beta_zero=True), ctx.name


def _shown() -> dict[str, str]:
    """The two models as the page names them."""
    return {"autoencoder": _("autoencoder"), "VAE": "VAE"}


def code_summary(mu: np.ndarray, logvar: np.ndarray, name: str, content_hash: str) -> dict[str, str]:
    g = gap(name, content_hash)
    return {
        _("mean ‖μ‖ (prior: ‖z‖ ≈ √D)"): f"{np.linalg.norm(mu, axis=1).mean():.2f}",
        _("spread of μ per dimension (std, min – max)"): f"{mu.std(0).min():.2f} – {mu.std(0).max():.2f}",
        _("mean posterior σ"): f"{np.exp(0.5 * logvar).mean():.3f}",
        _("KL(aggregate posterior ‖ prior), Gaussian fit (nats)"): f"{aggregate_kl(mu, logvar):.1f}",
        _("prior sample → nearest encoded image, in data spacings"): f"{g['ratio']:.2f}",
        _("KL(prior ‖ aggregate posterior), nats"): f"{g['kl']:,.1f}",
        _("prior samples in a hole (q(z) < p(z) / 100)"): f"{g['hole_share']:.0%}",
    }


def no_twin_message(ctx, missing_autoencoder: bool) -> str:
    """What to do when the loaded checkpoint has no twin to compare with: the command that trains one
    (ours), or how to bring one (an imported model, which this tool cannot train)."""
    cfg = ctx.ck.config
    missing = _("autoencoder (β = 0)") if missing_autoencoder else _("VAE (β > 0)")
    beta = 0 if missing_autoencoder else 1
    twin = f"checkpoints/{ctx.name}-{'ae' if missing_autoencoder else 'vae'}"
    if ctx.ck.imported:
        return _("There is no {missing} twin of **{name}** (same data and latent size) among the checkpoints, so "
                 "there is nothing to compare with. **{name}** is an imported model, which this tool cannot train: "
                 "train the same network with β = {beta} in your own code, then import it with `{command}`. "
                 "`fashion-mnist` and its autoencoder `fashion-mnist-ae` show the comparison on our models.").format(
            missing=missing, name=ctx.name, beta=beta,
            command=f"python -m vae import --encoder encoder.onnx --decoder decoder.onnx --dataset "
                    f"{ctx.ck.dataset} --beta {beta} --out {twin}")
    return _("There is no {missing} twin of **{name}** (same data, architecture and latent size) among "
             "the checkpoints, so there is nothing to compare with. `checkpoints/fashion-mnist-ae` is the "
             "autoencoder of the default model; or train one with `{command}`.").format(
        missing=missing, name=ctx.name,
        command=f"python -m vae train --dataset {ctx.ck.dataset} --arch {cfg.arch} --latent-dim "
                f"{cfg.latent_dim} --beta {beta} --out {twin}")


@nav.page("ae_vs_vae")
def main() -> None:
    """The page: the autoencoder and the VAE of the same network, then four sections."""
    ctx = get_ctx()
    link.restore("ae_vs_vae", ctx)  # the link's settings, before the widgets
    st.title(_("Autoencoder vs VAE"))
    ae_name, vae_name = pair(ctx)
    if ae_name is None or vae_name is None:
        st.info(no_twin_message(ctx, missing_autoencoder=ae_name is None))
        return
    ae, vae = loaders.get_checkpoint(ae_name, ctx.device), loaders.get_checkpoint(vae_name, ctx.device)
    st.caption(
        _("**{ae}** and **{vae}**: the same encoder and decoder ({arch}, latent {d}), the same data ({dataset}). "
          "The autoencoder minimised the reconstruction error alone (β = 0); the VAE also paid, in nats, for "
          "every code that strays from the prior N(0, I) (β = {beta:g}). Everything below is computed on the "
          "{split} split.").format(ae=ae_name, vae=vae_name, arch=ae.config.arch, d=ae.config.latent_dim,
                                    dataset=ae.dataset, beta=vae.config.beta, split=ctx.split_label)
    )
    models = {"autoencoder": (ae_name, ae), "VAE": (vae_name, vae)}  # kind -> (name, checkpoint)
    encs = {k: loaders.get_encoding(name, ctx.split, ctx.device) for k, (name, _ck) in models.items()}
    two_maps(ctx, models, encs)
    prior_samples_through_both(ctx, models)
    paths_through_the_gaps(ctx, models, encs)
    aggregate_posterior(ctx, models, encs)
    link.sync("ae_vs_vae", ctx)


def two_maps(ctx: Ctx, models: dict, encs: dict) -> None:
    """Each model's map of the explore set, side by side (one legend: the colours are the same)."""
    shown = _shown()
    st.header(_("1 · Two maps of the same images"))
    cols = st.columns(2)
    for col, (k, (name, ck)) in zip(cols, models.items(), strict=True):
        limit = ctx.limit
        bundle = loaders.load_map(name, ck.content_hash, ctx.split, limit, default_projection(ck))
        with col:
            st.markdown(f"**{shown[k]}** · {name} · {bundle.label}")
            fig = latent_map(bundle.coords, encs[k].labels, ctx.class_names, height=380, marker_size=3)
            fig.update_layout(showlegend=k == "VAE")  # one legend for both: the colours are the same
            st.plotly_chart(tr_fig(fig), key=f"avv_map_{k}", config={"displayModeBar": False})
    st.caption(_("Both encoders sort the images by class: an autoencoder is a fine feature extractor. The difference "
                 "is not in where the images go but in what lies between and around them, below."))


def prior_samples_through_both(ctx: Ctx, models: dict) -> None:
    """The same prior samples through both decoders, with the classifier's confidence and the KL of the holes."""
    shown = _shown()
    st.header(_("2 · Samples from the prior"))
    seed = int(st.number_input(_("Seed"), 0, 1_000_000, 0, key="avv_seed"))
    ae = models["autoencoder"][1]
    n = PRESENTER_PRIOR if presenter.on() else N_PRIOR
    z = prior_samples(n, ae.config.latent_dim, seed=seed)
    clf, _why = comparison_model(CLASSIFIER, ae.dataset)
    with st.container(key="avv_prior"):  # the tour's focus: the same codes through both decoders
        for k, (_name, ck) in models.items():
            imgs = decode(ck.model, z)
            st.markdown(_("**{model}**: decode(z), z ~ N(0, I)").format(model=shown[k])
                        + (" · " + _("the classifier's mean confidence {c:.2f}").format(
                            c=clf.model.embed(imgs)[1].max(1).mean()) if clf else ""))
            show_images(imgs, size=76)
    holes = {k: gap(name, ck.content_hash, ctx.split) for k, (name, ck) in models.items()}
    st.caption(_("The same {n} codes z ~ N(0, I) into both decoders. Nothing asked the autoencoder's codes "
                 "to fill N(0, I), and they do not: the prior's mass lies where its encoded images put almost no "
                 "probability, KL(prior ‖ aggregate posterior) ≈ {ae:,.0f} nats, against {vae:,.0f} for the VAE, "
                 "whose KL term pulled every q(z|x) towards the prior (section 4).").format(
        n=n, ae=holes["autoencoder"]["kl"], vae=holes["VAE"]["kl"]))


def paths_through_the_gaps(ctx: Ctx, models: dict, encs: dict) -> None:
    """A straight path between two classes in each model, and how far it strays from the data."""
    shown = _shown()
    st.header(_("3 · Interpolations through the gaps"))
    names = ctx.class_names
    c1, c2 = st.columns(2)
    a = c1.selectbox(_("From class"), range(len(names)), index=1 % len(names), key="avv_from",
                     format_func=dict(enumerate(names)).get)
    b = c2.selectbox(_("To class"), range(len(names)), index=8 % len(names), key="avv_to",
                     format_func=dict(enumerate(names)).get)
    labels = encs["VAE"].labels
    ia, ib = int(np.flatnonzero(labels == a)[0]), int(np.flatnonzero(labels == b)[0])
    dist = {}
    for k, (name, ck) in models.items():
        mu = encs[k].mu
        path = lerp(mu[ia], mu[ib], PATH_STEPS)
        st.markdown(f"**{shown[k]}**: #{ia} {names[a]} → #{ib} {names[b]}")
        show_images(decode(ck.model, path), size=76)
        spacing = gap(name, ck.content_hash)["data_nn"]
        dist[k] = nearest_distances(path, mu) / spacing
    st.plotly_chart(lines(np.linspace(0, 1, PATH_STEPS), {shown[k]: v for k, v in dist.items()},
                          _("position along the path (0: start, 1: end)"), _("distance to the data (spacings)"),
                          height=240),
                    key="avv_path_gap", config={"displayModeBar": False})
    mid = PATH_STEPS // 2
    st.caption(_("A straight line between two codes, and how far each point is from the nearest encoded image, in "
                 "units of the data's own nearest-neighbour spacing. Halfway: {ae:.1f} for the autoencoder, {vae:.1f} "
                 "for the VAE. The autoencoder's decoder was only ever asked to draw the codes of real images; the "
                 "VAE's decoder saw noisy codes z = μ + σ·ε in training, so it learned to draw something plausible "
                 "in the space around and between them.").format(ae=dist["autoencoder"][mid], vae=dist["VAE"][mid]))


def aggregate_posterior(ctx: Ctx, models: dict, encs: dict) -> None:
    """Each model's aggregate posterior against the prior: the summary table and one dimension's histogram."""
    shown = _shown()
    st.header(_("4 · The aggregate posterior against the prior"))
    st.markdown(_("The **aggregate posterior** q(z) is what the encoder makes of the whole data set: the mixture of "
                  "every image's q(z|x). Generation draws from the prior p(z) = N(0, I) instead, so it only works "
                  "where the two agree."))
    rows = {k: code_summary(encs[k].mu, encs[k].logvar, name, ck.content_hash) for k, (name, ck) in models.items()}
    st.dataframe(pd.DataFrame({"": list(rows["VAE"]), **{shown[k]: list(v.values()) for k, v in rows.items()}}),
                 hide_index=True, key="avv_table")
    d = int(st.selectbox(_("Dimension"), range(ctx.latent_dim), key="avv_dim", format_func=lambda j: f"z{j}"))
    prior_1d = np.random.default_rng(0).standard_normal(20_000)
    st.plotly_chart(tr_fig(histograms([prior_1d, encs["VAE"].mu[:, d], encs["autoencoder"].mu[:, d]],
                                      [_("prior N(0, 1)"), _("VAE: μ of each image"), _("autoencoder: μ of each image")],
                                      _("z{d} over the {n:,} images").format(d=d, n=len(encs["VAE"].labels)), height=300,
                                      x_title=f"z{d}")),
                    key="avv_hist", config={"displayModeBar": False}, theme=None)
    agg = {k: float(encs[k].mu[:, d].var() + np.exp(encs[k].logvar[:, d]).mean()) for k in models}
    st.caption(_("Nothing pins the autoencoder's codes to any scale or place: each dimension sits wherever "
                 "reconstruction put it. The VAE's means are narrower than the prior because each image adds its "
                 "own σ² of spread around its μ: the aggregate posterior's variance along z{d}, Var(μ) + E[σ²], is "
                 "{vae:.2f} for the VAE and {ae:.2f} for the autoencoder (the prior's: 1).").format(
        d=d, vae=agg["VAE"], ae=agg["autoencoder"]))

