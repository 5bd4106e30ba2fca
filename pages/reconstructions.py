"""Reconstructions: explore-set images beside their decoded posterior means, worst first if asked,
optionally against a second checkpoint on the same images; and what q(z|x)'s spread looks like."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx, selected_index
from pages._i18n import N_, _
from pages._link import LinkError, Param, integer, one_of
from pages._widgets import CELL, side_by_side
from vae.checkpoint import Checkpoint
from vae.data.images import image_grid, png_bytes, upscale
from vae.errors import CheckpointError
from vae.evaluate import dims_in_use, is_complete
from vae.explore.latent import posterior_samples
from vae.folders import CONFIG, META, read_json
from vae.model import ELBO_SAMPLES

ORDERS = {  # shown translated
    "random": N_("random"),
    "worst_elbo": N_("worst first (−ELBO)"),
    "worst_mse": N_("worst first (MSE)"),
    "best_elbo": N_("best first (−ELBO)"),
}
METRIC_ROWS = [  # (meta.json "metrics" key, history fallback key, row label)
    ("neg_elbo", "test_neg_elbo", "−ELBO (nats)"),
    ("recon", "test_recon", N_("reconstruction −log p(x|z) (nats)")),
    ("kl", "test_kl", "KL (nats)"),
    ("iwae_nll", None, N_("IWAE bound on −log p(x) (nats)")),
    ("recon_mse", None, N_("MSE per pixel")),
    ("knn_acc", None, N_("5-NN accuracy on μ")),
    ("dims_in_use", None, N_("dimensions in use")),
]



# -- the link ----------------------------------------------------------------------------------------
def _comparable(ctx) -> list[str]:
    return ["none", *comparability(loaders.checkpoint_entries(), ctx.ck, ctx.name)[0]]


def _compare_parse(text: str, ctx) -> dict:
    if text not in _comparable(ctx):
        raise LinkError(_("it is not a checkpoint of the same data set and image size here") if text != ctx.name
                        else _("it is the loaded checkpoint itself"))
    return {"rec_compare": None if text == "none" else text}


def _compare_dump(ctx) -> str | None:
    if "rec_compare" not in st.session_state:
        return None
    return st.session_state.get("rec_compare") or "none"


PARAMS = link.declare("reconstructions", [
    Param("compare", N_("checkpoint to compare with"), _compare_parse, _compare_dump, states=("rec_compare",)),
    integer("class", "rec_class", N_("class"), -1, lambda ctx: len(ctx.class_names) - 1),
    one_of("order", "rec_order", N_("order"), list(ORDERS)),
    integer("n", "rec_count", N_("number of images"), 4, 64),
    integer("seed", "rec_seed", N_("seed"), 0, 1_000_000),
])


# -- helpers (plain functions, tested directly) --------------------------------------------------
def show(img: torch.Tensor | np.ndarray, caption: str | None = None, size: int = 140) -> None:
    """One image, nearest-neighbour upscaled, sent as PNG (st.image's default JPEG blurs pixel edges)."""
    arr = img if isinstance(img, np.ndarray) and img.dtype == np.uint8 else upscale(img, presenter.px(size))
    st.image(arr, caption=caption, output_format="PNG", width=arr.shape[1])  # a long caption must not widen it


def show_row(images: torch.Tensor, captions: list[str], size: int = 96, per_row: int = 8) -> None:
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row)
        for j in range(min(per_row, len(images) - start)):
            with cols[j]:
                show(images[start + j], captions[start + j], size)


def pick_indices(labels: np.ndarray, neg_elbo: np.ndarray, mse: np.ndarray, cls: int, count: int,
                 order: str, seed: int) -> np.ndarray:
    """Indices of the images to show: one class (or all, cls = -1), ``count`` of them, in ``order``."""
    pool = np.flatnonzero(labels == cls) if cls >= 0 else np.arange(len(labels))
    if len(pool) == 0:
        return pool
    if order == "random":
        rng = np.random.default_rng(int(seed))
        return rng.choice(pool, size=min(count, len(pool)), replace=False)
    key = {"worst_elbo": -neg_elbo, "worst_mse": -mse, "best_elbo": neg_elbo}[order]
    return pool[np.argsort(key[pool], kind="stable")][:count]


def grid_png(rows: list[torch.Tensor], per_row: int, scale: int) -> bytes:
    """One PNG: for each chunk of ``per_row`` images, a row from each tensor (originals, A, B)."""
    n = len(rows[0])
    blank = torch.ones_like(rows[0][:1])
    parts = []
    for start in range(0, n, per_row):
        for t in rows:
            chunk = t[start : start + per_row]
            if len(chunk) < per_row:
                chunk = torch.cat([chunk, blank.repeat(per_row - len(chunk), 1, 1, 1)])
            parts.append(chunk)
    return png_bytes(image_grid(torch.cat(parts), ncol=per_row, scale=scale))


def comparability(entries: list[dict], current: Checkpoint, current_name: str,
                  root: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """Checkpoints under ``root`` (the app's checkpoints/ by default) that can be compared with
    ``current`` (same data set and image shape), and the others with the reason they cannot."""
    root = loaders.CHECKPOINT_ROOT if root is None else root
    ok, why = [], {}
    shape = tuple(current.config.image_shape)
    for e in entries:
        name = e["name"]
        if name == current_name:
            continue
        if e["error"] is not None:
            why[name] = _("does not load: {error}").format(error=e["error"])
            continue
        try:
            folder = root / name
            meta = read_json(folder / META) if (folder / META).exists() else {}
            other_shape = tuple(read_json(folder / CONFIG).get("image_shape", ()))
        except CheckpointError as err:
            why[name] = str(err)
            continue
        dataset = meta.get("dataset", "unknown")
        if dataset != current.dataset:
            why[name] = _("trained on {other}, not {this}").format(other=dataset, this=current.dataset)
        elif other_shape != shape:
            why[name] = _("images are {other}, not {this}").format(other="×".join(map(str, other_shape)),
                                                                  this="×".join(map(str, shape)))
        else:
            ok.append(name)
    return ok, why


def clamp_state(key: str, hi: int) -> None:
    """Keep a number widget's remembered value within a new maximum (another checkpoint or split)."""
    if key in st.session_state and int(st.session_state[key]) > hi:
        st.session_state[key] = hi


def _num(v: float) -> str:
    return f"{v:.1f}" if abs(v) < 1000 else f"{v:.0f}"


def metrics_column(ck: Checkpoint) -> tuple[dict[str, str], bool]:
    """A checkpoint's test metrics as display strings, and whether `python -m vae evaluate` ran."""
    m, hist = ck.metrics, (ck.history[-1] if ck.history else {})
    out: dict[str, str] = {}
    for key, fallback, label in METRIC_ROWS:
        v = dims_in_use(m) if key == "dims_in_use" else m.get(key)
        if v is None and fallback is not None:
            v = hist.get(fallback)
        if not isinstance(v, (int, float)):
            out[label] = "—"
        elif key == "dims_in_use":
            out[label] = f"{int(v)} / {ck.config.latent_dim}"
        elif key == "recon_mse":
            out[label] = f"{v:.4f}"
        elif key == "knn_acc":
            out[label] = f"{100 * v:.1f} %"
        else:
            out[label] = _num(v)
    if m:
        n = m.get("n_images", "?")
        out["source"] = (_("evaluate, {n} test images") if is_complete(m, ck.meta)
                         else _("evaluate, {n} test images (partial)")).format(n=n)
    elif hist:
        out["source"] = _("last training epoch ({epoch})").format(epoch=hist.get("epoch", "?"))
    else:
        out["source"] = "—"
    return out, bool(m)


# -- the page ------------------------------------------------------------------------------------
@nav.page("reconstructions")
def main() -> None:
    """The page: the grid, the comparison, the metrics table and the posterior samples."""
    ctx = get_ctx()
    link.restore("reconstructions", ctx)
    st.title(_("Reconstructions"))
    st.caption(
        _("Each cell: an image from the {split} split of **{dataset}** (left) and its "
          "reconstruction, the decoded posterior mean μ (right). −ELBO is in nats (the mean over {k} "
          "posterior samples fixed per image, as on every page); MSE is per pixel.").format(
            split=ctx.split_label, dataset=ctx.ck.dataset, k=ELBO_SAMPLES)
    )
    cls, count, order, seed = _which_images(ctx)
    other = _second_checkpoint(ctx)
    idx = pick_indices(ctx.enc.labels, ctx.enc.neg_elbo, ctx.enc.mse, cls, count, order, seed)
    if len(idx) == 0:
        st.info(_("The {split} split has no images of class **{cls}**.").format(
            split=ctx.split_label, cls=ctx.class_names[cls]))
        return
    if len(idx) < count:
        st.caption(_("Only {n} images of this class in the {split} split; showing all of them.").format(
            n=len(idx), split=ctx.split_label))
    c = _reconstruct(ctx, idx, other)
    _grid(ctx, c)
    link.sync("reconstructions", ctx)
    _metrics(ctx, c)
    _posterior_spread(ctx, int(idx[0]))


def _which_images(ctx: Ctx) -> tuple[int, int, str, int]:
    """Class (-1: all), how many, in which order, and the seed of a random order."""
    n_classes = len(ctx.class_names)
    c1, c2, c3, c4 = st.columns([1.3, 1.4, 1.4, 0.9])
    class_labels = {-1: _("all classes"), **dict(enumerate(ctx.class_names))}
    cls = c1.selectbox(_("Class"), [-1, *range(n_classes)], key="rec_class", format_func=class_labels.get)
    count = c2.slider(_("Images"), 4, 64, 16, key="rec_count")
    order = c3.selectbox(_("Order"), list(ORDERS), format_func={k: _(v) for k, v in ORDERS.items()}.get,
                         key="rec_order")
    seed = c4.number_input(_("Seed"), 0, 1_000_000, 0, key="rec_seed", disabled=order != "random",
                           help=_("Which random images are drawn (order: random)"))
    return int(cls), int(count), order, int(seed)


def _second_checkpoint(ctx: Ctx) -> Checkpoint | None:
    """A checkpoint of the same data set and image size to compare with (the others, with the reason)."""
    ok_names, not_ok = comparability(loaders.checkpoint_entries(), ctx.ck, ctx.name)
    other_name = st.selectbox(
        _("Compare with"), [None, *ok_names], key="rec_compare",
        format_func={None: _("— no second checkpoint —"), **{n: n for n in ok_names}}.get,
        help=_("Another checkpoint trained on the same data set and image size: its reconstructions of "
               "the same images appear as a third image in each cell."),
    )
    if not ok_names:
        st.caption(_("No other checkpoint of the same data set and image size to compare with."))
    if not_ok:
        with st.expander(_("{n} checkpoint(s) not comparable with **{name}**").format(n=len(not_ok), name=ctx.name)):
            for name, reason in not_ok.items():
                st.markdown(f"- **{name}**: {reason}")
    if other_name is None:
        return None
    try:
        return loaders.get_checkpoint(other_name, ctx.device)
    except CheckpointError as e:
        st.error(_("**{name}** cannot be loaded: {error}").format(name=other_name, error=e))
        return None


@dataclass
class Compared:
    """The images shown, reconstructed by A (the loaded checkpoint) and by B (the second one, if any)."""

    idx: np.ndarray  # (n,) their indices in the explore set
    x: torch.Tensor  # (n, C, H, W)
    rec_a: torch.Tensor  # (n, C, H, W) decoded μ
    elbo_a: np.ndarray  # (n,) −ELBO, nats
    mse_a: np.ndarray  # (n,) per pixel
    other: Checkpoint | None = None
    rec_b: torch.Tensor | None = None
    elbo_b: np.ndarray | None = None
    mse_b: np.ndarray | None = None


def _reconstruct(ctx: Ctx, idx: np.ndarray, other: Checkpoint | None) -> Compared:
    x = ctx.data.images[idx]  # (n, C, H, W)
    c = Compared(idx, x, ctx.decode(ctx.enc.mu[idx]), ctx.enc.neg_elbo[idx], ctx.enc.mse[idx], other)
    if other is not None:
        with torch.inference_mode():  # a shared cached model: no graph, no version counters
            c.rec_b = other.model.reconstruct(x)
            terms_b = other.model.per_image_terms(x, samples=ELBO_SAMPLES)  # as B's own explore set
        c.elbo_b = (terms_b["recon"] + terms_b["kl"]).numpy()
        c.mse_b = terms_b["mse"].numpy()
    return c


def _grid(ctx: Ctx, c: Compared) -> None:
    """Each image beside its reconstructions, with their −ELBO; the grid as one PNG."""
    per_row, cell = (3, 80) if c.other is not None else (4, CELL)
    grid = st.container(key="rec_grid")  # the tour's focus: the images and their reconstructions
    if c.other is not None:
        grid.markdown(_("Left to right: **original**, **A = {a}**, **B = {b}**.").format(a=ctx.name, b=c.other.name))
    for start in range(0, len(c.idx), per_row):
        cols = grid.columns(per_row)
        for j in range(min(per_row, len(c.idx) - start)):
            k = start + j
            i = int(c.idx[k])
            tiles = [c.x[k], c.rec_a[k]] + ([c.rec_b[k]] if c.rec_b is not None else [])
            if c.rec_b is not None:
                cap = f"#{i} {ctx.class_name(i)} · −ELBO A {_num(c.elbo_a[k])}, B {_num(c.elbo_b[k])}"
            else:
                cap = f"#{i} {ctx.class_name(i)} · −ELBO {_num(c.elbo_a[k])} · MSE {c.mse_a[k]:.3f}"
            with cols[j]:
                show(side_by_side(tiles, presenter.px(cell)), cap)
    h = ctx.ck.config.image_shape[1]
    png = grid_png([c.x, c.rec_a] + ([c.rec_b] if c.rec_b is not None else []), 8, max(1, round(56 / h)))
    st.download_button(_("Download the grid (PNG)"), png, file_name=f"{ctx.name}-reconstructions.png",
                       mime="image/png", key="rec_dl_png",
                       help=_("Rows of originals, then their reconstructions by A, then by B.") if c.other is not None
                       else _("Rows of originals, then their reconstructions."))


def _metrics(ctx: Ctx, c: Compared) -> None:
    """Both checkpoints' test metrics, and on the images shown; which checkpoints need `vae evaluate`."""
    other = c.other
    st.subheader(_("Test metrics of both checkpoints") if other is not None else _("Test metrics"))
    cks = [("A: " + ctx.name if other is not None else ctx.name, ctx.ck)]
    if other is not None:
        cks.append(("B: " + other.name, other))
    table, missing = {}, []
    for label, ck in cks:
        col, evaluated = metrics_column(ck)
        table[label] = col
        if not evaluated:
            missing.append(ck.name)
    for (label, _ck), (e, m) in zip(cks, [(c.elbo_a, c.mse_a), (c.elbo_b, c.mse_b)][: len(cks)], strict=True):
        table[label][_("−ELBO, these {n} images").format(n=len(c.idx))] = _num(float(np.mean(e)))
        table[label][_("MSE, these {n} images").format(n=len(c.idx))] = f"{float(np.mean(m)):.4f}"
    st.table(pd.DataFrame(table).rename(index=lambda row: _("source") if row == "source" else _(row)))
    if missing:
        st.caption(
            _("Not evaluated yet: {names} (IWAE, MSE, k-NN and active units missing; −ELBO is from the last "
              "training epoch). Run {commands}.").format(
                names=", ".join(f"**{n}**" for n in missing),
                commands=", ".join(f"`python -m vae evaluate checkpoints/{n}`" for n in missing))
        )


def _posterior_spread(ctx: Ctx, first: int) -> None:
    """Samples of q(z|x) of one image (the map's, or one picked; the grid's first by default), decoded."""
    st.subheader(_("What the posterior's uncertainty looks like"))
    st.caption(
        _("The encoder gives each image a Gaussian q(z|x) = N(μ, σ²), not a single point. Each sample "
          "below is one draw z ~ q(z|x), decoded; the reconstruction above decodes μ only.")
    )
    picked = selected_index(ctx)
    use_map = False
    p1, p2, p3 = st.columns([1.6, 1.2, 1.0])
    if picked is not None:
        use_map = p1.toggle(_("The image selected on the map (#{i})").format(i=picked), value=True,
                            key="rec_post_use_map")
    if not use_map:
        clamp_state("rec_post_index", len(ctx.enc) - 1)
        i_post = int(p1.number_input(_("Image index"), 0, len(ctx.enc) - 1, first, key="rec_post_index",
                                     help=_("0 – {last}; select one on the Map to follow it here").format(
                                         last=len(ctx.enc) - 1)))
    else:
        i_post = picked
    n_post = p2.slider(_("Samples"), 4, 16, 8, key="rec_post_n")
    seed_post = p3.number_input(_("Seed"), 0, 1_000_000, 0, key="rec_post_seed")

    mu_i, logvar_i = ctx.enc.mu[i_post], ctx.enc.logvar[i_post]
    z = posterior_samples(mu_i, logvar_i, int(n_post), seed=int(seed_post))  # (n, D)
    samples = ctx.decode(z)  # (n, C, H, W)
    mean_rec = ctx.decode(mu_i[None])[0]
    spread = samples.std(0)
    top = float(spread.max())
    a, b, c = st.columns(3)
    with a:
        show(ctx.data.images[i_post], _("#{i} {cls}: original").format(i=i_post, cls=ctx.class_name(i_post)),
             size=140)
    with b:
        show(mean_rec, _("decoded μ"), size=140)
    with c:
        show(spread / max(top, 1e-6), _("pixel std over samples (white = {top:.2f})").format(top=top), size=140)
    show_row(samples, [f"z ~ q(z|x) #{k + 1}" for k in range(len(samples))], size=96, per_row=8)
    sigma = np.exp(0.5 * logvar_i)
    st.caption(
        _("Posterior σ: mean {mean:.2f}, smallest {low:.2f} (prior σ = 1). Distance of the samples from μ: "
          "{dist:.2f} on average, versus ‖μ‖ = {norm:.2f}.").format(
            mean=sigma.mean(), low=sigma.min(), dist=np.linalg.norm(z - mu_i, axis=1).mean(),
            norm=np.linalg.norm(mu_i))
    )
