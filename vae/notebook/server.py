"""The explorer app's background server for notebook sessions (:mod:`vae.notebook`).

One ``streamlit run app.py`` per Python process (a Jupyter kernel), as FiftyOne keeps one App
server per process: started on first use on a free localhost port, healthy before it is used,
reused by every later session, and stopped with the last session or when the process exits
(``atexit``). It shows the checkpoints that are links in a folder of its own (``$VAE_CHECKPOINTS``);
the sessions' selection files live beside them (``$VAE_NOTEBOOK_EXCHANGE``, :mod:`vae.notebook.exchange`).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..data.cache import PROJECT_ROOT
from . import exchange

APP_FILE = PROJECT_ROOT / "app.py"  # beside the vae package in a checkout; the wheel ships the library only
START_TIMEOUT = 180.0  # seconds the server may take to answer /_stcore/health
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")  # a checkpoint name the app's picker shows


@dataclass
class AppServer:
    """A running ``streamlit run app.py``: the checkpoints it shows are links in ``root/checkpoints``,
    the sessions' files live in ``root/exchange``."""

    proc: subprocess.Popen
    port: int
    root: Path
    log: IO[str]
    sessions: dict[str, str] = field(default_factory=dict)  # open sessions: token -> checkpoint name

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 3000) -> str:
        if self.log.closed:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-n:]

    def stop(self) -> None:
        """Terminate the server (kill it after 10 s) and remove its links and files."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)
        self.sessions.clear()

    def open_session(self, folder: Path, default: str, name: str | None, split: str) -> tuple[str, str]:
        """Show the checkpoint ``folder`` (named ``name``, else ``default``) to a new session: its name in
        the picker and the session's token."""
        with _LOCK:
            checkpoint = self._link(folder, default, name)
            token = exchange.new_token()
            exchange.open_session(self.exchange, token, checkpoint, split)
            self.sessions[token] = checkpoint
            return checkpoint, token

    def close_session(self, token: str) -> None:
        """Forget a session: its file, its checkpoint's link when no other session shows it, and the
        server itself with the last session."""
        global _SERVER
        with _LOCK:
            checkpoint = self.sessions.pop(token, None)
            (self.exchange / f"{token}.json").unlink(missing_ok=True)
            if checkpoint is not None and checkpoint not in self.sessions.values():
                (self.checkpoints / checkpoint).unlink(missing_ok=True)
            if not self.sessions:
                self.stop()
                if _SERVER is self:
                    _SERVER = None

    def _link(self, folder: Path, default: str, name: str | None) -> str:
        """A link to ``folder`` in the picker's folder, named ``name``, else ``default`` (with a number
        added when another folder has that name)."""
        base = name or (re.sub(r"[^A-Za-z0-9_.-]+", "-", default).strip("-._")[:72] or "checkpoint")
        for k in range(1, 1000):
            candidate = base if k == 1 else f"{base}-{k}"
            link = self.checkpoints / candidate
            if link.is_symlink() and link.resolve() == folder:
                return candidate
            if not link.exists() and not link.is_symlink():
                link.symlink_to(folder, target_is_directory=True)
                return candidate
            if name is not None:
                raise ValueError(f"name={name!r} already shows another checkpoint in this kernel's explorer; pick "
                                 "another name")
        raise RuntimeError(f"too many checkpoints named {base!r} in this kernel's explorer")


_SERVER: AppServer | None = None
_LOCK = threading.RLock()


def _stop_at_exit() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.stop()
        _SERVER = None


def check_port(port: int | None) -> None:
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535):
        raise ValueError(f"port={port!r} is not a port number from 1024 to 65535; leave port out to take a free one")


def _free_port(port: int | None) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port or 0))
        except OSError:
            raise ValueError(f"port={port} is in use; pass another port, or leave port out to take a free one") from None
        return s.getsockname()[1]


def _start(port: int | None, timeout: float) -> AppServer:
    if not APP_FILE.is_file():
        raise RuntimeError(f"vae.explore runs the explorer app, {APP_FILE}, which is not there: an installed vae "
                           "package holds the library only. Call it from a checkout of the repository "
                           "(`pip install -e .` there, or start Jupyter in it)")
    if importlib.util.find_spec("streamlit") is None:
        raise RuntimeError(f"vae.explore runs the app with Streamlit, which {sys.executable} cannot import; install "
                           "the checkout's requirements.txt into this kernel's environment")
    port = _free_port(port)
    root = Path(tempfile.mkdtemp(prefix="vae-explore-"))
    (root / "checkpoints").mkdir()
    (root / "exchange").mkdir()
    env = {**os.environ, "VAE_CHECKPOINTS": str(root / "checkpoints"), exchange.ENV: str(root / "exchange"),
           "PYTHONUNBUFFERED": "1"}
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # a file, never a pipe nobody reads
    # a session of its own: interrupting the kernel (SIGINT to its process group) leaves the server running
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP_FILE), "--server.port", str(port),
         "--server.address", "localhost", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=APP_FILE.parent, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    server = AppServer(proc, port, root, log)
    try:
        _wait_healthy(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: AppServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"the explorer's server stopped as it started (exit code {server.proc.returncode}):\n"
                               f"{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"the explorer's server did not answer on {server.url} within {timeout:g} s; its log:\n"
                       f"{server.log_tail()}")


def running(port: int | None = None, timeout: float = START_TIMEOUT) -> AppServer:
    """This process's server: the running one, else a new one (on ``port``, else a free one)."""
    global _SERVER
    with _LOCK:
        if _SERVER is not None and not _SERVER.alive():
            _SERVER.stop()
            _SERVER = None
        if _SERVER is None:
            _SERVER = _start(port, timeout)
            atexit.unregister(_stop_at_exit)  # registered once, however often a server starts
            atexit.register(_stop_at_exit)
        elif port is not None and port != _SERVER.port:
            raise ValueError(f"port={port}: this kernel's explorer already runs on port {_SERVER.port}; leave port "
                             "out, or close its sessions first (session.close())")
        return _SERVER
