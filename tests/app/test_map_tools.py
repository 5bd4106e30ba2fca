"""The Map page's research tools (issue #34): a chosen image's nearest neighbours and search, with AppTest;
the values against vae.explore.neighbours computed here, the link's k, nn and find keys both ways."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from app_helpers import ROOT, app_test, need, open_link, reopened, switch, url
from pagecheck import assert_app_ok

from vae.explore.neighbours import NeighbourIndex, search

FASHION = {"ckpt": "fashion-mnist", "method": "pca"}  # PCA: the test stays off a UMAP fit


@pytest.fixture(scope="module")
def fashion():
    """The shipped fashion-mnist model's test-split codes and images, as the page encodes them."""
    need("fashion-mnist")
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import explore_set

    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    data = ck.load_data("test")
    return explore_set(ck, data), data


def neighbour_lists(at) -> tuple[list[str], list[str]]:
    """The captions of the two lists of thumbnails (latent, then pixel space): "#j class · distance"."""
    lists = [list(im.captions) for im in at.get("image")
             if im.captions and all(re.fullmatch(r"(★ )?#\d+ .+ · [\d.e+-]+", c) for c in im.captions)]
    assert len(lists) == 2, lists
    return lists[0], lists[1]


def found_list(at) -> list[str]:
    return next(list(im.captions) for im in at.get("image")
                if im.captions and all(re.fullmatch(r"#\d+ [^·]+", c) for c in im.captions))


def expected(rep, names, nb) -> list[str]:
    shared = set(rep.shared.tolist())
    return [("★ " if j in shared else "") + f"#{j} {names[j]} · {d:.3g}"
            for j, d in zip(nb.indices.tolist(), nb.distances.tolist(), strict=True)]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_the_neighbours_of_a_chosen_point_are_the_librarys(fashion, metric):
    enc, data = fashion
    at = open_link("map", {**FASHION, "point": "9", "k": "12", "nn": metric})
    rep = NeighbourIndex(enc.mu, data.images).report(9, 12, metric)
    names = [data.class_names[c] for c in enc.labels]
    latent, pixel = neighbour_lists(at)
    assert latent == expected(rep, names, rep.latent)
    assert pixel == expected(rep, names, rep.pixel)
    shared = [m for m in at.metric if m.label == "Shared by both lists"]
    assert shared and shared[0].value == f"{len(rep.shared)} of 12", [m.label for m in at.metric]
    ring = at.session_state["map_pin"]["marks"][0]
    assert ring == rep.latent.indices.tolist(), "the map rings the latent neighbours"


def test_search_marks_its_matches_and_lists_them(fashion):
    enc, data = fashion
    at = open_link("map", {**FASHION, "find": "boot"})
    want = search("boot", enc.labels, data.class_names)
    assert at.session_state["map_pin"]["marks"][1] == want.tolist()
    assert any(m.value.startswith(f"**{len(want):,} images match “boot”**") for m in at.markdown)
    assert found_list(at)[:3] == [f"#{j} Ankle boot" for j in want[:3]]
    at.text_input(key="map_search").input("#42").run()
    assert_app_ok(at, "map, search #42")
    assert at.session_state["map_pin"]["marks"][1] == [42]


def test_k_metric_and_search_travel_in_the_link():
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "point": "3"})
    at.slider(key="map_nn_k").set_value(20).run()
    at.segmented_control(key="map_nn_metric").set_value("cosine").run()
    at.text_input(key="map_search").input("sandal").run()
    assert_app_ok(at, "map, tools set")
    q = url(at)
    assert (q["k"], q["nn"], q["find"], q["point"]) == ("20", "cosine", "sandal", "3"), q
    again = reopened(at, "map")
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
    assert at.session_state["map_pin"]["marks"][1] is None, "nothing marked"
    assert neighbour_lists(at), "the chosen point's neighbours are still shown"


def test_an_imported_onnx_models_neighbours(imported_root, tmp_path, monkeypatch):
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
    assert len(at.session_state["map_pin"]["marks"][0]) == 8
