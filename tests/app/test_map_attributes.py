"""The Map page's own columns (issue #34), with AppTest: a CSV uploaded through the page's uploader colours
the map (numbers on a scale, text by category), is searched, stays when a bad file follows it, and
belongs to its session; the values drawn are the library's reading of the same file."""

from __future__ import annotations

import numpy as np
import pytest
from app_helpers import ROOT, need, open_link, url
from pagecheck import assert_app_ok
from test_map_tools import FASHION, matches_drawn, traces

from vae.explore.attributes import read_attributes

ROWS = 300  # rows of the file: the other images of the 10,000 have no value
MINE = ("index,weight,tag\n" + "".join(f"{i},{i * 0.5},{'sharp' if i % 3 else 'blurry'}\n" for i in range(ROWS))
        ).encode()
HOSTILE = b"index,weight\n0,1\n1,2\n0,3\n"  # row 4 repeats image 0


def bdata(v) -> np.ndarray:
    """An array as plotly sends it (base64 "bdata", or a list)."""
    import base64

    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray([np.nan if x is None else x for x in v])


def upload(at, name: str, data: bytes):
    at.file_uploader(key="map_columns_file").set_value((name, data, "text/csv")).run()
    assert_app_ok(at, f"map, {name} uploaded")
    return at


@pytest.fixture()
def loaded():
    need("fashion-mnist")
    at = open_link("map", FASHION)
    return upload(at, "mine.csv", MINE)


def test_the_columns_become_colourings_and_colour_the_map_as_the_library_reads_them(loaded):
    at = loaded
    opts = at.selectbox(key="map_color").options
    assert "weight (your column, numbers)" in opts and "tag (your column, text)" in opts, opts
    assert any(c.value.startswith(f"mine.csv: 2 columns (1 numeric, 1 text) for {ROWS} of 10,000 images")
               for c in at.caption), [c.value for c in at.caption]
    want = read_attributes(MINE, 10_000, name="mine.csv")

    at.selectbox(key="map_color").set_value("col:weight").run()
    assert_app_ok(at, "map, coloured by weight")
    data = [t for t in traces(at) if t["customdata"] is not None and len(t["customdata"]) == 10_000]
    assert len(data) == 1, [t.get("name") for t in traces(at)]
    colour = bdata(data[0]["marker"]["color"]).astype(float)
    order = data[0]["customdata"][:, 1].astype(int)
    np.testing.assert_array_equal(colour, want.columns["weight"][order])  # NaN where an image has no row
    assert data[0]["marker"]["colorbar"]["title"]["text"] == "weight"
    assert "color" not in url(at)  # your columns stay out of the link

    at.selectbox(key="map_color").set_value("col:tag").run()
    assert_app_ok(at, "map, coloured by tag")
    by_name = {t["name"]: len(t["x"]) for t in traces(at)
               if t["customdata"] is not None and len(t["customdata"]) and t["customdata"][0][0] == 0}
    tags = want.columns["tag"]
    assert by_name == {"(no value)": int((tags == "").sum()), "sharp": int((tags == "sharp").sum()),
                       "blurry": int((tags == "blurry").sum())}, by_name


def test_the_search_box_finds_a_text_columns_values(loaded):
    at = loaded
    at.text_input(key="map_search").input("BLURRY").run()
    assert_app_ok(at, "map, search blurry")
    assert matches_drawn(at) == len(range(0, ROWS, 3))


def test_a_hostile_file_shows_its_row_and_keeps_the_columns_loaded_before(loaded):
    at = loaded
    at.selectbox(key="map_color").set_value("col:weight").run()
    upload(at, "bad.csv", HOSTILE)
    assert len(at.error) == 1, [e.value for e in at.error]
    msg = at.error[0].value
    assert msg.startswith("Cannot use this file: bad.csv, row 4, column “index”: “0” is also the key of row 2"), msg
    assert "The columns loaded before stay." in msg
    assert at.selectbox(key="map_color").value == "col:weight"
    assert any(c.value.startswith("mine.csv: 2 columns") for c in at.caption)
    # a good file after it replaces the columns and the message goes
    upload(at, "two.csv", b"index,size\n1,3\n")
    assert not at.error and at.selectbox(key="map_color").value == "class"  # weight is gone with its file
    assert "size (your column, numbers)" in at.selectbox(key="map_color").options


def test_the_columns_belong_to_the_session(loaded):
    need("fashion-mnist")
    other = open_link("map", FASHION)
    assert not [o for o in other.selectbox(key="map_color").options if "your column" in o]
    loaded.button(key="map_columns_remove").click().run()
    assert_app_ok(loaded, "map, columns removed")
    assert not [o for o in loaded.selectbox(key="map_color").options if "your column" in o]


def test_in_chinese_the_uploader_and_its_messages_are_translated():
    need("fashion-mnist")
    at = open_link("map", {**FASHION, "lang": "zh"})
    upload(at, "mine.csv", MINE)
    assert any("mine.csv" in c.value and "张" in c.value for c in at.caption), [c.value for c in at.caption]
    assert "weight（你的列，数值）" in at.selectbox(key="map_color").options
    upload(at, "bad.csv", HOSTILE)
    assert at.error and at.error[0].value.startswith("无法使用此文件：bad.csv，第 4 行"), at.error[0].value


def test_the_canvas_map_colours_by_your_columns_too(monkeypatch):
    """A large explore set's map (drawn in the browser): the colours and the legend it is sent."""
    from components import big_map

    need("fashion-mnist")
    sent = []
    monkeypatch.setattr(big_map, "canvas_above", lambda: 1000)  # the 10,000 test images are "large"
    real = big_map.explore
    monkeypatch.setattr(big_map, "explore", lambda *a, **k: sent.append(a) or real(*a, **k))
    at = upload(open_link("map", FASHION), "mine.csv", MINE)
    want = read_attributes(MINE, 10_000)
    at.selectbox(key="map_color").set_value("col:weight").run()
    assert_app_ok(at, "canvas map, coloured by weight")
    tag, colours, legend = sent[-1][3], np.asarray(sent[-1][4]), sent[-1][6]
    assert legend["kind"] == "scale" and legend["title"] == "weight" and legend["high"] == f"{(ROWS - 1) * 0.5:.3g}"
    assert colours[ROWS - 1] == colours.max() and colours[0] == colours[ROWS:].max() == 0  # no value: the lowest
    at.selectbox(key="map_color").set_value("col:tag").run()
    assert_app_ok(at, "canvas map, coloured by tag")
    tag2, colours, legend = sent[-1][3], np.asarray(sent[-1][4]), sent[-1][6]
    assert legend == {"kind": "classes", "names": ["(no value)", "sharp", "blurry"]} and tag2 != tag
    names = np.array(legend["names"], dtype=object)[colours]
    assert (names[:ROWS] == want.columns["tag"][:ROWS]).all() and (names[ROWS:] == "(no value)").all()


def test_the_pages_download_of_every_image_reads_back_as_the_loaded_file(monkeypatch):
    """The round trip through the page: the expander's CSV of every image, read again, is the file loaded."""
    import streamlit as st

    from vae.checkpoint import load_checkpoint

    need("fashion-mnist")
    offered = {}
    real = st.download_button
    monkeypatch.setattr(st, "download_button", lambda label, data, *a, **k: (
        offered.__setitem__(k.get("key"), data), real(label, data, *a, **k))[1])
    upload(open_link("map", FASHION), "mine.csv", MINE)
    table = offered["map_columns_download"]()  # what a click on the button downloads
    got = read_attributes(table.encode(), 10_000, name="back.csv")
    want = read_attributes(MINE, 10_000)
    assert got.names == want.names and got.headers == want.headers and not len(got.missing)
    np.testing.assert_array_equal(got.columns["weight"], want.columns["weight"])
    assert got.columns["tag"].tolist() == want.columns["tag"].tolist()
    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    head = table.splitlines()[:2]
    assert head[0].startswith("index,label,class,z0,") and head[0].endswith(",weight,tag")
    assert head[1].startswith(f"0,{int(ck.load_data('test').labels[0])},")


def test_a_text_columns_values_are_shown_as_text_not_markup():
    need("fashion-mnist")
    at = upload(open_link("map", FASHION), "odd.csv", b"index,tag\n0,<b>bold</b>\n1,%{x}\n")
    at.selectbox(key="map_color").set_value("col:tag").run()
    assert_app_ok(at, "map, coloured by odd values")
    names = {t["name"] for t in traces(at) if t.get("name")}
    assert {"&lt;b&gt;bold&lt;/b&gt;", "% {x}"} <= names, names
