"""What the live-decoding benchmarks share: pointer moves paced in real time, the page's own
record of inputs and drawn frames (``window.__vaeLive.stats``), and switching the Sliders page's
live decoding on and off (off: the page as it was, the server decodes on release)."""

from __future__ import annotations

import time

from .records import median, p95
from .settings import WaitFailed, wait_for

LIVE_TOGGLE = "Decode in the browser while dragging"
LIVE_INPUT = f'[data-testid="stCheckbox"] input[aria-label="{LIVE_TOGGLE}"]'


def wait_live(page, mode: str, timeout_ms: int = 240_000) -> None:
    """Until ``mode`` is ready in the page; raises with the page's reason when it is off."""
    seen = ("() => window.__vaeLive ? `its events: ${JSON.stringify(window.__vaeLive.events.slice(-4))}` "
            ": 'no live decoder in the page'")
    wait_for(page, f"() => window.__vaeLive && (window.__vaeLive.ready.{mode} || window.__vaeLive.failures.{mode})",
             f"the page's live decoder ({mode}) to be ready", timeout_ms / 1000, seen)
    failure = page.evaluate(f"() => window.__vaeLive.failures.{mode} || null")
    if failure:
        raise WaitFailed(f"live decoding is off in the page: {failure}")


def paced_moves(page, points: list[tuple[float, float]], hz: float = 60.0, hold: bool = False) -> None:
    """Move the mouse through ``points`` at ``hz`` moves a second (the first with the button down
    when ``hold``; released after the last)."""
    page.mouse.move(*points[0])
    if hold:
        page.mouse.down()
    t0 = time.perf_counter()
    for i, p in enumerate(points[1:], 1):
        wait = t0 + i / hz - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        page.mouse.move(*p)
    if hold:
        page.mouse.up()


def mark(page, mode: str) -> int:
    """The next input's sequence number in the page's record (inputs from here on are this run's)."""
    return int(page.evaluate(f"() => {{ const s = (window.__vaeLive.stats.{mode} ??= {{inputs: [], draws: []}});"
                             "return s.inputs.length ? s.inputs[s.inputs.length - 1][0] + 1 : 0; }"))


def moves_drawn(page, mode: str, first_seq: int) -> tuple[int, int, list[float]]:
    """(moves since ``first_seq``, how many of them reached the canvas, input -> pixels ms of those)."""
    stats = page.evaluate(f"() => window.__vaeLive.stats.{mode}")
    inputs = [s for s, _ in stats["inputs"] if s >= first_seq]
    drawn = {}
    for seq, t_in, t_out in stats["draws"]:
        if seq is not None and seq >= first_seq and t_in is not None and seq not in drawn:
            drawn[seq] = t_out - t_in
    return len(inputs), len(drawn), list(drawn.values())


def set_live(page, on: bool) -> None:
    """Switch the Sliders page's live decoding on or off (opening Display options if needed)."""
    from .app_driver import wait_idle

    switch = page.locator(LIVE_INPUT).first
    switch.wait_for(state="attached")
    label = page.get_by_text(LIVE_TOGGLE, exact=True)
    for _ in range(4):  # a click that lands while the page is rerunning can be lost: look, then retry
        wait_idle(page)
        if switch.is_checked() == on:
            return
        if not label.is_visible():
            page.get_by_text("Display options", exact=True).click()
            label.wait_for(state="visible")
        label.click()
        try:
            page.wait_for_function(f"(on) => document.querySelector('{LIVE_INPUT}').checked === on", arg=on,
                                   timeout=20_000)
        except Exception:
            continue
    wait_idle(page)
    if switch.is_checked() != on:
        raise RuntimeError(f"could not switch live decoding {'on' if on else 'off'}")


def summary(latencies: list[float], moves: int, drawn: int) -> dict:
    return {"p95": p95(latencies), "median": median(latencies), "moves": moves, "drawn": drawn,
            "share_drawn": drawn / moves if moves else None, "samples_ms": latencies}
