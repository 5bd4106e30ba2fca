"""The colour emoji model (checkpoints/emoji, RGB 32×32) on the Map and Sliders in a real browser:
what the page draws is in colour, not grey.

- the Map's hover preview (the page's own decoder, components/live_decoder) is drawn in colour;
- a clicked point's panel shows the server's PNGs (original and reconstruction) in colour;
- Sliders' decoded image and its strips (seven decoded thumbnails under each slider) are in colour.

An image is *in colour* when a good share of its pixels have channels that differ (max − min of R, G, B
at least :data:`SPREAD`): a grey image has none (R = G = B), and the emoji model's images, drawn on white,
have about a third to a half (measured below, in each failure message). Screenshots: tests/artifacts/,
and the README's emoji-map.png and emoji-sliders.png with `make screenshots`.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, goto, map_info, shot, wait_app
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SPREAD = 24  # of 255: a pixel whose channels differ by this much is coloured
COLOURED = 0.1  # an image is in colour when at least this share of its pixels is coloured
HOVER = '.vae-live[data-mode="hover"] canvas.vae-live-image'
WHITE_HAIR = 82  # the emoji test split's "PERSON: WHITE HAIR: light skin tone" (the tour's emoji step)

pytestmark = pytest.mark.skipif(not (ROOT / "checkpoints" / "emoji" / "meta.json").exists(),
                                reason="no checkpoints/emoji")

#: The canvas's pixels as a flat RGBA list (the page draws the decoded image into it).
CANVAS_PIXELS_JS = """
(sel) => { const c = document.querySelector(sel);
  return {w: c.width, h: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)}; }
"""


#: Whether the strip canvas ``sel`` has been painted (some opaque pixel).
STRIP_DRAWN_JS = """
(sel) => { const c = document.querySelector(sel);
  if (!c || !c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
  return false; }
"""


def coloured_share(rgb: np.ndarray) -> float:
    """The share of pixels (H, W, 3+) in 0..255 whose channels differ by at least SPREAD."""
    x = np.asarray(rgb, np.int32)[..., :3]
    return float(((x.max(-1) - x.min(-1)) >= SPREAD).mean())


def test_coloured_share_tells_grey_from_colour():
    grey = np.repeat(np.linspace(0, 255, 64).reshape(8, 8, 1), 3, axis=2)
    yellow = np.full((8, 8, 3), (250, 200, 40))
    assert coloured_share(grey) == 0.0
    assert coloured_share(yellow) == 1.0


def _server_png(pg, src: str) -> np.ndarray:
    """An <img>'s picture as the server sent it: (H, W, 3) in 0..255."""
    if src.startswith("data:"):
        import base64

        data = base64.b64decode(src.split(",", 1)[1])
    else:
        reply = pg.request.get(urljoin(pg.url, src))
        assert reply.ok, (src, reply.status)
        data = reply.body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _no_exception(pg) -> None:
    texts = pg.locator('[data-testid="stException"]').all_inner_texts()
    assert not texts, f"the page raised: {texts}"


def test_the_emoji_map_hovers_and_shows_a_point_in_colour(page, server):
    """Map of ?ckpt=emoji: moving the mouse over the map draws the hover preview in colour (the page's
    decoder); a click on a point shows its original and reconstruction in colour (the server's PNGs)."""
    goto(page, server, "?ckpt=emoji")
    info = map_info(page)
    page.wait_for_function("() => window.__vaeLive && (window.__vaeLive.ready.hover || window.__vaeLive.failures.hover)",
                           timeout=120_000)
    assert page.evaluate("() => window.__vaeLive.failures.hover || null") is None, "live hover is off"
    x, y = info["point"]
    for i in range(20):
        page.mouse.move(x - 40 + 4 * i, y + 2 * i)
        time.sleep(0.03)
    page.wait_for_function(f"() => window.__vaeLive.last.hover && "
                           f"getComputedStyle(document.querySelector('{HOVER}')).display !== 'none'", timeout=20_000)
    page.wait_for_timeout(300)  # the last move's frame drawn
    drawn = page.evaluate(CANVAS_PIXELS_JS, HOVER)
    pixels = np.asarray(drawn["data"], np.uint8).reshape(drawn["h"], drawn["w"], 4)
    assert (pixels[..., 3] > 0).all(), "the preview has transparent pixels"
    share = coloured_share(pixels)
    assert share >= COLOURED, f"the hover preview is grey: {share:.1%} of its pixels coloured"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "emoji-map-hover.png"))  # tests/artifacts/ only

    page.mouse.click(x, y)
    page.get_by_role("button", name="Steer this point").wait_for(timeout=120_000)
    wait_app(page)
    images = page.locator('.st-key-map_point [data-testid="stImage"] img')
    assert images.count() >= 2, "the point's panel shows no original and reconstruction"
    shares = [coloured_share(_server_png(page, images.nth(i).get_attribute("src"))) for i in range(images.count())]
    assert min(shares) >= COLOURED, f"the point's images are grey: coloured shares {[f'{s:.1%}' for s in shares]}"
    _no_exception(page)

    # the README's picture: the white-haired face selected by the link, the map and its panel in the window
    goto(page, server, f"?ckpt=emoji&point={WHITE_HAIR}")
    map_info(page)
    page.get_by_role("button", name="Steer this point").wait_for(timeout=120_000)
    page.locator('[class*="st-key-map_chart_"]').first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    shot(page, "emoji-map")
    _no_exception(page)


def test_the_emoji_sliders_strips_are_in_colour(page, server):
    """Sliders of ?ckpt=emoji with principal directions, started from the white-haired face: the decoded
    image and the strips of thumbnails under the first four sliders are in colour."""
    goto(page, server, f"sliders?ckpt=emoji&axes=pca&image={WHITE_HAIR}")
    page.wait_for_function("() => window.__vaeLive && (window.__vaeLive.ready.sliders || window.__vaeLive.failures.sliders)",
                           timeout=120_000)
    assert page.evaluate("() => window.__vaeLive.failures.sliders || null") is None, "live decoding is off"
    live = ".st-key-sl_live_view canvas.vae-live-image"
    drawn = page.evaluate(CANVAS_PIXELS_JS, live)
    share = coloured_share(np.asarray(drawn["data"], np.uint8).reshape(drawn["h"], drawn["w"], 4))
    assert share >= COLOURED, f"the decoded image is grey: {share:.1%} of its pixels coloured"
    strips = {}
    for k in range(4):  # PC1..PC4: their strips, drawn by the page's decoder (components/live_decoder/strips.js)
        sel = f".st-key-sl_pc{k} canvas.vae-strip"
        page.wait_for_function(STRIP_DRAWN_JS, arg=sel, timeout=60_000)
        drawn = page.evaluate(CANVAS_PIXELS_JS, sel)
        pixels = np.asarray(drawn["data"], np.uint8).reshape(drawn["h"], drawn["w"], 4)
        strips[f"PC{k + 1}"] = coloured_share(pixels[pixels[..., 3] > 0][None])  # the thumbnails, not the gaps
    grey = {k: f"{v:.1%}" for k, v in strips.items() if v < COLOURED}
    assert not grey, f"grey strips (share of coloured pixels): {grey}"
    shot(page, "emoji-sliders")
    _no_exception(page)
