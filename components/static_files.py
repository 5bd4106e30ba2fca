"""The files the page fetches from static/, served so that they cost the server nothing.

The in-browser decoder downloads onnxruntime-web (a 14 MB WebAssembly binary), the checkpoint's
ONNX models and the explore set's codes. A class of thirty opening the page at once asks for them
thirty times, so each is served

- **compressed ahead of time**: Brotli and gzip copies are made once per file content (the vendored
  runtime when it is set up, a model when it is exported) and kept under ``cache/static/`` by the
  file's digest; a request gets the copy its ``Accept-Encoding`` allows, with ``Content-Encoding``
  set, so that nothing is compressed per request (Streamlit's gzip middleware leaves such a response
  alone). Until a copy exists, the file goes out as it is and a background thread makes the copies.
- **under a content-addressed URL**: :func:`url` appends ``?v=<digest>``; a request whose ``v`` is
  the file's digest is cacheable for a year (``immutable``: a returning browser asks nothing), any
  other is revalidated (``no-cache`` with an ``ETag``, answered ``304`` when unchanged). A changed
  file gets a new digest, so a new URL: never a stale cache.

``python -m components.static_files`` makes the copies of the vendored runtime at the best Brotli
level (``make setup`` runs it: about 35 s once); the server makes any that are missing at a faster
level when it starts.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli

from vae.data.cache import DEFAULT_CACHE_DIR, write_atomic

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
#: The Brotli and gzip copies, named by the file's digest.
VARIANT_DIR = DEFAULT_CACHE_DIR / "static"
MAX_FILE_BYTES = 200 * 1024 * 1024  # larger files are not served (Streamlit's own limit)
#: Worth compressing: the runtime, models, code arrays, text (PNG, GIF and JPEG are compressed already).
COMPRESSIBLE = {".wasm", ".mjs", ".js", ".onnx", ".f32", ".f16", ".u8", ".json", ".css", ".txt", ".svg", ".html"}
#: Brotli levels: the best one for the vendored runtime, made once ahead; a fast one for files made
#: while a page waits (an exported model: 0.05 s for 3 MB, within 2% of the best level's size).
BEST, FAST = 11, 9
#: Brotli's largest window (16 MB): the 14 MB runtime compresses 2.4% smaller than with the default 4 MB.
LGWIN = 24
YEAR = 365 * 24 * 3600
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


@dataclass(frozen=True)
class Stat:
    size: int
    mtime_ns: int


_digests: dict[Path, tuple[Stat, str]] = {}
_lock = threading.Lock()
_pending: set[str] = set()


def digest(path: Path) -> str:
    """SHA-256 of the file's bytes (16 hex characters), read once per size and modification time."""
    st = path.stat()
    key = Stat(st.st_size, st.st_mtime_ns)
    with _lock:
        known = _digests.get(path)
    if known and known[0] == key:
        return known[1]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    value = h.hexdigest()[:16]
    with _lock:
        _digests[path] = (key, value)
    return value


def url(path: Path, base_url: str = "") -> str:
    """The URL at which the page fetches ``path`` (a file under static/): ``/app/static/<rel>?v=<digest>``."""
    rel = path.resolve().relative_to(STATIC_DIR.resolve()).as_posix()
    base = base_url.strip("/")
    return (f"/{base}" if base else "") + f"/app/static/{rel}?v={digest(path)}"


def resolve(rel: str, root: Path = STATIC_DIR) -> Path | None:
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
    """The Content-Type of a static file (a file compressed on disk is sent as it is, as Streamlit does)."""
    if path.suffix == ".mjs":
        return "text/javascript"
    if path.suffix == ".wasm":
        return "application/wasm"
    kind, encoding = mimetypes.guess_type(path.name)
    if encoding == "gzip":
        return "application/gzip"
    return kind if kind and encoding is None else "application/octet-stream"


# -- the compressed copies ---------------------------------------------------------------------------
def variant(path: Path, encoding: str, root: Path | None = None) -> Path:
    """Where the ``encoding`` ("br" or "gzip") copy of ``path`` is kept (it may not exist yet)."""
    suffix = dict(ENCODINGS)[encoding]
    return (root or VARIANT_DIR) / f"{digest(path)}{path.suffix}{suffix}"


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, data)


def precompress(path: Path, quality: int = FAST, root: Path | None = None) -> list[Path]:
    """The Brotli (at ``quality``) and gzip (level 9) copies of ``path``, made where missing; returns
    them. A file not worth compressing gets none. Safe to call from several threads or processes
    (each copy is written to a temporary name, then renamed into place)."""
    if path.suffix not in COMPRESSIBLE:
        return []
    data = None
    out = []
    for encoding, _suffix in ENCODINGS:
        target = variant(path, encoding, root)
        if not target.is_file():
            data = path.read_bytes() if data is None else data
            packed = (brotli.compress(data, quality=quality, lgwin=LGWIN) if encoding == "br"
                      else gzip.compress(data, compresslevel=9, mtime=0))
            _write_atomic(target, packed)
        out.append(target)
    return out


#: Background copies are made one after another (a cold page asks for dozens of files at once).
_one_at_a_time = threading.Lock()


def _background_priority() -> None:
    """Lower the calling thread's CPU priority to the least (Linux: a thread id is a process id here), so
    that making copies never slows a session's script; elsewhere nothing changes."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def precompress_later(paths: list[Path], quality: int = FAST) -> threading.Thread | None:
    """Make the missing copies of ``paths`` in a background thread at the lowest CPU priority (each file
    once, however many ask; one file at a time across threads)."""
    todo = []
    for p in paths:
        if p.suffix in COMPRESSIBLE and not all(variant(p, e).is_file() for e, _s in ENCODINGS):
            key = digest(p)
            with _lock:
                if key in _pending:
                    continue
                _pending.add(key)
            todo.append((p, key))
    if not todo:
        return None

    def work() -> None:
        _background_priority()
        for p, key in todo:
            try:
                with _one_at_a_time:
                    precompress(p, quality)
            except OSError:
                pass  # a full or read-only cache: the file is served as it is
            finally:
                with _lock:
                    _pending.discard(key)

    thread = threading.Thread(target=work, name="static-precompress", daemon=True)
    thread.start()
    return thread


def runtime_files() -> list[Path]:
    """The vendored onnxruntime-web files the page fetches: its ES module and its WebAssembly binary."""
    return sorted(p for p in (STATIC_DIR / "ort").glob("*") if p.suffix in (".mjs", ".wasm"))


# -- answering a request -----------------------------------------------------------------------------
_Q = re.compile(r"^\s*([\w*-]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def accepted(header: str | None) -> list[str]:
    """The encodings an ``Accept-Encoding`` header allows that we keep copies in, best first."""
    weights = {}
    for part in (header or "").split(","):
        m = _Q.match(part)
        if m:
            try:
                weights[m.group(1).lower()] = float(m.group(2)) if m.group(2) is not None else 1.0
            except ValueError:
                continue
    star = weights.get("*", 0.0)
    return [e for e, _s in ENCODINGS if weights.get(e, star) > 0]


@dataclass(frozen=True)
class Answer:
    """What to send for one request of a static file."""

    status: int  # 200, 304 or 404
    body_path: Path | None  # the file to send (the original or a compressed copy); None for 304/404
    headers: dict[str, str]


def answer(rel: str, version: str | None, accept_encoding: str | None, if_none_match: str | None,
           root: Path = STATIC_DIR, variants: Path | None = None) -> Answer:
    """The response to ``GET /app/static/<rel>?v=<version>`` (see the module docstring)."""
    path = resolve(rel, root)
    if path is None:
        return Answer(404, None, {})
    tag = digest(path)
    headers = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff", "ETag": f'"{tag}"',
               "Vary": "Accept-Encoding", "Content-Type": content_type(path),
               "Cache-Control": f"public, max-age={YEAR}, immutable" if version == tag else "no-cache"}
    if if_none_match:
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
        if tag in tags or "*" in tags:
            return Answer(304, None, headers)
    if path.suffix in COMPRESSIBLE:
        for encoding in accepted(accept_encoding):
            copy = variant(path, encoding, variants)
            if copy.is_file():
                return Answer(200, copy, {**headers, "Content-Encoding": encoding})
        if variants is None:
            precompress_later([path])  # sent as it is this once; the copies are there for the next
    return Answer(200, path, headers)


def main() -> int:
    """Make the copies of the vendored runtime at the best Brotli level (``make setup``)."""
    for p in runtime_files():
        made = precompress(p, BEST)
        sizes = ", ".join(f"{c.suffix[1:]} {c.stat().st_size / 1e6:.2f} MB" for c in made)
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size / 1e6:.2f} MB -> {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
