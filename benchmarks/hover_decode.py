"""Map hover decoded in the browser: input -> pixels while the mouse moves over the map.

Chromium opens the Map page and moves the mouse across the map's plotting area, 60 moves at
60 Hz per sweep; the preview beside the map decodes the spot under the mouse in the page
(the page's twin of ``LatentMap.to_latent``, then the decoder). A move counts as drawn when a
frame decoded from it reached the preview canvas.

The peer is today's server path for a spot of the map: a click on empty space, timed from the
mouse release to the server's decoded image on screen (the page reruns, maps the spot back to
a code, decodes it and sends the image).
"""

from __future__ import annotations

import time

from .app_driver import Server, chromium, new_page, open_app, wait_idle
from .live_driver import mark, moves_drawn, paced_moves, summary, wait_live
from .records import Record, median, p95
from .settings import Settings

NAME = "hover_decode"
MOVES = 60
AREA_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  const grid = [];
  for (const t of gd._fullData) {
    if (!t.customdata || !t.x) continue;
    for (let i = 0; i < t.x.length; i++) if (t.customdata[i][0] === 1)
      grid.push([r.left + xa._offset + xa.l2p(t.x[i]), r.top + ya._offset + ya.l2p(t.y[i])]);
  }
  // only spots inside the window, and no data point drawn within 6 px (a click there picks that image)
  const points = [];
  for (const t of gd._fullData) {
    if (!t.customdata || !t.x || !t.customdata.length || t.customdata[0][0] !== 0) continue;
    for (let i = 0; i < t.x.length; i++) points.push([r.left + xa._offset + xa.l2p(t.x[i]), r.top + ya._offset + ya.l2p(t.y[i])]);
  }
  const free = ([x, y]) => x > 10 && y > 10 && x < innerWidth - 10 && y < innerHeight - 10
    && !points.some(([px, py]) => Math.abs(px - x) < 6 && Math.abs(py - y) < 6);
  grid.splice(0, grid.length, ...grid.filter(free));
  return {left: r.left + xa._offset, top: r.top + ya._offset, width: xa._length, height: ya._length, grid};
}
"""
CLICK_PROBE_JS = """
() => {
  const b = window.__click = {t0: null, t1: null, before: new Set(
    [...document.querySelectorAll('[data-testid="stImage"] img')].map(i => i.src))};
  document.addEventListener('pointerup', (e) => { if (b.t0 === null) b.t0 = e.timeStamp; },
                            {capture: true, once: true});
  const tick = () => {
    if (window.__click !== b) return;
    const box = [...document.querySelectorAll('[data-testid="stImage"]')].find(e => e.innerText.includes('decoded at ('));
    const i = box && box.querySelector('img');
    if (b.t0 !== null && i && !b.before.has(i.src) && i.complete && i.naturalWidth > 0) {
      b.t1 = performance.now();
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


def run(settings: Settings) -> list[Record]:
    sweeps, clicks = settings.pick((3, 3), (6, 6))
    env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root)}
    lat: list[float] = []
    moves = drawn = 0
    click_ms: list[float] = []
    with chromium() as browser, Server(env) as server:
        server.wait_healthy()
        ctx, page = new_page(browser)
        open_app(page, server, settings.checkpoint_name)
        wait_idle(page)
        wait_live(page, "hover")
        time.sleep(1.0)  # the map's layout settles
        area = page.evaluate(AREA_JS)
        settings.say(f"hover_decode: {server.url}, {sweeps} sweeps of {MOVES} moves at 60 Hz, {clicks} clicks")
        for k in range(sweeps):
            y0 = area["top"] + area["height"] * (0.2 + 0.6 * k / max(1, sweeps - 1))
            xs = (area["left"] + 5, area["left"] + area["width"] - 5)
            if k % 2:
                xs = xs[::-1]
            points = [(xs[0] + (xs[1] - xs[0]) * i / MOVES, y0 + 30 * (i / MOVES)) for i in range(MOVES + 1)]
            first = mark(page, "hover")
            paced_moves(page, points)
            time.sleep(0.15)
            m, d, lt = moves_drawn(page, "hover", first)
            moves, drawn, lat = moves + m, drawn + d, lat + lt
        for k in range(clicks):  # the server path: click empty spots (the map's invisible grid points)
            wait_idle(page)
            grid = page.evaluate(AREA_JS)["grid"]  # again: the panel beside the map grows after a click
            if not grid:
                settings.say("hover_decode: no empty spot of the map in the window to click on; clicks stop here")
                break
            x, y = grid[(k * 7919) % len(grid)]
            page.evaluate(CLICK_PROBE_JS)
            page.mouse.click(x, y)
            try:
                page.wait_for_function("() => window.__click.t1 !== null", timeout=30_000)
                click_ms.append(float(page.evaluate("() => window.__click.t1 - window.__click.t0")))
            except Exception:
                settings.say(f"hover_decode: click {k + 1} at ({x:.0f}, {y:.0f}): no decoded image within 30 s")
            wait_idle(page)
        ctx.close()
    s = summary(lat, moves, drawn)
    rec = Record(
        NAME, median(lat), median(click_ms), "ms", len(lat), "lower",
        ours_label="input -> pixels while the mouse moves over the map, decoded in the page",
        peer_label="today's server path: click on empty space -> the server's decoded image on screen",
        goal="p95 ≤ 16 ms, ≥ 95% of moves drawn",
        note=f"{drawn}/{moves} moves drawn ({100 * (s['share_drawn'] or 0):.0f}%), p95 {s['p95'] or 0:.1f} ms; "
             f"{len(click_ms)}/{clicks} clicks timed, peer p95 {p95(click_ms) or 0:.0f} ms",
        extra={**s, "peer_p95": p95(click_ms), "peer_samples_ms": click_ms, "peer_n": len(click_ms)},
    )
    rec.met = bool(s["p95"] is not None and s["p95"] <= 16 and (s["share_drawn"] or 0) >= 0.95)
    return [rec]
