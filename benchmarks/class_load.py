"""A whole class at once: N students open the Sliders page's live decoding together, one server.

A student's fresh Chromium opens the Sliders page from the lecturer's link first and its live decoder
loads; the files it fetched under ``/app/static/`` by the time the page is at rest (the runtime's module
and WebAssembly binary, the decoder, the mini map's picture; the map's codes come only once a slider
moves) are what every student's browser downloads. Then N clients (default 30; 10 in a quick run) fetch
exactly those files at the same moment, each over its own connections, with
``Accept-Encoding: gzip, deflate, br, zstd`` as browsers send it, while the lecturer moves a slider
(key press -> the server's new image, as ``slider_roundtrip`` measures it).

Ours: the app as shipped (app.py's static route: Brotli and gzip copies made once, content-addressed
URLs). Peer, in the same run: the same files served by Streamlit's own static serving
(``server.enableStaticServing`` of a one-line app whose static/ holds them), which gzips each
response for each client. Reported: the time until every client has every file, the server's CPU
per client (its process tree's user + system time over the rush), the bytes on the wire, and the
lecturer's round-trip p95 during the rush against the same page idle.

``class_load_page`` is the whole cold page the same way: every file a fresh browser's Sliders page fetched
from the server (Streamlit's own frontend bundles and fonts, and the live decoder's files), N clients at
once; ours sends Streamlit's bundles from Brotli copies made once (components/frontend_files.py), the peer
is plain Streamlit (its bundles as they are, the live files gzipped per request).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .app_driver import Server, chromium, new_page, open_app, process_tree, wait_idle
from .live_driver import wait_live
from .records import Record, median, p95
from .settings import ROOT, Settings, WaitFailed
from .slider_roundtrip import one_move

NAME = "class_load"
PREFIXES = ("class_load",)
ACCEPT = "gzip, deflate, br, zstd"
STATIC_JS = """
() => performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/app/static/'))
"""
#: Every file of the server's a cold page fetched that is the same for every student: Streamlit's bundles and
#: fonts (/static/), and the live decoder's (/app/static/); not the page's own media or the health checks.
PAGE_JS = """
() => performance.getEntriesByType('resource').map(e => new URL(e.name))
  .filter(u => u.origin === location.origin && (u.pathname.startsWith('/static/') || u.pathname.startsWith('/app/static/')))
  .map(u => u.pathname + u.search)
"""
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children, seconds."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / _TICK


def fetch_all(base: str, paths: list[str]) -> tuple[float, int]:
    """One client: every path fetched in turn (seconds, bytes on the wire)."""
    t0 = time.perf_counter()
    wire = 0
    for path in paths:
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": ACCEPT})
        with urllib.request.urlopen(request, timeout=600) as r:
            wire += len(r.read())
    return time.perf_counter() - t0, wire


def rush(base: str, paths: list[str], clients: int, pid: int) -> dict:
    """``clients`` clients at once: when the last has every file, the median one, CPU and bytes."""
    results: list[tuple[float, int] | Exception] = [None] * clients  # type: ignore[list-item]
    start = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        start.wait()
        try:
            results[k] = fetch_all(base, paths)
        except Exception as e:  # noqa: BLE001 - counted below, named in the failure
            results[k] = e

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    cpu0 = cpu_seconds(pid)
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(900)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    failed = [r for r in results if not isinstance(r, tuple)]
    if failed:
        raise WaitFailed(f"{len(failed)} of {clients} clients did not get every file from {base}: {failed[0]}")
    return {"all_s": wall, "median_s": median([r[0] for r in results]), "cpu_per_client_s": cpu / clients,
            "mb_per_client": results[0][1] / 1e6}


def streamlit_static_app(folder: Path, files: dict[str, Path]) -> Path:
    """A one-line app whose static/ holds ``files`` (URL path under /app/static/ -> file), served by
    Streamlit's own static serving."""
    (folder / ".streamlit").mkdir(parents=True)
    (folder / ".streamlit" / "config.toml").write_text("[server]\nenableStaticServing = true\nheadless = true\n",
                                                       encoding="utf-8")
    (folder / "app.py").write_text("import streamlit as st\nst.write('static files')\n", encoding="utf-8")
    for rel, src in files.items():
        dest = folder / "static" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)  # a link out of static/ is refused (400), as a path out of it would be
    return folder / "app.py"


def lecturer(page, moves: int) -> list[float]:
    """Key presses on the first slider (alternating right and left): ms to the server's new image."""
    out = []
    for k in range(moves):
        ms = one_move(page, "ArrowRight" if k % 2 == 0 else "ArrowLeft", timeout_ms=60_000)
        if ms is not None:
            out.append(ms)
    return out


def run(settings: Settings) -> list[Record]:
    clients = int(os.environ.get("VAE_CLASS_CLIENTS") or settings.pick(10, 30))
    env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root)}
    with chromium() as browser, Server(env) as server, tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        server.wait_healthy()
        # what a student's fresh browser fetches, opening the Sliders page from the lecturer's link, at rest
        sctx, student = new_page(browser)
        student.goto(f"{server.url}/sliders?ckpt={settings.checkpoint_name}")
        wait_live(student, "sliders")
        wait_idle(student)
        urls = sorted(set(student.evaluate(STATIC_JS)))
        page_paths = sorted(set(student.evaluate(PAGE_JS)))
        sctx.close()
        ctx, page = new_page(browser)
        open_app(page, server, settings.checkpoint_name, nav="Sliders")
        wait_live(page, "sliders")
        if not urls:
            raise WaitFailed("the Sliders page fetched nothing under /app/static/ (is live decoding on?)")
        paths = [u.split(server.url, 1)[1] for u in urls]
        settings.say(f"class_load: {clients} clients x {len(paths)} files ({', '.join(p.split('?')[0].rsplit('/', 1)[1] for p in paths)})")
        idle = lecturer(page, settings.pick(8, 16))
        during: list[float] = []
        # the lecturer keeps moving the slider in this thread while the class downloads in others
        ours = {}
        rush_thread = threading.Thread(target=lambda: ours.update(rush(server.url, paths, clients, server.proc.pid)))
        rush_thread.start()
        while rush_thread.is_alive():
            during += lecturer(page, 1)
        rush_thread.join()
        ctx.close()
        # the whole page, as the student's fresh browser fetched it
        page_ours = rush(server.url, page_paths, clients, server.proc.pid)
        # the peer: the same files from Streamlit's own static serving, the same clients at once
        live = [p.split("/app/static/", 1)[1].split("?")[0] for p in (*paths, *page_paths) if "/app/static/" in p]
        files = {rel: ROOT / "static" / rel for rel in live}
        with Server(env, script=streamlit_static_app(Path(tmp) / "peer", files)) as peer_server:
            peer_server.wait_healthy()
            peer_paths = ["/app/static/" + p.split("/app/static/", 1)[1].split("?")[0] for p in paths]
            peer = rush(peer_server.url, peer_paths, clients, peer_server.proc.pid)
            page_peer = rush(peer_server.url, [p.split("?")[0] for p in page_paths], clients, peer_server.proc.pid)
    note = f"{clients} clients at once, {len(paths)} files each ({ours['mb_per_client']:.2f} MB on the wire each)"
    records = [
        Record(NAME, ours["all_s"], peer["all_s"], "s", clients, "lower",
               ours_label="app.py: copies made once, content-addressed", peer_label="Streamlit's static serving",
               goal="≤ 10 s", note=f"until every client has the live assets; {note}",
               extra={"ours": ours, "peer": peer, "clients": clients, "files": paths}),
        Record(f"{NAME}_cpu", ours["cpu_per_client_s"], peer["cpu_per_client_s"], "s", clients, "lower",
               ours_label="server CPU per client", peer_label="the same, Streamlit's static serving",
               goal="≤ 0.05 s", note="user + system time of the server's processes over the rush, per client"),
        Record(f"{NAME}_wire", ours["mb_per_client"], peer["mb_per_client"], "MB", clients, "lower",
               ours_label="Brotli copies", peer_label="gzip per request", goal="≤ 4 MB",
               note="bytes on the wire per client (Accept-Encoding: gzip, deflate, br, zstd)"),
        Record(f"{NAME}_lecturer", p95(during), p95(idle), "ms", len(during), "lower",
               ours_label="slider round trip p95 during the rush", peer_label="the same page, idle",
               goal="≤ 2× idle", note="key press -> the server's new image on the lecturer's Sliders page",
               extra={"during_ms": during, "idle_ms": idle, "median_during": median(during),
                      "median_idle": median(idle)}),
    ]
    page_note = (f"{clients} clients at once, {len(page_paths)} files each: Streamlit's bundles and fonts and the "
                 "live decoder's, as a fresh browser's Sliders page fetched them")
    records += [
        Record(f"{NAME}_page", page_ours["all_s"], page_peer["all_s"], "s", clients, "lower",
               ours_label="app.py: Streamlit's bundles and the live files from copies made once",
               peer_label="plain Streamlit: bundles as they are, live files gzipped per request",
               note=f"until every client has the whole page; {page_note}",
               extra={"ours": page_ours, "peer": page_peer, "files": page_paths}),
        Record(f"{NAME}_page_wire", page_ours["mb_per_client"], page_peer["mb_per_client"], "MB", clients, "lower",
               ours_label="the whole cold page, on the wire", peer_label="the same, plain Streamlit",
               note="bytes on the wire per client for the whole cold Sliders page"),
        Record(f"{NAME}_page_cpu", page_ours["cpu_per_client_s"], page_peer["cpu_per_client_s"], "s", clients, "lower",
               ours_label="server CPU per client, whole page", peer_label="the same, plain Streamlit",
               note="user + system time of the server's processes over the rush, per client"),
    ]
    for r in records[:3]:
        limit = {"s": 10.0 if r.name == NAME else 0.05, "MB": 4.0}[r.unit]
        r.met = r.ours is not None and r.ours <= limit
    lect = records[3]
    lect.met = lect.ours is not None and lect.peer is not None and lect.ours <= 2 * lect.peer
    return records
