"""One training step: a real batch through the loaded model, stage by stage, with the code of
``vae/`` that computes each stage (read from the source files, never copied)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st
import torch

from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import get_ctx
from pages._i18n import N_, _, ngettext, tr_fig
from pages._i18n import tr as tr_text
from pages._link import LinkError, Param, integer, one_of, parse_float
from pages._story import likelihood_name
from pages._widgets import show_images
from vae.data.images import diverging
from vae.explore.figures import latent_code_bars, lines
from vae.lessons.step import STAGES, StepTrace, trace_training_step

LEARNING_RATES = [1e-4, 5e-4, 2e-3, 1e-2]
# In presenter mode the stage and its code fit a projector below the tour's bar: z's table and the code
# scroll within these heights (pixels), and the stage's title is a line of bold text, not a subheader.
TABLE_PX = {False: 400, True: 140}
CODE_PX = {False: "content", True: 256}

KEYS = [s.key for s in STAGES]


def _lr_parse(text: str, ctx) -> dict:
    v = parse_float(text, 0.0, 1.0)
    match = [r for r in LEARNING_RATES if math.isclose(r, v, rel_tol=1e-6)]
    if not match:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(f"{r:g}" for r in LEARNING_RATES)))
    return {"step_lr": match[0]}


def _lr_dump(ctx) -> str | None:
    v = st.session_state.get("step_lr")
    return None if v is None else f"{float(v):g}"


PARAMS = link.declare("training_step", [
    one_of("stage", "step_stage", N_("stage"), KEYS),
    integer("batch", "step_batch_size", N_("batch size"), 1, 64),
    integer("bseed", "step_batch_seed", N_("batch seed"), 0, 1_000_000),
    integer("eps", "step_eps_seed", N_("seed of ε"), 0, 1_000_000),
    Param("lr", N_("learning rate"), _lr_parse, _lr_dump, states=("step_lr",)),
    integer("image", "step_image", N_("image of the batch"), 0, 63),
])


def run_step(name: str, content_hash: str, split: str, limit: int | None, batch: tuple[int, ...], eps_seed: int,
             lr: float, steps: int) -> StepTrace:
    with st.spinner(_("Taking the step…")):
        return _run_step(name, content_hash, split, limit, batch, eps_seed, lr, steps)


@st.cache_resource(show_spinner=False, max_entries=6)
def _run_step(name: str, content_hash: str, split: str, limit: int | None, batch: tuple[int, ...], eps_seed: int,
             lr: float, steps: int) -> StepTrace:
    """The traced step (shared, never mutated: a trace holds the model's size three times over)."""
    ck = loaders.get_checkpoint(name)
    x = loaders.load_data(name, content_hash, split, limit).images[list(batch)]
    eps = torch.randn(len(batch), ck.config.latent_dim, generator=torch.Generator().manual_seed(eps_seed))
    return trace_training_step(ck.model, x, eps, lr=lr, steps=steps)


def batch_indices(n_data: int, size: int, seed: int) -> tuple[int, ...]:
    """``size`` distinct images of the explore set, drawn with ``seed`` (as a shuffled epoch would)."""
    perm = torch.randperm(n_data, generator=torch.Generator().manual_seed(seed))
    return tuple(int(i) for i in perm[:size])


def _move(delta: int) -> None:
    i = KEYS.index(st.session_state.get("step_stage", KEYS[0]))
    st.session_state["step_stage"] = KEYS[max(0, min(len(KEYS) - 1, i + delta))]


def _redraw_eps() -> None:
    st.session_state["step_eps_seed"] = (int(st.session_state.get("step_eps_seed", 0)) + 1) % 1_000_000


def show_code(key: str, model) -> None:
    stage = STAGES[KEYS.index(key)]
    for src in stage.sources(model):
        st.caption(tr_text(src.where))
        st.code(src.text, language="python", wrap_lines=True, height=CODE_PX[presenter.on()])


@nav.page("training_step")
def main() -> None:
    """The page: the batch and the step's settings, the stage picker, then the stage beside its code."""
    ctx = get_ctx()
    link.restore("training_step", ctx)  # the link's settings, before the widgets
    st.title(_("One training step"))
    if ctx.ck.imported:
        st.info(_("**{name}** is an imported ONNX model: its frozen graphs give no gradients, so there is no "
                  "training step to take apart. Pick one of our checkpoints in the sidebar to see one.").format(
            name=ctx.name))
        return
    st.caption(
        _("A real batch of the {split} split through **{name}**, by the very functions that trained it: "
          "`VAE.loss` and `optimisation_step` are the two calls `Trainer.run` makes for every batch. The "
          "step runs on a copy of the model; the loaded model is untouched. The train split is not needed.")
        .format(split=ctx.split_label, name=ctx.name)
    )
    batch, eps_seed, lr = _step_settings(ctx)
    tr = run_step(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, batch, eps_seed, lr, 1)
    with st.container(key="step_stage_view"):  # the tour's focus: the stage picker, the stage beside its code
        key = _stage_picker()
        left, right = st.columns([1, 1], gap="large")
        with left:
            STAGE_VIEWS[key](ctx, tr, batch)
        with right:
            st.markdown(_("**The code that computed it**"))
            show_code(key, ctx.model)
    st.caption(_("Batch: images {images} · β = {beta:g} · ε seed {seed} · {likelihood} likelihood").format(
        images=", ".join(f"#{i}" for i in batch[:12]) + (" …" if len(batch) > 12 else ""), beta=tr.beta,
        seed=eps_seed, likelihood=likelihood_name(ctx.ck.config.likelihood)))
    link.sync("training_step", ctx)


def _step_settings(ctx) -> tuple[tuple[int, ...], int, float]:
    """The batch (its size and seed), the seed of ε and the learning rate."""
    c1, c2, c3, c4, c5 = st.columns([1, 1, 1.1, 1.2, 1], vertical_alignment="bottom")
    size = int(c1.number_input(_("Batch size"), 1, 64, 16, key="step_batch_size"))
    batch_seed = int(c2.number_input(_("Batch seed"), 0, 1_000_000, 0, key="step_batch_seed",
                                     help=_("Which images form the batch (a shuffle, as in an epoch).")))
    eps_seed = int(c3.number_input(_("ε seed"), 0, 1_000_000, 0, key="step_eps_seed"))
    c4.button(_("Re-draw ε"), key="step_redraw", icon=":material/casino:", on_click=_redraw_eps, width="stretch")
    lr = c5.selectbox(_("Learning rate"), LEARNING_RATES, index=0, key="step_lr", format_func=lambda v: f"{v:g}",
                      help=_("Adam's step size. Training used a cosine schedule from {lr} down to a 20th of it.")
                      .format(lr=ctx.ck.meta.get("train_config", {}).get("lr", "--lr")))
    return batch_indices(len(ctx.data), min(size, len(ctx.data)), batch_seed), eps_seed, float(lr)


def _stage_picker() -> str:
    """Back, the stages (by the part of their title before its colon), Next, and the stage's title."""
    st.session_state.setdefault("step_stage", KEYS[0])
    # the stage's own buttons say "stage": the tour's bar has a Back and a Next of its own
    b1, b2, b3 = st.columns([1.9, 3.8, 1.9], vertical_alignment="center")  # their labels fit at 1024 px
    b1.button(_("Previous stage"), key="step_back", icon=":material/arrow_back:", on_click=_move, args=(-1,),
              disabled=st.session_state["step_stage"] == KEYS[0], width="stretch")
    with b2:
        short = {s.key: _(s.title).split(":")[0].split("：")[0] for s in STAGES}  # the title before its colon
        key = st.select_slider(_("Stage"), KEYS, key="step_stage", label_visibility="collapsed",
                               format_func=short.get)
    b3.button(_("Next stage"), key="step_next", icon=":material/arrow_forward:", on_click=_move, args=(1,),
              disabled=key == KEYS[-1], width="stretch")
    n = KEYS.index(key)
    title = f"{n + 1} / {len(KEYS)} · {_(STAGES[n].title)}"
    if presenter.on():
        st.markdown(f"**{title}**")
    else:
        st.subheader(title)
    return key


def _image_pick(tr: StepTrace) -> int:
    """Which image of the batch the stage details, with a thumbnail of it."""
    b = len(tr.x)
    if int(st.session_state.get("step_image", 0)) > b - 1:
        st.session_state["step_image"] = 0
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    i = int(c1.number_input(_("Image of the batch"), 0, b - 1, 0, key="step_image"))
    with c2:
        show_images(tr.x[i : i + 1], size=56)
    return i


def _stage_x(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """The batch x: its images and shape."""
    b = len(tr.x)
    c, h, w = tr.x.shape[1:]
    show_images(tr.x, [ctx.class_name(i) for i in batch], size=72)
    st.markdown(_("x has shape ({b}, {c}, {h}, {w}): {b} images of {p} pixel values in [0, 1]. "
                  "Training draws such batches from a shuffled training split, epoch after epoch.").format(
        b=b, c=c, h=h, w=w, p=c * h * w))


def _stage_encode(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """The encoder's μ and σ of one image of the batch."""
    d = tr.mu.shape[1]
    i = _image_pick(tr)
    st.plotly_chart(tr_fig(latent_code_bars(tr.mu[i].numpy(), tr.sigma[i].numpy(), height=240)),
                    key="step_mu_bars", config={"displayModeBar": False})
    st.markdown(_("The encoder turns each image into {n} numbers: μ ({d}) and log σ² ({d}), "
                  "so q(z|x) = N(μ, σ²). Image {i}: mean σ = {sigma:.3f}; over the batch, "
                  "mean |μ| = {mu:.2f}. Bars: μ; whiskers: ±σ; green band: ±1, "
                  "where the prior N(0, I) keeps most of its mass.").format(
        n=2 * d, d=d, i=i, sigma=float(tr.sigma[i].mean()), mu=float(tr.mu.abs().mean())))


def _stage_eps(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """The noise ε, drawn apart from the model."""
    b, d = tr.mu.shape
    i = _image_pick(tr)
    st.plotly_chart(tr_fig(latent_code_bars(tr.eps[i].numpy(), height=240, prior_band=True)),
                    key="step_eps_bars", config={"displayModeBar": False})
    st.button(_("Re-draw ε"), key="step_redraw_2", icon=":material/casino:", on_click=_redraw_eps)
    st.markdown(_("ε ~ N(0, I): {b}×{d} numbers of pure noise, drawn apart from the model so that z is a "
                  "plain function of μ and σ and gradients can flow through it (the reparameterisation "
                  "trick). Mean {mean:+.2f}, std {std:.2f} over the batch.").format(
        b=b, d=d, mean=float(tr.eps.mean()), std=float(tr.eps.std())))


def _stage_z(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """z = μ + σ · ε, dimension by dimension, for one image."""
    d = tr.mu.shape[1]
    i = _image_pick(tr)
    st.dataframe(pd.DataFrame({_("dim"): [f"z{j}" for j in range(d)], "μ": tr.mu[i].numpy(),
                               "σ": tr.sigma[i].numpy(), "ε": tr.eps[i].numpy(), "z = μ + σ·ε": tr.z[i].numpy()})
                 .round(3), hide_index=True, key="step_z_table", height=min(38 + 35 * d, TABLE_PX[presenter.on()]))
    st.markdown(_("‖z − μ‖ = {dist:.3f} for image {i}: the noise moves the code "
                  "by about σ in every dimension.").format(dist=float((tr.z[i] - tr.mu[i]).norm()), i=i))


def _stage_decode(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """x̂, the decoder's mean image of p(x|z), under x."""
    d = tr.mu.shape[1]
    c, h, w = tr.x.shape[1:]
    show_images(tr.x, size=72, label="x")
    bernoulli = ctx.ck.config.likelihood == "bernoulli"
    lik = likelihood_name(ctx.ck.config.likelihood)
    show_images(tr.x_hat, size=72, label="x̂ = sigmoid(decoder(z))" if bernoulli
                else _("x̂ = the mean of the {likelihood} likelihood, from decoder(z)").format(likelihood=lik))
    what = (_("{n} logits; sigmoid(logits) = x̂").format(n=c * h * w) if bernoulli else
            _("{n} parameters of its {likelihood} likelihood; their mean is x̂").format(
                n=tr.logits[0].numel(), likelihood=lik))
    st.markdown(_("The decoder maps each z ({d} numbers) to {what}, the mean image of p(x|z). Mean squared "
                  "error of x̂ over the batch: {mse:.4f} per pixel.").format(
        d=d, what=what, mse=float((tr.x_hat - tr.x).pow(2).mean())))


def _stage_loss(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """The loss: reconstruction + β · KL, per image and averaged."""
    b = len(tr.x)
    recon, kl = float(tr.recon.mean()), float(tr.kl.mean())
    per_image = _("nats per image")
    st.latex(rf"\mathcal L = \underbrace{{{recon:.2f}}}_{{-\log p(x\mid z)}} + {tr.beta:g}\times"
             rf"\underbrace{{{kl:.2f}}}_{{\mathrm{{KL}}}} = {tr.loss:.2f}\ \text{{{per_image}}}")
    st.dataframe(pd.DataFrame({_("image"): [f"#{i}" for i in batch], "−log p(x|z)": tr.recon.numpy(),
                               "KL": tr.kl.numpy(), "−ELBO": (tr.recon + tr.kl).numpy()}).round(2),
                 hide_index=True, key="step_loss_table", height=min(38 + 35 * b, 320))
    st.markdown(_("Both terms are averaged over the batch. The reconstruction term sums over every pixel, the "
                  "KL over every latent dimension (closed form for two Gaussians)."))


def _stage_grad(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """The gradients, from the loss back to the logits, μ, log σ² and every weight."""
    d = tr.mu.shape[1]
    i = _image_pick(tr)
    scale = float(tr.grad_logits[i].abs().max())
    g1, g2 = st.columns([1, 2])
    with g1:
        show_images(torch.stack([tr.x[i], tr.x_hat[i]]), ["x", "x̂"], size=84)
        st.image(diverging(tr.grad_logits[i], 168, scale), caption=_("∂L/∂logits, ±{scale:.1e} (red +, blue −)").format(scale=scale),
                 width=168, output_format="PNG")
    with g2:
        st.plotly_chart(lines(list(range(d)), {"∂L/∂μ": tr.grad_mu[i].numpy(),
                                                "∂L/∂log σ²": tr.grad_logvar[i].numpy()},
                              _("latent dimension"), _("gradient"), height=220),
                        key="step_grad_lines", config={"displayModeBar": False})
    st.markdown(_("The backward pass (`loss.backward`, beside) applies the chain rule from the loss back to every "
                  "weight. For a Bernoulli decoder ∂L/∂logits = (x̂ − x) / B: red where the image came out too "
                  "bright. It flows through the decoder, through z = μ + σ·ε into μ and σ, and through the encoder."))
    st.dataframe(_shown(_param_table(tr)[["parameter", "shape", "‖gradient‖", "‖weights‖"]]), hide_index=True,
                 key="step_param_table", height=300)


def _stage_adam(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """One Adam step: how far each weight moved."""
    st.latex(r"m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad "
             r"w \leftarrow w - \mathrm{lr}\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}")
    moved = torch.cat([u.flatten() for u in tr.updates.values()]).abs()
    st.markdown(_("A fresh Adam's first step moves every weight by about the learning rate ({lr:g}), whatever "
                  "the size of its gradient: here the median move is {median:.2e} and {share} of the "
                  "{n:,} weights moved by more than 0.9 × lr. (During training, m and v carry over "
                  "from step to step, so later steps follow the averaged gradient.)").format(
        lr=tr.lr, median=float(moved.median()), share=f"{float((moved > 0.9 * tr.lr).float().mean()) * 100:.0f}%",
        n=moved.numel()))
    st.dataframe(_shown(_param_table(tr)[["parameter", "‖gradient‖", "‖update‖", "mean |update| / lr"]]),
                 hide_index=True, key="step_adam_table", height=300)


def _stage_new(ctx, tr: StepTrace, batch: tuple[int, ...]) -> None:
    """The step repeated on the same batch and ε: the loss before and after, and x̂ before and after."""
    steps = int(st.slider(_("Repeat the step on this batch"), 1, 30, 1, key="step_repeat",
                          help=_("Each repetition is one more Adam step on the same batch and ε.")))
    many = tr if steps == 1 else run_step(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, batch,
                                          int(st.session_state.get("step_eps_seed", 0)), tr.lr, steps)
    m = st.columns(3)
    m[0].metric(_("Loss before"), f"{many.losses[0]:.2f}")
    m[1].metric(ngettext("Loss after {n} step", "Loss after {n} steps", steps).format(n=steps), f"{many.new_loss:.2f}",
                delta=f"{many.new_loss - many.losses[0]:+.2f}", delta_color="inverse")
    m[2].metric(_("KL after"), f"{many.new_kl:.2f}", delta=f"{many.new_kl - float(tr.kl.mean()):+.2f}",
                delta_color="off")
    fig = lines(list(range(len(many.losses))), {_("loss (same batch, same ε)"): many.losses},
                _("Adam steps taken"), _("nats per image"), height=220)
    fig.update_xaxes(dtick=max(1, steps // 10))
    st.plotly_chart(fig, key="step_losses", config={"displayModeBar": False})
    show_images(tr.x_hat, size=72, label=_("x̂ before the step"))
    show_images(many.new_x_hat, size=72, label=ngettext("x̂ after {n} step, same images and ε",
                                                         "x̂ after {n} steps, same images and ε", steps).format(n=steps))
    st.markdown(_("The trainer repeats this for every batch of every epoch, each time with new images and new "
                  "ε: {how_many}").format(how_many=_epochs_sentence(ctx)))


#: stage key (vae.lessons.step.STAGES) -> what the page shows of it
STAGE_VIEWS = {"x": _stage_x, "encode": _stage_encode, "eps": _stage_eps, "z": _stage_z, "decode": _stage_decode,
               "loss": _stage_loss, "grad": _stage_grad, "adam": _stage_adam, "new": _stage_new}


def _param_table(tr: StepTrace) -> pd.DataFrame:
    rows = []
    for name, g in tr.grads.items():
        w, u = tr.weights[name], tr.updates[name]
        rows.append({"parameter": name, "shape": "×".join(str(s) for s in g.shape) or "1",
                     "‖gradient‖": float(g.norm()), "‖weights‖": float(w.norm()), "‖update‖": float(u.norm()),
                     "mean |update| / lr": float(u.abs().mean() / tr.lr)})
    return pd.DataFrame(rows).round(4)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """A parameter table with its column names in the session's language."""
    return table.rename(columns={"parameter": _("parameter"), "shape": _("shape"), "‖gradient‖": _("‖gradient‖"),
                                 "‖weights‖": _("‖weights‖"), "‖update‖": _("‖update‖"),
                                 "mean |update| / lr": _("mean |update| / lr")})


def _epochs_sentence(ctx) -> str:
    meta = ctx.ck.meta
    epochs, train = meta.get("epochs_done"), meta.get("train_size")
    bs = (meta.get("train_config") or {}).get("batch_size")
    if not (epochs and train and bs):
        return _("see the Train page.")
    steps = int(np.ceil(train / bs)) * int(epochs)
    return _("{name} was trained for {epochs} epochs of {n:,} images in batches of {bs}: {steps:,} such steps.").format(
        name=ctx.name, epochs=epochs, n=train, bs=bs, steps=steps)
