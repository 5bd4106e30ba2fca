"""The Chinese interface in a real browser (Chromium via Playwright): CJK glyphs render (no tofu
boxes), ``?lang=zh`` survives a click in the navigation and a slider move, and a browser whose
language is Chinese gets Chinese without asking.

Screenshots: tests/artifacts/zh-*.png (`make screenshots` copies them into docs/screenshots/).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import VIEWPORT, goto, shot, wait_app
from pagecheck import assert_page_ok

playwright_api = pytest.importorskip("playwright.sync_api")

#: Draws two different CJK characters on a canvas in the page's own font: with no CJK font both
#: come out as the same .notdef box (tofu), so equal pixels mean the glyphs are missing.
TOFU_JS = """
() => {
  const font = getComputedStyle(document.querySelector('h1') || document.body).fontFamily;
  const draw = ch => {
    const c = document.createElement('canvas'); c.width = 48; c.height = 48;
    const g = c.getContext('2d'); g.font = `32px ${font}`; g.fillText(ch, 4, 36);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(',');
  };
  return draw('潜') === draw('码');
}
"""


def lang_of(url: str) -> str | None:
    return (parse_qs(urlparse(url).query).get("lang") or [None])[0]


def title(pg) -> str:
    return pg.locator("h1").first.inner_text().strip()


def test_chinese_pages_render_cjk_and_keep_the_language(page, server):  # noqa: F811
    goto(page, server, "how_it_works?lang=zh")
    page.get_by_text("6 · 先验与编码后的数据").first.wait_for(timeout=240_000)
    wait_app(page)
    assert_page_ok(page, "how_it_works, lang=zh")
    assert title(page) == "原理"
    assert not page.evaluate(TOFU_JS), "CJK characters render as empty boxes: install fonts-noto-cjk (make browser)"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "zh-how_it_works")

    # a click in the sidebar's navigation: the next page is in Chinese and the URL still says so
    page.locator('[data-testid="stSidebarNav"] a', has_text="生成").first.click()
    page.wait_for_url("**/generate**")
    wait_app(page)
    assert_page_ok(page, "generate, lang=zh")
    assert title(page) == "生成" and lang_of(page.url) == "zh", page.url

    # a slider move reruns the page: still Chinese
    thumb = page.locator('[data-testid="stSlider"] [role="slider"], [data-testid="stSlider"] input[type="range"]')
    thumb.first.wait_for()
    thumb.first.focus()
    page.keyboard.press("ArrowRight")  # the temperature: 1 -> 1.05
    page.get_by_text("T = 1.05 · 种子 0").first.wait_for(timeout=60_000)  # the grid's caption, rerun in Chinese
    wait_app(page)
    assert_page_ok(page, "generate after a slider move, lang=zh")
    assert title(page) == "生成" and lang_of(page.url) == "zh", page.url
    shot(page, "zh-generate")


def test_a_chinese_browser_gets_chinese_by_default(browser, server):  # noqa: F811
    ctx = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        goto(pg, server, "generate")
        assert_page_ok(pg, "generate, browser in zh-CN")
        assert title(pg) == "生成" and lang_of(pg.url) == "zh", pg.url
    finally:
        ctx.close()


def test_an_english_browser_gets_english(page, server):  # noqa: F811
    goto(page, server, "generate")
    assert title(page) == "Generate" and lang_of(page.url) == "en", page.url


def test_the_chinese_tour_starts_in_chinese(page, server):  # noqa: F811
    """The Tour page in Chinese (presenter mode too); Start opens step 1 with the bar in Chinese and
    ?lang=zh still in the link."""
    goto(page, server, "tour?lang=zh&present=1")
    assert_page_ok(page, "tour, lang=zh, presenter mode")
    assert title(page) == "导览", title(page)
    shot(page, "zh-tour-present")
    goto(page, server, "tour?lang=zh&present=0")
    assert title(page) == "导览", title(page)
    page.get_by_text("一万张图像，每张一个点").first.wait_for()
    shot(page, "zh-tour")
    page.get_by_role("button", name="开始导览").click()
    page.wait_for_url(lambda url: "tour=1" in url and "/tour?" not in url)  # the Map: the default page, "/"
    page.get_by_text("导览 · 第 1 / 19 步：一万张图像，每张一个点").first.wait_for(timeout=240_000)
    wait_app(page)
    assert_page_ok(page, "tour step 1, lang=zh")
    assert title(page) == "潜在空间地图" and lang_of(page.url) == "zh", page.url
    shot(page, "zh-tour-step1")
