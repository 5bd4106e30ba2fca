"""Driving the real app: ``streamlit run app.py`` in a subprocess, Chromium through Playwright.

The same recipe as tests/browser/test_browser.py: a free port, wait for ``/_stcore/health``, then
drive headless Chromium (the system's ``chromium`` when there is one). Raises
:class:`benchmarks.settings.Skip` where no browser can be started. Also reads the server's
memory (VmHWM / VmRSS of the process and its children) from /proc.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from .settings import ROOT, Skip, WaitFailed, wait_for

VIEWPORT = {"width": 1440, "height": 950}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

#: How many data points the map draws (customdata kind 0), or -1 while it is not drawn yet.
#: Reads plotly.js's decoded traces (gd._fullData): gd.data may still hold Plotly.py's
#: base64 "bdata" arrays. Counts only traces plotly.js has already computed (gd.calcdata).
#: The page's own map: not the points a session's first run draws while the model loads
#: (frame/first_map.py: not clickable); PREVIEW_POINTS_JS counts those.
MAP_POINTS_JS = """
() => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd.closest('.st-key-first_map_preview')) continue;
    if (!gd._fullData || !gd.calcdata || !gd._fullLayout || !gd._fullLayout.xaxis) continue;
    let n = 0;
    for (const t of gd._fullData) {
      const cd = t.customdata;
      if (!cd || !cd.length || !gd.calcdata[t.index]) continue;
      for (let i = 0; i < cd.length; i++) if (cd[i] && cd[i][0] === 0) n++;
    }
    if (n > 0) return n;
  }
  return -1;
}
"""
#: The same count for the first run's preview of the map (frame/first_map.py), -1 while there is none.
PREVIEW_POINTS_JS = MAP_POINTS_JS.replace("if (gd.closest('.st-key-first_map_preview')) continue;",
                                          "if (!gd.closest('.st-key-first_map_preview')) continue;")


#: True once the script has run and finished: the frontend's own script-run state is
#: "notRunning" ("initial" on a page that has not heard from its script yet, so a check made right
#: after a navigation waits for the new page's run instead of passing at once), the connection is up,
#: and no running-man status or spinner is shown.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-testid="stStatusWidget"]') && !document.querySelector('[data-testid="stSpinner"]');
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path(shell: bool = False) -> str | None:
    """The system's Chromium, or None. ``shell``: Debian's chromium-headless-shell where it is
    installed (``make browser`` adds it): the same engine without the browser's own window and UI, as
    Playwright's own headless runs use; the tests drive it, and it drew six pages with 13% less CPU
    than chromium (46 against 53 CPU-s, twice each, measured side by side). The benchmarks keep the
    full browser, the one users have."""
    names = ("chromium-headless-shell",) if shell else ()
    for name in (*names, "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Server:
    """One ``streamlit run app.py`` (or another ``script``) subprocess on a free port (a context manager)."""

    def __init__(self, env: dict[str, str] | None = None, port: int | None = None, script: Path | None = None):
        self.port = port or free_port()
        self.url = f"http://localhost:{self.port}"
        self._log = tempfile.TemporaryFile(mode="w+")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script or ROOT / "app.py"), "--server.port", str(self.port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=self._log, stderr=subprocess.STDOUT, text=True,
        )

    def log_tail(self, n: int = 2000) -> str:
        """The end of what the server printed ("" once it has stopped)."""
        if self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read()[-n:]

    def wait_healthy(self, timeout: float = 180) -> float:
        """Block until /_stcore/health answers ok; returns seconds since the process started."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"{self.url} did not become healthy in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser (Playwright); Skip where none can be launched."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        raise Skip(f"playwright is not installed ({e}); pip install -r requirements.txt") from None
    with sync_playwright() as p:
        exe = chromium_path()
        try:
            browser = (p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS) if exe
                       else p.chromium.launch(args=CHROMIUM_ARGS))
        except Exception as e:
            raise Skip(f"no Chromium could be launched ({str(e).splitlines()[0][:120]}); run `make browser`") \
                from None
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, timeout_ms: int = 240_000):
    """A fresh browser context (its own Streamlit session) and its page."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.set_default_timeout(timeout_ms)
    return ctx, page


#: What the app shows when a wait failed: its script and connection state, a spinner, an exception.
APP_SEEN_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return `no Streamlit app at ${location.href}`;
  const exc = document.querySelector('[data-testid="stException"]');
  return `script ${app.dataset.testScriptState}, connection ${app.dataset.testConnectionState}`
    + (document.querySelector('[data-testid="stSpinner"]') ? ', a spinner' : '')
    + (exc ? `, an exception: ${exc.innerText.split('\\n')[0].slice(0, 120)}` : '') + ` at ${location.pathname}`;
}"""


def wait_idle(page, timeout_ms: int = 240_000) -> None:
    """Wait until Streamlit has finished running the script (WaitFailed saying what it showed)."""
    wait_for(page, IDLE_JS, "the app to finish its run", timeout_ms / 1000, APP_SEEN_JS)


def open_app(page, server: Server, checkpoint: str, nav: str | None = None) -> int:
    """Open the app at its root (the Map page) for ``checkpoint``, wait for the map's points,
    then, if ``nav`` is given, follow that sidebar link (e.g. "Sliders") and wait until idle.

    Starting from the root (not a deep link), as a user's first visit does. Returns how many map
    points were drawn.
    """
    page.goto(f"{server.url}/?ckpt={checkpoint}")
    n = wait_map(page)
    if nav:
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text=nav).first.click()
        page.wait_for_url(f"**/{nav.lower().replace(' ', '_')}*")
        wait_idle(page)
    return n


def wait_map(page, min_points: int = 1, timeout_ms: int = 600_000) -> int:
    """Wait until the map's data points are drawn; returns how many."""
    try:
        page.wait_for_function(f"() => ({MAP_POINTS_JS})() >= {int(min_points)}", timeout=timeout_ms, polling=50)
    except Exception as e:  # Playwright's TimeoutError
        raise WaitFailed(f"waited {timeout_ms / 1000:.0f} s for at least {min_points} map point(s); saw "
                         f"{page.evaluate(MAP_POINTS_JS)} point(s), {page.evaluate(APP_SEEN_JS)}") from e
    return int(page.evaluate(MAP_POINTS_JS))


# -- memory -------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            kids.append(int(d.name))
    return kids


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_mb(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process and its children, MB."""
    pids = process_tree(pid)
    return {"peak_mb": sum(_status_kb(p, "VmHWM") for p in pids) / 1024,
            "rss_mb": sum(_status_kb(p, "VmRSS") for p in pids) / 1024, "processes": len(pids)}
