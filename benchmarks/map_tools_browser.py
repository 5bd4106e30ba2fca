"""The Map's research tools in Chromium (issue #34): search -> highlight, thumbnails while zoomed, and a
brush across a linked chart -> the map redrawn.

Run by ``benchmarks/map_tools.py`` (``python -m benchmarks --only map_tools``), in one browser and one
``streamlit run``: the Map page of the test split (10,000 images, the Plotly map), then of all images
(``?split=all``: 70,000, the canvas map of components/big_map) where the train split is on this machine.
Where it is not, the 70k records say so (ours empty, n = 0); so do all four where no Chromium starts.

- ``map_tools_search_10k`` / ``_70k``: a term typed into the search box above the map (a class, "boot",
  or an image's number, "#42"), timed from the key press that submits it (Enter's keydown, on the page's
  clock). ``ours``: to the matches marked on the map in the page (components/map_filter answers an image's
  number or a class's name itself: the Plotly map's veil drawn, the canvas map's next frame with the mask),
  the median; goal: p95 <= 200 ms, every search answered so. The peer: to the first animation frame at which
  the server's own rerun shows them (Plotly: the figure's "search matches" trace, computed, over data traces
  all faded; canvas: the map's mask from the server and a frame drawn since), what every search cost before
  the page answered it. The page's and the server's counts of matches must agree (else a one-line failure).
  Between two searches the box is cleared (timed too: the ``clear_ms`` extra).
- ``map_tools_thumbs_10k`` / ``_70k``: the map zoomed in, with real wheel turns over a dense spot, until
  its points are drawn as their own images (components/map_thumbs: at most 400 points in view), then
  panned (mouse drags, right, left, down, up) and zoomed (wheel in, then out) there for a few seconds.
  ``ours``: the p95 of the intervals between animation frames meanwhile (as ``map_frame_*`` of map_scale:
  what the user sees, the map's own redraw and the thumbnails together); goal: <= 50 ms. The peer: the
  same gestures on the same map at the same zoom with the thumbnails switched off (dots only), in the same
  run, so that the ratio is what the thumbnails cost. The note gives the thumbnails drawn a frame (median,
  most) and the redraw's own time, p95: the Plotly overlay's canvas (``gd.__vaeThumbFrames``: the
  thumbnails alone, Plotly's WebGL redraw apart), the canvas map's whole frame (``__vaeBigMap.frames``);
  on the Plotly map also how many times its overlay redraws for one relayout (one per overlay mounted: more
  than one means overlays of earlier runs of the page are still drawing).

- ``map_tools_brush_10k`` / ``_70k``: the "Filter by values" panel opened, a chart dragged across (KL, then
  reconstruction error; in a full run σ and −ELBO too) in 40 pointer moves a frame apart, each brush adding its
  term. ``ours``: the p95 over all moves of the time from the pointer's move (the event's time stamp) to the
  map redrawn in the page for it: the Plotly map's veil with the passing dots (components/map_filter), the
  canvas map's next frame with the mask (components/big_map); the charts redraw in the same frame. Goal: p95
  <= 100 ms. The peer: from letting go to the server's map marking the same images (the median), which is
  what every move cost when the charts were Streamlit's own (Altair's selection events rerun the page).

A busy machine is waited for (the page's own state, never a fixed sleep for readiness); what never comes
fails in one line (:class:`benchmarks.settings.WaitFailed`) naming what was waited for and what was seen.
"""

from __future__ import annotations

import re

import numpy as np

from vae.checkpoint import load_checkpoint
from vae.explore.sets import all_available

from .app_driver import Server, chromium, new_page, wait_idle, wait_map
from .map_scale import centred, map_area
from .records import Record, median, p95, spread
from .settings import Settings, Skip, WaitFailed, wait_for

NUMBERS = (42, 1234, 7, 9000)  # the images searched by number (modulo the set's size), between classes
CLASSES = (-1, 5, 8, 6)  # and the classes searched by name: fashion-mnist's boot, sandal, bag, shirt
SEARCH_GOAL_MS = 200.0
FRAME_GOAL_MS = 50.0
FOUND_TRACE = "search matches"  # the figure's trace of a search's matches (vae.explore.figures, English)
THUMBS_BELOW = 400  # components/map_thumbs/thumbs.js: thumbnails with at most this many points in view
ZOOM_STEPS = 120  # wheel turns at most to get there
WHEEL = 120  # one turn of the wheel (deltaY)
PLOTLY_MAP = '[class*="st-key-map_chart_"] .js-plotly-plot'
NAMES = (
    "map_tools_search_10k",
    "map_tools_thumbs_10k",
    "map_tools_brush_10k",
    "map_tools_search_70k",
    "map_tools_thumbs_70k",
    "map_tools_brush_70k",
)

#: The map's search state: {state: "found" | "plain" | "other", n: matches marked, or -1}. Plotly: the
#: found trace (computed) over data traces that are all faded, or no found trace and none faded. Canvas:
#: the map's mask is the search's, or there is none.
SEARCH_STATE_JS = f"""
(canvas) => {{
  if (canvas) {{
    const s = window.__vaeBigMap, linked = globalThis.__vaeMapHighlight;
    if (!s || !s.index || (linked && linked.active)) return {{state: 'other', n: -1}};  // not the server's yet
    if (s.maskFor === 'found' && s.mask) {{ let n = 0; for (const m of s.mask) n += m; return {{state: 'found', n}}; }}
    return {{state: s.maskFor ? 'other' : 'plain', n: -1}};
  }}
  const gd = document.querySelector('{PLOTLY_MAP}');
  if (!gd || !gd._fullData || !gd.calcdata) return {{state: 'other', n: -1}};
  let data = 0, faded = 0, n = -1;
  for (const t of gd._fullData) {{
    const cd = t.customdata;
    if (cd && cd.length && cd[0] && Number(cd[0][0]) === 0) {{
      data++;
      if (t.marker && t.marker.opacity < 0.2) faded++;
    }} else if (t.name === '{FOUND_TRACE}' && gd.calcdata[t.index] && t.x) n = t.x.length;
  }}
  if (data && faded === data && n >= 0) return {{state: 'found', n}};
  return {{state: data && !faded && n < 0 ? 'plain' : 'other', n}};
}}
"""
#: Arms a probe: Enter's keydown time, then the first animation frame at which the map is in the state
#: wanted (the canvas map: once a frame has been drawn after its state was seen).
SEARCH_PROBE_JS = f"""
([canvas, want, text]) => {{
  const read = {SEARCH_STATE_JS};
  const s0 = window.__vaeBigMap;
  const b = window.__searchProbe = {{t0: null, t1: null, caption: null, n: -1, mask: s0 ? s0.mask : null, seen: null,
                                     ticks: 0, page: null, pageN: -1, pageFrames: null}};
  const said = () => !text || [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .some(e => e.textContent.includes(`“${{text}}”`));
  document.addEventListener('keydown', (e) => {{ if (e.key === 'Enter' && b.t0 === null) b.t0 = e.timeStamp; }},
                            {{capture: true}});
  const tick = () => {{
    if (window.__searchProbe !== b) return;
    if (b.t0 !== null) {{
      if (b.caption === null && text && said()) b.caption = performance.now();
      const m = window.__vaeXfMap, shown = m && m.searchShown;  // answered in the page (components/map_filter)
      if (b.page === null && text && shown && shown.text === text && shown.at >= b.t0) {{
        if (!canvas) {{ b.page = shown.at; b.pageN = shown.n; }}
        else if (b.pageFrames === null) b.pageFrames = window.__vaeBigMap.frames.length;
        else if (window.__vaeBigMap.frames.length !== b.pageFrames) {{ b.page = performance.now(); b.pageN = shown.n; }}
      }}
      const r = read(canvas);
      const s = window.__vaeBigMap;
      if (r.state === want && (!canvas || want === 'plain' || s.mask !== b.mask)) {{
        if (!canvas) {{ b.t1 = performance.now(); b.n = r.n; return; }}
        if (b.seen === null) b.seen = s.frames.length;
        else if (s.frames.length !== b.seen || ++b.ticks > 5) {{ b.t1 = performance.now(); b.n = r.n; return; }}
      }}
    }}
    requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}}
"""
#: What the map's thumbnails are: {mode, inView, drawn} (null while there are none: the canvas map draws
#: none while too many points are in view, or with thumbnails off).
THUMBS_JS = f"""
(canvas) => {{
  const t = canvas ? (window.__vaeBigMap || {{}}).thumbs : (document.querySelector('{PLOTLY_MAP}') || {{}}).__vaeThumbs;
  return t ? {{mode: t.mode, inView: t.inView, drawn: (t.drawn || []).length, failure: t.failure || null}} : null;
}}
"""
#: The page position of the map's plotting area's top left corner.
CORNER_JS = f"""
(canvas) => {{
  if (canvas) {{ const r = document.querySelector('canvas.vae-big-map-canvas').getBoundingClientRect(); return [r.left, r.top]; }}
  const gd = document.querySelector('{PLOTLY_MAP}'), r = gd.getBoundingClientRect();
  return [r.left + gd._fullLayout.xaxis._offset, r.top + gd._fullLayout.yaxis._offset];
}}
"""
#: How many times the Plotly map's thumbnail overlay redraws for one relayout (its view set to itself): one
#: per overlay mounted on the chart (components/map_thumbs/plotly_thumbs.js); counted for half a second.
REDRAWS_PER_RELAYOUT_JS = f"""
() => {{
  const gd = document.querySelector('{PLOTLY_MAP}');
  gd.__vaeThumbFrames = [];
  window.Plotly.relayout(gd, {{'xaxis.range': gd._fullLayout.xaxis.range.slice()}});
  return new Promise((done) => setTimeout(() => done(gd.__vaeThumbFrames.length), 500));
}}
"""
#: Records, while ``on``, each animation frame's interval and the thumbnails drawn at it (an init script).
FRAMES_JS = f"""
() => {{
  const f = window.__zoomFrames = {{on: false, canvas: false, t: [], drawn: [], last: null}};
  const read = {THUMBS_JS};
  const tick = (now) => {{
    if (f.on) {{
      if (f.last !== null) {{ f.t.push(now - f.last); const t = read(f.canvas); f.drawn.push(t ? t.drawn : 0); }}
      f.last = now;
    }} else f.last = null;
    requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}}
"""
#: The redraw times recorded since ``true`` was passed (that empties the record): the Plotly overlay's
#: (gd.__vaeThumbFrames) or the canvas map's (__vaeBigMap.frames).
REDRAWS_JS = f"""
([canvas, empty]) => {{
  const owner = canvas ? window.__vaeBigMap : document.querySelector('{PLOTLY_MAP}');
  const key = canvas ? 'frames' : '__vaeThumbFrames';
  if (!owner) return [];
  const out = (owner[key] || []).slice();
  if (empty) owner[key] = [];
  return out;
}}
"""


def terms(class_names: list[str], n_images: int) -> list[str]:
    """What is searched, a class and an image's number in turn: a class name's last word in lower case ("boot"
    of "Ankle boot"), then "#42"."""
    words = [str(c).split()[-1].lower() for c in class_names] or ["#0"]
    return [
        t for c, n in zip(CLASSES, NUMBERS, strict=True) for t in (words[c % len(words)], f"#{n % n_images}")
    ]


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f} ms" if v < 10 else f"{v:.0f} ms"


def skipped(names: tuple[str, ...], why: str) -> list[Record]:
    """Records that say why they were not measured here."""
    return [Record(n, None, None, "ms", 0, note=f"skipped: {why}") for n in names]


# -- search -> highlight ------------------------------------------------------------------------------
def submit(page, canvas: bool, text: str, want: str) -> dict:
    """Type ``text`` into the search box and press Enter: ms from Enter to the map in state ``want`` as the server
    drew it (``server``), the matches it marks (``n``), ms to the search's caption above the map (``caption``,
    None where the map came first) and to the matches marked in the page before the server answered (``page``,
    None where the page leaves the search to the server), with the matches it marked (``page_n``)."""
    wait_idle(page)
    box = page.locator(".st-key-map_search input")
    box.fill(text)
    page.evaluate(SEARCH_PROBE_JS, [canvas, want, text])
    box.press("Enter")
    wait_for(
        page,
        "() => window.__searchProbe.t1 !== null",
        f"the {'canvas' if canvas else 'Plotly'} map to show {text!r} searched ({want})",
        120,
        f"() => JSON.stringify(({SEARCH_STATE_JS})({str(canvas).lower()}))",
    )
    got = page.evaluate(
        "() => { const b = window.__searchProbe; return {server: b.t1 - b.t0, n: b.n, "
        "caption: b.caption === null ? null : b.caption - b.t0, page: b.page === null ? null : b.page - b.t0, "
        "page_n: b.pageN}; }"
    )
    wait_idle(page)
    return got


def searches(page, canvas: bool, words: list[str]) -> dict:
    """Each of ``words`` searched, then the box cleared: their times, ms, and the matches found."""
    found, in_page, cleared, matches, said = [], [], [], [], []
    if page.evaluate(SEARCH_STATE_JS, canvas)["state"] != "plain":
        submit(page, canvas, "", "plain")
    for term in words:
        got = submit(page, canvas, term, "found")
        found.append(float(got["server"]))
        matches.append((term, int(got["n"])))
        if got["page"] is not None:
            in_page.append(float(got["page"]))
            if got["page_n"] != got["n"]:
                raise WaitFailed(
                    f"the page marked {got['page_n']:,} images for {term!r}, the server {got['n']:,}: "
                    "components/map_filter/search.js and vae.explore.neighbours.search disagree"
                )
        if got["caption"] is not None:
            said.append(float(got["caption"]))
        cleared.append(float(submit(page, canvas, "", "plain")["server"]))
    return {"found": found, "page": in_page, "cleared": cleared, "matches": matches, "caption": said}


def search_record(name: str, runs: dict, n_images: int, what: str) -> Record:
    t, server, clear, said = runs["page"], runs["found"], runs["cleared"], runs["caption"]
    terms = ", ".join(f"{term!r} {n:,}" for term, n in runs["matches"])
    pk = p95(t)
    return Record(
        name,
        median(t),
        median(server),
        "ms",
        len(t),
        "lower",
        ours_label=f"{n_images:,} images, {what}: Enter -> the matches marked on the map in the page",
        peer_label="Enter -> the server's rerun marks them (what every search cost before)",
        goal=f"<= {SEARCH_GOAL_MS:.0f} ms (p95)",
        met=pk is not None and pk <= SEARCH_GOAL_MS and len(t) == len(server),
        note=f"in the page: p50 {_ms(median(t))}, p95 {_ms(pk)} for {len(t)} of {len(server)} searches (matches: "
        f"{terms}); the server's rerun then: p50 {_ms(median(server))}, p95 {_ms(p95(server))}, its caption "
        f"above the map at p50 {_ms(median(said))}; clearing the box (the server): median {_ms(median(clear))}",
        extra={
            "p95_ms": pk,
            "page_ms": spread(t),
            "found_ms": spread(server),
            "clear_ms": spread(clear),
            "caption_ms": spread(said),
            "samples_ms": t,
            "server_samples_ms": server,
            "matches": [list(m) for m in runs["matches"]],
        },
    )


# -- brush a chart -> map redrawn -----------------------------------------------------------------------
#: Arms a probe for a brush's release: pointerup's time, then the first animation frame at which the server's
#: page holds the page's terms and its map marks as many images as pass (the Plotly figure's "search matches"
#: trace over faded data traces; the canvas map's mask, the charts' own no longer applied).
RELEASE_PROBE_JS = f"""
(canvas) => {{
  const read = {SEARCH_STATE_JS};
  const b = window.__releaseProbe = {{t0: null, t1: null, n: -1}};
  document.addEventListener('pointerup', (e) => {{ if (b.t0 === null) b.t0 = e.timeStamp; }}, {{capture: true}});
  const tick = () => {{
    if (window.__releaseProbe !== b) return;
    const x = window.__vaeXf, linked = globalThis.__vaeMapHighlight;
    if (b.t0 !== null && x && JSON.stringify(x.server) === JSON.stringify(x.terms) && !(linked && linked.active)) {{
      const r = read(canvas);
      if (r.state === 'found' && r.n === x.passing) {{ b.t1 = performance.now(); b.n = r.n; return; }}
    }}
    requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}}
"""
BRUSH_GOAL_MS = 100.0
BRUSHED = ("kl", "recon", "sigma", "elbo")  # the charts brushed in turn (pages/_map_filters.LINKED)
BRUSH_STEPS = 40  # pointer moves a brush
FILTER_PANEL = ".st-key-map_filter_panel"


def open_filters(page) -> None:
    """Open the Map's "Filter by values" panel, and wait for its charts to be drawn with their values."""
    wait_idle(page)
    if page.locator(f"{FILTER_PANEL} details[open]").count() == 0:
        page.locator(f"{FILTER_PANEL} summary").first.click()
    wait_for(
        page,
        "() => !!(window.__vaeXf && window.__vaeXf.cols && window.__vaeXf.drawn > 0"
        " && document.querySelector('.vae-xf canvas').clientWidth > 0)",
        "the linked charts drawn with their values (the Filter by values panel open)",
        120,
        "() => window.__vaeXf ? `drawn ${window.__vaeXf.drawn}, values ${!!window.__vaeXf.cols}` "
        ": 'no linked charts in the page'",
    )


def brush(page, canvas: bool, name: str, steps: int) -> dict:
    """Drag across chart ``name`` in ``steps`` moves, a frame apart, then let go: each move's time to the map
    redrawn in the page (ms), and the release's to the server's map with the same filter."""
    plot = page.locator(f'.vae-xf-chart[data-name="{name}"] canvas')
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    y, x0, x1 = box["y"] + box["height"] * 0.5, box["x"] + box["width"] * 0.1, box["x"] + box["width"] * 0.7
    page.evaluate(
        "() => { window.__vaeXfMap.latency = []; if (window.__vaeBigMap) window.__vaeBigMap.linkedLatency = []; }"
    )
    page.mouse.move(x0, y)
    page.mouse.down()
    for k in range(steps):
        page.mouse.move(x0 + (x1 - x0) * (k + 1) / steps, y)
        page.wait_for_timeout(16)
    drawn = "window.__vaeBigMap.linkedLatency" if canvas else "window.__vaeXfMap.latency"
    wait_for(
        page,
        f"() => window.__vaeXf.moveAt == null && window.__vaeXfMap.since == null && {drawn} && {drawn}.length > 0"
        + (" && window.__vaeBigMap.linkedSince == null" if canvas else ""),
        f"the {'canvas' if canvas else 'Plotly'} map redrawn after the last move across the {name} chart",
        60,
        f"() => `moves not drawn yet: ${{window.__vaeXf.moveAt}}; drawn: ${{({drawn} || []).length}}`",
    )
    moves = [float(v) for v in page.evaluate(f"() => {drawn}.slice()")]
    passing = int(page.evaluate("() => window.__vaeXf.passing"))
    page.evaluate(RELEASE_PROBE_JS, canvas)
    page.mouse.up()
    wait_for(
        page,
        "() => window.__releaseProbe.t1 !== null",
        f"the server's {'canvas' if canvas else 'Plotly'} map to mark the {passing:,} images of the {name} brush",
        120,
        f"() => JSON.stringify(({SEARCH_STATE_JS})({str(canvas).lower()}))",
    )
    release = float(page.evaluate("() => window.__releaseProbe.t1 - window.__releaseProbe.t0"))
    wait_idle(page)
    return {"moves": moves, "release": release, "passing": passing}


def brushes(page, canvas: bool, settings: Settings) -> dict:
    """The charts brushed in turn (each adding its term), then the filters cleared."""
    open_filters(page)
    moves, release, passing = [], [], []
    for name in BRUSHED[: settings.pick(2, len(BRUSHED))]:
        got = brush(page, canvas, name, BRUSH_STEPS)
        moves += got["moves"]
        release.append(got["release"])
        passing.append((name, got["passing"]))
    page.get_by_role("button", name="Clear filters").click()
    wait_idle(page)
    return {"moves": moves, "release": release, "passing": passing}


def brush_record(name: str, got: dict, n_images: int, what: str) -> Record:
    moves, release = got["moves"], got["release"]
    pk = p95(moves)
    kept = ", ".join(f"{c} {n:,}" for c, n in got["passing"])
    return Record(
        name,
        pk,
        median(release),
        "ms",
        len(moves),
        "lower",
        ours_label=f"{n_images:,} images, {what}: a brush's pointer move -> the map redrawn in the page (p95)",
        peer_label="the brush let go -> the server's rerun marks the same images on the map (median): what "
        "each move cost when the charts were Streamlit's (Altair's selection events)",
        goal=f"<= {BRUSH_GOAL_MS:.0f} ms (p95)",
        met=pk is not None and pk <= BRUSH_GOAL_MS,
        note=f"p50 {_ms(median(moves))}, p95 {_ms(pk)} over {len(moves)} moves of {len(release)} brushes "
        f"(images passing as each brush ended: {kept}); the charts' own redraw is in the same frame; let go, the "
        f"server's map agreed after median {_ms(median(release))} (p95 {_ms(p95(release))})",
        extra={
            "p95_ms": pk,
            "moves_ms": spread(moves),
            "release_ms": spread(release),
            "passing": [list(p) for p in got["passing"]],
        },
    )


# -- thumbnails while zoomed --------------------------------------------------------------------------
def dense_spot(page, canvas: bool) -> tuple[float, float]:
    """Where to zoom in, relative to the map's plotting area's top left corner: the data point with the most
    others near it (of those drawn in the window, at least 120 px from the area's edges where one is)."""
    area = map_area(page, canvas)
    pts = np.asarray(area["points"], np.float64)
    x0, y0 = area["left"], area["top"]
    inside = (
        (pts[:, 0] > x0 + 120)
        & (pts[:, 0] < x0 + area["width"] - 120)
        & (pts[:, 1] > y0 + 120)
        & (pts[:, 1] < y0 + area["height"] - 120)
    )
    cand = pts[inside] if inside.any() else pts
    near = (np.hypot(*(cand[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)) < 30).sum(1)
    x, y = cand[int(np.argmax(near))]
    return x - x0, y - y0


def spot_on_page(page, canvas: bool, rel: tuple[float, float]) -> tuple[float, float]:
    """The spot (relative to the plotting area) on the page, the map scrolled to the middle of the window."""
    centred(page, canvas)
    area = page.evaluate(CORNER_JS, canvas)
    return area[0] + rel[0], area[1] + rel[1]


def set_thumbs(page, on: bool) -> None:
    """The map's Thumbnails control: real images, or off (dots only)."""
    label = "real images" if on else "off"
    pressed = f"""() => [...document.querySelectorAll('.st-key-map_thumbs button')]
      .some(b => b.innerText.trim() === '{label}' && b.getAttribute('aria-checked') === 'true')"""
    wait_idle(page)
    if page.evaluate(pressed):
        return
    page.locator(".st-key-map_thumbs button").filter(
        has_text=re.compile(f"^{re.escape(label)}$")
    ).first.click()
    wait_for(
        page,
        pressed,
        f"the Thumbnails control to show {label!r} chosen",
        60,
        "() => [...document.querySelectorAll('.st-key-map_thumbs button')].map(b => `${b.innerText}:"
        "${b.getAttribute('aria-checked')}`).join(', ') || 'no Thumbnails control'",
    )
    wait_idle(page)


def wheel(page, x: float, y: float, steps: int, direction: int) -> None:
    """``steps`` turns of the wheel at (x, y): in (direction -1) or out (+1), paced as a hand turns it."""
    page.mouse.move(x, y)
    for _ in range(steps):
        page.mouse.wheel(0, direction * WHEEL)
        page.wait_for_timeout(30)


def zoom_to_thumbs(page, canvas: bool, x: float, y: float) -> int:
    """Turn the wheel in at (x, y) until thumbnails are drawn; how many turns it took."""
    seen = None
    for step in range(1, ZOOM_STEPS + 1):
        wheel(page, x, y, 1, -1)
        if step % 4:
            continue
        page.wait_for_timeout(400)  # Plotly redraws a wheel's zoom after a short delay
        seen = page.evaluate(THUMBS_JS, canvas)
        if seen and 0 < seen["inView"] <= THUMBS_BELOW:
            wait_for(
                page,
                f"() => (({THUMBS_JS})({str(canvas).lower()}) || {{drawn: 0}}).drawn > 0",
                "the thumbnails' images to be drawn",
                120,
                f"() => JSON.stringify(({THUMBS_JS})({str(canvas).lower()}))",
            )
            return step
    raise WaitFailed(
        f"turned the wheel {ZOOM_STEPS} times in over the {'canvas' if canvas else 'Plotly'} map and "
        f"saw no thumbnails; the map's thumbnails at the end: {seen}"
    )


def pan_zoom(page, canvas: bool, x: float, y: float, drags: int, wheels: int) -> dict:
    """Drags (right, left, down, up: back where they began every four) and wheel turns (in, then as many
    out) at (x, y); the frame intervals meanwhile, the thumbnails drawn at each, and the redraw times."""
    page.evaluate(
        "(canvas) => Object.assign(window.__zoomFrames, {canvas, t: [], drawn: [], on: true})", canvas
    )
    page.evaluate(REDRAWS_JS, [canvas, True])
    for k in range(drags):
        dx, dy = ((1, 0), (-1, 0), (0, 1), (0, -1))[k % 4]
        page.mouse.move(x, y)
        page.mouse.down()
        for s in range(1, 21):
            page.mouse.move(x + 5 * s * dx, y + 5 * s * dy)
            page.wait_for_timeout(16)
        page.mouse.up()
        page.wait_for_timeout(100)
    wheel(page, x, y, wheels // 2, -1)
    wheel(page, x, y, wheels // 2, 1)
    page.wait_for_timeout(400)
    out = page.evaluate(
        "() => { const f = window.__zoomFrames; f.on = false; return {t: f.t, drawn: f.drawn}; }"
    )
    out["redraw"] = page.evaluate(REDRAWS_JS, [canvas, False])
    return out


def thumbs_frames(page, canvas: bool, settings: Settings) -> dict:
    """The gestures with thumbnails on and off at the same zoom, alternating which comes first."""
    drags, wheels, repeats = settings.pick((4, 8, 1), (8, 16, 2))
    set_thumbs(page, True)
    wait_idle(page)
    per_relayout = None if canvas else int(page.evaluate(REDRAWS_PER_RELAYOUT_JS))
    rel = dense_spot(page, canvas)
    x, y = spot_on_page(page, canvas, rel)
    steps = zoom_to_thumbs(page, canvas, x, y)  # then back out: each variant zooms in from the whole map
    wheel(page, x, y, steps, 1)
    runs: dict[str, list] = {"on": [], "off": []}
    for r in range(repeats):
        for on in (True, False) if r % 2 == 0 else (False, True):
            set_thumbs(page, on)
            x, y = spot_on_page(page, canvas, rel)
            wheel(page, x, y, steps, -1)
            page.wait_for_timeout(400)
            if on:
                wait_for(
                    page,
                    f"() => (({THUMBS_JS})({str(canvas).lower()}) || {{drawn: 0}}).drawn > 0",
                    f"thumbnails after {steps} wheel turns in",
                    120,
                    f"() => JSON.stringify(({THUMBS_JS})({str(canvas).lower()}))",
                )
            runs["on" if on else "off"].append(pan_zoom(page, canvas, x, y, drags, wheels))
            wheel(page, x, y, steps, 1)
    set_thumbs(page, True)
    return {
        "steps": steps,
        "per_relayout": per_relayout,
        **{
            k: {key: sum((v[key] for v in vs), []) for key in ("t", "drawn", "redraw")}
            for k, vs in runs.items()
        },
    }


def thumbs_record(name: str, got: dict, n_images: int, what: str) -> Record:
    on, off = got["on"], got["off"]
    ours, peer = p95(on["t"]), p95(off["t"])
    drawn = [d for d in on["drawn"] if d > 0]
    redraw = (
        "the overlay's own redraw (thumbnails only)" if "Plotly" in what else "the canvas map's whole redraw"
    )
    return Record(
        name,
        ours,
        peer,
        "ms",
        len(on["t"]),
        "lower",
        ours_label=f"{n_images:,} images, {what}: frame interval while panning and zooming with thumbnails (p95)",
        peer_label="the same gestures at the same zoom, thumbnails off (dots only), same run",
        goal=f"<= {FRAME_GOAL_MS:.0f} ms (p95)",
        met=ours is not None and ours <= FRAME_GOAL_MS,
        note=f"{got['steps']} wheel turns in; thumbnails drawn a frame: median {median(drawn) or 0:.0f}, most "
        f"{max(drawn, default=0)} ({len(drawn)} of {len(on['drawn'])} frames had some); {redraw}: p95 "
        f"{_ms(p95(on['redraw']))} over {len(on['redraw'])} redraws (off: {_ms(p95(off['redraw']))})"
        + ("" if got["per_relayout"] is None else f"; {got['per_relayout']} overlay redraw(s) a relayout"),
        extra={
            "frame_ms": spread(on["t"]),
            "peer_frame_ms": spread(off["t"]),
            "redraw_ms": spread(on["redraw"]),
            "peer_redraw_ms": spread(off["redraw"]),
            "thumbs_drawn": spread(drawn),
            "frames_with_thumbs": len(drawn),
            "wheel_steps": got["steps"],
            "overlay_redraws_per_relayout": got["per_relayout"],
        },
    )


# -- the run --------------------------------------------------------------------------------------------
def open_map(page, url: str, canvas: bool) -> int:
    """Open the Map page at ``url`` and wait for its map; how many images it shows."""
    page.goto(url)
    if not canvas:
        n = wait_map(page)
        wait_idle(page)
        return n
    wait_for(
        page,
        "() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.frames.length > 0",
        "the canvas map of every image (placed on the test map on a first visit)",
        900,
        "() => window.__vaeBigMap ? `its state without ${window.__vaeBigMap.index ? 'frames' : 'index'}` "
        ": `no canvas map in the page; ${document.querySelectorAll('.js-plotly-plot').length} Plotly chart(s)`",
    )
    wait_idle(page)
    return int(page.evaluate("() => window.__vaeBigMap.cls.length"))


def run(settings: Settings) -> list[Record]:
    ck = load_checkpoint(settings.checkpoint)
    big = all_available(ck)
    no_big = f"the train split of {ck.dataset} is not on this machine (make data, or VAE_DATA_DIR)"
    env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root)}
    recs: list[Record] = []
    try:
        with chromium() as browser, Server(env) as server:
            server.wait_healthy()
            ctx, page = new_page(browser, timeout_ms=900_000)
            page.add_init_script(f"({FRAMES_JS})()")
            base = f"{server.url}/?ckpt={settings.checkpoint_name}&lang=en"
            n10 = open_map(page, base, canvas=False)
            words = terms(ck.class_names, n10)[: settings.pick(4, 2 * len(NUMBERS))]  # the same on both maps
            settings.say(
                f"map_tools: in Chromium, {len(words)} searches and thumbnails zoomed in on the {n10:,}-image map"
            )
            s10 = searches(page, False, words)
            recs.append(search_record("map_tools_search_10k", s10, n10, "Plotly map"))
            recs.append(
                thumbs_record("map_tools_thumbs_10k", thumbs_frames(page, False, settings), n10, "Plotly map")
            )
            open_map(page, base, canvas=False)  # at home, thumbnails back on
            recs.append(
                brush_record("map_tools_brush_10k", brushes(page, False, settings), n10, "Plotly map")
            )
            if big:
                n70 = open_map(page, base + "&split=all", canvas=True)
                settings.say(f"map_tools: the same on the {n70:,}-image canvas map")
                recs.append(
                    search_record("map_tools_search_70k", searches(page, True, words), n70, "canvas map")
                )
                recs.append(
                    thumbs_record(
                        "map_tools_thumbs_70k", thumbs_frames(page, True, settings), n70, "canvas map"
                    )
                )
                open_map(page, base + "&split=all", canvas=True)
                recs.append(
                    brush_record("map_tools_brush_70k", brushes(page, True, settings), n70, "canvas map")
                )
            ctx.close()
    except Skip as e:
        return skipped(NAMES, str(e))
    if not big:
        recs += skipped(NAMES[3:], no_big)
    return recs
