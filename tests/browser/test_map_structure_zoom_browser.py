"""The Map's structure as you zoom, in Chromium (issue #34).

The canvas map's density contours: with every class hidden, the canvas is dark along the lines
vae.explore.contours traces from the very positions the page drew (placed on the canvas by
vae.explore.contours.to_pixels, the twin of big_map.js's toPixel), and blank far from them; after a zoom,
the same holds at the new view (the 10,000 Fashion-MNIST test images, the canvas threshold lowered).
The Plotly map's cluster labels: zoomed in on a smaller cluster, its label appears, and the labels shown
are those vae.explore.clusters.place_labels picks from the boxes the page measured among the labels whose
least zoom (vae.explore.clusters.min_zoom) is reached.
Screenshots in tests/artifacts/: map-canvas-contours-1280.png, map-canvas-contours-zh-1024.png,
map-canvas-labels-zh-1024-zoomed.png, map-labels-zoomed-1280.png."""

from __future__ import annotations

import numpy as np
from browser_helpers import goto, serving, shot, wait_app
from pagecheck import assert_page_ok

from vae.explore.clusters import place_labels
from vae.explore.contours import contours, to_pixels
from vae.explore.density import density

READY = "() => { const s = window.__vaeBigMap; return !!(s && s.contours && s.frames.length && s.xy); }"
VIEW = """() => { const s = window.__vaeBigMap, c = document.querySelector('canvas.vae-big-map-canvas');
  return {view: s.view, w: c.width, h: c.height, contours: s.contours, frames: s.frames.length}; }"""
#: For each [x, y] pixel: the darkest alpha-weighted ink within one pixel of it (0 blank, 255 black).
INK = """(points) => { const c = document.querySelector('canvas.vae-big-map-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return points.map(([x, y]) => { let best = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const i = 4 * ((Math.round(y) + dy) * c.width + Math.round(x) + dx);
      best = Math.max(best, d[i + 3] * (255 - Math.min(d[i], d[i + 1], d[i + 2])) / 255);
    }
    return best; }); }"""


def _segment_distance(p: np.ndarray, lines: list[np.ndarray]) -> np.ndarray:
    """(P,) each pixel's distance to the nearest segment of ``lines`` (pixels)."""
    a = np.concatenate([line[:-1] for line in lines])
    b = np.concatenate([line[1:] for line in lines])
    ab = b - a
    t = np.clip(((p[:, None, :] - a[None]) * ab[None]).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    near = a[None] + t[..., None] * ab[None]
    return np.sqrt(((p[:, None, :] - near) ** 2).sum(-1)).min(axis=1)


def _check_drawn(pg, levels, labelled: bool) -> dict:
    """The canvas is inked along the Python lines and blank far from them, at the page's current view; the
    lines' shares written at some of their tops (``labelled``: at least one; zoomed in, the tops may lie
    outside the view)."""
    pg.wait_for_timeout(300)  # the frame after the last wheel step (requestAnimationFrame)
    v = pg.evaluate(VIEW)
    w, h = v["w"], v["h"]
    lines = [to_pixels(v["view"], w, h, line) for c in levels for line in c.lines]
    # each line of 12 vertices or more has its share written at its topmost vertex (contours.js), over the line
    tops = np.array([line[np.argmin(line[:, 1])] for line in lines if len(line) >= 12])
    tops = tops[(tops[:, 0] > 12) & (tops[:, 0] < w - 12) & (tops[:, 1] > 8) & (tops[:, 1] < h - 8)]

    def off_labels(p: np.ndarray, margin: float) -> np.ndarray:
        return p[np.abs(p[:, None, :] - tops[None]).max(axis=-1).min(axis=1) > margin] if len(tops) else p

    on = off_labels(np.concatenate(lines), 16)
    on = on[(on[:, 0] > 3) & (on[:, 0] < w - 3) & (on[:, 1] > 3) & (on[:, 1] < h - 3)]
    assert len(on) >= 40, f"too few contour vertices in view to judge: {len(on)}"
    ink_on = np.array(pg.evaluate(INK, on.tolist()))
    grid = np.stack(np.meshgrid(np.linspace(8, w - 8, 40), np.linspace(8, h - 8, 24)), -1).reshape(-1, 2)
    far = off_labels(grid[_segment_distance(grid, lines) > 8], 22)
    ink_far = np.array(pg.evaluate(INK, far.tolist()))
    assert (ink_on > 60).mean() > 0.97, f"the lines are not where Python puts them: {np.sort(ink_on)[:20]}"
    assert len(far) > 200 and (ink_far < 10).mean() > 0.99, (
        f"ink far from the lines: {np.sort(ink_far)[-20:]}"
    )
    written = v["contours"]["labels"]
    assert (written or not labelled) and {t for *_, t in written} <= {"20%", "40%", "60%", "80%"}, written
    around = np.array([[dx, dy] for dx in range(-8, 9, 2) for dy in (-2, 0, 2)])
    for x, y, text in written:  # at a line's top, in grey over a white halo
        assert np.abs(tops - [x, y]).max(axis=1).min() < 0.5, (x, y, text, tops)
        assert max(pg.evaluate(INK, (np.array([x, y]) + around).tolist())) > 60, f"no text at {x, y}"
    return v


def test_the_canvas_map_draws_the_contours_where_python_traces_them(browser):
    with serving({"VAE_MAP_CANVAS_ABOVE": "5000"}) as server:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = ctx.new_page()
        pg.set_default_timeout(240_000)
        pg.goto(f"{server.url}/?structure=contours&lang=en")
        wait_app(pg)
        pg.wait_for_function(READY, timeout=240_000)
        canvas = pg.locator("canvas.vae-big-map-canvas")
        canvas.scroll_into_view_if_needed()
        xy = np.array(pg.evaluate("() => Array.from(window.__vaeBigMap.xy)"), np.float32).reshape(-1, 2)
        levels = contours(density(xy))  # the page's own positions, as the server's map has them
        first = pg.evaluate(VIEW)
        assert first["contours"]["vertices"] == sum(c.vertices for c in levels), first["contours"]
        assert "Contours enclose the densest 20%, 40%, 60% and 80% of the images." in pg.inner_text("body")
        shot(pg, "map-canvas-contours-1280")
        keys = pg.locator(".vae-big-map-key")
        for k in range(keys.count()):  # every class hidden: only the contours are left on the canvas
            keys.nth(k).click()
        home = _check_drawn(pg, levels, labelled=True)
        box = canvas.bounding_box()
        pg.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
        for _ in range(3):
            pg.mouse.wheel(0, -400)
            pg.wait_for_timeout(200)
        zoomed = _check_drawn(pg, levels, labelled=False)
        assert zoomed["view"] != home["view"] and zoomed["contours"]["built"] > home["contours"]["built"], (
            zoomed
        )
        assert_page_ok(pg)
        pg.set_viewport_size({"width": 1024, "height": 768})
        pg.goto(f"{server.url}/?structure=both&labels=2&lang=zh")
        wait_app(pg)
        pg.wait_for_function(f"() => ({READY})() && !!window.__vaeBigMap.labels", timeout=240_000)
        canvas.scroll_into_view_if_needed()
        pg.wait_for_timeout(300)
        shot(pg, "map-canvas-contours-zh-1024")
        # the cluster labels: 2 at most zoomed out; zoomed in, smaller clusters' labels may show (min_zoom)
        read = "() => window.__vaeBigMap.labels"
        home = pg.evaluate(read)
        assert home["eligible"] == 2 and 1 <= len(home["shown"]) <= 2, home
        box = canvas.bounding_box()
        pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        for _ in range(4):
            pg.mouse.wheel(0, -400)
            pg.wait_for_timeout(200)
        zoomed = pg.evaluate(read)
        assert zoomed["zoom"] > 2 and zoomed["eligible"] > home["eligible"], zoomed
        assert zoomed["shown"] == place_labels(np.array(zoomed["boxes"]), zoomed["w"], zoomed["h"]), zoomed
        shot(pg, "map-canvas-labels-zh-1024-zoomed")
        assert_page_ok(pg)
        ctx.close()


LOD = """() => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.__vaeLabels);
  if (!gd) return null;
  const l = gd.__vaeLabels, meta = gd._fullLayout.meta.vaeClusterLabels;
  const visible = [...gd.querySelectorAll('.annotation')].filter(e => getComputedStyle(e).opacity !== '0')
    .map(e => Number(e.dataset.index));
  return {zoom: l.zoom, shown: l.shown, labels: l.labels, least: meta.zoom, visible,
          w: gd._fullLayout.xaxis._length, h: gd._fullLayout.yaxis._length}; }"""


def _expected(state: dict) -> list[int]:
    """The hidden labels Python would reveal from the same boxes: in view, zoom reached, apart."""
    least = state["least"]
    drawn = [x for x in state["labels"] if x["box"] and least[x["name"]] <= state["zoom"] * (1 + 1e-6)]
    placed = place_labels(np.array([x["box"] for x in drawn]).reshape(-1, 4), state["w"], state["h"])
    return [drawn[k]["index"] for k in placed if least[drawn[k]["name"]] > 0]


def test_the_plotly_maps_labels_follow_the_zoom(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(page, server, "?method=pca&structure=clusters&labels=2&lang=en")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    page.wait_for_function(
        f"() => {{ const s = ({LOD})(); return s && s.labels.length > 2; }}", timeout=240_000
    )
    home = page.evaluate(LOD)
    assert home["shown"] == _expected(home), home
    fixed = [x["index"] for x in home["labels"] if home["least"][x["name"]] == 0]
    assert 1 <= len(fixed) <= 2 and sorted(home["visible"]) == sorted(fixed + home["shown"]), home
    # the smallest least zoom past 1 among the labels drawn: zoom in on it until it is reached
    target = min(
        (x for x in home["labels"] if x["box"] and home["least"][x["name"]] > 1),
        key=lambda x: home["least"][x["name"]],
    )
    plot = page.evaluate(
        "() => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.__vaeLabels);"
        " const r = gd.getBoundingClientRect(), fl = gd._fullLayout;"
        " return [r.left + fl.xaxis._offset, r.top + fl.yaxis._offset]; }"
    )
    page.mouse.move(plot[0] + target["box"][0], plot[1] + target["box"][1])
    state = home
    for _ in range(12):
        if state["zoom"] >= 1.1 * home["least"][target["name"]]:
            break
        page.mouse.wheel(0, -200)
        page.wait_for_function(f"() => ({LOD})().zoom > {state['zoom']}", timeout=20_000)
        page.wait_for_timeout(400)  # plotly.js's relayout after the wheel stops
        state = page.evaluate(LOD)
    assert state["zoom"] >= home["least"][target["name"]], state["zoom"]
    assert state["shown"] == _expected(state), state
    assert len(state["visible"]) > len(home["visible"]), (home["visible"], state["visible"])
    assert sorted(state["visible"]) == sorted(
        set(state["shown"]) | {i for i in fixed if i in state["visible"]}
    )
    shot(page, "map-labels-zoomed-1280")
