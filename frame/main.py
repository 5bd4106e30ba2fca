"""The script Streamlit runs for every run of every session (app.py serves it): the frame, then the page.

It lives in frame/, not beside pages/: Streamlit runs a script that has a pages/ folder beside it in
its legacy multipage mode (each pages/*.py file run on its own, without this frame) until some
session has called ``st.navigation``.
"""

import streamlit as st

from frame import first_map

# A session's first run: before the ~1.5 s of importing torch and the models, hand the browser what needs
# neither (frame/first_map.py): on the Map page, the map's points from the checkpoint's shipped map; elsewhere
# but on Sliders (which draws none), an empty chart, so that the browser fetches and compiles plotly.js (4.7 MB)
# meanwhile; and where the page decodes in the browser, the start of its runtime. Once the page has run, the slot keeps only the latter.
# The slot is there on every run, so that every element of the page keeps its index from the first run to
# the next (an element whose index changes is drawn again in the browser, the map's chart included).
warm_up = st.empty()
first = "plotly_warmed" not in st.session_state
if first:
    st.session_state["plotly_warmed"] = True
    shown = first_map.draw(warm_up)
else:  # the slot as the first run left it: an empty container keeps the page where it was (an empty slot
    # takes no room, and the page would move up 16 px on the first rerun, under the user's first click)
    with warm_up.container(gap=None):
        st.empty()

from frame.heap import settle_heap  # noqa: E402  (after the first slot, on purpose)
from frame.navigation import frame  # noqa: E402

page = frame()
try:
    page.run()
finally:  # also when the page stops or reruns: the preview never outlives the page's first run
    if first:
        shown.empty()
settle_heap(page.url_path)  # once per page and server: the garbage collector stops walking torch & co.
