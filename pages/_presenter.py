"""Presenter mode: larger text, images and diagrams for a projector, the sidebar folded.

On with the sidebar's *Presenter mode* switch or ``?present=1`` (state ``present``, kept in the link
by pages/_link.py). Text grows through the root font size (Streamlit sizes its text, widgets and
spacing in rem); images through :func:`px`, which every page's image sizes go through; Plotly
figures and the How it works diagram through :func:`font`. Two style rules hold in both modes:
images never run off their column (they shrink, staying crisp), and the page keeps its margins small
enough for a 1024×768 projector.
"""

from __future__ import annotations

import math

import streamlit as st

SCALE = 1.3  # images and figure fonts in presenter mode
THUMB_PX = 96  # presenter mode shows no image smaller than this: the back row of a lecture hall sees it
ROOT_FONT_PX = 20  # Streamlit's text is 16 px (1 rem) otherwise

# Both modes: an image wider than its column shrinks to fit (nearest-neighbour, so it stays crisp)
# instead of being cut off (the live decoder's canvases likewise, in its own CSS); below 1200 px the
# main column's side margins shrink from 5 rem to 1.5 rem (a 1024 px projector with the sidebar open).
_ALWAYS = """
[data-testid="stImage"] img, [data-testid="stImageContainer"] img {
  max-width: 100%; height: auto; image-rendering: pixelated; }
[data-testid="stImageContainer"] { max-width: 100%; }
@media (max-width: 1200px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; } }
"""

# Presenter mode: Streamlit's header (the sidebar's button) a third lower than its 3.75 rem, and the
# page right under it (the tour's bar sticks under it too: --vae-header-height).
_PRESENT = f"""
html {{ font-size: {ROOT_FONT_PX}px; --vae-header-height: 2.5rem; }}
[data-testid="stHeader"] {{ height: 2.5rem; min-height: 2.5rem; }}
[data-testid="stMainBlockContainer"] {{ padding-top: 2.9rem; padding-left: 1.2rem; padding-right: 1.2rem;
  max-width: 100%; }}
[data-testid="stMainBlockContainer"] h1 {{ padding-top: 0.25rem; }}
[data-testid="stCaptionContainer"] {{ font-size: 0.95rem; }}
"""


def on() -> bool:
    """Whether this session is in presenter mode."""
    return bool(st.session_state.get("present"))


def px(n: int) -> int:
    """An image size in pixels, larger in presenter mode."""
    return int(round(n * SCALE)) if on() else int(n)


def thumb(n: int, side: int = 1) -> int:
    """An image size in pixels for an image ``side`` pixels wide, that presenter mode raises to a whole
    multiple of ``side`` of at least :data:`THUMB_PX` (nearest-neighbour upscaling keeps pixels square)."""
    return max(int(n), math.ceil(THUMB_PX / side) * side) if on() else int(n)


def font(n: float) -> int:
    """A font size for figures and diagrams (points or pixels), larger in presenter mode."""
    return int(round(n * SCALE)) if on() else int(round(n))


def embedded() -> bool:
    """Whether the page is shown inside another page (Streamlit's ``?embed=true``: a notebook's iframe)."""
    return bool(st.context.is_embedded)  # st.query_params never holds embed: Streamlit keeps it apart


def sidebar_state() -> str:
    """``st.set_page_config``'s initial_sidebar_state: folded for a projector and inside a notebook's
    iframe (where the page has the notebook's width, not a browser window's)."""
    return "collapsed" if on() or embedded() else "auto"


def style() -> None:
    """The page's style rules for the current mode (a style-only st.html takes no space)."""
    st.html(f"<style>{_ALWAYS}{_PRESENT if on() else ''}</style>")
