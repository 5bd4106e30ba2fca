"""Memory of the app server: peak RSS with one browser session, then with ten.

One ``streamlit run`` server (default caches); one Chromium context opens the Map page and
waits for its points, then nine more contexts do the same (ten sessions open at once).
Peak resident memory is VmHWM from /proc, summed over the server and its children.
There is no peer: ``per_extra_session_mb`` says what each further session costs, and
``idle_mb`` what the server holds before any session.
"""

from __future__ import annotations

from .app_driver import Server, chromium, new_page, tree_memory_mb, wait_map
from .records import Record
from .settings import Settings

NAME = "memory"
PREFIXES = ("memory", "server_rss")  # --only accepts the record names too
SESSIONS = 10


def run(settings: Settings) -> list[Record]:
    env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root)}
    name = settings.checkpoint_name
    with chromium() as browser, Server(env) as server:
        server.wait_healthy()
        idle = tree_memory_mb(server.proc.pid)
        contexts = []
        ctx, page = new_page(browser, timeout_ms=600_000)
        contexts.append(ctx)
        page.goto(f"{server.url}/?ckpt={name}")
        points = wait_map(page)
        one = tree_memory_mb(server.proc.pid)
        settings.say(f"memory: 1 session {one['peak_mb']:.0f} MB peak; opening {SESSIONS - 1} more")
        pages = []
        for _ in range(SESSIONS - 1):
            ctx, page = new_page(browser, timeout_ms=600_000)
            contexts.append(ctx)
            page.goto(f"{server.url}/?ckpt={name}", wait_until="commit")
            pages.append(page)
        for page in pages:
            wait_map(page, points)
        ten = tree_memory_mb(server.proc.pid)
        for ctx in contexts:
            ctx.close()
    per_extra = (ten["peak_mb"] - one["peak_mb"]) / (SESSIONS - 1)
    common = {"idle_mb": idle["peak_mb"], "map_points": points}
    return [
        Record("server_rss_1_session", one["peak_mb"], None, "MB", 1, "lower",
               ours_label="peak RSS (VmHWM), server + children", note="Map page open in 1 browser context",
               extra={**common, "rss_mb": one["rss_mb"], "processes": one["processes"]}),
        Record("server_rss_10_sessions", ten["peak_mb"], None, "MB", SESSIONS, "lower",
               ours_label="peak RSS (VmHWM), server + children",
               note=f"Map page open in {SESSIONS} contexts; +{per_extra:.1f} MB per extra session",
               extra={**common, "rss_mb": ten["rss_mb"], "per_extra_session_mb": per_extra,
                      "processes": ten["processes"]}),
    ]
