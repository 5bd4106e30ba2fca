"""The sidebar shared by every page: language, checkpoint, explore set, device, presenter mode (and in
presenter mode the students' address, pages/_class.py).

Its widgets keep their values for the session (``persist_state="session"``): ``st.switch_page``
empties the query string, and Streamlit drops a widget's value on a page switch unless it persists,
so a page opened by another ("Steer this point") must find the same checkpoint.
"""

from __future__ import annotations

import streamlit as st
import torch

from pages import _class as classroom
from pages import _link as link
from pages import _loaders as loaders
from pages._i18n import _, language_switch, tr
from vae.explore.sets import ALL


def devices() -> list[str]:
    out = ["cpu"]
    if torch.cuda.is_available():
        out.insert(0, "cuda")
    return out


def sidebar() -> None:
    """The sidebar; the checkpoint a link names is applied here (it owns the picker and its notice)."""
    entries = loaders.checkpoint_entries()
    good = [e["name"] for e in entries if e["error"] is None]
    _apply_linked_checkpoint(good)
    with st.sidebar:
        language_switch()
        st.markdown("### " + _("VAE latent-space explorer"))
        _checkpoint_picker(entries, good)
        _explore_set_picker(st.session_state.get("ckpt"))
        devs = devices()
        if st.session_state.get("device") not in devs:
            st.session_state["device"] = devs[0]
        st.selectbox(_("Device"), devs, key="device", persist_state="session",
                     help=_("Where the model runs (CUDA when a GPU is present)."))
        st.toggle(_("Presenter mode"), key="present", persist_state="session",
                  help=_("For a projector: larger text, images and diagrams, the sidebar folded. The link keeps "
                         "it (?present=1)."))
        classroom.panel()
    link.write("ckpt", st.session_state.get("ckpt"))
    link.sync("*")
    notice = st.session_state.pop("_notice", None)
    if notice:
        st.warning(notice)


def _apply_linked_checkpoint(good: list[str]) -> None:
    """The checkpoint a link names, else the session's, else the default (or the first that loads)."""
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
        default = loaders.DEFAULT_CHECKPOINT if loaders.DEFAULT_CHECKPOINT in good else (good[0] if good else None)
        if default is not None:
            st.session_state["ckpt"] = default


def _checkpoint_picker(entries: list[dict], good: list[str]) -> None:
    """The checkpoint picker and the model's summary; the folders that do not load, with the reason."""
    bad = [e for e in entries if e["error"] is not None]
    if good:
        summaries = {e["name"]: e["summary"] for e in entries}
        no_data = {e["name"]: e["data_problem"] for e in entries if e["data_problem"]}
        # format_func over a dict built here: widgets' labels are computed in this run's language
        # (AppTest also calls format_func from its own thread, outside any run)
        shown = {n: _("{name} (data not here)").format(name=n) if n in no_data else n for n in good}
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


def _explore_set_picker(name: str | None) -> None:
    """Test split, the first 10,000 training images, or all of them where the train split is here."""
    splits = ["test", "train"] + ([ALL] if loaders.all_here(name) else [])
    if st.session_state.get("split") not in splits:
        st.session_state["split"] = "test"
    n_all = all_size(name) if ALL in splits else 0
    st.radio(_("Explore set"), splits, key="split", horizontal=True, persist_state="session",
             format_func={s: split_label(s, n_all) for s in splits}.get,
             help=_("The images encoded and drawn on the map. All of them (train + test) where the train "
                    "split is on this machine: the test map, with every training image placed on it."))


def all_size(name: str) -> int:
    """How many images the "all" explore set has (0 when the checkpoint's meta.json does not say)."""
    meta = loaders.get_checkpoint(name).meta
    sizes = [meta.get("train_size"), meta.get("test_size")]
    if not all(isinstance(n, int) and n > 0 for n in sizes) or (meta.get("train_config") or {}).get("limit"):
        return 0  # a size not recorded (imported models), or --limit's train_size that is not the split's
    return sum(sizes)


def split_label(split: str, n_all: int = 0) -> str:
    """An explore set as the picker names it, in the session's language."""
    if split == ALL:
        return _("all {n:,} (train + test)").format(n=n_all) if n_all else _("all (train + test)")
    return _("test split") if split == "test" else _("train split (first 10,000)")
