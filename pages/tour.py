"""Guided tour: a VAE lecture demo of 15 to 20 minutes, step by step (the steps are data in pages/_tour_steps.py).

This page lists the steps and starts the tour; each step then opens its page in its state, with the
talking points and Back / Next / End in a bar at the top (drawn by the frame on every page).
"""

import streamlit as st

from pages import _link as link
from pages import _tour_steps as tour
from pages._common import ensure_frame

ensure_frame()
link.restore("tour")
steps = tour.steps()
st.title("Guided tour")
st.markdown(
    f"A **demo of 15 to 20 minutes** of what a variational autoencoder learns, in {len(steps)} steps. Each step opens "
    "the right page in the right state; its talking points and the **Back** / **Next** buttons stay at the "
    "top of the page. For a projector, switch on **Presenter mode** in the sidebar (or add `?present=1` to "
    "the link): larger text and images, the sidebar folded. The step is in the link, so a reload or a shared "
    "link reopens the tour where it was."
)
k = tour.current()
c1, c2, _ = st.columns([1.2, 1.2, 2])
if c1.button("Start the tour" if k is None else "Start again", key="tour_start", type="primary",
             icon=":material/play_arrow:", width="stretch"):
    tour.go(1)
if k is not None and c2.button(f"Back to step {k}", key="tour_resume", icon=":material/replay:", width="stretch"):
    tour.go(k)

for i, s in enumerate(steps, start=1):
    with st.container(border=True, key=f"tour_step_{i}"):
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.markdown(f"**{i}. {s.title}** · *{tour.page_title(s.page)}*\n\n"
                      + "\n".join(f"- {p}" for p in s.points))
        if button.button("Open", key=f"tour_open_{i}", icon=":material/arrow_forward:", width="stretch",
                         help=f"Open step {i} (and go on from there with Next)"):
            tour.go(i)
link.sync("tour")
