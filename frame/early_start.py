"""The earliest start of live decoding: a module script in the HTML of the pages that decode in the browser.

A browser opening the Sliders page with an empty cache (a student's phone, the first time) fetches and runs
Streamlit's own scripts, opens the session, and only when the session's first run has mounted the live
decoder (its "warm" mode, frame/first_map.py) does onnxruntime-web start: importing its module, compiling
its 14 MB WebAssembly binary and loading the decoder, all on the way to the first live frame.

:class:`EarlyStart` is an ASGI middleware (``st.App(middleware=...)``, app.py) that puts a module script into
the HTML of those pages (EARLY_PATHS: not the Map, whose points come first): components/live_decoder/early.js
with runtime.js, joined as the component joins its modules, and a call with the runtime's URLs and the URL of
the decoder of the checkpoint in the link (``?ckpt=``, else the default one). The browser then starts the
runtime and loads the decoder while it fetches Streamlit's scripts; the page's mounts find them under the same
URLs (the state is on globalThis).

Only a decoder an earlier run exported is named (read without torch, as the warm mount reads it); before that,
the runtime alone starts. Never an error: the HTML goes out as Streamlit made it whenever anything is amiss (the
script not ready yet while the server starts, another response than Streamlit's page, a compressed one).
The HTML that carries the script is not cached by the browser (it names the decoder's current file).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from components import static_files
from frame.page_links import LIVE_PATHS, MAP_PATHS, checkpoint_root, linked_checkpoint, page_path

#: The pages whose HTML starts the runtime: those that decode in the browser, but the Map, whose first points come
#: first (measured: the early start's compiling beside plotly.js's cost the map's first points 0.3 s; the Map's
#: hover preview starts from the first run's warm mount, as before).
EARLY_PATHS = tuple(p for p in LIVE_PATHS if p not in MAP_PATHS)
#: Request headers dropped for a page that gets the script: an HTML to change (not compressed), whole (no 304).
DROPPED = (b"accept-encoding", b"if-none-match", b"if-modified-since")

_script: str | None = None  # the joined modules, once prepare() has run
_lock = threading.Lock()


def prepare() -> str:
    """Join the early start's modules (importing the live decoder's component: after the server has started,
    off its event loop); the script's text."""
    global _script
    with _lock:
        if _script is None:
            from components.live_decoder import EARLY_MODULES, HERE, bundle_js

            _script = bundle_js(HERE, EARLY_MODULES)
        return _script


def ready() -> bool:
    return _script is not None


def script_tag(runtime: dict[str, str], decoder: str | None) -> str:
    """The ``<script type="module">`` that starts the runtime and loads ``decoder`` (a URL, or None)."""
    if _script is None:
        raise RuntimeError("frame.early_start.prepare() has not run yet")
    call = f"startEarly({json.dumps(runtime)}, {json.dumps(decoder)});"
    body = f"{_script}\n{call}\n".replace("</", "<\\/")  # nothing in it may close the script element
    return f'<script type="module" async data-vae-early-start>\n{body}</script>'


class _Decoders:
    """The URL of a checkpoint folder's exported decoder. The folder's content hash (it reads the weights: a few
    ms for 3 MB) is worked out again only when the folder's files change; whether the decoder is exported yet is
    looked at each time (a page exports it on its first visit)."""

    def __init__(self) -> None:
        self._hashes: dict[tuple, str] = {}

    def url(self, folder: Path, base_url: str) -> str | None:
        from components.live_decoder import exported_decoder  # imported by prepare() already
        from vae.folders import content_hash

        try:
            key = (str(folder), *((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                                  for p in sorted(folder.iterdir()) if p.is_file()))
            if key not in self._hashes:
                if len(self._hashes) > 64:  # checkpoints retrained or replaced many times: forget the old ones
                    self._hashes.clear()
                self._hashes[key] = content_hash(folder)
            decoder = exported_decoder(folder, self._hashes[key])
            return None if decoder is None else static_files.url(decoder, base_url)
        except OSError:
            return None


class EarlyStart:
    """ASGI middleware: the early start's script in the HTML of the pages that decode live (see the module's text)."""

    def __init__(self, app: ASGIApp, base_url: str = "", root: Path | None = None) -> None:
        self.app = app
        self.base_url = base_url
        self.root = root
        self.decoders = _Decoders()

    def tag(self, params: dict[str, str]) -> str | None:
        """The script for a page whose link has ``params``, or None (not ready, no such checkpoint, a problem)."""
        try:
            from components.live_decoder import RUNTIME_DIR, RUNTIME_MODULE, RUNTIME_WASM

            runtime = {"module": static_files.url(RUNTIME_DIR / RUNTIME_MODULE, self.base_url),
                       "wasm": static_files.url(RUNTIME_DIR / RUNTIME_WASM, self.base_url)}
            folder = linked_checkpoint(params, self.root or checkpoint_root())
            decoder = self.decoders.url(folder, self.base_url) if folder is not None else None
            return script_tag(runtime, decoder)
        except Exception:  # a head start is never worth an error: the page starts everything itself
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET" or not ready()
                or page_path(scope.get("path") or "/", self.base_url) not in EARLY_PATHS):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        tag = await run_in_threadpool(self.tag, dict(parse_qsl(query)))
        if tag is None:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() not in DROPPED]}
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_with_script(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(raw=list(start["headers"]))
            if (start["status"] == 200 and headers.get("content-type", "").startswith("text/html")
                    and "content-encoding" not in headers and b"<head>" in body):
                body = body.replace(b"<head>", b"<head>" + tag.encode("utf-8"), 1)
                headers["content-length"] = str(len(body))
                headers["cache-control"] = "no-cache"
                for name in ("etag", "last-modified"):
                    if name in headers:
                        del headers[name]
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_with_script)
