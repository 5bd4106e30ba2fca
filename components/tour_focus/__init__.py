"""The guided tour's focus: the page scrolls to the step's figure when a tour step opens.

A Streamlit custom component (``st.components.v2``) without a view of its own; its JavaScript
(``tour_focus.js`` beside this file) finds the focus (the first of a few CSS selectors that matches an
element drawn on the page), scrolls the page so that it sits whole in the window below the tour's bar,
and holds it there while the page lays itself out, until the reader scrolls, clicks, touches or types.
``opening`` names one opening of a step: the page scrolls once per opening, never on a rerun of the
same one.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
KEY = "tour_focus"  # the element's key: the frame's style hides its (empty) box

_component = st.components.v2.component(
    "vae_tour_focus", js=(HERE / "tour_focus.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # it reads and scrolls the page around it
)


def mount(selectors: tuple[str, ...], opening: str) -> None:
    """Scroll to the first of ``selectors`` drawn on the page, once for ``opening`` (a text that changes
    each time a step is opened)."""
    _component(key=KEY, data={"selectors": list(selectors), "opening": opening}, height="content")
