"""benchmarks/map_tools_browser.py (search -> highlight, thumbnails while zoomed) runs, and fails in one line.

No timing is checked: the records' shape, what the page was seen to do (the matches each search marked,
the thumbnails drawn while zoomed), the reasons given where nothing could be measured, and the one-line
failures when what a benchmark waits for never comes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import map_tools_browser as mtb
from benchmarks.settings import Settings, Skip, WaitFailed

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "checkpoints" / "digits"
FASHION = ROOT / "checkpoints" / "fashion-mnist"


def well_formed(r) -> None:
    """The agreed shape of a record (tests/benchmarks/test_benchmarks.py: check_records), on its JSON."""
    j = r.to_json()
    assert isinstance(j["name"], str) and j["name"] and isinstance(j["unit"], str), j
    assert isinstance(j["n"], int) and j["n"] >= 0, j
    for k in ("ours", "peer", "ratio"):
        assert j[k] is None or (isinstance(j[k], float) and math.isfinite(j[k])), (j["name"], k)
    if j["ours"] and j["peer"]:
        assert j["ratio"] == pytest.approx(j["peer"] / j["ours"]), j["name"]  # times: lower is better
    else:
        assert j["ratio"] is None, j["name"]


def test_the_search_terms_are_classes_and_image_numbers_in_turn():
    names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    assert mtb.terms(names, 10_000) == ["boot", "#42", "sandal", "#1234", "bag", "#7", "shirt", "#9000"]
    small = mtb.terms([str(d) for d in range(10)], 360)
    assert small[1::2] == ["#42", "#154", "#7", "#0"]  # numbers within the set (1234 % 360, 9000 % 360)


@pytest.mark.skipif(not (DIGITS / "config.json").exists(), reason="no checkpoints/digits")
def test_without_a_browser_every_record_says_why(monkeypatch):
    def no_browser():
        raise Skip("no Chromium could be launched (test); run `make browser`")

    monkeypatch.setattr(mtb, "chromium", no_browser)
    recs = mtb.run(Settings(quick=True, checkpoint=DIGITS, say=lambda m: None))
    assert [r.name for r in recs] == list(mtb.NAMES)
    for r in recs:
        well_formed(r)
        assert (
            r.ours is None
            and r.n == 0
            and r.note == "skipped: no Chromium could be launched (test); run `make browser`"
        )


class _Page:
    """A page on which what the benchmark waits for never comes: idle, but the map neither marks a search
    nor draws thumbnails (``seen``: what it reads back instead)."""

    def __init__(self, seen):
        self.seen = seen
        self.mouse = self

    def wait_for_function(self, js, **kwargs):
        if "__searchProbe" in js or ".drawn > 0" in js:
            raise TimeoutError("Timeout exceeded.")
        return True  # the app is idle

    def evaluate(self, js, *args):
        return self.seen

    def locator(self, sel):
        return self

    def fill(self, text):
        pass

    def press(self, key):
        pass

    move = wheel = wait_for_timeout = lambda self, *a: None


def test_a_search_the_map_never_marks_fails_in_one_line():
    with pytest.raises(WaitFailed) as e:
        mtb.submit(_Page({"state": "plain", "n": -1}), False, "boot", "found")
    assert (
        str(e.value)
        == "waited 120 s for the Plotly map to show 'boot' searched (found); saw {'state': 'plain', 'n': -1}"
    )


def test_a_zoom_that_never_shows_thumbnails_fails_in_one_line():
    seen = {"mode": "real", "inView": 401, "drawn": 0, "failure": None}
    with pytest.raises(WaitFailed) as e:
        mtb.zoom_to_thumbs(_Page(seen), True, 100.0, 100.0)
    assert str(e.value) == (
        f"turned the wheel {mtb.ZOOM_STEPS} times in over the canvas map and saw no thumbnails; the map's "
        f"thumbnails at the end: {seen}"
    )
    assert "\n" not in str(e.value)


@pytest.mark.slow
@pytest.mark.skipif(not (DIGITS / "config.json").exists(), reason="no checkpoints/digits")
def test_the_benchmark_runs_on_both_maps(monkeypatch):
    """A quick run on digits: its 360 test images on the Plotly map, all 1,797 on the canvas map (drawn by it
    above 1,000 images here, as the 70,000 are by default). Each search marked its matches; thumbnails were
    drawn while zoomed in, and the peer (thumbnails off) was measured in the same run; each brush across a chart
    redrew the map in the page and the server's map then marked the same images."""
    monkeypatch.setenv("VAE_MAP_CANVAS_ABOVE", "1000")  # the server inherits it
    recs = {r.name: r for r in mtb.run(Settings(quick=True, checkpoint=DIGITS, say=lambda m: None))}
    if all(r.note.startswith("skipped: no Chromium") or "playwright" in r.note for r in recs.values()):
        pytest.skip(recs["map_tools_search_10k"].note)
    assert list(recs) == list(mtb.NAMES)
    for name, r in recs.items():
        well_formed(r)
        assert r.n > 0 and r.ours is not None, (name, r.note)
    for name, images in (("map_tools_search_10k", 360), ("map_tools_search_70k", 1797)):
        matches = recs[name].extra["matches"]
        assert [t for t, _ in matches] == mtb.terms([str(d) for d in range(10)], 360)[:4], matches
        assert all(0 < n < images for _, n in matches), matches  # each search marked some images, not all
    for name in ("map_tools_search_10k", "map_tools_search_70k"):  # the page answered each, then the server
        r = recs[name]
        assert r.n == len(r.extra["matches"]) and r.peer is not None, (name, r.note)
    for name in ("map_tools_thumbs_10k", "map_tools_thumbs_70k"):
        r = recs[name]
        assert r.peer is not None and r.extra["frames_with_thumbs"] > 0, (name, r.note)
        assert r.extra["thumbs_drawn"]["max"] > 0, (name, r.note)
    # one overlay on the chart after the searches' reruns (each rerun once left one more redrawing)
    assert recs["map_tools_thumbs_10k"].extra["overlay_redraws_per_relayout"] == 1
    for name, images in (("map_tools_brush_10k", 360), ("map_tools_brush_70k", 1797)):
        r = recs[name]
        assert r.peer is not None and r.n >= 2, (name, r.note)  # moves drawn in the page; the server's rerun
        assert all(0 < n < images for _, n in r.extra["passing"]), r.extra["passing"]
