"""Maps of 10,000, 70,000 and a million codes: how long they take to build, how smoothly they pan.

Needs the train split of the checkpoint's data set (``make data``; else skipped with the reason).

- ``map_build_70k``: ``python -m vae map CK --split all`` in a fresh process with an empty cache
  except for the encodings (built first, reported apart as ``encode_s``: a one-time cost cached
  on disk): the test map (shipped in the checkpoint, else fitted) and 60,000 training codes
  placed on it. Peer (full runs): umap-learn fitted on all 70,000 codes in the same run; both
  maps' trustworthiness (k = 10, sklearn, 5,000 random codes) is in the record.
- ``map_build_1m``: ``python -m vae map CK --split all --samples 15`` with the 70k map cached:
  15 posterior samples of each of the 70,000 images (1,050,000 codes) placed on the map.
- ``map_frame_10k``, ``map_frame_70k``, ``map_frame_1m``: in Chromium, the Map page of the test
  split, of all images, and of their 15 samples; the mouse drags the map (pan) and turns the
  wheel (zoom); every animation frame's interval is recorded while it does; p95. Plotly's WebGL
  scatter draws 10k and 70k, the density component (components/big_map) the million. Goal of
  the issue: at most 50 ms at 1M.
- ``map_colour_70k``: in the same browser, seconds from choosing another "Colour by" to the map
  drawn in it, on the 70k map; peer: the same on the 10k map (the issue: as responsive as at 10k).
- ``map_memory_1m``: the server's resident memory with the million-code map open (and, in the
  note, the same server's when it had only the 10k map open).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vae.checkpoint import load_checkpoint
from vae.explorer import all_available

from .app_driver import Server, chromium, new_page, tree_memory_mb, wait_idle, wait_map
from .records import Record, median, p95, spread
from .settings import ROOT, Settings, Skip

NAME = "map_scale"
PREFIXES = ("map_build", "map_frame", "map_colour", "map_memory", "map_scale")
SAMPLES = 15
GOAL_MS = 50.0

#: Records the interval between animation frames while `window.__frames.on` is true.
FRAMES_JS = """
() => {
  const f = window.__frames = {on: false, t: [], last: null};
  const tick = (now) => {
    if (f.on) { if (f.last !== null) f.t.push(now - f.last); f.last = now; } else f.last = null;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


def vae_map(checkpoint: Path, cache: Path, *extra: str) -> float:
    """Seconds for ``python -m vae map`` in a fresh process (imports included)."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "vae", "map", str(checkpoint), "--cache-dir", str(cache), *extra],
                       cwd=ROOT, capture_output=True, text=True, timeout=3600, env={**os.environ})
    if r.returncode != 0:
        raise RuntimeError(f"vae map {' '.join(extra)} failed: {r.stderr[-600:]}")
    return time.perf_counter() - t0


def full_fit_check(checkpoint: Path, cache: Path, settings: Settings) -> dict:
    """umap-learn on every code of the all set (the peer), and both maps' trustworthiness."""
    from vae.explorer import ALL, all_parts, default_projection, explore_parts, explore_set, placed_projection
    from vae.projection import fit_projection, trustworthiness

    ck = load_checkpoint(checkpoint)
    parts = all_parts(ck)
    enc, base = explore_parts(ck, parts, cache), explore_set(ck, parts[0], cache)
    cfg = default_projection(ck)
    placed = placed_projection(ck, ALL, base, enc, cfg, cache)
    out = {"trust_placed": trustworthiness(enc.mu, placed), "points": len(enc)}
    if not settings.quick:
        settings.say(f"map_scale: umap-learn on all {len(enc):,} codes (the peer)")
        fit_projection(enc.mu[:2000], cfg)  # compile first: the peer's time is a warm fit
        t0 = time.perf_counter()
        full, _ = fit_projection(enc.mu, cfg)
        out.update(full_s=time.perf_counter() - t0, trust_full=trustworthiness(enc.mu, full))
    return out


def gestures(page, box: dict, drags: int, wheels: int) -> list[float]:
    """Pan (drags of the mouse) and zoom (wheel turns) over ``box``; the frame intervals meanwhile, ms."""
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.evaluate("() => { window.__frames.t = []; window.__frames.on = true; }")
    for k in range(drags):
        page.mouse.move(cx, cy)
        page.mouse.down()
        for s in range(1, 21):
            page.mouse.move(cx + (-1) ** k * 6 * s, cy + 3 * s)
            page.wait_for_timeout(16)
        page.mouse.up()
        page.wait_for_timeout(100)
    for k in range(wheels):
        page.mouse.move(cx + 20 * ((k % 5) - 2), cy)
        page.mouse.wheel(0, -120 if k < wheels // 2 else 120)
        page.wait_for_timeout(40)
    page.wait_for_timeout(300)
    return page.evaluate("() => { window.__frames.on = false; return window.__frames.t; }")


#: How many traces draw the map's data points (customdata kind 0): one a class when coloured by
#: class, one when coloured by a number. Only traces plotly.js has computed (gd.calcdata) count.
DATA_TRACES_JS = """
() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullData || !gd.calcdata) return -1;
  return gd._fullData.filter(t => t.customdata && t.customdata.length && t.customdata[0]
                                  && t.customdata[0][0] === 0 && gd.calcdata[t.index]).length;
}
"""


def colour_changes(page, times: int) -> list[float]:
    """Seconds from choosing another "Colour by" option to the map redrawn in its colours, alternating
    between the KL (one trace, a colour scale) and the classes (a trace a class)."""
    out = []
    for k in range(times):
        option, one_trace = ("KL(q(z|x)", True) if k % 2 == 0 else ("class", False)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by").first.click()
        item = page.locator('[role="option"]').filter(has_text=re.compile(f"^{re.escape(option)}"))
        t0 = time.perf_counter()
        item.first.click()
        want = "=== 1" if one_trace else "> 1"
        page.wait_for_function(f"() => ({DATA_TRACES_JS})() {want}", polling=20)
        out.append(time.perf_counter() - t0)
        wait_idle(page)
    return out


def plotly_box(page) -> dict:
    return page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()


def run(settings: Settings) -> list[Record]:
    ck = load_checkpoint(settings.checkpoint)
    if not all_available(ck):
        raise Skip(f"the train split of {ck.dataset} is not on this machine (make data, or VAE_DATA_DIR)")
    drags, wheels = settings.pick((3, 10), (8, 30))
    changes = settings.pick(4, 10)
    with tempfile.TemporaryDirectory(prefix="bench-map-scale-") as tmp:
        cache = Path(tmp)
        settings.say("map_scale: encoding every image (once; reported apart)")
        t0 = time.perf_counter()
        vae_map(settings.checkpoint, cache, "--split", "test")
        encode_s = vae_map(settings.checkpoint, cache, "--split", "all")  # the encodings: cached from here on
        for f in cache.glob("proj-*-all-*"):
            f.unlink()  # keep the encodings, drop the all map: the next build is cold
        settings.say(f"map_scale: encodings in {time.perf_counter() - t0:.0f} s; building the 70k map cold")
        build_70k = vae_map(settings.checkpoint, cache, "--split", "all")
        settings.say(f"map_scale: 70k map in {build_70k:.1f} s; the million samples")
        build_1m = vae_map(settings.checkpoint, cache, "--split", "all", "--samples", str(SAMPLES))
        check = full_fit_check(settings.checkpoint, cache, settings)

        env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root), "VAE_EXPLORER_CACHE": str(cache)}
        frames: dict[str, list[float]] = {}
        colours: dict[str, list[float]] = {}
        with chromium() as browser, Server(env) as server:
            server.wait_healthy()
            ctx, page = new_page(browser, timeout_ms=900_000)
            page.add_init_script(f"({FRAMES_JS})()")
            page.goto(f"{server.url}/?ckpt={settings.checkpoint_name}")
            n10 = wait_map(page)
            wait_idle(page)
            mem_10k = tree_memory_mb(server.proc.pid)
            frames["10k"] = gestures(page, plotly_box(page), drags, wheels)
            colours["10k"] = colour_changes(page, changes)
            page.get_by_text(re.compile(r"^all .*\(train \+ test\)$")).click()
            wait_idle(page)
            n70 = wait_map(page, 20_000)
            frames["70k"] = gestures(page, plotly_box(page), drags, wheels)
            colours["70k"] = colour_changes(page, changes)
            page.get_by_text(f"{SAMPLES} samples z ~ q(z|x)").click()
            wait_idle(page)
            page.wait_for_function("() => window.__vaeBigMap && window.__vaeBigMap.index "
                                   "&& window.__vaeBigMap.frames.length > 0", timeout=900_000)
            n1m = page.evaluate("() => window.__vaeBigMap.cls.length")
            box = page.locator("canvas.vae-big-map-canvas").bounding_box()
            page.evaluate("() => { window.__vaeBigMap.frames.length = 0; }")
            frames["1m"] = gestures(page, box, drags, wheels)
            draw_ms = page.evaluate("() => window.__vaeBigMap.frames")
            mem_1m = tree_memory_mb(server.proc.pid)
            ctx.close()

    trust = (f"trustworthiness {check['trust_placed']:.3f}"
             + (f" vs {check['trust_full']:.3f} for the full fit" if "trust_full" in check else ""))
    recs = [
        Record("map_build_70k", build_70k, check.get("full_s"), "s", 1, "lower",
               ours_label="test map (shipped) + 60,000 codes placed by exact k-NN (python -m vae map --split all)",
               peer_label="umap-learn fitted on all codes, warm (full runs only)",
               goal="<= 20 s cold on 2 cores", met=build_70k <= 20.0,
               note=f"{check['points']:,} codes, fresh process; {trust}; encoding first: {encode_s:.0f} s, once",
               extra={"encode_s": encode_s, **{k: v for k, v in check.items() if k.startswith("trust")}}),
        Record("map_build_1m", build_1m, None, "s", 1, "lower",
               ours_label=f"{SAMPLES} posterior samples of every image placed by exact k-NN "
                          f"(python -m vae map --split all --samples {SAMPLES})",
               note=f"{n1m:,} codes, fresh process, the 70k map cached", extra={"codes": n1m}),
    ]
    for key, n, how in (("10k", n10, "Plotly WebGL (st.plotly_chart)"), ("70k", n70, "Plotly WebGL (st.plotly_chart)"),
                        ("1m", n1m, "density raster -> points (components/big_map)")):
        t = frames[key]
        recs.append(Record(
            f"map_frame_{key}", p95(t), None, "ms", len(t), "lower", ours_label=how,
            goal=f"<= {GOAL_MS:.0f} ms" if key == "1m" else "", met=(p95(t) <= GOAL_MS) if key == "1m" else None,
            note=f"{n:,} codes; p95 interval between animation frames while panning and zooming in Chromium",
            extra={"frame_ms": spread(t), "codes": n,
                   **({"draw_ms": spread(draw_ms)} if key == "1m" else {})}))
    c10, c70 = (np.array(colours[k]) * 1000 for k in ("10k", "70k"))
    recs.append(Record(
        "map_colour_70k", median(c70), median(c10), "ms", len(c70), "lower",
        ours_label=f"{n70:,} codes: another 'Colour by', until the map is redrawn in it (Chromium)",
        peer_label=f"the same on the {n10:,}-code map", goal="as responsive as at 10k",
        note="median; the page reruns on the server, the figure travels to the browser and is drawn",
        extra={"colour_ms": spread(c70), "colour_ms_10k": spread(c10)}))
    recs.append(Record("map_memory_1m", mem_1m["rss_mb"], None, "MB", 1, "lower",
                       ours_label=f"server RSS with the {n1m:,}-code map open",
                       note=f"resident memory, server + children; {mem_10k['rss_mb']:.0f} MB when it had only the "
                            "10k map open",
                       extra={"peak_mb": mem_1m["peak_mb"], "rss_mb_10k": mem_10k["rss_mb"],
                              "peak_mb_10k": mem_10k["peak_mb"]}))
    return recs
