"""What the pages load, cached for every session: the checkpoints under checkpoints/, their data sets,
encodings and maps.

Models, data sets, encodings and maps are ``st.cache_resource`` objects shared by all sessions: they
are never mutated (models stay in eval mode, inference runs under ``torch.inference_mode()``). The
cached functions take a checkpoint's name and content hash (a changed folder is a new entry), never
the model itself.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from pages._i18n import _, current_language
from vae.checkpoint import Checkpoint, list_checkpoints, load_checkpoint
from vae.data.cache import DEFAULT_CACHE_DIR
from vae.data.datasets import ImageDataset, check_dataset_name, dataset_available
from vae.errors import CheckpointError, DataError
from vae.explore.latent import Encoding
from vae.explore.minimap import MiniMap
from vae.explore.projection import METHOD_LABELS, LatentMap, ProjectionConfig, build_latent_map, fit_pca_map
from vae.explore.sets import (
    ALL,
    SampleMap,
    all_available,
    all_parts,
    base_split,
    combine,
    explore_parts,
    explore_set,
    placed_projection,
    projection,
    sample_map,
)

ROOT = Path(__file__).resolve().parent.parent
#: The folder whose sub-folders are offered as checkpoints; VAE_CHECKPOINTS points elsewhere. Read it
#: as ``loaders.CHECKPOINT_ROOT`` where it is used (a test may point the app at another folder).
CHECKPOINT_ROOT = Path(os.environ.get("VAE_CHECKPOINTS") or ROOT / "checkpoints").expanduser()
DEFAULT_CHECKPOINT = "fashion-mnist"
EXPLORE_LIMIT = 10_000  # images of the train split explored (its first ones)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


# -- checkpoints ------------------------------------------------------------------------------
def _root_stamp() -> tuple:
    """Changes whenever a checkpoint folder is added, removed or rewritten."""
    if not CHECKPOINT_ROOT.is_dir():
        return ()
    out = []
    for p in sorted(CHECKPOINT_ROOT.iterdir()):
        if p.is_dir():
            files = [p / "config.json", p / "model.safetensors", p / "meta.json", p / "encoder.onnx", p / "decoder.onnx"]
            out.append((p.name, tuple(_mtime(f) for f in files)))
    return tuple(out)


def _mtime(path: Path) -> int:
    """A file's modification time in ns, 0 when it is not there (a training run's temporary folder can be
    renamed into place between a listing and a look at its files)."""
    try:
        return path.stat().st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return 0


def data_problem(dataset: str) -> str | None:
    """Why a checkpoint's data set (test split) is not on this machine, or None when it is."""
    try:
        check_dataset_name(dataset)
    except DataError as e:
        return _("its meta.json names no known data set ({error})").format(error=e)
    if dataset_available(dataset, "test"):
        return None
    if dataset.startswith("folder:"):
        return _("its image folder {folder} is not on this machine").format(folder=dataset.split(":", 1)[1])
    return _("its data set, {dataset}, is not on this machine; opening it tries a download, or fetch it "
             "first with `python -m vae data --fetch {dataset}`").format(dataset=dataset)


@st.cache_data(show_spinner=False, max_entries=4)
def _entries(root: str, stamp: tuple, lang: str) -> list[dict]:  # lang: data_problem's language
    return [{"name": e.name, "error": e.error, "summary": e.summary,
             "data_problem": data_problem(e.dataset) if e.error is None else None}
            for e in list_checkpoints(root)]


def checkpoint_entries() -> list[dict]:
    """Every folder under checkpoints/: {name, error (None if it loads), summary, data_problem}."""
    return _entries(str(CHECKPOINT_ROOT), _root_stamp(), current_language())


def valid_name(name: str | None) -> bool:
    """A checkpoint name the UI may open: a plain folder name that loads (never a path)."""
    if not name or not NAME_RE.match(name) or ".." in name:
        return False
    return any(e["name"] == name and e["error"] is None for e in checkpoint_entries())


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_model(root: str, name: str, stamp: tuple, device: str) -> Checkpoint:
    return load_checkpoint(Path(root) / name, device=device)


def get_checkpoint(name: str, device: str = "cpu") -> Checkpoint:
    if not valid_name(name):
        raise CheckpointError(f"no loadable checkpoint named {name!r} under checkpoints/")
    stamp = next((s for s in _root_stamp() if s[0] == name), ())
    with st.spinner(_("Loading the model…")):
        return _load_model(str(CHECKPOINT_ROOT), name, stamp, device)


def all_here(name: str | None) -> bool:
    """Whether the "all" explore set can be offered for this checkpoint (its train split is here)."""
    if not name or not valid_name(name):
        return False
    try:
        return all_available(get_checkpoint(name))
    except (DataError, CheckpointError):
        return False


# -- data, encodings and maps ---------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=6)
def load_data(name: str, content_hash: str, split: str, limit: int | None) -> ImageDataset:
    """A checkpoint's explore set: the test split, the first ``limit`` train images, or all of them."""
    ck = get_checkpoint(name)
    if split == ALL:
        return combine(all_parts(ck))
    return ck.load_data(split, limit)


@st.cache_resource(show_spinner=False, max_entries=8)
def load_encoding(name: str, content_hash: str, split: str, limit: int | None, device: str) -> Encoding:
    """The explore set encoded by its checkpoint (from the disk cache after the first time)."""
    ck = get_checkpoint(name, device)
    if split == ALL:  # each part's own encoding (the test split's is shipped), concatenated
        return explore_parts(ck, all_parts(ck), DEFAULT_CACHE_DIR)
    data = load_data(name, content_hash, split, limit)
    return explore_set(ck, data, DEFAULT_CACHE_DIR)


@dataclass
class MapBundle:
    """A 2-D map of the explore set and its fast maps in both directions."""

    cfg: ProjectionConfig
    coords: np.ndarray  # (N, 2)
    latent_map: LatentMap
    reducer: object | None = None  # the fitted umap.UMAP when it was fitted in this process

    @property
    def label(self) -> str:
        return _(METHOD_LABELS[self.cfg.method])


@st.cache_resource(show_spinner=False, max_entries=12)
def load_map(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig) -> MapBundle:
    """The explore set's map in the projection ``cfg`` (computed once, then read from the disk cache)."""
    ck = get_checkpoint(name)
    enc = load_encoding(name, content_hash, split, limit, "cpu")
    what = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA", "latent": _("the map")}[cfg.method]
    with st.spinner(_("Computing {what} for {n:,} points — once; later opens read it from the disk cache "
                      "(UMAP's first run also compiles its code, which takes a minute)…").format(what=what, n=len(enc))):
        if split == ALL:  # fitted on the test codes, the others placed on that map (seconds, not minutes)
            base = load_encoding(name, content_hash, base_split(split), None, "cpu")
            coords, reducer = placed_projection(ck, split, base, enc, cfg, DEFAULT_CACHE_DIR), None
        else:
            coords, reducer = projection(ck, split, enc, cfg, DEFAULT_CACHE_DIR)
    pca = fit_pca_map(enc.mu, coords) if cfg.method == "pca" else None
    return MapBundle(cfg, coords, build_latent_map(enc.mu, coords, cfg.method, pca), reducer)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_samples(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig,
                 k: int) -> SampleMap:
    """``k`` posterior samples of every image, placed on the map of the posterior means."""
    ck = get_checkpoint(name)
    enc = load_encoding(name, content_hash, split, limit, "cpu")
    base = load_map(name, content_hash, base_split(split), limit if split != ALL else None, cfg)
    with st.spinner(f"Drawing {k} posterior samples of each of {len(enc):,} images and placing "
                    f"{len(enc) * k:,} codes on the map — once; later opens read them from the disk cache…"):
        return sample_map(ck, split, enc, base.latent_map, k, cfg, cache_dir=DEFAULT_CACHE_DIR)


@st.cache_resource(show_spinner=False, max_entries=12)
def load_minimap(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig) -> MiniMap:
    """The map as a small raster with a movable marker."""
    bundle = load_map(name, content_hash, split, limit, cfg)
    enc = load_encoding(name, content_hash, split, limit, "cpu")
    return MiniMap(bundle.coords, enc.labels)


def get_encoding(name: str, split: str = "test", device: str = "cpu") -> Encoding:
    """The encoded explore set of another checkpoint (e.g. for side-by-side comparisons)."""
    ck = get_checkpoint(name, device)
    limit = EXPLORE_LIMIT if split == "train" else None
    with st.spinner(_("Encoding the data set (once; then cached on disk)…")):
        return load_encoding(name, ck.content_hash, split, limit, device)


#: umap_reducer fits done in this process: (name, content_hash, split, limit, cfg) -> seconds it took
UMAP_FITS: dict[tuple, float] = {}


@st.cache_resource(show_spinner=False, max_entries=2)
def umap_reducer(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig):
    """A fitted umap.UMAP for umap-learn's (slow) inverse_transform "refine"."""
    from vae.explore.projection import fit_projection

    t0 = time.perf_counter()
    enc = load_encoding(name, content_hash, split, limit, "cpu")
    _, reducer = fit_projection(enc.mu, cfg)
    UMAP_FITS[(name, content_hash, split, limit, cfg)] = time.perf_counter() - t0
    return reducer
