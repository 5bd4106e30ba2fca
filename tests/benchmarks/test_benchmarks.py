"""Smoke test of ``python -m benchmarks``: a cheap subset runs and writes well-formed JSON.

The benchmarks are measurements, not pass/fail tests: nothing here checks a number, only
that the records have the agreed shape (name, ours, peer, unit, ratio, n) and that every
ratio is oriented so that > 1 means ours is better. Nothing is written into docs/.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import in_process

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "checkpoints" / "digits"
REQUIRED = ("name", "ours", "peer", "unit", "ratio", "n")


def run_benchmarks(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def check_records(records) -> None:
    assert isinstance(records, list) and records, "the JSON must be a non-empty list of records"
    for r in records:
        assert isinstance(r, dict)
        missing = [k for k in REQUIRED if k not in r]
        assert not missing, f"{r.get('name')} lacks {missing}"
        assert isinstance(r["name"], str) and r["name"]
        assert isinstance(r["unit"], str)
        assert isinstance(r["n"], int) and r["n"] >= 0
        for k in ("ours", "peer", "ratio"):
            assert r[k] is None or (isinstance(r[k], (int, float)) and math.isfinite(r[k])), (r["name"], k)
        if r["ours"] and r["peer"]:
            expected = r["peer"] / r["ours"] if r["better"] == "lower" else r["ours"] / r["peer"]
            assert r["ratio"] == pytest.approx(expected, rel=1e-9), r["name"]
        else:
            assert r["ratio"] is None, r["name"]


@pytest.mark.slow
@pytest.mark.skipif(not (DIGITS / "config.json").exists(), reason="no checkpoints/digits")
def test_quick_subset_writes_well_formed_json(tmp_path, capsys):
    """Through benchmarks.cli.main in this process (the other tests here run ``python -m benchmarks``):
    a process of its own would compile UMAP's numba code again, 20-40 s of CPU."""
    from benchmarks.cli import main

    docs = ROOT / "docs" / "benchmarks.md"
    before = docs.stat().st_mtime_ns if docs.exists() else None
    out = tmp_path / "bench.json"
    proc = in_process(main, "benchmarks", capsys, "--quick", "--only", "forward_map,inverse_map,quality",
                      "--checkpoint", DIGITS, "--json", out, "--no-docs")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    records = json.loads(out.read_text(encoding="utf-8"))
    check_records(records)
    names = {r["name"] for r in records}
    assert {"forward_map", "forward_map_agreement", "inverse_map", "inverse_map_roundtrip"} <= names
    assert any(n.startswith("quality_") for n in names)
    assert "forward_map" in proc.stdout, "the table is printed"
    latency = next(r for r in records if r["name"] == "inverse_map")
    assert latency["unit"] == "ms" and latency["better"] == "lower" and "p95" in latency
    assert (docs.stat().st_mtime_ns if docs.exists() else None) == before, "the test must not touch docs/"


@pytest.mark.skipif(not (DIGITS / "config.json").exists(), reason="no checkpoints/digits")
def test_docs_go_where_they_are_told(tmp_path):
    proc = run_benchmarks("--only", "quality", "--checkpoint", str(DIGITS), "--docs", str(tmp_path),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    md = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert "| name | ours | peer | unit | ratio | n |" in md
    assert "CPU cores" in md and "torch" in md


@pytest.mark.parametrize("extra", [["--quick"], ["--only", "quality"], ["--docs", "somewhere"]])
def test_only_a_full_run_may_rewrite_docs(extra):
    proc = run_benchmarks("--update-docs", *extra, timeout=120)
    assert proc.returncode == 2, (proc.stdout[-1000:], proc.stderr[-2000:])
    assert "--update-docs rewrites docs/ from a full run" in proc.stderr, proc.stderr[-2000:]
    assert "==" not in proc.stderr, "nothing may run before the refusal"


def test_unknown_benchmark_is_refused():
    proc = run_benchmarks("--only", "no_such_thing", "--no-docs", timeout=120)
    assert proc.returncode != 0
    assert "unknown benchmark" in proc.stderr and "inverse_map" in proc.stderr


def test_ratio_is_oriented_so_that_above_one_means_ours_is_better():
    from benchmarks.records import Record

    assert Record("t", 2.0, 10.0, "ms", 1, "lower").ratio == pytest.approx(5.0)
    assert Record("t", 300.0, 100.0, "images/s", 1, "higher").ratio == pytest.approx(3.0)
    assert Record("t", 1.0, None, "MB", 1).ratio is None
    assert Record("t", 0.0, 1.0, "ms", 1).ratio is None


def test_benchmarks_never_import_streamlit():
    code = "import sys, benchmarks.cli; print('streamlit' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


@pytest.mark.slow
@pytest.mark.skipif(not (DIGITS / "config.json").exists(), reason="no checkpoints/digits")
def test_train_ddp_trains_with_one_and_two_processes(tmp_path):
    """torchrun starts the benchmark's own worker with 1 and then 2 processes (gloo)."""
    out = tmp_path / "ddp.json"
    proc = run_benchmarks("--quick", "--only", "train_ddp", "--checkpoint", str(DIGITS), "--json", str(out),
                          "--no-docs")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    records = json.loads(out.read_text(encoding="utf-8"))
    check_records(records)
    by_name = {r["name"]: r for r in records}
    assert {"train_ddp_1_process", "train_ddp_2_processes"} <= set(by_name), sorted(by_name)
    assert by_name["train_ddp_1_process"]["world_size"] == 1 and by_name["train_ddp_2_processes"]["world_size"] == 2
    assert by_name["train_ddp_2_processes"]["peer"] == by_name["train_ddp_1_process"]["ours"]
    assert by_name["train_ddp_1_process"]["unit"] == "images/s" and by_name["train_ddp_1_process"]["n"] > 0


class _FakePage:
    """What a benchmark's page shows when what it waits for never comes."""

    def __init__(self, seen, area=None):
        self.seen, self.area = seen, area

    def wait_for_function(self, *args, **kwargs):
        raise TimeoutError("Timeout 1000ms exceeded.")

    def evaluate(self, js, *args):
        return self.area if self.area is not None and "points" in js else self.seen

    def locator(self, sel):
        class _L:
            last = property(lambda s: s)
            first = property(lambda s: s)

            def scroll_into_view_if_needed(s):
                pass

            def evaluate(s, js):  # scrolled into the middle of the window: nothing to do here
                pass

            def bounding_box(s):
                return {"x": 0, "y": 900, "width": 600, "height": 600}
        return _L()

    def wait_for_timeout(self, ms):
        pass


def test_a_benchmark_that_waits_in_vain_fails_in_one_line_and_the_others_still_run(monkeypatch, capsys):
    """What it waited for, how long, and what the page showed: one line, no traceback; the next
    benchmark's numbers still come."""
    from types import SimpleNamespace

    from benchmarks import cli
    from benchmarks.records import Record
    from benchmarks.settings import Settings, wait_for

    def waits(settings):
        wait_for(_FakePage("2 slider(s), 1 image(s) of which 0 visible"), "() => false",
                 "the naive app's decoded image", 1)

    fine = SimpleNamespace(run=lambda settings: [Record("fine", 1.0, 2.0, "s", 1, "lower")])
    monkeypatch.setattr(cli, "BENCHMARKS", {"stuck": SimpleNamespace(run=waits), "fine": fine})
    records, skipped, failed = cli.run_all(["stuck", "fine"], Settings(say=lambda m: None))
    assert [r.name for r in records] == ["fine"] and not skipped
    assert failed == {"stuck": "waited 1 s for the naive app's decoded image; saw 2 slider(s), 1 image(s) of which "
                               "0 visible"}
    assert "Traceback" not in capsys.readouterr().err


def test_map_scale_says_what_it_saw_when_no_point_is_there_to_click():
    """It divided by the number of points found (ZeroDivisionError) when the map was out of the window."""
    from benchmarks.map_scale import map_area
    from benchmarks.settings import WaitFailed

    class Page(_FakePage):
        def wait_for_function(self, *args, **kwargs):
            return True  # the map is there

    page = Page("1 Plotly chart(s), no canvas map; the map's box at y=900..1500 of a 768 px window",
                area={"left": 0, "top": 900, "width": 600, "height": -137, "points": []})
    with pytest.raises(WaitFailed, match=r"^found no data point of the map inside the window to click on; saw 1 "
                                         r"Plotly chart\(s\), no canvas map; the map's box at y=900\.\.1500"):
        map_area(page, canvas=False)
