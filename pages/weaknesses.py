"""Weaknesses of a VAE, each with the loaded model's own numbers: blur, posterior collapse, holes
between the prior and the aggregate posterior, the likelihood test's failure, generalisation and
training cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages._common import get_ctx
from pages._story import (
    anomaly_scores,
    comparison_model,
    gap,
    generator_report,
    loaded_checkpoints,
    minutes,
    stage_images,
    training_throughput,
)
from vae.classifier import KIND as CLASSIFIER
from vae.compare import nearest_distances, sharpness
from vae.evaluate import ACTIVE_UNIT_THRESHOLD
from vae.gan import KIND as GAN
from vae.latent import decode, prior_samples

N_SHARP = 2000  # images whose sharpness is measured live


def collapse_rows() -> list[dict]:
    """Active units of every loadable checkpoint, as `python -m vae evaluate` stored them."""
    rows = []
    for ck in loaded_checkpoints():
        m = ck.metrics
        if "active_units" in m:
            rows.append({"checkpoint": ck.name, "β": ck.config.beta, "active units":
                         f"{m['active_units']} of {ck.config.latent_dim}", "KL (nats)": round(m["kl"], 1),
                         "reconstruction (nats)": round(m["recon"], 1)})
    return rows


def main() -> None:
    ctx = get_ctx()
    model, enc = ctx.model, ctx.enc
    st.title("Weaknesses")
    st.caption(f"What a VAE does badly, measured on **{ctx.name}** and the other shipped models, not asserted.")

    st.header("1 · Blurry images")
    x = ctx.data.images[:N_SHARP]
    recon = model.reconstruct(x)
    s_real, s_rec = float(sharpness(x).mean()), float(sharpness(recon).mean())
    s_prior = float(sharpness(decode(model, prior_samples(N_SHARP, ctx.latent_dim))).mean())
    stage_images(x[:8], size=72, label="Originals")
    stage_images(recon[:8], size=72, label="Their reconstructions")
    gan, _ = comparison_model(GAN, ctx.ck.dataset)
    clf, _ = comparison_model(CLASSIFIER, ctx.ck.dataset)
    gan_line = ""
    if gan is not None and clf is not None:
        rep = generator_report(ctx.name, ctx.ck.content_hash, str(gan.path), gan.content_hash, str(clf.path),
                               clf.content_hash)
        gan_line = (f" The GAN trained on the same data draws samples with sharpness "
                    f"{rep['sets']['GAN samples']['sharpness']:.4f} (VAE vs GAN page).")
    st.markdown(
        f"Sharpness (mean gradient magnitude) of {len(x):,} images: originals **{s_real:.4f}**, their reconstructions "
        f"**{s_rec:.4f}** ({s_rec / s_real:.0%} of it), prior samples **{s_prior:.4f}**.{gan_line} The decoder "
        f"outputs the *mean* of p(x|z) ({ctx.ck.config.likelihood} per pixel): when a code fits many images — a "
        "stripe here or there, an edge one pixel left or right — the mean of them is their average, and an "
        "average of edges is a blur. The likelihood rewards hedging."
    )

    st.header("2 · Posterior collapse")
    rows = collapse_rows()
    active = int((enc.mu.var(0) > ACTIVE_UNIT_THRESHOLD).sum())
    st.markdown(
        f"The KL term charges for every nat a latent dimension carries, so a VAE switches off dimensions it can "
        f"spare: their q(z_j|x) becomes the prior for every image, and the decoder ignores them. **{ctx.name}** "
        f"keeps {active} of {ctx.latent_dim} dimensions active (Var over images of μ_j > {ACTIVE_UNIT_THRESHOLD}, "
        "measured here). A larger β, or a decoder strong enough to model the data alone (the autoregressive "
        "decoders of text VAEs), collapses more — down to a z that carries nothing at all. Measured by "
        "`python -m vae evaluate` on each checkpoint's test split:")
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="weak_collapse")

    st.header("3 · Holes between the prior and the encoded data")
    g = gap(ctx.name, ctx.ck.content_hash, ctx.split)
    z = prior_samples(2000, ctx.latent_dim, seed=1)
    far = np.argsort(-nearest_distances(z, enc.mu))[:8]
    st.markdown(
        f"Generation draws z from the prior N(0, I); the decoder only learned the codes of real images, and their "
        f"posteriors q(z|x) together make the aggregate posterior q(z). Where the prior has mass and q(z) has "
        f"little, there is a hole. Over 500 prior samples and the {len(enc):,} encoded images: "
        f"KL(p ‖ q) ≈ **{g['kl']:,.1f} nats**, and **{g['hole_share']:.0%}** of the samples land where "
        f"q(z) < p(z) / 100. The median prior sample is **{g['ratio']:.2f}×** farther from its nearest encoded "
        "image than encoded images are from each other. The 8 prior samples farthest from the data, decoded:")
    stage_images(decode(model, z[far]), size=72)

    st.header("4 · Likelihood does not detect strangers")
    sc = anomaly_scores(ctx.name, ctx.ck.content_hash)
    worst = min(sc["sets"], key=lambda s: s["auroc"])
    st.markdown(
        f"A VAE's bound on log p(x) is a tempting novelty score. Yet **{worst['name']}** ({worst['note']}) get a "
        f"median −ELBO of **{np.median(worst['scores']):.1f}** nats against **{np.median(sc['own']):.1f}** for "
        f"the model's own test images: AUROC {worst['auroc']:.2f} (0.5 is chance). The likelihood measures how "
        "compressible an image is, not how typical — the Uses page has the histograms.")

    st.header("5 · Generalisation")
    h = ctx.ck.history
    if h and "train_neg_elbo" in h[-1]:
        last = h[-1]
        st.markdown(
            f"After {len(h)} epochs, −ELBO on the training images **{last['train_neg_elbo']:.1f}** nats and on the "
            f"test images **{last['test_neg_elbo']:.1f}**: a gap of {last['test_neg_elbo'] - last['train_neg_elbo']:.1f} "
            "nats (training images were seen, each with fresh noise, every epoch). The ELBO is a bound, and the "
            "encoder that computes it must *generalise* too: its q(z|x) for a new image is an amortised guess, "
            "not the best Gaussian for that image (the amortisation gap, Cremer et al. 2018). The IWAE bound "
            + (f"tightens the test figure to {ctx.ck.metrics['iwae_nll']:.1f} nats." if "iwae_nll" in ctx.ck.metrics
               else "tightens the test figure (run `python -m vae evaluate`)."))

    st.header("6 · Training cost")
    bench = training_throughput()
    meta, tr = ctx.ck.meta, ctx.ck.meta.get("training") or {}
    epochs, train = meta.get("epochs_done"), meta.get("train_size")
    lines = []
    if bench:
        ips = bench["ours"]
        lines.append(f"The benchmarks measured **{ips:,.0f} images/s** for one training step of the default conv VAE "
                     f"({bench.get('note', '')}); the plain MLP VAE of pytorch/examples manages "
                     f"{bench['peer']:,.0f} images/s on the same images.")
        if epochs and train:
            lines.append(f"{ctx.name}: {epochs} epochs × {train:,} images = {epochs * train:,} images, "
                         f"{epochs * train / ips / 60:.0f} min at that rate; it actually took "
                         f"**{minutes(tr.get('seconds'))}** on {tr.get('device', 'its device')}, shared with other "
                         "work.")
    else:
        lines.append("docs/benchmarks.json is missing: run `python -m benchmarks` to measure training throughput.")
    if "seconds" in ctx.ck.metrics:
        lines.append(f"Evaluating it (`python -m vae evaluate`: the IWAE bound decodes {ctx.ck.metrics['iwae_k']:,} "
                     f"samples for each of {ctx.ck.metrics['iwae_images']:,} images) took "
                     f"{minutes(ctx.ck.metrics['seconds'])}.")
    st.markdown(" ".join(lines))
    st.caption("Fair to say: a VAE is cheap next to a GAN (one loss, no discriminator: the VAE vs GAN page has both "
               "training times) and far cheaper than diffusion models, but each new data set needs its own run.")


if __name__ == "__main__":
    main()
