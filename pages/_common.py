"""Streamlit-only helpers shared by every page: cached loaders, the sidebar, small widgets.

Models, data sets, encodings and maps are ``st.cache_resource`` objects shared by all
sessions: they are never mutated (models stay in eval mode, inference runs under
``torch.inference_mode()``). Session state holds only names, indices and small vectors.
"""

from __future__ import annotations

import functools
import gc
import html
import math
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Whole before any page builds a Plotly figure (see pages/_warm_up.py: Plotly peeks at a
# half-imported pandas from another session's thread), also for pages run without app.py.
import pandas  # noqa: F401
import streamlit as st
import torch
from PIL import Image, ImageDraw

from pages import _link as link
from pages import _presenter as presenter
from pages import _tour_steps as tour
from pages._i18n import N_, _, current_language, language_switch, tr
from vae.checkpoint import Checkpoint, list_checkpoints, load_checkpoint
from vae.data.cache import DEFAULT_CACHE_DIR
from vae.data.datasets import ImageDataset, check_dataset_name, dataset_available
from vae.data.images import png_bytes, upscale
from vae.errors import CheckpointError, DataError
from vae.explore.figures import class_color, png_data_uri
from vae.explore.latent import Encoding, collapsed_dims, decode, in_use
from vae.explore.minimap import MiniMap
from vae.explore.projection import METHOD_LABELS, LatentMap, ProjectionConfig, build_latent_map, fit_pca_map
from vae.explore.sets import (
    ALL,
    SampleMap,
    all_available,
    all_parts,
    base_split,
    combine,
    default_projection,
    explore_parts,
    explore_set,
    placed_projection,
    projection,
    sample_map,
)

ROOT = Path(__file__).resolve().parent.parent
# The folder whose sub-folders are offered as checkpoints; VAE_CHECKPOINTS points elsewhere.
#: Torch threads for the pages' inference. One image through the decoder takes about 1 ms on
#: one thread; with two, whenever the browser (or another session) holds one of the two cores,
#: the call waits for the descheduled thread and takes 50-70 ms instead (measured on 2 cores).
INFERENCE_THREADS = 1
CHECKPOINT_ROOT = Path(os.environ.get("VAE_CHECKPOINTS") or ROOT / "checkpoints").expanduser()
DEFAULT_CHECKPOINT = "fashion-mnist"
EXPLORE_LIMIT = 10_000
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
IMG = 168  # default display size of one image, pixels
SPLIT_NAMES = {"test": N_("test"), "train": N_("train")}  # shown inside sentences ("the {split} split")


# -- checkpoints ------------------------------------------------------------------------------
def _root_stamp() -> tuple:
    """Changes whenever a checkpoint folder is added, removed or rewritten."""
    if not CHECKPOINT_ROOT.is_dir():
        return ()
    out = []
    for p in sorted(CHECKPOINT_ROOT.iterdir()):
        if p.is_dir():
            files = [p / "config.json", p / "model.safetensors", p / "meta.json", p / "encoder.onnx", p / "decoder.onnx"]
            out.append((p.name, tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files)))
    return tuple(out)


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


# -- data, encodings and maps ---------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=6)
def _load_data(name: str, content_hash: str, split: str, limit: int | None) -> ImageDataset:
    ck = get_checkpoint(name)
    if split == ALL:
        return combine(all_parts(ck))
    return ck.load_data(split, limit)


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_encoding(name: str, content_hash: str, split: str, limit: int | None, device: str) -> Encoding:
    ck = get_checkpoint(name, device)
    if split == ALL:  # each part's own encoding (the test split's is shipped), concatenated
        return explore_parts(ck, all_parts(ck), DEFAULT_CACHE_DIR)
    data = _load_data(name, content_hash, split, limit)
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
def _load_map(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig) -> MapBundle:
    ck = get_checkpoint(name)
    enc = _load_encoding(name, content_hash, split, limit, "cpu")
    what = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA", "latent": _("the map")}[cfg.method]
    with st.spinner(_("Computing {what} for {n:,} points — once; later opens read it from the disk cache "
                      "(UMAP's first run also compiles its code, which takes a minute)…").format(what=what, n=len(enc))):
        if split == ALL:  # fitted on the test codes, the others placed on that map (seconds, not minutes)
            base = _load_encoding(name, content_hash, base_split(split), None, "cpu")
            coords, reducer = placed_projection(ck, split, base, enc, cfg, DEFAULT_CACHE_DIR), None
        else:
            coords, reducer = projection(ck, split, enc, cfg, DEFAULT_CACHE_DIR)
    pca = fit_pca_map(enc.mu, coords) if cfg.method == "pca" else None
    return MapBundle(cfg, coords, build_latent_map(enc.mu, coords, cfg.method, pca), reducer)


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_samples(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig,
                  k: int) -> SampleMap:
    ck = get_checkpoint(name)
    enc = _load_encoding(name, content_hash, split, limit, "cpu")
    base = _load_map(name, content_hash, base_split(split), limit if split != ALL else None, cfg)
    with st.spinner(f"Drawing {k} posterior samples of each of {len(enc):,} images and placing "
                    f"{len(enc) * k:,} codes on the map — once; later opens read them from the disk cache…"):
        return sample_map(ck, split, enc, base.latent_map, k, cfg, cache_dir=DEFAULT_CACHE_DIR)


@st.cache_resource(show_spinner=False, max_entries=12)
def _load_minimap(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig) -> MiniMap:
    bundle = _load_map(name, content_hash, split, limit, cfg)
    enc = _load_encoding(name, content_hash, split, limit, "cpu")
    return MiniMap(bundle.coords, enc.labels)


def get_encoding(name: str, split: str = "test", device: str = "cpu") -> Encoding:
    """The encoded explore set of another checkpoint (e.g. for side-by-side comparisons)."""
    ck = get_checkpoint(name, device)
    limit = EXPLORE_LIMIT if split == "train" else None
    with st.spinner(_("Encoding the data set (once; then cached on disk)…")):
        return _load_encoding(name, ck.content_hash, split, limit, device)


#: umap_reducer fits done in this process: (name, content_hash, split, limit, cfg) -> seconds it took
UMAP_FITS: dict[tuple, float] = {}


@st.cache_resource(show_spinner=False, max_entries=2)
def umap_reducer(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig):
    """A fitted umap.UMAP for umap-learn's (slow) inverse_transform "refine"."""
    from vae.explore.projection import fit_projection

    t0 = time.perf_counter()
    enc = _load_encoding(name, content_hash, split, limit, "cpu")
    _, reducer = fit_projection(enc.mu, cfg)
    UMAP_FITS[(name, content_hash, split, limit, cfg)] = time.perf_counter() - t0
    return reducer


# -- the context every page uses ---------------------------------------------------------------
@dataclass
class Ctx:
    """The loaded checkpoint and its explore set, for the current session's choices."""

    name: str
    ck: Checkpoint
    data: ImageDataset
    enc: Encoding
    split: str
    limit: int | None
    device: str

    @property
    def model(self):
        return self.ck.model

    @property
    def class_names(self) -> list[str]:
        """The data set's class names in the session's language."""
        return [_(n) for n in self.data.class_names]

    @property
    def split_label(self) -> str:
        """The explore set's split ("test", "train") as the page shows it, in the session's language."""
        return _(SPLIT_NAMES.get(self.split, self.split))

    @property
    def latent_dim(self) -> int:
        return self.ck.config.latent_dim

    @property
    def kl_per_dim(self) -> np.ndarray:
        return self.enc.kl_dims.mean(0)

    @property
    def active(self) -> np.ndarray:
        """(D,) bool: the dimensions in use on the explore set (vae.explore.latent.COLLAPSED_KL, the one rule)."""
        return in_use(self.kl_per_dim)

    @property
    def collapsed(self) -> list[int]:
        return collapsed_dims(self.kl_per_dim)

    def map(self, cfg: ProjectionConfig | None = None) -> MapBundle:
        cfg = cfg or default_projection(self.ck, len(self.enc))
        return _load_map(self.name, self.ck.content_hash, self.split, self.limit, cfg)

    def samples(self, k: int, cfg: ProjectionConfig | None = None) -> SampleMap:
        """``k`` posterior samples of every image, placed on the map (a million codes for 70,000 x 15)."""
        cfg = cfg or default_projection(self.ck, len(self.enc))
        return _load_samples(self.name, self.ck.content_hash, self.split, self.limit, cfg, k)

    def minimap(self, cfg: ProjectionConfig | None = None) -> MiniMap:
        """The map as a small raster with a movable marker (cheap to redraw on every move)."""
        cfg = cfg or default_projection(self.ck, len(self.enc))
        return _load_minimap(self.name, self.ck.content_hash, self.split, self.limit, cfg)

    def decode(self, z: np.ndarray) -> torch.Tensor:
        # again here: a fragment's rerun runs in a new thread without get_ctx (measured: 40 ms a
        # slider move instead of 4 ms, torch's two OpenMP threads waiting on the browser's core)
        torch.set_num_threads(INFERENCE_THREADS)
        return decode(self.model, np.asarray(z, dtype=np.float32))

    def class_name(self, idx: int) -> str:
        y = int(self.enc.labels[idx])
        return self.class_names[y] if 0 <= y < len(self.class_names) else str(y)


def beta_partners(ctx: Ctx, preferred: str | None = None) -> list[str]:
    """Loadable checkpoints of the same data set and image size as the loaded one, with a different β
    (``preferred`` first, then by name)."""
    out = []
    for e in checkpoint_entries():
        if e["error"] is not None or e["name"] == ctx.name:
            continue
        try:
            other = get_checkpoint(e["name"], ctx.device)
        except CheckpointError:
            continue
        if (other.dataset == ctx.ck.dataset and tuple(other.config.image_shape) == tuple(ctx.ck.config.image_shape)
                and other.config.beta != ctx.ck.config.beta):
            out.append(e["name"])
    return sorted(out, key=lambda n: (n != preferred, n))


def map_methods(ctx: Ctx) -> list[str]:
    """The projections the maps offer for this model: its own plane when it is 2-D; UMAP only with
    more points than UMAP's neighbourhood."""
    enough = len(ctx.enc) > ProjectionConfig().n_neighbors
    return (["latent"] if ctx.latent_dim == 2 else []) + (["umap"] if enough else []) + ["pca", "tsne"]


def devices() -> list[str]:
    out = ["cpu"]
    if torch.cuda.is_available():
        out.insert(0, "cuda")
    return out


PAGE_SPECS = [  # (file in pages/, title, icon): the app's navigation, in order
    ("map.py", N_("Map"), ":material/map:"),
    ("tour.py", N_("Guided tour"), ":material/co_present:"),
    ("sliders.py", N_("Sliders"), ":material/tune:"),
    ("reconstructions.py", N_("Reconstructions"), ":material/compare:"),
    ("interpolate.py", N_("Interpolate"), ":material/timeline:"),
    ("generate.py", N_("Generate"), ":material/auto_awesome:"),
    ("your_image.py", N_("Your image"), ":material/upload:"),
    ("how_it_works.py", N_("How it works"), ":material/school:"),
    ("training_step.py", N_("One training step"), ":material/footprint:"),
    ("ae_vs_vae.py", N_("Autoencoder vs VAE"), ":material/compare_arrows:"),
    ("vae_vs_gan.py", N_("VAE vs GAN"), ":material/balance:"),
    ("uses.py", N_("Uses"), ":material/build:"),
    ("weaknesses.py", N_("Weaknesses"), ":material/report:"),
    ("train.py", N_("Train"), ":material/model_training:"),
]


@functools.lru_cache(maxsize=1)
def app_icon(size: int = 64) -> Image.Image:
    """The favicon: a tiny latent map, five clusters of class-coloured dots (drawn here, so that the
    browser fetches it from this server; a ``:material/...:`` page icon is fetched from Google)."""
    big = size * 4  # drawn large, then downsampled: smooth dots
    im = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big // 5, fill="#0e1117")
    rng = np.random.default_rng(3)
    r = big * 0.032
    for c, centre in enumerate([(0.3, 0.3), (0.7, 0.28), (0.5, 0.55), (0.27, 0.74), (0.73, 0.74)]):
        for x, y in rng.normal(centre, 0.05, size=(10, 2)) * big:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=class_color(c))
    return im.resize((size, size), Image.LANCZOS)


def frame(hold_notices: bool = False):
    """The frame around every page: page config, navigation, sidebar. Returns the page to run.

    ``hold_notices``: this run is rerun at once (see ``ensure_frame``), so the link's notices are
    kept for that run instead of being drawn in this one, which the browser never shows."""
    # the link's shared settings, before any widget; and notices held by a run that was rerun
    notices = st.session_state.pop("_held_notices", []) + link.restore("*", show=False)
    st.set_page_config(page_title=_("VAE latent-space explorer"), page_icon=app_icon(), layout="wide",
                       initial_sidebar_state=presenter.sidebar_state())
    pages = [st.Page(str(ROOT / "pages" / f), title=_(t), icon=i, default=(k == 0))
             for k, (f, t, i) in enumerate(PAGE_SPECS)]
    page = st.navigation(pages, expanded=True)  # every page listed, none behind "View more"
    sidebar(hold_notices)
    presenter.style()
    if hold_notices:
        st.session_state["_held_notices"] = notices
    else:
        link.notify(notices)
    tour.bar(next((Path(f).stem for f, t, _icon in PAGE_SPECS if _(t) == page.title), ""))
    return page


_SETTLED: set[str] = set()
_HEAP_LOCK = threading.Lock()


def settle_heap(page: str) -> None:
    """After a page's first run on this server: hide what is loaded for good (torch, plotly,
    the checkpoint, the page's own modules) from Python's cyclic garbage collector (``gc.freeze``).

    Measured on the Sliders page: a full collection walked all those objects in 158 ms and ran
    on about every slider move, stalling the rerun mid-way (the last update reached the browser
    ~210 ms after the key press). Frozen after each page's first run: 0.2 ms median, and the last
    update at ~50 ms. Frozen objects are still freed by reference counting; only reference
    cycles among them are never collected (this runs once per page and server).
    """
    with _HEAP_LOCK:
        if page in _SETTLED:
            return
        _SETTLED.add(page)
    gc.collect()
    gc.freeze()


_APP = os.path.realpath(ROOT / "app.py")


def _run_by_app() -> bool:
    """Whether app.py is running this page in this run (its frame drawn, st.navigation chose the page):
    app.py's module is on the call stack, or this run is a fragment's own rerun (of a page that was)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx()
    if run is not None and getattr(run, "fragment_ids_this_run", None):
        return True
    frame_ = sys._getframe(1)
    while frame_ is not None:
        name = frame_.f_code.co_filename
        if os.path.basename(name) == "app.py" and os.path.realpath(name) == _APP:
            return True
        frame_ = frame_.f_back
    return False


def ensure_frame() -> None:
    """Draw app.py's frame when Streamlit ran this page file on its own.

    A fresh server's first session that opens a deep link (say /sliders?z=...) runs the
    page file without app.py: Streamlit's legacy ``pages/`` mode lasts until some session
    has called ``st.navigation`` (AppTest's ``switch_page`` does the same on every run).
    Then the page draws the same frame itself; widget state is untouched.

    Whether app.py runs this page is read from the call stack, not from Streamlit's legacy flag
    (``PagesManager.uses_pages_directory``): that flag is the server's, and another session's first
    run may clear it while this page runs on its own (seen with six sessions opening pages of a
    fresh server at once: How it works drew no frame and said that no checkpoint could be loaded).
    """
    if not _run_by_app():
        again = bool(st.context.headers) and not st.session_state.get("_frame_rerun")
        frame(hold_notices=again)
        # This run's widgets were named after the legacy page, which the browser keeps until the next
        # run: the user's first click on this page would reach no widget (a tour's Start lost, issue #16).
        # Run again at once, under st.navigation, once per session and only for a browser: AppTest (no
        # headers) stays in legacy mode, and a rerun there renames the widgets its next run sets.
        if again:
            st.session_state["_frame_rerun"] = True
            st.rerun()


def get_ctx() -> Ctx:
    """The current session's context; shows an error and stops the page when nothing loads."""
    ensure_frame()
    torch.set_num_threads(INFERENCE_THREADS)  # per script thread (OpenMP settings are per thread)
    name = st.session_state.get("ckpt")
    split = st.session_state.get("split", "test")
    device = st.session_state.get("device", "cpu")
    if not name or not valid_name(name):
        st.error(_("No checkpoint could be loaded. Pick one in the sidebar, or train one on the **Train** page "
                   "(or with `python -m vae train`)."))
        st.stop()
    try:
        ck = get_checkpoint(name, device)
        limit = EXPLORE_LIMIT if split == "train" else None
        with st.spinner(_("Loading the data set…")):
            data = _load_data(name, ck.content_hash, split, limit)
        with st.spinner(_("Encoding the data set (once; then cached on disk)…")):
            enc = _load_encoding(name, ck.content_hash, split, limit, device)
    except (DataError, CheckpointError) as e:
        st.error(_("**{name}** cannot be explored here: {error}").format(name=name, error=e))
        st.stop()
    return Ctx(name, ck, data, enc, split, limit, device)


def sidebar(hold_notices: bool = False) -> None:
    """The sidebar shared by every page: checkpoint, explore set, device, model summary (a notice
    about the link's checkpoint waits for the next run when ``hold_notices``)."""
    entries = checkpoint_entries()
    good = [e["name"] for e in entries if e["error"] is None]
    bad = [e for e in entries if e["error"] is not None]
    qp = link.incoming("ckpt")  # a checkpoint named by a link (None: none, or this session wrote it)
    if qp is not None and qp in good:
        st.session_state["ckpt"] = qp
    elif qp is not None:
        st.session_state["_notice"] = (
            _("The link asked for checkpoint {name}, which is not a loadable checkpoint here; showing the default "
              "instead.") if st.session_state.get("ckpt") not in good
            else _("The link asked for checkpoint {name}, which is not a loadable checkpoint here; showing the "
                   "current one instead.")).format(name=repr(qp[:60]))
    if st.session_state.get("ckpt") not in good:
        default = DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT in good else (good[0] if good else None)
        if default is not None:
            st.session_state["ckpt"] = default
    with st.sidebar:
        language_switch()
        st.markdown("### " + _("VAE latent-space explorer"))
        if good:
            summaries = {e["name"]: e["summary"] for e in entries}
            no_data = {e["name"]: e["data_problem"] for e in entries if e["data_problem"]}
            # format_func over a dict built here: widgets' labels are computed in this run's language
            # (AppTest also calls format_func from its own thread, outside any run)
            shown = {n: _("{name} (data not here)").format(name=n) if n in no_data else n for n in good}
            # persist_state="session" on every sidebar widget: st.switch_page empties the query string, and
            # Streamlit 1.67 drops a widget's value on a page switch by default, so "Steer this point" on
            # digits opened Sliders on the default checkpoint
            st.selectbox(_("Checkpoint"), good, key="ckpt", persist_state="session",
                         help=_("Every folder under checkpoints/ that loads."), format_func=shown.get)
            st.caption(tr(summaries.get(st.session_state.get("ckpt"), "")))
            if st.session_state.get("ckpt") in no_data:
                st.warning(f"**{st.session_state['ckpt']}**: {no_data[st.session_state['ckpt']]}.")
        else:
            st.error(_("No loadable checkpoint under checkpoints/. Train one on the Train page."))
        if bad:
            with st.expander(_("{n} checkpoint folder(s) could not be loaded").format(n=len(bad))):
                for e in bad:
                    st.markdown(f"**{e['name']}**: {e['error']}")
        name = st.session_state.get("ckpt")
        splits = ["test", "train"] + ([ALL] if _all_here(name) else [])
        if st.session_state.get("split") not in splits:
            st.session_state["split"] = "test"
        n_all = _all_size(name) if ALL in splits else 0
        st.radio(_("Explore set"), splits, key="split", horizontal=True, persist_state="session",
                 format_func={s: _split_label(s, n_all) for s in splits}.get,
                 help=_("The images encoded and drawn on the map. All of them (train + test) where the train "
                        "split is on this machine: the test map, with every training image placed on it."))
        devs = devices()
        if st.session_state.get("device") not in devs:
            st.session_state["device"] = devs[0]
        st.selectbox(_("Device"), devs, key="device", persist_state="session",
                     help=_("Where the model runs (CUDA when a GPU is present)."))
        st.toggle(_("Presenter mode"), key="present", persist_state="session",
                  help=_("For a projector: larger text, images and diagrams, the sidebar folded. The link keeps "
                         "it (?present=1)."))
    link.write("ckpt", st.session_state.get("ckpt"))
    link.sync("*")
    notice = None if hold_notices else st.session_state.pop("_notice", None)
    if notice:
        st.warning(notice)


def _all_here(name: str | None) -> bool:
    """Whether the "all" explore set can be offered for this checkpoint (its train split is here)."""
    if not name or not valid_name(name):
        return False
    try:
        return all_available(get_checkpoint(name))
    except (DataError, CheckpointError):
        return False


def _all_size(name: str) -> int:
    """How many images the "all" explore set has (0 when its encodings are not loaded yet and the
    checkpoint's meta.json does not say)."""
    meta = get_checkpoint(name).meta
    sizes = [meta.get("train_size"), meta.get("test_size")]
    if not all(isinstance(n, int) and n > 0 for n in sizes) or (meta.get("train_config") or {}).get("limit"):
        return 0  # a size not recorded (imported models), or --limit's train_size that is not the split's
    return sum(sizes)


def _split_label(split: str, n_all: int = 0) -> str:
    if split == ALL:
        return _("all {n:,} (train + test)").format(n=n_all) if n_all else _("all (train + test)")
    return _("test split") if split == "test" else _("train split (first 10,000)")


# -- small widgets ----------------------------------------------------------------------------
def show_image(img: torch.Tensor | np.ndarray, caption: str | None = None, size: int | None = None,
               inline: bool = False) -> None:
    """One image, upscaled with nearest-neighbour so pixels stay crisp (PNG, shown 1:1). ``size``:
    pixels (default IMG, larger in presenter mode; 0: as it is).

    ``inline``: send the PNG inside the page update (a data: URL) instead of as a media file
    the browser fetches afterwards. For images that change on every slider move it saves the
    extra request: key press to new image ~200 ms -> ~90 ms on 2 cores.
    """
    size = presenter.px(IMG) if size is None else size
    arr = upscale(img, size) if size else np.asarray(img)
    if inline:
        st.image(png_data_uri(png_bytes(Image.fromarray(arr))), caption=caption, width=arr.shape[1])
    else:
        st.image(arr, caption=caption, width=arr.shape[1], output_format="PNG")


def image_row(images: torch.Tensor, captions: list[str] | None = None, size: int = 96,
              per_row: int | None = None) -> None:
    """Images side by side (wrapping every ``per_row``); ``size`` grows in presenter mode."""
    size = presenter.px(size)
    n = len(images)
    if n == 0:
        return
    per_row = per_row or n
    for start in range(0, n, per_row):
        cols = st.columns(per_row)
        for j, col in enumerate(cols):
            i = start + j
            if i >= n:
                break
            with col:
                arr = upscale(images[i], size)
                st.image(arr, caption=captions[i] if captions else None, width=arr.shape[1],
                         output_format="PNG")


def class_legend(class_names: list[str], classes: list[int] | None = None) -> None:
    """The classes' colours on one wrapping line, for the raster mini maps (no legend of their own)."""
    items = [f'<span style="white-space:nowrap"><span style="color:{class_color(c)}">●</span> '
             f"{html.escape(str(class_names[c]))}</span>"
             for c in (range(len(class_names)) if classes is None else classes)]
    st.html(f'<div style="font-size:0.8rem;line-height:1.5">{" &nbsp; ".join(items)}</div>')  # names escaped


def fmt_code(z: np.ndarray, digits: int = 2) -> str:
    return "[" + ", ".join(f"{v:+.{digits}f}" for v in np.asarray(z).ravel()) + "]"


def parse_code(text: str | None, dim: int, limit: float = 10.0) -> tuple[np.ndarray | None, str | None]:
    """A latent code from a URL parameter ("0.1,-2,..."): (code, None) or (None, why it was rejected)."""
    if text is None:
        return None, None
    parts = [p for p in str(text).split(",") if p.strip() != ""]
    if len(parts) != dim:
        return None, _("it has {n} values but this model has {dim} dimensions").format(n=len(parts), dim=dim)
    try:
        vals = np.array([float(p) for p in parts], dtype=np.float32)
    except ValueError:
        return None, _("it is not a list of numbers")
    if not np.all(np.isfinite(vals)):
        return None, _("it contains NaN or infinite values")
    return np.clip(vals, -limit, limit), None


def encode_code(z: np.ndarray) -> str:
    return ",".join(f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) > 0 else "0" for v in np.asarray(z).ravel())


def selected_index(ctx: Ctx) -> int | None:
    """The data point chosen on the map (shared between pages), if any."""
    i = st.session_state.get("selected_index")
    if i is None or not (0 <= int(i) < len(ctx.enc)) or st.session_state.get("selected_for") != ctx.name:
        return None
    return int(i)


def select_index(ctx: Ctx, i: int | None) -> None:
    st.session_state["selected_index"] = None if i is None else int(i)
    st.session_state["selected_for"] = ctx.name


def nice_range(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    return math.floor(lo * 10) / 10, math.ceil(hi * 10) / 10
