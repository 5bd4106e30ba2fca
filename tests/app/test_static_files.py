"""The page's static files (components/static_files.py): compressed once, content-addressed, cacheable.

The copies are compared byte for byte with their source after decompression; the answer to a request
is checked for each case a browser makes (first visit, return visit with the same URL, a revalidation,
an older browser without Brotli, a client without compression) and for a file that changed."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import brotli
import pytest

from components import static_files as sf


@pytest.fixture()
def tree(tmp_path):
    root, variants = tmp_path / "static", tmp_path / "variants"
    (root / "ort").mkdir(parents=True)
    (root / "models" / "abc").mkdir(parents=True)
    wasm = root / "ort" / "runtime.wasm"
    wasm.write_bytes(os.urandom(4096) + b"\0" * 200_000)  # compressible, not trivially
    png = root / "models" / "abc" / "minimap.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    return root, variants, wasm, png


def test_the_copies_decompress_to_their_source_byte_for_byte(tree):
    root, variants, wasm, png = tree
    made = sf.precompress(wasm, quality=5, root=variants)
    assert [p.name.rsplit(".", 1)[1] for p in made] == ["br", "gz"]
    assert brotli.decompress(made[0].read_bytes()) == wasm.read_bytes()
    assert gzip.decompress(made[1].read_bytes()) == wasm.read_bytes()
    assert all(p.stat().st_size < wasm.stat().st_size / 10 for p in made)
    assert sf.precompress(png, root=variants) == [], "a PNG is compressed already"
    assert not list(variants.glob("*.png*"))
    mtime = made[0].stat().st_mtime_ns
    sf.precompress(wasm, quality=5, root=variants)
    assert made[0].stat().st_mtime_ns == mtime, "made once: a second call finds the copies"


def test_the_answer_follows_the_browser(tree):
    root, variants, wasm, png = tree
    sf.precompress(wasm, quality=5, root=variants)
    tag = sf.digest(wasm)
    rel = "ort/runtime.wasm"
    first = sf.answer(rel, tag, "gzip, deflate, br, zstd", None, root=root, variants=variants)
    assert first.status == 200 and first.headers["Content-Encoding"] == "br"
    assert first.body_path == sf.variant(wasm, "br", variants)
    assert first.headers["Cache-Control"] == f"public, max-age={365 * 24 * 3600}, immutable"
    assert first.headers["ETag"] == f'"{tag}"' and first.headers["Vary"] == "Accept-Encoding"
    assert first.headers["Content-Type"] == "application/wasm"
    older = sf.answer(rel, tag, "gzip, deflate", None, root=root, variants=variants)
    assert older.headers["Content-Encoding"] == "gzip" and older.body_path.name.endswith(".gz")
    refused = sf.answer(rel, tag, "br;q=0, gzip;q=0", None, root=root, variants=variants)
    plain = sf.answer(rel, tag, None, None, root=root, variants=variants)
    for a in (refused, plain):
        assert a.body_path == wasm and "Content-Encoding" not in a.headers
    unversioned = sf.answer(rel, None, "br", None, root=root, variants=variants)
    assert unversioned.headers["Cache-Control"] == "no-cache", "a URL that may change is revalidated"
    stale = sf.answer(rel, "0123456789abcdef", "br", None, root=root, variants=variants)
    assert stale.headers["Cache-Control"] == "no-cache"
    again = sf.answer(rel, None, "br", f'W/"{tag}"', root=root, variants=variants)
    assert again.status == 304 and again.body_path is None
    image = sf.answer("models/abc/minimap.png", sf.digest(png), "br, gzip", None, root=root, variants=variants)
    assert image.body_path == png and "Content-Encoding" not in image.headers


def test_nothing_outside_static_is_served(tree, tmp_path):
    root, variants, wasm, png = tree
    (tmp_path / "secret.txt").write_text("no")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    for rel in ("../secret.txt", "link", "ort", "", "ort/../../secret.txt", "/etc/passwd", "a\\b", "x\x00y"):
        assert sf.answer(rel, None, "br", None, root=root, variants=variants).status == 404, rel


def test_a_changed_file_gets_a_new_url(tree, monkeypatch):
    root, variants, wasm, png = tree
    monkeypatch.setattr(sf, "STATIC_DIR", root)
    before = sf.url(wasm)
    assert before.startswith("/app/static/ort/runtime.wasm?v=") and before.endswith(sf.digest(wasm))
    assert sf.url(wasm, "/class/") == "/class" + before
    wasm.write_bytes(wasm.read_bytes() + b"more")
    os.utime(wasm, ns=(wasm.stat().st_atime_ns, wasm.stat().st_mtime_ns + 10_000_000))
    after = sf.url(wasm)
    assert after != before, "a stale copy in a browser's cache would be used under the old URL"
    old_tag = before.rsplit("=", 1)[1]
    assert sf.answer("ort/runtime.wasm", old_tag, None, None, root=root, variants=variants).headers[
        "Cache-Control"] == "no-cache"


def test_accept_encoding_is_read_with_its_weights():
    assert sf.accepted("gzip, deflate, br, zstd") == ["br", "gzip"]
    assert sf.accepted("gzip;q=1.0, br;q=0") == ["gzip"]
    assert sf.accepted("*") == ["br", "gzip"]
    assert sf.accepted("*;q=0, gzip") == ["gzip"]
    assert sf.accepted("identity") == [] and sf.accepted(None) == [] and sf.accepted("br;q=x") == []


def test_many_requests_before_the_copies_exist_compress_the_file_once(tree, monkeypatch):
    """A class arriving together before the copies exist: each request is answered at once with the file
    as it is, and the copies are made once, in the background."""
    root, variants, wasm, png = tree
    monkeypatch.setattr(sf, "VARIANT_DIR", variants)
    calls = []
    real = sf.precompress
    monkeypatch.setattr(sf, "precompress", lambda p, q=sf.FAST, root=None: calls.append(p) or real(p, q, root))
    threads = []
    answers = []
    for _ in range(30):
        a = sf.answer("ort/runtime.wasm", None, "br", None, root=root)
        answers.append(a)
        threads += [t for t in threading.enumerate() if t.name == "static-precompress"]
    for t in threads:
        t.join(30)
    mine = [p for p in calls if p.resolve() == wasm.resolve()]  # not another test's copies, still being made in the background
    assert len(mine) == 1, f"compressed {len(mine)} times"
    assert all(a.status == 200 for a in answers)
    assert sf.answer("ort/runtime.wasm", None, "br", None, root=root).headers.get("Content-Encoding") == "br"


def test_the_runtime_files_are_the_vendored_ones():
    names = {p.name for p in sf.runtime_files()}
    assert names == {"ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"}, names
    assert Path(sf.STATIC_DIR / "ort" / "LICENSE").is_file()
