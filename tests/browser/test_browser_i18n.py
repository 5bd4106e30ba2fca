"""The Chinese interface in a real browser (Chromium via Playwright): CJK glyphs render (no tofu
boxes), ``?lang=zh`` survives a click in the navigation and a slider move, and a browser whose
language is Chinese gets Chinese without asking. At the projector's 1024×768: a delta's arrow and
colour follow its number, no Markdown mark is on screen, the file uploader's own texts are in
Chinese, and a drawing on Your image reopens from its copied link.

Screenshots: tests/artifacts/zh-*.png (`make screenshots` copies them into docs/screenshots/).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import VIEWPORT, goto, new_tab, shot, wait_app
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
    page.get_by_text("导览 · 第 1 / 21 步：一万张图像，每张一个点").first.wait_for(timeout=240_000)
    wait_app(page)
    assert_page_ok(page, "tour step 1, lang=zh")
    assert title(page) == "潜在空间地图" and lang_of(page.url) == "zh", page.url
    shot(page, "zh-tour-step1")


PROJECTOR = {"width": 1024, "height": 768}


def test_how_it_works_in_chinese_reads_right_at_the_projector(page, server):  # noqa: F811
    """Image #9 is better than the data's average: its −ELBO's delta is negative, so its arrow points down,
    green (lower is better), whatever the order of the words; the sign convention shows no asterisks."""
    page.set_viewport_size(PROJECTOR)
    goto(page, server, "how_it_works?lang=zh&image=9&present=1")
    assert_page_ok(page, "how_it_works, lang=zh, image 9")
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="−ELBO")
    metric.scroll_into_view_if_needed()
    delta = metric.locator('[data-testid="stMetricDelta"]')
    number = delta.inner_text().strip()
    assert number.startswith("-"), number
    assert delta.locator('[data-testid="stMetricDeltaIcon-Down"]').count() == 1, delta.inner_html()[:300]
    r, g, b = (int(v) for v in delta.evaluate("e => getComputedStyle(e).color").strip("rgba() ").split(",")[:3])
    assert g > r, f"the delta of a better −ELBO is not green: rgb({r}, {g}, {b})"
    assert metric.locator('[data-testid="stMetricDeltaDescription"]').inner_text().strip() == "相对数据平均"
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "**" not in main, main[main.index("**") - 40 : main.index("**") + 40]
    shot(page, "zh-lecture-how_it_works-elbo")


UPLOADER_JS = """
(sel) => [...document.querySelectorAll(sel)].map(e => ({
  after: getComputedStyle(e, '::after').content, hidden: getComputedStyle(e).visibility}))
"""


def _pad_input(pg, shape) -> list[float]:
    """The drawing pad as the model's input (the page's own canvasToInput: block means of its brightness)."""
    return pg.evaluate("""([h, w]) => {
      const c = document.querySelector('canvas.vae-draw-canvas'), W = c.width, H = c.height;
      const px = c.getContext('2d').getImageData(0, 0, W, H).data, sum = new Float64Array(h * w),
            n = new Float64Array(h * w);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const k = Math.min(h - 1, Math.floor(y * h / H)) * w + Math.min(w - 1, Math.floor(x * w / W));
        const o = (y * W + x) * 4; sum[k] += (px[o] + px[o + 1] + px[o + 2]) / 765; n[k] += 1; }
      return Array.from(sum, (s, i) => s / n[i]); }""", list(shape))


def _elbo(pg) -> str:
    m = pg.locator('[data-testid="stMetric"]').filter(has_text="−ELBO").first
    return m.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_a_drawing_reopens_from_its_link_in_chinese(tabs, server):  # noqa: F811
    """Draw on Your image (the uploader's own texts in Chinese), copy the link, open it in another tab: the pad
    shows the same drawing, the page the same figures."""
    import numpy as np

    from vae.data.drawings import decode_drawing

    pg = new_tab(tabs)
    pg.set_viewport_size(PROJECTOR)
    goto(pg, server, "your_image?lang=zh&sample=draw")
    pg.locator("[data-testid='stFileUploaderDropzone']").first.wait_for()  # drawn (a busy machine: after the idle)
    shown = pg.evaluate(UPLOADER_JS, "[data-testid='stFileUploaderDropzone'] button p, "
                                     "[data-testid='stFileUploaderDropzoneInstructions'] span")
    assert [s["after"] for s in shown] == ['"上传"', '"每个文件最大 10 MB · PNG/JPG/GIF/BMP/WEBP"'], shown
    assert all(s["hidden"] == "hidden" for s in shown), shown  # Streamlit's English, out of sight
    pad = pg.locator("canvas.vae-draw-canvas")
    pad.scroll_into_view_if_needed()
    bb = pad.bounding_box()
    pg.mouse.move(bb["x"] + bb["width"] * 0.5, bb["y"] + bb["height"] * 0.15)
    pg.mouse.down()
    for i in range(1, 16):
        pg.mouse.move(bb["x"] + bb["width"] * 0.5, bb["y"] + bb["height"] * (0.15 + 0.045 * i))
    pg.mouse.up()
    pg.get_by_text("模型看到的").wait_for(timeout=120_000)
    wait_app(pg)
    link = pg.url
    drawn = (parse_qs(urlparse(link).query).get("drawn") or [""])[0]
    assert drawn.startswith("1.") and len(link) < 1000, link
    elbo = _elbo(pg)
    again = new_tab(tabs)
    again.set_viewport_size(PROJECTOR)
    again.goto(link)
    again.get_by_text("模型看到的").wait_for(timeout=120_000)
    wait_app(again)
    assert_page_ok(again, "your_image from a drawing's link")
    assert _elbo(again) == elbo
    expected = decode_drawing(drawn, (1, 28, 28))[0].ravel()
    # the pad holds the link's drawing once the component has mounted (it may come after the page is at rest)
    again.locator('canvas.vae-draw-canvas[data-used="1"]').wait_for(timeout=60_000)
    got = np.asarray(_pad_input(again, (28, 28)))
    assert expected.max() == 1.0 and np.abs(got - expected).max() <= 1 / 255, np.abs(got - expected).max()
    again.locator("canvas.vae-draw-canvas").scroll_into_view_if_needed()
    shot(again, "zh-your_image-drawing-reopened")
    pg.close()
    again.close()
