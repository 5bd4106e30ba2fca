"""The Map's structure and kept selections (issue #34), with AppTest: the cluster labels drawn are
scikit-learn's HDBSCAN run directly on the map's positions, the contours are the library's density;
two search results kept under names, compared (against pandas), travelling in the link and read back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from app_helpers import fashion_test_set, need, open_link, reopened, url
from pagecheck import assert_app_ok
from test_map_tools import FASHION, map_coords, traces

from vae.explore import index_text
from vae.explore.clusters import NOISE, ClusterConfig
from vae.explore.density import density
from vae.explore.neighbours import search


def layout(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]


def home_labels(at) -> list[str]:
    """The cluster labels shown zoomed out (the smaller clusters' wait at opacity 0 for a zoom in the page:
    components/plotly_labels)."""
    return [a["text"] for a in layout(at).get("annotations", [])
            if a.get("name", "").startswith("cluster-") and a.get("opacity", 1) > 0]


@pytest.fixture(scope="module")
def fashion():
    return fashion_test_set()


def test_clusters_and_contours_on_the_map_are_scikit_learns(fashion):
    enc, data = fashion
    at = open_link("map", {**FASHION, "structure": "both", "labels": "5"})
    assert_app_ok(at, "map, structure both")
    coords = map_coords(at)
    cfg = ClusterConfig()
    ref = cfg.hdbscan(len(coords)).fit(coords.astype(np.float64)).labels_  # scikit-learn, directly
    ids, sizes = np.unique(ref[ref != NOISE], return_counts=True)
    largest = ids[np.argsort(-sizes, kind="stable")]
    want = []
    for c in largest:
        counts = np.bincount(enc.labels[ref == c], minlength=10)
        want.append(f"<b>{data.class_names[counts.argmax()]} {100 * counts.max() / counts.sum():.0f}%</b>")
    got = home_labels(at)
    # the largest first, then the next ones whose labels do not cover a larger one's, in order of size
    assert got[0] == want[0] and 2 <= len(got) <= 5, (got, want)
    # every other cluster's label waits for its zoom: vae.explore.clusters.min_zoom of the sizes
    notes = [a for a in layout(at)["annotations"] if a.get("name", "").startswith("cluster-")]
    assert sorted(a["text"] for a in notes) == sorted(want), (notes, want)
    least = layout(at)["meta"]["vaeClusterLabels"]["zoom"]
    ranked = np.sort(sizes)[::-1]
    for a in notes:
        r = int(a["name"].removeprefix("cluster-"))
        expect = 0.0 if a["opacity"] > 0 else max(1.0, float(np.sqrt(ranked[4] / ranked[r])) if r >= 5 else 1.0)
        assert least[a["name"]] == pytest.approx(expect), (a["name"], least)
    rest = iter(want)
    assert all(any(g == w for w in rest) for g in got), f"in order of size: {got} within {want}"
    contour = [t for t in traces(at) if t.get("type") == "contour"]
    assert len(contour) == 1, [t.get("type") for t in traces(at)]
    d = density(coords)
    np.testing.assert_allclose(np.asarray(contour[0]["x"], float), d.x, rtol=1e-6)
    assert any(f"{len(sizes)} clusters (HDBSCAN on the map positions)" in c.value for c in at.caption)
    at.slider(key="map_cluster_labels").set_value(1).run()
    assert home_labels(at) == want[:1]
    at.selectbox(key="map_color").set_value("cluster").run()
    assert_app_ok(at, "map, colour by cluster")
    names = [t["name"] for t in traces(at) if t.get("customdata") is not None and t.get("type") == "scattergl"
             and t["name"] not in ("empty space",)]
    assert names[0] == "1: " + want[0][3:-4] and names[-1] == "no cluster", names


def kept_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Classes" in d.value.columns)


def keep(at, text: str, name: str) -> None:
    at.text_input(key="map_search").input(text).run()
    at.text_input(key="map_keep_name").input(name)
    next(b for b in at.button if b.label.startswith("Keep ")).click().run()
    assert_app_ok(at, f"map, kept {name}")


def test_two_kept_selections_are_compared_and_travel_in_the_link(fashion):
    enc, data = fashion
    at = open_link("map", {**FASHION, "structure": "clusters"})
    keep(at, "boot", "boots")
    keep(at, "sneaker", "sneakers")
    table = kept_table(at)
    assert list(table["Name"]) == ["boots", "sneakers"]
    df = pd.DataFrame({"neg_elbo": enc.neg_elbo, "recon": enc.recon, "kl": enc.kl, "sigma": enc.sigma_mean})
    for row, text in zip(table.itertuples(index=False), ["boot", "sneaker"], strict=True):
        part = df.iloc[search(text, enc.labels, data.class_names)]
        assert row[1] == len(part)
        np.testing.assert_allclose([row[3], row[4], row[5], row[6]], part[["neg_elbo", "recon", "kl", "sigma"]].mean(),
                                   rtol=1e-5)
    assert "keep" in url(at)
    assert [s.label for s in at.button if s.key in ("map_dir_interp", "map_dir_sliders")] == [
        "Open on Interpolate", "Open on Sliders"]
    again = reopened(at, "map")
    np.testing.assert_array_equal(kept_table(again).values, table.values)


@pytest.mark.parametrize("keep, notice", [("A:b.!!", "not a selection this app wrote"), ("A:3,99999", "outside 0 to 9999"),
                                          ("A", "NAME:INDICES"), (":1,2", "name")])
def test_a_bad_kept_selection_in_the_link_is_ignored_with_a_notice(keep, notice):
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "keep": keep})
    assert any(notice in n for n in at.link_notices), at.link_notices
    assert_app_ok(at, f"map, keep={keep}")


def test_two_selections_make_a_direction_that_opens_on_interpolate_and_sliders(fashion):
    enc, data = fashion
    boots, sneakers = search("boot", enc.labels, data.class_names), search("sneaker", enc.labels, data.class_names)
    keep_ = f"boots:{index_text.text(boots, len(enc.mu))};sneakers:{index_text.text(sneakers, len(enc.mu))}"
    start, vec = enc.mu[sneakers].mean(0), enc.mu[boots].mean(0) - enc.mu[sneakers].mean(0)  # A = boots, B = sneakers
    at = open_link("map", {**FASHION, "keep": keep_})
    assert at.selectbox(key="map_dir_a").value == "sneakers" and at.selectbox(key="map_dir_b").value == "boots"
    at.selectbox(key="map_dir_a").set_value("boots")
    at.selectbox(key="map_dir_b").set_value("sneakers").run()
    sliders = open_link("map", {**FASHION, "keep": keep_}, state={"map_dir_a": "boots", "map_dir_b": "sneakers"})
    at.button(key="map_dir_interp").click().run()
    assert_app_ok(at, "interpolate from two kept selections")
    link = url(at)
    for end, want in (("a", start), ("b", start + vec)):
        assert link[end].startswith("z:")
        np.testing.assert_allclose([float(v) for v in link[end][2:].split(",")], want, atol=2e-3)
    sliders.button(key="map_dir_sliders").click().run()
    assert_app_ok(sliders, "sliders from two kept selections")
    sent = sliders.session_state["map_direction_request"]
    assert sent["name"] == "boots − sneakers"
    np.testing.assert_allclose(sent["vector"], vec, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(v) for v in url(sliders)["z"].split(",")], start, atol=0.01)  # a slider step
    # the direction is a slider of its own, named by the selections, and travels in the link (dir=v:...)
    assert url(sliders)["dir"].startswith("v:")
    np.testing.assert_allclose([float(v) for v in url(sliders)["dir"][2:].split(",")], vec, atol=2e-3)
    chosen = sliders.slider(key="sl_dir_t")
    assert chosen.label.startswith("★ boots − sneakers · "), chosen.label
    # AppTest reruns the page it was opened on: go on in a session opened from the Sliders page's link
    linked = reopened(sliders, "sliders")
    assert linked.slider(key="sl_dir_t").label.startswith("★ "), "the direction is in the link"
    z0 = np.array([float(v) for v in url(linked)["z"].split(",")])
    linked.slider(key="sl_dir_t").set_value(3.0).run()  # +3: the whole difference, as for a class direction
    z = np.array([float(v) for v in url(linked)["z"].split(",")])
    np.testing.assert_allclose(z, np.clip(z0 + vec, -4, 4), atol=0.02)


def test_without_classes_a_cluster_is_labelled_by_number_and_shows_its_typical_image(fashion, monkeypatch):
    """A set whose images have no classes (a folder without sub-folders): each label names the cluster's
    number and size, and the cluster's most typical image (HDBSCAN's most certain member) sits under it."""
    from pages import _map_structure

    monkeypatch.setattr(_map_structure, "has_labels", lambda ctx: False)
    at = open_link("map", {**FASHION, "structure": "clusters", "labels": "3"})
    assert_app_ok(at, "map, clusters without classes")
    coords = map_coords(at)
    ref = ClusterConfig().hdbscan(len(coords)).fit(coords.astype(np.float64)).labels_
    sizes = sorted(np.bincount(ref[ref != NOISE]).tolist(), reverse=True)
    got = home_labels(at)
    assert got and got[0] == f"<b>cluster 1 · {sizes[0]:,}</b>", (got, sizes[:3])
    assert len(layout(at).get("images", [])) == len(got), "one typical image a label"
