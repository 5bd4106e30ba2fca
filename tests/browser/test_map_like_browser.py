"""Find images like this one (issue #34 item 1) in Chromium: a picture on Your image (an upload on the grey
fashion model, a colour drawing from its link on the emoji model, in Chinese), one click on its button, and
the Map shows its code μ as a ★ with its 10 nearest images drawn over the faded rest and ringed, the list
beside the map; a reload of the Map's link shows the same. The Plotly map (fashion, the default) and the
canvas map (emoji, the threshold lowered). Screenshots in tests/artifacts/: map-like-{plotly-en,canvas-zh}-
{1280x800,1024x768}.png."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser_helpers import new_tab, serving, shot, wait_app
from pagecheck import assert_page_ok
from PIL import Image

from vae.data.drawings import encode_drawing

ROOT = Path(__file__).resolve().parents[2]
K = 10  # the Map's neighbours by default
BUTTON = ".st-key-img_like button >> nth=0"

PLOTLY_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3
                                                                     && !g.closest('.st-key-img_map'));
  if (!gd || !gd._fullData) return null;
  const star = gd._fullData.find(t => t.marker && t.marker.symbol === 'star');
  const found = gd._fullData.find(t => t.name === 'search matches' || t.name === '查找结果');
  const ring = gd.__vaeRings || {n: 0, shown: 0};  // components/map_rings
  return {star: star ? [star.x[0], star.y[0]] : null, found: found ? found.x.length : 0, rings: ring.n};
}
"""

CANVAS_JS = """
() => {
  const s = window.__vaeBigMap;
  if (!s || !s.index || !s.labels) return null;
  return {rings: s.rings, maskFor: s.maskFor, marked: s.mask ? s.mask.reduce((a, b) => a + b, 0) : 0,
          star: s.labels.shown.includes(0) ? s.labels.boxes[0].slice(0, 2) : null};
}
"""


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _like(pg) -> str:
    return parse_qs(urlparse(pg.url).query).get("like", [""])[0]


def _wait(pg, js: str, ready: str) -> dict:
    pg.wait_for_function(f"() => {{ const s = ({js})(); return s && {ready}; }}", timeout=240_000)
    wait_app(pg)
    return pg.evaluate(js)


def _both_sizes(pg, name: str, js: str, ready: str) -> None:
    for w, h in ((1280, 800), (1024, 768)):
        pg.set_viewport_size({"width": w, "height": h})
        _wait(pg, js, ready)
        pg.locator(".js-plotly-plot, canvas.vae-big-map-canvas").first.scroll_into_view_if_needed()
        shot(pg, f"{name}-{w}x{h}")


def test_an_upload_opens_the_plotly_map_with_it(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server}/your_image?ckpt=fashion-mnist&lang=en")
    wait_app(page)
    im = Image.new("L", (56, 56), 255)
    im.paste(0, (14, 8, 42, 50))  # a dark block on white paper
    page.locator(".st-key-img_upload input[type=file]").set_input_files(
        files=[{"name": "block.png", "mimeType": "image/png", "buffer": _png(im)}]
    )
    page.get_by_text("original: your file block.png").wait_for(timeout=120_000)
    wait_app(page)
    page.locator(BUTTON).click()
    ready = f"s.star && s.found === {K} && s.rings === {K}"
    first = _wait(page, PLOTLY_JS, ready)
    assert page.get_by_text("Your image on the map").count() == 1
    assert len(_like(page).split(",")) == 16, page.url
    assert page.get_by_text("Most common class among them").count() == 1  # the list beside the map
    assert_page_ok(page)
    _both_sizes(page, "map-like-plotly-en", PLOTLY_JS, ready)
    page.reload()  # the link alone: the same ★ and neighbours
    again = _wait(page, PLOTLY_JS, ready)
    assert again["star"] == first["star"], (first, again)
    assert_page_ok(page)


@pytest.mark.skipif(
    not (ROOT / "checkpoints" / "emoji" / "meta.json").exists(), reason="no checkpoints/emoji"
)
def test_a_colour_drawing_opens_the_canvas_map_with_it_in_chinese(browser):
    rgb = np.ones((3, 32, 32), np.float32)  # a red disc on white, as the colour pad draws
    yy, xx = np.mgrid[:32, :32]
    disc = (yy - 16) ** 2 + (xx - 16) ** 2 < 100
    rgb[1][disc] = rgb[2][disc] = 0.1
    drawn = encode_drawing(rgb)
    with serving(
        {"VAE_MAP_CANVAS_ABOVE": "500"}
    ) as server:  # the emoji test split (571 images) is drawn by the canvas
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = new_tab(ctx)
        pg.set_default_timeout(240_000)
        pg.goto(f"{server.url}/your_image?ckpt=emoji&lang=zh&method=pca&sample=draw&drawn={drawn}")
        wait_app(pg)
        pg.locator(BUTTON).click()
        ready = f"s.star && s.rings === {K} && s.maskFor === 'found' && s.marked === {K}"
        first = _wait(pg, CANVAS_JS, ready)
        assert _like(pg) and "lang=zh" in pg.url, pg.url
        assert pg.get_by_text("地图", exact=True).count() >= 1  # still in Chinese (the navigation)
        assert_page_ok(pg)
        _both_sizes(pg, "map-like-canvas-zh", CANVAS_JS, ready)
        pg.reload()
        again = _wait(pg, CANVAS_JS, ready)
        assert again["marked"] == first["marked"] == K
        assert_page_ok(pg)
        ctx.close()
