"""Every page renders, and nothing is cut off, on a projector (1024×768) or a laptop (1400×1000), in
presenter mode or not.

Every page is opened in Chromium, with the guided tour's bar on top (the Map with a point clicked,
so that its metrics and buttons show). It must render without an exception, with every image loaded
(none broken) and, on a story page, its script run to its last section, with images and no error;
the browser fixture fails it on any request that leaves the machine. Then it is searched for text
that does not fit its box: a metric's value or label, a button's label, a
widget's label, a latent code, any text the page cuts with an ellipsis or hides behind overflow; for
an image, canvas or button that runs past its column or the window; and for a page wider than the
window. A failure lists what it found (page, what, the text, the sizes).

The walk opens the Map by its link, with the tour's bar (step 1), then every other page from the
sidebar's navigation in the same session, as a student browses (the bar stays, with its Return).
Each page is checked at both sizes: opened at one, then the window is resized to the other (as a
lecturer moving the browser to the projector does). The pages alternate which size they open at,
so that both sizes are checked as opened and as resized to. Then presenter mode is switched on with
the sidebar's switch, as a lecturer does before the class, and opened by its link.

Presenter mode's layout is checked where a class sees it: test_classroom.py's tour, opened by the
presenter link, runs the same checks at both sizes on each of its 21 steps, which cover every page
here (and states the walk does not reach: each Map colouring, the 2-D model, PCA axes, a comparison).
"""

from __future__ import annotations

from browser_helpers import ARTIFACTS, MAP_INFO_JS, goto, map_info, wait_app
from pagecheck import assert_page_ok
from test_browser_story import STORY_PAGES, wait_story_end

SIZES = [(1024, 768), (1400, 1000)]
PAGES = ["map", "tour", "sliders", "reconstructions", "interpolate", "generate", "your_image", "how_it_works",
         "training_step", "ae_vs_vae", "vae_vs_gan", "uses", "weaknesses", "train"]

#: Everything cut off on the page: [{what, text, detail}]
CLIPPED_JS = """
() => {
  const out = [];
  const W = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const side = document.querySelector('[data-testid="stSidebar"]');
  const sideOpen = side && side.dataset.collapsed !== 'true' && side.getBoundingClientRect().right > 50;
  const roots = [main, ...(sideOpen ? [side] : [])];
  const shown = el => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    // inside a folded expander (not its summary): hidden from the user, though it keeps a stale box
    const fold = el.closest('details:not([open])');
    if (fold && !el.closest('summary')) return false;
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden') return false;
    }
    return true;
  };
  const text = el => (el.innerText || el.textContent || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ');
  const ownText = el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const seen = new Set();
  const add = (what, el, detail) => {
    const key = what + '|' + text(el).slice(0, 80);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({what, text: text(el).slice(0, 80), detail});
  };
  for (const root of roots) {
    // text cut by its own box: an ellipsis, or hidden / scrolled overflow around text
    for (const el of root.querySelectorAll('*')) {
      if (el.closest('.js-plotly-plot, [data-testid="stDataFrame"], .stDataFrame, svg, canvas, [data-testid="stSkeleton"]')) continue;
      const cs = getComputedStyle(el);
      const cuts = cs.textOverflow === 'ellipsis' || ((cs.overflowX === 'hidden' || cs.overflowX === 'auto' || cs.overflowX === 'scroll') && (ownText(el) || el.tagName === 'PRE' || el.tagName === 'CODE'));
      if (!cuts || !text(el) || !shown(el)) continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const kind = el.closest('[data-testid="stMetric"]') ? 'metric' : el.closest('button') ? 'button' :
          el.closest('[data-testid="stCode"], pre') ? 'code' : el.closest('label, [data-testid="stWidgetLabel"]') ? 'label' : 'text';
        add(kind, el, `text ${el.scrollWidth}px in a ${el.clientWidth}px box`);
      }
    }
    // images, canvases and buttons past their column or the window
    for (const el of root.querySelectorAll('img, canvas, button, [data-testid="stMetric"]')) {
      // (a table's hover toolbar is chrome over the page, not its content: it may sit anywhere while hidden)
      if (el.closest('.js-plotly-plot, [data-testid="stElementToolbar"]') || !shown(el)) continue;
      const r = el.getBoundingClientRect();
      const col = el.parentElement.closest('[data-testid="stColumn"], [data-testid="stMainBlockContainer"], [data-testid="stSidebarContent"]');
      const c = col ? col.getBoundingClientRect() : {left: 0, right: W};
      if (r.right > Math.min(c.right, W) + 1.5 || r.left < Math.max(c.left, 0) - 1.5) {
        add(el.tagName === 'BUTTON' ? 'button' : el.tagName.toLowerCase(), el,
            `x ${Math.round(r.left)}-${Math.round(r.right)} outside ${Math.round(Math.max(c.left, 0))}-${Math.round(Math.min(c.right, W))}`);
      }
    }
  }
  const sw = document.scrollingElement.scrollWidth;
  if (sw > W + 1) out.push({what: 'page', text: '', detail: `page ${sw}px wide in a ${W}px window`});
  return out;
}
"""


def clipped(pg) -> list[dict]:
    return pg.evaluate(CLIPPED_JS)


def tour_step(name: str) -> int:
    """A tour step shown with the page: one of its own (talking points), else step 1 (Return)."""
    from pages._tour_steps import STEPS

    return next((k for k, s in enumerate(STEPS, start=1) if s.page == name), 1)


def open_page(pg, server, name: str) -> None:
    query = f"?tour={tour_step(name)}"  # with the tour's bar on top
    goto(pg, server, ("" if name == "map" else name) + query)
    settle_page(pg, name)


def page_heading(name: str) -> str:
    """The title at the top of the page ``name`` (file stem in pages/)."""
    from pages._nav import title

    return {"map": "Map of the latent space", "train": "Train a new model"}.get(name, title(name))


def navigate(pg, name: str) -> None:
    """Open the page ``name`` (not the Map) by its entry in the sidebar's navigation, in this session
    (a page load less: about 1.5 CPU-s of Chromium), and wait until it has replaced the last one."""
    pg.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').click()
    pg.wait_for_function("""(p) => location.pathname.endsWith('/' + p.name) && !document.querySelector('[data-stale="true"]')
      && [...document.querySelectorAll('[data-testid=stMain] h1')].some(h => h.innerText.trim() === p.title)""",
                         arg={"name": name, "title": page_heading(name)})
    wait_app(pg)
    settle_page(pg, name)


def settle_page(pg, name: str) -> None:
    """The page ``name``, just opened, as the walk checks it: on the Map, a point clicked."""
    if name == "map":
        map_info(pg)  # drawn and settled
        # the whole chart in the window (in presenter mode at 768 px it starts low), then a point of it
        pg.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                    ".find(g => (g._fullData || []).length > 3).scrollIntoView({block: 'start'})")
        pg.wait_for_timeout(300)
        info = pg.evaluate(MAP_INFO_JS)
        pg.mouse.click(*info["point"])  # the point panel: metrics, images, code, buttons
        pg.get_by_role("button", name="Steer this point").wait_for()
        wait_app(pg)
    page_ready(pg, name, name)


def page_ready(pg, where: str, name: str) -> None:
    """Wait until the page ``name`` (of pages/) is as the user sees it, and assert it rendered: no
    exception, no broken image; a story page run to its last section, with images and no st.error.
    A failure names ``where``."""
    if name in STORY_PAGES:  # a story page: its script has run to its last section
        wait_story_end(pg, name)
    # images loaded (a story page's come as media files after its elements: at least one), fonts in,
    # no skeleton left: the page as the user sees it (then one more frame)
    some = "document.querySelector('[data-testid=stImage] img') && " if name in STORY_PAGES else ""
    pg.wait_for_function(f"() => {some}document.fonts.status === 'loaded' && [...document.images].every(i => i.complete)"
                         " && !document.querySelector('[data-testid=stSkeleton]')")
    pg.wait_for_timeout(200)
    assert_page_ok(pg, where)
    images = pg.evaluate(IMAGES_JS)
    assert not images["broken"], f"{where}: broken images (a media URL that did not load): {images['broken']}"
    if name in STORY_PAGES:
        assert images["shown"] > 0, f"{where}: a story page without images"
        errors = pg.locator('[data-testid="stAlertContentError"]').all_inner_texts()
        assert not errors, f"{where} shows st.error: {errors}"


#: The page's images (st.image) that loaded, and the address of each that is broken (loaded, no pixels)
IMAGES_JS = """
() => {
  const a = [...document.querySelectorAll('[data-testid="stImage"] img')];
  return {shown: a.filter(i => i.naturalWidth > 0).length,
          broken: a.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src.slice(0, 120))};
}
"""


#: A signature of the layout: the window, the page's width, and the boxes of the main blocks, charts,
#: images and frames (equal twice in a row: the page has finished moving after a resize)
LAYOUT_JS = """
() => [window.innerWidth, window.innerHeight, document.scrollingElement.scrollWidth,
       ...[...document.querySelectorAll('[data-testid=stMainBlockContainer], [data-testid=stColumn], '
                                         + '.js-plotly-plot, img, canvas, iframe')]
          .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round).join(','); })
      ].join(';')
"""


def resize(pg, width: int, height: int) -> None:
    """Resize the window and wait until the page has laid itself out again (and any rerun is done)."""
    pg.set_viewport_size({"width": width, "height": height})
    pg.wait_for_function(f"() => window.innerWidth === {width} && window.innerHeight === {height}")
    settle(pg)


def settle(pg) -> None:
    """Wait until the page's layout holds still (and any rerun is done)."""
    before = None
    for _ in range(40):  # at most ~8 s; a page that keeps moving is checked as it is then
        pg.wait_for_timeout(200)
        now = pg.evaluate(LAYOUT_JS)
        if now == before:
            break
        before = now
    wait_app(pg)


def check(pg, name: str, size: tuple[int, int], present: bool) -> list[str]:
    """What ``clipped`` finds on the page as it is now (with a full-page screenshot if anything)."""
    assert_page_ok(pg, f"{name} at {size[0]}×{size[1]}")
    problems = clipped(pg)
    if problems:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"clipped-{name}-{size[0]}x{size[1]}-{int(present)}.png"), full_page=True)
    mode = " in presenter mode" if present else ""
    return [f"{name} at {size[0]}×{size[1]}{mode}: {p['what']} {p['text']!r}: {p['detail']}" for p in problems]


FONT_JS = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"


def presenter_on(pg) -> None:
    """Switch presenter mode on with the sidebar's switch; wait until the page has been drawn in it."""
    normal = pg.evaluate(FONT_JS)
    pg.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]').filter(has_text="Presenter mode").click()
    pg.wait_for_function(f"() => ({FONT_JS})() > {normal} && "
                         "document.querySelector('[data-testid=stSidebar]').dataset.collapsed === 'true'")
    settle(pg)


def test_every_page_renders_and_nothing_is_cut_off(browser, server):
    first = SIZES[0]
    ctx = browser.new_context(viewport={"width": first[0], "height": first[1]})
    pg = ctx.new_page()
    pg.set_default_timeout(180_000)
    found = []
    try:
        for k, name in enumerate(PAGES):  # opened at SIZES[0], then SIZES[1], then SIZES[0], ...
            sizes = SIZES if k % 2 == 0 else SIZES[::-1]
            pg.set_viewport_size({"width": sizes[0][0], "height": sizes[0][1]})  # (the last page ended at the other)
            if k == 0:
                open_page(pg, server, name)  # by its link
            else:
                navigate(pg, name)  # by the sidebar
            found += check(pg, name, sizes[0], False)
            resize(pg, *sizes[1])
            found += check(pg, name, sizes[1], False)
        assert not found, "cut off:\n" + "\n".join(found)
        presenter_by_switch_then_link(pg, server, PAGES[-1])
    finally:
        ctx.close()


def presenter_by_switch_then_link(pg, server, name: str) -> None:
    """Presenter mode on the open page ``name``, by the sidebar's switch in the running session, then
    by the link (?present=1) in a new session: larger text, the sidebar folded, present=1 in the
    address (so that the link shared from there keeps it)."""
    side = pg.locator('[data-testid="stSidebar"]')
    normal = pg.evaluate(FONT_JS)
    assert side.get_attribute("data-collapsed") == "false"
    presenter_on(pg)
    assert pg.evaluate(FONT_JS) >= 1.2 * normal
    assert "present=1" in pg.evaluate("() => location.href")
    goto(pg, server, f"{name}?present=1")  # a new session from the link
    # the page's style arrives with its elements: wait for it (under load the first check came before it)
    pg.wait_for_function(f"() => ({FONT_JS})() >= {1.2 * normal}", timeout=30_000)
    assert side.get_attribute("data-collapsed") == "true", "the sidebar is folded"
    assert "present=1" in pg.evaluate("() => location.href")
