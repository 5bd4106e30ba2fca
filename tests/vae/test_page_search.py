"""The Map's search box answered in the page (components/map_filter/search.js) against the library's search
(vae.explore.neighbours.search) on the same labels and class names, in English and Chinese: the same images, or
the page leaves the text to the server (an image out of range, nothing typed, a letter whose case folding
JavaScript does not share with Python)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vae.errors import SearchError
from vae.explore.neighbours import search

NODE = shutil.which("node")
SEARCH_JS = Path(__file__).resolve().parents[2] / "components" / "map_filter" / "search.js"
NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
ZH = ["T恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"]
QUERIES = [
    "boot",
    "BOOT",
    "  ankle   Boot ",
    "shirt",
    "t-shirt",
    "#42",
    "42",
    "# 7",
    "#300",
    "短靴",
    "衬衫",
    "鞋",
    "x",
    "",
    "   ",
    "zzz",
    "o",
    "/",
    "Straße",
    "a" * 101,
    "#0",
    "/ 裤",
]


@pytest.mark.skipif(NODE is None, reason="node not installed (only this twin check needs it)")
def test_the_page_finds_what_the_library_finds_or_leaves_it_to_the_server(tmp_path):
    labels = np.random.default_rng(3).integers(0, 10, 300)
    translated = {
        n: f"{n} / {z}" for n, z in zip(NAMES, ZH, strict=True)
    }  # as pages/_map_tools.found joins them
    classes = [f"{n.casefold()}\n{translated[n].casefold()}" for n in NAMES]  # pages/_map_tools.page_search
    shutil.copy(SEARCH_JS, tmp_path / "search.js")
    (tmp_path / "run.mjs").write_text(
        f"""
import {{ searchMask }} from "./search.js";
const labels = Float64Array.from({json.dumps(labels.tolist())});
const classes = {json.dumps(classes)};
const out = {json.dumps(QUERIES)}.map((q) => {{
  const m = searchMask(q, labels, classes);
  return m === null ? null : Array.from(m.keys()).filter((i) => m[i]);
}});
console.log(JSON.stringify(out));
""",
        encoding="utf-8",
    )
    r = subprocess.run([NODE, "run.mjs"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    answered = 0
    for query, page in zip(QUERIES, json.loads(r.stdout), strict=True):
        try:
            want = search(query, labels, NAMES, translated).tolist()
        except SearchError:
            want = None
        if page is None:  # left to the server: only where it has something to say the page does not
            assert want is None or any(ord(c) > 127 and c.lower() != c.upper() for c in query), (query, want)
            continue
        answered += 1
        assert page == want, query
    assert answered >= 15, answered
