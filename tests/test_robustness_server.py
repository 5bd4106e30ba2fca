"""Robustness against a real `streamlit run` server: it listens on localhost only, XSRF protection
is on, hostile links and oversized uploads are refused in a real browser, and 20 users at once
(20 Chromium contexts clicking the map and moving sliders) each see only their own state while
the server's memory stays bounded.

The load test is marked ``load`` (deselect it with ``-m "not load"``). By default 20 sessions
each click the map, then move sliders for 8 s (one session alone first, for 5 s), on the digits
checkpoint; VAE_LOAD_SESSIONS, VAE_LOAD_SECONDS and VAE_LOAD_CHECKPOINT change that (the figures
in docs/robustness.md come from VAE_LOAD_SECONDS=60 VAE_LOAD_CHECKPOINT=fashion-mnist). Its numbers
land in tests/artifacts/robustness-load.json.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import numpy as np
import pytest
from pagecheck import assert_page_ok, page_exceptions_async
from PIL import Image
from test_browser import (
    VIEWPORT,
    _chromium,
    _free_port,
    start_server,
    stop_server,
    wait_app,
    wait_health,
)

from benchmarks.app_driver import IDLE_JS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
LIMIT = 4.0  # pages/sliders.py: the sliders' range
STEP = 0.05  # pages/sliders.py: one arrow-key press


def _explore_checkpoint() -> Path:
    """The checkpoint served: digits by default (light enough for `make test`), or the one named by
    VAE_LOAD_CHECKPOINT (docs/robustness.md's figures use fashion-mnist: 10,000 points, 16 sliders)."""
    name = os.environ.get("VAE_LOAD_CHECKPOINT", "digits")
    path = ROOT / "checkpoints" / name
    if not (path / "model.safetensors").exists():
        pytest.skip(f"checkpoints/{name} is not there")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on a free port, over a private copy of one checkpoint."""
    tmp = tmp_path_factory.mktemp("server")
    source = _explore_checkpoint()
    shutil.copytree(source, tmp / "checkpoints" / source.name)
    port = _free_port()
    proc = start_server(port, {"VAE_CHECKPOINTS": str(tmp / "checkpoints"),
                               "VAE_EXPLORER_CACHE": str(tmp / "cache")})
    url = f"http://localhost:{port}"
    try:
        wait_health(url, proc)
        yield {"url": url, "port": port, "proc": proc, "name": source.name, "root": tmp / "checkpoints"}
    finally:
        stop_server(proc)


# -- where the server listens, and XSRF ---------------------------------------------------------------
def _listening(port: int) -> list[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            addr, p = fields[1].split(":")
            if int(p, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                raw = bytes.fromhex(addr)
                if name == "tcp":
                    found.append(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # four little-endian 32-bit words
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_server_listens_on_localhost_only(server):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system")
    addresses = _listening(server["port"])
    assert addresses, "found no listening socket for the server"
    loopback = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
    assert set(addresses) <= loopback, f"the server listens on {addresses}, not only on this machine"
    # and from this machine's own network address, nothing answers
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            own = s.getsockname()[0]
    except OSError:
        own = None
    if own and not own.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((own, server["port"]), timeout=3).close()


def test_xsrf_protection_is_on(server):
    with urllib.request.urlopen(server["url"] + "/_stcore/health", timeout=30) as r:  # hands out the token
        cookies = " ".join(r.headers.get_all("Set-Cookie") or [])
    assert "_streamlit_xsrf=" in cookies
    put = urllib.request.Request(server["url"] + "/_stcore/upload_file/some-session/some-file",
                                 data=b"payload", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(put, timeout=30)
    assert e.value.code == 403  # refused for the missing token (before the session is even looked up)


# -- hostile links and an oversized upload, in a real browser ----------------------------------------
@pytest.fixture()
def page(browser, server):  # the browser fixture: tests/conftest.py
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


HOSTILE_LINKS = [  # opened on the light Generate page; the last one on Sliders, with a bad code too
    "generate?ckpt=" + quote("../../etc/passwd", safe=""),
    "generate?ckpt=..%252F..%252Fetc",  # encoded twice
    "generate?ckpt=" + quote("/etc", safe=""),
    "generate?ckpt=" + quote("<img src=x onerror=alert(1)>", safe=""),
    "sliders?ckpt=" + quote("..", safe="") + "&z=nan,1,2",
]


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_hostile_links_fall_back_to_the_default(page, server, link):
    page.goto(f"{server['url']}/{link}")
    page.get_by_text("not a loadable checkpoint here").first.wait_for()
    page.locator('[data-testid="stImage"]').first.wait_for()  # the default checkpoint's page is drawn
    wait_app(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "not a loadable checkpoint here; showing the default instead" in text
    assert_page_ok(page)
    assert not page.dialogs, page.dialogs
    assert parse_qs(urlparse(page.url).query)["ckpt"] == [server["name"]]
    if "z=" in link:
        assert "Ignored the link's code" in text


def test_an_upload_over_the_size_cap_is_refused_in_the_browser(page, server, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(11 * 1024 * 1024))  # 11 MB: the cap is 10 MB
    page.goto(f"{server['url']}/your_image")
    page.get_by_text("reconstruction (decoded μ)").first.wait_for()
    wait_app(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(big))
    page.get_by_text("or smaller").first.wait_for(timeout=60_000)
    wait_app(page)
    assert_page_ok(page)
    assert page.get_by_text("reconstruction (decoded μ)").count() >= 1  # the page still works


# -- many users at once -------------------------------------------------------------------------------
POINTS_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g.data || []).length > 3);
  if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
  const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis, r = gd.getBoundingClientRect();
  const pts = [];
  for (const t of gd._fullData) {  // decoded: gd.data keeps plotly's base64 typed arrays as sent
    if (!t.customdata || !t.x || t.visible !== true) continue;
    for (let i = 0; i < t.x.length; i++) {
      if (t.customdata[i][0] !== 0) continue;
      pts.push([t.customdata[i][1], r.left + xa._offset + xa.l2p(t.x[i]), r.top + ya._offset + ya.l2p(t.y[i])]);
    }
  }
  const inside = p => p[1] > r.left + xa._offset + 10 && p[1] < r.left + xa._offset + xa._length - 10 &&
                      p[2] > r.top + ya._offset + 10 && p[2] < Math.min(r.top + ya._offset + ya._length - 10,
                                                                        window.innerHeight - 10);
  const out = [];
  for (const p of pts.filter((_, i) => i % 5 === 0).filter(inside)) {
    let gap = 1e9;
    for (const q of pts) { if (q !== p) { const d = Math.hypot(p[1]-q[1], p[2]-q[2]); if (d < gap) gap = d; } }
    out.push([p[0], p[1], p[2], gap]);
  }
  out.sort((a, b) => b[3] - a[3]);
  return out.slice(0, 400);
}
"""

IMG_JS = "() => { const i = document.querySelector('[data-testid=\"stImage\"] img'); return i ? i.src : null; }"


def test_clicking_a_point_on_the_map_selects_it(page, server):
    """In box/lasso drag mode Streamlit does not select clicked points, and plotly.js sends a point's
    customdata as a typed array ({"0": kind, "1": index}): both once broke "click a dot"."""
    page.goto(f"{server['url']}/?ckpt={server['name']}")
    page.wait_for_function(f"() => ({POINTS_JS})() !== null", timeout=240_000)
    wait_app(page)
    _, x, y, _ = page.evaluate(POINTS_JS)[0]
    page.mouse.move(x, y)
    page.locator(".hoverlayer .hovertext").first.wait_for()
    idx = int(re.search(r"#(\d+)", page.locator(".hoverlayer .hovertext").first.text_content()).group(1))
    page.mouse.click(x, y)
    page.get_by_role("heading", name=f"#{idx} ·").wait_for()
    page.get_by_role("button", name="Steer this point").wait_for()
    wait_app(page)
    assert_page_ok(page)


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _z_of(url: str) -> np.ndarray:
    return np.array([float(v) for v in parse_qs(urlparse(url).query)["z"][0].split(",")], np.float32)


async def _hovered(page, x: float, y: float) -> int | None:
    """Move the cursor to (x, y): the index of the data point plotly's hover label names, if any."""
    await page.mouse.move(x, y)
    label = page.locator(".hoverlayer .hovertext").first
    await label.wait_for(timeout=240_000)
    m = re.search(r"#(\d+)", await label.text_content() or "")
    return int(m.group(1)) if m else None


class Barrier:
    """Sessions wait here after their map clicks; the slider phase then starts for all at once
    and lasts ``seconds`` (a failed session releases the others at once)."""

    def __init__(self, n: int, seconds: float):
        self.n, self.seconds, self.count, self.deadline = n, seconds, 0, 0.0
        self.event = asyncio.Event()

    async def wait(self) -> float:
        self.count += 1
        if self.count == self.n:
            self.release()
        await asyncio.wait_for(self.event.wait(), 900)
        return self.deadline

    def release(self, seconds: float | None = None) -> None:
        if not self.event.is_set():
            self.deadline = time.monotonic() + (self.seconds if seconds is None else seconds)
            self.event.set()


class Session:
    """One user: clicks points on the map, steers the last one into Sliders, then moves a slider."""

    def __init__(self, k: int, n: int, chromium, server: dict, clicks: int):
        self.k, self.n, self.browser, self.server, self.clicks = k, n, chromium, server, clicks
        self.slider_ms: list[float] = []
        self.click_ms: list[float] = []
        self.errors: list[str] = []
        self.exceptions: list[str] = []  # texts of the stException elements on the last page
        self.clicked: list[int] = []
        self.unchanged = 0  # moves whose new code happened to decode to the same PNG

    async def _idle(self, page) -> None:
        await page.wait_for_function(IDLE_JS, timeout=240_000)
        await asyncio.sleep(0.3)

    async def run(self, barrier: Barrier) -> None:
        ctx = await self.browser.new_context(viewport={"width": 1280, "height": 900})
        page = await ctx.new_page()
        page.set_default_timeout(240_000)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        try:
            try:
                await self._map(page)
            except BaseException:
                barrier.release(0.0)
                raise
            await self._sliders(page, await barrier.wait())
            self.final_url = page.url
            self.final_src = await page.evaluate(IMG_JS)
            if self.final_src.startswith("data:"):  # the Sliders page sends its moving image inline
                body = base64.b64decode(self.final_src.split(",", 1)[1])
            else:
                body = await (await page.request.get(self.final_src)).body()
            self.final_image = np.asarray(Image.open(io.BytesIO(body)))
            self.exceptions = await page_exceptions_async(page)
        except BaseException:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)  # what this user saw when it failed
            await page.screenshot(path=str(ARTIFACTS / f"load-failure-session-{self.k}.png"), timeout=30_000)
            raise
        finally:
            await ctx.close()

    async def _map(self, page) -> None:
        await page.goto(f"{self.server['url']}/?ckpt={self.server['name']}")
        await page.wait_for_function(f"() => ({POINTS_JS})() !== null", timeout=240_000)
        await self._idle(page)
        for c in range(self.clicks):  # distinct points for every session: isolation ranks k, k + n, ...
            for attempt in range(10):  # the cursor may land nearer an "empty space" spot: try the next point
                candidates = await page.evaluate(POINTS_JS)
                # ranks k + n * j: a rank no other session uses, also on a retry
                _, x, y, _ = candidates[(self.k + self.n * (c + self.clicks * attempt)) % len(candidates)]
                idx = await _hovered(page, x, y)  # the point the cursor is on, as plotly's label names it
                if idx is not None:
                    break
            assert idx is not None, f"session {self.k} found no data point to click"
            t0 = time.perf_counter()
            await page.mouse.click(x, y)
            await page.get_by_role("heading", name=f"#{idx} ·").wait_for(timeout=90_000)
            self.click_ms.append((time.perf_counter() - t0) * 1000)
            self.clicked.append(int(idx))
            await self._idle(page)
        await page.get_by_role("button", name="Steer this point").click()
        await page.get_by_text(f"Started from image #{self.clicked[-1]} (").wait_for(timeout=240_000)
        await self._idle(page)

    async def _sliders(self, page, deadline: float) -> None:
        thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
        label = await page.locator('[data-testid="stSlider"]').first.inner_text()
        self.dim = int(label.split("·")[0].strip().removeprefix("z"))
        self.start = _z_of(page.url)
        value, direction, moves = float(self.start[self.dim]), 1, 0
        # until the deadline, and at least until one move has shown a new picture (a loaded machine
        # may take longer than the whole phase for the first one); at most 40 moves past the deadline
        while time.monotonic() < deadline or (not self.slider_ms and moves < 40):
            if moves and moves % 12 == 0:
                direction = -direction
            if not -LIMIT + 0.2 < value + direction * STEP < LIMIT - 0.2:
                direction = -direction
            before_src, before_url = await page.evaluate(IMG_JS), page.url
            await thumb.focus()
            t0 = time.perf_counter()
            await page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
            await page.wait_for_function("(url) => location.href !== url", arg=before_url, timeout=240_000)
            try:
                await page.wait_for_function(f"(src) => ({IMG_JS})() !== src", arg=before_src, timeout=20_000)
                self.slider_ms.append((time.perf_counter() - t0) * 1000)
            except Exception:  # the same picture: the code moved, the pixels did not
                self.unchanged += 1
            value += direction * STEP
            moves += 1
            await self._idle(page)
        shown = float(await thumb.input_value())  # the slider snaps to its 0.05 grid on the first move
        assert abs(shown - value) <= STEP + 1e-6, (self.k, shown, value)
        self.expected = self.start.copy()
        self.expected[self.dim] = shown


async def _run_sessions(server: dict, n: int, seconds: float, clicks: int, stagger: float) -> list[Session]:
    from playwright.async_api import async_playwright

    exe = _chromium()
    async with async_playwright() as p:
        kw = dict(args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update"])
        browser_ = await (p.chromium.launch(executable_path=exe, **kw) if exe else p.chromium.launch(**kw))
        sessions = [Session(k, n, browser_, server, clicks) for k in range(n)]
        barrier = Barrier(n, seconds)

        async def one(s: Session) -> None:
            await asyncio.sleep(s.k * stagger)  # users arrive over a few seconds, not in one instant
            await s.run(barrier)

        try:
            await asyncio.gather(*(one(s) for s in sessions))
        finally:
            await browser_.close()
        return sessions


def _sample_memory(pid: int, stop, peaks: list[float]) -> None:
    while not stop():
        peaks.append(_rss_mb(pid))
        time.sleep(0.25)


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(CPU seconds used by process ``pid``, busy CPU seconds of the whole machine) so far."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    proc = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    cpu = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = (sum(cpu) - cpu[3] - cpu[4]) / tick  # all but idle and iowait
    return proc, busy


def _phase(server: dict, n: int, seconds: float, clicks: int) -> tuple[list[Session], dict]:
    """Run ``n`` sessions (in a worker thread: the sync browser fixture owns this one) and return
    them with the server's peak RSS (MB) and its share of the machine's busy CPU time."""
    pid = server["proc"].pid
    peaks: list[float] = []
    done = {"v": False}
    t0, (proc0, busy0) = time.monotonic(), _cpu_seconds(pid)
    with ThreadPoolExecutor(2) as pool:
        sampler = pool.submit(_sample_memory, pid, lambda: done["v"], peaks)
        try:
            sessions = pool.submit(asyncio.run, _run_sessions(server, n, seconds, clicks, 0.3)).result()
        finally:
            done["v"] = True
            sampler.result()
    proc1, busy1 = _cpu_seconds(pid)
    stats = {"server_peak_rss_mb": round(max(peaks), 1), "wall_s": round(time.monotonic() - t0, 1),
             "server_cpu_s": round(proc1 - proc0, 1), "machine_busy_cpu_s": round(busy1 - busy0, 1),
             "server_share_of_busy_cpu": round((proc1 - proc0) / max(busy1 - busy0, 1e-9), 2)}
    return sessions, stats


def _check(sessions: list[Session], model, upscale, decode) -> None:
    for s in sessions:
        assert not s.errors and not s.exceptions, (s.k, s.errors, s.exceptions)
        assert s.slider_ms, f"session {s.k} never moved a slider"
        z = _z_of(s.final_url)  # its own code: the point it clicked, moved by its own key presses
        np.testing.assert_allclose(z, s.expected, atol=0.006, err_msg=f"session {s.k} shows another code")
        expected = upscale(decode(model, z[None])[0], 280)  # its own image: the decode of that code
        assert s.final_image.shape[:2] == expected.shape[:2], s.k
        diff = np.abs(s.final_image.astype(int) - expected.astype(int)).max()
        assert diff <= 3, f"session {s.k}: the image is not the decode of its code (max diff {diff})"
    # sessions that clicked different points end on different codes
    # (two cursors may land on the same dot, though they aim at different ones)
    ends = {s.clicked[-1]: tuple(np.round(_z_of(s.final_url), 3)) for s in sessions}
    assert len(ends) >= len(sessions) - 2, f"only {len(ends)} distinct points clicked by {len(sessions)} sessions"
    assert len(set(ends.values())) == len(ends), "two sessions that clicked different points ended on the same code"


@pytest.mark.slow
@pytest.mark.load
def test_twenty_sessions_at_once(server):
    from vae.checkpoint import load_checkpoint
    from vae.images import upscale
    from vae.latent import decode

    n = int(os.environ.get("VAE_LOAD_SESSIONS", "20"))
    seconds = float(os.environ.get("VAE_LOAD_SECONDS", "8"))
    clicks = int(os.environ.get("VAE_LOAD_CLICKS", "1"))
    if _chromium() is None:
        pytest.skip("no Chromium on this machine; run `make browser`")
    pid = server["proc"].pid
    model = load_checkpoint(server["root"] / server["name"]).model

    one, alone = _phase(server, 1, min(5.0, seconds), clicks)  # one user alone: the baseline
    _check(one, model, upscale, decode)
    many, together = _phase(server, n, seconds, clicks)
    _check(many, model, upscale, decode)

    slider = np.array([ms for s in many for ms in s.slider_ms])
    clicks_ms = np.array([ms for s in many for ms in s.click_ms])
    report = {
        "checkpoint": server["name"], "sessions": n, "seconds": seconds, "cpus": os.cpu_count(),
        "slider_moves": int(slider.size), "slider_ms_p50": round(float(np.percentile(slider, 50))),
        "slider_ms_p95": round(float(np.percentile(slider, 95))), "slider_ms_max": round(float(slider.max())),
        "moves_without_a_new_picture": sum(s.unchanged for s in many),
        "map_clicks": int(clicks_ms.size), "click_ms_p95": round(float(np.percentile(clicks_ms, 95))),
        "one_session": {"slider_ms_p95": round(float(np.percentile([m for s in one for m in s.slider_ms], 95))),
                        **alone},
        **together, "server_hwm_mb": round(_rss_mb(pid, "VmHWM"), 1),
        "per_extra_session_mb": round((together["server_peak_rss_mb"] - alone["server_peak_rss_mb"])
                                      / max(n - 1, 1), 2),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "robustness-load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    assert server["proc"].poll() is None, "the server died"
    # shared, not copied: 19 more users cost far less than one more copy of the data each
    data_mb = 10_000 * 28 * 28 * 4 / 2**20 if server["name"] != "digits" else 360 * 64 * 4 / 2**20
    assert report["per_extra_session_mb"] < max(data_mb, 15.0), report
