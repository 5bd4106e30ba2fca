"""The VAE latent-space explorer's server: `streamlit run app.py` (or `make run`).

``streamlit run`` serves ``app``, an ``st.App``: every session runs frame/main.py (the frame, then the
page), and ``/app/static/`` serves static/ (the in-browser decoder's runtime, static/ort/, and the
models exported for it, static/models/) with the headers of Streamlit's own static serving.

The script lives in frame/, away from pages/: beside a pages/ folder, Streamlit would run each page
file on its own (its legacy multipage mode) until some session had called ``st.navigation``, and a
deep link opened first on a fresh server would miss the frame. ``server.enableStaticServing`` serves
the static/ folder beside that script, so it is off (.streamlit/config.toml) and the route below
serves this folder's static/.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

#: Served at /app/static/. Beside this file as it was started, links not resolved: a checkout whose
#: app.py is a link to another serves its own static/.
STATIC_DIR = Path(__file__).absolute().parent / "static"
MAX_FILE_BYTES = 200 * 1024 * 1024  # larger files are not served (Streamlit's own limit)
CORS = {"Access-Control-Allow-Origin": "*"}


def static_path(rel: str, root: Path = STATIC_DIR) -> Path | None:
    """The file under ``root`` that the URL path ``rel`` names, or None: nothing outside ``root`` (no
    ``..``, no absolute path, no link that leads out), no folder, nothing over MAX_FILE_BYTES."""
    if not rel or "\x00" in rel or "\\" in rel:
        return None
    base = root.resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base) or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return None
    return path


def content_type(path: Path) -> str:
    """The Content-Type of a static file (a compressed file is sent as it is, as Streamlit does)."""
    kind, encoding = mimetypes.guess_type(path.name)
    if encoding == "gzip":
        return "application/gzip"
    return kind if kind and encoding is None else "application/octet-stream"


async def static_file(request: Request) -> Response:
    path = static_path(request.path_params.get("path", ""))
    if path is None:
        return PlainTextResponse("File not found", status_code=404)
    return FileResponse(path, media_type=content_type(path), headers={**CORS, "X-Content-Type-Options": "nosniff"})


async def static_options(request: Request) -> Response:
    return Response(status_code=204, headers={**CORS, "Access-Control-Allow-Methods": "GET, OPTIONS",
                                              "Access-Control-Allow-Headers": "Content-Type"})


def static_routes(base_url: str = "") -> list[Route]:
    """/app/static/<path> (under ``server.baseUrlPath``), as components/live_decoder.static_url writes it."""
    base = base_url.strip("/")
    path = f"/{base}/app/static/{{path:path}}" if base else "/app/static/{path:path}"
    return [Route(path, static_file, methods=["GET"]), Route(path, static_options, methods=["OPTIONS"])]


app = st.App("frame/main.py", routes=static_routes(str(st.get_option("server.baseUrlPath") or "")))
