"""Streamlit helpers of the pages that tell the VAE's story (training step, AE vs VAE, VAE vs GAN,
uses, weaknesses): the comparison models in models/, and the heavier measurements, cached.

Models are ``st.cache_resource`` (shared, never mutated); measurements are ``st.cache_data``
keyed by the checkpoints' content hashes, so each is computed once per server.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import streamlit as st
import torch

from pages._context import Ctx
from pages._i18n import N_, _
from pages._loaders import ROOT, checkpoint_entries, get_checkpoint, get_encoding
from vae.baselines.classifier import KIND as CLASSIFIER
from vae.baselines.classifier import load_classifier
from vae.baselines.compare import cached_comparison, prior_gap, prior_holes
from vae.baselines.gan import KIND as GAN
from vae.baselines.gan import load_generator
from vae.checkpoint import Checkpoint, ModelFolder, find_model
from vae.data.cache import DEFAULT_CACHE_DIR
from vae.errors import CheckpointError
from vae.lessons import uses

#: Comparison models (a GAN generator, a classifier per data set); VAE_MODELS points elsewhere.
MODELS_ROOT = Path(os.environ.get("VAE_MODELS") or ROOT / "models").expanduser()
BENCHMARKS_JSON = ROOT / "docs" / "benchmarks.json"
N_SCORE = 1000  # images per set for the anomaly histograms
LIKELIHOOD_NAMES = {"bernoulli": N_("Bernoulli"), "gaussian": N_("Gaussian"), "logistic": N_("discretised logistic")}


def likelihood_name(likelihood: str) -> str:
    """A likelihood's name (ModelConfig.likelihood) in the session's language."""
    return _(LIKELIHOOD_NAMES.get(likelihood, likelihood))


@st.cache_resource(show_spinner=False, max_entries=6)
def _load(path: str, kind: str, mtime: float) -> ModelFolder:
    return (load_generator if kind == GAN else load_classifier)(path)


def comparison_model(kind: str, dataset: str) -> tuple[ModelFolder | None, str | None]:
    """(the GAN generator or classifier of ``dataset`` in models/, None) or (None, why not)."""
    path = find_model(MODELS_ROOT, kind, dataset)
    if path is None:
        cmd = "train-gan" if kind == GAN else "train-classifier"
        command = f"python -m vae {cmd} --dataset {dataset} --out models/{dataset}-{'gan' if kind == GAN else 'classifier'}"
        return None, (_("no GAN generator of {dataset} in {folder}/; train one with `{command}`") if kind == GAN
                      else _("no classifier of {dataset} in {folder}/; train one with `{command}`")).format(
            dataset=dataset, folder=MODELS_ROOT.name, command=command)
    try:
        with st.spinner(_("Loading the comparison model…")):
            return _load(str(path), kind, (path / "model.safetensors").stat().st_mtime), None
    except (CheckpointError, OSError) as e:
        return None, (_("the GAN generator in {folder}/ cannot be loaded: {error}") if kind == GAN
                      else _("the classifier in {folder}/ cannot be loaded: {error}")).format(folder=path.name, error=e)


def loaded_checkpoints(device: str = "cpu") -> list[Checkpoint]:
    """Every checkpoint of the sidebar's list that loads (cached), in its order."""
    out = []
    for e in checkpoint_entries():
        if e["error"] is None:
            try:
                out.append(get_checkpoint(e["name"], device))
            except CheckpointError:
                continue
    return out


def partner(ctx: Ctx, want_beta_zero: bool) -> str | None:
    """A loadable checkpoint like the loaded one (data, architecture, latent size) whose β is 0
    (``want_beta_zero``) or positive; β = 1 first."""
    cfg = ctx.ck.config
    found = []
    for other in loaded_checkpoints(ctx.device):
        oc = other.config
        if (other.dataset == ctx.ck.dataset and (oc.arch, oc.latent_dim, tuple(oc.image_shape), oc.hidden_dims)
                == (cfg.arch, cfg.latent_dim, tuple(cfg.image_shape), cfg.hidden_dims)
                and (oc.beta == 0) == want_beta_zero):
            found.append((oc.beta != 1.0, other.name))
    return min(found)[1] if found else None


@st.cache_data(show_spinner=False, max_entries=4)  # the page shows its own spinner
def generator_report(vae_name: str, vae_hash: str, gan_path: str, gan_hash: str, clf_path: str,
                     clf_hash: str, n: int = 10_000) -> dict:
    """compare_generators on the VAE's own test split: shipped with the GAN, cached on disk, or measured now."""
    ck = get_checkpoint(vae_name)
    gan, _why = comparison_model(GAN, ck.dataset)
    clf, _why = comparison_model(CLASSIFIER, ck.dataset)
    return cached_comparison(ck, gan, clf, get_test_images(vae_name, vae_hash), DEFAULT_CACHE_DIR, n=n)


@st.cache_resource(show_spinner=False, max_entries=4)
def get_test_images(name: str, content_hash: str) -> torch.Tensor:
    return get_checkpoint(name).load_data("test").images


@st.cache_data(show_spinner=False, max_entries=8)  # the page shows its own spinner
def anomaly_scores(name: str, content_hash: str) -> dict:
    """-ELBO of the model's own test images and of images it never saw (vae.lessons.uses.other_images)."""
    ck = get_checkpoint(name)
    own = get_test_images(name, content_hash)[:N_SCORE]
    out = {"own": uses.neg_elbo(ck.model, own), "sets": []}
    for o in uses.other_images(tuple(ck.config.image_shape), own, ck.dataset, n=N_SCORE):
        s = uses.neg_elbo(ck.model, o.images)
        out["sets"].append({"name": o.name, "note": o.note, "scores": s, "auroc": uses.auroc(out["own"], s),
                            "examples": o.images[:8]})
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def gap(name: str, content_hash: str, split: str = "test") -> dict:
    """prior_gap and prior_holes of a checkpoint's encoded explore set (see vae.baselines.compare)."""
    enc = get_encoding(name, split)
    return {**prior_gap(enc.mu), **prior_holes(enc.mu, enc.logvar)}


def training_throughput() -> dict | None:
    """The conv VAE's training throughput as measured by the benchmarks (docs/benchmarks.json)."""
    try:
        records = json.loads(BENCHMARKS_JSON.read_text())
    except (OSError, ValueError):
        return None
    return next((r for r in records if isinstance(r, dict) and r.get("name") == "train_throughput_conv"), None)


def device_label(device: str | None) -> str | None:
    """A training device as meta.json records it ("cpu (2 threads)"), in the session's language."""
    m = re.fullmatch(r"(\w+) \((\d+) threads?\)", device or "")
    return _("{device} ({n} threads)").format(device=m[1], n=m[2]) if m else device


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return (_("{m:.0f} min") if seconds >= 600 else _("{m:.1f} min")).format(m=seconds / 60)
