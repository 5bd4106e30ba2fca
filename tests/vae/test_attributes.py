"""Your own columns (vae.explore.attributes): a CSV of per-image attributes read strictly, written back by the
export, and every hostile file refused with a message that names the row and column (issue #34)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from vae.errors import AttributesError
from vae.explore.attributes import MAX_BYTES, read_attributes
from vae.export.tables import attribute_table

N = 6
GOOD = (b"index,weight,colour,size:text,note\n"
        b"0,0.123456789012,red,1,\n"
        b"2,,blue,2,\"a, quoted\"\"one\"\"\"\n"
        b"#3,-7e-3,green,XL,second\n"
        b"5,inf,red,4,\n")


def _table(attrs, n=N, d=2, indices=None):
    rng = np.random.default_rng(0)
    mu, labels = rng.normal(size=(n, d)).astype(np.float32), np.arange(n) % 3
    if indices is not None:  # the selection's rows, as the Map's download passes them
        mu, labels = mu[indices], labels[indices]
    return attribute_table(mu, labels, ["a", "b", "c"], attrs, indices)


def _same(a, b):
    assert a.names == b.names and a.headers == b.headers
    for name in a.names:
        x, y = a.columns[name], b.columns[name]
        assert x.dtype == y.dtype, name
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y)  # NaN where NaN; floats written exactly
        else:
            assert x.tolist() == y.tolist(), name


def test_a_file_reads_numeric_and_text_columns_and_reports_the_images_without_a_row():
    a = read_attributes(GOOD, N, name="good.csv")
    assert a.key == "index" and a.names == ["weight", "colour", "size", "note"]
    assert a.numeric == ["weight"] and a.text == ["colour", "size", "note"]
    np.testing.assert_array_equal(a.columns["weight"], [0.123456789012, np.nan, np.nan, -7e-3, np.nan, np.inf])
    assert a.columns["colour"].tolist() == ["red", "", "blue", "green", "", "red"]
    assert a.columns["note"][2] == 'a, quoted"one"'
    assert a.missing.tolist() == [1, 4] and a.rows == 4
    assert "4 of 6 images" in a.summary() and "2 images have no row (#1, #4)" in a.summary()


def test_a_loaded_csv_round_trips_through_export(tmp_path):
    a = read_attributes(GOOD, N, name="good.csv")
    table = _table(a)
    assert table.splitlines()[0] == "index,label,class,z0,z1,weight,colour,size:text,note"
    b = read_attributes(table.encode(), N, name="latents.csv")
    _same(a, b)
    assert b.skipped == ("label", "class", "z0", "z1") and b.missing.tolist() == []
    assert b.left_out() == "Left out: label, class, z0, z1 (the export writes these columns itself; rename a " \
                           "column of yours to keep it)." and a.left_out() is None
    # and through the file the CLI's export writes (a path), and again: nothing drifts
    path = tmp_path / "latents.csv"
    path.write_text(table, encoding="utf-8")
    _same(a, read_attributes(path, N))
    _same(a, read_attributes(_table(read_attributes(path, N)).encode(), N))


def test_a_selection_exports_its_rows_only_and_reads_back_for_those_images():
    a = read_attributes(GOOD, N)
    sel = np.array([5, 0, 3])
    b = read_attributes(_table(a, indices=sel).encode(), N)
    assert [int(line.split(",")[0]) for line in _table(a, indices=sel).splitlines()[1:]] == [5, 0, 3]
    for name in a.names:
        np.testing.assert_array_equal(b.columns[name][sel], a.columns[name][sel])
    assert sorted(b.missing.tolist()) == [1, 2, 4]


@pytest.mark.parametrize("text, row, col, words", [
    (b"", None, None, "is empty"),
    (b"\n\n", None, None, "is empty"),
    (b"index,w\n", None, None, "no rows"),
    (b"name,w\n0,1\n", "row 1", None, "no key column"),
    (b"index;w\n0;1\n", "row 1", None, "separated by “;”"),
    (b"index,w,w\n0,1,2\n", "row 1", "“w”", "named twice (columns 2 and 3)"),
    (b"index,w:text,w\n0,1,2\n", "row 1", "“w”", "named twice"),
    (b"index,,w\n0,1,2\n", "row 1", "column 2", "no name"),
    (b"index,w\n0,1\n1,2,3\n", "row 3", None, "3 fields where the header has 2 columns"),
    (b"index,w\n0,1\n1\n", "row 3", None, "1 fields where the header has 2 columns"),
    (b"index,w\n0,1\n6,2\n", "row 3", "“index”", "“6” is not an image of this set: the images are numbered 0 to 5"),
    (b"index,w\n0,1\n-1,2\n", "row 3", "“index”", "not an image of this set"),
    (b"index,w\n0,1\n1.5,2\n", "row 3", "“index”", "not an image of this set"),
    (b"index,w\n0,1\n,2\n", "row 3", "“index”", "the key is empty"),
    (b"index,w\n0,1\n1,2\n0,3\n", "row 4", "“index”", "also the key of row 2"),
    (b"index,w\n0,1\n1,2\n2,three\n3,4\n", "row 4", "“w”", "“three” is not a number"),
    (b"index,w:number\n0,one\n1,two\n", "row 2", "“w”", "“one” is not a number"),
    (b"index,w\n0,\"1\n", "row 2", None, "check the quotes"),
    (b"index,w\n0,\xff\n", "row 2", None, "not UTF-8"),
    (b"file,w\n0,1\n", "row 1", "“file”", "has no file names"),
])
def test_a_hostile_file_is_refused_with_its_row_and_column(text, row, col, words):
    with pytest.raises(AttributesError) as e:
        read_attributes(text, N, name="mine.csv")
    msg = str(e.value)
    assert msg.startswith("mine.csv") and words in msg, msg
    if row:
        assert row in msg, msg
    if col:
        assert col in msg, msg
    assert "\n" not in msg  # one line, for the CLI


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(AttributesError, match=r"big.csv is 21.0 MB: files of at most 20 MB"):
        read_attributes(path, N)
    with pytest.raises(AttributesError, match="cannot be read"):
        read_attributes(tmp_path / "none.csv", N)


def test_numeric_and_text_columns_are_told_apart_as_pandas_tells_them():
    text = ("index,int,float,sci,na,signed,empty,words,mixed_code,ids,dates,dash,file\r\n"
            "0,1,1.5,1e3,NA,+3,,red,A1,007,2024-01-02,-,a.png\r\n"
            "1,2,,2.5E-2,4,-2,,blue,B2,010,2024-01-03,1,b.png\r\n"
            "2,3,-0.25,inf,nan,.5,,red green,C3,011,2024-02-01,-,c.png\r\n"
            "3,4,2,-inf,<NA>,5.,,x,D4,12,2024-03-01,2,d.png\r\n")
    a = read_attributes(text.encode(), 4)
    ref = pd.read_csv(io.StringIO(text))
    for name in a.names:
        assert a.is_numeric(name) == pd.api.types.is_numeric_dtype(ref[name]), name
        if a.is_numeric(name):
            np.testing.assert_array_equal(a.columns[name], ref[name].to_numpy(dtype=float))
    assert a.text == ["words", "mixed_code", "dates", "dash", "file"]  # "-" is a value, as pandas reads it


def test_rows_are_keyed_by_file_name_on_a_folder_data_set(tmp_path, image_folder):
    from vae.data.datasets import load_dataset

    image_folder(tmp_path / "shapes", per_class=6)
    data = load_dataset(f"folder:{tmp_path / 'shapes'}", "train")
    assert data.files, "a folder data set lists its files"
    n, f = len(data), data.files
    text = f"file,weight,tag\n{f[0]},1,first\n{f[-1]},2,last\n"
    a = read_attributes(text.encode(), n, data.files)
    assert a.key == "file" and a.columns["tag"][0] == "first" and a.columns["tag"][n - 1] == "last"
    assert a.columns["weight"][[0, n - 1]].tolist() == [1.0, 2.0] and len(a.missing) == n - 2
    # a bare name that two classes share names no one image; a name not in the set neither
    shared = f[0].split("/")[-1]
    for bad in (shared, "nowhere/none.png"):
        with pytest.raises(AttributesError, match=r"row 2, column “file”: .* is not a file of this set") as e:
            read_attributes(f"file,w\n{bad},1\n".encode(), n, data.files)
        assert f[0] in str(e.value)  # an example of the names the set uses
    # an exported table (keyed by index, with the file column) reads back too
    b = read_attributes(_table(a, n=n).encode(), n, data.files)
    _same(a, b)


# -- the CLI: `export --attributes` joins them, `map --attributes` checks them before encoding ------------------
def test_the_cli_export_joins_the_columns_and_they_read_back(tmp_path, capsys, digits_checkpoint):
    from conftest import cli

    from vae.checkpoint import load_checkpoint

    n = len(load_checkpoint(digits_checkpoint).load_data("test"))
    mine = tmp_path / "mine.csv"
    mine.write_bytes(GOOD)
    r = cli(capsys, "export", digits_checkpoint, "--format", "csv", "--out", tmp_path / "out", "--attributes", mine)
    assert r.returncode == 0, r.stderr
    assert f"mine.csv: 4 columns (1 numeric, 3 text) for 4 of {n:,} images" in r.stderr
    _same(read_attributes(GOOD, n), read_attributes(tmp_path / "out" / "latents.csv", n))
    r = cli(capsys, "export", digits_checkpoint, "--format", "projector", "--out", tmp_path / "p", "--attributes", mine)
    assert r.returncode == 2 and "use --format csv" in r.stderr and not (tmp_path / "p").exists()


def test_the_cli_map_checks_the_file_first_one_line_exit_2(tmp_path, capsys, digits_checkpoint):
    from conftest import cli

    bad = tmp_path / "bad.csv"
    bad.write_text("index,w\n0,1\n1,2\n2,three\n3,4\n", encoding="utf-8")
    cache = tmp_path / "cache"
    r = cli(capsys, "map", digits_checkpoint, "--method", "pca", "--cache-dir", cache, "--attributes", bad)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert "bad.csv, row 4, column “w”: “three” is not a number" in r.stderr
    assert not cache.exists() or not any(cache.rglob("*.npz")), "nothing is encoded for a bad file"
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    r = cli(capsys, "map", digits_checkpoint, "--method", "pca", "--cache-dir", cache, "--attributes", good)
    assert r.returncode == 0, r.stderr
    assert "good.csv: 4 columns (1 numeric, 3 text)" in r.stderr and "pca map" in r.stdout


def test_search_finds_the_values_of_text_columns_as_pandas_filters_them():
    from vae.explore.neighbours import search

    a = read_attributes(GOOD, N)
    labels = np.zeros(N, dtype=np.int64)
    ref = pd.DataFrame({n: a.columns[n] for n in a.text})
    for text in ("RED", "quoted", "x", "e"):
        want = np.flatnonzero(np.any([ref[c].str.contains(text, case=False, regex=False) for c in ref], axis=0))
        assert search(text, labels, ["zz"], texts=[a.columns[c] for c in a.text]).tolist() == want.tolist(), text
    assert search("red", labels, ["zz"]).tolist() == []  # no columns, no match


def test_the_readmes_example_reads_as_it_says():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = text[text.index("*Your own columns (CSV)*"):]
    example = after[after.index("```") + 3:].split("```")[0]
    a = read_attributes("\n".join(line.strip() for line in example.strip().splitlines()).encode(), 2)
    assert a.numeric == ["weight"] and a.text == ["tag", "size"] and np.isnan(a.columns["weight"][1])
