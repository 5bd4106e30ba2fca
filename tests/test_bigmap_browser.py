"""The density map of many codes (components/big_map) in a real browser, on digits: it loads its
positions as static files, draws frames as you pan and zoom, and a click on a code shows that
code's image and sample. Skipped, with the reason, where no Chromium can be found."""

from __future__ import annotations

import re

import pytest
from pagecheck import assert_page_ok
from test_browser import free_port, shot, start_server, stop_server, wait_app, wait_health

from benchmarks.app_driver import CHROMIUM_ARGS, chromium_path

playwright_api = pytest.importorskip("playwright.sync_api")
K = 5  # samples of each image
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
def page():
    exe = chromium_path()
    port = free_port()
    proc = start_server(port)
    url = f"http://localhost:{port}"
    try:
        wait_health(url, proc)
        with playwright_api.sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS) if exe else \
                    p.chromium.launch(args=CHROMIUM_ARGS)
            except Exception as e:  # no browser on this machine
                pytest.skip(f"no Chromium available ({str(e).splitlines()[0][:120]}); run `make browser`")
            pg = browser.new_context(viewport=VIEWPORT).new_page()
            pg.set_default_timeout(240_000)
            pg.goto(f"{url}/?ckpt=digits")
            wait_app(pg)
            yield pg
            browser.close()
    finally:
        stop_server(proc)


def test_posterior_samples_pan_zoom_and_a_click_shows_the_image_of_the_code(page):
    page.get_by_text(re.compile(r"^all 1,797 \(train \+ test\)$")).click()
    wait_app(page)
    page.get_by_role("radio", name=f"{K} samples z ~ q(z|x)", exact=True).click()
    page.wait_for_function("() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.frames.length",
                           timeout=240_000)
    wait_app(page)
    assert_page_ok(page)
    assert page.evaluate("() => window.__vaeBigMap.cls.length") == 1797 * K
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
