"""Live decoding without a browser: the vendored runtime matches its manifest, the component's
JavaScript is valid, the served folder holds only what the page needs, the Python twins
(path_point, principal_axes) hold, and the pages mount the component (AppTest)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tomllib
from app_helpers import app_test, switch
from streamlit.testing.v1 import AppTest

from components.live_decoder import EARLY_MODULES, HERE, JS_MODULES, RUNTIME_DIR, STATIC_DIR, bundle_js
from components.live_decoder.vendor_runtime import FILES, PACKAGE, VERSION
from vae.explore.latent import lerp, path_point, principal_axes, slerp

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


# -- the vendored runtime --------------------------------------------------------------------------
def test_vendored_runtime_matches_its_manifest():
    manifest = json.loads((RUNTIME_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert (manifest["package"], manifest["version"], manifest["license"]) == (PACKAGE, VERSION, "MIT")
    assert manifest["tarball_integrity"].startswith("sha512-")
    assert sorted(manifest["files"]) == sorted(FILES)
    for name, want in manifest["files"].items():
        data = (RUNTIME_DIR / name).read_bytes()
        assert len(data) == want["bytes"], name
        assert hashlib.sha256(data).hexdigest() == want["sha256"], f"{name} differs from the recorded sha256"
    assert "Copyright (c) Microsoft Corporation" in (RUNTIME_DIR / "LICENSE").read_text(encoding="utf-8")
    assert f"v{VERSION}" in (RUNTIME_DIR / FILES[0]).read_text(encoding="utf-8")[:200]


def test_the_make_target_refreshes_the_same_version():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^ORT_WEB_VERSION \?= {re.escape(VERSION)}$", make, re.M)
    assert "ort-web:" in make


def test_static_holds_only_the_runtime_and_generated_models():
    tracked = subprocess.run(["git", "ls-files", "static"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert sorted(tracked) == sorted(f"static/ort/{n}" for n in (*FILES, "LICENSE", "MANIFEST.json"))
    assert {p.name for p in STATIC_DIR.iterdir()} <= {"ort", "models"}
    assert "/static/models/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    # app.py serves static/ at /app/static/ (Streamlit's own serving would look beside frame/main.py)
    assert config["server"]["enableStaticServing"] is False
    assert '"/app/static/{path:path}"' in (ROOT / "app.py").read_text(encoding="utf-8")


# -- the component's JavaScript ------------------------------------------------------------------
def test_bundle_joins_the_modules_into_one():
    js = bundle_js()
    assert js.count("export default function") == 1
    assert not re.search(r'^import .* from "\./', js, re.M), "a relative import was left in the bundle"
    assert not re.search(r"^export (?!default)", js, re.M), "a named export was left in the bundle"
    names = re.findall(r"^(?:async )?(?:function|const|class|let) (\w+)", js, re.M)
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"two modules declare the same top-level names: {dupes}"
    assert {p.name for p in HERE.glob("*.js")} == set(JS_MODULES) | set(EARLY_MODULES), "a module is missing"


def test_the_early_start_is_one_module_that_exports_its_start():
    js = bundle_js(HERE, EARLY_MODULES)
    assert not re.search(r'^import .* from "\./', js, re.M), "a relative import was left in the early start"
    assert re.search(r"^export function startEarly\(", js, re.M)
    assert "export default" not in js


@pytest.mark.skipif(NODE is None, reason="node not installed (only this syntax check needs it)")
@pytest.mark.parametrize("name", [*JS_MODULES, "early.js", "bundle", "early bundle"])
def test_javascript_is_valid(tmp_path, name):
    path = tmp_path / "bundle.mjs"
    js = {"bundle": lambda: bundle_js(), "early bundle": lambda: bundle_js(HERE, EARLY_MODULES)}.get(
        name, lambda: (HERE / name).read_text(encoding="utf-8"))()
    path.write_text(js, encoding="utf-8")
    r = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# -- Python twins ---------------------------------------------------------------------------------
def test_path_point_is_the_frame_of_lerp_and_slerp():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=6), rng.normal(size=6)
    for i, t in enumerate(np.linspace(0, 1, 11)):
        np.testing.assert_allclose(path_point(a, b, t, "lerp"), lerp(a, b, 11)[i], atol=1e-6)
        np.testing.assert_allclose(path_point(a, b, t, "slerp"), slerp(a, b, 11)[i], atol=1e-6)
    np.testing.assert_allclose(path_point(np.zeros(3), b[:3], 0.5, "slerp"), b[:3] / 2, atol=1e-6)


def test_principal_axes_against_sklearn_pca():
    from sklearn.decomposition import PCA

    x = np.random.default_rng(1).normal(size=(500, 5)) * [3.0, 2.0, 1.0, 0.5, 0.01]
    axes, share = principal_axes(x)
    pca = PCA().fit(x)
    np.testing.assert_allclose(share, pca.explained_variance_ratio_, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(axes, axis=1), np.sqrt(pca.explained_variance_), rtol=1e-4)
    for row, comp in zip(axes, pca.components_, strict=True):  # the same directions, up to sign
        assert abs(abs(float(row @ comp)) / np.linalg.norm(row) - 1.0) < 1e-4
        assert row[np.abs(row).argmax()] > 0, "each direction's largest entry is positive"


# -- the pages mount it (AppTest) ------------------------------------------------------------------
def open_sliders() -> AppTest:
    at = app_test(300)
    at.query_params["ckpt"] = "digits"
    switch(at, "pages/sliders.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def url_code(at: AppTest) -> np.ndarray:
    link = at.query_params["z"]
    return np.array([float(v) for v in (link[0] if isinstance(link, list) else link).split(",")])


def live_data(at: AppTest) -> dict:
    (el,) = at.get("bidi_component")
    assert el.proto.component_name == "vae_live_decoder"
    return json.loads(el.proto.json or el.proto.mixed.json)


def test_sliders_page_mounts_the_live_decoder_over_its_server_view():
    at = open_sliders()
    data = live_data(at)
    assert data["mode"] == "sliders" and data["hide"] == ["sl_server_image", "sl_server_map"]
    decoder, version = data["decoder"].split("?v=")  # a content-addressed URL (components/static_files.py)
    assert decoder.startswith("/app/static/models/") and decoder.endswith("/decoder.onnx") and version
    assert data["runtime"]["module"].split("?v=")[0] == "/app/static/ort/ort.wasm.bundle.min.mjs"
    assert set(data["labels"]) == {s.label for s in at.slider}, "every slider is watched, and only those"
    assert data["image"] == {"shape": [1, 8, 8], "factor": 35}
    at.toggle(key="sl_live").set_value(False).run()
    assert not at.get("bidi_component"), "live decoding switched off still mounts the component"
    assert at.get("image"), "the server's image is gone"


def test_principal_direction_sliders_move_the_code_along_pc1():
    at = open_sliders()
    at.slider[0].set_value(1.5).run()
    z_before = url_code(at)
    at.radio(key="sl_axes").set_value("pca").run()
    assert not at.exception
    assert at.slider[0].label.startswith("PC1 · ") and all(s.value == 0.0 for s in at.slider)
    z_switched = url_code(at)
    np.testing.assert_allclose(z_switched, z_before, atol=1e-3, err_msg="switching axes moved the code")
    data = live_data(at)
    assert data["axes"] is not None and np.allclose(data["origin"], z_before, atol=1e-3)
    at.slider[0].set_value(1.0).run()
    z = url_code(at)
    np.testing.assert_allclose(z - z_before, np.asarray(data["axes"][0]), atol=2e-3)


def test_your_image_turns_a_drawing_into_the_model_input():
    from pages.your_image import drawn_image

    pixels = [0.0] * 64
    pixels[10] = 1.0
    prep, err = drawn_image(pixels, (1, 8, 8))
    assert err is None and prep.tensor.shape == (1, 8, 8) and float(prep.tensor[0, 1, 2]) == 1.0
    for bad in ([0.5] * 63, [float("nan")] * 64, "not a list", None):
        prep, err = drawn_image(bad, (1, 8, 8))
        assert prep is None and "Cannot use this drawing" in err
