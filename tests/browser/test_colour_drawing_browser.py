"""Your image's drawing pad on the colour emoji model (checkpoints/emoji, RGB 32×32) in a real browser:

- with a colour picked from the palette, the pad draws RGB pixels (red strokes, a yellow one, on white);
- the page's live reconstruction is in colour and equals, within 2/255 in R, G and B, the server's model
  decoding the posterior mean of the same pad (its pixels read back and turned into the model's input by
  vae.data.pad.pad_to_input, the twin of the page's canvasToInput);
- on a phone, a finger picks a colour and draws, and the page does not scroll.

Screenshots (tests/artifacts/): colour-draw-{en,zh}-{1280x800,1024x768}.png and colour-draw-phone.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, goto, new_tab, wait_app
from pagecheck import assert_page_ok
from test_colour_browser import CANVAS_PIXELS_JS, COLOURED, coloured_share
from test_live_decode import wait_live

from vae.data.drawings import decode_drawing
from vae.data.pad import pad_to_input

ROOT = Path(__file__).resolve().parents[2]
PAD = "canvas.vae-draw-canvas"
LIVE_IMAGE = '.vae-live[data-mode="draw"] canvas.vae-live-image'
PHONE = "iPhone 13"
SIZES = {"1280x800": {"width": 1280, "height": 800}, "1024x768": {"width": 1024, "height": 768}}

pytestmark = pytest.mark.skipif(
    not (ROOT / "checkpoints" / "emoji" / "meta.json").exists(), reason="no checkpoints/emoji"
)


def _shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _pixels(pg, sel: str) -> np.ndarray:
    drawn = pg.evaluate(CANVAS_PIXELS_JS, sel)
    return np.asarray(drawn["data"], np.uint8).reshape(drawn["h"], drawn["w"], 4)


def _pad_box(pg, timeout: float = 30.0) -> dict:
    """The pad's box once it stays put for 0.3 s with the pad itself under its centre (a page still laying
    out moves it, and a stroke begun where the pad was would press whatever is there now)."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        box = pg.locator(PAD).bounding_box()
        on_pad = box is not None and pg.evaluate(
            "([x, y]) => !!document.elementFromPoint(x, y)?.matches('canvas.vae-draw-canvas')",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        if on_pad and box == last:
            return box
        assert time.monotonic() < deadline, f"the pad never stayed put under its spot: {last} then {box}"
        last = box
        time.sleep(0.3)


def _stroke(pg, points: list[tuple[float, float]]) -> None:
    """A mouse stroke through ``points`` given as shares (0..1) of the pad's width and height."""
    box = _pad_box(pg)
    at = [(box["x"] + box["width"] * u, box["y"] + box["height"] * v) for u, v in points]
    pg.mouse.move(*at[0])
    pg.mouse.down()
    for a, b in zip(at, at[1:], strict=False):
        for k in range(1, 6):
            pg.mouse.move(a[0] + (b[0] - a[0]) * k / 5, a[1] + (b[1] - a[1]) * k / 5)
    pg.mouse.up()


def _steady(pg, timeout: float = 30.0) -> None:
    """Until the page has decoded its latest drawing: the count of live frames stays put for 0.5 s."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        now = pg.evaluate("() => window.__vaeLive.last.draw && window.__vaeLive.last.draw.n")
        if now is not None and now == last:
            return
        assert time.monotonic() < deadline, f"the live reconstruction kept changing: frame {last} then {now}"
        last = now
        time.sleep(0.5)


def _server_png(pg, src: str) -> np.ndarray:
    """An <img>'s picture as the server sent it: (H, W, 3) in 0..255."""
    import io
    from urllib.parse import urljoin

    from PIL import Image

    if src.startswith("data:"):
        import base64

        data = base64.b64decode(src.split(",", 1)[1])
    else:
        reply = pg.request.get(urljoin(pg.url, src))
        assert reply.ok, (src, reply.status)
        data = reply.body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _swatch(pg, name: str):
    return pg.locator(f'.vae-draw-swatch[aria-label="{name}"]')


def _server_decoding(pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The server's model on the pad's pixels (H, W, 4): (posterior mean, its decoding as 8-bit (32, 32, 3))."""
    import torch

    from vae.checkpoint import load_checkpoint
    from vae.data.images import upscale
    from vae.data.pad import pad_to_input

    ck = load_checkpoint(ROOT / "checkpoints" / "emoji")
    x = torch.from_numpy(pad_to_input(pad, tuple(ck.config.image_shape)))
    with torch.inference_mode():
        mu, _ = ck.model.eval().embed(x[None])
        return mu[0].numpy(), upscale(ck.model.decode_mean(mu)[0], 0)


def test_the_emoji_pad_draws_in_colour_and_the_page_decodes_it_like_the_server(page, server):
    goto(page, server, "your_image?ckpt=emoji&sample=draw&lang=en")
    wait_live(page, "draw")
    pad = page.locator(PAD)
    pad.scroll_into_view_if_needed()
    assert _pixels(page, PAD)[..., :3].min() == 255, "the colour pad does not start white"
    assert _swatch(page, "yellow").get_attribute("aria-checked") == "true"  # the first ink
    _swatch(page, "red").click()
    assert _swatch(page, "red").get_attribute("aria-checked") == "true"
    _stroke(page, [(0.2, 0.25), (0.8, 0.25), (0.8, 0.75)])
    page.get_by_text("What the model sees").wait_for(timeout=120_000)
    wait_app(page)
    _swatch(page, "yellow").click()
    _stroke(page, [(0.3, 0.55), (0.6, 0.6)])
    wait_app(page)
    _steady(page)

    drawn = _pixels(page, PAD)
    red = (drawn[..., 0] > 200) & (drawn[..., 1] < 60) & (drawn[..., 2] < 60)
    yellow = (drawn[..., 0] > 230) & (drawn[..., 1] > 180) & (drawn[..., 2] < 90)
    assert red.mean() > 0.02 and yellow.mean() > 0.005, (
        f"red {red.mean():.1%}, yellow {yellow.mean():.1%} of the pad"
    )
    mu, want = _server_decoding(drawn)
    page_mu = np.asarray(page.evaluate("() => window.__vaeLive.last.draw.mu"), np.float32)
    assert np.abs(page_mu - mu).max() < 1e-2, (
        f"the page's μ differs from the server's by {np.abs(page_mu - mu).max()}"
    )
    shown = _pixels(page, LIVE_IMAGE)
    f = shown.shape[0] // want.shape[0]
    got = shown[::f, ::f, :3]
    assert got.shape == want.shape, (got.shape, want.shape)
    share = coloured_share(got)
    assert share >= COLOURED, f"the live reconstruction is grey: {share:.1%} of its pixels coloured"
    diff = int(np.abs(got.astype(np.int16) - want.astype(np.int16)).max())
    assert diff <= 2, f"the page's reconstruction differs from the server's by {diff}/255"
    assert_page_ok(page)

    # the drawing's link, opened in another tab: the pad shows the drawing the link holds (three planes, at a
    # drawing's 16 levels), and the page's reconstruction of it equals the server's PNG within 2/255
    drawn = (parse_qs(urlparse(page.url).query).get("drawn") or [""])[0]
    assert drawn.startswith("2."), page.url
    again = new_tab(page.context)
    again.goto(page.url)
    wait_app(again)
    wait_live(again, "draw")
    again.get_by_text("What the model sees").wait_for(timeout=120_000)
    wait_app(again)
    _steady(again)
    held = decode_drawing(drawn, (3, 32, 32))
    assert np.abs(pad_to_input(_pixels(again, PAD), (3, 32, 32)) - held).max() <= 1 / 255 + 1e-6
    server = (
        again.locator('[data-testid="stImage"]').filter(has_text="reconstruction (decoded μ)").locator("img")
    )
    want = _server_png(again, server.get_attribute("src"))
    shown = _pixels(again, LIVE_IMAGE)
    f, g = shown.shape[0] // 32, want.shape[0] // 32
    got, want = shown[::f, ::f, :3].astype(np.int16), want[::g, ::g, :3].astype(np.int16)
    assert coloured_share(want) >= COLOURED, (
        f"the server's reconstruction is grey: {coloured_share(want):.1%}"
    )
    diff = int(np.abs(got - want).max())
    assert diff <= 2, f"the reopened page's reconstruction differs from the server's PNG by {diff}/255"
    assert_page_ok(again)
    again.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_of_the_colour_pad(tabs, server, lang):
    """The pad with its palette and a drawing, at 1280×800 and 1024×768 (looked at, not compared)."""
    for size, viewport in SIZES.items():
        pg = new_tab(tabs)
        pg.set_viewport_size(viewport)
        goto(pg, server, f"your_image?ckpt=emoji&sample=draw&lang={lang}")
        wait_live(pg, "draw")
        pad = pg.locator(PAD)
        pad.evaluate("e => e.scrollIntoView({block: 'center'})")
        pg.locator(".vae-draw-swatch").nth(0).click()
        _stroke(pg, [(0.5, 0.15), (0.85, 0.5), (0.5, 0.85), (0.15, 0.5), (0.5, 0.15)])
        wait_app(pg)
        pg.locator(".vae-draw-swatch").nth(3).click()
        _stroke(pg, [(0.38, 0.4), (0.38, 0.45)])
        _stroke(pg, [(0.62, 0.4), (0.62, 0.45)])
        wait_app(pg)
        _steady(pg)
        pg.locator(PAD).evaluate("e => e.scrollIntoView({block: 'start'})")
        _shot(pg, f"colour-draw-{lang}-{size}")
        assert_page_ok(pg)
        pg.close()


def test_on_a_phone_a_finger_picks_a_colour_and_draws(browser, server):
    ctx = browser.new_context(**browser.devices[PHONE])
    try:
        pg = new_tab(ctx)
        goto(pg, server, "your_image?ckpt=emoji&sample=draw&lang=en")
        wait_live(pg, "draw")
        _swatch(pg, "blue").evaluate("e => e.scrollIntoView({block: 'center'})")
        _swatch(pg, "blue").tap()
        assert _swatch(pg, "blue").get_attribute("aria-checked") == "true"
        pg.locator(PAD).evaluate("e => e.scrollIntoView({block: 'center'})")
        box = _pad_box(pg)
        cdp = ctx.new_cdp_session(pg)
        top = pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop")
        x, y = box["x"] + 40, box["y"] + 40
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for k in range(1, 20):
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": "touchMove", "touchPoints": [{"x": x + 8 * k, "y": y + 6 * k}]},
            )
            time.sleep(0.03)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        assert abs(pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop") - top) < 2, (
            "drawing with a finger scrolled the page"
        )
        pg.get_by_text("What the model sees").wait_for(timeout=120_000)
        wait_app(pg)
        drawn = _pixels(pg, PAD)
        blue = (drawn[..., 2] > 180) & (drawn[..., 0] < 90)
        assert blue.mean() > 0.01, f"the finger drew {blue.mean():.1%} of the pad in blue"
        _steady(pg)
        pg.locator(PAD).evaluate("e => e.scrollIntoView({block: 'center'})")
        _shot(pg, "colour-draw-phone")
        assert_page_ok(pg)
    finally:
        ctx.close()
