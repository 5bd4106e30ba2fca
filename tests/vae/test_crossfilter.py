"""Cross-filtering by per-image values (vae.explore.crossfilter, issue #34 linked views): the mask against
pandas on the same table, the histograms against a per-bin count by hand, the link text round trip, and
every bad link refused with a message naming the part at fault and the fix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vae.explore.crossfilter import (
    Among,
    Column,
    FilterError,
    Filters,
    Range,
    Table,
    category_counts,
    dump,
    histogram,
    mask,
    parse,
    rounded,
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
