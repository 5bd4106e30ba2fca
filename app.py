"""The VAE latent-space explorer's server: `streamlit run app.py` (or `make run`).

``streamlit run`` serves ``app``, an ``st.App``: every session runs frame/main.py (the frame, then the
page), and ``/app/static/`` serves static/ (the in-browser decoder's runtime, static/ort/, and the
models exported for it, static/models/): compressed ahead of time, and cached by the browser under
content-addressed URLs (components/static_files.py). Streamlit's own frontend bundles go out compressed
ahead of time too (components/frontend_files.py: Streamlit sends them as they are), and the HTML of the
pages that decode in the browser starts the decoder's runtime before Streamlit's scripts have run
(frame/early_start.py).

The script lives in frame/, away from pages/: beside a pages/ folder, Streamlit would run each page
file on its own (its legacy multipage mode) until some session had called ``st.navigation``, and a
deep link opened first on a fresh server would miss the frame. ``server.enableStaticServing`` serves
the static/ folder beside that script, so it is off (.streamlit/config.toml) and the route below
serves this folder's static/.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from components import static_files
from components.frontend_files import CompressedFrontend
from frame import early_start

#: Served at /app/static/. Beside this file as it was started, links not resolved: a checkout whose
#: app.py is a link to another serves its own static/.
STATIC_DIR = Path(__file__).absolute().parent / "static"


async def static_file(request: Request) -> Response:
    """A file of static/: compressed ahead of time, cacheable for a year under its content-addressed URL
    (components/static_files.py)."""
    got = static_files.answer(request.path_params.get("path", ""), request.query_params.get("v"),
                              request.headers.get("accept-encoding"), request.headers.get("if-none-match"),
                              root=STATIC_DIR)
    if got.status == 404:
        return PlainTextResponse("File not found", status_code=404)
    if got.status == 304:
        return Response(status_code=304, headers={k: v for k, v in got.headers.items() if k != "Content-Type"})
    return FileResponse(got.body_path, media_type=got.headers["Content-Type"], headers=got.headers)


async def static_options(request: Request) -> Response:
    return Response(status_code=204, headers={"Access-Control-Allow-Origin": "*",
                                              "Access-Control-Allow-Methods": "GET, OPTIONS",
                                              "Access-Control-Allow-Headers": "Content-Type"})


def _import_the_pages() -> None:
    """Import the frame and every page (torch, the models' code, Plotly: seconds) while the first browser
    loads Streamlit's own page, so that its first run finds them imported instead of importing them. What
    a first run draws before them (frame/first_map.py: pandas, Plotly, the map's figure) comes first."""
    importlib.import_module("frame.first_map")
    early_start.prepare()  # the live decoder's modules for the pages' HTML (frame/early_start.py)
    importlib.import_module("frame.navigation")


@contextlib.asynccontextmanager
async def lifespan(app):
    """At start, in the background: the pages' imports (a first run that comes sooner waits for them, as
    for any import), and the compressed copies of the vendored runtime that `make setup` did not make yet
    (the runtime goes out uncompressed until they are there)."""
    threading.Thread(target=_import_the_pages, name="import-pages", daemon=True).start()
    static_files.precompress_later(static_files.runtime_files())
    yield None


def static_routes(base_url: str = "") -> list[Route]:
    """/app/static/<path> (under ``server.baseUrlPath``), as components/live_decoder.static_url writes it."""
    base = base_url.strip("/")
    path = f"/{base}/app/static/{{path:path}}" if base else "/app/static/{path:path}"
    return [Route(path, static_file, methods=["GET"]), Route(path, static_options, methods=["OPTIONS"])]


_base_url = str(st.get_option("server.baseUrlPath") or "")
app = st.App("frame/main.py", routes=static_routes(_base_url), lifespan=lifespan,
             middleware=[Middleware(CompressedFrontend, base_url=_base_url),
                         Middleware(early_start.EarlyStart, base_url=_base_url)])
