"""The whole demo state in the link: the mechanism, and one registry of page -> query parameters.

Each :class:`Param` ties a query key (``?point=525``) to the session state it stands for, with a
parser (text -> session-state values, or a :class:`LinkError` saying why not) and a writer (session
state -> text). Each page declares its own parameters beside its code (``declare(page, [...])``, when
its module is imported); the frame declares the keys every page shares (``"*"``: language, explore
set, presenter mode, tour step, notebook session; the checkpoint is the sidebar's own) and restores
and writes them. A page calls ``restore(page, ctx)`` before it draws its widgets and
``sync(page, ctx)`` after them.

A value in the URL is applied when this session did not put it there itself: a link opened in a new
tab, a tour step, a ``st.switch_page`` with query parameters. Values the session writes (``write``)
are remembered, so that the next rerun does not mistake them for a link and undo a widget's change.
A malformed value is ignored with one notice that says why (as ``?z=`` on Sliders always did), and
the page shows what it would have shown without it.

Adding a key is one entry in its page's declaration; the tests walk every entry of :data:`PARAMS`
(tests/app/test_link.py). The notices are in the session's language: a parameter's ``what`` and
``fallback`` are marked ``N_`` and translated where shown, a :class:`LinkError` is raised already
translated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pages._i18n import N_, _

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


#: page name (pages/_nav.py) -> its parameters, as the page declared them; "*": the keys every page shares
PARAMS: dict[str, list[Param]] = {}


def declare(page: str, params: list[Param]) -> list[Param]:
    """Register ``page``'s query parameters (its module does, when imported); returns them."""
    PARAMS[page] = list(params)
    return PARAMS[page]


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
