"""VAE vs GAN on the same data: samples side by side, and measured: sharpness, class coverage,
Fréchet distance in a classifier's feature space, what only the VAE can do, training time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages import _link as link
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx
from pages._i18n import N_, _, tr_fig
from pages._link import integer
from pages._story import comparison_model, device_label, generator_report, minutes
from pages._widgets import show_images
from vae.baselines.classifier import KIND as CLASSIFIER
from vae.baselines.gan import KIND as GAN
from vae.checkpoint import ModelFolder
from vae.evaluate import iwae_bound
from vae.explore.figures import grouped_bars
from vae.explore.latent import decode, image_elbo, prior_samples

IWAE_K = 200  # importance samples for one image's likelihood bound (fast enough to run live)
N_SAMPLES = 16  # samples of each model side by side
PRESENTER_SAMPLES = 8  # in presenter mode, at presenter.THUMB_PX or more: they fit a projector below the tour's bar
SETS = ("test images", "VAE samples", "GAN samples", "VAE reconstructions")  # the report's keys
SET_LABELS = dict(zip(SETS, (N_("test images"), N_("VAE samples"), N_("GAN samples"), N_("VAE reconstructions")),
                      strict=True))

PARAMS = link.declare("vae_vs_gan", [
    integer("seed", "gan_seed", N_("seed"), 0, 1_000_000),
    integer("image", "gan_image", N_("test image"), 0, lambda ctx: len(ctx.data) - 1),
])


def _median_rate(history: list | None) -> str:
    rates = [h["images_per_s"] for h in history or [] if "images_per_s" in h]
    return f"{sorted(rates)[len(rates) // 2]:,.0f}" if rates else "?"


@nav.page("vae_vs_gan")
def main() -> None:
    """The page: the two models, then four sections (nothing without a GAN and a classifier of the data)."""
    ctx = get_ctx()
    link.restore("vae_vs_gan", ctx)  # the link's settings, before the widgets
    st.title(_("VAE vs GAN"))
    gan, why_gan = comparison_model(GAN, ctx.ck.dataset)
    clf, why_clf = comparison_model(CLASSIFIER, ctx.ck.dataset)
    if gan is None or clf is None:
        st.info(_("This comparison needs a GAN and a classifier trained on **{dataset}**: {why}. They ship for "
                  "Fashion-MNIST: pick a Fashion-MNIST checkpoint in the sidebar.").format(
            dataset=ctx.ck.dataset, why=why_gan or why_clf))
        return
    st.caption(
        _("**{vae}** (a VAE) against **{gan}** (a DCGAN: a generator trained to fool a discriminator, "
          "Radford et al. 2016), both trained on the {dataset} training split. Every number on this page "
          "is measured here, on 10,000 samples of each and the test split, and judged by **{clf}**, a small "
          "classifier trained on the same data (test accuracy {acc:.3f}).").format(
            vae=ctx.name, gan=gan.name, dataset=ctx.ck.dataset, clf=clf.name,
            acc=clf.meta.get("test_acc", float("nan")))
    )
    samples(ctx, gan)
    measured(ctx, gan, clf)
    only_the_vae(ctx)
    link.sync("vae_vs_gan", ctx)
    training(ctx, gan)


def samples(ctx: Ctx, gan: ModelFolder) -> None:
    """Samples of each model, from the same seed (fewer, larger ones in presenter mode)."""
    st.header(_("1 · Samples"))
    seed = int(st.number_input(_("Seed"), 0, 1_000_000, 0, key="gan_seed"))
    n = PRESENTER_SAMPLES if presenter.on() else N_SAMPLES
    left, right = st.container(key="gan_samples").columns(2, gap="large")  # the tour's focus: both models' samples
    with left:
        st.markdown(_("**VAE**: decode(z), z ~ N(0, I) ({d} numbers)").format(d=ctx.latent_dim))
        show_images(decode(ctx.model, prior_samples(n, ctx.latent_dim, seed=seed)), size=64)
    with right:
        st.markdown(_("**GAN**: G(z), z ~ N(0, I) ({d} numbers)").format(d=gan.config.noise_dim))
        show_images(gan.model.sample(n, seed=seed), size=64)


def measured(ctx: Ctx, gan: ModelFolder, clf: ModelFolder) -> None:
    """The report on 10,000 images of each set: sharpness, Fréchet distance, class coverage, confidence."""
    with st.spinner(_("Measuring 10,000 samples of each model (once per server)…")):
        report = generator_report(ctx.name, ctx.ck.content_hash, str(gan.path), gan.content_hash, str(clf.path),
                                  clf.content_hash)
    sets = report["sets"]
    st.header(_("2 · Measured on 10,000 images each"))
    table = pd.DataFrame({
        "": [_("sharpness (mean gradient magnitude)"), _("Fréchet distance to the test images (classifier features)"),
             _("class entropy (bits; 3.32 = all 10 equally often)"), _("rarest class share"),
             _("classifier's mean confidence")],
        **{_(SET_LABELS[k]): [f"{sets[k]['sharpness']:.4f}", f"{sets[k]['frechet']:.2f}", f"{sets[k]['entropy_bits']:.3f}",
               f"{sets[k]['min_share'] * 100:.1f}%", f"{sets[k]['confidence']:.3f}"] for k in SETS},
    })
    st.dataframe(table, hide_index=True, key="gan_table")
    st.caption(_("Sharpness: the mean of √(dx² + dy²) between neighbouring pixels; blur lowers it. Fréchet distance: "
                 "each set's {features} classifier features fitted by a Gaussian, and the distance between the two "
                 "Gaussians (FID's formula with this classifier in place of Inception); for the test images, the "
                 "distance between the two halves of the test split, the floor that sampling noise alone reaches. "
                 "Making the 10,000 samples took {vae:.2f} s (VAE) and {gan:.2f} s (GAN) on {threads} CPU thread(s), "
                 "measured {when} (`python -m vae compare`, shipped with the GAN, or this server's first open).").format(
        features=clf.config.feature_dim, vae=report["seconds_to_generate"]["VAE samples"],
        gan=report["seconds_to_generate"]["GAN samples"], threads=report.get("threads", "?"),
        when=report.get("measured_at") or _("when the report was made")))
    names = [_(n) for n in clf.class_names]
    st.plotly_chart(tr_fig(grouped_bars(names, {_(SET_LABELS[k]): sets[k]["counts"] for k in SETS[:3]},
                                        _("Predicted class of 10,000 images of each"), height=320,
                                        y_title=_("images"))),
                    key="gan_classes", config={"displayModeBar": False})
    st.caption(_("Class coverage: a model that dropped a class (mode collapse, the GAN's classic failure) shows a "
                 "missing bar; the test split has 1,000 images of each class."))


def only_the_vae(ctx: Ctx) -> None:
    """A test image encoded and reconstructed, and its likelihood bounds."""
    st.header(_("3 · What only the VAE can do"))
    i = int(st.number_input(_("Test image"), 0, len(ctx.data) - 1, 0, key="gan_image"))
    x = ctx.data.images[i : i + 1]
    est = image_elbo(ctx.model, x[0])  # the figure every page shows for this image
    bound = float(iwae_bound(ctx.model, x, k=IWAE_K)[0])
    c1, c2, c3 = st.columns([1, 1, 3])
    with c1:
        show_images(x, [f"#{i} {ctx.class_name(i)}"], size=140)
    with c2:
        show_images(ctx.model.reconstruct(x), [_("VAE: decode(encode(x))")], size=140)
    with c3:
        st.markdown(
            _("- **Encode** a real image: q(z|x) gives its code μ ({d} numbers) in one pass, so it can "
              "be reconstructed, edited, interpolated (other pages). The GAN has no encoder: finding the z behind "
              "a real image means an optimisation per image, with no guarantee that one exists.\n"
              "- **A likelihood bound**: log p(x) ≥ ELBO = {elbo:.1f} nats, and "
              "the tighter importance-weighted bound with k = {k} samples gives log p(x) ≥ {bound:.1f} nats. "
              "The GAN defines no density over images: it cannot say how likely this image is.\n"
              "- **Trained by one loss that goes down**: the ELBO. A GAN's two losses chase each other and say "
              "little about sample quality.").format(
                d=ctx.latent_dim, elbo=-est.neg_elbo, k=IWAE_K, bound=bound))


def training(ctx: Ctx, gan: ModelFolder) -> None:
    """Both models' training from their meta.json: epochs, time, throughput, device, size, command."""
    st.header(_("4 · Training"))
    vt, gt = ctx.ck.meta.get("training") or {}, gan.meta.get("training") or {}
    rows = [
        (_("epochs"), ctx.ck.meta.get("epochs_done"), gan.meta.get("epochs_done")),
        (_("wall time"), minutes(vt.get("seconds")), minutes(gt.get("seconds"))),
        (_("training images a second (median epoch)"), _median_rate(ctx.ck.history),
         _median_rate(gan.meta.get("history"))),
        (_("device"), device_label(vt.get("device")), device_label(gt.get("device"))),
        (_("parameters"), f"{ctx.model.num_parameters():,}",
         _("{n:,} (generator; its discriminator was discarded)").format(
             n=sum(p.numel() for p in gan.model.parameters()))),
    ]
    st.dataframe(pd.DataFrame(rows, columns=["", ctx.name, gan.name]).astype(str), hide_index=True,
                 key="gan_training")
    for name, tr in ((ctx.name, vt), (gan.name, gt)):
        if tr.get("command"):
            st.caption(_("{name} was trained with").format(name=name))
            st.code(tr["command"], language="bash", wrap_lines=True)
    h = gan.meta.get("history") or []
    if h:
        last = h[-1]
        st.caption(_("Both from their meta.json, timed while training on this project's shared 2-core CPU. The GAN's "
                     "last epoch: discriminator loss {d:.3f}, generator loss {g:.3f}, D(real) = {real:.2f}, "
                     "D(fake) = {fake:.2f} — numbers that do not say whether the samples got better.").format(
            d=last["d_loss"], g=last["g_loss"], real=last["d_real"], fake=last["d_fake"]))

