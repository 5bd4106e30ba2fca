"""Thumbnails on the map in a real browser (issue #34 item 6): zoomed in, the points become their own
images, drawn in the page, on the Plotly map (a canvas over the plot, redrawn on relayout) and on the
canvas map (drawn in its canvas), for the grey digits and the colour emoji model.

The pixels drawn are held against the images themselves (the data set read here, as uint8 like the
server's PNGs): at the centre of each image pixel's block on screen, every channel equals the image's.
One server of this module's own: the canvas map above 1,000 images, so that digits' test split (360) is
drawn by Plotly and all its 1,797 images by the canvas map. Screenshots: tests/artifacts/thumbs-*.png.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from browser_helpers import new_tab, serving, shot, wait_app
from pagecheck import assert_page_ok

from vae.checkpoint import load_checkpoint
from vae.explore.sets import all_parts, combine
from vae.explore.thumb_view import MIN_PX
from vae.export.thumbnails import as_uint8

playwright_api = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parents[2]
CKPTS = ROOT / "checkpoints"

#: The Plotly map's overlay: what it drew ({i, x, y, side, height, faded}) and its pixels, CSS px × dpr.
PLOTLY_JS = """
() => { const gd = document.querySelector('[class*="st-key-map_chart_"] .js-plotly-plot');
  const c = gd && gd.querySelector('canvas.vae-map-thumbs');
  if (!c || !gd.__vaeThumbs) return null;
  return {...gd.__vaeThumbs, dpr: c.width / gd.__vaeThumbs.w,
          pixels: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data), cw: c.width}; }
"""
#: The canvas map's thumbnails and its pixels (the canvas is drawn at one pixel per CSS pixel).
CANVAS_JS = """
() => { const s = window.__vaeBigMap, c = document.querySelector('canvas.vae-big-map-canvas');
  if (!s || !s.thumbs || !c) return null;
  return {...s.thumbs, dpr: 1, cw: c.width, pixels: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)}; }
"""
ZOOM_JS = """
(f) => { const gd = document.querySelector('[class*="st-key-map_chart_"] .js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const cx = (xa.range[0] + xa.range[1]) / 2, cy = (ya.range[0] + ya.range[1]) / 2;
  const hx = (xa.range[1] - xa.range[0]) * f / 2, hy = (ya.range[1] - ya.range[0]) * f / 2;
  return window.Plotly.relayout(gd, {'xaxis.range': [cx - hx, cx + hx], 'yaxis.range': [cy - hy, cy + hy]}).then(() => true); }
"""


@pytest.fixture(scope="module")
def served():
    with serving({"VAE_MAP_CANVAS_ABOVE": "1000"}) as server:
        yield server.url


@pytest.fixture(scope="module")
def images():
    """name -> split -> (N, H, W, C) uint8: the explore sets' images as the page should draw them."""
    cache: dict = {}

    def get(name: str, split: str) -> np.ndarray:
        if (name, split) not in cache:
            ck = load_checkpoint(CKPTS / name)
            data = combine(all_parts(ck)) if split == "all" else ck.load_data(split)
            cache[name, split] = as_uint8(data.images)
        return cache[name, split]

    return get


def _decoded(name: str) -> np.ndarray:
    """The test split's μ as the page has them (float16), decoded by the server's model: (N, H, W, C) uint8."""
    from vae.explore.latent import decode
    from vae.explore.sets import explore_set

    ck = load_checkpoint(CKPTS / name)
    mu = explore_set(ck, ck.load_data("test")).mu.astype("<f2").astype(np.float32)
    return as_uint8(decode(ck.model, mu))


def _tab(browser, served, query: str, size=(1280, 800)):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    pg = new_tab(ctx)
    pg.goto(f"{served}/?{query}")
    wait_app(pg)
    return pg


def _drawn(pg, js: str, least_side: int = MIN_PX, timeout: float = 60_000) -> dict:
    """Wait until thumbnails of at least ``least_side`` pixels are drawn; what was drawn, with the pixels."""
    pg.wait_for_function(
        f"() => {{ const t = ({js})(); return t && t.drawn.length > 3 && t.side >= {least_side}; }}",
        timeout=timeout,
    )
    pg.wait_for_timeout(300)  # the chunk's other images arrive in the same frame; one more frame settles
    return pg.evaluate(js)


def _compare(seen: dict, want: np.ndarray, shown: int = 5, tol: int = 1) -> int:
    """Hold the first ``shown`` unfaded thumbnails' block centres against the images (each channel within
    ``tol`` of 255); returns how many compared."""
    px = np.asarray(seen["pixels"], np.uint8).reshape(-1, seen["cw"], 4)
    dpr = seen["dpr"]
    done = 0
    for t in [t for t in seen["drawn"] if not t["faded"]][:shown]:
        img = want[t["i"]]  # (H, W, C)
        h, w, c = img.shape
        for r in range(h):
            for q in range(w):
                X = int((t["x"] + (q + 0.5) * t["side"] / w) * dpr)
                Y = int((t["y"] + (r + 0.5) * t["height"] / h) * dpr)
                got = px[Y, X, :3].astype(int)
                ref = np.repeat(img[r, q], 3) if c == 1 else img[r, q]
                assert np.abs(got - ref.astype(int)).max() <= tol, (
                    f"thumbnail of image {t['i']} at ({t['x']}, {t['y']}) {t['side']} px: pixel ({r}, {q}) drawn "
                    f"{got.tolist()}, the image has {ref.tolist()}"
                )
        done += 1
    return done


def test_the_plotly_map_zoomed_in_draws_the_images_of_the_points_in_view(browser, served, images):
    pg = _tab(browser, served, "ckpt=digits&method=pca&lang=en")
    first = _drawn(pg, PLOTLY_JS)  # 360 images: thumbnails from the start, at the least size
    assert first["inView"] == 360 and first["side"] == MIN_PX, (first["inView"], first["side"])
    assert pg.evaluate(ZOOM_JS, 0.3)
    zoomed = _drawn(pg, PLOTLY_JS, least_side=MIN_PX + 8)
    assert zoomed["inView"] < 360 and zoomed["side"] > first["side"], (zoomed["inView"], zoomed["side"])
    assert zoomed["picked"] == len(zoomed["drawn"]) < zoomed["inView"], zoomed["picked"]  # the rest stay dots
    assert _compare(zoomed, images("digits", "test")) == 5
    assert zoomed["fetched"] == [0], zoomed["fetched"]  # 360 images: one chunk, fetched once
    drawn = {t["i"] for t in zoomed["drawn"]}
    assert drawn and len(drawn) == len(zoomed["drawn"])
    shot(pg, "thumbs-digits-plotly")
    assert_page_ok(pg)


def test_a_box_selection_fades_the_other_thumbnails(browser, served):
    pg = _tab(browser, served, "ckpt=digits&method=pca&lang=en")
    _drawn(pg, PLOTLY_JS)
    pg.evaluate("""() => { const gd = document.querySelector('[class*="st-key-map_chart_"] .js-plotly-plot');
      const t = gd._fullData.findIndex((t) => t.customdata && t.customdata.length && t.customdata[0][0] === 0);
      return window.Plotly.restyle(gd, {selectedpoints: [[0, 1, 2]]}, [t]); }""")
    pg.wait_for_function(f"() => ({PLOTLY_JS})().drawn.some((t) => t.faded)")
    seen = pg.evaluate(PLOTLY_JS)
    assert any(t["faded"] for t in seen["drawn"]) and any(not t["faded"] for t in seen["drawn"])


def test_the_canvas_map_zoomed_in_draws_thumbnails(browser, served, images):
    pg = _tab(browser, served, "ckpt=digits&split=all&method=pca&lang=en")
    pg.wait_for_function(
        "() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.frames.length",
        timeout=120_000,
    )
    assert pg.evaluate(
        f"() => ({CANVAS_JS})() === null || ({CANVAS_JS})().drawn.length === 0"
    )  # 1,797 in view
    pg.locator("canvas.vae-big-map-canvas").scroll_into_view_if_needed()
    box = pg.locator("canvas.vae-big-map-canvas").bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):  # 1,797 images in view, then about 130 (the sixth step)
        pg.mouse.wheel(0, -240)
        pg.wait_for_timeout(50)
    seen = _drawn(pg, CANVAS_JS)
    assert seen["inView"] <= 400 and seen["fetched"], seen["fetched"]
    assert _compare(seen, images("digits", "all")) == 5
    shot(pg, "thumbs-digits-canvas")
    # a box over the left half: the thumbnails outside it fade, those inside stay as they were
    pg.locator('.vae-big-map-tools button[data-tool="box"]').click()
    pg.mouse.move(box["x"] + 2, box["y"] + 2)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 2, steps=5)
    pg.mouse.up()
    pg.wait_for_function(f"() => ({CANVAS_JS})().drawn.some((t) => t.faded)")
    boxed = pg.evaluate(CANVAS_JS)
    half = box["width"] / 2
    for t in boxed["drawn"]:
        centre = t["x"] + t["side"] / 2
        if abs(centre - half) > 2:  # clear of the box's edge
            assert t["faded"] == (centre > half), t
    assert {t["faded"] for t in boxed["drawn"]} == {True, False}, boxed["drawn"]
    assert _compare(boxed, images("digits", "all")) >= 1
    assert_page_ok(pg)


@pytest.mark.skipif(not (CKPTS / "emoji" / "meta.json").is_file(), reason="no checkpoints/emoji")
def test_the_emoji_models_thumbnails_are_in_colour(browser, served, images):
    pg = _tab(browser, served, "ckpt=emoji&method=pca&lang=en")
    pg.wait_for_function(
        f"() => ({PLOTLY_JS})() !== null", timeout=120_000
    )  # the chart and its overlay are there
    for _ in range(6):  # zoom until thumbnails appear (the emoji test split is larger than the limit)
        seen = pg.evaluate(PLOTLY_JS)
        if seen and len(seen["drawn"]) > 3:
            break
        assert pg.evaluate(ZOOM_JS, 0.5)
        pg.wait_for_timeout(300)
    seen = _drawn(pg, PLOTLY_JS)
    assert _compare(seen, images("emoji", "test"), shown=3) == 3
    px = np.asarray(seen["pixels"], np.int32).reshape(-1, seen["cw"], 4)
    t = seen["drawn"][0]
    d = seen["dpr"]
    block = px[
        int(t["y"] * d) : int((t["y"] + t["height"]) * d), int(t["x"] * d) : int((t["x"] + t["side"]) * d), :3
    ]
    coloured = (
        (block[..., 0] != block[..., 1]) & (block[..., 1] != block[..., 2]) & (block[..., 0] != block[..., 2])
    )
    assert coloured.mean() > 0.1, f"{coloured.mean():.0%} of thumbnail {t['i']}'s pixels have R≠G≠B"
    shot(pg, "thumbs-emoji")


def test_the_link_chooses_decoded_or_no_thumbnails(browser, served):
    pg = _tab(browser, served, "ckpt=digits&method=pca&lang=en&thumbs=off")
    pg.wait_for_function(
        "() => { const gd = document.querySelector('[class*=\"st-key-map_chart_\"] .js-plotly-plot');"
        " return gd && gd.__vaeThumbs; }"
    )
    assert pg.evaluate(f"() => ({PLOTLY_JS})().drawn.length") == 0
    assert "thumbs=off" in pg.url
    pg = _tab(browser, served, "ckpt=digits&method=pca&lang=en&thumbs=decoded")
    seen = _drawn(pg, PLOTLY_JS, timeout=120_000)
    assert seen["mode"] == "decoded" and not seen["failure"], seen["failure"]
    assert "thumbs=decoded" in pg.url
    # the page's decode of each code (as sent: float16) against the server's decode of the same codes
    assert _compare(seen, _decoded("digits"), tol=2) == 5


@pytest.fixture(scope="module")
def imported(imported_root):
    """A server of the imported ONNX model (tests/conftest.py imported_root: ``theirs``, PCA map)."""
    with serving({"VAE_CHECKPOINTS": str(imported_root)}) as server:
        yield server.url


def test_an_imported_models_map_draws_real_and_decoded_thumbnails(browser, imported, images):
    for mode in ("real", "decoded"):
        pg = _tab(browser, imported, f"ckpt=theirs&method=pca&lang=en&thumbs={mode}")
        pg.wait_for_function(f"() => ({PLOTLY_JS})() !== null", timeout=120_000)
        for _ in range(6):  # 10,000 images: zoom until thumbnails appear
            seen = pg.evaluate(PLOTLY_JS)
            if seen and len(seen["drawn"]) > 3:
                break
            assert pg.evaluate(ZOOM_JS, 0.5)
            pg.wait_for_timeout(300)
        seen = _drawn(pg, PLOTLY_JS, timeout=120_000)
        assert seen["mode"] == mode and not seen["failure"], (mode, seen["failure"])
        if mode == "real":
            assert _compare(seen, images("fashion-mnist", "test")) == 5
            assert len(seen["fetched"]) < 5, seen["fetched"]  # not every file of the 10,000 images
        shot(pg, f"thumbs-imported-{mode}")
        assert_page_ok(pg)
