"""Helpers of the browser tests (tests/browser/): a `streamlit run app.py` on a free port, healthy
before use, its log shown when a test that used it fails (:func:`serving`, the one way to start
one); a tab that keeps its console's errors; waiting until the app is idle; screenshots
(tests/artifacts/, and docs/screenshots/ with `make screenshots`); the Plotly map's points as the
browser draws them."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pagecheck import SERVER_LOGS

from benchmarks.app_driver import IDLE_JS, Server

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
UPDATE_DOCS = os.environ.get("VAE_UPDATE_SCREENSHOTS") == "1"  # set by `make screenshots`
VIEWPORT = {"width": 1440, "height": 950}

playwright_api = pytest.importorskip("playwright.sync_api")



@contextlib.contextmanager
def serving(extra_env: dict | None = None, app: Path | None = None) -> Iterator[Server]:
    """`streamlit run app.py` (or ``app``, an app.py elsewhere) on a free port with ``extra_env``, healthy,
    for the ``with`` block: yields its :class:`benchmarks.app_driver.Server` (``url``, ``port``, ``proc``,
    ``log_tail()``). Its output goes to a temporary file, never to a pipe nobody reads (a full pipe would
    block the server mid-run). A failure inside the block carries the log's tail as a note, and a failing
    test whose fixture yielded the server (or its URL) shows it too (conftest.py)."""
    server = Server(extra_env, script=app)
    SERVER_LOGS[server.url] = lambda: server.log_tail(4000)
    with server:
        try:
            server.wait_healthy()
            yield server
        except Exception as e:
            e.add_note(f"--- streamlit server log ({server.url}), last lines ---\n{server.log_tail(4000)}")
            raise


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    try:  # widgets whose code is still loading are drawn as grey skeletons: wait for the real ones
        pg.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=20_000)
    except playwright_api.Error:
        pass  # a screenshot with a skeleton is still a screenshot; the test checks the page elsewhere
    pg.screenshot(path=str(path))
    if UPDATE_DOCS:
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_SHOTS / f"{name}.png")
    return path


def new_tab(ctx):
    """A new tab of ``ctx`` (a Streamlit session of its own) whose console's errors and warnings, and
    uncaught errors, collect in ``pg.console`` (for failure messages)."""
    pg = ctx.new_page()
    pg.console = []
    pg.on("console", lambda m: m.type in ("error", "warning") and pg.console.append(f"{m.type}: {m.text[:300]}"))
    pg.on("pageerror", lambda e: pg.console.append(f"uncaught: {str(e)[:300]}"))
    pg.set_default_timeout(120_000)
    return pg


def wait_app(pg) -> None:
    """Wait until Streamlit has finished running the script (no spinner, app idle), and is idle again
    0.4 s later: a click's rerun may start that late on a loaded machine (the page shows no sign of
    it before the server answers), and a component that answers its first draw starts one more run.
    (150 ms was tried: the tour's End, under two xdist lanes, was asserted before its rerun began.)"""
    pg.wait_for_selector('[data-testid="stApp"]')
    pg.wait_for_function(IDLE_JS, timeout=240_000)
    pg.wait_for_timeout(400)
    pg.wait_for_function(IDLE_JS, timeout=240_000)


def goto(pg, server, path: str = "") -> None:
    pg.goto(f"{server}/{path}")
    wait_app(pg)


MAP_INFO_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3
                                                                    && !g.closest('.st-key-first_map_preview'));
  if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
  const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis, r = gd.getBoundingClientRect();
  const px = (x, y) => [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
  let n = 0; const data = [], grid = [];
  for (const t of gd._fullData) {
    if (!t.customdata || !t.x) continue;
    for (let i = 0; i < t.x.length; i++) {
      const kind = t.customdata[i][0];
      if (kind === 0) { n++; data.push(px(t.x[i], t.y[i])); } else if (kind === 1) grid.push(px(t.x[i], t.y[i]));
    }
  }
  // inside the plot and on screen (a click below the window's edge reaches nothing)
  const inside = p => p[0] > r.left + xa._offset + 15 && p[0] < r.left + xa._offset + xa._length - 15 &&
                      p[1] > r.top + ya._offset + 15 && p[1] < r.top + ya._offset + ya._length - 15 &&
                      p[1] < window.innerHeight - 15;
  // an isolated data point (easy to click) and the empty spot farthest from any data point
  let best = null, bestGap = -1;
  const sample = data.filter((_, i) => i % 7 === 0).filter(inside);
  for (const p of sample.slice(0, 400)) {
    let gap = 1e9;
    for (const q of data) { if (q === p) continue; const d = Math.hypot(p[0]-q[0], p[1]-q[1]); if (d < gap) gap = d; }
    if (gap > bestGap) { bestGap = gap; best = p; }
  }
  let spot = null, spotGap = -1;
  for (const g of grid.filter(inside)) {
    let gap = 1e9;
    for (const q of data) { const d = Math.hypot(g[0]-q[0], g[1]-q[1]); if (d < gap) gap = d; if (gap < spotGap) break; }
    if (gap > spotGap) { spotGap = gap; spot = g; }
  }
  return {n, point: best, pointGap: bestGap, spot, spotGap, webgl: gd.querySelectorAll('canvas').length};
}
"""


def map_info(pg) -> dict:
    """Points of the map; waits until the chart has stopped moving (layout settled)."""
    pg.wait_for_function(f"() => ({MAP_INFO_JS})() !== null", timeout=240_000)
    info = pg.evaluate(MAP_INFO_JS)
    for _ in range(20):
        time.sleep(0.5)
        again = pg.evaluate(MAP_INFO_JS)
        if again["point"] == info["point"] and again["spot"] == info["spot"]:
            return again
        info = again
    return info


def default_size() -> int:
    return 10_000 if (ROOT / "checkpoints" / "fashion-mnist" / "model.safetensors").exists() else 360
