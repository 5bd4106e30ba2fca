"""Guided tour: a VAE lecture demo of 15 to 20 minutes, step by step (the steps are data in pages/_tour_steps.py).

This page lists the steps and starts the tour; each step then opens its page in its state, with the
talking points and Back / Next / End in a bar at the top (drawn by the frame on every page).
"""

from __future__ import annotations

import streamlit as st

from pages import _link as link
from pages import _nav as nav
from pages import _tour as tour
from pages._i18n import _, ngettext
from pages._tour_steps import STEPS

PARAMS = link.declare("tour", [])  # the step itself is a key every page shares (?tour=)


@nav.page("tour")
def main() -> None:
    """The page: what the tour is, Start (or Back to the current step), every step with Open."""
    link.restore("tour")
    st.title(_("Guided tour"))
    st.markdown(
        ngettext("A **demo of 15 to 20 minutes** of what a variational autoencoder learns, in {n} step. Each step "
                 "opens the right page in the right state; its talking points and the **Back** / **Next** buttons "
                 "stay at the top of the page. For a projector, switch on **Presenter mode** in the sidebar (or add "
                 "`?present=1` to the link): larger text and images, the sidebar folded. The step is in the link, "
                 "so a reload or a shared link reopens the tour where it was.",
                 "A **demo of 15 to 20 minutes** of what a variational autoencoder learns, in {n} steps. Each step "
                 "opens the right page in the right state; its talking points and the **Back** / **Next** buttons "
                 "stay at the top of the page. For a projector, switch on **Presenter mode** in the sidebar (or add "
                 "`?present=1` to the link): larger text and images, the sidebar folded. The step is in the link, "
                 "so a reload or a shared link reopens the tour where it was.", len(STEPS)).format(n=len(STEPS))
    )
    k = tour.current()
    c1, c2, _rest = st.columns([1.2, 1.2, 2])
    if c1.button(_("Start the tour") if k is None else _("Start again"), key="tour_start", type="primary",
                 icon=":material/play_arrow:", width="stretch"):
        tour.go(1)
    if k is not None and c2.button(_("Back to step {k}").format(k=k), key="tour_resume", icon=":material/replay:",
                                   width="stretch"):
        tour.go(k)
    for i, s in enumerate(STEPS, start=1):
        with st.container(border=True, key=f"tour_step_{i}"):
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**{i}. {_(s.title)}** · *{nav.title(s.page)}*\n\n"
                          + "\n".join(f"- {_(p)}" for p in s.points))
            if button.button(_("Open"), key=f"tour_open_{i}", icon=":material/arrow_forward:", width="stretch",
                             help=_("Open step {i} (and go on from there with Next)").format(i=i)):
                tour.go(i)
    link.sync("tour")
