"""Slider round trip in a real browser: key press to the new decoded image on screen.

Chromium opens the Sliders page of a ``streamlit run`` server; the first slider is focused
and moved one step with ArrowRight (or ArrowLeft). The time is taken inside the page, from
the ``keydown`` event to the animation frame in which the first decoded image has a new
``src`` that has finished loading.

Ours is the Sliders page as shipped: only the slider panel reruns (``st.fragment``) and the
map where the code lands is a small PNG redrawn on the server. Two peers, each measured in
alternating blocks (A B B A ...) with ours, in one browser, so drift in the machine's load
hits both:

- ``slider_roundtrip``: the naive app (``naive_sliders_app.py``, its own server): the same
  sliders written as a plain Streamlit script: every move reruns the whole script and
  redraws a Plotly chart of all the map's points;
- ``slider_roundtrip_fragment_off``: our page with "Rerun only the slider panel (fast)"
  switched off, so every move reruns the whole page (what ``st.fragment`` alone saves).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .app_driver import Server, chromium, new_page, open_app, wait_idle
from .records import Record, median, p95, spread
from .settings import Settings, wait_for

NAME = "slider_roundtrip"
TOGGLE = "Rerun only the slider panel (fast)"
# Streamlit's slider is a visually hidden <input type="range"> (react-aria); older ones a role="slider" div
SLIDER = '[data-testid="stSlider"] input[type="range"], [data-testid="stSlider"] [role="slider"]'
TOGGLE_INPUT = f'[data-testid="stCheckbox"] input[aria-label="{TOGGLE}"]'
IMAGE = '[data-testid="stImage"] img'

PROBE_JS = """
(before) => {
  const b = window.__bench = {t0: null, t1: null};
  document.addEventListener('keydown', () => { if (b.t0 === null) b.t0 = performance.now(); },
                            {capture: true, once: true});
  const tick = () => {
    if (window.__bench !== b) return;
    const i = document.querySelector('[data-testid="stImage"] img');
    if (b.t0 !== null && i && i.src !== before && i.complete && i.naturalWidth > 0) {
      b.t1 = performance.now();
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


def set_fragment(page, on: bool) -> None:
    """Switch the Sliders page's fragment toggle on or off (opening its expander if needed)."""
    switch = page.locator(TOGGLE_INPUT).first
    switch.wait_for(state="attached")
    if switch.is_checked() == on:
        return
    label = page.get_by_text(TOGGLE, exact=True)
    if not label.is_visible():
        page.get_by_text("Display options", exact=True).click()
        label.wait_for(state="visible")
    label.click()
    page.wait_for_function(f"(on) => document.querySelector({json.dumps(TOGGLE_INPUT)}).checked === on", arg=on)
    wait_idle(page)


def one_move(page, key: str, timeout_ms: int = 20_000) -> float | None:
    """Milliseconds from the key press to the new image on screen; None if it never changed."""
    wait_idle(page)
    time.sleep(0.05)  # let the last frame settle
    before = page.locator(IMAGE).first.get_attribute("src")
    page.locator(SLIDER).first.focus()
    page.evaluate(PROBE_JS, before)
    page.keyboard.press(key)
    try:
        page.wait_for_function("() => window.__bench.t1 !== null", timeout=timeout_ms)
    except Exception:
        return None
    return float(page.evaluate("() => window.__bench.t1 - window.__bench.t0"))


NAIVE_APP = Path(__file__).with_name("naive_sliders_app.py")
#: What a page shows when a wait for its slider and image failed (for the one-line failure).
SEEN_JS = f"""() => {{
  const imgs = [...document.querySelectorAll({IMAGE!r})];
  return `${{document.querySelectorAll({SLIDER!r}).length}} slider(s), ${{imgs.length}} image(s) of which `
    + `${{imgs.filter(i => i.offsetParent !== null).length}} visible, at ${{location.pathname}}`;
}}"""


def _blocks(page_for: dict, order: list[str], per_block: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Moves in alternating blocks; ``page_for`` maps a variant to (page, prepare) ."""
    times: dict[str, list[float]] = {v: [] for v in page_for}
    missed = dict.fromkeys(page_for, 0)
    for b, variant in enumerate(order):
        page, prepare = page_for[variant]
        prepare()
        key = "ArrowRight" if b % 2 == 0 else "ArrowLeft"  # stay well inside the slider's range
        one_move(page, key)  # warm-up move after a switch, not counted
        for _ in range(per_block):
            ms = one_move(page, key)
            if ms is None:
                missed[variant] += 1
            else:
                times[variant].append(ms)
    return times, missed


def _record(name: str, ours: list[float], peer: list[float], missed: tuple[int, int], peer_label: str,
            goal: str, note: str) -> Record:
    if missed[0] or missed[1]:
        note += f"; {missed[0]}+{missed[1]} moves without a new image in 20 s left out"
    rec = Record(
        name, median(ours), median(peer), "ms", len(ours), "lower",
        ours_label="Sliders page: st.fragment, PNG mini map", peer_label=peer_label, goal=goal, note=note,
        extra={"p95": p95(ours), "peer_p95": p95(peer), "peer_n": len(peer), "ours_spread": spread(ours),
               "peer_spread": spread(peer), "missed": list(missed), "samples_ms": ours, "peer_samples_ms": peer},
    )
    if goal:
        rec.met = rec.ours is not None and rec.ratio is not None and rec.ours <= 150 and rec.ratio >= 3
    return rec


def run(settings: Settings) -> list[Record]:
    n_blocks, per_block = settings.pick((4, 8), (6, 10))  # blocks per variant, moves per block: >= 30 moves
    abba = [("ours", "peer", "peer", "ours")[i % 4] for i in range(2 * n_blocks)]
    env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root),
           "VAE_BENCH_CHECKPOINT": str(settings.checkpoint.resolve())}
    with chromium() as browser, Server(env) as server, Server(env, script=NAIVE_APP) as naive:
        server.wait_healthy()
        naive.wait_healthy()
        ctx, page = new_page(browser)
        settings.say(f"slider_roundtrip: {server.url}/sliders vs the naive app {naive.url}, "
                     f"{n_blocks}×{per_block} moves per variant and pair")
        open_app(page, server, settings.checkpoint_name, nav="Sliders")
        wait_for(page, f"() => !!document.querySelector({SLIDER!r}) && !!document.querySelector({IMAGE!r})",
                 "our Sliders page's slider and decoded image", 180, SEEN_JS)
        nctx, npage = new_page(browser)
        npage.goto(naive.url)
        wait_for(npage, f"() => !!document.querySelector({SLIDER!r}) && !!document.querySelector({IMAGE!r})",
                 "the naive app's slider and decoded image", 180, SEEN_JS)
        wait_idle(npage)

        for p, key in ((page, "ArrowRight"), (npage, "ArrowRight"), (page, "ArrowLeft"), (npage, "ArrowLeft")):
            for _ in range(4):  # warm both pages up (the browser's JIT, the servers' first runs): not counted
                one_move(p, key)

        def fragment(on: bool):
            return lambda: set_fragment(page, on)

        t_naive, m_naive = _blocks({"ours": (page, fragment(True)), "peer": (npage, lambda: None)},
                                   abba, per_block)
        t_off, m_off = _blocks({"ours": (page, fragment(True)), "peer": (page, fragment(False))},
                               abba, per_block)
        set_fragment(page, True)
        nctx.close()
        ctx.close()
    return [
        _record(NAME, t_naive["ours"], t_naive["peer"], (m_naive["ours"], m_naive["peer"]),
                "naive app: whole-script rerun, Plotly map of every point", "median ≤ 150 ms and ratio ≥ 3",
                "key press → new image loaded, in-page clock; vs benchmarks/naive_sliders_app.py, "
                "alternating blocks"),
        _record(f"{NAME}_fragment_off", t_off["ours"], t_off["peer"], (m_off["ours"], m_off["peer"]),
                "our page, fragment off: whole-page rerun", "",
                "the same, vs our page with st.fragment switched off (what the fragment alone saves)"),
    ]
