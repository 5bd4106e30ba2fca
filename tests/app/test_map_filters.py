"""The Map page's linked views (issue #34): a filter from the link fades the map's other points (the map's
highlighted points are vae.explore.crossfilter's mask computed here, against pandas), the count says how
many pass, the link keeps the filter, a bad filter is ignored with a notice naming the fix, and the clear
button removes it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from app_helpers import fashion_test_set, open_link, reopened, url
from pagecheck import assert_app_ok
from test_map_attributes import MINE, ROWS, upload
from test_map_tools import matches_drawn, traces

from vae.explore.crossfilter import Among, Filters, Range, histogram
from vae.explore.neighbours import search

FASHION = {"ckpt": "fashion-mnist", "method": "pca"}


@pytest.fixture(scope="module")
def fashion():
    return fashion_test_set()


def _frame(enc) -> pd.DataFrame:
    return pd.DataFrame(
        {"class": enc.labels, "recon": enc.recon, "elbo": enc.neg_elbo, "kl": enc.kl, "sigma": enc.sigma_mean}
    )


def _count_line(at) -> str:
    lines = [m.value for m in at.markdown if "images pass**" in m.value]
    assert len(lines) == 1, [m.value for m in at.markdown][:20]
    return lines[0]


def test_a_filter_in_the_link_fades_the_rest_of_the_map(fashion):
    enc, _ = fashion
    df = _frame(enc)
    lo, hi = np.quantile(enc.kl, [0.25, 0.75])
    lo, hi = float(f"{lo:.3g}"), float(f"{hi:.3g}")
    at = open_link("map", {**FASHION, "filter": f"kl:{lo}..{hi};class:1,7"})
    want = int((df["kl"].between(lo, hi) & df["class"].isin([1, 7])).sum())
    assert 100 < want < 2000, want
    assert matches_drawn(at) == want
    assert _count_line(at).startswith(f"**{want:,} of {len(enc.kl):,} images pass**"), _count_line(at)
    assert url(at)["filter"] == f"kl:{lo:g}..{hi:g};class:1,7"
    again = reopened(at, "map")
    assert matches_drawn(again) == want


def test_a_filter_and_a_search_both_hold(fashion):
    enc, data = fashion
    at = open_link("map", {**FASHION, "filter": "elbo:..250", "find": "boot"})
    boots = search("boot", enc.labels, data.class_names)
    want = np.intersect1d(boots, np.flatnonzero(enc.neg_elbo <= 250))
    assert 0 < len(want) < len(boots)
    assert matches_drawn(at) == len(want)


def test_clear_filters_removes_them(fashion):
    at = open_link("map", {**FASHION, "filter": "sigma:0.1..0.5"})
    assert matches_drawn(at) is not None
    at.button(key="map_filter_clear").click().run()
    assert_app_ok(at, "map, filters cleared")
    assert matches_drawn(at) is None
    assert "filter" not in url(at)


@pytest.mark.parametrize(
    "value, words",
    [
        ("kl:2..1", "keeps nothing (2 is above 1)"),
        ("weight:0..1", "names no column"),
        ("class:99", "“99” is not a category's number"),
    ],
)
def test_a_bad_filter_is_ignored_with_a_notice(fashion, value, words):
    at = open_link("map", {**FASHION, "filter": value})
    assert len(at.link_notices) == 1 and words in at.link_notices[0], at.link_notices
    assert "filter=" in at.link_notices[0]
    assert matches_drawn(at) is None


def _mounts(at, mode: str) -> dict:
    found = [
        json.loads(e.proto.json or e.proto.mixed.json)
        for e in at.get("bidi_component")
        if e.proto.component_name == "vae_map_filter"
    ]
    (data,) = [d for d in found if d["mode"] == mode]
    return data


def charts(at) -> dict:
    """What the page's linked charts were given (components/map_filter)."""
    return _mounts(at, "charts")


def test_the_charts_get_each_columns_edges_the_terms_and_where_the_map_is(fashion):
    enc, test_data = fashion
    at = open_link("map", {**FASHION, "filter": "kl:..30;class:1,7", "find": "boot"})
    data = charts(at)
    assert [c["name"] for c in data["columns"]] == ["class", "recon", "elbo", "kl", "sigma"]
    kl = next(c for c in data["columns"] if c["name"] == "kl")
    assert (
        kl["kind"] == "num"
        and kl["edges"] == histogram(enc.kl.astype(np.float64), np.ones(len(enc.kl), bool)).edges.tolist()
    )
    assert data["columns"][0]["categories"][:2] == ["T-shirt/top", "Trouser"]
    assert data["filters"] == [["kl", {"lo": None, "hi": 30.0}], ["class", {"codes": [1, 7]}]]
    assert data["n"] == len(enc.kl) and data["values"].startswith("/app/static/models/")
    # beside the map: what fades it in the page (the same terms, the search's matches, what answers the box)
    near = _mounts(at, "map")
    assert near["key"] == data["key"] and near["filters"] == data["filters"]
    assert near["map"]["kind"] == "plotly" and near["map"]["chart"]
    assert (
        near["search"] == search("boot", enc.labels, test_data.class_names).tolist()
        and near["searchText"] == "boot"
    )
    assert "ankle boot\nankle boot / 短靴" in near["searchClasses"], near["searchClasses"]


def test_your_own_columns_get_charts_and_filter_the_map():
    at = upload(open_link("map", FASHION), "mine.csv", MINE)
    names = [c["name"] for c in charts(at)["columns"]]
    assert names == ["class", "recon", "elbo", "kl", "sigma", "col:weight", "col:tag"], names
    at.session_state["map_filter"] = {
        "set": at.session_state["map_columns"]["set"],
        "filters": Filters().with_term("col:weight", Range(10.0, 50.0)),
    }
    at.run()
    assert_app_ok(at, "map, filtered by a column of your own")
    weight = np.arange(ROWS) * 0.5
    assert matches_drawn(at) == int(((weight >= 10) & (weight <= 50)).sum())
    tag_codes = {
        "": 0,
        "sharp": 1,
        "blurry": 2,
    }  # the most frequent first (pages/_map_columns.categories): no value
    at.session_state["map_filter"] = {
        "set": at.session_state["map_columns"]["set"],
        "filters": Filters().with_term("col:tag", Among(frozenset({tag_codes["blurry"]}))),
    }
    at.run()
    assert matches_drawn(at) == len(range(0, ROWS, 3))
    assert "filter" not in url(at)  # your own columns stay out of the link


def test_a_kept_selection_can_be_the_charts_coloured_part(fashion):
    enc, _ = fashion
    at = open_link("map", {**FASHION, "keep": "dark:0,1,2,3,4,5,6,7,8,9", "filter": "kl:..30"})
    at.selectbox(key="map_filter_within").set_value("dark").run()
    assert_app_ok(at, "map, a kept selection coloured in the charts")
    caption = [c.value for c in at.caption if "Colour: those of" in c.value]
    assert caption and "the kept selection “dark” (10 images)" in caption[0], caption
    # the charts colour the kept images (that pass the other charts' terms: counted in the page, crossfilter.js)
    assert charts(at)["within"] == list(range(10))


def test_in_chinese_the_panel_draws_and_a_bad_filter_is_explained(fashion):
    at = open_link("map", {**FASHION, "lang": "zh", "filter": "kl:1..x"})
    warned = [w.value for w in at.warning if "filter='kl:1..x'" in w.value]
    assert len(warned) == 1 and "“x”" in warned[0], [w.value for w in at.warning]
    assert_app_ok(at, "map in Chinese, a bad filter")
    at = open_link("map", {**FASHION, "lang": "zh", "filter": "class:0"})
    assert_app_ok(at, "map in Chinese, a class filter")
    found = [t for t in traces(at) if t.get("name") == "查找结果"]  # the matches' trace, named in Chinese
    assert len(found) == 1 and len(found[0]["x"]) == 1000
