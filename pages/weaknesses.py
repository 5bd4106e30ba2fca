"""Weaknesses of a VAE, each with the loaded model's own numbers: blur, posterior collapse, holes
between the prior and the aggregate posterior, the likelihood test's failure, generalisation and
training cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import _link as link
from pages import _nav as nav
from pages._context import Ctx, get_ctx
from pages._i18n import _, current_language
from pages._i18n import tr as tr_text
from pages._story import (
    anomaly_scores,
    comparison_model,
    device_label,
    gap,
    generator_report,
    likelihood_name,
    loaded_checkpoints,
    minutes,
    training_throughput,
)
from pages._widgets import show_images
from vae.baselines.classifier import KIND as CLASSIFIER
from vae.baselines.compare import nearest_distances, sharpness
from vae.baselines.gan import KIND as GAN
from vae.evaluate import dims_in_use
from vae.explore.latent import COLLAPSED_KL, decode, in_use, prior_samples

N_SHARP = 2000  # images whose sharpness is measured live

PARAMS = link.declare("weaknesses", [])  # no settings of its own: the checkpoint (ckpt) is all it shows


def _rounded(v: object) -> str:
    """A stored figure to one decimal, or a dash where there is none (no likelihood declared)."""
    return f"{v:.1f}" if isinstance(v, (int, float)) else "—"


def collapse_rows() -> list[dict]:
    """Dimensions in use of every loadable checkpoint (the app's one rule, vae.explore.latent.COLLAPSED_KL),
    from what `python -m vae evaluate` stored."""
    rows = []
    for ck in loaded_checkpoints():
        m = ck.metrics
        used = dims_in_use(m)
        if used is not None:
            rows.append({_("checkpoint"): ck.name, "β": ck.config.beta, _("dimensions in use"):
                         _("{a} of {d}").format(a=used, d=ck.config.latent_dim),
                         "KL (nats)": _rounded(m.get("kl")), _("reconstruction (nats)"): _rounded(m.get("recon"))})
    return rows


@nav.page("weaknesses")
def main() -> None:
    """The page: six weaknesses, each measured."""
    ctx = get_ctx()
    st.title(_("Weaknesses"))
    st.caption(_("What a VAE does badly, measured on **{name}** and the other shipped models, not asserted.").format(
        name=ctx.name))
    blur(ctx)
    posterior_collapse(ctx)
    holes(ctx)
    likelihood_misses_strangers(ctx)
    generalisation(ctx)
    training_cost(ctx)


def blur(ctx: Ctx) -> None:
    """Sharpness of originals, reconstructions, prior samples (and the GAN's samples), and why the mean blurs."""
    model = ctx.model
    st.header(_("1 · Blurry images"))
    x = ctx.data.images[:N_SHARP]
    recon = model.reconstruct(x)
    s_real, s_rec = float(sharpness(x).mean()), float(sharpness(recon).mean())
    s_prior = float(sharpness(decode(model, prior_samples(N_SHARP, ctx.latent_dim))).mean())
    with st.container(key="weak_blur"):  # the tour's focus: images beside their blurry reconstructions
        show_images(x[:8], size=72, label=_("Originals"))
        show_images(recon[:8], size=72, label=_("Their reconstructions"))
    gan, _why = comparison_model(GAN, ctx.ck.dataset)
    clf, _why = comparison_model(CLASSIFIER, ctx.ck.dataset)
    gan_line = ""
    if gan is not None and clf is not None:
        with st.spinner(_("Measuring 10,000 samples of each model (once per server)…")):
            rep = generator_report(ctx.name, ctx.ck.content_hash, str(gan.path), gan.content_hash, str(clf.path),
                                   clf.content_hash)
        gan_line = " " + _("The GAN trained on the same data draws samples with sharpness {s:.4f} (VAE vs GAN "
                           "page).").format(s=rep["sets"]["GAN samples"]["sharpness"])
    st.markdown(
        _("Sharpness (mean gradient magnitude) of {n:,} images: originals **{real:.4f}**, their reconstructions "
          "**{rec:.4f}** ({share} of it), prior samples **{prior:.4f}**.").format(
            n=len(x), real=s_real, rec=s_rec, share=f"{s_rec / s_real:.0%}", prior=s_prior)
        + gan_line + " "
        + _("The decoder outputs the *mean* of p(x|z) ({likelihood} per pixel): when a code fits many images — a "
            "stripe here or there, an edge one pixel left or right — the mean of them is their average, and an "
            "average of edges is a blur. The likelihood rewards hedging.").format(
            likelihood=likelihood_name(ctx.ck.config.likelihood))
    )


def posterior_collapse(ctx: Ctx) -> None:
    """The dimensions in use of the loaded model, and of every checkpoint as `python -m vae evaluate` stored them."""
    st.header(_("2 · Posterior collapse"))
    rows = collapse_rows()
    active = int(in_use(ctx.enc.kl_dims.mean(0)).sum())
    st.markdown(
        _("The KL term charges for every nat a latent dimension carries, so a VAE switches off dimensions it can "
          "spare: their q(z_j|x) becomes the prior for every image, and the decoder ignores them. **{name}** "
          "keeps {active} of {d} dimensions in use (average KL of at least {t} nats, "
          "measured here). A larger β, or a decoder strong enough to model the data alone (the autoregressive "
          "decoders of text VAEs), collapses more — down to a z that carries nothing at all. Measured by "
          "`python -m vae evaluate` on each checkpoint's test split:").format(
            name=ctx.name, active=active, d=ctx.latent_dim, t=COLLAPSED_KL))
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="weak_collapse")


def holes(ctx: Ctx) -> None:
    """Where the prior has mass and the aggregate posterior little; the prior samples farthest from the data."""
    st.header(_("3 · Holes between the prior and the encoded data"))
    g = gap(ctx.name, ctx.ck.content_hash, ctx.split)
    z = prior_samples(2000, ctx.latent_dim, seed=1)
    far = np.argsort(-nearest_distances(z, ctx.enc.mu))[:8]
    st.markdown(
        _("Generation draws z from the prior N(0, I); the decoder only learned the codes of real images, and their "
          "posteriors q(z|x) together make the aggregate posterior q(z). Where the prior has mass and q(z) has "
          "little, there is a hole. Over 500 prior samples and the {n:,} encoded images: "
          "KL(p ‖ q) ≈ **{kl:,.1f} nats**, and **{share}** of the samples land where "
          "q(z) < p(z) / 100. The median prior sample is **{ratio:.2f}×** farther from its nearest encoded "
          "image than encoded images are from each other. The 8 prior samples farthest from the data, decoded:").format(
            n=len(ctx.enc), kl=g["kl"], share=f"{g['hole_share']:.0%}", ratio=g["ratio"]))
    show_images(decode(ctx.model, z[far]), size=72)


def likelihood_misses_strangers(ctx: Ctx) -> None:
    """The set whose −ELBO looks most like the model's own test images."""
    st.header(_("4 · Likelihood does not detect strangers"))
    with st.spinner(_("Scoring 1,000 images of each set (once)…")):
        sc = anomaly_scores(ctx.name, ctx.ck.content_hash)
    worst = min(sc["sets"], key=lambda s: s["auroc"])
    st.markdown(
        _("A VAE's bound on log p(x) is a tempting novelty score. Yet **{name}** ({note}) get a "
          "median −ELBO of **{theirs:.1f}** nats against **{own:.1f}** for "
          "the model's own test images: AUROC {auroc:.2f} (0.5 is chance). The likelihood measures how "
          "compressible an image is, not how typical — the Uses page has the histograms.").format(
            name=tr_text(worst["name"]), note=tr_text(worst["note"]), theirs=np.median(worst["scores"]),
            own=np.median(sc["own"]), auroc=worst["auroc"]))


def generalisation(ctx: Ctx) -> None:
    """Train against test −ELBO after the last epoch, and the amortisation gap."""
    st.header(_("5 · Generalisation"))
    h = ctx.ck.history
    if h and "train_neg_elbo" in h[-1]:
        last = h[-1]
        st.markdown(
            _("After {epochs} epochs, −ELBO on the training images **{train:.1f}** nats and on the "
              "test images **{test:.1f}**: a gap of {gap:.1f} "
              "nats (training images were seen, each with fresh noise, every epoch). The ELBO is a bound, and the "
              "encoder that computes it must *generalise* too: its q(z|x) for a new image is an amortised guess, "
              "not the best Gaussian for that image (the amortisation gap, Cremer et al. 2018).").format(
                epochs=len(h), train=last["train_neg_elbo"], test=last["test_neg_elbo"],
                gap=last["test_neg_elbo"] - last["train_neg_elbo"])
            + " " + (_("The IWAE bound tightens the test figure to {nll:.1f} nats.").format(nll=ctx.ck.metrics["iwae_nll"])
                     if "iwae_nll" in ctx.ck.metrics
                     else _("The IWAE bound tightens the test figure (run `python -m vae evaluate`).")))


def training_cost(ctx: Ctx) -> None:
    """The benchmarks' training throughput, what the loaded model's training and evaluation took."""
    st.header(_("6 · Training cost"))
    bench = training_throughput()
    meta, run = ctx.ck.meta, ctx.ck.meta.get("training") or {}
    epochs, train = meta.get("epochs_done"), meta.get("train_size")
    lines = []
    if bench:
        ips = bench["ours"]
        if current_language() == "en":  # the benchmark's own note on how it measured is English data
            lines.append(f"The benchmarks measured **{ips:,.0f} images/s** for one training step of the default conv "
                         f"VAE ({bench.get('note', '')}); the plain MLP VAE of pytorch/examples manages "
                         f"{bench['peer']:,.0f} images/s on the same images.")
        else:
            lines.append(_("The benchmarks measured **{ips:,.0f} images/s** for one training step of the default "
                           "conv VAE; the plain MLP VAE of pytorch/examples manages {peer:,.0f} images/s on the "
                           "same images.").format(ips=ips, peer=bench["peer"]))
        if epochs and train:
            lines.append(_("{name}: {epochs} epochs × {n:,} images = {total:,} images, {minutes:.0f} min at that rate; "
                           "it actually took **{took}** on {device}, shared with other work.").format(
                name=ctx.name, epochs=epochs, n=train, total=epochs * train, minutes=epochs * train / ips / 60,
                took=minutes(run.get("seconds")), device=device_label(run.get("device")) or _("its device")))
    else:
        lines.append(_("docs/benchmarks.json is missing: run `python -m benchmarks` to measure training throughput."))
    if "seconds" in ctx.ck.metrics:
        lines.append(_("Evaluating it (`python -m vae evaluate`: the IWAE bound decodes {k:,} samples for each of "
                       "{n:,} images) took {took}.").format(k=ctx.ck.metrics["iwae_k"], n=ctx.ck.metrics["iwae_images"],
                                                           took=minutes(ctx.ck.metrics["seconds"])))
    st.markdown(" ".join(lines))
    st.caption(_("Fair to say: a VAE is cheap next to a GAN (one loss, no discriminator: the VAE vs GAN page has both "
                 "training times) and far cheaper than diffusion models, but each new data set needs its own run."))

