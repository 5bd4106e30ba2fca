"""Two latent spaces in Chromium (issue #35): a box drawn in one map lights up the same images in the
other, both ways; the selection travels in the link; nothing on the page is cut off. Screenshots in
tests/artifacts/ (spaces-1280.png, spaces-1024.png, spaces-1024-zh.png, spaces-phone.png)."""

from __future__ import annotations

import sys
from pathlib import Path

from browser_helpers import goto, shot, wait_app
from pagecheck import assert_page_ok
from test_layout import clipped

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from vae.explore import index_text  # noqa: E402

PAIR = "spaces?a=fashion-mnist&b=fashion-mnist-beta4"

#: Per map (A, B): its data points, the indices plotly.js draws as selected, and the plot area on screen.
MAPS_JS = """
() => {
  const out = {};
  for (const side of ['a', 'b']) {
    const gd = document.querySelector(`.st-key-sp_box_${side} .js-plotly-plot`);
    if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis || !gd._fullData) return null;
    let n = 0; const selected = [];
    for (const t of gd._fullData) {
      if (!t.customdata || !t.customdata.length || t.customdata[0][0] !== 0) continue;
      n += t.x.length;
      for (const j of (t.selectedpoints || [])) selected.push(t.customdata[j][1]);
    }
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
    out[side] = {n, selected: selected.sort((p, q) => p - q),
                 plot: [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length]};
  }
  return out;
}
"""


def _maps(pg) -> dict:
    pg.wait_for_function(f"() => {{ const m = ({MAPS_JS})(); return m && m.a.n > 0 && m.b.n > 0; }}", timeout=240_000)
    return pg.evaluate(MAPS_JS)


def _box(pg, plot, x0, y0, x1, y1) -> None:
    """Drag a box over the plot area ``plot`` (left, top, width, height) from (x0, y0) to (x1, y1), as
    fractions of it (the maps open with the box tool)."""
    left, top, w, h = plot
    pg.mouse.move(left + x0 * w, top + y0 * h)
    pg.mouse.down()
    for t in (0.25, 0.5, 0.75, 1.0):
        pg.mouse.move(left + (x0 + t * (x1 - x0)) * w, top + (y0 + t * (y1 - y0)) * h)
    pg.mouse.up()


def _lit(pg, side: str, other: list[int]) -> dict:
    """Wait until map ``side`` draws the indices ``other`` as selected; the maps' state."""
    pg.wait_for_function(f"(want) => {{ const m = ({MAPS_JS})(); return m && m.{side}.selected.length === want.length "
                         f"&& m.{side}.selected.every((v, i) => v === want[i]); }}", arg=other, timeout=120_000)
    return pg.evaluate(MAPS_JS)


def test_a_box_in_one_map_lights_the_same_images_in_the_other(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(page, server, PAIR)
    page.locator(".st-key-sp_box_a").scroll_into_view_if_needed()
    maps = _maps(page)
    assert maps["a"]["n"] == maps["b"]["n"] == 10_000 and not maps["a"]["selected"] and not maps["b"]["selected"]
    _box(page, maps["a"]["plot"], 0.3, 0.3, 0.6, 0.6)
    page.wait_for_function(f"() => ({MAPS_JS})().a.selected.length > 0", timeout=60_000)
    in_a = page.evaluate(MAPS_JS)["a"]["selected"]
    wait_app(page)
    maps = _lit(page, "b", in_a)
    assert 10 < len(in_a) < 10_000, len(in_a)
    assert maps["a"]["selected"] == in_a, "A keeps the box the user drew"
    sel = page.evaluate("() => new URLSearchParams(window.location.search).get('sel')")
    assert index_text.parse(sel, 10_000).tolist() == in_a, "the selection is in the link"
    assert page.get_by_text(f"{len(in_a):,} images selected").count() == 1
    page.locator(".st-key-sp_box_a").scroll_into_view_if_needed()
    shot(page, "spaces-1280")

    # and back: a box in B lights its images up in A
    _box(page, maps["b"]["plot"], 0.55, 0.2, 0.85, 0.5)
    page.wait_for_function(f"(old) => {{ const s = ({MAPS_JS})().b.selected; return s.length > 0 && "
                           f"s.join() !== old.join(); }}", arg=in_a, timeout=60_000)
    in_b = page.evaluate(MAPS_JS)["b"]["selected"]
    wait_app(page)
    maps = _lit(page, "a", in_b)
    assert maps["b"]["selected"] == in_b and in_b != in_a
    sel = page.evaluate("() => new URLSearchParams(window.location.search).get('sel')")
    assert index_text.parse(sel, 10_000).tolist() == in_b
    assert_page_ok(page)


def test_the_link_opens_both_maps_with_its_selection(browser, server):
    """At 1024 x 768 (in English and Chinese) and on a phone: a link's selection lit in both maps; the phone stacks the maps; nothing
    on the page is cut off."""
    want = list(range(100, 160))
    link = f"{PAIR}&sel={index_text.text(want, 10_000)}"
    for name, kw, lang in (("spaces-1024", {"viewport": {"width": 1024, "height": 768}}, "en"),
                           ("spaces-1024-zh", {"viewport": {"width": 1024, "height": 768}}, "zh"),
                           ("spaces-phone", dict(browser.devices["iPhone 13"]), "en")):
        ctx = browser.new_context(**kw)
        pg = ctx.new_page()
        pg.set_default_timeout(240_000)
        goto(pg, server, f"{link}&lang={lang}")
        pg.locator(".st-key-sp_box_a").scroll_into_view_if_needed()
        maps = _lit(pg, "a", want)
        assert maps["b"]["selected"] == want, maps["b"]["selected"][:10]
        a, b = maps["a"]["plot"], maps["b"]["plot"]
        if name == "spaces-phone":
            assert b[1] > a[1] + a[3], f"the maps are stacked on a phone: A {a}, B {b}"
        else:
            assert b[0] > a[0] + a[2] and b[1] < a[1] + a[3], f"the maps are side by side: A {a}, B {b}"
        shot(pg, name)
        assert_page_ok(pg)
        cut = clipped(pg)  # test_layout's search for text or images cut off, over the whole page
        assert not cut, f"{name}: cut off: {cut}"
        ctx.close()
