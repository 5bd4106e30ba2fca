"""Cross-filtering by per-image values (vae.explore.crossfilter, issue #34 linked views): the mask against
pandas on the same table, the histograms against a per-bin count by hand, the link text round trip, and
every bad link refused with a message naming the part at fault and the fix."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vae.explore.crossfilter import (
    Among,
    Column,
    FilterError,
    Filters,
    Masks,
    Range,
    Table,
    category_counts,
    dump,
    from_json,
    histogram,
    mask,
    parse,
    rounded,
    to_json,
)

N = 2000
CLASSES = tuple(f"class {c}" for c in range(10))


@pytest.fixture(scope="module")
def table() -> Table:
    rng = np.random.default_rng(0)
    kl = rng.gamma(2.0, 1.0, N).astype(np.float32)
    recon = rng.normal(30, 8, N).astype(np.float32)
    weight = rng.normal(size=N)
    weight[::17] = np.nan  # a loaded column with missing values
    return Table(
        {
            "class": Column(rng.integers(0, 10, N), CLASSES),
            "kl": Column(kl),
            "recon": Column(recon),
            "col:weight": Column(weight),
        }
    )


def _frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame({n: c.values for n, c in table.columns.items()})


def test_the_mask_is_pandas_filter_on_the_same_table(table):
    f = (
        Filters()
        .with_term("kl", Range(0.5, 2.0))
        .with_term("class", Among(frozenset({1, 7})))
        .with_term("col:weight", Range(-1.0, math.inf))
    )
    df = _frame(table)
    ref = df["kl"].between(0.5, 2.0) & df["class"].isin([1, 7]) & (df["col:weight"] >= -1.0)
    got = mask(table, f)
    assert got.dtype == bool and got.sum() > 20
    np.testing.assert_array_equal(got, ref.to_numpy())
    # skipping a column: the others' filter, as that column's chart shows it
    np.testing.assert_array_equal(
        mask(table, f, skip="kl"), (df["class"].isin([1, 7]) & (df["col:weight"] >= -1)).to_numpy()
    )
    assert mask(table, Filters()).all()


def test_nan_never_passes_a_range_and_unknown_columns_are_ignored(table):
    w = table.columns["col:weight"].values
    m = mask(table, Filters().with_term("col:weight", Range()))
    np.testing.assert_array_equal(m, np.isfinite(w))
    assert mask(table, Filters().with_term("gone", Range(0, 1))).all()  # a column since removed
    assert mask(table, Filters().with_term("kl", Among(frozenset({1})))).all()  # a term of the wrong kind


def test_an_empty_category_term_is_no_term():
    assert not Filters().with_term("class", Among(frozenset()))
    f = Filters().with_term("class", Among(frozenset({2})))
    assert f and not f.with_term("class", None)


def test_histograms_count_all_and_kept_on_shared_edges(table):
    values = table.columns["col:weight"].values
    keep = mask(table, Filters().with_term("class", Among(frozenset({3}))))
    b = histogram(values, keep, bins=12)
    finite = values[np.isfinite(values)]
    assert b.edges[0] == finite.min() and b.edges[-1] == finite.max() and len(b.edges) == 13
    for i in range(12):  # brute force: each bin by hand (numpy's last bin is closed)
        lo, hi = b.edges[i], b.edges[i + 1]
        inside = (values >= lo) & ((values < hi) if i < 11 else (values <= hi))
        assert b.all[i] == inside.sum() and b.kept[i] == (inside & keep).sum()
    assert b.all.sum() == len(finite) and b.kept.sum() == (np.isfinite(values) & keep).sum()


def test_a_constant_or_empty_column_still_has_bins():
    b = histogram(np.full(5, 3.0), np.ones(5, bool))
    assert b.all.sum() == 5 and b.edges[0] == 3.0 and b.edges[-1] > 3.0
    b = histogram(np.full(5, np.nan), np.ones(5, bool))
    assert b.all.sum() == 0 and len(b.edges) == 2


def test_category_counts_are_bincounts(table):
    codes = table.columns["class"].values
    keep = table.columns["kl"].values > 2
    all_, kept = category_counts(codes, 10, keep)
    for c in range(10):
        assert all_[c] == (codes == c).sum() and kept[c] == ((codes == c) & keep).sum()


def test_the_link_text_round_trips(table):
    f = (
        Filters()
        .with_term("kl", Range(0.5, 2.0))
        .with_term("class", Among(frozenset({7, 1})))
        .with_term("recon", Range(-math.inf, 40.25))
        .with_term("col:weight", Range(0.1, math.inf))
    )
    text = dump(f)
    assert text == "kl:0.5..2;class:1,7;recon:..40.25;col:weight:0.1.."
    assert parse(text, table) == f
    assert dump(f, names=("kl", "class")) == "kl:0.5..2;class:1,7"  # your own columns stay out of a link
    assert parse("", table) == Filters()
    assert parse(" kl : 1..3 ; ", table) == Filters().with_term("kl", Range(1.0, 3.0))


def test_a_brush_is_rounded_outwards_so_the_link_keeps_it(table):
    r = rounded(0.123456, 19.87654)
    assert r == Range(0.1234, 19.88)
    assert r.lo <= 0.123456 and r.hi >= 19.87654
    assert rounded(-0.0012345, 0.0) == Range(-0.001235, 0.0)
    f = Filters().with_term("kl", r)
    assert parse(dump(f), table) == f


@pytest.mark.parametrize(
    "text, words",
    [
        ("weight:1..2", ["“weight:1..2” names no column", "class, kl, recon"]),
        ("kl", ["“kl” names no column", "COLUMN:FROM..TO"]),
        ("kl:1", ["kl:1 is not a range", "kl:..2"]),
        ("kl:a..2", ["kl: “a” is not a number", "0.5..2"]),
        ("kl:1..inf", ["“inf” is not a number"]),
        ("kl:3..1", ["keeps nothing (3 is above 1)", "smaller end first"]),
        ("class:1,x", ["class: “x” is not a category's number", "0 to 9"]),
        ("class:10", ["“10” is not a category's number"]),
        ("kl:1..2;kl:3..4", ["kl is filtered twice"]),
    ],
)
def test_a_bad_link_names_the_part_and_the_fix(table, text, words):
    with pytest.raises(FilterError) as e:
        parse(text, table, names=("class", "kl", "recon"))
    for w in words:
        assert w in str(e.value), str(e.value)


def test_a_link_may_not_name_your_own_columns_when_told_not_to(table):
    with pytest.raises(FilterError, match="names no column"):
        parse("col:weight:0..1", table, names=("class", "kl"))
    with pytest.raises(FilterError, match="at most 2000"):
        parse("kl:1..2;" * 400, table)


# -- the page's twin (components/map_filter/crossfilter.js) and its terms' form -----------------------------------
NODE = shutil.which("node")
CROSSFILTER_JS = Path(__file__).resolve().parents[2] / "components" / "map_filter" / "crossfilter.js"


def _js(tmp_path: Path, script: str):
    shutil.copy(CROSSFILTER_JS, tmp_path / "crossfilter.js")
    (tmp_path / "run.mjs").write_text(script, encoding="utf-8")
    r = subprocess.run(
        [NODE, str(tmp_path / "run.mjs")], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.skipif(NODE is None, reason="node not installed (only this twin check needs it)")
def test_the_pages_masks_histograms_and_rounding_are_the_librarys(tmp_path):
    rng = np.random.default_rng(7)
    n = 3000
    a = rng.normal(20, 6, n)
    a[:40] = np.nan
    a[40:45] = np.inf
    b = rng.gamma(2.0, 30.0, n).astype(np.float32).astype(np.float64)  # a float32 column, as the model's are
    c = np.full(n, 0.25)  # one value only: the histogram's span is one wide
    cls = rng.integers(0, 7, n).astype(np.float64)
    table = Table({"a": Column(a), "b": Column(b), "c": Column(c), "cls": Column(cls, tuple("ABCDEFG"))})
    edges = {k: histogram(table.columns[k].values, np.ones(n, bool)).edges for k in ("a", "b", "c")}
    b[100:124] = edges["b"][:24]  # values exactly on the bins' edges
    lo_b, hi_b = np.quantile(b, [0.3, 0.8])
    cases = [
        Filters(),
        Filters((("a", rounded(12.3456, 25.0001)),)),
        Filters((("b", rounded(lo_b, hi_b)), ("cls", Among(frozenset({1, 4, 6}))))),
        Filters((("a", Range(hi=18.0)), ("c", Range(0.25, 0.25)), ("cls", Among(frozenset({0}))))),
        Filters((("b", Range(edges["b"][3], edges["b"][9])),)),
    ]
    ends = np.concatenate(
        [rng.normal(0, 1, 200) * 10.0 ** rng.integers(-6, 7, 200), [0.1, 1234.5, -0.0042, 99999.5]]
    )
    (tmp_path / "values.bin").write_bytes(np.stack([a, b, c, cls]).astype("<f8").tobytes())
    got = _js(
        tmp_path,
        f"""
import {{ Masks, histogram, categoryCounts, rounded }} from "./crossfilter.js";
import {{ readFileSync }} from "node:fs";
const raw = readFileSync("values.bin");
const all = new Float64Array(raw.buffer, raw.byteOffset, raw.length / 8);
const n = {n};
const cols = {{ a: all.subarray(0, n), b: all.subarray(n, 2 * n), c: all.subarray(2 * n, 3 * n), cls: all.subarray(3 * n) }};
const edges = {json.dumps({k: v.tolist() for k, v in edges.items()})};
const cases = {json.dumps([to_json(f) for f in cases])};
const out = cases.map((terms) => {{
  const masks = new Masks(cols, terms, n);
  const r = {{ all: Array.from(masks.without(null)) }};
  for (const k of ["a", "b", "c"]) r[k] = histogram(cols[k], masks.without(k), edges[k]);
  r.cls = categoryCounts(cols.cls, 7, masks.without("cls"));
  for (const k of ["a", "b", "c", "cls"]) r[k] = {{ all: Array.from(r[k].all), kept: Array.from(r[k].kept) }};
  return r;
}});
const ends = {json.dumps(ends.tolist())};
console.log(JSON.stringify({{ out, rounded: ends.map((x) => rounded(Math.min(x, -x), Math.max(x, -x))) }}));
""",
    )
    for filters, page in zip(cases, got["out"], strict=True):
        masks = Masks.of(table, filters)
        assert page["all"] == masks.without(None).astype(int).tolist()
        for k in ("a", "b", "c"):
            want = histogram(table.columns[k].values, masks.without(k))
            assert page[k] == {"all": want.all.tolist(), "kept": want.kept.tolist()}, (k, filters)
        all_, kept = category_counts(cls, 7, masks.without("cls"))
        assert page["cls"] == {"all": all_.tolist(), "kept": kept.tolist()}
    for x, page in zip(ends, got["rounded"], strict=True):
        want = rounded(min(x, -x), max(x, -x))
        assert (page["lo"], page["hi"]) == (want.lo, want.hi), x


def test_the_pages_terms_are_read_back_as_they_were_sent():
    table = Table({"kl": Column(np.arange(5.0)), "class": Column(np.arange(5.0), tuple("abcde"))})
    filters = Filters((("kl", Range(hi=2.5)), ("class", Among(frozenset({4, 1})))))
    assert to_json(filters) == [["kl", {"lo": None, "hi": 2.5}], ["class", {"codes": [1, 4]}]]
    assert from_json(to_json(filters), table) == filters
    assert from_json([["kl", {"lo": 0.1235, "hi": 0.9876}]], table).get("kl") == Range(
        0.1235, 0.9876
    )  # not re-rounded
    assert from_json([], table) == Filters()
    for bad, words in [
        ("kl", "a list"),
        ([["nope", {"lo": 1}]], "no column 'nope'"),
        ([["kl", {"lo": "x"}]], "'x', not a number"),
        ([["kl", {"lo": 3, "hi": 1}]], "keeps nothing"),
        ([["class", {"codes": [9]}]], "from 0 to 4"),
        ([["kl"]], "a chart's term"),
    ]:
        with pytest.raises(FilterError, match=re.escape(words)):
            from_json(bad, table)
