"""Uses of a VAE, live on the loaded model: denoising, inpainting, anomaly scoring (and where it
fails), compression; and a paragraph on VAEs for text and speech."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx
from pages._i18n import N_, _, join_list, tr, tr_fig
from pages._link import integer, number, one_of
from pages._story import N_SCORE, anomaly_scores, get_test_images
from pages._widgets import show_images
from vae.explore.figures import histograms, lines
from vae.lessons import uses

N_BATCH = 8  # images shown per use
N_SWEEP = 256  # test images per noise level in the denoising curve
NOISE_LEVELS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7)
#: the link's short names for vae.lessons.uses.MASKS
MASK_NAMES = {"left": "left half", "bottom": "bottom half", "centre": "centre square", "random": "random 60% of pixels"}

PARAMS = link.declare("uses", [
    integer("start", "uses_start", N_("first image"), 0, lambda ctx: max(0, len(ctx.data) - N_BATCH)),
    number("noise", "uses_noise", N_("noise level"), 0.0, 1.0),
    one_of("mask", "uses_mask", N_("hidden region"), list(uses.MASKS), aliases=MASK_NAMES),
    integer("rounds", "uses_iters", N_("rounds of encode → decode"), 0, 50),
    integer("ood", "uses_ood", N_("set compared with"), 0,
            lambda ctx: len(anomaly_scores(ctx.name, ctx.ck.content_hash)["sets"]) - 1),
    integer("image", "uses_comp_image", N_("image compressed"), 0,
            lambda ctx: len(compression_table(ctx.name, ctx.ck.content_hash)["kl_bits"]) - 1),
])


@st.cache_data(show_spinner=False, max_entries=8)
def compression_table(name: str, content_hash: str, n: int = 1000) -> dict:
    return uses.compression(loaders.get_checkpoint(name).model, get_test_images(name, content_hash)[:n])


@st.cache_data(show_spinner=False, max_entries=8)
def denoising_sweep(name: str, content_hash: str) -> list[dict]:
    return uses.denoising_errors(loaders.get_checkpoint(name).model, get_test_images(name, content_hash)[:N_SWEEP],
                                 NOISE_LEVELS)


def mask_labels() -> dict[str, str]:
    """vae.lessons.uses.MASKS in the session's language."""
    return {"left half": _("left half"), "bottom half": _("bottom half"), "centre square": _("centre square"),
            "random 60% of pixels": _("random {share} of pixels").format(share="60%")}


@nav.page("uses")
def main() -> None:
    """The page: the images the uses run on, then five sections."""
    ctx = get_ctx()
    link.restore("uses", ctx)  # the link's settings, before the widgets
    st.title(_("Uses"))
    st.caption(_("Four things people use VAEs for, each run live on **{name}** and its {split}-split images.").format(
        name=ctx.name, split=ctx.split_label))
    start = int(st.number_input(_("First image"), 0, max(0, len(ctx.data) - N_BATCH), 0, key="uses_start",
                                help=_("The images used below: this one and the next ones.")))
    x = ctx.data.images[start : start + N_BATCH]
    denoising(ctx, x, start)
    inpainting(ctx, x, start)
    anomaly_scoring(ctx)
    compression(ctx)
    link.sync("uses", ctx)
    beyond_images()


def _controls_and_strips():
    """Where a use's controls and metrics go, and where its strips of images go: side by side (the metrics'
    labels fit at 1024 px with the sidebar open); in presenter mode the strips take the page's width below
    the controls, so that a strip of N_BATCH images at presenter.THUMB_PX stays on one line."""
    if presenter.on():
        return st.container(), st.container()
    return st.columns([1.5, 3])


def denoising(ctx: Ctx, x: torch.Tensor, start: int) -> None:
    """Noise added to the images, then encoded and decoded; where encode → decode starts to pay."""
    st.header(_("1 · Denoising"))
    c1, c2 = _controls_and_strips()
    std = float(c1.slider(_("Noise σ"), 0.0, 1.0, 0.4, 0.05, key="uses_noise"))
    noisy = uses.add_noise(x, std, seed=start)
    clean = uses.denoise(ctx.model, noisy)
    with c2, st.container(key="uses_denoise"):  # the tour's focus: the images, noisy and denoised
        show_images(x, size=72, label=_("Originals"))
        show_images(noisy, size=72, label=_("With noise, σ = {std:g}").format(std=std))
        show_images(clean, size=72, label=_("Encoded, then decoded"))
    mse_noisy, mse_clean = float((noisy - x).pow(2).mean()), float((clean - x).pow(2).mean())
    c1.metric(_("error of the noisy images"), f"{mse_noisy:.4f}", help=_("mean squared error per pixel"))
    c1.metric(_("after encode → decode"), f"{mse_clean:.4f}", delta=f"{mse_clean - mse_noisy:+.4f}",
              delta_color="inverse")
    sweep = denoising_sweep(ctx.name, ctx.ck.content_hash)
    better = [r["std"] for r in sweep if r["denoised"] < r["noisy"]]
    st.plotly_chart(lines([r["std"] for r in sweep], {_("noisy image"): [r["noisy"] for r in sweep],
                                                       _("encode → decode"): [r["denoised"] for r in sweep]},
                          _("noise σ"), _("mean squared error per pixel"), height=240,
                          title=_("{n} images, each noise level").format(n=N_SWEEP)),
                    key="uses_denoise_sweep", config={"displayModeBar": False})
    st.caption(_("Noise is nothing the decoder ever learned to draw, so the code of a noisy image decodes to a "
                 "clean-looking image: the VAE denoises without being trained to. But its reconstructions are "
                 "blurry (Weaknesses), and that error does not go away:")
               + " " + (_("measured here, encode → decode beats the noisy image from σ = {std:g} on, and loses "
                          "below it.").format(std=min(better)) if better
                        else _("measured here, it never beats the noisy image at these levels."))
               + " " + _("This model never saw a noisy image in training; a denoising VAE, trained to reconstruct "
                         "clean images from corrupted ones (Im et al. 2017), does better."))


def inpainting(ctx: Ctx, x: torch.Tensor, start: int) -> None:
    """A region hidden, then filled in by rounds of encode → decode that keep the known pixels."""
    st.header(_("2 · Inpainting"))
    c1, c2 = _controls_and_strips()
    kind = c1.selectbox(_("Hide"), uses.MASKS, key="uses_mask", format_func=mask_labels().get)
    iters = int(c1.slider(_("Rounds of encode → decode"), 0, 50, 20, key="uses_iters"))
    known = uses.mask(kind, tuple(ctx.ck.config.image_shape), seed=start)
    steps = uses.inpaint(ctx.model, x, known, iterations=iters)
    hole = 1 - known
    errs = [uses.masked_mse(s, x, hole) for s in steps]
    with c2:
        show_images(x, size=72, label=_("Originals"))
        show_images(steps[0], size=72, label=_("What is known (hidden pixels black)"))
        show_images(steps[-1], size=72, label=_("After {n} rounds of encode → decode").format(n=iters))
    c1.metric(_("error in the hidden region"), f"{errs[-1]:.4f}",
              delta=f"{errs[-1] - errs[0]:+.4f}", delta_description=_("vs start"),
              delta_color="inverse", help=_("mean squared error per hidden pixel; hidden pixels start black"))
    st.caption(_("Each round encodes the current image, decodes it, and keeps the decoder's pixels only where the "
                 "image is unknown: the known pixels pull the code towards an image that agrees with them. "
                 "Round by round, the error in the hidden region: {errors}.").format(
        errors=", ".join(f"{e:.3f}" for e in errs[:: max(1, len(errs) // 8)])))


def anomaly_scoring(ctx: Ctx) -> None:
    """−ELBO of the model's own test images against images it never saw, and where likelihood fails."""
    st.header(_("3 · Anomaly scoring, and where likelihood fails"))
    with st.spinner(_("Scoring 1,000 images of each set (once)…")):
        sc = anomaly_scores(ctx.name, ctx.ck.content_hash)
    st.markdown(_("The −ELBO of an image bounds −log p(x): a high value says *this is unlike my training data*. "
                  "Below, {n:,} of the model's own test images against {n:,} images of each set it "
                  "never saw. AUROC: how well the −ELBO alone tells the two apart (1: always, 0.5: chance, below "
                  "0.5: the strangers look **more** likely than the model's own data).").format(n=N_SCORE))
    st.dataframe(pd.DataFrame({
        _("images"): [_("{dataset} test (its own)").format(dataset=ctx.ck.dataset)] + [tr(s["name"]) for s in sc["sets"]],
        _("median −ELBO (nats)"): [float(np.median(sc["own"]))] + [float(np.median(s["scores"])) for s in sc["sets"]],
        _("AUROC vs its own"): ["—"] + [f"{s['auroc']:.3f}" for s in sc["sets"]],
        _("what they are"): [_("the data it was trained on (test split)")] + [tr(s["note"]) for s in sc["sets"]],
    }).round(1), hide_index=True, key="uses_ood_table")
    names = [tr(s["name"]) for s in sc["sets"]]
    pick = st.selectbox(_("Compare with"), range(len(names)), format_func=dict(enumerate(names)).get, key="uses_ood")
    other = sc["sets"][pick]
    other_name = tr(other["name"])
    both = np.r_[sc["own"], other["scores"]]
    hi = float(np.quantile(both, 0.99))
    st.plotly_chart(tr_fig(histograms([np.minimum(sc["own"], hi), np.minimum(other["scores"], hi)],
                                      [_("{dataset} test").format(dataset=ctx.ck.dataset), other_name],
                                      _("−ELBO per image (nats; clipped at the 99th percentile)"), height=280,
                                      x_title="−ELBO (nats)")),
                    key="uses_ood_hist", config={"displayModeBar": False}, theme=None)
    show_images(other["examples"], size=56, label=_("Some of the {name} images").format(name=other_name))
    fails = [s for s in sc["sets"] if s["auroc"] < 0.5]
    st.warning(
        _("**The caveat.** A likelihood bound is not a typicality test.") + " " + (
            _("Here {sets} score *better* than the model's own test images: simpler images, with more black "
              "background, are easier to compress, whatever the model was trained on.").format(
                sets=join_list([f"**{tr(s['name'])}** (AUROC {s['auroc']:.2f})" for s in fails]))
            if fails else _("On this model every set above separates, but it is known to fail:"))
        + " " + _("Nalisnick et al. (2019, *Do deep generative models know what they don't know?*) found VAEs, flows "
                  "and PixelCNNs trained on Fashion-MNIST giving MNIST digits higher likelihood; fixes compare against "
                  "a background model (likelihood ratios, Ren et al. 2019) or test typicality (Nalisnick et al., "
                  "2019, arXiv:1906.02994).")
    )


def compression(ctx: Ctx) -> None:
    """The KL in bits against the PNG's bytes, for one image and on average."""
    st.header(_("4 · Compression"))
    comp = compression_table(ctx.name, ctx.ck.content_hash)
    j = int(st.number_input(_("Image"), 0, len(comp["kl_bits"]) - 1, 0, key="uses_comp_image"))
    c1, c2, c3 = st.columns([1, 1, 3])
    img = get_test_images(ctx.name, ctx.ck.content_hash)[j : j + 1]
    with c1:
        show_images(img, [_("{n} bytes as PNG").format(n=comp["png_bytes"][j])], size=140)
    with c2:
        show_images(ctx.model.reconstruct(img), [_("{n:.0f} bits as a code").format(n=comp["kl_bits"][j])], size=140)
    with c3:
        kl, png = comp["kl_bits"], comp["png_bytes"] * 8
        st.markdown(
            _("Sending the latent code of an image costs about KL(q(z|x) ‖ p(z)) / ln 2 bits: with bits-back or "
              "relative-entropy coding (Hinton & van Camp 1993; Havasi et al. 2019) sender and receiver share the "
              "prior and the decoder, and only the information in z travels. Over the first {n:,} test "
              "images: **{bits:.1f} bits** a code (median {median:.1f}) against "
              "**{png_bytes:.0f} bytes = {png_bits:,.0f} bits** as PNG and {raw} bytes "
              "raw: {ratio:,.0f}× fewer bits. The price: it is lossy, the decoded image differs "
              "by a mean squared error of {mse:.4f} per pixel, and the receiver needs the decoder "
              "({weights:,} weights). Learned image codecs (Ballé et al. 2018) are VAEs tuned for "
              "exactly this rate–distortion trade.").format(
                n=len(kl), bits=kl.mean(), median=np.median(kl), png_bytes=png.mean() / 8, png_bits=png.mean(),
                raw=int(comp["raw_bytes"][0]), ratio=png.mean() / kl.mean(), mse=comp["mse"].mean(),
                weights=ctx.model.num_parameters("decoder")))


def beyond_images() -> None:
    """VAEs for text and speech, with references."""
    st.header(_("5 · Beyond images: text and speech"))
    st.markdown(_(
        "The same recipe — an encoder to q(z|x), a decoder p(x|z), the ELBO — works on sequences. "
        "**Text:** Bowman et al. (2016, *Generating Sentences from a Continuous Space*) put an LSTM on both sides "
        "and could interpolate between sentences, but a strong autoregressive decoder learns to ignore z "
        "(posterior collapse, see Weaknesses); KL annealing and word dropout were their fixes, and Yang et al. "
        "(2017) weakened the decoder with dilated convolutions instead. Optimus (Li et al. 2020) pairs BERT and "
        "GPT-2 in a VAE. **Speech:** Hsu et al. (2017, FHVAE) separate speaker from content in two latent "
        "variables; VQ-VAE (van den Oord et al. 2017) learns discrete units of speech without labels; and VITS "
        "(Kim et al. 2021), a conditional VAE with a flow prior and adversarial training, is a widely used "
        "end-to-end text-to-speech model. Latent diffusion models (Rombach et al. 2022) run their diffusion in "
        "the latent space of a VAE."
    ))
    with st.expander(_("References")):  # the references themselves stay as published
        st.markdown(
            "- Bowman, Vilnis, Vinyals, Dai, Jozefowicz, Bengio. Generating Sentences from a Continuous Space. "
            "CoNLL 2016. arXiv:1511.06349\n"
            "- Yang, Hu, Salakhutdinov, Berg-Kirkpatrick. Improved Variational Autoencoders for Text Modeling using "
            "Dilated Convolutions. ICML 2017. arXiv:1702.08139\n"
            "- Li, Gao, Li, Peng, Li, Zhang, Gao. Optimus: Organizing Sentences via Pre-trained Modeling of a Latent "
            "Space. EMNLP 2020. arXiv:2004.04092\n"
            "- Hsu, Zhang, Glass. Unsupervised Learning of Disentangled and Interpretable Representations from "
            "Sequential Data. NeurIPS 2017. arXiv:1709.07902\n"
            "- van den Oord, Vinyals, Kavukcuoglu. Neural Discrete Representation Learning. NeurIPS 2017. "
            "arXiv:1711.00937\n"
            "- Kim, Kong, Son. Conditional Variational Autoencoder with Adversarial Learning for End-to-End "
            "Text-to-Speech. ICML 2021. arXiv:2106.06103\n"
            "- Rombach, Blattmann, Lorenz, Esser, Ommer. High-Resolution Image Synthesis with Latent Diffusion "
            "Models. CVPR 2022. arXiv:2112.10752\n"
            "- Im, Ahn, Memisevic, Bengio. Denoising Criterion for Variational Auto-Encoding Framework. AAAI 2017. "
            "arXiv:1511.06406\n"
            "- Nalisnick, Matsukawa, Teh, Gorur, Lakshminarayanan. Do Deep Generative Models Know What They Don't "
            "Know? ICLR 2019. arXiv:1810.09136\n"
            "- Ren, Liu, Fertig, Snoek, Poplin, DePristo, Dillon, Lakshminarayanan. Likelihood Ratios for "
            "Out-of-Distribution Detection. NeurIPS 2019. arXiv:1906.02845\n"
            "- Nalisnick, Matsukawa, Teh, Lakshminarayanan. Detecting Out-of-Distribution Inputs to Deep "
            "Generative Models Using Typicality. arXiv:1906.02994, 2019\n"
            "- Hinton, van Camp. Keeping the Neural Networks Simple by Minimizing the Description Length of the "
            "Weights. COLT 1993\n"
            "- Havasi, Peharz, Hernández-Lobato. Minimal Random Code Learning. ICLR 2019. arXiv:1810.00440\n"
            "- Ballé, Minnen, Singh, Hwang, Johnston. Variational Image Compression with a Scale Hyperprior. "
            "ICLR 2018. arXiv:1802.01436"
        )

