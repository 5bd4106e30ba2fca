"""The whole demo state in the link: one registry of page -> query parameters.

Each :class:`Param` ties a query key (``?point=525``) to the session state it stands for, with a
parser (text -> session-state values, or a :class:`LinkError` saying why not) and a writer (session
state -> text). The frame restores and writes the keys every page shares (:data:`GLOBAL`: checkpoint,
explore set, presenter mode, tour step); a page calls ``restore(page, ctx)`` before it draws its
widgets and ``sync(page, ctx)`` after them.

A value in the URL is applied when this session did not put it there itself: a link opened in a new
tab, a tour step, a ``st.switch_page`` with query parameters. Values the session writes (``write``)
are remembered, so that the next rerun does not mistake them for a link and undo a widget's change.
A malformed value is ignored with one notice that says why (as ``?z=`` on Sliders always did), and
the page shows what it would have shown without it.

Adding a key is one entry in :data:`PARAMS`; the tests walk every entry (tests/test_link.py). The
notices are in the session's language: a parameter's ``what`` and ``fallback`` are marked ``N_`` and
translated where shown, a :class:`LinkError` is raised already translated. The language itself,
``?lang=``, is the first shared key, so that the notices after it are in the link's language.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pages._i18n import KEY as LANG_KEY
from pages._i18n import LANGUAGES, N_, _, current_language
from pages._notebook import TOKEN as NB_TOKEN

SEEN = "_link_seen"  # session key: {query key: the text this session last read or wrote}
MAX_TEXT = 60  # characters of a bad value quoted in a notice


class LinkError(ValueError):
    """Why a link's value cannot be used: one clause, no full stop."""


@dataclass(frozen=True)
class Param:
    """One query parameter of a page."""

    key: str  # the query key, e.g. "point"
    what: str  # what it is, for notices: N_("selected point"), translated where shown
    parse: Callable[[str, Any], dict[str, Any]]  # (text, ctx) -> session-state updates; LinkError if bad
    dump: Callable[[Any], str | None]  # ctx -> text for the link (None: leave the key out)
    fallback: str | Callable[[Any], str] = N_("The page shows its default instead.")  # translated where shown
    states: tuple[str, ...] = ()  # the session keys it sets (cleared by reset(): a page's defaults)


# -- building blocks ------------------------------------------------------------------------------
def _state(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def _opts(options: Sequence[str] | Callable[[Any], Sequence[str]], ctx: Any) -> list[str]:
    return list(options(ctx) if callable(options) else options)


def one_of(key: str, state: str, what: str, options: Sequence[str] | Callable[[Any], Sequence[str]],
           aliases: dict[str, str] | None = None) -> Param:
    """A choice among ``options`` (possibly depending on the loaded model). ``aliases`` maps the link's
    short names to the widget's values (e.g. ``{"path": "Interpolation"}`` for a tab)."""
    aliases = aliases or {}
    back = {v: k for k, v in aliases.items()}

    def parse(text: str, ctx: Any) -> dict[str, Any]:
        valid = _opts(options, ctx)
        value = aliases.get(text, text)
        if value not in valid:
            names = [back.get(v, v) for v in valid]
            raise LinkError(_("it is not one of {values}").format(values=", ".join(names)))
        return {state: value}

    def dump(ctx: Any) -> str | None:
        v = _state(state)
        return None if v is None else back.get(v, str(v))

    return Param(key, what, parse, dump, states=(state,))


def integer(key: str, state: str, what: str, lo: int | Callable[[Any], int], hi: int | Callable[[Any], int]) -> Param:
    """A whole number in [lo, hi] (either bound may depend on the loaded model)."""

    def parse(text: str, ctx: Any) -> dict[str, Any]:
        return {state: parse_int(text, lo(ctx) if callable(lo) else lo, hi(ctx) if callable(hi) else hi)}

    def dump(ctx: Any) -> str | None:
        v = _state(state)
        return None if v is None else str(int(v))

    return Param(key, what, parse, dump, states=(state,))


def number(key: str, state: str, what: str, lo: float, hi: float) -> Param:
    """A finite number in [lo, hi]."""

    def parse(text: str, ctx: Any) -> dict[str, Any]:
        return {state: parse_float(text, lo, hi)}

    def dump(ctx: Any) -> str | None:
        v = _state(state)
        return None if v is None else f"{float(v):g}"

    return Param(key, what, parse, dump, states=(state,))


def flag(key: str, state: str, what: str) -> Param:
    """On or off: 1/0 (also true/false, yes/no, on/off)."""

    def parse(text: str, ctx: Any) -> dict[str, Any]:
        return {state: parse_flag(text)}

    def dump(ctx: Any) -> str | None:
        v = _state(state)
        return None if v is None else ("1" if v else "0")

    return Param(key, what, parse, dump, states=(state,))


def parse_int(text: str, lo: int, hi: int) -> int:
    try:
        v = int(str(text).strip())
    except ValueError:
        raise LinkError(_("it is not a whole number")) from None
    if not lo <= v <= hi:
        raise LinkError(_("it is outside {lo} to {hi}").format(lo=lo, hi=hi))
    return v


def parse_float(text: str, lo: float, hi: float) -> float:
    try:
        v = float(str(text).strip())
    except ValueError:
        raise LinkError(_("it is not a number")) from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise LinkError(_("it is outside {lo} to {hi}").format(lo=f"{lo:g}", hi=f"{hi:g}"))
    return v


def parse_flag(text: str) -> bool:
    t = str(text).strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise LinkError(_("it is not 1 or 0"))


# -- reading and writing the URL ------------------------------------------------------------------
def _seen() -> dict[str, str]:
    return st.session_state.setdefault(SEEN, {})


def forget() -> None:
    """Treat whatever the URL holds next as a link (before ``st.switch_page(..., query_params=...)``)."""
    st.session_state[SEEN] = {}


def reset(page: str) -> None:
    """Forget the page's own settings, so that its widgets start from their defaults."""
    for p in PARAMS[page]:
        for k in p.states:
            st.session_state.pop(k, None)


def write(key: str, text: str | None) -> None:
    """Put ``key=text`` in the URL (None removes it) and remember that this session wrote it."""
    seen = _seen()
    if text is None:
        if key in st.query_params:
            del st.query_params[key]
        seen.pop(key, None)
        return
    if st.query_params.get(key) != text:
        st.query_params[key] = text
    seen[key] = text


def incoming(key: str) -> str | None:
    """The URL's value of ``key`` when it came from outside this session (a link), else None."""
    text = st.query_params.get(key)
    seen = _seen()
    if text is None:
        seen.pop(key, None)  # the key left the URL (a page switch): its next value is news
        return None
    return None if seen.get(key) == text else text


def restore(page: str, ctx: Any = None, show: bool = True) -> list[str]:
    """Apply the link's values for ``page`` to the session state; returns the notices (and shows them)."""
    notices = []
    for p in PARAMS[page]:
        text = incoming(p.key)
        if text is None:
            continue
        _seen()[p.key] = text  # read once: a bad value is reported once, not on every rerun
        try:
            updates = p.parse(text, ctx)
        except LinkError as e:
            fallback = p.fallback(ctx) if callable(p.fallback) else p.fallback
            shown = text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
            notices.append(_("Ignored the link's {what} ({key}={value}): {reason}. {fallback}").format(
                what=_(p.what), key=p.key, value=repr(shown), reason=e, fallback=_(fallback)))
            continue
        for k, v in updates.items():
            st.session_state[k] = v
    if show:
        notify(notices)
    return notices


def notify(notices: list[str]) -> None:
    """One warning per ignored value of a link."""
    for n in notices:
        st.warning(n, icon=":material/link_off:")


def sync(page: str, ctx: Any = None) -> None:
    """Write the page's state into the URL (keys whose state is unset are left out)."""
    for p in PARAMS[page]:
        write(p.key, p.dump(ctx))


def link_for(page: str, ctx: Any = None) -> dict[str, str]:
    """The query parameters that describe ``page`` and the shared settings now (for tests and the tour)."""
    out = {}
    for p in [*PARAMS["*"], *PARAMS[page]]:
        text = p.dump(ctx)
        if text is not None:
            out[p.key] = text
    return out


# -- the pages' parameters ------------------------------------------------------------------------
def _n(ctx: Any) -> int:
    return len(ctx.enc)


def _point_parse(text: str, ctx: Any) -> dict[str, Any]:
    return {"selected_index": parse_int(text, 0, _n(ctx) - 1), "selected_for": ctx.name}


def _point_dump(ctx: Any) -> str | None:
    i = _state("selected_index")
    return str(int(i)) if i is not None and _state("selected_for") == ctx.name and 0 <= int(i) < _n(ctx) else None


def _codes_parse(text: str, ctx: Any) -> dict[str, Any]:
    from pages._samples_map import CHOICES

    k = parse_int(text, 1, max(CHOICES))
    if k not in CHOICES:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(map(str, CHOICES))))
    return {"map_per_image": k}


def _codes_dump(ctx: Any) -> str | None:
    k = _state("map_per_image")
    return str(int(k)) if k and int(k) > 1 else None


def _sample_parse(text: str, ctx: Any) -> dict[str, Any]:
    k = int(_state("map_per_image") or 1)
    if k <= 1:
        raise LinkError(_("a sample is only shown with several codes per image (codes=5 or 15)"))
    return {"map_sample": {"key": None, "index": parse_int(text, 0, _n(ctx) * k - 1)}}


def _sample_dump(ctx: Any) -> str | None:
    chosen = _state("map_sample")
    return str(int(chosen["index"])) if chosen and int(_state("map_per_image") or 1) > 1 else None


def _prior_parse(text: str, ctx: Any) -> dict[str, Any]:
    n = parse_int(text, 0, 2000)
    if n == 0:
        return {"map_prior": False}
    if n < 50:
        raise LinkError(_("the map shows 50 to 2000 prior samples (0: none)"))
    return {"map_prior": True, "map_n_prior": n}


def _prior_dump(ctx: Any) -> str | None:
    if _state("map_prior") is None:
        return None
    return str(int(_state("map_n_prior", 300))) if _state("map_prior") else "0"


def _tour_steps() -> int:
    from pages._tour_steps import STEPS

    return len(STEPS)


def _code_parse(text: str, ctx: Any) -> dict[str, Any]:
    from pages._common import parse_code

    code, problem = parse_code(text, ctx.latent_dim, 4.0)
    if problem:
        raise LinkError(problem)
    return {"sliders_start_request": {"kind": "code", "code": [float(v) for v in code],
                                      "label": N_("the code in the link")}}


def _code_fallback(ctx: Any) -> str:
    if _state("sl_for") == (ctx.name, ctx.latent_dim):
        return _("The sliders keep their code.")
    return _("Starting from the prior mean.")


#: An end of Interpolate's path, as the link writes it: "123" (an image), "class:7:mean" (the mean
#: code of class 7), "class:7:3" (a random member of class 7, seed 3), "prior:5" (a prior sample, seed 5).


def _endpoint(tag: str) -> Param:
    t = tag.lower()

    def parse(text: str, ctx: Any) -> dict[str, Any]:
        parts = str(text).strip().split(":")
        classes = sorted({int(c) for c in set(ctx.enc.labels.tolist())})
        if len(parts) == 1:
            return {f"interp_{t}_kind": "index", f"interp_{t}_index": parse_int(parts[0], 0, _n(ctx) - 1)}
        if parts[0] == "prior" and len(parts) == 2:
            return {f"interp_{t}_kind": "prior", f"interp_{t}_prior_seed": parse_int(parts[1], 0, 1_000_000)}
        if parts[0] == "class" and len(parts) == 3:
            c = parse_int(parts[1], 0, len(ctx.class_names) - 1)
            if c not in classes:
                raise LinkError(_("the explore set has no image of class {c}").format(c=c))
            if parts[2] == "mean":
                return {f"interp_{t}_kind": "class", f"interp_{t}_class": c, f"interp_{t}_how": "mean"}
            return {f"interp_{t}_kind": "class", f"interp_{t}_class": c, f"interp_{t}_how": "member",
                    f"interp_{t}_seed": parse_int(parts[2], 0, 1_000_000)}
        raise LinkError(_("it is not an image index, class:C:mean, class:C:SEED or prior:SEED"))

    def dump(ctx: Any) -> str | None:
        kind = _state(f"interp_{t}_kind")
        if kind == "index" and _state(f"interp_{t}_index") is not None:
            return str(int(_state(f"interp_{t}_index")))
        if kind == "prior" and _state(f"interp_{t}_prior_seed") is not None:
            return f"prior:{int(_state(f'interp_{t}_prior_seed'))}"
        if kind == "class" and _state(f"interp_{t}_class") is not None:
            c = int(_state(f"interp_{t}_class"))
            if _state(f"interp_{t}_how", "member") == "mean":
                return f"class:{c}:mean"
            return f"class:{c}:{int(_state(f'interp_{t}_seed', 0))}"
        return None

    keys = ("kind", "index", "class", "how", "seed", "prior_seed")
    what = {"A": N_("end A of the path"), "B": N_("end B of the path")}[tag]
    return Param(tag.lower(), what, parse, dump, states=tuple(f"interp_{t}_{k}" for k in keys))


def _comparable(ctx: Any) -> list[str]:
    from pages._common import CHECKPOINT_ROOT, checkpoint_entries
    from pages.reconstructions import comparability

    return ["none", *comparability(checkpoint_entries(), ctx.ck, ctx.name, CHECKPOINT_ROOT)[0]]


def _compare_parse(text: str, ctx: Any) -> dict[str, Any]:
    valid = _comparable(ctx)
    if text not in valid:
        raise LinkError(_("it is not a checkpoint of the same data set and image size here") if text != ctx.name
                        else _("it is the loaded checkpoint itself"))
    return {"rec_compare": None if text == "none" else text}


def _compare_dump(ctx: Any) -> str | None:
    if "rec_compare" not in st.session_state:
        return None
    return _state("rec_compare") or "none"


def _start_parse(text: str, ctx: Any) -> dict[str, Any]:
    return {"sliders_start_request": {"kind": "index", "index": parse_int(text, 0, _n(ctx) - 1)}}


def _partners(ctx: Any) -> list[str]:
    from pages._common import beta_partners

    return beta_partners(ctx)


def _drawings(ctx: Any) -> list[str]:
    from pages.your_image import DRAWINGS

    return list(DRAWINGS)


def _splits(ctx: Any) -> list[str]:
    """The explore sets: "all" too where the checkpoint the link names (or this session's) has its train
    split here. Read before the sidebar restores the checkpoint, hence the link's own ``ckpt``."""
    from pages._common import _all_here
    from vae.explore.sets import ALL

    name = incoming("ckpt") or st.session_state.get("ckpt")
    return ["test", "train"] + ([ALL] if _all_here(name) else [])


def _map_methods(ctx: Any) -> list[str]:
    from pages._common import map_methods

    return map_methods(ctx)


def _classes(ctx: Any) -> int:
    return len(ctx.class_names) - 1


def _stages(ctx: Any) -> list[str]:
    from vae.lessons.step import STAGES

    return [s.key for s in STAGES]


def _lr_parse(text: str, ctx: Any) -> dict[str, Any]:
    from pages.training_step import LEARNING_RATES

    v = parse_float(text, 0.0, 1.0)
    match = [r for r in LEARNING_RATES if math.isclose(r, v, rel_tol=1e-6)]
    if not match:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(f"{r:g}" for r in LEARNING_RATES)))
    return {"step_lr": match[0]}


def _lr_dump(ctx: Any) -> str | None:
    v = _state("step_lr")
    return None if v is None else f"{float(v):g}"


def _masks(ctx: Any) -> list[str]:
    from vae.lessons.uses import MASKS

    return list(MASKS)


def _first_image(ctx: Any) -> int:
    from pages.uses import N_BATCH

    return max(0, len(ctx.data) - N_BATCH)


def _ood_sets(ctx: Any) -> int:
    from pages._story import anomaly_scores

    return len(anomaly_scores(ctx.name, ctx.ck.content_hash)["sets"]) - 1


def _compressed(ctx: Any) -> int:
    from pages.uses import compression_table

    return len(compression_table(ctx.name, ctx.ck.content_hash)["kl_bits"]) - 1


def _lang_parse(text: str, ctx: Any) -> dict[str, Any]:
    if text not in LANGUAGES:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(LANGUAGES)))
    return {LANG_KEY: text}


def _nb_parse(text: str, ctx: Any) -> dict[str, Any]:
    from vae.notebook.exchange import exchange_folder, session_file

    folder = exchange_folder()
    if folder is None or session_file(folder, text) is None:
        raise LinkError(_("it is not a notebook session of this server"))
    return {NB_TOKEN: text}


MASK_NAMES = {"left": "left half", "bottom": "bottom half", "centre": "centre square", "random": "random 60% of pixels"}
INTERP_TABS = {"path": "Interpolation", "traversals": "Traversals", "attributes": "Attribute vectors"}

#: page (file stem in pages/) -> its parameters; "*": the keys every page shares (restored by the frame)
PARAMS: dict[str, list[Param]] = {
    "*": [
        # first: the notices of the keys after it are in the link's language
        Param(LANG_KEY, N_("language"), _lang_parse, lambda ctx: current_language(), states=(LANG_KEY,)),
        # ckpt is restored by the sidebar itself (it owns the checkpoint picker and its notice)
        one_of("split", "split", N_("explore set"), _splits),
        Param("present", N_("presenter mode"), lambda text, ctx: {"present": parse_flag(text)},
              lambda ctx: "1" if _state("present") else None, states=("present",)),
        integer("tour", "tour_step", N_("tour step"), 1, lambda ctx: _tour_steps()),
        # the notebook (vae.explore) that opened this page: the Map sends it its selection (pages/_notebook.py)
        Param("nb", N_("notebook session"), _nb_parse, lambda ctx: _state(NB_TOKEN),
              N_("The selection is not sent to a notebook."), states=(NB_TOKEN,)),
    ],
    "map": [
        one_of("method", "map_method", N_("projection"), _map_methods),
        one_of("color", "map_color", N_("colouring"), ["class", "recon", "kl", "sigma"]),
        Param("prior", N_("number of prior samples"), _prior_parse, _prior_dump, states=("map_prior", "map_n_prior")),
        flag("points", "map_points", N_("points switch")),
        Param("point", N_("selected point"), _point_parse, _point_dump, states=("selected_index", "selected_for")),
        Param("codes", N_("codes per image"), _codes_parse, _codes_dump, states=("map_per_image",)),
        Param("sample", N_("selected sample"), _sample_parse, _sample_dump, states=("map_sample",)),
    ],
    "sliders": [
        one_of("axes", "sl_axes", N_("slider axes"), ["latent", "pca"]),
        Param("z", N_("code"), _code_parse, lambda ctx: _state("sl_z_text"), _code_fallback),
        # an instruction, not state: start from this image (the code then goes into z)
        Param("image", N_("start image"), _start_parse, lambda ctx: None),
    ],
    "reconstructions": [
        Param("compare", N_("checkpoint to compare with"), _compare_parse, _compare_dump, states=("rec_compare",)),
        integer("class", "rec_class", N_("class"), -1, _classes),
        one_of("order", "rec_order", N_("order"), ["random", "worst_elbo", "worst_mse", "best_elbo"]),
        integer("n", "rec_count", N_("number of images"), 4, 64),
        integer("seed", "rec_seed", N_("seed"), 0, 1_000_000),
    ],
    "interpolate": [
        one_of("tab", "interp_tab", N_("tab"), list(INTERP_TABS.values()), aliases=INTERP_TABS),
        _endpoint("A"),
        _endpoint("B"),
        one_of("path", "interp_path", N_("path"), ["lerp", "slerp"]),
        integer("steps", "interp_steps", N_("number of steps"), 3, 20),
        number("t", "interp_scrub", N_("scrub position"), 0.0, 1.0),
        one_of("method", "interp_map", N_("map"), _map_methods),
    ],
    "generate": [
        integer("n", "gen_count", N_("number of samples"), 1, 100),
        number("temp", "gen_temp", N_("temperature"), 0.0, 2.0),
        integer("seed", "gen_seed", N_("seed"), 0, 1_000_000),
    ],
    "your_image": [
        one_of("sample", "img_sample_kind", N_("sample"), ["data", "drawing", "draw"]),
        integer("image", "img_sample_index", N_("image index"), 0, lambda ctx: _n(ctx) - 1),
        one_of("drawing", "img_drawing", N_("drawing"), _drawings),
        one_of("invert", "img_invert", N_("inversion"), ["auto", "yes", "no"]),
    ],
    "how_it_works": [
        integer("image", "how_index", N_("image index"), 0, lambda ctx: _n(ctx) - 1),
        integer("eps", "how_eps_seed", N_("seed of ε"), 0, 999_999),
        one_of("compare", "how_partner", N_("checkpoint to compare with"), _partners),
    ],
    "training_step": [
        one_of("stage", "step_stage", N_("stage"), _stages),
        integer("batch", "step_batch_size", N_("batch size"), 1, 64),
        integer("bseed", "step_batch_seed", N_("batch seed"), 0, 1_000_000),
        integer("eps", "step_eps_seed", N_("seed of ε"), 0, 1_000_000),
        Param("lr", N_("learning rate"), _lr_parse, _lr_dump, states=("step_lr",)),
        integer("image", "step_image", N_("image of the batch"), 0, 63),
    ],
    "ae_vs_vae": [
        integer("seed", "avv_seed", N_("seed"), 0, 1_000_000),
        integer("from", "avv_from", N_("class to start from"), 0, _classes),
        integer("to", "avv_to", N_("class to end at"), 0, _classes),
        integer("dim", "avv_dim", N_("dimension"), 0, lambda ctx: ctx.latent_dim - 1),
    ],
    "vae_vs_gan": [
        integer("seed", "gan_seed", N_("seed"), 0, 1_000_000),
        integer("image", "gan_image", N_("test image"), 0, lambda ctx: len(ctx.data) - 1),
    ],
    "uses": [
        integer("start", "uses_start", N_("first image"), 0, _first_image),
        number("noise", "uses_noise", N_("noise level"), 0.0, 1.0),
        one_of("mask", "uses_mask", N_("hidden region"), _masks, aliases=MASK_NAMES),
        integer("rounds", "uses_iters", N_("rounds of encode → decode"), 0, 50),
        integer("ood", "uses_ood", N_("set compared with"), 0, _ood_sets),
        integer("image", "uses_comp_image", N_("image compressed"), 0, _compressed),
    ],
    "weaknesses": [],  # no settings of its own: the checkpoint (ckpt) is all it shows
    "train": [
        one_of("preset", "train_preset", N_("preset"), ["classroom", "custom"]),
    ],
    "tour": [],
}
