"""End to end in a real browser: `streamlit run app.py` on a free port, driven by Chromium.

Screenshots of every page land in tests/artifacts/ (ignored by git). `make screenshots`
(VAE_UPDATE_SCREENSHOTS=1) also copies them into docs/screenshots/, which the README shows;
a plain test run never rewrites a tracked file. Skipped, with the reason, where no Chromium
can be found.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    ARTIFACTS,
    VIEWPORT,
    default_size,
    goto,
    map_info,
    playwright_api,
    serving,
    shot,
    wait_app,
)
from pagecheck import assert_page_ok


def test_the_map_shows_every_point_then_a_points_images_then_a_decoded_spot(page, server):
    """On one Map, as a user goes: every point drawn with WebGL; a click on a point shows its images;
    a click on an empty spot decodes that spot (one page load for the three: ~6 CPU-s of Chromium each)."""
    goto(page, server)
    info = map_info(page)
    assert info["n"] == default_size()
    assert info["webgl"] >= 1, "the scatter is not drawn with WebGL"
    shot(page, "map")

    page.mouse.click(*info["point"])
    page.get_by_role("button", name="Steer this point").wait_for(timeout=120_000)
    wait_app(page)
    assert page.get_by_text("reconstruction (decoded μ)").count() >= 1
    shot(page, "map-point")

    assert info["spotGap"] > 8, "no empty spot found on the map"
    page.mouse.click(*info["spot"])  # the chart is not redrawn by a click: the spot is where it was
    page.get_by_text("Decoded spot").wait_for(timeout=120_000)
    wait_app(page)
    assert page.get_by_text("map units from the nearest encoded image").count() >= 1
    assert page.get_by_text("reconstruction (decoded μ)").count() == 0, "the point's panel gave way to the spot's"
    shot(page, "map-spot")


def _decoded_src(pg) -> str:
    return pg.locator('[data-testid="stImage"] img').first.get_attribute("src")


def test_moving_a_slider_changes_the_decoded_image(page, server):
    goto(page, server, "sliders")
    page.locator('[data-testid="stSlider"] input[type="range"]').first.wait_for()
    before = _decoded_src(page)
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const i = document.querySelector('[data-testid=\"stImage\"] img'); return i && i.src !== before; }",
        arg=before, timeout=60_000)
    wait_app(page)
    assert _decoded_src(page) != before
    assert "z=" in page.url
    shot(page, "sliders")


def test_uploading_a_png_shows_its_reconstruction(page, server, tmp_path):
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(im).rectangle([35, 20, 85, 100], fill="black")
    path = tmp_path / "drawing.png"
    im.save(path)
    goto(page, server, "your_image")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("Reconstruction", exact=False).first.wait_for(timeout=120_000)
    wait_app(page)
    assert_page_ok(page)
    shot(page, "your_image")


def test_a_request_off_the_machine_fails_the_test(browser):
    """The recorder behind every browser test's check catches a page that asks another machine (here a
    Material icon from Google's font server, what issue #14 found; refused, so nothing goes out)."""
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        pg.route("https://fonts.gstatic.com/**", lambda r: r.abort())
        pg.set_content('<img src="https://fonts.gstatic.com/s/i/short-term/release/x/24px.svg">')
        pg.wait_for_function("() => document.images[0].complete")
    finally:
        ctx.close()
    caught, browser.outside[:] = list(browser.outside), []  # caught: this test passes
    assert caught == ["image https://fonts.gstatic.com/s/i/short-term/release/x/24px.svg"], caught


@pytest.mark.slow
def test_sessions_opening_pages_at_the_same_moment_on_a_fresh_server(browser):
    """Several users open different pages of a server that has not imported pandas yet (issue #14:
    a session's Plotly chart met the pandas another session's thread was half-way importing, and
    the page showed "partially initialized module 'pandas' has no attribute 'Series'")."""
    opened = ["reconstructions", "interpolate", "how_it_works", "", "reconstructions", "generate"]
    contexts = []
    with serving() as server:
        try:
            pages = []
            for path in opened:  # all navigations start before any page has finished its first run
                ctx = browser.new_context(viewport=VIEWPORT)
                contexts.append(ctx)
                pg = ctx.new_page()
                pg.set_default_timeout(180_000)
                pg.goto(f"{server.url}/{path}", wait_until="commit")
                pages.append(pg)
            for k, (path, pg) in enumerate(zip(opened, pages, strict=True)):
                wait_app(pg)
                assert_page_ok(pg, path or "map")
                try:  # the page itself ran
                    pg.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for(timeout=90_000)
                except playwright_api.Error:  # what that user saw, and what the server said, for the log
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    pg.screenshot(path=str(ARTIFACTS / f"fresh-server-session-{k}.png"))
                    raise AssertionError(
                        f"session {k} ({server.url}/{path}) went idle without its page's title; it shows:\n"
                        f"{pg.locator('[data-testid=stApp]').inner_text()[:1500]}") from None
            assert "partially initialized" not in server.log_tail(20_000), server.log_tail()
        finally:
            for ctx in contexts:
                ctx.close()


def test_deep_link_on_a_fresh_server_keeps_the_frame(browser, tmp_path):
    """The first session of a new server opens /sliders?z=...: sidebar and code must survive."""
    with serving() as server:
        ctx = browser.new_context(viewport=VIEWPORT)
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        pg.goto(f"{server.url}/sliders?ckpt=digits&z=0,0,0,0,0,1.5,0,0")
        wait_app(pg)
        pg.locator('[data-testid="stSlider"]').first.wait_for()
        assert pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').count() >= 1
        assert "z=" in pg.url and "1.5" in pg.url
        ctx.close()
