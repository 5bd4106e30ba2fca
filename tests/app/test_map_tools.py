"""The Map page's research tools (issue #34): a chosen image's nearest neighbours and search, with AppTest;
the values against vae.explore.neighbours computed here, the link's k, nn and find keys both ways."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import torch
from app_helpers import app_test, fashion_test_set, need, open_link, reopened, switch, url
from pagecheck import assert_app_ok

from vae.explore.neighbours import NeighbourIndex, search

FASHION = {"ckpt": "fashion-mnist", "method": "pca"}  # PCA: the test stays off a UMAP fit


@pytest.fixture(scope="module")
def fashion():
    """The shipped fashion-mnist model's test-split codes and images, as the page encodes them."""
    return fashion_test_set()


def neighbour_lists(at) -> tuple[list[str], list[str]]:
    """The captions of the two lists of thumbnails (latent, then pixel space): "#j class · distance"."""
    lists = [list(im.captions) for im in at.get("image")
             if im.captions and all(re.fullmatch(r"(★ )?#\d+ .+ · [\d.e+-]+", c) for c in im.captions)]
    assert len(lists) == 2, lists
    return lists[0], lists[1]


def found_list(at) -> list[str]:
    return next(list(im.captions) for im in at.get("image")
                if im.captions and all(re.fullmatch(r"#\d+ [^·]+", c) for c in im.captions))


@pytest.fixture()
def rings(monkeypatch):
    """What the page asked components/map_rings to ring over the Plotly map: the last call's points."""
    from components import map_rings

    calls = []
    monkeypatch.setattr(map_rings, "mount", lambda chart, points, key: calls.append((chart, points)))
    return calls


def traces(at) -> list[dict]:
    """The Plotly map's traces, their arrays decoded (plotly sends NumPy arrays as base64 "bdata")."""
    import base64
    import json

    def arr(v):
        if isinstance(v, dict) and "bdata" in v:
            a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
            return a.reshape(v["shape"]) if "shape" in v and isinstance(v["shape"], list) else a
        return np.asarray(v) if v is not None else None

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [{**t, "x": arr(t.get("x")), "y": arr(t.get("y")), "customdata": arr(t.get("customdata"))}
            for t in spec["data"]]


def matches_drawn(at) -> int | None:
    """How many points the Plotly map draws as a search's matches (None: no such trace)."""
    found = [t for t in traces(at) if t.get("name") == "search matches"]
    return len(found[0]["x"]) if found else None


def map_coords(at) -> np.ndarray:
    """(N, 2) where the Plotly map draws each image (its traces' customdata: [kind, index])."""
    coords = {}
    for t in traces(at):
        if t["customdata"] is None or t["x"] is None:
            continue
        for x, y, cd in zip(t["x"], t["y"], t["customdata"], strict=True):
            if cd[0] == 0:
                coords[int(cd[1])] = (x, y)
    return np.array([coords[i] for i in range(len(coords))])


def expected(rep, names, nb) -> list[str]:
    shared = set(rep.shared.tolist())
    return [("★ " if j in shared else "") + f"#{j} {names[j]} · {d:.3g}"
            for j, d in zip(nb.indices.tolist(), nb.distances.tolist(), strict=True)]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_the_neighbours_of_a_chosen_point_are_the_librarys(fashion, metric, rings):
    enc, data = fashion
    at = open_link("map", {**FASHION, "point": "9", "k": "12", "nn": metric})
    rep = NeighbourIndex(enc.mu, data.images).report(9, 12, metric)
    names = [data.class_names[c] for c in enc.labels]
    latent, pixel = neighbour_lists(at)
    assert latent == expected(rep, names, rep.latent)
    assert pixel == expected(rep, names, rep.pixel)
    shared = [m for m in at.metric if m.label == "Shared by both lists"]
    assert shared and shared[0].value == f"{len(rep.shared)} of 12", [m.label for m in at.metric]
    chart, points = rings[-1]
    assert chart.startswith("map_chart_fashion-mnist_test_pca") and len(points) == 12
    coords = map_coords(at)
    np.testing.assert_allclose(points, coords[rep.latent.indices], atol=1e-5, err_msg="the latent neighbours are ringed")


def test_search_marks_its_matches_and_lists_them(fashion):
    enc, data = fashion
    at = open_link("map", {**FASHION, "find": "boot"})
    want = search("boot", enc.labels, data.class_names)
    assert matches_drawn(at) == len(want)
    assert any(c.value.startswith(f"**{len(want):,} images match “boot”**") for c in at.caption)
    assert found_list(at)[:3] == [f"#{j} Ankle boot" for j in want[:3]]
    at.text_input(key="map_search").input("短靴").run()  # the class's Chinese name, in an English session
    assert_app_ok(at, "map, search 短靴")
    assert matches_drawn(at) == len(want)
    at.text_input(key="map_search").input("#42").run()
    assert_app_ok(at, "map, search #42")
    assert matches_drawn(at) == 1


class _Kept(logging.Handler):
    """What a logger said, kept."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_k_metric_and_search_travel_in_the_link():
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "point": "3"})
    at.slider(key="map_nn_k").set_value(20).run()
    at.radio(key="map_nn_metric").set_value("cosine").run()
    at.text_input(key="map_search").input("sandal").run()
    assert_app_ok(at, "map, tools set")
    q = url(at)
    assert (q["k"], q["nn"], q["find"], q["point"]) == ("20", "cosine", "sandal", "3"), q
    policies, seen = logging.getLogger("streamlit.elements.lib.policies"), _Kept()
    policies.addHandler(seen)
    try:
        again = reopened(at, "map")
    finally:
        policies.removeHandler(seen)
    assert not [m for m in seen.messages if "map_nn_k" in m], seen.messages  # a default beside the link's value
    for key, value in {"map_nn_k": 20, "map_nn_metric": "cosine", "map_search": "sandal"}.items():
        assert again.session_state[key] == value, (key, again.session_state[key])
    assert again.slider(key="map_nn_k").value == 20


@pytest.mark.parametrize("params, notice", [
    ({"k": "99"}, "k='99'"),
    ({"nn": "manhattan"}, "nn='manhattan'"),
    ({"find": "x" * 101}, "longer than 100 characters"),
])
def test_a_malformed_link_value_is_ignored_with_a_notice(params, notice):
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "point": "3", **params})
    assert any(notice in n for n in at.link_notices), at.link_notices


@pytest.mark.parametrize("text, message", [
    ("#99999", "There is no image #99999: the explore set's images are numbered 0 to 9999."),
    ("zebra", "No image matches “zebra”: type an image's number (0 to 9999), a class or part of its name."),
])
def test_bad_search_text_gives_a_message_not_an_exception(text, message):
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "point": "3"})
    at.text_input(key="map_search").input(text).run()
    assert_app_ok(at, f"map, search {text!r}")
    said = [w.value for w in at.warning] + [i.value for i in at.info]
    assert message in said, said
    assert matches_drawn(at) is None, "nothing marked, nothing faded"
    assert neighbour_lists(at), "the chosen point's neighbours are still shown"


def test_an_imported_onnx_models_neighbours(imported_root, tmp_path, monkeypatch, rings):
    """The imported model (tests/conftest.py imported_root): its neighbours by its own codes; the pixel
    list is the data's, the same as brute force over the test images."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", imported_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    threads = torch.get_num_threads()
    try:
        at = app_test(180)
        at.session_state["ckpt"] = "theirs"
        at.session_state["selected_index"], at.session_state["selected_for"] = 5, "theirs"
        at.query_params["k"] = "8"
        switch(at, "map").run()
        assert_app_ok(at, "map, imported model", errors=True)
        latent, pixel = neighbour_lists(at)
    finally:
        torch.set_num_threads(threads)
    from vae.data.datasets import load_dataset

    x = load_dataset("fashion-mnist", "test").images.numpy().reshape(10000, -1).astype(np.float64)
    d = np.sqrt(((x - x[5]) ** 2).sum(1))
    order = [j for j in np.argsort(d, kind="stable") if j != 5][:8]
    assert [int(re.search(r"#(\d+)", c).group(1)) for c in pixel] == order, pixel
    assert len(latent) == 8 and "#5 " not in " ".join(latent)
    assert len(rings[-1][1]) == 8
