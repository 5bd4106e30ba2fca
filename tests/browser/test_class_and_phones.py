"""The live lecture, round two, in a real browser: a class that cannot stop the teacher's run, and
phones that work.

One server of its own (a throw-away checkpoints folder holding the shipped digits model, so that a
run started here never lands in checkpoints/; the canvas map above 1,000 images, so that digits'
test split is drawn by Plotly and its 1,797 images by the canvas map), shared by every test here.

- The teacher (a laptop) starts a long run (500 epochs); a student (a phone, in Chinese) sees the run
  and its progress in Chinese but has no Stop; the teacher, after a reload, still has it and stops
  the run.
- Phones (Playwright's iPhone 13, and its iPad at 820×1180), driven by touch (Playwright's
  ``touchscreen.tap``, CDP's ``Input.dispatchTouchEvent`` for swipes, drags and pinches), never the
  mouse: a finger on a slider keeps the decoded image in view; over both maps (Plotly, and the
  canvas map) a vertical swipe scrolls the page, a tap on a point selects it as a click does and
  shows that spot in the live preview, two fingers zoom the map; Interpolate's scrub and Your
  image's drawing pad decode live under a finger.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import ARTIFACTS, VIEWPORT, map_info, new_tab, serving, wait_app
from pagecheck import assert_page_ok
from test_bigmap_browser import ISOLATED_JS
from test_live_decode import thumb_and_track, wait_live

playwright_api = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parents[2]
SHIPPED_DIGITS = ROOT / "checkpoints" / "digits"
CANVAS_ABOVE = 1000  # digits: the test split (360) stays Plotly, all 1,797 images take the canvas
PHONE = "iPhone 13"  # 390×664 visible, touch
EPOCHS = 500  # the teacher's run: long enough to be stopped by hand
TABLET = {"base": "iPad (gen 7)", "viewport": {"width": 820, "height": 1180}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(URL, checkpoints folder) of a server of this module's own."""
    if not (SHIPPED_DIGITS / "model.safetensors").is_file():
        pytest.skip("the shipped checkpoints/digits is missing")
    root = tmp_path_factory.mktemp("class") / "checkpoints"
    shutil.copytree(SHIPPED_DIGITS, root / "digits")
    with serving({"VAE_CHECKPOINTS": str(root), "VAE_MAP_CANVAS_ABOVE": str(CANVAS_ABOVE)}) as server:
        yield server.url, root


def _set_number(pg, label: str, value: int) -> None:
    box = pg.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_app(pg)


def _shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# -- a class cannot stop the teacher's run ----------------------------------------------------------
def test_a_student_sees_the_teachers_run_in_chinese_but_only_the_teacher_can_stop_it(browser, served):
    url, root = served
    teacher_ctx = browser.new_context(viewport=VIEWPORT)
    student_ctx = browser.new_context(**browser.devices["iPhone 13"])
    try:
        teacher = new_tab(teacher_ctx)
        teacher.goto(f"{url}/train?ckpt=digits&preset=custom&lang=en")
        wait_app(teacher)
        # a run that cannot end before Stop: the classroom preset's 150 epochs of digits end in 11 s on a
        # quiet machine (on CI the run ended between the test's wait and its click); 500 epochs of 180
        # batches take minutes
        _set_number(teacher, "Epochs", EPOCHS)
        teacher.get_by_text("Advanced", exact=True).click()
        _set_number(teacher, "Batch size", 8)
        teacher.get_by_role("button", name="Start training").click()
        stop = teacher.locator('[class*="st-key-train_stop_"]').get_by_role("button", name="Stop")
        stop.wait_for()
        name = teacher.locator("h3").filter(has_text="Training: ").first.inner_text().split(": ", 1)[1]

        student = new_tab(student_ctx)
        student.goto(f"{url}/train?ckpt=digits&lang=zh")
        wait_app(student)
        student.get_by_text(f"正在训练：{name}").wait_for()
        # its progress, in Chinese: the bar (epoch, batch) and what the run is doing
        student.wait_for_function("() => { const p = document.querySelector('[data-testid=stProgress]');"
                                  " return p && /第 \\d+ \\/ 500 轮/.test(p.innerText); }")
        shown = "\n".join(student.locator(", ".join(f'[data-testid="stMain"] [data-testid="{t}"]' for t in (
            "stProgress", "stCaptionContainer", "stHeading", "stAlert"))).all_inner_texts())  # not the command
        english = [w for w in ("Evaluating", "epoch", "Epoch", "Loading", "Training", "batch", "session") if w in shown]
        assert not english, f"English progress texts in a Chinese session: {english}\n{shown}"
        assert student.locator('[class*="st-key-train_stop_"]').count() == 0, "a student has no Stop"
        student.get_by_text(f"正在训练：{name}").scroll_into_view_if_needed()
        _shot(student, "class-student-phone-zh")
        assert_page_ok(student)

        # the teacher reloads (a new Streamlit session of the same browser): the run is still theirs
        teacher.reload()
        wait_app(teacher)
        stop.wait_for()
        _shot(teacher, "class-teacher-running")
        # stopped after its first epoch, the run keeps the finished epochs (before it, nothing is saved:
        # a busy machine may take a while over the first)
        teacher.wait_for_function("() => { const p = document.querySelector('[data-testid=stProgress]');"
                                  " return p && /epoch ([2-9]|\\d\\d+) of 500/.test(p.innerText); }", timeout=300_000)
        stop.click()
        teacher.get_by_text(re.compile(r"Stopped after \d+ of 500 epochs")).wait_for()
        assert (root / name / "model.safetensors").is_file()
        student.get_by_text(f"上一次训练：{name}").wait_for()  # the student's page follows the end
        assert_page_ok(teacher)
        assert_page_ok(student)
    finally:
        teacher_ctx.close()
        student_ctx.close()



# -- phones: what a finger does ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def phone(browser):
    ctx = browser.new_context(**browser.devices[PHONE])
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def tablet(browser):
    ctx = browser.new_context(**{**browser.devices[TABLET["base"]], "viewport": TABLET["viewport"]})
    yield ctx
    ctx.close()


def _tab(ctx, url: str, path: str):
    pg = new_tab(ctx)
    pg.goto(f"{url}/{path}")
    wait_app(pg)
    return pg


def _touch(pg, kind: str, *points: tuple[float, float]) -> None:
    """One touch event through the DevTools protocol, as a touch screen sends it (no mouse events)."""
    if not hasattr(pg, "cdp"):
        pg.cdp = pg.context.new_cdp_session(pg)
    pg.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})


def _swipe(pg, x: float, y0: float, y1: float, steps: int = 10) -> None:
    _touch(pg, "touchStart", (x, y0))
    for k in range(1, steps + 1):
        _touch(pg, "touchMove", (x, y0 + (y1 - y0) * k / steps))
        time.sleep(0.02)
    _touch(pg, "touchEnd")
    time.sleep(0.8)  # the page's scroll settles


def _pinch(pg, cx: float, cy: float, d0: float, d1: float, steps: int = 8) -> None:
    """Two fingers on a horizontal line through (cx, cy), from d0 apart to d1 apart."""
    at = lambda d: ((cx - d / 2, cy), (cx + d / 2, cy))  # noqa: E731
    _touch(pg, "touchStart", *at(d0))
    for k in range(1, steps + 1):
        _touch(pg, "touchMove", *at(d0 + (d1 - d0) * k / steps))
        time.sleep(0.03)
    _touch(pg, "touchEnd")
    time.sleep(0.5)


def _scrolled(pg) -> float:
    return pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop")


def _centre(pg, selector: str) -> dict:
    """Scroll ``selector`` to the middle of the window; its box."""
    pg.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'center'})")
    time.sleep(0.4)
    return pg.locator(selector).first.bounding_box()


def _steady_thumb(pg, index: int, timeout: float = 30.0) -> tuple[tuple[float, float], dict]:
    """Slider ``index`` centred in the window, once its thumb stays put for 0.5 s (a page still drawing
    what is above it moves it): the thumb's centre and the track, with the thumb under that spot."""
    slider = f'[data-testid="stSlider"] >> nth={index}'
    deadline, last = time.monotonic() + timeout, None
    while True:
        _centre(pg, slider)
        now = thumb_and_track(pg, index)
        time.sleep(0.5)
        if now == thumb_and_track(pg, index) and pg.evaluate(
                "([x, y, i]) => !!document.elementFromPoint(x, y)?.closest('[data-testid=\"stSlider\"]')"
                " && document.elementFromPoint(x, y).closest('[data-testid=\"stSlider\"]')"
                " === document.querySelectorAll('[data-testid=\"stSlider\"]')[i]", [*now[0], index]):
            return now
        assert time.monotonic() < deadline, f"slider {index}'s thumb never stayed put under its spot: {last} then {now}"
        last = now


#: The picture a user sees of a live image: the page's canvas while most of it is in the window, else
#: the floating copy while that is shown; null when neither is. (A hash of its pixels, and which.)
SHOWN_JS = """(sel) => {
  const seen = (el) => { if (!el) return 0; const r = el.getBoundingClientRect(); if (!r.height) return 0;
    return Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0)) / r.height; };
  const hash = (c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
    for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i]) | 0; return h; };
  const image = document.querySelector(sel);
  const copy = [...document.querySelectorAll('.vae-live-float')].find(f => !f.hidden);
  if (image && seen(image) >= 0.6) return {where: 'page', hash: hash(image)};
  const c = copy && copy.querySelector('canvas');
  if (c && seen(c) >= 0.99) return {where: 'floating', hash: hash(c)};
  return null;
}"""


def _finger_drag(pg, start: tuple[float, float], end_x: float, image: str, moves: int = 15) -> list:
    """Drag a finger from ``start`` to ``end_x``; at each move, what :data:`SHOWN_JS` sees of ``image``."""
    x0, y = start
    seen = []
    _touch(pg, "touchStart", (x0, y))
    for k in range(1, moves + 1):
        _touch(pg, "touchMove", (x0 + (end_x - x0) * k / moves, y))
        time.sleep(0.1)
        seen.append(pg.evaluate(SHOWN_JS, image))
    _touch(pg, "touchEnd")
    return seen


@pytest.mark.parametrize("device", ["phone", "tablet"])
def test_a_finger_on_a_slider_keeps_the_decoded_image_in_view(request, served, device):
    """On a phone the image is far below the sliders: while a finger drags z0 the image is on screen (the
    page's, or its floating copy) and changes with the finger."""
    pg = _tab(request.getfixturevalue(device), served[0], "sliders?ckpt=digits&lang=en")
    wait_live(pg, "sliders")
    start, track = _steady_thumb(pg, 0)
    seen = _finger_drag(pg, start, track["x"] + track["width"] - 4, ".vae-live[data-mode='sliders'] canvas.vae-live-image")
    if device == "phone":
        _shot(pg, "phone-sliders-drag")
    missing = [k for k, s in enumerate(seen) if s is None]
    assert not missing, f"no decoded image on screen at moves {missing} of {len(seen)} ({device})"
    frames = {s["hash"] for s in seen}
    assert len(frames) >= 5, f"the image on screen changed only {len(frames)} times in {len(seen)} moves"
    assert_page_ok(pg)
    pg.close()


#: The data point of the Plotly map farthest from the grid of empty spots (where a tap can only mean a
#: point), inside the plot and the window: its pixel and index.
TAP_TARGET_JS = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3);
  const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis, r = gd.getBoundingClientRect();
  const px = (x, y) => [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
  const data = [], grid = [];
  for (const t of gd._fullData) {
    if (!t.customdata || !t.x) continue;
    for (let i = 0; i < t.x.length; i++) (t.customdata[i][0] === 0 ? data : grid).push([...px(t.x[i], t.y[i]), t.customdata[i][1]]);
  }
  const inside = p => p[0] > r.left + xa._offset + 20 && p[0] < r.left + xa._offset + xa._length - 20 &&
    p[1] > Math.max(r.top + ya._offset, 80) + 20 && p[1] < Math.min(r.top + ya._offset + ya._length, innerHeight) - 20;
  let best = null, gap = -1;
  for (const p of data.filter(inside)) {
    let g = 1e9; for (const q of grid) g = Math.min(g, Math.hypot(p[0] - q[0], p[1] - q[1]));
    if (g > gap) { gap = g; best = p; }
  }
  return {x: best[0], y: best[1], index: best[2], gap, data: data.map(p => [p[0], p[1], p[2]])};
}"""
PLOTLY_RANGES_JS = ("() => { const g = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || [])"
                    ".length > 3); return [g._fullLayout.xaxis.range.slice(), g._fullLayout.yaxis.range.slice()]; }")


def _point_in_url(pg, timeout: float = 60_000) -> int:
    pg.wait_for_function("() => new URLSearchParams(location.search).has('point')", timeout=timeout)
    return int(parse_qs(urlparse(pg.evaluate("() => location.href")).query)["point"][0])


def test_on_a_phone_the_plotly_map_scrolls_under_one_finger_selects_on_a_tap_and_zooms_with_two(phone, served):
    pg = _tab(phone, served[0], "?ckpt=digits&method=pca&lang=en")
    map_info(pg)
    wait_live(pg, "hover")
    box = _centre(pg, ".js-plotly-plot")
    ranges, top = pg.evaluate(PLOTLY_RANGES_JS), _scrolled(pg)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    _swipe(pg, x, y + 120, y - 120)
    assert _scrolled(pg) - top > 150, f"a swipe up over the map scrolled the page by {_scrolled(pg) - top:.0f} px"
    assert pg.evaluate(PLOTLY_RANGES_JS) == ranges, "a one-finger swipe moved the map"

    _centre(pg, ".js-plotly-plot")
    target = pg.evaluate(TAP_TARGET_JS)
    pg.touchscreen.tap(target["x"], target["y"])
    picked = _point_in_url(pg)
    where = next(p for p in target["data"] if p[2] == picked)
    assert math.hypot(where[0] - target["x"], where[1] - target["y"]) < 8, (picked, where, target["index"])
    pg.get_by_role("heading", name=re.compile(f"^#{picked} ")).wait_for()
    shown = pg.evaluate("() => window.__vaeLive.last.hover && window.__vaeLive.last.hover.xy")
    assert shown is not None, "the finger's spot never reached the live preview"
    _shot(pg, "phone-map-tap")

    box = _centre(pg, ".js-plotly-plot")
    ranges, top = pg.evaluate(PLOTLY_RANGES_JS), _scrolled(pg)
    _pinch(pg, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 60, 180)
    pg.wait_for_function(f"(before) => JSON.stringify(({PLOTLY_RANGES_JS})()) !== before", arg=json.dumps(ranges))
    (x0, x1), _y = pg.evaluate(PLOTLY_RANGES_JS)
    assert (x1 - x0) < 0.6 * (ranges[0][1] - ranges[0][0]), "two fingers spread apart zoom in"
    assert abs(_scrolled(pg) - top) < 2, "two fingers on the map moved the page"
    assert_page_ok(pg)
    pg.close()


def test_on_a_phone_the_canvas_map_scrolls_under_one_finger_selects_on_a_tap_and_zooms_with_two(phone, served):
    """The same on the canvas map (digits' 1,797 images, above this server's threshold)."""
    pg = _tab(phone, served[0], "?ckpt=digits&split=all&method=pca&lang=en")
    pg.wait_for_function("() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.frames.length",
                         timeout=240_000)
    wait_live(pg, "hover")
    box = _centre(pg, "canvas.vae-big-map-canvas")
    view, top = pg.evaluate("() => ({...window.__vaeBigMap.view})"), _scrolled(pg)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    _swipe(pg, x, y + 120, y - 120)
    assert _scrolled(pg) - top > 150, f"a swipe up over the map scrolled the page by {_scrolled(pg) - top:.0f} px"
    assert pg.evaluate("() => ({...window.__vaeBigMap.view})") == view, "a one-finger swipe moved the map"

    _centre(pg, "canvas.vae-big-map-canvas")
    target = pg.evaluate(ISOLATED_JS)
    pg.touchscreen.tap(target["x"], target["y"])
    assert _point_in_url(pg) == target["index"]
    pg.get_by_role("heading", name=re.compile(f"^#{target['index']} ")).wait_for()
    assert pg.evaluate("() => window.__vaeLive.last.hover && window.__vaeLive.last.hover.xy") is not None
    _shot(pg, "phone-canvas-map-tap")

    box = _centre(pg, "canvas.vae-big-map-canvas")
    view, top = pg.evaluate("() => ({...window.__vaeBigMap.view})"), _scrolled(pg)
    _pinch(pg, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 60, 180)
    after = pg.evaluate("() => ({...window.__vaeBigMap.view})")
    assert (after["x1"] - after["x0"]) < 0.6 * (view["x1"] - view["x0"]), (view, after)
    assert abs(_scrolled(pg) - top) < 2, "two fingers on the map moved the page"
    assert_page_ok(pg)
    pg.close()


def test_on_a_phone_a_finger_scrubs_the_path_and_draws(phone, served):
    """Interpolate's scrub and Your image's drawing pad, under a finger: each decodes live."""
    pg = _tab(phone, served[0], "interpolate?ckpt=digits&lang=en")
    pg.wait_for_function("() => window.__vaeLive && (window.__vaeLive.last.scrub || window.__vaeLive.failures.scrub)",
                         timeout=120_000)
    assert pg.evaluate("() => window.__vaeLive.failures.scrub || null") is None
    pg.locator('[data-testid="stSlider"] input[aria-label="Scrub along the path: t"]').wait_for(state="attached")
    index = [el.get_attribute("aria-label") for el in
             pg.locator('[data-testid="stSlider"] input[type="range"]').all()].index("Scrub along the path: t")
    start, track = _steady_thumb(pg, index)
    value = pg.locator('[data-testid="stSlider"] input[type="range"]').nth(index)
    before = value.input_value()
    seen = _finger_drag(pg, start, track["x"] + 3, ".vae-live[data-mode='scrub'] canvas.vae-live-image")
    assert all(seen), f"no decoded image on screen at moves {[k for k, s in enumerate(seen) if s is None]}"
    assert len({s["hash"] for s in seen}) >= 5, \
        f"the scrubbed image hardly changed (t went {before} → {value.input_value()})"
    pg.close()

    pg = _tab(phone, served[0], "your_image?ckpt=digits&sample=draw&lang=en")
    wait_live(pg, "draw")
    box = _centre(pg, "canvas.vae-draw-canvas")
    top = _scrolled(pg)
    x, y = box["x"] + 40, box["y"] + 40
    _touch(pg, "touchStart", (x, y))
    seen = []
    for k in range(1, 25):
        _touch(pg, "touchMove", (x + 6 * k, y + 5 * k))
        time.sleep(0.03)
        last = pg.evaluate("() => window.__vaeLive.last.draw && window.__vaeLive.last.draw.xy")
        if last and (not seen or last != seen[-1]):
            seen.append(last)
    _touch(pg, "touchEnd")
    assert len(seen) >= 5, f"the drawing's point moved only {len(seen)} times under the finger"
    assert abs(_scrolled(pg) - top) < 2, "drawing with a finger scrolled the page"
    pg.get_by_text("What the model sees").wait_for(timeout=60_000)  # the finger lifted: Python has it
    wait_app(pg)
    _shot(pg, "phone-draw")
    assert_page_ok(pg)
    pg.close()
