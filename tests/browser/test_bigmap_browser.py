"""The canvas map (components/big_map) in a real browser, on digits: the density map of many codes
loads its positions as static files, draws frames as you pan and zoom, and a click on a code shows
that code's image and sample; the Map page's canvas map of a large explore set (the 70k path; here
digits' 1,797 images, the threshold lowered by VAE_MAP_CANVAS_ABOVE) clicks, selects with a box and
a lasso (the same points as the server), feeds the live preview and changes colour. Skipped, with
the reason, where no Chromium can be found."""

from __future__ import annotations

import math
import re

import pytest
from browser_helpers import serving, shot, wait_app
from pagecheck import assert_page_ok

playwright_api = pytest.importorskip("playwright.sync_api")
K = 5  # samples of each image
CANVAS_ABOVE = 1000  # digits: the test split (360) stays Plotly, all 1,797 images take the canvas
VIEWPORT = {"width": 1440, "height": 950}

#: The pixel (page coordinates) of the code farthest from its nearest neighbour on screen, among
#: every 7th code in view, and that code's index: a click there can only mean that code.
ISOLATED_JS = """
() => {
  const s = window.__vaeBigMap, c = document.querySelector('canvas.vae-big-map-canvas');
  const r = c.getBoundingClientRect(), v = s.view, w = c.width, h = c.height, n = s.cls.length;
  const px = i => [((s.xy[2 * i] - v.x0) / (v.x1 - v.x0)) * w, ((v.y1 - s.xy[2 * i + 1]) / (v.y1 - v.y0)) * h];
  let best = -1, gap = -1;
  for (let i = 0; i < n; i += 7) {
    const [x, y] = px(i);
    if (x < 20 || y < 20 || x > w - 20 || y > h - 20) continue;
    let g = 1e9;
    for (let j = 0; j < n && g > gap; j++) {
      if (j === i) continue;
      const [a, b] = px(j);
      g = Math.min(g, Math.hypot(a - x, b - y));
    }
    if (g > gap) { gap = g; best = i; }
  }
  const [x, y] = px(best);
  return {index: best, x: r.left + x, y: r.top + y, gap, n};
}
"""


@pytest.fixture(scope="module")
def page(browser):  # the browser fixture: tests/conftest.py
    """A tab on a server of its own whose explore sets above CANVAS_ABOVE images take the canvas map."""
    with serving({"VAE_MAP_CANVAS_ABOVE": str(CANVAS_ABOVE)}) as server:
        ctx = browser.new_context(viewport=VIEWPORT)
        pg = ctx.new_page()
        pg.set_default_timeout(240_000)
        pg.goto(f"{server.url}/?ckpt=digits")
        wait_app(pg)
        yield pg
        ctx.close()


def test_posterior_samples_pan_zoom_and_a_click_shows_the_image_of_the_code(page):
    page.get_by_text(re.compile(r"^all 1,797 \(train \+ test\)$")).click()
    wait_app(page)
    page.get_by_role("radio", name=f"{K} samples z ~ q(z|x)", exact=True).click()
    page.wait_for_function("() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.frames.length",
                           timeout=240_000)
    wait_app(page)
    assert_page_ok(page)
    assert page.evaluate("() => window.__vaeBigMap.cls.length") == 1797 * K
    intro = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Each dot").first.inner_text()
    assert "lasso" not in intro, f"the caption offers a box or lasso this map does not have: {intro!r}"
    caption = page.locator(".vae-big-map [data-role='caption']").inner_text()
    assert re.match(r"^[\d,]+ codes in view, one dot each", caption), caption  # 8,985 < 40,000: points

    # drag pans, the wheel zooms: each moves the view and draws a frame, without the server
    canvas = page.locator("canvas.vae-big-map-canvas")
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = page.evaluate("() => ({...window.__vaeBigMap.view, frames: window.__vaeBigMap.frames.length})")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 40, steps=8)
    page.mouse.up()
    panned = page.evaluate("() => ({...window.__vaeBigMap.view, frames: window.__vaeBigMap.frames.length})")
    assert panned["x0"] < before["x0"] and panned["y0"] > before["y0"], (before, panned)
    assert panned["frames"] > before["frames"]
    assert panned["x1"] - panned["x0"] == pytest.approx(before["x1"] - before["x0"])  # a pan keeps the scale
    page.mouse.wheel(0, -240)
    page.wait_for_timeout(300)
    zoomed = page.evaluate("() => window.__vaeBigMap.view")
    assert zoomed["x1"] - zoomed["x0"] < panned["x1"] - panned["x0"], (panned, zoomed)
    page.dblclick("canvas.vae-big-map-canvas", position={"x": 5, "y": 5})  # back to the whole map
    page.wait_for_timeout(300)
    home = page.evaluate("() => window.__vaeBigMap.view")
    assert home["x0"] == pytest.approx(before["x0"]) and home["x1"] == pytest.approx(before["x1"])
    wait_app(page)

    # a click on an isolated code shows that code: image index // K, sample index % K + 1
    spot = page.evaluate(ISOLATED_JS)
    assert spot["index"] >= 0 and spot["gap"] > 9, spot  # farther than the 8-pixel click radius
    page.mouse.click(spot["x"], spot["y"])
    image, sample = divmod(spot["index"], K)
    want = re.compile(rf"^#{image} · .+ · sample {sample + 1} of {K}$")
    heading = page.locator('[data-testid="stHeading"]').filter(has_text=re.compile(r"sample \d+ of"))
    heading.first.wait_for(timeout=120_000)
    wait_app(page)
    got = heading.first.inner_text().strip()
    assert want.match(got), f"clicked code {spot['index']}: expected image #{image}, sample {sample + 1}; saw {got!r}"
    assert page.locator('[data-testid="stImage"] img').count() >= 1, "the clicked code's image is shown"
    assert_page_ok(page)
    shot(page, "bigmap-samples-clicked")


#: A page position (on a coarse grid over the canvas) at least 30 pixels from every drawn code.
EMPTY_JS = """
() => {
  const s = window.__vaeBigMap, c = document.querySelector('canvas.vae-big-map-canvas');
  const r = c.getBoundingClientRect(), v = s.view, w = c.width, h = c.height, n = s.cls.length;
  for (let y = 40; y < h - 40; y += 20) for (let x = 40; x < w - 40; x += 20) {
    let far = true;
    for (let i = 0; i < n && far; i++) {
      const px = ((s.xy[2 * i] - v.x0) / (v.x1 - v.x0)) * w, py = ((v.y1 - s.xy[2 * i + 1]) / (v.y1 - v.y0)) * h;
      far = Math.hypot(px - x, py - y) > 30;
    }
    if (far) return {x: r.left + x, y: r.top + y};
  }
  return null;
}
"""
SELECTED = re.compile(r"^([\d,]+) images selected$")


def _heading(page, pattern: re.Pattern, before: str | None = None) -> str:
    """The panel's heading matching ``pattern`` (and other than ``before``), once the page is idle."""
    loc = page.locator('[data-testid="stHeading"]').filter(has_text=pattern)
    page.wait_for_function(
        "([src, before]) => [...document.querySelectorAll('[data-testid=\"stHeading\"]')]"
        ".some(h => new RegExp(src).test(h.innerText.trim()) && h.innerText.trim() !== before)",
        arg=[pattern.pattern, before], timeout=120_000)
    wait_app(page)
    return loc.first.inner_text().strip()


def _drag(page, points: list[tuple[float, float]]) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p, steps=3)
    page.mouse.up()


def _selected_in_page(page) -> int:
    return page.evaluate("() => window.__vaeBigMap.mask.reduce((a, b) => a + b, 0)")


def test_the_canvas_map_of_a_large_set_clicks_selects_hovers_and_recolours(page):
    page.get_by_text(re.compile(r"^all 1,797 \(train \+ test\)$")).click()
    wait_app(page)
    page.get_by_role("radio", name="1 (posterior mean)", exact=True).click()
    wait_app(page)
    page.wait_for_function("() => window.__vaeBigMap && !window.__vaeBigMap.tag.includes('-k') "
                           "&& window.__vaeBigMap.index && window.__vaeBigMap.frames.length", timeout=240_000)
    assert_page_ok(page)
    assert page.locator('[class*="st-key-map_chart_"]').count() == 0, "the large set is still drawn by Plotly"
    assert page.locator('[class*="st-key-map_canvas_"] canvas.vae-big-map-canvas').count() == 1
    assert page.evaluate("() => window.__vaeBigMap.cls.length") == 1797
    legend = page.locator(".vae-big-map-legend .vae-big-map-key")
    assert legend.count() == 10 and legend.first.inner_text().strip() == "0"
    intro = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Each dot").first.inner_text()
    assert "box or lasso" in intro, intro
    canvas = page.locator("canvas.vae-big-map-canvas")
    box = canvas.bounding_box()

    # a click on an isolated point shows that image; the ring marks it
    spot = page.evaluate(ISOLATED_JS)
    assert spot["index"] >= 0 and spot["gap"] > 9, spot
    page.mouse.click(spot["x"], spot["y"])
    got = _heading(page, re.compile(r"^#\d+ · "))
    assert got.startswith(f"#{spot['index']} · "), f"clicked image #{spot['index']}; the panel shows {got!r}"

    # a box, then a lasso: the page marks the points inside, the panel lists as many (the server's twin)
    page.locator('.vae-big-map-tools button[data-tool="box"]').click()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    _drag(page, [(x0, y0), (x0 + box["width"] * 0.45, y0 + box["height"] * 0.45)])
    got = _heading(page, SELECTED)
    n_box = _selected_in_page(page)
    assert n_box > 0 and got == f"{n_box:,} images selected", f"the page marked {n_box}; the panel says {got!r}"
    page.locator('.vae-big-map-tools button[data-tool="lasso"]').click()
    cx, cy = box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6
    ring = [(cx + 140 * math.cos(a), cy + 110 * math.sin(a)) for a in [2 * math.pi * k / 18 for k in range(19)]]
    _drag(page, ring)
    got = _heading(page, SELECTED, before=got)
    n_lasso = _selected_in_page(page)
    assert n_lasso > 0 and got == f"{n_lasso:,} images selected", f"the page marked {n_lasso}; the panel says {got!r}"
    assert page.locator('[data-testid="stImage"] img').count() >= 2, "the selection's images are shown"
    shot(page, "bigmap-explore-lasso")

    # the mouse over the map: the live preview decodes the map point under it
    page.locator('.vae-big-map-tools button[data-tool="pan"]').click()
    page.wait_for_function("() => window.__vaeLive && (window.__vaeLive.ready.hover || window.__vaeLive.failures.hover)",
                           timeout=240_000)
    assert not page.evaluate("() => window.__vaeLive.failures.hover || null")
    page.mouse.move(box["x"] + 100, box["y"] + 120)
    page.mouse.move(box["x"] + 160, box["y"] + 200, steps=5)
    page.wait_for_function("() => /under the mouse/.test(document.querySelector('.vae-live-hover "
                           "[data-role=caption]').innerText)", timeout=60_000)
    want = page.evaluate("""([px, py]) => { const s = window.__vaeBigMap, c = document.querySelector('canvas.vae-big-map-canvas');
      const r = c.getBoundingClientRect(), v = s.view;
      return [v.x0 + (px - r.left) / c.width * (v.x1 - v.x0), v.y1 - (py - r.top) / c.height * (v.y1 - v.y0)]; }""",
                         [box["x"] + 160, box["y"] + 200])
    caption = page.locator(".vae-live-hover [data-role=caption]").inner_text()
    assert f"({want[0]:.2f}, {want[1]:.2f})" in caption, f"mouse at map point {want}; the preview says {caption!r}"

    # a click on empty space decodes that spot
    empty = page.evaluate(EMPTY_JS)
    assert empty is not None, "no empty spot on the map"
    page.mouse.click(empty["x"], empty["y"])
    assert _heading(page, re.compile(r"^Decoded spot$")) == "Decoded spot"

    # a class in the legend hides and shows again, in the page (the caption counts what is drawn)
    caption = page.locator(".vae-big-map [data-role='caption']")
    count = lambda: int(re.match(r"^([\d,]+) images in view", caption.inner_text()).group(1).replace(",", ""))  # noqa: E731
    shown = count()
    key0 = page.locator(".vae-big-map-legend .vae-big-map-key").first
    key0.click()
    page.wait_for_function("() => window.__vaeBigMap.hidden[0] === 1")
    page.wait_for_function(f"() => !document.querySelector('.vae-big-map [data-role=caption]').innerText"
                           f".startsWith('{shown:,} ')")
    assert key0.get_attribute("data-hidden") == "true" and 0 < count() < shown, (shown, count())
    key0.click()
    page.wait_for_function(f"() => document.querySelector('.vae-big-map [data-role=caption]').innerText"
                           f".startsWith('{shown:,} ')")

    # another colouring: one file of colour bytes, a colour scale as the legend, the points redrawn
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by").first.click()
    page.locator('[role="option"]').filter(has_text=re.compile(r"^KL")).first.click()
    page.wait_for_function("() => (window.__vaeBigMap.drawnColours || '').split('?')[0].endsWith('-kl.u8')", timeout=120_000)
    wait_app(page)
    legend = page.locator(".vae-big-map-legend").inner_text()
    assert legend.startswith("KL(q(z|x) ‖ p(z))") and page.locator(".vae-big-map-scale").count() == 1, legend
    assert_page_ok(page)
    shot(page, "bigmap-explore-kl")
