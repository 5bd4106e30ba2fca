"""The guided tour's walk through its steps (pages/_tour_steps.py): opening a step, and the bar at the top
of every page while a tour is on.

Opening a step clears the page's own settings, applies the step's and switches to the page; the bar
(drawn by the frame) shows the talking points with Back, Next and End. A step's link carries the
session's language, and the step number is in the link (``?tour=3``), so that a link reopens the tour
where it was.
"""

from __future__ import annotations

import streamlit as st

from pages import _link as link
from pages import _nav as nav
from pages import _presenter as presenter
from pages._i18n import KEY as LANG_KEY
from pages._i18n import _, current_language
from pages._loaders import DEFAULT_CHECKPOINT
from pages._tour_steps import STEPS


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
