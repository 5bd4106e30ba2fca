"""A session's first run draws the Map page's points from the checkpoint's shipped map, before torch
(frame/first_map.py, vae/explore/shipped_map.py): the same points as the page's own map, never for a link
it would draw differently, and gone once the page has run."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from app_helpers import ROOT, app_test, need

from frame import first_map, page_links
from vae.explore.shipped_map import shipped_map

SHIPPED = ["fashion-mnist", "fashion-mnist-2d", "digits"]


def _page_points(name: str):
    """The page's map, as pages/map.py builds it: the loaders' projection and the encoding's classes."""
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import default_projection, explore_set, projection

    ck = load_checkpoint(ROOT / "checkpoints" / name)
    data = ck.load_data("test", download=False)
    enc = explore_set(ck, data, cache_dir=ROOT / "cache")
    coords, _ = projection(ck, "test", enc, default_projection(ck, len(enc)), cache_dir=ROOT / "cache")
    return ck, coords, enc.labels


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_map_is_the_pages_map(name):
    """Positions, classes, class names and map settings equal what the page reads through the model's loaders."""
    need(name)
    ck, coords, labels = _page_points(name)
    m = shipped_map(ROOT / "checkpoints" / name)
    assert m is not None
    np.testing.assert_array_equal(m.coords, coords)
    np.testing.assert_array_equal(m.labels, labels)
    assert m.class_names == ck.class_names and m.latent_dim == ck.config.latent_dim
    from vae.explore.sets import default_projection

    assert m.config == default_projection(ck, len(coords))


def test_the_preview_draws_the_pages_figure():
    """The preview's traces are the page's (latent_map of the same points, pan as the drag, same height)."""
    need("fashion-mnist")
    from vae.explore.figures import latent_map

    ck, coords, labels = _page_points("fashion-mnist")
    got = first_map.preview_figure(shipped_map(ROOT / "checkpoints" / "fashion-mnist"), present=False)
    want = latent_map(coords, labels, ck.class_names, height=first_map.MAP_HEIGHT, marker_size=4, font=12)
    assert len(got.data) == len(want.data) == len(ck.class_names)
    for g, w in zip(got.data, want.data, strict=True):
        assert g.name == w.name
        np.testing.assert_array_equal(np.asarray(g.x), np.asarray(w.x))
        np.testing.assert_array_equal(np.asarray(g.customdata), np.asarray(w.customdata))
    assert got.layout.height == 600 and got.layout.dragmode == "pan"
    assert first_map.preview_figure(shipped_map(ROOT / "checkpoints" / "fashion-mnist"), present=True).layout.height == 450


def test_its_sizes_are_the_pages():
    from pages import _loaders as loaders
    from pages import map as map_page

    assert (first_map.MAP_HEIGHT, first_map.PRESENTER_MAP_HEIGHT) == (map_page.MAP_HEIGHT, map_page.PRESENTER_MAP_HEIGHT)
    assert page_links.DEFAULT_CHECKPOINT == loaders.DEFAULT_CHECKPOINT


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(ROOT / "checkpoints" / name, dest)
    return dest


def test_no_shipped_map_when_the_folder_ships_none_or_other_weights(tmp_path):
    need("digits")
    folder = _copy("digits", tmp_path)
    assert shipped_map(folder) is not None
    assert shipped_map(folder, split="train") is None
    original = (folder / "config.json").read_bytes()
    (folder / "config.json").write_text(json.dumps({**json.loads(original), "beta": 2.0}))  # another model: not its map
    assert shipped_map(folder) is None
    (folder / "config.json").write_bytes(original)
    assert shipped_map(folder) is not None
    for f in (folder / "projections").glob("enc-*"):
        f.write_bytes(b"not an npz")  # a damaged file: no preview (the page says what is wrong, if anything)
    assert shipped_map(folder) is None
    shutil.rmtree(folder / "projections")
    assert shipped_map(folder) is None
    assert shipped_map(tmp_path / "missing") is None


@pytest.mark.parametrize(("url", "base", "want"), [
    ("http://host:8501/", "", ""), ("http://host:8501/map?ckpt=x", "", "map"), ("http://h/sliders", "", "sliders"),
    ("http://h/vae/", "/vae", ""), ("http://h/vae/map", "vae", "map"), ("http://h/other/map", "vae", None),
    (None, "", None), ("", "", None),
])
def test_page_path(url, base, want):
    assert page_links.page_path(url, base) == want


def test_which_links_are_previewed(tmp_path):
    (tmp_path / "fashion-mnist").mkdir()
    (tmp_path / "mine").mkdir()
    assert first_map.previewed("", {}, tmp_path) == tmp_path / "fashion-mnist"
    assert first_map.previewed("map", {"ckpt": "mine", "lang": "zh", "present": "1"}, tmp_path) == tmp_path / "mine"
    assert first_map.previewed("map", {"split": "test"}, tmp_path) == tmp_path / "fashion-mnist"
    assert first_map.previewed("sliders", {}, tmp_path) is None  # another page
    assert first_map.previewed("map", {"split": "train"}, tmp_path) is None  # another explore set
    assert first_map.previewed("map", {"color": "kl"}, tmp_path) is None  # drawn otherwise by the page
    assert first_map.previewed("map", {"ckpt": "../mine"}, tmp_path) is None  # never a path
    assert first_map.previewed("map", {"ckpt": "nope"}, tmp_path) is None
    assert first_map.previewed(None, {}, tmp_path) is None


def test_reading_it_imports_no_torch():
    """What the first run imports before the frame: no torch, no numba, no scikit-learn."""
    code = ("import sys, frame.first_map, vae.explore.shipped_map as s; m = s.shipped_map('checkpoints/fashion-mnist'); "
            "print(m is not None, [k for k in ('torch', 'numba', 'sklearn', 'umap') if k in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "True []", proc.stdout


def test_the_first_run_shows_the_preview_and_the_page_replaces_it(monkeypatch):
    """A session's first run of the Map page (its URL path known, as in a browser): the preview's title and
    chart come first; once the page has run, the slot is empty and the page's own map is there."""
    need("fashion-mnist")
    seen, drawn = [], []
    real_shipped, real_chart = first_map.shipped_map, first_map.preview_figure

    def shipped(folder, split="test"):
        seen.append(Path(folder).name)
        return real_shipped(folder, split)

    def chart(m, present):
        fig = real_chart(m, present)
        drawn.append(sum(len(t.x) for t in fig.data))
        return fig

    monkeypatch.setattr(first_map, "page_path", lambda url, base="": "")
    monkeypatch.setattr(first_map, "shipped_map", shipped)
    monkeypatch.setattr(first_map, "preview_figure", chart)
    at = app_test()
    at.run()
    assert not at.exception
    assert seen == ["fashion-mnist"] and drawn == [10_000]  # the preview was drawn, every point
    # after the run: one title, the page's (the preview's would be a second one above it)
    assert [t.value for t in at.title].count("Map of the latent space") == 1
    at.run()  # later runs draw no preview
    assert seen == ["fashion-mnist"] and drawn == [10_000]


class _Slot:
    """frame/main.py's first slot, as draw() uses it."""

    def container(self, **kwargs):
        return contextlib.nullcontext()


class _Empty:
    """An ``st.empty()`` that notes each Plotly chart drawn in it in ``drawn``."""

    def __init__(self, drawn: list) -> None:
        self.drawn = drawn

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def plotly_chart(self, fig):
        self.drawn.append("chart")


@pytest.mark.parametrize(("path", "charts"), [("sliders", 0), ("interpolate", 1)])
def test_the_empty_chart_only_where_a_page_draws_plotly(monkeypatch, path, charts):
    """A session's first run elsewhere than the Map draws the empty Plotly chart (the browser compiles
    plotly.js meanwhile), but not on Sliders, which draws no Plotly chart: there it would only compete with
    the page's first frame."""
    drawn = []
    monkeypatch.setattr(first_map, "page_path", lambda url, base="": path)
    monkeypatch.setattr(first_map, "warm_up_figure", lambda: drawn.append(path) or first_map.go.Figure())

    monkeypatch.setattr(first_map.st, "empty", lambda: _Empty(drawn))
    monkeypatch.setattr(first_map, "_warm", lambda folder: True)
    first_map.draw(_Slot())
    assert drawn.count("chart") == charts


def test_a_url_that_cannot_be_read_yet_still_gets_the_empty_chart(monkeypatch):
    """A session opened as the server starts may find no URL to read: the first slot draws the empty chart
    (a test saw 'path' unbound there: an UnboundLocalError on the page)."""
    drawn = []

    def unreadable(url, base=""):
        raise RuntimeError("no URL yet")

    monkeypatch.setattr(first_map, "page_path", unreadable)

    monkeypatch.setattr(first_map.st, "empty", lambda: _Empty(drawn))
    first_map.draw(_Slot())
    assert drawn == ["chart"]
