"""The Map page's linked views (issue #34): a filter from the link fades the map's other points (the map's
highlighted points are vae.explore.crossfilter's mask computed here, against pandas), the count says how
many pass, the link keeps the filter, a bad filter is ignored with a notice naming the fix, and the clear
button removes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from app_helpers import fashion_test_set, open_link, reopened, url
from pagecheck import assert_app_ok
from test_map_attributes import MINE, ROWS, upload
from test_map_tools import matches_drawn, traces

from pages._map_filters import term_of
from vae.explore.crossfilter import Among, Filters, Range
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


def test_a_charts_selection_event_is_its_columns_term():
    assert term_of({"brush": {"lo": [19.87654, 0.123456]}}) == Range(0.1234, 19.88)  # either drag direction
    assert term_of({"pick": [{"code": 7}, {"code": 1}]}) == Among(frozenset({1, 7}))
    assert term_of({}) is None and term_of({"brush": {}}) is None and term_of({"pick": []}) is None


def test_your_own_columns_get_charts_and_filter_the_map():
    at = upload(open_link("map", FASHION), "mine.csv", MINE)
    charts = [c.key for c in at.get("vega_lite_chart")]
    assert charts == [
        f"map_filter_{n}_0" for n in ("class", "recon", "elbo", "kl", "sigma", "col:weight", "col:tag")
    ], charts
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
    # the class chart's coloured bars: the kept images that pass the other filter (KL <= 30), by class
    chart = next(c for c in at.get("vega_lite_chart") if c.key.startswith("map_filter_class_"))
    rows = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()  # the chart's data, as sent
    want = np.bincount(enc.labels[:10][enc.kl[:10] <= 30], minlength=10)
    assert (
        rows["kept"].tolist() == want.tolist() and rows["all"].tolist() == np.bincount(enc.labels).tolist()
    ), rows


def test_in_chinese_the_panel_draws_and_a_bad_filter_is_explained(fashion):
    at = open_link("map", {**FASHION, "lang": "zh", "filter": "kl:1..x"})
    warned = [w.value for w in at.warning if "filter='kl:1..x'" in w.value]
    assert len(warned) == 1 and "“x”" in warned[0], [w.value for w in at.warning]
    assert_app_ok(at, "map in Chinese, a bad filter")
    at = open_link("map", {**FASHION, "lang": "zh", "filter": "class:0"})
    assert_app_ok(at, "map in Chinese, a class filter")
    found = [t for t in traces(at) if t.get("name") == "查找结果"]  # the matches' trace, named in Chinese
    assert len(found) == 1 and len(found[0]["x"]) == 1000
