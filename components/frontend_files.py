"""Streamlit's own frontend (its JavaScript and CSS bundles), served compressed ahead of time.

Streamlit 1.67 sends its frontend uncompressed on purpose (streamlit/web/server/starlette/
starlette_gzip_middleware.py: compressing per request costs the origin CPU, and production is expected to
sit behind a proxy that compresses). A class of thirty on one laptop has no such proxy: a cold page of
this app fetches about 8 MB of Streamlit's bundles as they are (plotly.js alone is 4.7 MB), 30 times over
the room's Wi-Fi. Brotli brings those 8 MB to about 2 MB.

:class:`CompressedFrontend` is an ASGI middleware (``st.App(middleware=...)``, see app.py) that answers
``GET /static/...`` of a bundle file with its Brotli or gzip copy, made once per file content and kept
with the runtime's (components/static_files: same digests, same cache folder), and the cache headers
Streamlit gives its content-hashed bundles. Everything else goes on to Streamlit untouched: other paths,
files that are not text, a browser that accepts neither encoding, and a file whose copy is not made yet
(sent as Streamlit sends it this once, while a background thread makes the copy).
``python -m components.frontend_files`` (``make setup``) makes every copy ahead (about 10 s, once).
"""

from __future__ import annotations

from pathlib import Path

import streamlit
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from components import static_files

#: Streamlit's frontend: the folder its static route serves (index.html, static/js, static/css, ...).
FRONTEND_DIR = Path(streamlit.__file__).resolve().parent / "static"
#: Where its bundles are, under FRONTEND_DIR: file names carry their content hash, so they never change.
BUNDLES = "static/"


def frontend_files(root: Path = FRONTEND_DIR) -> list[Path]:
    """The bundle files worth a compressed copy (JavaScript, CSS, JSON, SVG under ``root``/static/)."""
    folder = root / BUNDLES
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in static_files.COMPRESSIBLE)


def answer(rel: str, accept_encoding: str | None, root: Path = FRONTEND_DIR,
           variants: Path | None = None) -> static_files.Answer | None:
    """The compressed copy to send for the bundle file ``rel`` (a path under ``root``, e.g.
    ``static/js/index.abc123.js``), or None to let Streamlit answer: not a bundle file, nothing
    compressible, no accepted encoding, or no copy yet (then one is made in the background)."""
    if not rel.startswith(BUNDLES):
        return None
    path = static_files.resolve(rel, root)
    if path is None or path.suffix not in static_files.COMPRESSIBLE:
        return None
    for encoding in static_files.accepted(accept_encoding):
        copy = static_files.variant(path, encoding, variants)
        if copy.is_file():
            return static_files.Answer(200, copy, {
                "Content-Type": static_files.content_type(path), "Content-Encoding": encoding,
                "Vary": "Accept-Encoding", "ETag": f'"{static_files.digest(path)}"',
                "Cache-Control": f"public, immutable, max-age={static_files.YEAR}"})
    if static_files.accepted(accept_encoding) and variants is None:
        static_files.precompress_later([path])
    return None


class CompressedFrontend:
    """ASGI middleware: Streamlit's bundle files from their compressed copies (see the module's text)."""

    def __init__(self, app: ASGIApp, base_url: str = "", root: Path = FRONTEND_DIR,
                 variants: Path | None = None) -> None:
        self.app = app
        base = base_url.strip("/")
        self.prefix = f"/{base}/" if base else "/"
        self.root = root
        self.variants = variants

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope.get("path", "")
            if path.startswith(self.prefix + BUNDLES):
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
                got = answer(path[len(self.prefix):], headers.get("accept-encoding"), self.root, self.variants)
                if got is not None:
                    tags = {t.strip().removeprefix("W/").strip('"')
                            for t in headers.get("if-none-match", "").split(",") if t.strip()}
                    if got.headers["ETag"].strip('"') in tags:
                        response: Response = Response(status_code=304, headers={
                            k: v for k, v in got.headers.items() if k not in ("Content-Type", "Content-Encoding")})
                    else:
                        response = FileResponse(got.body_path, media_type=got.headers["Content-Type"],
                                                headers=got.headers)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def main() -> int:
    """Make the copies of Streamlit's frontend bundles (``make setup``), at the fast Brotli level."""
    bundles = frontend_files()
    raw = sum(p.stat().st_size for p in bundles)
    packed = sum(static_files.precompress(p)[0].stat().st_size for p in bundles)
    print(f"Streamlit's frontend: {len(bundles)} files, {raw / 1e6:.2f} MB -> br {packed / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
