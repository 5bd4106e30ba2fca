"""The early start's middleware (frame/early_start.py), in front of a stand-in for Streamlit's page route: which
pages' HTML gets the script and what it names, and every other response left as it was. (The browser side, the
script starting the runtime before any mount, is tests/browser/test_live_decode.py's.)"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from asgi_client import Client
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from components import static_files
from components.live_decoder import MODELS_DIR, RUNTIME_DIR, RUNTIME_MODULE, RUNTIME_WASM
from frame import early_start
from vae.export.layout import DECODER_FILE, cached_folder
from vae.folders import content_hash

PAGE = '<!DOCTYPE html><html lang="en"><head><title>Streamlit</title></head><body><div id="root"></div></body></html>'
CALL = re.compile(r"startEarly\((\{[^}]*\}), (null|\"[^\"]*\")\);")


def call(html: str) -> tuple[dict, str | None] | None:
    found = CALL.search(html.replace("<\\/", "</"))
    return None if found is None else (json.loads(found.group(1)), json.loads(found.group(2)))


@pytest.fixture()
def site(tmp_path):
    """A client of the middleware before a stand-in page route, a checkpoint folder ``mine`` of its own, and
    the path its decoder takes once exported (removed afterwards)."""
    root = tmp_path / "checkpoints"
    folder = root / "mine"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(os.urandom(256))

    async def streamlit(request):  # Streamlit's page route: the same HTML for every page, or a compressed copy
        if request.query_params.get("lang") == "gz":
            return Response(b"\x1f\x8b...", media_type="text/html", headers={"Content-Encoding": "gzip"})
        return HTMLResponse(PAGE, headers={"ETag": '"abc"'})

    early_start.prepare()
    app = Starlette(routes=[Route("/{path:path}", streamlit, methods=["GET", "HEAD"])])
    decoder = cached_folder(MODELS_DIR, content_hash(folder)) / DECODER_FILE
    yield Client(early_start.EarlyStart(app, root=root)), decoder
    shutil.rmtree(decoder.parent, ignore_errors=True)


def test_a_live_pages_html_names_the_runtime_and_the_decoder_once_it_is_exported(site):
    client, decoder = site
    runtime = {"module": static_files.url(RUNTIME_DIR / RUNTIME_MODULE),
               "wasm": static_files.url(RUNTIME_DIR / RUNTIME_WASM)}
    first = client.get("/sliders?ckpt=mine", {"Accept-Encoding": "gzip", "If-None-Match": '"abc"'})
    assert call(first.content.decode()) == (runtime, None), "not exported yet: the runtime alone"
    assert first.headers["Cache-Control"] == "no-cache" and "Etag" not in first.headers
    assert int(first.headers["Content-Length"]) == len(first.content)
    decoder.parent.mkdir(parents=True, exist_ok=True)
    decoder.write_bytes(b"an exported decoder")  # a page's first visit exports it
    for path in ("/interpolate?ckpt=mine&lang=zh", "/your_image?ckpt=mine"):
        got = client.get(path)
        assert call(got.content.decode()) == (runtime, static_files.url(decoder)), path
        assert got.content.decode().count("data-vae-early-start") == 1
        assert got.content.decode().endswith('<div id="root"></div></body></html>')


def test_other_pages_and_other_responses_go_out_as_they_came(site):
    client, _decoder = site
    for path in ("/", "/map?ckpt=mine", "/train", "/how_it_works", "/sliders/extra"):
        got = client.get(path)
        assert got.content.decode() == PAGE and got.headers["Etag"] == '"abc"', path
    assert call(client.get("/sliders?ckpt=../secrets").content.decode())[1] is None  # a name, never a path
    packed = client.get("/sliders?ckpt=mine&lang=gz")  # compressed after all: not touched
    assert packed.content == b"\x1f\x8b..." and packed.headers["Content-Encoding"] == "gzip"
    head = client._request("HEAD", "/sliders?ckpt=mine")
    assert b"startEarly" not in head.content
