"""The directions of a source for the loaded model and their names, cached: the Sliders page names its
sliders and resolves a direction's key (``?dir=``) with them, the Directions page lists them;
vae.explore.direction_sets and vae.explore.directions do the work."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._context import Ctx
from pages._i18n import _
from pages._link import LinkError
from pages._loaders import get_checkpoint, load_data, load_encoding
from pages._story import comparison_model
from vae.baselines.classifier import KIND as CLASSIFIER
from vae.explore.direction_sets import LIMIT, NAME_AT, DirectionKey, find, name_all, source_directions
from vae.explore.directions import Direction, DirectionName, dim_ends, name_ends, start_codes, step_ends
from vae.explore.latent import decode, principal_axes

NAME_STARTS = 2  # names are read from this many codes of each class (the Sliders page's rule)


def directions(ctx: Ctx, source: str, pair: tuple[int, int | None] | None = None) -> list[Direction] | str:
    """The directions of ``source`` (largest effect first), or why there are none (translated)."""
    out = _directions(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, ctx.device, source, pair)
    if isinstance(out, str):
        return _("No SeFa directions for this model: {reason}.").format(reason=out) if source == "sefa" else out
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def _directions(name: str, content_hash: str, split: str, limit: int | None, device: str, source: str,
                pair: tuple[int, int | None] | None) -> list[Direction] | str:
    ck = get_checkpoint(name, device)
    enc = load_encoding(name, content_hash, split, limit, device)
    class_names = list(load_data(name, content_hash, split, limit).class_names)
    try:
        return source_directions(source, enc.mu, enc.labels, kl=enc.kl_dims.mean(0), model=ck.model,
                                 class_names=class_names, pair=pair)
    except ValueError as e:  # NoLinearLayer too: the decoder starts with something else
        return str(e)


def resolve(ctx: Ctx, key: DirectionKey) -> Direction | str:
    """The direction a key names for this model, or why there is none (translated where the user can act)."""
    pair = key.index if key.source == "class" else None
    dirs = directions(ctx, key.source, pair)
    if isinstance(dirs, str):
        return dirs
    try:
        return find(dirs, key)
    except ValueError:
        return _("this model has no direction {key}").format(key=str(key))


def linked_key(text: str, ctx: Ctx, bad: str) -> str:
    """A direction's key from a link (``?dir=``, ``?row=``, ``?axis=``), as this model has it; LinkError with
    ``bad`` (what a key looks like) when the text is no key, or with why the model has no such direction."""
    try:
        key = DirectionKey.parse(text)
    except ValueError:
        raise LinkError(bad) from None
    found = resolve(ctx, key)
    if not isinstance(found, Direction):
        raise LinkError(found)
    return str(key)


def _reader(ctx: Ctx):
    """(the shipped classifier of the model's data set, or None; the data's background lightness, or None):
    what names read the decoded images with."""
    clf, _problem = comparison_model(CLASSIFIER, ctx.ck.dataset)
    if clf is not None and tuple(clf.config.image_shape) != tuple(ctx.ck.config.image_shape):
        clf = None
    background = ctx.ck.data_background(ctx.data.images)
    return clf, background.lightness if background is not None else None


def slider_names(ctx: Ctx, kind: str, start: tuple[float, ...] | None = None) -> list[DirectionName]:
    """What each slider of ``kind`` ("latent", "pca", "sefa") does (vae.explore.directions.name_ends), by
    index (the latent dimension, or the direction's rank), computed once per model, axes and start (cached):
    from two codes of every class, or from ``start`` alone."""
    clf, background = _reader(ctx)
    with st.spinner(_("Naming the sliders (once per model)…")):
        return _names(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, ctx.device, kind, start,
                      clf, clf.content_hash if clf is not None else None, background)


@st.cache_data(show_spinner=False, max_entries=32)
def _names(name: str, content_hash: str, split: str, limit: int | None, device: str, kind: str,
           start: tuple[float, ...] | None, _clf, clf_hash: str | None, background: float | None) -> list[DirectionName]:
    model = get_checkpoint(name, device).model
    enc = load_encoding(name, content_hash, split, limit, device)
    starts = (np.asarray([start], np.float32) if start is not None
              else start_codes(enc.mu, enc.labels, NAME_STARTS))
    read = {"read": _clf.model.predict, "class_names": list(_clf.class_names)} if _clf is not None else {}
    if kind == "latent":
        ends = [dim_ends(starts, d, NAME_AT) for d in range(enc.mu.shape[1])]
    else:
        axes = (principal_axes(enc.mu)[0] if kind == "pca"
                else np.stack([d.vector for d in _directions(name, content_hash, split, limit, device, "sefa", None)]))
        ends = [step_ends(starts, a, NAME_AT, LIMIT) for a in axes]
    return [name_ends(lambda z: decode(model, z), lo, hi, background=background, **read) for lo, hi in ends]


def vector_direction_name(ctx: Ctx, step: np.ndarray) -> DirectionName:
    """What a direction given by its vector does (``step``: one unit of its slider, e.g. a kept selection's
    difference / 3), named as the sliders are: from two codes of every class, ±NAME_AT units."""
    clf, background = _reader(ctx)
    step = np.asarray(step, np.float32)
    with st.spinner(_("Naming the directions…")):
        return _vector_name(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, ctx.device, step.tobytes(), clf,
                            clf.content_hash if clf is not None else None, background)


@st.cache_data(show_spinner=False, max_entries=32)
def _vector_name(name: str, content_hash: str, split: str, limit: int | None, device: str, step: bytes, _clf,
                 clf_hash: str | None, background: float | None) -> DirectionName:
    model = get_checkpoint(name, device).model
    enc = load_encoding(name, content_hash, split, limit, device)
    read = {"read": _clf.model.predict, "class_names": list(_clf.class_names)} if _clf is not None else {}
    lo, hi = step_ends(start_codes(enc.mu, enc.labels, NAME_STARTS), np.frombuffer(step, np.float32), NAME_AT, LIMIT)
    return name_ends(lambda z: decode(model, z), lo, hi, background=background, **read)


def class_direction_names(ctx: Ctx, dirs: list[Direction]) -> list[DirectionName]:
    """What each class-to-class direction does: its first class's codes moved one class difference."""
    clf, background = _reader(ctx)
    pairs = tuple(tuple(d.index) for d in dirs)
    with st.spinner(_("Naming the directions…")):
        return _class_names(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, ctx.device, pairs, clf,
                            clf.content_hash if clf is not None else None, background)


@st.cache_data(show_spinner=False, max_entries=64)
def _class_names(name: str, content_hash: str, split: str, limit: int | None, device: str,
                 pairs: tuple[tuple[int, int], ...], _clf, clf_hash: str | None,
                 background: float | None) -> list[DirectionName]:
    model = get_checkpoint(name, device).model
    enc = load_encoding(name, content_hash, split, limit, device)
    by_pair = {}
    for a in sorted({p[0] for p in pairs}):
        for d in _directions(name, content_hash, split, limit, device, "class", (a, None)):
            by_pair[tuple(d.index)] = d
    dirs = [by_pair[p] for p in pairs]
    read = {"read": _clf.model.predict, "class_names": list(_clf.class_names)} if _clf is not None else {}
    starts = start_codes(enc.mu, enc.labels, NAME_STARTS)
    return name_all(dirs, lambda z: decode(model, z), starts, enc.mu, enc.labels, background=background, **read)
