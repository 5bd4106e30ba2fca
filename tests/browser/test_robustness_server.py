"""Robustness against a real `streamlit run` server: it listens on localhost only, XSRF protection
is on, hostile links and oversized uploads are refused in a real browser, and 20 users at once
each see only their own state while the server's memory stays bounded.

The 20 users are websocket clients that speak Streamlit's own protocol (tests/streamlit_client.py:
the messages Chromium sends, without a browser drawing 20 pages on the server's two cores). Each
opens the Map, clicks its own point, steers it into Sliders and moves a slider. Its latencies are
server round trips as a client sees them: from sending the BackMsg to the ForwardMsg that carries
the answer (the point's heading, the new image), with no browser rendering in them.

The load test is marked ``load`` (deselect it with ``-m "not load"``). By default 20 sessions
each click the map, then move sliders for 8 s (one session alone first, for 5 s), on the digits
checkpoint; VAE_LOAD_SESSIONS, VAE_LOAD_SECONDS and VAE_LOAD_CHECKPOINT change that (the figures
in docs/robustness.md come from VAE_LOAD_SECONDS=60 VAE_LOAD_CHECKPOINT=fashion-mnist). Its numbers
land in tests/artifacts/robustness-load.json; a failing session leaves what it received in
tests/artifacts/load-failure-session-K.txt.
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
import streamlit_client
from browser_helpers import VIEWPORT, serving, wait_app
from pagecheck import assert_page_ok
from PIL import Image

from vae.explore.figures import KIND_DATA

ROOT = Path(__file__).resolve().parents[2]
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
    with serving({"VAE_CHECKPOINTS": str(tmp / "checkpoints"), "VAE_EXPLORER_CACHE": str(tmp / "cache")}) as served:
        yield {"url": served.url, "port": served.port, "proc": served.proc, "name": source.name,
               "root": tmp / "checkpoints"}


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
    # the default checkpoint's page is drawn: an image on screen (the server's, or on Sliders the live decoder's
    # canvas, which hides the server's once it draws: waiting for the first server image raced it)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stImage\"], canvas.vae-live-image')]"
                           ".some(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)",
                           timeout=120_000)
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


def click_a_point(page, server) -> int:
    """Open the Map on the server's checkpoint and click its most isolated data point, as a user does:
    the cursor on it names it in plotly's hover label, then the click; returns its image index once
    the panel beside the map names it."""
    page.goto(f"{server['url']}/?ckpt={server['name']}")
    page.wait_for_function(f"() => ({POINTS_JS})() !== null", timeout=240_000)
    wait_app(page)
    _, x, y, _ = page.evaluate(POINTS_JS)[0]
    page.mouse.move(x, y)
    page.locator(".hoverlayer .hovertext").first.wait_for()
    idx = int(re.search(r"#(\d+)", page.locator(".hoverlayer .hovertext").first.text_content()).group(1))
    page.mouse.click(x, y)
    page.get_by_role("heading", name=f"#{idx} ·").wait_for()
    return idx


def run_alone(session: Session) -> None:
    """One load-test session on its own event loop (the sync browser fixture owns this thread's)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, session.run(Barrier(1, 0.0))).result()


def _rerun_requests(frames: list[bytes]) -> list[dict]:
    """The rerun requests among BackMsg frames, as what must match: query string, page, fragment and
    every widget's id and value (a chart's selection as parsed JSON). Not compared: the cached
    message hashes (they depend on timing) and context_info (timezone and locale of the machine)."""
    from google.protobuf.json_format import MessageToDict
    from streamlit.proto.BackMsg_pb2 import BackMsg

    out = []
    for frame in frames:
        msg = BackMsg.FromString(frame)
        if msg.WhichOneof("type") != "rerun_script":
            continue
        cs = msg.rerun_script
        widgets = {w.id: MessageToDict(w) for w in cs.widget_states.widgets}
        for w in widgets.values():
            if "-map_chart_" in w["id"] and "stringValue" in w:
                w["stringValue"] = json.loads(w["stringValue"])
        out.append({"query": cs.query_string, "page": cs.page_script_hash, "fragment": cs.fragment_id,
                    "widgets": widgets})
    return out


def test_the_load_test_client_sends_what_chromium_sends(page, server):
    """tests/streamlit_client.py held against the reference, Chromium: for the load test's path (open the
    Map, click a point, "Steer this point", one slider step to the right) the websocket client's rerun
    requests equal the browser's, message by message.

    The click on the point selects it first, as a user sees it: in box/lasso drag mode Streamlit did not
    select clicked points, and plotly.js sends a point's customdata as a typed array ({"0": kind,
    "1": index}); both once broke "click a dot"."""
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: frames.append(f) if isinstance(f, bytes) else None))
    idx = click_a_point(page, server)
    page.get_by_role("button", name="Steer this point").wait_for()
    wait_app(page)
    assert_page_ok(page)
    page.get_by_role("button", name="Steer this point").click()
    page.get_by_text(f"Started from image #{idx} (").wait_for()
    wait_app(page)
    before = page.url
    page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(url) => location.href !== url", arg=before)
    wait_app(page)
    browser = _rerun_requests(frames)

    client = Session(0, 1, server, 1, point=idx)
    run_alone(client)
    assert not client.exceptions, client.exceptions
    ours = _rerun_requests(client.sent)
    assert len(ours) >= len(browser) == 4, (len(browser), len(ours))
    for k, (b, c) in enumerate(zip(browser, ours[: len(browser)], strict=True)):  # the client may move on
        for field in ("query", "page", "fragment"):
            assert c[field] == b[field], f"request {k}: {field} {c[field]!r}, Chromium sent {b[field]!r}"
        assert set(c["widgets"]) == set(b["widgets"]), (k, set(c["widgets"]) ^ set(b["widgets"]))
        for wid, state in b["widgets"].items():
            assert c["widgets"][wid] == state, f"request {k}: widget {wid} {c['widgets'][wid]}, Chromium sent {state}"


def test_steering_a_point_keeps_the_checkpoint(tmp_path):
    """"Steer this point" opens Sliders on the checkpoint the Map showed. st.switch_page empties the query
    string and Streamlit 1.67 drops a widget's value on a page switch unless it persists for the session:
    the sidebar's checkpoint fell back to the first one (digits' point #i opened another model's #i)."""
    source = ROOT / "checkpoints" / "digits"
    for name in ("digits", "digits-copy"):  # the copy is not the one a lost choice falls back to
        shutil.copytree(source, tmp_path / "checkpoints" / name)
    with serving({"VAE_CHECKPOINTS": str(tmp_path / "checkpoints"), "VAE_EXPLORER_CACHE": str(tmp_path / "cache")}) as served:
        user = Session(0, 1, {"url": served.url, "name": "digits-copy"}, 1)
        run_alone(user)
    assert not user.exceptions, user.exceptions
    assert parse_qs(urlparse(user.final_url).query)["ckpt"] == ["digits-copy"], user.final_url


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _z_of(url: str) -> np.ndarray:
    return np.array([float(v) for v in parse_qs(urlparse(url).query)["z"][0].split(",")], np.float32)


def _array(v) -> np.ndarray:
    """A Plotly figure's array as the JSON holds it: a list, or plotly's typed array {dtype, bdata, shape}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)


def _data_points(spec: str) -> list[dict]:
    """Every data point of the map's Plotly figure, as the browser names a clicked one in the chart's
    selection (curve and point number, x, y, customdata [kind, index]), ordered by image index."""
    points = []
    for curve, trace in enumerate(json.loads(spec)["data"]):
        if trace.get("customdata") is None or trace.get("visible") is not True:
            continue
        for i, (x, y, cd) in enumerate(zip(_array(trace["x"]), _array(trace["y"]), _array(trace["customdata"]),
                                           strict=True)):
            if int(cd[0]) == KIND_DATA:
                points.append({"curve_number": curve, "point_number": i, "point_index": i,
                               "x": float(x), "y": float(y), "customdata": [KIND_DATA, int(cd[1])]})
    return sorted(points, key=lambda p: p["customdata"][1])


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
    """One user, as a websocket client (tests/streamlit_client.py): opens the Map, clicks its own points,
    steers the last one into Sliders, then moves a slider. Its times are server round trips as a
    client sees them (BackMsg sent -> the ForwardMsg that answers), with no browser drawing the page."""

    def __init__(self, k: int, n: int, server: dict, clicks: int, point: int | None = None):
        self.k, self.n, self.server, self.clicks, self.point = k, n, server, clicks, point
        self.sent: list[bytes] = []  # the BackMsgs it sent
        self.slider_ms: list[float] = []
        self.click_ms: list[float] = []
        self.exceptions: list[str] = []  # the text of every exception or st.error element it received
        self.clicked: list[int] = []
        self.unchanged = 0  # moves whose new code happened to decode to the same PNG

    async def run(self, barrier: Barrier) -> None:
        client = streamlit_client.Session(self.server["url"])
        try:
            try:
                await client.connect()
                await self._map(client)
            except BaseException:
                barrier.release(0.0)
                raise
            await self._sliders(client, await barrier.wait())
            self.final_url = f"{self.server['url']}/sliders?{client.query_string}"
            self.final_image = await asyncio.to_thread(self._fetch, self._image(client))
        except BaseException:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)  # what this user saw when it failed
            seen = [f"query: {client.query_string}", *client.problems,
                    *(f"{p}: {el}" for p, el in sorted(client.elements.items()))]
            (ARTIFACTS / f"load-failure-session-{self.k}.txt").write_text("\n".join(map(str, seen))[:200_000])
            raise
        finally:
            self.exceptions, self.sent = list(client.problems), client.sent
            await client.close()

    @staticmethod
    def _image(client: streamlit_client.Session) -> str:
        """The URL of the image the Sliders page decodes (the server's one, captioned "decoded z")."""
        found = [im.url for _p, el in client.find("imgs") for im in el.imgs if im.caption == "decoded z"]
        assert len(found) == 1, f"{len(found)} 'decoded z' images on the page"
        return found[0]

    def _fetch(self, url: str) -> np.ndarray:
        """The image's pixels: an inline data: URL, or a /media file fetched over HTTP as a browser does."""
        if url.startswith("data:"):
            body = base64.b64decode(url.split(",", 1)[1])
        else:
            with urllib.request.urlopen(self.server["url"] + url, timeout=60) as r:
                body = r.read()
        return np.asarray(Image.open(io.BytesIO(body)))

    async def _map(self, client: streamlit_client.Session) -> None:
        name = self.server["name"]
        client.query_string = f"ckpt={name}"  # the link a user opens: the Map on this checkpoint
        await client.rerun()
        (path, chart), = client.find("plotly_chart", lambda c: "-map_chart_" in c.id)
        candidates = _data_points(chart.spec)
        for c in range(self.clicks):  # distinct points for every session: isolation ranks k, k + n, ...
            point = (candidates[(self.k + self.n * c) % len(candidates)] if self.point is None
                     else next(p for p in candidates if p["customdata"][1] == self.point))  # a given image's point
            idx = point["customdata"][1]
            named: list[float] = []  # when the panel's heading for that point arrived

            def heading(t, msg, idx=idx, named=named):
                el = msg.delta.new_element if msg.WhichOneof("type") == "delta" else None
                if el is not None and el.WhichOneof("type") == "heading" and el.heading.body.startswith(f"#{idx} ·"):
                    named.append(t)

            sent = await client.rerun([streamlit_client.chart_selection(chart.id, [point])],
                                      fragment_id=client.fragment_of(path), on_message=heading)
            headings = [h.body for _p, h in client.find("heading")]
            assert named, f"session {self.k} clicked #{idx}; the panel names {headings}"
            self.click_ms.append((named[0] - sent.sent_at) * 1000)
            self.clicked.append(int(idx))
            await asyncio.sleep(0.3)
        _path, steer = client.widget("button", "map_steer")
        await client.rerun([streamlit_client.trigger(steer.id)])  # st.switch_page: the Sliders page runs
        assert client.page_hash == client.pages.get("sliders"), f"session {self.k} is not on Sliders"
        started = [m.body for _p, m in client.find("markdown") if m.body.startswith("Started from image #")]
        assert started and started[0].startswith(f"Started from image #{self.clicked[-1]} ("), (self.k, started)
        await asyncio.sleep(0.3)

    async def _sliders(self, client: streamlit_client.Session, deadline: float) -> None:
        path, slider = client.find("slider", lambda w: w.label.startswith("z"))[0]  # the first one shown
        self.dim = int(slider.label.split("·")[0].strip().removeprefix("z"))
        fragment = client.fragment_of(path)
        self.start = _z_of(f"?{client.query_string}")
        value = client.widgets[slider.id].double_array_value.data[0]
        direction, moves = 1, 0
        # until the deadline, and at least until one move has shown a new picture (a loaded machine
        # may take longer than the whole phase for the first one); at most 40 moves past the deadline
        while time.monotonic() < deadline or (not self.slider_ms and moves < 40):
            if moves and moves % 12 == 0:
                direction = -direction
            if not -LIMIT + 0.2 < value + direction * STEP < LIMIT - 0.2:
                direction = -direction
            # an arrow key moves the thumb one step and snaps it to the slider's grid (-4, -3.95, ...)
            value = round(-LIMIT + round((value + direction * STEP + LIMIT) / STEP) * STEP, 2)
            before = self._image(client)
            arrived: list[float] = []  # when the new picture arrived

            def picture(t, msg, before=before, arrived=arrived):
                el = msg.delta.new_element if msg.WhichOneof("type") == "delta" else None
                if el is not None and el.WhichOneof("type") == "imgs" and not arrived and any(
                        im.caption == "decoded z" and im.url != before for im in el.imgs.imgs):
                    arrived.append(t)

            sent = await client.rerun([streamlit_client.slider_value(slider.id, value)], fragment_id=fragment,
                                      on_message=picture)
            if arrived:
                self.slider_ms.append((arrived[0] - sent.sent_at) * 1000)
            else:  # the same picture: the code moved, the pixels did not
                self.unchanged += 1
            moves += 1
            await asyncio.sleep(0.3)
        self.expected = self.start.copy()
        self.expected[self.dim] = value


async def _run_sessions(server: dict, n: int, seconds: float, clicks: int, stagger: float) -> list[Session]:
    sessions = [Session(k, n, server, clicks) for k in range(n)]
    barrier = Barrier(n, seconds)

    async def one(s: Session) -> None:
        await asyncio.sleep(s.k * stagger)  # users arrive over a few seconds, not in one instant
        await s.run(barrier)

    await asyncio.gather(*(one(s) for s in sessions))
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
    them with the server's peak RSS (MB), its share of the machine's busy CPU time, the CPU time
    of the clients (this test process) and the load average (the machine may be shared)."""
    pid = server["proc"].pid
    peaks: list[float] = []
    done = {"v": False}
    t0, (proc0, busy0), own0 = time.monotonic(), _cpu_seconds(pid), time.process_time()
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
             "server_share_of_busy_cpu": round((proc1 - proc0) / max(busy1 - busy0, 1e-9), 2),
             "clients_cpu_s": round(time.process_time() - own0, 1),
             "load_average_1min": round(os.getloadavg()[0], 1)}
    return sessions, stats


def _check(sessions: list[Session], model, upscale, decode) -> None:
    for s in sessions:
        assert not s.exceptions, f"session {s.k} received exception or error elements:\n" + "\n---\n".join(s.exceptions)
        assert s.slider_ms, f"session {s.k} never moved a slider"
        z = _z_of(s.final_url)  # its own code: the point it clicked, moved by its own key presses
        np.testing.assert_allclose(z, s.expected, atol=0.006, err_msg=f"session {s.k} shows another code")
        expected = upscale(decode(model, z[None])[0], 280)  # its own image: the decode of that code
        assert s.final_image.shape[:2] == expected.shape[:2], s.k
        diff = np.abs(s.final_image.astype(int) - expected.astype(int)).max()
        assert diff <= 3, f"session {s.k}: the image is not the decode of its code (max diff {diff})"
    # sessions that clicked different points end on different codes
    # (every session clicks a point of its own: ranks k, k + n, ...)
    ends = {s.clicked[-1]: tuple(np.round(_z_of(s.final_url), 3)) for s in sessions}
    assert len(ends) == len(sessions), f"only {len(ends)} distinct points clicked by {len(sessions)} sessions"
    assert len(set(ends.values())) == len(ends), "two sessions that clicked different points ended on the same code"


@pytest.mark.slow
@pytest.mark.load
def test_twenty_sessions_at_once(server):
    from vae.checkpoint import load_checkpoint
    from vae.data.images import upscale
    from vae.explore.latent import decode

    n = int(os.environ.get("VAE_LOAD_SESSIONS", "20"))
    seconds = float(os.environ.get("VAE_LOAD_SECONDS", "8"))
    clicks = int(os.environ.get("VAE_LOAD_CLICKS", "1"))
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
