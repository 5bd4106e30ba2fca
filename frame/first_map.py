"""What a session's first run shows and starts before torch and the model are loaded: the Map page's points,
and the in-browser decoder's runtime.

Importing the pages (torch, the models' code) and loading the model take seconds on a fresh server; the
points themselves are in the checkpoint's shipped map (vae/explore/shipped_map.py: NumPy and JSON only).
So frame/main.py hands this module its first slot before it imports anything heavy: for the Map page with
a checkpoint that ships its map, the page's title and the map's points, as the page draws them, and a line
saying that the model is loading; for any other page, an empty chart (plotly.js is fetched and compiled
meanwhile, which the map needs anyway). The slot is emptied once the page has run, and the page's own
map, the same points, takes its place with everything it can do (clicks, selections, the panel).

On the pages that decode in the browser (LIVE_PATHS), the slot also mounts the live decoder's "warm" mode
(components/live_decoder: mount_warm): the browser starts onnxruntime-web and loads the checkpoint's
decoder, exported by an earlier run, while the server imports and runs the page, so that the page's own
mount draws its first frame at once instead of starting the runtime then.

Only a link the preview draws exactly is previewed: the checkpoint, the language and presenter mode may
be in it; any other map setting (another map, a colouring, a search, the train split...) waits for the
page. Nothing here is interactive: a click needs the model.
"""

from __future__ import annotations

from pathlib import Path

import pandas  # noqa: F401  (before any Plotly figure: see frame/warm_up.py)
import plotly.graph_objects as go
import streamlit as st

from components import live_decoder
from frame.page_links import LIVE_PATHS, MAP_PATHS, checkpoint_root, linked_checkpoint, page_path
from frame.warm_up import warm_up_figure
from pages import _presenter as presenter
from pages._i18n import _, tr_fig
from vae.explore.figures import latent_map
from vae.explore.shipped_map import ShippedMap, shipped_map

#: As pages/map.py draws its Plotly map (tests/app/test_first_map.py holds them equal).
MAP_HEIGHT = 600
PRESENTER_MAP_HEIGHT = 450
MARKER, PRESENTER_MARKER = 4, 5
#: Link keys the preview draws exactly; with any other in the link the page draws the map itself.
PREVIEWED_KEYS = {"ckpt", "lang", "present", "split", "embed", "embed_options"}
#: Pages whose first view draws no Plotly chart: there the empty chart that has the browser fetch and compile
#: plotly.js ahead would only compete with the page's own first frame (decoded in the browser).
NO_PLOTLY_PATHS = ("sliders",)


def previewed(path: str | None, params: dict[str, str], root: Path) -> Path | None:
    """The checkpoint folder whose shipped map the first run of ``path`` with link ``params`` previews, or None."""
    if path not in MAP_PATHS or not set(params) <= PREVIEWED_KEYS or params.get("split", "test") != "test":
        return None
    return linked_checkpoint(params, root)


def preview_figure(m: ShippedMap, present: bool) -> go.Figure:
    """The map's points as the page's Plotly map draws them (untranslated: see tr_fig)."""
    fig = latent_map(m.coords, m.labels, m.class_names,
                     axis_titles=("z0", "z1") if m.config.method == "latent" else None,
                     height=PRESENTER_MAP_HEIGHT if present else MAP_HEIGHT,
                     marker_size=PRESENTER_MARKER if present else MARKER,
                     font=round(12 * presenter.SCALE) if present else 12)
    fig.update_layout(dragmode="pan", margin=dict(t=34))
    return fig


def draw(slot):
    """Fill frame/main.py's first slot: the in-browser runtime started where the page decodes live, and the Map
    page's points where they can be drawn now, else the empty chart (not on NO_PLOTLY_PATHS). Returns the part of
    the slot to empty once the page has run (the preview or the chart); the runtime's mount stays until the next
    run's empty slot replaces it (on a warm server the page may have run before the browser mounted it)."""
    path = None  # unknown where the URL cannot be read yet (a session opened as the server starts): the chart
    try:
        params = {k: st.query_params.get(k) for k in st.query_params}
        base = str(st.get_option("server.baseUrlPath") or "")
        path, root = page_path(st.context.url, base), checkpoint_root()
        folder = previewed(path, params, root)
        found = shipped_map(folder) if folder is not None else None
        live = linked_checkpoint(params, root) if path in LIVE_PATHS else None
    except Exception:  # a head start is never worth an error: the page does all of it anyway
        found = live = None
    # no gap between the two: once the page has run both may be empty, and a gap of 1 rem between them would go
    # at the next run (the slot is then an empty placeholder), moving the page up 16 px under the user's click
    with slot.container(gap=None):
        runtime, shown = st.empty(), st.empty()
    if live is not None:
        with runtime:
            _warm(live)
    if found is None:
        if path not in NO_PLOTLY_PATHS:
            shown.plotly_chart(warm_up_figure())
        return shown
    present = str(params.get("present", "")).lower() in ("1", "true", "yes", "on")
    with shown.container(key="first_map_preview"):
        st.title(_("Map of the latent space"))
        st.caption(_("Loading the model… the map becomes clickable in a moment."))
        left, _right = st.columns([3, 2], gap="medium")  # where the page's map is
        left.plotly_chart(tr_fig(preview_figure(found, present)),
                          config={"scrollZoom": True, "displaylogo": False, "displayModeBar": True})
    return shown


def _warm(folder: Path) -> bool:
    """The page's runtime and the checkpoint's decoder, loading in the browser while this run goes on."""
    try:
        return live_decoder.mount_warm(folder)
    except Exception:  # never worth an error: the page's own mount loads them
        return False
