"""The Map's research tools in Chromium (issue #34): a click on a point (the map zoomed in) shows its
nearest neighbours beside the map and rings them over it, the zoom kept; a search marks its matches. Screenshots at 1280x800 in
tests/artifacts/ (map-neighbours.png, map-search.png)."""

from __future__ import annotations

from browser_helpers import goto, map_info, serving, shot, wait_app
from pagecheck import assert_page_ok

RINGS_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3);
  if (!gd) return null;
  const ring = gd.__vaeRings || {n: 0, shown: 0};  // components/map_rings
  const found = gd._fullData.find(t => t.name === 'search matches' || t.name === '查找结果');
  const picked = gd._fullData.filter(t => (t.selectedpoints || []).length)
                             .map(t => t.customdata[t.selectedpoints[0]][1]);
  return {rings: ring.n, ringsShown: gd.querySelectorAll('.vae-map-neighbour:not([hidden])').length, found: found ? found.x.length : 0, picked,
          range: gd._fullLayout.xaxis.range.slice()};
}
"""


def test_a_click_shows_the_neighbours_and_rings_them_on_the_map(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(page, server, "?method=pca")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    info = map_info(page)
    before = page.evaluate(RINGS_JS)["range"]
    page.mouse.move(*info["point"])
    page.mouse.wheel(0, -300)  # zoom in around the point
    page.wait_for_function(f"(b) => {{ const r = ({RINGS_JS})(); return r && r.range[0] !== b[0]; }}", arg=before)
    info = map_info(page)
    zoomed = page.evaluate(RINGS_JS)["range"]
    page.mouse.click(*info["point"])
    page.get_by_text("Nearest neighbours").wait_for(timeout=120_000)
    wait_app(page)
    page.wait_for_function(f"() => {{ const r = ({RINGS_JS})(); return r && r.rings === 10; }}", timeout=60_000)
    state = page.evaluate(RINGS_JS)
    assert zoomed != before and state["range"] == zoomed, f"the click kept the zoom: {before} {zoomed} {state}"
    assert state["ringsShown"] >= 1, state
    assert len(state["picked"]) == 1, f"the clicked point is selected in the figure: {state}"
    assert page.get_by_text("Shared by both lists").count() == 1
    assert page.get_by_text("In pixel space").count() == 1
    page.get_by_text("Nearest neighbours").scroll_into_view_if_needed()
    shot(page, "map-neighbours")
    assert_page_ok(page)


def test_a_search_marks_its_matches(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(page, server, "?method=pca&find=sneaker")
    page.wait_for_function(f"() => {{ const r = ({RINGS_JS})(); return r && r.found === 1000; }}", timeout=120_000)
    assert page.get_by_text("1,000 images match “sneaker”").count() == 1  # under the search box, in view
    shot(page, "map-search")
    assert_page_ok(page)


def test_the_canvas_map_rings_the_neighbours_and_marks_the_matches(browser):
    """The canvas map of a large explore set (here the 10,000 test images, the threshold lowered): a point
    from the link, its neighbours ringed, a search's matches marked as a selection is, the rest faded."""
    with serving({"VAE_MAP_CANVAS_ABOVE": "5000"}) as server:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = ctx.new_page()
        pg.set_default_timeout(240_000)
        pg.goto(f"{server.url}/?method=pca&point=9&k=12&find=sneaker")
        wait_app(pg)
        pg.wait_for_function("() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.mask "
                             "&& window.__vaeBigMap.rings === 12", timeout=240_000)
        state = pg.evaluate("() => ({rings: window.__vaeBigMap.rings, maskFor: window.__vaeBigMap.maskFor, "
                            "marked: window.__vaeBigMap.mask.reduce((a, b) => a + b, 0)})")
        assert state == {"rings": 12, "maskFor": "found", "marked": 1000}, state
        assert pg.get_by_text("Nearest neighbours").count() == 1
        pg.locator("canvas.vae-big-map-canvas").scroll_into_view_if_needed()
        shot(pg, "map-canvas-neighbours")
        assert_page_ok(pg)
        ctx.close()
