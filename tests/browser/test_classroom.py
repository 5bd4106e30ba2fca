"""Issue #16 in a real browser: what failed in a rehearsed lecture, and the guided tour.

- Box and lasso selection right after clicking a point (the rehearsal lost the drag 3 tries of 3:
  the clicked point's ring entered the figure one rerun late, so the drag's rerun drew a new chart).
- The clicked point is marked at once, and the chart (its tool, its selection) survives the reruns.
- The tour walks every step with Next, each on its page, in its state, without an exception,
  and nothing on it is cut off in presenter mode at 1024×768 or 1280×720 (test_layout.py's checks);
  each step opens with its figure (its focus, pages/_tour_steps.py) whole in the window below the tour's
  bar, at both sizes, and at 1024×768 what a back row must read is large enough (thumbnails, the How it
  works diagram's letters, the 2-D landscape's tiles, the map's hover preview; no strip of images that
  leaves one alone on a row).
- A link opened in a new tab shows the same Map.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import ARTIFACTS, MAP_INFO_JS, VIEWPORT, goto, map_info, playwright_api, shot, wait_app
from pagecheck import assert_page_ok
from test_layout import check, page_heading, page_ready, resize

CHART = "() => [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3)"
PLOT_BOX_JS = f"""() => {{
  const g = ({CHART})(), r = g.getBoundingClientRect(), xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
  return [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length];
}}"""


def href(pg) -> str:
    """The address bar (Playwright's page.url misses Streamlit's history.replaceState)."""
    return pg.evaluate("() => location.href")


def panel(pg) -> list[str]:
    """The headings of the panel beside the map."""
    return pg.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] h3')].map(h => h.innerText)")


def dragmode(pg) -> str:
    return pg.evaluate(f"() => ({CHART})()._fullLayout.dragmode")


def tag_chart(pg) -> None:
    pg.evaluate(f"() => {{ ({CHART})().__testTag = 1; }}")


def same_chart(pg) -> bool:
    return pg.evaluate(f"() => ({CHART})().__testTag === 1")


def ring(pg) -> dict | None:
    return pg.evaluate("""() => { const r = document.querySelector('.vae-map-ring');
      if (!r || r.hidden) return null; const b = r.getBoundingClientRect();
      return {x: b.left + b.width / 2, y: b.top + b.height / 2}; }""")


def click_point(pg, wait: bool) -> list[float]:
    """Click an isolated data point; with ``wait``, until its panel is shown."""
    info = map_info(pg)
    x, y = info["point"]
    pg.mouse.click(x, y)
    marked = ring(pg)  # drawn by the page on the click, before the server has answered
    assert marked is not None and math.hypot(marked["x"] - x, marked["y"] - y) < 3, (marked, x, y)
    if wait:
        pg.get_by_role("button", name="Steer this point").wait_for()
        wait_app(pg)
        assert ring(pg) is not None, "the ring stays after the rerun"
    return [x, y]


def pick_tool(pg, title: str) -> None:
    pg.locator(f'.modebar-btn[data-title="{title}"]').first.click()  # the toolbar is always shown
    assert dragmode(pg) == ("select" if title == "Box Select" else "lasso")


def drag(pg, points: list[tuple[float, float]]) -> None:
    pg.mouse.move(*points[0])
    pg.mouse.down()
    for p in points[1:]:
        pg.mouse.move(*p)
    pg.mouse.up()


def box_path(pg, start: list[float] | None = None, at: float = 0.35) -> list[tuple[float, float]]:
    x0, y0, w, h = pg.evaluate(PLOT_BOX_JS)
    sx, sy = start or (x0 + at * w, y0 + at * h)
    ex, ey = sx + 0.3 * w * (1 if sx < x0 + w / 2 else -1), sy + 0.3 * h * (1 if sy < y0 + h / 2 else -1)
    return [(sx + (ex - sx) * k / 12, sy + (ey - sy) * k / 12) for k in range(13)]


def lasso_path(pg, at: float = 0.5, size: float = 0.18) -> list[tuple[float, float]]:
    x0, y0, w, h = pg.evaluate(PLOT_BOX_JS)
    cx, cy, r = x0 + at * w, y0 + at * h, size * min(w, h)
    return [(cx + r * math.cos(2 * math.pi * k / 24), cy + r * math.sin(2 * math.pi * k / 24)) for k in range(25)]


def selected_count(pg) -> int:
    pg.get_by_text("images selected").first.wait_for(timeout=60_000)
    wait_app(pg)
    head = next(h for h in panel(pg) if "images selected" in h)
    return int(head.split()[0].replace(",", ""))


@pytest.mark.parametrize("tool, wait", [("Box Select", False), ("Lasso Select", True)],
                         ids=["Box Select-at-once", "Lasso Select-settled"])
def test_box_and_lasso_right_after_clicking_a_point(page, server, tool, wait):
    """Each tool, and each timing (the drag before the click's rerun has answered, or after), once:
    the app handles both tools' selections alike, and a box dragged after a settled click is
    test_toolbar_points_one_after_another_then_a_box_from_a_point's (the four pairs: 72 CPU-s)."""
    goto(page, server)
    map_info(page)
    tag_chart(page)
    click_point(page, wait)
    pick_tool(page, tool)
    drag(page, box_path(page) if tool == "Box Select" else lasso_path(page))
    n = selected_count(page)
    assert n > 1, panel(page)
    assert not any(h.startswith("#") for h in panel(page)), "the single point's panel gave way to the selection"
    assert same_chart(page), "the chart was redrawn (a new figure drops the selection and the tool)"
    assert dragmode(page) == ("select" if tool == "Box Select" else "lasso"), "the tool survives the rerun"
    assert ring(page) is None, "no single point is marked while many are selected"
    assert_page_ok(page)
    # and again, with the same tool, starting outside the first one (a drag that starts inside a
    # selection moves it, in plotly.js): the selection is replaced, the chart stays
    drag(page, box_path(page, at=0.1) if tool == "Box Select" else lasso_path(page, at=0.28, size=0.1))
    page.wait_for_function("(n) => [...document.querySelectorAll('[data-testid=stMain] h3')]"
                           ".some(h => h.innerText.endsWith('images selected') && h.innerText !== n)",
                           arg=f"{n:,} images selected")
    assert selected_count(page) > 1 and same_chart(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"select-{tool.split()[0].lower()}-{'settled' if wait else 'at-once'}.png"))


def test_toolbar_points_one_after_another_then_a_box_from_a_point(page, server):
    """On one Map: defect 8 (the toolbar only appeared on hover, then covered the legend); clicking a
    point, an empty spot and the point again keeps the chart; then a box dragged from that point."""
    goto(page, server)
    map_info(page)
    page.mouse.move(5, 5)  # the mouse away from the chart
    bars = page.evaluate(f"""() => {{ const g = ({CHART})(), m = g.querySelector('.modebar'),
      l = g.querySelector('.legend'), mb = m.getBoundingClientRect(), lb = l.getBoundingClientRect();
      return {{hover: !!g.querySelector('.modebar--hover'), opacity: getComputedStyle(m).opacity,
               bar: [mb.left, mb.top, mb.right, mb.bottom], legend: [lb.left, lb.top, lb.right, lb.bottom]}}; }}""")
    assert not bars["hover"] and bars["opacity"] == "1", bars
    bar, legend = bars["bar"], bars["legend"]
    apart = bar[3] <= legend[1] + 1 or bar[2] <= legend[0] or legend[2] <= bar[0]
    assert apart, f"the toolbar {bar} overlaps the legend {legend}"

    tag_chart(page)
    click_point(page, wait=True)
    first = [h for h in panel(page) if h.startswith("#")]
    info = page.evaluate(MAP_INFO_JS)
    page.mouse.click(*info["spot"])  # an empty spot
    page.get_by_text("Decoded spot").wait_for()
    wait_app(page)
    assert same_chart(page) and ring(page) is not None
    xy = click_point(page, wait=True)
    assert [h for h in panel(page) if h.startswith("#")] == first and same_chart(page)

    pick_tool(page, "Box Select")
    drag(page, box_path(page, start=xy))  # the drag starts on the clicked point itself
    assert selected_count(page) >= 1
    assert same_chart(page) and dragmode(page) == "select"


def test_refine_says_what_it_costs_shows_its_steps_and_why_it_differs(page, server):
    """Defect 6: the rehearsal's "Refine (slow: seconds)" took about 90 s, with no word on why its image
    differed. On the digits map (360 codes: its UMAP fit is quick; its cost text is the same)."""
    goto(page, server, "?ckpt=digits&method=umap")
    info = map_info(page)
    page.mouse.click(*info["spot"])
    page.get_by_text("Decoded spot").wait_for()
    wait_app(page)
    cost = page.get_by_text("umap-learn's inverse_transform: another way to guess").inner_text()
    assert "the fast decode above takes milliseconds" in cost and ("1–2 minutes" in cost or "a few seconds" in cost), cost
    page.get_by_role("button", name="Refine with umap-learn's inverse_transform").click()
    page.get_by_text("Refined in").first.wait_for(timeout=300_000)
    wait_app(page)
    # its steps, with timings (the status folds when done: its text is there, hidden)
    steps = page.locator('[data-testid="stExpander"]').filter(has_text="Refined in").text_content()
    assert "Optimising a code" in steps and ("Fitted in" in steps or "Fitted earlier" in steps), steps
    why = page.get_by_text("Why they differ").inner_text()
    assert "apart" in why and "lands" in why, why
    assert_page_ok(page)


# -- the link, in a new tab ---------------------------------------------------------------------
def test_a_shared_map_link_opens_the_same_map(browser, server):
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(180_000)
        goto(pg, server, "?method=pca&point=42")
        map_info(pg)
        assert any(h.startswith("#42 ") for h in panel(pg)), panel(pg)
        assert ring(pg) is not None, "the linked point is marked"
        link = href(pg)
        other = ctx.browser.new_context(viewport=VIEWPORT).new_page()  # another user, another session
        other.set_default_timeout(180_000)
        other.goto(link)
        wait_app(other)
        map_info(other)
        assert any(h.startswith("#42 ") for h in panel(other)), panel(other)
        query = parse_qs(urlparse(href(other)).query)
        assert query["method"] == ["pca"] and query["point"] == ["42"]
        assert other.get_by_text("PCA · 10,000 points", exact=False).count() == 1, "the map is the PCA one"
        # to another page and back by the sidebar: still the PCA map (Streamlit dropped the Map's widget
        # values on a page switch, and the Map came back as UMAP: for an imported model, a minute's fit)
        other.locator('[data-testid="stSidebarNav"] a').filter(has_text="Sliders").click()
        wait_app(other)
        other.locator('[data-testid="stSidebarNav"] a').filter(has_text="Map").first.click()
        wait_app(other)
        assert parse_qs(urlparse(href(other)).query)["method"] == ["pca"], href(other)
        assert other.get_by_text("PCA · 10,000 points", exact=False).count() == 1, "back on the Map: still PCA"
        other.context.close()
    finally:
        ctx.close()


# -- the guided tour -------------------------------------------------------------------------------
TOUR_SIZES = [(1024, 768), (1280, 720)]  # a projector, and a laptop's screen on one
README_STEPS = {2: "presenter-map-point", 8: "presenter-interpolate"}  # step -> its docs/screenshots/ name
THUMB_PX, DIAGRAM_TEXT_PX, TILE_PX, PREVIEW_PX = 96, 16, 28, 200  # what a back row reads, at 1024 px wide


def step_shot(pg, k: int, page: str) -> None:
    """The tour step as it opens (tests/artifacts/tour-KK-page.png), and the README's for README_STEPS."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"tour-{k:02d}-{page}.png"))
    if k in README_STEPS:
        shot(pg, README_STEPS[k])


#: The step's focus (the first of its selectors drawn on the page), the tour bar's bottom and the window
FOCUS_JS = """
(sels) => {
  let el = null, sel = null;
  for (const s of sels) {
    el = [...document.querySelectorAll(s)].find(e => { const r = e.getBoundingClientRect(); return r.width >= 1 && r.height >= 1; });
    if (el) { sel = s; break; }
  }
  const bar = document.querySelector('.st-key-tour_bar');
  const b = bar ? bar.getBoundingClientRect().bottom : 0;
  const r = el && el.getBoundingClientRect();
  const box = r && [r.left, r.top, r.right, r.bottom].map(Math.round);
  const inView = !!r && r.top >= b - 0.5 && r.bottom <= innerHeight + 0.5 && r.left >= -0.5 && r.right <= innerWidth + 0.5;
  return {sel, box, bar: Math.round(b), window: [innerWidth, innerHeight], inView};
}
"""


def focus_in_view(pg, k: int, step, size: tuple[int, int]) -> list[str]:
    """Wait until the step's focus is whole in the window below the tour's bar; what is wrong if it is not."""
    where = f"step {k} ({step.page}) at {size[0]}×{size[1]}"
    try:
        pg.wait_for_function(f"(sels) => ({FOCUS_JS})(sels).inView", arg=list(step.focus), timeout=20_000)
        return []
    except playwright_api.TimeoutError:
        seen = pg.evaluate(FOCUS_JS, list(step.focus))
        pg.screenshot(path=str(ARTIFACTS / f"focus-{k:02d}-{step.page}-{size[0]}x{size[1]}.png"))
        if seen["box"] is None:
            return [f"{where}: no focus {list(step.focus)} drawn on the page"]
        return [f"{where}: the focus {seen['sel']} at {seen['box']} (left, top, right, bottom) is not whole in the "
                f"window {seen['window']} below the tour's bar (bottom {seen['bar']})"]


#: What a back row must read, measured on the page as drawn (CSS pixels on screen)
BACK_ROW_JS = """
async () => {
  const main = document.querySelector('[data-testid=stMain]');
  const shown = e => { const r = e.getBoundingClientRect(); return r.width >= 1 && r.height >= 1 && !e.closest('details:not([open])'); };
  const thumbs = [...main.querySelectorAll('[data-testid=stImage] img')].filter(shown)
    .map(i => ({w: i.getBoundingClientRect().width, src: i.src.slice(-40)}));
  // a list of images (one st.image call) whose last row holds one image alone
  const orphans = [];
  for (const frame of main.querySelectorAll('[data-testid=stFullScreenFrame] > div')) {
    const imgs = [...frame.children].filter(c => c.matches('[data-testid=stImage]') && shown(c));
    if (imgs.length < 2) continue;
    const rows = {};
    for (const c of imgs) { const t = Math.round(c.getBoundingClientRect().top / 4); rows[t] = (rows[t] || 0) + 1; }
    const counts = Object.keys(rows).sort((a, b) => a - b).map(t => rows[t]);
    if (counts.length > 1 && counts.includes(1)) orphans.push(counts.join(' + '));
  }
  const diagram = [...main.querySelectorAll('[data-testid=stGraphVizChart] svg text')].map(t => {
    const m = t.getScreenCTM(); return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b); });
  const preview = [...main.querySelectorAll('.st-key-map_hover_view canvas')].filter(shown)
    .map(c => c.getBoundingClientRect().width);
  let landscape = null;  // a 2-D model's decoded plane behind the map: its size on screen, and its picture's
  const gd = [...main.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && (g._fullLayout.images || []).length);
  if (gd) {
    const im = gd._fullLayout.images[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, pic = new Image();
    pic.src = im.source; await pic.decode();
    landscape = {w: Math.abs(xa.l2p(im.x + im.sizex) - xa.l2p(im.x)), h: Math.abs(ya.l2p(im.y) - ya.l2p(im.y - im.sizey)),
                 natural: [pic.naturalWidth, pic.naturalHeight]};
  }
  return {thumbs, orphans, diagram, preview, landscape};
}
"""


def back_row(pg, k: int, step, size: tuple[int, int]) -> list[str]:
    """What a back row cannot read on the step's page, in presenter mode (sizes at 1024 px wide; no lone image
    on a row of a strip at any width)."""
    from pages.generate import grid_layout

    where = f"step {k} ({step.page}) at {size[0]}×{size[1]}"
    if step.page == "map" and size[0] == 1024:  # the hover preview: the mouse over the map, the decoder ready
        pg.wait_for_function("() => window.__vaeLive && (window.__vaeLive.ready.hover || window.__vaeLive.failures.hover)",
                             timeout=120_000)
        area = pg.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        for i in range(12):  # a short stroke across the middle of the map (the preview shows the hint before it)
            pg.mouse.move(area["x"] + area["width"] * (0.4 + 0.02 * i), area["y"] + area["height"] * 0.5)
            pg.wait_for_timeout(30)
        pg.wait_for_function("() => [...document.querySelectorAll('.st-key-map_hover_view canvas')]"
                             ".some(c => c.getBoundingClientRect().width > 0)", timeout=60_000)
    seen = pg.evaluate(BACK_ROW_JS)
    found = [f"{where}: a strip of images wraps one onto its own row ({rows})" for rows in seen["orphans"]]
    if size[0] != 1024:
        return found
    side = 28 if step.params.get("ckpt", "fashion-mnist").startswith("fashion-mnist") else 8  # the images' pixels
    for t in seen["thumbs"]:
        w = t["w"] / grid_layout(int(step.params["n"]), side, True)[0] if step.page == "generate" and t["w"] > 500 \
            else t["w"]  # the grid of samples: one picture of many
        if w < THUMB_PX - 0.5:
            found.append(f"{where}: an image {w:.0f} px wide (…{t['src']}), under {THUMB_PX}")
    if seen["diagram"] and min(seen["diagram"]) < DIAGRAM_TEXT_PX - 0.05:
        found.append(f"{where}: the diagram's letters are {min(seen['diagram']):.1f} px, under {DIAGRAM_TEXT_PX}")
    if seen["preview"] and max(seen["preview"]) < PREVIEW_PX:
        found.append(f"{where}: the hover preview is {max(seen['preview']):.0f} px, under {PREVIEW_PX}")
    if seen["landscape"]:
        ls = seen["landscape"]
        tile = min(ls["w"] / (ls["natural"][0] / side), ls["h"] / (ls["natural"][1] / side))
        if tile < TILE_PX:
            found.append(f"{where}: the decoded landscape's tiles are {tile:.1f} px, under {TILE_PX}")
    return found


def test_the_tour_walks_every_step(browser, server):
    """The lecturer's path: the presenter link, then Next through every step, each on its page, in
    its state; and, at each step, test_layout's checks in presenter mode at both sizes (each step
    opened at one, then resized to the other; alternating), so that nothing a class sees is cut off;
    the step's focus whole in the window, and what a back row reads large enough."""
    from pages._tour_steps import STEPS

    ctx = browser.new_context(viewport={"width": TOUR_SIZES[0][0], "height": TOUR_SIZES[0][1]})
    pg = ctx.new_page()
    pg.set_default_timeout(240_000)
    found = []
    try:
        goto(pg, server, "tour?present=1")
        assert pg.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true", "presenter mode"
        page_ready(pg, "the Tour page", "tour")
        shot(pg, "tour")  # the README's pictures (make screenshots): the Tour page, and two steps below
        found += check(pg, "tour", TOUR_SIZES[0], True)
        resize(pg, *TOUR_SIZES[1])
        found += check(pg, "tour", TOUR_SIZES[1], True)
        pg.get_by_role("button", name="Start the tour").click()
        for k, step in enumerate(STEPS, start=1):
            sizes = TOUR_SIZES[::-1] if k % 2 else TOUR_SIZES  # step 1 opens at TOUR_SIZES[1], where the Tour page ended
            pg.wait_for_function("(k) => [...document.querySelectorAll('[data-testid=stMain] strong')]"
                                 ".some(e => e.innerText.startsWith(`Tour · step ${k} of`))", arg=k)
            wait_app(pg)
            if step.page == "map":  # the map drawn (coloured by a value it is one trace: not map_info's test)
                pg.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(g => "
                                     "g._fullLayout && (g._fullData || []).some(t => t.customdata))", timeout=240_000)
                wait_app(pg)
            page_ready(pg, f"step {k}", step.page)
            title = pg.locator('[data-testid="stMain"] h1').first.inner_text()
            assert title == page_heading(step.page), (k, title)
            query = {key: v[-1] for key, v in parse_qs(urlparse(href(pg)).query).items()}
            assert query.get("tour") == str(k) and query.get("present") == "1", (k, href(pg))
            for key, value in step.params.items():
                if key != "image":  # an instruction, not state
                    assert query.get(key) == value, (k, key, query.get(key), value)
            for n, size in enumerate(sizes):
                if n:
                    resize(pg, *size)
                found += check(pg, f"step {k} ({step.page})", size, True)
                found += focus_in_view(pg, k, step, size)
                found += back_row(pg, k, step, size)
                if size == TOUR_SIZES[0]:  # the step as it opens at 1024×768 (the README's pictures too)
                    step_shot(pg, k, step.page)
            nxt = pg.locator(".st-key-tour_bar").get_by_role("button", name="Next")  # One training step has its own
            if k < len(STEPS):
                nxt.click()
            else:
                assert nxt.is_disabled()
        pg.locator(".st-key-tour_bar").get_by_role("button", name="End").click()
        pg.locator(".st-key-tour_bar").wait_for(state="detached")  # the End's rerun, however late it starts
        wait_app(pg)
        assert pg.locator(".st-key-tour_bar").count() == 0 and "tour=" not in href(pg)
    finally:
        ctx.close()
    assert not found, "cut off, out of view or too small:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ["", "sliders"])
def test_the_page_stays_where_it_is_on_its_first_rerun(page, server, path):
    """The first slot (frame/main.py) takes the same room on a session's first run and on the next: the page did
    not move up 16 px on the first rerun, under the user's first click (a test clicking a point saw its ring
    16 px above the point)."""
    goto(page, server, path)
    top = "() => document.querySelector('h1').getBoundingClientRect().top"
    before = page.evaluate(top)
    page.keyboard.press("r")  # Streamlit's shortcut: run the page again
    page.wait_for_timeout(300)
    wait_app(page)
    assert page.evaluate(top) == before
