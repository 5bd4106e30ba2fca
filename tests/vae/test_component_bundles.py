"""Every component's modules, joined as Streamlit gets them (components.live_decoder.bundle_js), parse as one ES
module: two modules that declare the same name break the whole component in the page ("Identifier 'KEPT' has
already been declared"), though each file alone is valid."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path

import pytest

from components.live_decoder import bundle_js

NODE = shutil.which("node")
ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted(
    p.parent.name
    for p in (ROOT / "components").glob("*/__init__.py")
    if "JS_MODULES" in p.read_text(encoding="utf-8")
)


def test_the_bundled_components_are_found():
    assert {"big_map", "live_decoder", "map_filter", "map_thumbs"} <= set(BUNDLED), BUNDLED


@pytest.mark.skipif(NODE is None, reason="node not installed (only this syntax check needs it)")
@pytest.mark.parametrize("name", BUNDLED)
def test_a_components_bundle_parses_as_one_module(tmp_path, name):
    module = importlib.import_module(f"components.{name}")
    js = bundle_js(module.HERE, module.JS_MODULES)
    assert js.count("export default function") == 1, name
    (tmp_path / "bundle.mjs").write_text(js, encoding="utf-8")
    r = subprocess.run([NODE, "--check", str(tmp_path / "bundle.mjs")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
