"""The app's pages by name: the navigation (each page's title and icon, in the sidebar's order), the
entry point each page registers, and switching to a page.

A page is a module of pages/ whose ``main()`` is registered with ``@nav.page("<name>")``. The name is
the page's URL path (``/sliders``; the first page is the landing page, at ``/``), its key in the link
registry (pages/_link.py) and in the tour's steps. frame/navigation.py imports every page and hands
them to ``st.navigation`` in this order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from pages._i18n import N_, _


@dataclass(frozen=True)
class PageInfo:
    """One entry of the navigation."""

    name: str  # URL path and registry key, e.g. "sliders" (the module pages/sliders.py)
    title: str  # marked N_, translated where shown
    icon: str  # a Material icon (an emoji is missing from many browsers' fonts)


#: The navigation, in the sidebar's order; the first is the landing page.
PAGES: tuple[PageInfo, ...] = (
    PageInfo("map", N_("Map"), ":material/map:"),
    PageInfo("tour", N_("Guided tour"), ":material/co_present:"),
    PageInfo("sliders", N_("Sliders"), ":material/tune:"),
    PageInfo("directions", N_("Directions"), ":material/explore:"),
    PageInfo("reconstructions", N_("Reconstructions"), ":material/compare:"),
    PageInfo("interpolate", N_("Interpolate"), ":material/timeline:"),
    PageInfo("spaces", N_("Two latent spaces"), ":material/splitscreen:"),
    PageInfo("generate", N_("Generate"), ":material/auto_awesome:"),
    PageInfo("your_image", N_("Your image"), ":material/upload:"),
    PageInfo("how_it_works", N_("How it works"), ":material/school:"),
    PageInfo("training_step", N_("One training step"), ":material/footprint:"),
    PageInfo("ae_vs_vae", N_("Autoencoder vs VAE"), ":material/compare_arrows:"),
    PageInfo("vae_vs_gan", N_("VAE vs GAN"), ":material/balance:"),
    PageInfo("uses", N_("Uses"), ":material/build:"),
    PageInfo("weaknesses", N_("Weaknesses"), ":material/report:"),
    PageInfo("train", N_("Train"), ":material/model_training:"),
)
NAMES = tuple(p.name for p in PAGES)
DEFAULT = NAMES[0]

_ENTRIES: dict[str, Callable[[], None]] = {}  # page name -> its main(), registered by the page's module


def page(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register the decorated function as the entry point of the page ``name`` (one of :data:`PAGES`)."""
    if name not in NAMES:
        raise ValueError(f"no page {name!r} in the navigation; add it to pages/_nav.py's PAGES")

    def register(main: Callable[[], None]) -> Callable[[], None]:
        _ENTRIES[name] = main
        return main

    return register


def entry(name: str) -> Callable[[], None]:
    """The page's registered ``main()``."""
    try:
        return _ENTRIES[name]
    except KeyError:
        raise LookupError(f"pages/{name}.py registered no entry point: is it imported (frame/navigation.py)?") from None


def title(name: str) -> str:
    """The navigation's title of a page, in the session's language."""
    return next((_(p.title) for p in PAGES if p.name == name), name)


def st_page(name: str, default: bool = False) -> st.Page:
    """The page as ``st.navigation`` and ``st.switch_page`` take it (made per run: its title is translated)."""
    info = PAGES[NAMES.index(name)]
    return st.Page(entry(name), title=_(info.title), icon=info.icon, url_path=name, default=default)


def st_pages() -> list[st.Page]:
    """Every page, in the navigation's order; the first is the default."""
    return [st_page(p.name, default=k == 0) for k, p in enumerate(PAGES)]


def switch(name: str, query_params: dict[str, str] | None = None) -> None:
    """Open the page ``name``, as its link in the navigation does; ``query_params``: the link's query
    (None: an empty one)."""
    st.switch_page(st_page(name), query_params=query_params)
