"""Streamlit's frontend bundles served from their compressed copies (components/frontend_files.py).

A stand-in for Streamlit's static route sits behind the middleware: the tests check which requests the
middleware answers (a bundle file, with a copy, in an encoding the client accepts), that what it sends
decompresses to the file byte for byte with the headers Streamlit gives its hashed bundles, and that every
other request reaches Streamlit unchanged."""

from __future__ import annotations

import gzip
import os
import threading

import brotli
import pytest
from asgi_client import Client
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from components import frontend_files as ff
from components import static_files as sf


@pytest.fixture()
def site(tmp_path):
    root, variants = tmp_path / "frontend", tmp_path / "variants"
    (root / "static" / "js").mkdir(parents=True)
    (root / "static" / "media").mkdir(parents=True)
    js = root / "static" / "js" / "index.abc123.js"
    js.write_bytes(b"export const x = 1;\n" * 5000 + os.urandom(64))
    font = root / "static" / "media" / "font.x1.woff2"
    font.write_bytes(os.urandom(500))
    (root / "index.html").write_text("<html>the page</html>")
    for p in (js, font):
        sf.precompress(p, quality=5, root=variants)

    async def streamlit(request):  # stands for Streamlit's own static route
        return PlainTextResponse(f"streamlit:{request.url.path}", headers={"X-From": "streamlit"})

    def client(base: str = "") -> Client:
        app = Starlette(routes=[Route("/{path:path}", streamlit, methods=["GET", "POST"])],
                        middleware=[Middleware(ff.CompressedFrontend, base_url=base, root=root, variants=variants)])
        return Client(app)

    return client, js, font, variants


def test_a_bundle_goes_out_compressed_and_decompresses_to_the_file(site):
    client, js, _font, _variants = site
    raw = js.read_bytes()
    for accept, encoding, unpack in (("gzip, deflate, br, zstd", "br", brotli.decompress),
                                     ("gzip, deflate", "gzip", gzip.decompress)):
        r = client().get("/static/js/index.abc123.js", headers={"Accept-Encoding": accept})
        assert r.status_code == 200 and "X-From" not in r.headers
        assert r.headers["Content-Encoding"] == encoding
        assert r.headers["Cache-Control"] == f"public, immutable, max-age={sf.YEAR}"
        assert r.headers["Vary"] == "Accept-Encoding"
        assert r.headers["Content-Type"].startswith("text/javascript")
        assert int(r.headers["Content-Length"]) == len(r.content) < len(raw) / 10
        assert unpack(r.content) == raw


def test_everything_else_reaches_streamlit(site):
    client, _js, _font, _variants = site
    c = client()
    plain = c.get("/static/js/index.abc123.js", headers={"Accept-Encoding": "identity"})
    assert plain.headers["X-From"] == "streamlit", "a client that accepts no encoding"
    for path in ("/", "/sliders", "/static/media/font.x1.woff2", "/static/js/missing.js", "/index.html",
                 "/static/../index.html", "/_stcore/health"):
        r = c.get(path, headers={"Accept-Encoding": "br"})
        assert r.headers.get("X-From") == "streamlit", path
    assert c.post("/static/js/index.abc123.js", headers={"Accept-Encoding": "br"}).headers["X-From"] == "streamlit"


def test_a_returning_browser_gets_304(site):
    client, js, _font, _variants = site
    r = client().get("/static/js/index.abc123.js",
                     headers={"Accept-Encoding": "br", "If-None-Match": f'"{sf.digest(js)}"'})
    assert r.status_code == 304 and r.content == b""
    assert "Content-Encoding" not in r.headers


def test_under_a_base_url(site):
    client, js, _font, _variants = site
    c = client("/class/")
    assert c.get("/class/static/js/index.abc123.js", headers={"Accept-Encoding": "br"}).headers[
        "Content-Encoding"] == "br"
    assert c.get("/static/js/index.abc123.js", headers={"Accept-Encoding": "br"}).headers["X-From"] == "streamlit"


def test_a_file_without_a_copy_goes_out_as_streamlit_sends_it_and_gets_one(site, monkeypatch, tmp_path):
    client, js, _font, _variants = site
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(sf, "VARIANT_DIR", fresh)
    root = js.parent.parent.parent
    app = Starlette(routes=[Route("/{path:path}", lambda request: PlainTextResponse("s", headers={"X-From": "st"}))],
                    middleware=[Middleware(ff.CompressedFrontend, root=root)])
    c = Client(app)
    assert c.get("/static/js/index.abc123.js", headers={"Accept-Encoding": "br"}).headers["X-From"] == "st"
    for t in [t for t in threading.enumerate() if t.name == "static-precompress"]:
        t.join(30)
    assert sf.variant(js, "br").is_file(), "the copy is made in the background"
    assert c.get("/static/js/index.abc123.js", headers={"Accept-Encoding": "br"}).headers["Content-Encoding"] == "br"


def test_the_frontend_files_are_streamlits_bundles():
    files = ff.frontend_files()
    assert files and all(p.is_relative_to(ff.FRONTEND_DIR / "static") for p in files)
    assert any(p.suffix == ".js" for p in files) and any(p.suffix == ".css" for p in files)
    assert not any(p.suffix in (".woff2", ".png", ".html") for p in files)
