"""The canvas map's server side (vae/explore/map_view.py, components/big_map): box and lasso membership held
against its twin in the page (components/big_map/selection.js, run by node) and against plain
comparisons; colours as bytes; what the page sends back, read defensively; the Map page on the
canvas path (AppTest, digits forced through it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from app_helpers import app_test
from pagecheck import assert_app_ok

from components.big_map import CANVAS_ABOVE, HERE, JS_MODULES, canvas_above, parse_pick
from components.live_decoder import bundle_js
from vae.explore.map_view import SCALE_STEPS, box_polygon, colour_codes, inside_polygon, scale_palette

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
SELECTION_JS = ROOT / "components" / "big_map" / "selection.js"


def _points(n: int = 4000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 3, (n, 2)).astype(np.float32)


def _shapes() -> dict[str, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 41)[:-1]
    star = np.stack([np.cos(t), np.sin(t)], 1) * np.where(np.arange(40) % 2, 2.0, 5.0)[:, None]
    bow = np.array([[-4, -4], [4, 4], [4, -4], [-4, 4]], float)  # crosses itself: even-odd leaves two triangles
    lasso = np.random.default_rng(3).normal(0, 2.5, (60, 2)).cumsum(0) * 0.3  # a wandering hand-drawn path
    return {"box": box_polygon(-2.5, -1.0, 3.0, 4.5), "star": star, "bow": bow, "lasso": lasso}


# -- the component's JavaScript ---------------------------------------------------------------------
def test_every_module_is_in_the_bundle():
    own = {m for m in JS_MODULES if "/" not in m}  # the others are shared with a sibling component
    assert {p.name for p in HERE.glob("*.js")} == own, "a module is missing from JS_MODULES"
    assert all((HERE / m).is_file() for m in JS_MODULES), JS_MODULES
    js = bundle_js(HERE, JS_MODULES)
    assert js.count("export default function") == 1


@pytest.mark.skipif(NODE is None, reason="node not installed (only this syntax check needs it)")
@pytest.mark.parametrize("name", [*JS_MODULES, "bundle"])
def test_javascript_is_valid(tmp_path, name):
    path = tmp_path / "bundle.mjs"
    path.write_text(bundle_js(HERE, JS_MODULES) if name == "bundle" else (HERE / name).read_text(encoding="utf-8"),
                    encoding="utf-8")
    r = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# -- membership ---------------------------------------------------------------------------------------
def test_a_box_holds_the_points_strictly_between_its_sides():
    xy = _points()
    got = inside_polygon(xy, box_polygon(-2.5, -1.0, 3.0, 4.5))
    x, y = xy[:, 0].astype(float), xy[:, 1].astype(float)
    want = (x > -2.5) & (x < 3.0) & (y > -1.0) & (y < 4.5)
    np.testing.assert_array_equal(got, want)
    assert 300 < got.sum() < 3000


def test_a_polygon_crossing_itself_holds_what_the_even_odd_rule_says():
    pts = np.array([[0, 2], [0, -2], [2, 0], [-2, 0], [3.5, 3.9], [0, 0.01]], np.float32)
    # the bow tie (-4,-4)-(4,4)-(4,-4)-(-4,4): its two triangles are left and right of the centre
    got = inside_polygon(pts, _shapes()["bow"])
    assert got.tolist() == [False, False, True, True, False, False]


def test_too_few_vertices_are_refused_naming_the_shape():
    with pytest.raises(ValueError, match="at least 3 vertices"):
        inside_polygon(_points(10), [[0, 0], [1, 1]])


@pytest.mark.skipif(NODE is None, reason="node not installed (only this twin check needs it)")
def test_the_page_selects_the_same_points_as_the_server():
    """selection.js's insidePolygon (run by node on the same float32 positions) against inside_polygon,
    point for point, for a box, a star, a self-crossing bow tie and a wandering lasso."""
    xy = _points(6000, seed=1)
    xy[:50] = np.round(xy[:50])  # points on the box's vertical sides and at vertices: the ties agree too
    shapes = _shapes()
    script = (f"import {{ insidePolygon }} from {json.dumps(SELECTION_JS.as_uri())};\n"
              "import { readFileSync } from 'node:fs';\n"
              "const input = JSON.parse(readFileSync(0, 'utf8'));\n"
              "const xy = Float32Array.from(input.xy);\n"
              "const out = {};\n"
              "for (const [name, poly] of Object.entries(input.shapes)) out[name] = Array.from(insidePolygon(xy, poly));\n"
              "process.stdout.write(JSON.stringify(out));\n")
    payload = {"xy": xy.ravel().astype(float).tolist(), "shapes": {k: v.tolist() for k, v in shapes.items()}}
    r = subprocess.run([NODE, "--input-type=module", "-e", script], input=json.dumps(payload), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    page = json.loads(r.stdout)
    for name, poly in shapes.items():
        server = inside_polygon(xy, poly)
        js = np.array(page[name], bool)
        diff = np.flatnonzero(server != js)
        assert not len(diff), f"{name}: {len(diff)} points differ, e.g. {xy[diff[:3]].tolist()}"
        assert 0 < server.sum() < len(xy), f"{name}: a shape that holds {server.sum()} points tests nothing"


# -- colours --------------------------------------------------------------------------------------------
def test_colour_codes_span_the_values_from_lowest_to_highest_step():
    codes, lo, hi = colour_codes(np.array([2.0, 4.0, 3.0, 6.0, np.nan]))
    assert (lo, hi) == (2.0, 6.0)
    assert codes.dtype == np.uint8
    assert codes.tolist() == [0, 128, 64, SCALE_STEPS - 1, 0]  # 1/4 of 255 is 63.75 -> 64; NaN: lowest
    assert colour_codes(np.full(5, 7.0))[0].tolist() == [0] * 5  # one value: no division by zero


def test_the_scale_palette_is_plotlys_viridis():
    p = scale_palette()
    assert len(p) == SCALE_STEPS and p[0] == "#440154" and p[-1] == "#fde725"


# -- what the page sends back ------------------------------------------------------------------------------
@pytest.mark.parametrize("value,want", [
    ({"kind": "point", "index": 3, "seq": 1}, ("point", 3)),
    ({"kind": "prior", "index": 1}, ("prior", 1)),
    ({"kind": "spot", "xy": [0.5, -1.0]}, ("spot", None)),
    ({"kind": "lasso", "polygon": [[0, 0], [1, 0], [1, 1]]}, ("lasso", None)),
])
def test_picks_the_page_sends_are_read(value, want):
    pick = parse_pick(value, n_points=10, n_prior=2)
    assert (pick.kind, pick.index) == want


@pytest.mark.parametrize("value", [
    None, "point", {"kind": "bogus"}, {"kind": "point"}, {"kind": "point", "index": 10},
    {"kind": "prior", "index": 2}, {"kind": "point", "index": "x"}, {"kind": "spot", "xy": [1]},
    {"kind": "spot", "xy": [float("nan"), 0]}, {"kind": "box", "polygon": [[0, 0], [1, 1]]},
    {"kind": "lasso", "polygon": "abc"},
])
def test_a_stale_or_malformed_pick_is_nothing_picked(value):
    assert parse_pick(value, n_points=10, n_prior=2) is None


def test_the_canvas_threshold_can_be_lowered_for_tests(monkeypatch):
    monkeypatch.delenv("VAE_MAP_CANVAS_ABOVE", raising=False)
    assert canvas_above() == CANVAS_ABOVE == 20_000  # 10,000 (Plotly) and 70,000 (canvas) either side
    monkeypatch.setenv("VAE_MAP_CANVAS_ABOVE", "100")
    assert canvas_above() == 100
    monkeypatch.setenv("VAE_MAP_CANVAS_ABOVE", "many")
    assert canvas_above() == CANVAS_ABOVE


# -- the Map page on the canvas path ----------------------------------------------------------------------
def test_the_map_page_draws_a_large_set_with_the_canvas_and_lists_a_lasso(monkeypatch):
    monkeypatch.setenv("VAE_MAP_CANVAS_ABOVE", "100")  # digits' 360 test images take the 70k path
    at = app_test(300)
    at.session_state["ckpt"] = "digits"
    at.run()
    assert_app_ok(at, errors=True)
    assert not at.get("plotly_chart"), "the large set is still drawn by Plotly"
    assert any("points, drawn in your browser" in c.value for c in at.caption), [c.value for c in at.caption]
    key = "map_canvas_digits_test_umap"  # the component's state: what the page sends when the user picks
    at.session_state[key] = {"pick": {"kind": "box", "polygon": [[-1e3, -1e3], [1e3, -1e3], [1e3, 1e3], [-1e3, 1e3]]}}
    at.run()
    assert_app_ok(at, errors=True)
    assert [s.value for s in at.subheader] == ["360 images selected"]
    at.session_state[key] = {"pick": {"kind": "lasso", "polygon": [[1e3, 1e3], [1e3 + 1, 1e3], [1e3, 1e3 + 1]]}}
    at.run()
    assert any("No image lies inside the shape" in i.value for i in at.info), [i.value for i in at.info]
    at.session_state[key] = {"pick": {"kind": "point", "index": 7}}
    at.run()
    assert at.subheader[0].value.startswith("#7 · "), at.subheader[0].value
    at.session_state[key] = {"pick": {"kind": "spot", "xy": [0.0, 0.0]}}
    at.run()
    assert_app_ok(at, errors=True)
    assert at.subheader[0].value == "Decoded spot"
    at.session_state["map_prior"] = True  # prior samples over the codes: a click on one shows it
    at.session_state[key] = {"pick": {"kind": "prior", "index": 4}}
    at.run()
    assert_app_ok(at, errors=True)
    assert at.subheader[0].value == "Prior sample 4"
