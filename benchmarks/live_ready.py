"""Page load -> first live-decoded frame, warm and cold browser cache, and what the page downloads.

Chromium opens the Sliders page in a fresh browser context (cold: an empty HTTP cache), then
reloads it in the same context (warm). Times are on the page's clock from navigation start:
ours to the first frame the page decoded itself (``window.__vaeLive.ready.sliders``); the peer,
in the same loads, to the first server-drawn image on screen (what the page showed before).
Downloads are the ``transferSize`` of the page's resources: those under ``/app/static/`` (the
runtime, the model, the map data) against everything else the page fetched.
"""

from __future__ import annotations

from .app_driver import Server, chromium, new_page, open_app, wait_idle
from .live_driver import wait_live
from .records import Record, median
from .settings import Settings

NAME = "live_ready"
#: Issue #33's goals: first live frame with a warm and a cold browser cache (s), bytes for live decoding (MB).
GOALS = {"warm": 1.0, "cold": 2.0, "bytes": 4.0}
PREFIXES = ("live_ready", "live_download")
FIRST_SERVER_JS = """
(() => {
  window.__firstServer = null;
  const tick = () => {
    const i = document.querySelector('.st-key-sl_server_image img');
    if (i && i.complete && i.naturalWidth > 0) { window.__firstServer = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""
BYTES_JS = """
() => {
  let live = 0, other = 0;
  for (const e of performance.getEntriesByType('resource')) {
    if (e.name.includes('/app/static/')) live += e.transferSize; else other += e.transferSize;
  }
  return {live, other};
}
"""


def one_load(page, url: str, reload: bool) -> dict:
    if reload:
        page.reload()
    else:
        page.goto(url)
    wait_live(page, "sliders")
    page.wait_for_function("() => window.__firstServer !== null", timeout=120_000)
    wait_idle(page)
    out = page.evaluate("() => ({ready: window.__vaeLive.ready.sliders, server: window.__firstServer})")
    out.update(page.evaluate(BYTES_JS))
    return out


def run(settings: Settings) -> list[Record]:
    loads = settings.pick(2, 4)
    env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root)}
    cold: list[dict] = []
    warm: list[dict] = []
    with chromium() as browser, Server(env) as server:
        server.wait_healthy()
        ctx, page = new_page(browser)  # the server's first session: the model exported, caches filled
        open_app(page, server, settings.checkpoint_name, nav="Sliders")
        wait_live(page, "sliders")
        ctx.close()
        url = f"{server.url}/sliders?ckpt={settings.checkpoint_name}"
        settings.say(f"live_ready: {url}, {loads} cold and {loads} warm loads")
        for _ in range(loads):
            ctx, page = new_page(browser)
            page.add_init_script(FIRST_SERVER_JS)
            cold.append(one_load(page, url, reload=False))
            warm.append(one_load(page, url, reload=True))
            ctx.close()
    recs = []
    for name, runs, what in (("live_ready", warm, "warm"), ("live_ready_cold", cold, "cold")):
        ours = median([r["ready"] / 1000 for r in runs])
        peer = median([r["server"] / 1000 for r in runs])
        rec = Record(name, ours, peer, "s", len(runs), "lower",
                     ours_label=f"page load -> first frame decoded in the page, {what} browser cache",
                     peer_label="the same loads: page load -> first server-drawn image",
                     goal=f"≤ {GOALS[what]:g} s",
                     note=f"{what} cache; downloads under /app/static/: "
                          f"{median([r['live'] for r in runs]) / 1e6:.2f} MB",
                     extra={"samples_s": [r["ready"] / 1000 for r in runs],
                            "peer_samples_s": [r["server"] / 1000 for r in runs],
                            "live_bytes": [r["live"] for r in runs], "other_bytes": [r["other"] for r in runs]})
        rec.met = ours is not None and ours <= GOALS[what]
        recs.append(rec)
    download = Record("live_download", median([r["live"] / 1e6 for r in cold]),
                      median([r["other"] / 1e6 for r in cold]), "MB", len(cold), "lower",
                      ours_label="bytes transferred for live decoding (runtime, model, map data), cold cache",
                      peer_label="everything else the page transferred, cold cache", goal=f"≤ {GOALS['bytes']:g} MB",
                      note="transferSize: as compressed on the wire (Brotli where the browser accepts it)")
    download.met = download.ours is not None and download.ours <= GOALS["bytes"]
    recs.append(download)
    return recs
