"""The Directions page in Chromium: a class-to-class direction picked in the grid lands on Sliders as a
slider of its own, labelled with the name the library gives it; moving it moves the code (in the browser's
decoder and in the link) along the difference of the two class means. Screenshots of the page at
1280×800, 1024×768 and on a phone (tests/artifacts/directions-*.png)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser_helpers import ROOT, goto, new_tab, shot, wait_app

from vae.checkpoint import load_checkpoint
from vae.explore.direction_sets import source_directions

SNEAKER, BOOT = 7, 9
START = 9  # test image #9, a sneaker
GRID = f"directions?ckpt=fashion-mnist&source=class&from={SNEAKER}&to={BOOT}&start={START}"
ANALOGY = "directions?ckpt=fashion-mnist&tab=analogy"
SIZES = {"1280": {"width": 1280, "height": 800}, "1024": {"width": 1024, "height": 768}}


def url_code(url: str) -> np.ndarray:
    return np.array([float(v) for v in parse_qs(urlparse(url).query)["z"][0].split(",")])


def no_exception(pg) -> None:
    texts = pg.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
    assert not texts, f"the page shows: {texts}"


@pytest.fixture(scope="module")
def class_direction():
    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    data = ck.load_data("test")
    mu = np.asarray(ck.model.embed(data.images)[0], np.float32)
    (d,) = source_directions("class", mu, data.labels.numpy(), class_names=list(ck.class_names),
                             pair=(SNEAKER, BOOT))
    return d


def test_a_picked_direction_lands_on_sliders_with_its_name(page, server, class_direction):
    goto(page, server, GRID)
    no_exception(page)
    row = page.get_by_text("Sneaker → Ankle boot", exact=False).first
    row.wait_for()
    page.get_by_role("button", name="Open on Sliders").click()
    page.wait_for_url("**/sliders?**", timeout=60_000)
    wait_app(page)
    no_exception(page)
    chosen = page.locator('[data-testid="stSlider"] input[aria-label^="★ "]')
    chosen.wait_for()
    label = chosen.get_attribute("aria-label")
    assert "Sneaker → Ankle boot" in label, label
    page.get_by_text(label, exact=True).first.wait_for()  # the name is shown as the slider's label
    assert parse_qs(urlparse(page.url).query)["dir"] == [f"class:{SNEAKER}:{BOOT}"]
    shot(page, "directions-on-sliders-1440")
    # the page's decoder steps along the direction too (one more row of its axes)
    page.wait_for_function("() => window.__vaeLive && (window.__vaeLive.ready.sliders || window.__vaeLive.failures.sliders)",
                           timeout=120_000)
    assert page.evaluate("() => window.__vaeLive.failures.sliders || null") is None
    before = url_code(page.url)
    chosen.focus()
    for _ in range(20):  # 20 steps of 0.05: t = 1, a third of a class difference
        page.keyboard.press("ArrowRight")
    page.wait_for_function("(u) => location.href !== u", arg=page.url, timeout=60_000)
    wait_app(page)
    t = float(chosen.input_value())
    assert t == pytest.approx(1.0, abs=1e-6)
    after = url_code(page.url)
    np.testing.assert_allclose(after - before, t * class_direction.vector / 3, atol=3e-3)
    # the browser's code is the server's, up to the latent sliders' own values: their inputs hold them on the
    # sliders' 0.05 grid (an image's code, e.g. -0.31, reads -0.3 there); the direction's step (0.6 on z0) is in it
    page.wait_for_function("(z) => window.__vaeLive.last.sliders.z.every((v, j) => Math.abs(v - z[j]) < 0.026)",
                           arg=after.tolist(), timeout=20_000)
    no_exception(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots(browser, server, size):
    ctx = browser.new_context(viewport=SIZES[size])
    try:
        pg = new_tab(ctx)
        goto(pg, server, GRID.replace("&to=9", "&to=all"))
        no_exception(pg)
        shot(pg, f"directions-grid-{size}")
        pg.goto(f"{server}/{ANALOGY}")
        wait_app(pg)
        no_exception(pg)
        pg.get_by_text("The nearest real images").wait_for()
        shot(pg, f"directions-analogy-{size}")
    finally:
        ctx.close()


def test_screenshots_on_a_phone(browser, server):
    ctx = browser.new_context(**browser.devices["iPhone 13"])
    try:
        pg = new_tab(ctx)
        goto(pg, server, GRID)
        no_exception(pg)
        shot(pg, "directions-grid-phone")
        pg.get_by_text("Start: #9 Sneaker").scroll_into_view_if_needed()
        shot(pg, "directions-grid-phone-row")
        pg.get_by_role("button", name="Open on Sliders").scroll_into_view_if_needed()
        shot(pg, "directions-grid-phone-buttons")
        pg.goto(f"{server}/{ANALOGY}")
        wait_app(pg)
        no_exception(pg)
        shot(pg, "directions-analogy-phone")
    finally:
        ctx.close()


def test_screenshot_in_chinese(browser, server):
    ctx = browser.new_context(viewport=SIZES["1280"])
    try:
        pg = new_tab(ctx)
        goto(pg, server, GRID.replace("&to=9", "&to=all") + "&lang=zh")
        no_exception(pg)
        pg.get_by_text("遍历网格", exact=True).wait_for()
        shot(pg, "directions-grid-zh-1280")
    finally:
        ctx.close()
