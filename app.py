"""The VAE latent-space explorer: `streamlit run app.py` (or `make run`).

The frame (page config, navigation, the sidebar shared by every page) lives in
pages/_common.py so that a page opened on its own draws the same one; then the page runs.
"""

from pages._common import frame

frame().run()
