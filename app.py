"""The VAE latent-space explorer: `streamlit run app.py` (or `make run`).

The frame (page config, navigation, the sidebar shared by every page) lives in
pages/_common.py so that a page opened on its own draws the same one; then the page runs.
"""

import streamlit as st

from pages._warm_up import warm_up_figure

# A session's first run: before the ~1.5 s of importing torch and the models, hand the
# browser an empty chart, so that it fetches and compiles plotly.js (4.7 MB) meanwhile and
# the map appears about a second sooner. The placeholder is emptied below. Its slot is there on
# every run: a slot of the first run only would shift every element of the page by one on the
# second, and the browser would draw them all again (the map's chart included, issue #16).
warm_up = st.empty()
first = "plotly_warmed" not in st.session_state
if first:
    st.session_state["plotly_warmed"] = True
    warm_up.plotly_chart(warm_up_figure())

from pages._common import frame, settle_heap  # noqa: E402  (after the warm-up, on purpose)

page = frame()
if first:
    warm_up.empty()
page.run()
settle_heap(page.url_path)  # once per page and server: the garbage collector stops walking torch & co.
