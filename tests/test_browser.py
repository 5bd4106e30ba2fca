"""End to end in a real browser: `streamlit run app.py` on a free port, driven by Chromium.

Screenshots of every page land in tests/artifacts/ (ignored by git). `make screenshots`
(VAE_UPDATE_SCREENSHOTS=1) also copies them into docs/screenshots/, which the README shows;
a plain test run never rewrites a tracked file. Skipped, with the reason, where no Chromium
can be found.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from pagecheck import SERVER_LOGS, assert_page_ok

from benchmarks.app_driver import IDLE_JS, free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
UPDATE_DOCS = os.environ.get("VAE_UPDATE_SCREENSHOTS") == "1"  # set by `make screenshots`
VIEWPORT = {"width": 1440, "height": 950}

playwright_api = pytest.importorskip("playwright.sync_api")


_free_port = free_port


def log_tail(proc: subprocess.Popen, n: int = 4000) -> str:
    """The end of what a server from start_server printed."""
    log = getattr(proc, "log", None)
    if log is None or log.closed:
        return ""
    log.flush()
    log.seek(0)
    return log.read()[-n:]


def wait_health(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_tail(proc)}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not become healthy in {timeout} s")


def start_server(port: int, extra_env: dict | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on ``port``. Its output goes to a temporary file (``proc.log``), never
    to a pipe nobody reads (a full pipe would block the server mid-run), and a failing test that
    used this server shows the log's tail (conftest.py)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    proc.log = log
    SERVER_LOGS[f"http://localhost:{port}"] = lambda: log_tail(proc)
    return proc


def stop_server(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate a server started by start_server (kill it if it does not stop in time)."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if getattr(proc, "log", None) is not None:
        proc.log.close()


@contextlib.contextmanager
def serving(extra_env: dict | None = None):
    """A server from start_server on a free port, healthy, for the ``with`` block: yields its URL."""
    port = _free_port()
    proc = start_server(port, extra_env)
    url = f"http://localhost:{port}"
    try:
        wait_health(url, proc)
        yield url
    finally:
        stop_server(proc)


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
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3);
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


def test_the_map_shows_every_point_then_a_points_images_then_a_decoded_spot(page, server):
    """On one Map, as a user goes: every point drawn with WebGL; a click on a point shows its images;
    a click on an empty spot decodes that spot (one page load for the three: ~6 CPU-s of Chromium each)."""
    goto(page, server)
    info = map_info(page)
    assert info["n"] == default_size()
    assert info["webgl"] >= 1, "the scatter is not drawn with WebGL"
    shot(page, "map")

    page.mouse.click(*info["point"])
    page.get_by_role("button", name="Steer this point").wait_for(timeout=120_000)
    wait_app(page)
    assert page.get_by_text("reconstruction (decoded μ)").count() >= 1
    shot(page, "map-point")

    assert info["spotGap"] > 8, "no empty spot found on the map"
    page.mouse.click(*info["spot"])  # the chart is not redrawn by a click: the spot is where it was
    page.get_by_text("Decoded spot").wait_for(timeout=120_000)
    wait_app(page)
    assert page.get_by_text("map units from the nearest encoded image").count() >= 1
    assert page.get_by_text("reconstruction (decoded μ)").count() == 0, "the point's panel gave way to the spot's"
    shot(page, "map-spot")


def _decoded_src(pg) -> str:
    return pg.locator('[data-testid="stImage"] img').first.get_attribute("src")


def test_moving_a_slider_changes_the_decoded_image(page, server):
    goto(page, server, "sliders")
    page.locator('[data-testid="stSlider"] input[type="range"]').first.wait_for()
    before = _decoded_src(page)
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const i = document.querySelector('[data-testid=\"stImage\"] img'); return i && i.src !== before; }",
        arg=before, timeout=60_000)
    wait_app(page)
    assert _decoded_src(page) != before
    assert "z=" in page.url
    shot(page, "sliders")


def test_uploading_a_png_shows_its_reconstruction(page, server, tmp_path):
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(im).rectangle([35, 20, 85, 100], fill="black")
    path = tmp_path / "drawing.png"
    im.save(path)
    goto(page, server, "your_image")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("Reconstruction", exact=False).first.wait_for(timeout=120_000)
    wait_app(page)
    assert_page_ok(page)
    shot(page, "your_image")


def test_a_request_off_the_machine_fails_the_test(browser):
    """The recorder behind every browser test's check catches a page that asks another machine (here a
    Material icon from Google's font server, what issue #14 found; refused, so nothing goes out)."""
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        pg.route("https://fonts.gstatic.com/**", lambda r: r.abort())
        pg.set_content('<img src="https://fonts.gstatic.com/s/i/short-term/release/x/24px.svg">')
        pg.wait_for_function("() => document.images[0].complete")
    finally:
        ctx.close()
    caught, browser.outside[:] = list(browser.outside), []  # caught: this test passes
    assert caught == ["image https://fonts.gstatic.com/s/i/short-term/release/x/24px.svg"], caught


@pytest.mark.slow
def test_sessions_opening_pages_at_the_same_moment_on_a_fresh_server(browser):
    """Several users open different pages of a server that has not imported pandas yet (issue #14:
    a session's Plotly chart met the pandas another session's thread was half-way importing, and
    the page showed "partially initialized module 'pandas' has no attribute 'Series'")."""
    port = _free_port()
    proc = start_server(port)
    url = f"http://localhost:{port}"
    opened = ["reconstructions", "interpolate", "how_it_works", "", "reconstructions", "generate"]
    contexts = []
    try:
        wait_health(url, proc)
        pages = []
        for path in opened:  # all navigations start before any page has finished its first run
            ctx = browser.new_context(viewport=VIEWPORT)
            contexts.append(ctx)
            pg = ctx.new_page()
            pg.set_default_timeout(180_000)
            pg.goto(f"{url}/{path}", wait_until="commit")
            pages.append(pg)
        for k, (path, pg) in enumerate(zip(opened, pages, strict=True)):
            wait_app(pg)
            assert_page_ok(pg, path or "map")
            try:  # the page itself ran
                pg.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for(timeout=90_000)
            except playwright_api.Error:  # what that user saw, and what the server said, for the log
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                pg.screenshot(path=str(ARTIFACTS / f"fresh-server-session-{k}.png"))
                raise AssertionError(
                    f"session {k} ({url}/{path}) went idle without its page's title; it shows:\n"
                    f"{pg.locator('[data-testid=stApp]').inner_text()[:1500]}\n--- server log ---\n"
                    f"{log_tail(proc, 6000)}") from None
        assert "partially initialized" not in log_tail(proc, 20_000), log_tail(proc)
    finally:
        for ctx in contexts:
            ctx.close()
        stop_server(proc)


def test_deep_link_on_a_fresh_server_keeps_the_frame(browser, tmp_path):
    """The first session of a new server opens /sliders?z=...: sidebar and code must survive."""
    port = _free_port()
    proc = start_server(port)
    url = f"http://localhost:{port}"
    try:
        wait_health(url, proc)
        ctx = browser.new_context(viewport=VIEWPORT)
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        pg.goto(f"{url}/sliders?ckpt=digits&z=0,0,0,0,0,1.5,0,0")
        wait_app(pg)
        pg.locator('[data-testid="stSlider"]').first.wait_for()
        assert pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').count() >= 1
        assert "z=" in pg.url and "1.5" in pg.url
        ctx.close()
    finally:
        stop_server(proc)
