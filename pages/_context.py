"""The context every page works in: the session's checkpoint and explore set (chosen in the sidebar),
loaded, and the point chosen on the map.

Session state holds only names, indices and small vectors; the objects themselves come from the
shared caches of pages/_loaders.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from pages import _loaders as loaders
from pages._i18n import N_, _
from vae.checkpoint import Checkpoint
from vae.data.datasets import ImageDataset
from vae.errors import CheckpointError, DataError
from vae.explore.latent import Encoding, collapsed_dims, decode, in_use
from vae.explore.minimap import MiniMap
from vae.explore.projection import ProjectionConfig
from vae.explore.sets import SampleMap, default_projection

#: Torch threads for the pages' inference. One image through the decoder takes about 1 ms on
#: one thread; with two, whenever the browser (or another session) holds one of the two cores,
#: the call waits for the descheduled thread and takes 50-70 ms instead (measured on 2 cores).
INFERENCE_THREADS = 1
SPLIT_NAMES = {"test": N_("test"), "train": N_("train")}  # shown inside sentences ("the {split} split")


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

    def map(self, cfg: ProjectionConfig | None = None) -> loaders.MapBundle:
        cfg = cfg or default_projection(self.ck, len(self.enc))
        return loaders.load_map(self.name, self.ck.content_hash, self.split, self.limit, cfg)

    def samples(self, k: int, cfg: ProjectionConfig | None = None) -> SampleMap:
        """``k`` posterior samples of every image, placed on the map (a million codes for 70,000 x 15)."""
        cfg = cfg or default_projection(self.ck, len(self.enc))
        return loaders.load_samples(self.name, self.ck.content_hash, self.split, self.limit, cfg, k)

    def minimap(self, cfg: ProjectionConfig | None = None) -> MiniMap:
        """The map as a small raster with a movable marker (cheap to redraw on every move)."""
        cfg = cfg or default_projection(self.ck, len(self.enc))
        return loaders.load_minimap(self.name, self.ck.content_hash, self.split, self.limit, cfg)

    def decode(self, z: np.ndarray) -> torch.Tensor:
        # again here: a fragment's rerun runs in a new thread without get_ctx (measured: 40 ms a
        # slider move instead of 4 ms, torch's two OpenMP threads waiting on the browser's core)
        torch.set_num_threads(INFERENCE_THREADS)
        return decode(self.model, np.asarray(z, dtype=np.float32))

    def class_name(self, idx: int) -> str:
        y = int(self.enc.labels[idx])
        return self.class_names[y] if 0 <= y < len(self.class_names) else str(y)


def get_ctx() -> Ctx:
    """The current session's context; shows an error and stops the page when nothing loads."""
    torch.set_num_threads(INFERENCE_THREADS)  # per script thread (OpenMP settings are per thread)
    name = st.session_state.get("ckpt")
    split = st.session_state.get("split", "test")
    device = st.session_state.get("device", "cpu")
    if not name or not loaders.valid_name(name):
        st.error(_("No checkpoint could be loaded. Pick one in the sidebar, or train one on the **Train** page "
                   "(or with `python -m vae train`)."))
        st.stop()
    try:
        ck = loaders.get_checkpoint(name, device)
        limit = loaders.EXPLORE_LIMIT if split == "train" else None
        with st.spinner(_("Loading the data set…")):
            data = loaders.load_data(name, ck.content_hash, split, limit)
        with st.spinner(_("Encoding the data set (once; then cached on disk)…")):
            enc = loaders.load_encoding(name, ck.content_hash, split, limit, device)
    except (DataError, CheckpointError) as e:
        st.error(_("**{name}** cannot be explored here: {error}").format(name=name, error=e))
        st.stop()
    return Ctx(name, ck, data, enc, split, limit, device)


def selected_index(ctx: Ctx) -> int | None:
    """The data point chosen on the map (shared between pages), if any."""
    i = st.session_state.get("selected_index")
    if i is None or not (0 <= int(i) < len(ctx.enc)) or st.session_state.get("selected_for") != ctx.name:
        return None
    return int(i)


def select_index(ctx: Ctx, i: int | None) -> None:
    st.session_state["selected_index"] = None if i is None else int(i)
    st.session_state["selected_for"] = ctx.name


def map_methods(ctx: Ctx) -> list[str]:
    """The projections the maps offer for this model: its own plane when it is 2-D; UMAP only with
    more points than UMAP's neighbourhood."""
    enough = len(ctx.enc) > ProjectionConfig().n_neighbors
    return (["latent"] if ctx.latent_dim == 2 else []) + (["umap"] if enough else []) + ["pca", "tsne"]


def beta_partners(ctx: Ctx, preferred: str | None = None) -> list[str]:
    """Loadable checkpoints of the same data set and image size as the loaded one, with a different β
    (``preferred`` first, then by name)."""
    out = []
    for e in loaders.checkpoint_entries():
        if e["error"] is not None or e["name"] == ctx.name:
            continue
        try:
            other = loaders.get_checkpoint(e["name"], ctx.device)
        except CheckpointError:
            continue
        if (other.dataset == ctx.ck.dataset and tuple(other.config.image_shape) == tuple(ctx.ck.config.image_shape)
                and other.config.beta != ctx.ck.config.beta):
            out.append(e["name"])
    return sorted(out, key=lambda n: (n != preferred, n))
