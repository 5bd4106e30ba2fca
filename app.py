"""The VAE latent-space explorer: `streamlit run app.py` (or `make run`).

The frame: page config, the sidebar shared by every page, then the current page.
"""

import streamlit as st

from pages._common import sidebar

st.set_page_config(page_title="VAE latent-space explorer", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/map.py", title="Map", icon="🗺️", default=True),
    st.Page("pages/sliders.py", title="Sliders", icon="🎚️"),
    st.Page("pages/reconstructions.py", title="Reconstructions", icon="🔁"),
    st.Page("pages/interpolate.py", title="Interpolate", icon="〰️"),
    st.Page("pages/generate.py", title="Generate", icon="✨"),
    st.Page("pages/your_image.py", title="Your image", icon="🖼️"),
    st.Page("pages/how_it_works.py", title="How it works", icon="📐"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
]

page = st.navigation(PAGES)
sidebar()
page.run()
