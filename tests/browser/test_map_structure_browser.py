"""The Map's structure and kept selections in Chromium (issue #34), on the 10k Plotly map: clusters turned
on show their labels over the map (plotly.js draws the annotations the server asked for), contours under
the points; a box selection kept under a name appears in the table of kept selections and in the link.
Screenshots in tests/artifacts/: map-structure-1280.png, map-structure-1024.png, map-kept-1280.png,
map-structure-phone.png."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from browser_helpers import goto, map_info, serving, shot, wait_app
from pagecheck import assert_page_ok
from test_classroom import box_path, drag, pick_tool, selected_count

from vae.explore.clusters import place_labels

LABELS_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3);
  if (!gd || !gd._fullLayout) return null;
  // the home view's labels (the smaller clusters' wait at opacity 0 for a zoom: components/plotly_labels)
  const notes = (gd._fullLayout.annotations || []).filter(a => (a.name || '').startsWith('cluster-') && a.opacity > 0);
  const visible = [...gd.querySelectorAll('.annotation')].filter(e => getComputedStyle(e).opacity !== '0');
  const shown = visible.map(e => e.querySelector('.annotation-text').textContent);
  const r = gd.getBoundingClientRect();
  const boxes = visible.map(e => e.getBoundingClientRect()).filter(b => b.width > 0);
  const inside = boxes.filter(b => b.left >= r.left - 1 && b.right <= r.right + 1 && b.top >= r.top - 1
                                   && b.bottom <= r.bottom + 1).length;
  let overlaps = 0;
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
  }));
  return {asked: notes.map(a => a.text.replace(/<[^>]+>/g, '')), shown, inside, overlaps,
          contours: gd._fullData.filter(t => t.type === 'contour').length,
          contourPaths: gd.querySelectorAll('.contourlevel path').length};
}
"""


def labels(pg) -> dict:
    pg.wait_for_function(f"() => {{ const r = ({LABELS_JS})(); return r && r.shown.length > 0; }}", timeout=240_000)
    return pg.evaluate(LABELS_JS)


def test_clusters_show_their_labels_and_contours_lie_under_the_points(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(page, server, "?method=pca&structure=both&labels=4")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    state = labels(page)
    # the home view's labels, and those of the 4 largest that fit the real width too (plotly_labels.js)
    assert 2 <= len(state["asked"]) <= len(state["shown"]) <= 4 and state["shown"][:len(state["asked"])] == state["asked"], state
    assert state["inside"] == len(state["shown"]) and state["overlaps"] == 0, f"inside the chart, apart: {state}"
    assert state["contours"] == 1 and state["contourPaths"] >= 4, state
    assert all(t.rstrip("%").split()[-1].isdigit() for t in state["shown"]), state["shown"]  # "Trouser 98%"
    shot(page, "map-structure-1280")
    page.set_viewport_size({"width": 1024, "height": 768})
    wait_app(page)
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    state = labels(page)
    assert state["inside"] == len(state["shown"]) and state["overlaps"] == 0, state
    shot(page, "map-structure-1024")
    assert_page_ok(page)


def test_a_box_selection_is_kept_under_a_name(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(page, server, "?method=pca&structure=clusters")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    map_info(page)
    pick_tool(page, "Box Select")
    drag(page, box_path(page))
    n = selected_count(page)
    name = page.get_by_role("textbox", name="Name this selection")
    name.fill("left group")
    page.get_by_role("button", name=f"Keep {n:,} images").click()
    page.get_by_text("Kept selections").wait_for(timeout=60_000)
    wait_app(page)
    assert "keep=left+group" in page.url or "keep=left%20group" in page.url, page.url
    page.get_by_text("Kept selections").scroll_into_view_if_needed()
    shot(page, "map-kept-1280")
    assert page.locator('[data-testid="stDataFrame"]').count() == 1  # the table (drawn on a canvas)
    with page.expect_download() as got:  # the CSV export: one row per kept image
        page.get_by_role("button", name="CSV", exact=True).click()
    rows = Path(got.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("index,label,class,z0,") and "map_x,map_y,neg_elbo,recon,kl,sigma,mse" in rows[0]
    assert len(rows) == 1 + n, (len(rows), n)
    assert_page_ok(page)


def test_cluster_labels_on_a_phone(browser, server):
    ctx = browser.new_context(**browser.devices["iPhone 13"])
    pg = ctx.new_page()
    pg.set_default_timeout(240_000)
    goto(pg, server, "?method=pca&structure=both&labels=5")
    pg.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    state = labels(pg)
    assert state["inside"] == len(state["shown"]) >= 2 and state["overlaps"] == 0, state
    shot(pg, "map-structure-phone")
    assert_page_ok(pg)
    ctx.close()


def test_the_canvas_map_draws_the_labels_that_fit_at_its_zoom(browser):
    """The canvas map (the 10,000 test images, the threshold lowered): the labels drawn are those that
    vae.explore.clusters.place_labels picks from the boxes the page measured, at first and zoomed in."""
    read = "() => { const l = window.__vaeBigMap && window.__vaeBigMap.labels; return l && l.shown.length ? l : null; }"
    with serving({"VAE_MAP_CANVAS_ABOVE": "5000"}) as server:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = ctx.new_page()
        pg.set_default_timeout(240_000)
        pg.goto(f"{server.url}/?structure=clusters&labels=30")
        wait_app(pg)
        pg.wait_for_function(read, timeout=240_000)
        canvas = pg.locator("canvas.vae-big-map-canvas")
        canvas.scroll_into_view_if_needed()
        pg.wait_for_timeout(500)
        home = pg.evaluate(read)
        assert home["shown"] == place_labels(np.array(home["boxes"]), home["w"], home["h"]), home
        assert 2 <= len(home["shown"]) < len(home["boxes"]), home  # not all of the 30 fit at first
        shot(pg, "map-canvas-labels")
        box = canvas.bounding_box()
        pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(3):
            pg.mouse.wheel(0, -400)
            pg.wait_for_timeout(300)
        zoomed = pg.evaluate(read)
        assert zoomed["shown"] == place_labels(np.array(zoomed["boxes"]), zoomed["w"], zoomed["h"]), zoomed
        assert zoomed["boxes"] != home["boxes"], "the view changed"
        shot(pg, "map-canvas-labels-zoomed")
        assert_page_ok(pg)
        ctx.close()
