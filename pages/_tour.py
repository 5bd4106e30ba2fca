"""The guided tour's walk through its steps (pages/_tour_steps.py): opening a step, and the bar at the top
of every page while a tour is on.

Opening a step clears the page's own settings, applies the step's and switches to the page; the bar
(drawn by the frame) shows the talking points with Back, Next and End. A step's link carries the
session's language, and the step number is in the link (``?tour=3``), so that a link reopens the tour
where it was.

The bar is compact and stays at the top of the window as the page scrolls (its style below); each
opening of a step scrolls the page to the step's focus, the figure its talking points are about, and
holds it there below the bar (components/tour_focus), so that a projector shows it without scrolling.
"""

from __future__ import annotations

import streamlit as st

from components import tour_focus
from pages import _link as link
from pages import _nav as nav
from pages import _presenter as presenter
from pages._i18n import KEY as LANG_KEY
from pages._i18n import _, current_language
from pages._loaders import DEFAULT_CHECKPOINT
from pages._tour_steps import STEPS

OPENINGS = "tour_openings"  # session key: how many times this session has opened a step (each opening scrolls once)

# The bar stays at the top of the window, below Streamlit's header, opaque over the page scrolling
# under it; its talking points are set smaller and tighter than the page's text, so that the bar
# leaves most of a 768-pixel projector to the step's figure. The focus component has no box.
STYLE = """
[data-testid="stLayoutWrapper"]:has(> .st-key-tour_bar) {
  position: sticky; top: var(--vae-header-height, 3.75rem); z-index: 100; background: #fff; }
.st-key-tour_bar { padding: 0.4rem 0.75rem 0.4rem 0.75rem; gap: 0.25rem; background: inherit; }
.st-key-tour_bar [data-testid="stMarkdownContainer"] { margin-bottom: 0; }
.st-key-tour_bar [data-testid="stMarkdownContainer"] p { margin: 0; }
.st-key-tour_bar ul { margin: 0; padding-left: 1.1rem; }
.st-key-tour_bar li { font-size: 0.85rem; line-height: 1.35; margin: 0.05rem 0; padding: 0; }
.st-key-tour_bar button { min-height: 2.1rem; padding-top: 0.1rem; padding-bottom: 0.1rem; }
.st-key-tour_focus { display: none; }
"""


def current() -> int | None:
    """The tour step this session is on (1-based), or None."""
    k = st.session_state.get("tour_step")
    return int(k) if k is not None and 1 <= int(k) <= len(STEPS) else None


def step_link(k: int) -> dict[str, str]:
    """The query parameters that open step ``k`` (in the session's language)."""
    s = STEPS[k - 1]
    params = {"ckpt": DEFAULT_CHECKPOINT, **s.params, "tour": str(k), LANG_KEY: current_language()}
    if presenter.on():
        params["present"] = "1"
    return params


def go(k: int) -> None:
    """Open step ``k``: clear the page's own settings, then switch to it with the step's link."""
    s = STEPS[k - 1]
    st.session_state["tour_step"] = k
    st.session_state[OPENINGS] = int(st.session_state.get(OPENINGS, 0)) + 1
    link.reset(s.page)
    link.forget()
    nav.switch(s.page, query_params=step_link(k))


def end() -> None:
    st.session_state["tour_step"] = None
    link.write("tour", None)


def bar(page: str) -> None:
    """The tour's bar at the top of the page ``page`` (its name): the step and Back / Next / End on one
    line, the talking points under them."""
    k = current()
    if k is None:
        return
    s, n = STEPS[k - 1], len(STEPS)
    here = page == s.page
    with st.container(border=True, key="tour_bar"):
        st.html(f"<style>{STYLE}</style>")  # (a style-only st.html takes no space)
        title, b1, b2, b3 = st.columns([3.4, 1, 1, 1], vertical_alignment="center")
        title.markdown(_("**Tour · step {k} of {n}: {title}**").format(k=k, n=n, title=_(s.title)))
        if not here:
            if b1.button(_("Return"), key="tour_again", icon=":material/replay:", width="stretch",
                         help=_("Back to this step's page, in the step's state")):
                go(k)
        elif b1.button(_("Back"), key="tour_back", icon=":material/arrow_back:", width="stretch", disabled=k == 1):
            go(k - 1)
        if b2.button(_("Next"), key="tour_next", icon=":material/arrow_forward:", type="primary", width="stretch",
                     disabled=k == n):
            go(k + 1)
        if b3.button(_("End"), key="tour_end", icon=":material/close:", width="stretch",
                     help=_("End the tour (the Tour page starts it again)")):
            end()
            st.rerun()
        st.markdown("\n".join(f"- {_(p)}" for p in s.points) if here else
                    _("You left this step's page: **Return** opens it again, in the step's state."))
        if here:
            tour_focus.mount(s.focus, f"{k}-{st.session_state.get(OPENINGS, 0)}")
