"""The Map page's thumbnails choice (issue #34 item 6) with AppTest: the link's ``thumbs`` key both ways,
and what the page hands the Plotly map's overlay (components/map_thumbs): the explore set's image files
(one chunk file per 2,048 images, their shape grey or RGB), for the shipped model and an imported one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from app_helpers import app_test, fashion_test_set, need, open_link, reopened, switch, url
from pagecheck import assert_app_ok

from vae.export.thumbnails import ThumbLayout, as_uint8, read_chunk

FASHION = {"ckpt": "fashion-mnist", "method": "pca"}


@pytest.fixture()
def overlay(monkeypatch):
    """What the page asked components/map_thumbs to draw over the Plotly map: the last call's spec."""
    from components import map_thumbs

    calls = []
    monkeypatch.setattr(map_thumbs, "mount", lambda chart, thumbs, found, key: calls.append(thumbs))
    return calls


def _file(url_: str):
    from components.live_decoder import STATIC_DIR

    return STATIC_DIR / url_.split("/app/static/", 1)[1].split("?", 1)[0]


def test_real_images_by_default_and_out_of_the_link(overlay):
    need("fashion-mnist")
    at = open_link("map", FASHION)
    assert_app_ok(at, "map")
    assert at.session_state["map_thumbs"] == "real" and "thumbs" not in url(at)
    spec = overlay[-1]
    assert spec["mode"] == "real" and spec["shape"] == [1, 28, 28] and spec["n"] == 10_000
    assert len(spec["chunks"]) == 5 and spec["least"] == 28
    # the files hold the test images, the last chunk read back in the map's order
    order = np.frombuffer(_file(spec["order"]).read_bytes(), "<u4")
    layout = ThumbLayout(10_000, 1, 28, 28)
    last = read_chunk(_file(spec["chunks"][4]).read_bytes(), layout, 4)
    images = fashion_test_set()[1].images
    np.testing.assert_array_equal(
        last, as_uint8(images[torch.from_numpy(order[4 * 2048 :].astype(np.int64))])
    )


@pytest.mark.parametrize("choice", ["decoded", "off"])
def test_the_choice_travels_in_the_link(overlay, choice):
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "thumbs": choice})
    assert_app_ok(at, f"map, thumbs={choice}")
    assert at.session_state["map_thumbs"] == choice and url(at)["thumbs"] == choice
    assert reopened(at, "map").session_state["map_thumbs"] == choice
    if choice == "off":
        assert overlay[-1] is None
    else:
        spec = overlay[-1]
        assert spec["mode"] == "decoded" and spec["decoded"]["d"] == 16, spec["decoded"]
        codes = np.frombuffer(_file(spec["decoded"]["codes"]).read_bytes(), "<f2")
        assert codes.size == 10_000 * 16


def test_a_malformed_choice_is_ignored_with_a_notice():
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "thumbs": "pictures"})
    assert any("thumbs='pictures'" in n for n in at.link_notices), at.link_notices
    assert at.session_state["map_thumbs"] == "real"


def test_an_imported_onnx_models_thumbnails(imported_root, tmp_path, monkeypatch, overlay):
    """The imported model (tests/conftest.py imported_root) gets its data's images as thumbnails."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", imported_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    threads = torch.get_num_threads()
    try:
        at = app_test(180)
        at.session_state["ckpt"] = "theirs"
        at.query_params["thumbs"] = "decoded"
        switch(at, "map").run()
        assert_app_ok(at, "map, imported model", errors=True)
    finally:
        torch.set_num_threads(threads)
    spec = overlay[-1]
    assert spec is not None and spec["shape"][0] in (1, 3) and spec["n"] > 0
    assert spec["mode"] in ("decoded", "real")  # real where its decoder cannot be exported for the page
