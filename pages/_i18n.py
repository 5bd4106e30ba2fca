"""The app's language: gettext catalogs under locale/, picked per session.

Every text a page shows goes through ``_()`` (or ``ngettext`` where a number decides the form);
``make i18n`` extracts them with Babel into ``locale/messages.pot``, updates
``locale/zh/LC_MESSAGES/messages.po`` and compiles the ``.mo`` the app reads (committed, so that
a clean clone needs no build step; tests/app/test_i18n.py holds the three together).

The language comes from, in order: the sidebar's switch (session state ``lang``), ``?lang=zh|en``
in the URL, the browser's language (``st.context.locale``), else English. It is written back to
the URL on every run, so that a copied link opens in the same language.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

import streamlit as st

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh": "中文"}  # code -> its own name (the switch shows these)
DEFAULT = "en"
KEY = "lang"  # session state and URL parameter


@functools.cache
def translation(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English is the source language: no catalog)."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def browser_language() -> str | None:
    """The browser's language as one of LANGUAGES, where Streamlit knows it (None in AppTest)."""
    try:
        loc = st.context.locale
    except Exception:  # no browser context (a bare script run)
        loc = None
    if not loc:
        return None
    code = str(loc).split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else DEFAULT


def current_language() -> str:
    """The session's language code (never fails: unknown values fall back to English; English
    outside a Streamlit run, e.g. when a test imports a page's helpers)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return DEFAULT
    lang = st.session_state.get(KEY)
    if lang in LANGUAGES:
        return lang
    qp = st.query_params.get(KEY)
    if qp in LANGUAGES:
        return qp
    return browser_language() or DEFAULT


def _(message: str) -> str:
    """``message`` in the session's language."""
    lang = current_language()
    return message if lang == DEFAULT else translation(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the number ``n`` in the session's language."""
    lang = current_language()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    return translation(lang).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it here (it is translated where shown)."""
    return message


def join_list(items: list[str]) -> str:
    """"a, b and c" in the session's language (CLDR's list patterns, through Babel)."""
    from babel.lists import format_list

    return format_list(list(items), locale=current_language())


def tr(text: object) -> str:
    """A text the library made, in the session's language: a ``vae.i18n.Text`` is re-made from its
    translated template (its Text values translated too), a plain marked string is looked up,
    anything else is shown as it is."""
    template = getattr(text, "template", None)
    if template is None:
        return _(text) if isinstance(text, str) else str(text)
    values = {k: tr(v) if hasattr(v, "template") else v for k, v in text.values.items()}
    return _(template).format(**values)


def language_switch() -> None:
    """The sidebar's language switch; keeps ``?lang=`` in the URL across page switches and reruns."""
    if st.session_state.get(KEY) not in LANGUAGES:
        st.session_state[KEY] = current_language()
    st.radio("Language · 语言", list(LANGUAGES), key=KEY, horizontal=True, format_func=LANGUAGES.get,
             label_visibility="collapsed", persist_state="session")  # kept across st.switch_page (see sidebar())
    if st.query_params.get(KEY) != st.session_state[KEY]:
        st.query_params[KEY] = st.session_state[KEY]


def _tr_text(obj, attr: str = "text") -> None:
    value = getattr(obj, attr, None) if obj is not None else None
    if isinstance(value, str) and value:
        setattr(obj, attr, _(value))


def tr_fig(fig):
    """A Plotly figure's texts (titles, axis titles, legend names, hover and colour-bar texts) in the
    session's language, in place; the figures are built by vae/explore/figures.py in English (texts marked N_)."""
    if current_language() == DEFAULT:
        return fig
    layout = fig.layout
    _tr_text(layout.title)
    _tr_text(layout.legend.title)
    for name in dir(layout):  # every axis: xaxis, yaxis, yaxis2, ...
        if name.startswith(("xaxis", "yaxis")) and name[5:].isdigit() | (name[5:] == ""):
            _tr_text(getattr(layout, name).title)
    for ann in layout.annotations or ():
        _tr_text(ann)
    for trace in fig.data:
        _tr_text(trace, "name")
        _tr_text(trace, "hovertemplate")
        marker = getattr(trace, "marker", None)
        colorbar = getattr(marker, "colorbar", None) if marker is not None else None
        if colorbar is not None:
            _tr_text(colorbar.title)
    return fig
