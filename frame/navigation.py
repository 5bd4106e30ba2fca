"""The frame's work on every run: the link keys every page shares, page config, the navigation of every
page, the sidebar, presenter mode's style, the tour's bar. Then frame/main.py runs the page.

Importing this module imports every page of pages/: each registers its entry point (pages/_nav.py)
and its link keys (pages/_link.py) as its module is imported.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from frame.sidebar import sidebar
from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages import _tour as tour_bar
from pages import _tour_steps as tour_steps
from pages import (  # noqa: F401  (imported for what they register: every page of the navigation)
    ae_vs_vae,
    directions,
    generate,
    how_it_works,
    interpolate,
    reconstructions,
    sliders,
    spaces,
    tour,
    train,
    training_step,
    uses,
    vae_vs_gan,
    weaknesses,
    your_image,
)
from pages import map as map_page  # noqa: F401  (as above; "map" would hide the builtin)
from pages._i18n import KEY as LANG_KEY
from pages._i18n import LANGUAGES, N_, _, current_language
from pages._link import LinkError, Param, integer, one_of, parse_flag
from pages._notebook import TOKEN as NB_TOKEN
from vae.explore.figures import class_color
from vae.explore.sets import ALL
from vae.notebook.exchange import exchange_folder, session_file


# -- the link keys every page shares --------------------------------------------------------------
def _lang_parse(text: str, ctx: Any) -> dict[str, Any]:
    if text not in LANGUAGES:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(LANGUAGES)))
    return {LANG_KEY: text}


def _splits(ctx: Any) -> list[str]:
    """The explore sets: "all" too where the checkpoint the link names (or this session's) has its train
    split here. Read before the sidebar restores the checkpoint, hence the link's own ``ckpt``."""
    name = link.incoming("ckpt") or st.session_state.get("ckpt")
    return ["test", "train"] + ([ALL] if loaders.all_here(name) else [])


def _nb_parse(text: str, ctx: Any) -> dict[str, Any]:
    folder = exchange_folder()
    if folder is None or session_file(folder, text) is None:
        raise LinkError(_("it is not a notebook session of this server"))
    return {NB_TOKEN: text}


SHARED = link.declare("*", [
    # first: the notices of the keys after it are in the link's language
    Param(LANG_KEY, N_("language"), _lang_parse, lambda ctx: current_language(), states=(LANG_KEY,)),
    # ckpt is restored by the sidebar itself (it owns the checkpoint picker and its notice)
    one_of("split", "split", N_("explore set"), _splits),
    Param("present", N_("presenter mode"), lambda text, ctx: {"present": parse_flag(text)},
          lambda ctx: "1" if st.session_state.get("present") else None, states=("present",)),
    integer("tour", "tour_step", N_("tour step"), 1, len(tour_steps.STEPS)),
    # the notebook (vae.explore) that opened this page: the Map sends it its selection (pages/_notebook.py)
    Param("nb", N_("notebook session"), _nb_parse, lambda ctx: st.session_state.get(NB_TOKEN),
          N_("The selection is not sent to a notebook."), states=(NB_TOKEN,)),
])


# -- the frame ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def app_icon(size: int = 64) -> Image.Image:
    """The favicon: a tiny latent map, five clusters of class-coloured dots (drawn here, so that the
    browser fetches it from this server; a ``:material/...:`` page icon is fetched from Google)."""
    big = size * 4  # drawn large, then downsampled: smooth dots
    im = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big // 5, fill="#0e1117")
    rng = np.random.default_rng(3)
    r = big * 0.032
    for c, centre in enumerate([(0.3, 0.3), (0.7, 0.28), (0.5, 0.55), (0.27, 0.74), (0.73, 0.74)]):
        for x, y in rng.normal(centre, 0.05, size=(10, 2)) * big:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=class_color(c))
    return im.resize((size, size), Image.LANCZOS)


def frame() -> st.Page:
    """The frame around every page: page config, navigation, sidebar. Returns the page to run."""
    notices = link.restore("*", show=False)  # the link's shared settings, before any widget
    st.set_page_config(page_title=_("VAE latent-space explorer"), page_icon=app_icon(), layout="wide",
                       initial_sidebar_state=presenter.sidebar_state())
    page = st.navigation(nav.st_pages(), expanded=True)  # every page listed, none behind "View more"
    sidebar()
    presenter.style()
    link.notify(notices)
    tour_bar.bar(page.url_path or nav.DEFAULT)
    return page
