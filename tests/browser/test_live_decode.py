"""Live decoding in a real browser (components/live_decoder): Chromium runs the exported models
with onnxruntime-web, and the page is held against the server's twins.

- the page's pixels equal the server's decode within 2/255, on every shipped checkpoint;
- the page's map placement equals LatentMap.to_map / to_latent (k-NN, PCA and the 2-D plane);
- dragging a slider redraws the canvas during the drag, and the released code reaches the URL;
- hovering over the map changes the preview; drawing moves the point; the scrub decodes;
- without WebAssembly, or without the runtime files on the server, the page says so in one line
  and the server path still works.

Screenshots go to tests/artifacts/ only.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import brotli
import numpy as np
import pytest
from browser_helpers import VIEWPORT, goto, map_info, new_tab, serving, wait_app

from vae.checkpoint import load_checkpoint
from vae.explore.directions import first_layer_weight, sefa_directions

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SHIPPED = ["fashion-mnist", "fashion-mnist-2d", "fashion-mnist-beta4", "digits", "emoji"]  # emoji: RGB
LIVE_CANVAS = ".vae-live[data-mode='{mode}'] canvas.vae-live-image"
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module", autouse=True)
def exported():
    """Every shipped checkpoint's ONNX files, exported before any page needs them (once per hash)."""
    from components.live_decoder import MODELS_DIR
    from vae.checkpoint import load_checkpoint
    from vae.export.onnx_files import export_cached

    out = {}
    for name in SHIPPED:
        path = ROOT / "checkpoints" / name
        if (path / "config.json").exists():
            ck = load_checkpoint(path)
            out[name] = (ck, export_cached(ck.model, ck.content_hash, MODELS_DIR))
    return out


@pytest.fixture(scope="module")
def api_page(tabs, server):
    """One Sliders tab whose in-page decoder (``window.__vaeLive.api``) the tests that call it directly
    share: they hand it each checkpoint's files themselves, so the page's own model does not matter,
    and one page load serves the eight of them (each opened Sliders before: ~4 CPU-s of Chromium)."""
    pg = new_tab(tabs)
    goto(pg, server, "sliders")
    wait_live(pg, "sliders")
    yield pg
    pg.close()


def snap(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"live-{name}.png"))


def no_exception(pg) -> None:
    texts = pg.locator('[data-testid="stException"]').all_inner_texts()
    assert not texts, f"the page raised: {texts}"


#: What the page's decoder is waiting for: each shared promise's state (runtime, sessions, assets),
#: the roots' classes and the resources it has loaded (a timeout names the step that never ended).
LIVE_STATE_JS = r"""async () => {
  const L = window.__vaeLive, out = {component: !!L};
  const state = (p) => p ? Promise.race([p.then(() => 'resolved', (e) => 'rejected: ' + e),
                                        new Promise((r) => setTimeout(() => r('pending'), 50))]) : 'none';
  if (L) {
    out.ort = await state(L.ort);
    for (const kind of ['sessions', 'assets']) {
      out[kind] = {};
      for (const [url, p] of L[kind]) out[kind][url] = await state(p);
    }
    Object.assign(out, {ready: L.ready, failures: L.failures, events: L.events, draws: Object.fromEntries(
      Object.entries(L.stats).map(([k, v]) => [k, [v.inputs.length, v.draws.length]]))});
  }
  out.roots = [...document.querySelectorAll('.vae-live')].map((e) => `${e.dataset.mode}: ${e.className}`);
  out.loaded = performance.getEntriesByType('resource').filter((r) => /\/app\/static\/|component/.test(r.name))
    .map((r) => `${r.name.replace(location.origin, '')} ${Math.round(r.startTime)}+${Math.round(r.duration)} ms`);
  out.now = Math.round(performance.now());
  return out;
}"""


def wait_live(pg, mode: str, timeout: float = 120_000) -> None:
    """Wait until the mode drew its first live frame (fails with the page's reason if it is off, and
    after ``timeout`` with what the page's decoder was still waiting for)."""
    try:
        pg.wait_for_function(f"() => window.__vaeLive && (window.__vaeLive.ready.{mode} || "
                             f"window.__vaeLive.failures.{mode})", timeout=timeout)
    except playwright_api.TimeoutError:
        state = pg.evaluate(LIVE_STATE_JS)
        snap(pg, f"timeout-{mode}")
        pytest.fail(f"no live frame of {mode} in {timeout / 1000:.0f} s; the page's decoder: {state}; "
                    f"the console: {getattr(pg, 'console', [])[-20:]}")
    failure = pg.evaluate(f"() => window.__vaeLive.failures.{mode} || null")
    assert failure is None, f"live decoding is off in the page: {failure}"


def runtime_urls() -> dict:
    from components.live_decoder import runtime_urls as urls

    return urls()


# -- the page against the server's twins ---------------------------------------------------------
@pytest.mark.parametrize("name", SHIPPED)
def test_page_pixels_equal_the_server_decode(api_page, exported, name):
    import torch

    from components.live_decoder import static_url
    from vae.data.images import upscale

    if name not in exported:
        pytest.skip(f"no checkpoints/{name}")
    ck, files = exported[name]
    zs = torch.randn(6, ck.config.latent_dim, generator=torch.Generator().manual_seed(0)) * 2.0
    zs[0] = 0.0
    with torch.inference_mode():
        want = [upscale(img, 0) for img in ck.model.decode_mean(zs)]  # (H, W[, 3]) uint8, the server's rounding
    for z, ref in zip(zs, want, strict=True):
        got = api_page.evaluate("([rt, url, z]) => window.__vaeLive.api.decodeBytes(rt, url, z)",
                                [runtime_urls(), static_url(files["decoder"]), [float(v) for v in z]])
        got = np.asarray(got, dtype=np.int16).reshape(ref.shape)
        diff = int(np.abs(got - ref.astype(np.int16)).max())
        assert diff <= 2, f"{name}: the page's pixels differ from the server's by {diff}/255 for z={z.tolist()}"


def _latent_map(name: str, method: str):
    from vae.checkpoint import load_checkpoint
    from vae.explore.projection import ProjectionConfig, build_latent_map, fit_pca_map
    from vae.explore.sets import explore_set, projection

    ck = load_checkpoint(ROOT / "checkpoints" / name)
    enc = explore_set(ck, ck.load_data("test"))
    cfg = ProjectionConfig(method=method)
    coords, _ = projection(ck, "test", enc, cfg)
    lm = build_latent_map(enc.mu, coords, method, fit_pca_map(enc.mu, coords) if method == "pca" else None)
    return ck, enc, cfg, lm


@pytest.mark.parametrize("name, method", [("fashion-mnist", "umap"), ("digits", "pca"), ("fashion-mnist-2d", "latent"),
                                          ("emoji", "umap")])
def test_page_map_placement_agrees_with_latent_map(api_page, name, method):
    """The page's map computes with what it downloads (a k-NN map's points as float16: ``as_sent``), exactly as
    LatentMap does with the same values."""
    from components.live_decoder import as_sent, map_spec

    if not (ROOT / "checkpoints" / name / "config.json").exists():
        pytest.skip(f"no checkpoints/{name}")
    ck, enc, cfg, lm = _latent_map(name, method)
    tag = f"test-{len(enc)}"
    spec = map_spec(ck, lm, tag, f"{tag}-{cfg.key()}")
    lm = as_sent(lm)
    rng = np.random.default_rng(1)
    codes = np.concatenate([enc.mu[rng.choice(len(enc), 5)] + rng.normal(0, 0.3, (5, ck.config.latent_dim)),
                            enc.mu[:2], rng.normal(0, 1, (5, ck.config.latent_dim))]).astype(np.float32)
    lo, hi = lm.bounds
    spots = rng.uniform(lo, hi, (12, 2)).astype(np.float32)
    got = api_page.evaluate("([spec, codes, spots]) => window.__vaeLive.api.mapBoth(spec, codes, spots)",
                            [spec, codes.tolist(), spots.tolist()])
    np.testing.assert_allclose(np.asarray(got["toMap"]), lm.to_map(codes), atol=1e-4,
                               err_msg=f"{name} {method}: the page places codes elsewhere than LatentMap.to_map")
    np.testing.assert_allclose(np.asarray(got["toLatent"]), lm.to_latent(spots), atol=1e-4,
                               err_msg=f"{name} {method}: the page's codes differ from LatentMap.to_latent")


def test_the_pages_float16_reader_is_numpys(api_page):
    """Every float16 bit pattern reads as NumPy reads it (zeros' signs, subnormals, infinities, NaN)."""
    bits = np.arange(1 << 16, dtype=np.uint16)
    want = bits.view(np.float16).astype(np.float32)
    got = api_page.evaluate("(bits) => window.__vaeLive.api.halfToFloat(bits)", bits.tolist())
    got = np.array([np.nan if v is None else v for v in got], dtype=np.float32)
    np.testing.assert_array_equal(got, want)  # NaN == NaN here
    real = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[real]), np.signbit(want[real]))  # -0.0 too


def test_scrub_code_is_the_python_path_point(api_page):
    from vae.explore.latent import path_point

    a, b = np.array([1.0, -2.0, 0.5]), np.array([-0.5, 1.5, 2.0])
    for kind in ("lerp", "slerp"):
        for t in (0.0, 0.3, 0.77, 1.0):
            got = api_page.evaluate("([a, b, t, k]) => window.__vaeLive.api.pathPoint(a, b, t, k)",
                                    [a.tolist(), b.tolist(), t, kind])
            np.testing.assert_allclose(got, path_point(a, b, t, kind), atol=1e-6, err_msg=f"{kind} t={t}")


# -- Sliders -----------------------------------------------------------------------------------
CHECKSUM_JS = """
(selector) => {
  const c = document.querySelector(selector);
  const seen = window.__seen = {changes: 0, last: null, on: true};
  const tick = () => {
    if (!seen.on) return;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 8) h = (Math.imul(h, 31) + d[i]) | 0;
    if (h !== seen.last) { seen.changes++; seen.last = h; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


def thumb_and_track(pg, index: int = 0) -> tuple[tuple[float, float], dict]:
    box = pg.locator('[data-testid="stSlider"]').nth(index)
    thumb = box.locator('[data-testid="stSliderThumbValue"]').locator("xpath=..").bounding_box()
    track = box.locator('[role="group"] > div').first.bounding_box()
    return (thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2), track


def drag(pg, start: tuple[float, float], end_x: float, moves: int = 60, hz: float = 60.0) -> None:
    x0, y = start
    pg.mouse.move(x0, y)
    pg.mouse.down()
    t0 = time.perf_counter()
    for i in range(1, moves + 1):
        pg.mouse.move(x0 + (end_x - x0) * i / moves, y)
        wait = t0 + i / hz - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
    pg.mouse.up()


def url_code(url: str) -> np.ndarray:
    return np.array([float(v) for v in parse_qs(urlparse(url).query)["z"][0].split(",")])


def test_dragging_a_slider_redraws_the_canvas_during_the_drag(page, server):
    goto(page, server, "sliders")
    wait_live(page, "sliders")
    assert page.locator(".st-key-sl_server_image").is_hidden(), "the server's image is still shown"
    page.evaluate(CHECKSUM_JS, LIVE_CANVAS.format(mode="sliders"))
    url_before = page.url
    start, track = thumb_and_track(page)
    drag(page, start, track["x"] + track["width"] - 2)
    changes = page.evaluate("() => { window.__seen.on = false; return window.__seen.changes; }")
    snap(page, "sliders-drag")
    assert changes >= 20, f"the canvas changed only {changes} times during one drag of 60 moves"
    # the released code reaches the URL, and the canvas shows the released code
    page.wait_for_function("(u) => location.href !== u && location.href.includes('z=')", arg=url_before,
                           timeout=60_000)
    wait_app(page)
    slider_value = float(page.locator('[data-testid="stSlider"] input[type="range"]').first.input_value())
    label = page.locator('[data-testid="stSlider"] input[type="range"]').first.get_attribute("aria-label")
    dim = int(re.match(r"z(\d+) ·", label).group(1))
    z = url_code(page.url)
    assert z[dim] == pytest.approx(slider_value, abs=1e-6), (z, dim, slider_value)
    assert slider_value > 3.5, f"the thumb did not reach the end of the track: {slider_value}"
    page.wait_for_function(f"() => Math.abs(window.__vaeLive.last.sliders.z[{dim}] - {slider_value}) < 1e-4",
                           timeout=10_000)
    live = np.asarray(page.evaluate("() => window.__vaeLive.last.sliders.z"))
    np.testing.assert_allclose(live, z, atol=6e-3, err_msg="the canvas does not show the code in the URL")
    no_exception(page)


MAP_DATA_JS = "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => /\\/(codes|coords)-/.test(n))"


def test_the_first_frame_downloads_no_map_codes_and_a_drag_places_z_as_latent_map_does(browser, server):
    """Nothing the first frame does not need: it puts z where the server placed it, without the map's codes and
    positions (0.4 MB for 10k images); the first drag fetches them, and the marker then lands where LatentMap
    places the dragged code."""
    from components.live_decoder import as_sent

    ctx = browser.new_context(viewport=VIEWPORT)
    pg = new_tab(ctx)
    try:
        goto(pg, server, "sliders?ckpt=fashion-mnist")
        wait_live(pg, "sliders")
        wait_app(pg)  # the sliders drawn after the first frame, the page at rest
        pg.wait_for_timeout(500)
        assert pg.evaluate(MAP_DATA_JS) == [], "the page fetched the map's codes before any slider moved"
        _ck, _enc, _cfg, lm = _latent_map("fashion-mnist", "umap")
        first = pg.evaluate("() => window.__vaeLive.last.sliders")
        np.testing.assert_allclose(first["xy"], lm.to_map(np.float32([first["z"]]))[0], atol=1e-3,
                                   err_msg="the first frame's marker is not where the server placed z")
        start, track = thumb_and_track(pg)
        drag(pg, start, track["x"] + track["width"] * 0.8, moves=20)
        pg.wait_for_function(f"() => ({MAP_DATA_JS})().length === 2", timeout=60_000)
        pg.wait_for_function("(z) => JSON.stringify(window.__vaeLive.last.sliders.z) !== z",
                             arg=json.dumps(first["z"]), timeout=10_000)
        wait_app(pg)
        last = pg.evaluate("() => window.__vaeLive.last.sliders")
        np.testing.assert_allclose(last["xy"], as_sent(lm).to_map(np.float32([last["z"]]))[0], atol=1e-4,
                                   err_msg="after a drag the page places z elsewhere than LatentMap.to_map")
        no_exception(pg)
    finally:
        ctx.close()


def test_until_the_decoder_is_ready_the_page_says_so_and_a_drag_still_changes_the_image(browser, server):
    """The runtime held back (its .wasm not answered yet): the live view says it is loading, and a slider
    moved meanwhile still gets its image from the server (no dead first drag); the model's download
    started at once, beside the runtime's, not after it; released, the page decodes live."""
    ctx = browser.new_context(viewport=VIEWPORT)
    held = []
    ctx.route("**/ort-wasm-simd-threaded.wasm*", lambda route: held.append(route))
    pg = new_tab(ctx)
    try:
        goto(pg, server, "sliders")
        note = pg.locator(".vae-live-note")
        note.wait_for(state="visible", timeout=60_000)
        assert note.inner_text().startswith("Loading the decoder into this page"), note.inner_text()
        assert pg.evaluate("() => !window.__vaeLive.ready.sliders")
        _server_path_works(pg)
        pg.wait_for_function("() => performance.getEntriesByType('resource').some(e => e.name.includes('decoder.onnx'))",
                             timeout=60_000)
        assert held, "the runtime's binary was never asked for"
        for route in held:
            route.continue_()
        ctx.unroute("**/ort-wasm-simd-threaded.wasm*")
        wait_live(pg, "sliders")
        assert pg.locator(".vae-live-note").is_hidden() and pg.locator(".st-key-sl_server_image").is_hidden()
        no_exception(pg)
    finally:
        ctx.close()


def test_keyboard_moves_decode_live(page, server):
    goto(page, server, "sliders")
    wait_live(page, "sliders")
    before = page.evaluate("() => window.__vaeLive.stats.sliders.draws.length")
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => window.__vaeLive.stats.sliders.draws.length >= {before + 1}", timeout=20_000)
    page.wait_for_function("() => location.href.includes('z=')", timeout=60_000)
    wait_app(page)
    value = float(slider.input_value())
    label = slider.get_attribute("aria-label")
    dim = int(re.match(r"z(\d+) ·", label).group(1))
    page.wait_for_function(f"() => Math.abs(window.__vaeLive.last.sliders.z[{dim}] - {value}) < 1e-4", timeout=10_000)


def drag_first_slider(page) -> tuple[np.ndarray, np.ndarray]:
    """Once the live decoder drew the Sliders page, drag its first slider to 80 % of the track: the
    browser's code before and after (once the link has the new code)."""
    wait_app(page)
    wait_live(page, "sliders")
    before = np.asarray(page.evaluate("() => window.__vaeLive.last.sliders.z"))
    start, track = thumb_and_track(page)
    drag(page, start, track["x"] + track["width"] * 0.8, moves=20)
    page.wait_for_function("() => location.href.includes('z=')", timeout=60_000)
    wait_app(page)
    return before, np.asarray(page.evaluate("() => window.__vaeLive.last.sliders.z"))


def test_principal_direction_sliders_decode_live(page, server):
    goto(page, server, "sliders")
    page.get_by_text("Display options", exact=True).click()
    page.get_by_text("principal directions (PCA of μ)").click()
    page.locator('[data-testid="stSlider"] input[aria-label^="PC1 · "]').wait_for()
    before, after = drag_first_slider(page)
    assert np.linalg.norm(after - before) > 0.5, "moving PC1 did not move the code"
    np.testing.assert_allclose(after, url_code(page.url), atol=6e-3)
    no_exception(page)


def test_sefa_sliders_decode_live_along_their_direction(page, server):
    """SeFa's sliders reach the live decoder as the principal directions do (origin + coef @ axes): a
    drag of SeFa1 moves the browser's code along the server's first SeFa direction, which the label names."""
    goto(page, server, "sliders?ckpt=fashion-mnist&axes=sefa")
    page.locator('[data-testid="stSlider"] input[aria-label^="SeFa1 · "]').wait_for()
    before, after = drag_first_slider(page)
    step = after - before
    assert np.linalg.norm(step) > 0.5, "moving SeFa1 did not move the code"
    first = sefa_directions(first_layer_weight(load_checkpoint(ROOT / "checkpoints" / "fashion-mnist").model))[0][0]
    cos = abs(float(step @ first)) / float(np.linalg.norm(step))
    assert cos > 0.999, f"the code moved off SeFa1 (|cos| = {cos:.4f})"
    np.testing.assert_allclose(after, url_code(page.url), atol=6e-3)
    no_exception(page)


# -- Map, Interpolate, Your image ---------------------------------------------------------------------
def test_hovering_over_the_map_changes_the_preview(page, server):
    goto(page, server)
    info = map_info(page)
    wait_live(page, "hover")
    # before the first hover: the hint, not a blank square
    preview = page.locator('.vae-live[data-mode="hover"] canvas.vae-live-image')
    assert preview.evaluate("c => getComputedStyle(c).display") == "none"
    assert page.locator('.vae-live[data-mode="hover"] [data-role="caption"]').inner_text().startswith("Move the mouse")
    page.evaluate(CHECKSUM_JS, LIVE_CANVAS.format(mode="hover"))
    x, y = info["point"]
    for i in range(20):
        page.mouse.move(x - 40 + 4 * i, y + 2 * i)
        time.sleep(0.03)
    page.wait_for_function("() => window.__seen.changes >= 5", timeout=20_000)
    spots = page.evaluate("() => window.__vaeLive.last.hover")
    assert spots and len(spots["z"]) == 16
    snap(page, "map-hover")
    no_exception(page)


def test_scrubbing_the_path_decodes_live(page, server):
    goto(page, server, "interpolate")
    wait_live_scrub = "() => window.__vaeLive && (window.__vaeLive.last.scrub || window.__vaeLive.failures.scrub)"
    page.wait_for_function(wait_live_scrub, timeout=120_000)
    box = page.locator('[data-testid="stSlider"]').filter(has=page.locator('input[aria-label="Scrub along the path: t"]'))
    box.scroll_into_view_if_needed()
    index = [el.get_attribute("aria-label") for el in
             page.locator('[data-testid="stSlider"] input[type="range"]').all()].index("Scrub along the path: t")
    start, track = thumb_and_track(page, index)
    drag(page, start, track["x"] + 3, moves=30)
    page.wait_for_function("() => window.__vaeLive.last.scrub.t < 0.05", timeout=20_000)
    snap(page, "interpolate-scrub")
    no_exception(page)


def test_drawing_moves_the_point_on_the_map(page, server):
    goto(page, server, "your_image")
    page.get_by_text("draw your own").click()
    wait_app(page)
    wait_live(page, "draw")
    pad = page.locator("canvas.vae-draw-canvas")
    pad.scroll_into_view_if_needed()
    bb = pad.bounding_box()
    page.mouse.move(bb["x"] + 60, bb["y"] + 60)
    page.mouse.down()
    seen = []
    for i in range(24):
        page.mouse.move(bb["x"] + 60 + 7 * i, bb["y"] + 60 + 6 * i)
        time.sleep(0.03)
        last = page.evaluate("() => window.__vaeLive.last.draw && window.__vaeLive.last.draw.xy")
        if last and (not seen or last != seen[-1]):
            seen.append(last)
    page.mouse.up()
    assert len(seen) >= 5, f"the point moved only {len(seen)} times while drawing"
    assert np.ptp(np.asarray(seen), axis=0).max() > 0, "the point never moved"
    page.get_by_text("What the model sees").wait_for(timeout=60_000)  # the pen lifted: Python has it
    wait_app(page)
    snap(page, "your-image-draw")
    no_exception(page)


# -- fallback ----------------------------------------------------------------------------------
def _server_path_works(pg) -> None:
    """A key press on a slider still brings a new image from the server."""
    img = pg.locator(".st-key-sl_server_image img")
    img.wait_for()
    before = img.get_attribute("src")
    slider = pg.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    pg.wait_for_function("(b) => document.querySelector('.st-key-sl_server_image img').src !== b", arg=before,
                         timeout=60_000)
    assert img.is_visible(), "the server's image is hidden although the page cannot decode"


def test_without_webassembly_the_page_says_so_and_uses_the_server(browser, server):
    from benchmarks.app_driver import CHROMIUM_ARGS, chromium_path

    exe = chromium_path(shell=True)
    args = [*CHROMIUM_ARGS, "--js-flags=--noexpose_wasm"]  # a second Chromium, without WebAssembly
    b = browser.browser_type.launch(executable_path=exe, args=args) if exe else browser.browser_type.launch(args=args)
    try:
        ctx = b.new_context(viewport=VIEWPORT)
        # Chromium 150 ignores V8's --noexpose_wasm (measured: typeof WebAssembly is still "object"),
        # so the object is also removed before any script of the page runs: the page sees no WebAssembly
        ctx.add_init_script("delete globalThis.WebAssembly;")
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        goto(pg, server, "sliders")
        assert pg.evaluate("() => typeof WebAssembly") == "undefined"
        note = pg.locator(".vae-live-note")
        note.wait_for(state="visible")
        text = note.inner_text()
        assert text.startswith("Live decoding is off: this browser has WebAssembly switched off."), text
        assert pg.locator(".vae-live-note:visible").count() == 1, "said more than once"
        _server_path_works(pg)
        snap(pg, "fallback-no-wasm")
        no_exception(pg)
    finally:
        b.close()


@pytest.mark.slow
def test_without_the_runtime_files_the_page_says_so_and_uses_the_server(browser, exported, tmp_path):
    """The same app served from a folder whose static/ has no runtime (the files removed)."""
    for name in ("app.py", "frame", "pages", "components", "vae", "checkpoints", "data", ".streamlit"):
        os.symlink(ROOT / name, tmp_path / name)
    from components.live_decoder import MODELS_DIR

    default = exported["fashion-mnist"][0].content_hash  # the models stay: only the runtime is gone
    shutil.copytree(MODELS_DIR / default, tmp_path / "static" / "models" / default)
    with serving(app=tmp_path / "app.py") as server:
        with pytest.raises(urllib.error.HTTPError):  # really gone
            urllib.request.urlopen(f"{server.url}/app/static/ort/ort.wasm.bundle.min.mjs", timeout=10)
        ctx = browser.new_context(viewport=VIEWPORT)
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        goto(pg, server.url, "sliders")
        note = pg.locator(".vae-live-note")
        note.wait_for(state="visible")
        text = note.inner_text()
        assert text.startswith("Live decoding is off: the in-browser runtime is missing on the server"), text
        _server_path_works(pg)
        snap(pg, "fallback-no-runtime")
        no_exception(pg)
        ctx.close()


# -- what is served ------------------------------------------------------------------------------
def test_static_serving_serves_the_runtime_and_nothing_outside_static(server):
    def get(path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(server + path, timeout=20) as r:
                r.read()
                return r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers)

    status, headers = get("/app/static/ort/ort.wasm.bundle.min.mjs")
    assert status == 200 and "javascript" in headers.get("content-type", ""), (status, headers)
    status, headers = get("/app/static/ort/ort-wasm-simd-threaded.wasm")
    assert status == 200 and headers.get("content-type") == "application/wasm", (status, headers)
    # compressed ahead of time, content-addressed, cacheable: what a class of browsers costs the server
    from components.live_decoder import runtime_urls
    from components.static_files import STATIC_DIR

    wasm = STATIC_DIR / "ort" / "ort-wasm-simd-threaded.wasm"
    for encoding, unpack in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        url = runtime_urls()["wasm"]
        request = urllib.request.Request(server + url, headers={"Accept-Encoding": f"{encoding}, deflate"})
        deadline = time.monotonic() + 60  # the server makes missing copies in the background at its start
        while True:
            with urllib.request.urlopen(request, timeout=60) as r:
                body, headers = r.read(), dict(r.headers)
            if headers.get("content-encoding") == encoding or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert headers.get("content-encoding") == encoding, headers
        assert unpack(body) == wasm.read_bytes(), f"the {encoding} copy is not the file"
        assert headers.get("cache-control") == "public, max-age=31536000, immutable", headers
        assert headers.get("etag") and headers.get("vary") == "Accept-Encoding", headers
    request = urllib.request.Request(server + url, headers={"If-None-Match": headers["etag"]})
    try:
        urllib.request.urlopen(request, timeout=20)
        raise AssertionError("a revalidation with the current ETag got the whole file")
    except urllib.error.HTTPError as e:
        assert e.code == 304, e.code
    for path in ("/app/static/../checkpoints/fashion-mnist/config.json", "/app/static/%2e%2e/app.py",
                 "/app/static/..%2fcheckpoints%2fdigits%2fmodel.safetensors", "/app/static/ort/../../data/fashion-mnist/LICENSE",
                 "/app/static/", "/app/static/models/"):
        status, _ = get(path)
        assert status != 200, f"{path} was served"


def test_a_first_run_starts_the_runtime_before_the_page_mounts(tabs, server):
    """The runtime starts before the page's own mount: from the page's HTML (frame/early_start.py) once a decoder
    was exported, else from the "warm" mode a session's first run mounts before torch is imported
    (frame/first_map.py; on a busy server the page's mount may come first, or a rerun replace the warm one before
    the browser mounted it). Whichever started it, the page's mount finds that very session (one decoder session
    in the page, under the URL both used)."""
    pg = new_tab(tabs)
    try:
        goto(pg, server, "sliders")
        wait_live(pg, "sliders")
        events = pg.evaluate("() => window.__vaeLive.events.map(e => e[1] + ' ' + e[2])")
        mounted = events.index("sliders mount 1 (latent axes)")
        assert {"early start", "warm start"} & set(events[:mounted]), events
        assert pg.evaluate("() => window.__vaeLive.sessions.size") == 1
        no_exception(pg)
    finally:
        pg.close()


EARLY_CALL = re.compile(r"startEarly\((\{[^}]*\}), (null|\"[^\"]*\")\);")


def _html(server: str, path: str, **headers: str) -> tuple[dict[str, str], str]:
    with urllib.request.urlopen(urllib.request.Request(f"{server}/{path}", headers=headers), timeout=60) as r:
        return {k.lower(): v for k, v in r.headers.items()}, r.read().decode("utf-8")


def _early_call(html: str) -> tuple[dict, str | None] | None:
    found = EARLY_CALL.search(html.replace("<\\/", "</"))
    return None if found is None else (json.loads(found.group(1)), json.loads(found.group(2)))


def test_the_html_of_a_live_page_starts_the_runtime_and_loads_the_linked_decoder(server, exported):
    """frame/early_start.py: the HTML of the pages that decode in the browser (not the Map's) carries the early
    start's script, with the runtime's URLs and the URL of the decoder of the checkpoint in the link (the default
    one without, the runtime alone for a name that is no checkpoint); other pages' HTML does not; a browser that
    accepts gzip gets it too, and the HTML that names a decoder is not kept by the browser's cache."""
    from components import static_files

    deadline = time.monotonic() + 120  # the script is joined once the server has imported the live decoder
    while _early_call(_html(server, "sliders")[1]) is None:
        assert time.monotonic() < deadline, "no early start in the Sliders page's HTML after 120 s"
        time.sleep(1)
    want_runtime = runtime_urls()
    for path, name in (("sliders?ckpt=digits", "digits"), ("interpolate", "fashion-mnist"),
                       ("your_image?ckpt=emoji&lang=zh", "emoji"), ("sliders?ckpt=no-such-model", None)):
        if name is not None and name not in exported:
            continue
        headers, html = _html(server, path, **{"Accept-Encoding": "gzip, br"})
        call = _early_call(html)
        assert call is not None, f"/{path}: no early start in the HTML"
        runtime, decoder = call
        assert runtime == want_runtime, (path, runtime)
        want = None if name is None else static_files.url(exported[name][1]["decoder"])
        assert decoder == want, (path, decoder, want)
        assert "content-encoding" not in headers and headers.get("cache-control") == "no-cache", headers
        assert "etag" not in headers, headers
        assert html.count("data-vae-early-start") == 1 and "<div id=\"root\"></div>" in html
    for path in ("train", "how_it_works?ckpt=digits", "reconstructions", "", "map"):  # the Map: its points first
        assert _early_call(_html(server, path)[1]) is None, f"/{path}: its HTML starts the runtime"


def test_a_cold_browser_starts_the_runtime_from_the_html_and_the_page_uses_that_session(browser, server):
    """In a fresh context (an empty cache), the early start begins before any mount of the component, and the
    page's mounts find its session: one decoder session in the page, and the first live frame drawn."""
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = new_tab(ctx)
    try:
        goto(pg, server, "sliders")
        wait_live(pg, "sliders")
        events = pg.evaluate("() => window.__vaeLive.events")
        what = [f"{e[1]} {e[2]}" for e in events]
        assert "early start" in what, what
        first_mount = next(e[0] for e in events if e[1] in ("warm", "sliders"))
        assert events[what.index("early start")][0] <= first_mount, what
        assert pg.evaluate("() => window.__vaeLive.sessions.size") == 1
        no_exception(pg)
    finally:
        ctx.close()


def test_the_pages_strip_codes_are_the_libraries(api_page):
    """components/live_decoder/strips.js's codes equal vae.explore.latent.strip_codes (latent and stepped axes)."""
    from vae.explore.latent import strip_codes, strip_values

    rng = np.random.default_rng(3)
    values = np.stack([strip_values(-4, 4)] * 3)
    for origin, axes in ((np.zeros(3), None), (rng.normal(size=3), rng.normal(size=(3, 3)))):
        coef = rng.normal(size=3)
        got = api_page.evaluate("([o, a, c, v]) => window.__vaeLive.api.stripCodes(o, a, c, v)",
                                [origin.tolist(), None if axes is None else axes.tolist(), coef.tolist(), values.tolist()])
        np.testing.assert_allclose(np.asarray(got).reshape(3, 7, 3), strip_codes(origin, axes, coef, values), atol=1e-5)


STRIPS_JS = """() => [...document.querySelectorAll('[data-testid="stSlider"] canvas.vae-strip')].map(c => {
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0, ink = 0;
  for (let i = 0; i < px.length; i += 4) { sum += px[i] * (i % 997); if (px[i + 3] > 0) ink++; }
  return [c.width, c.height, ink, sum];
})"""


def test_slider_strips_show_what_each_slider_does_and_follow_the_code(page, server):
    """Every slider on the page gets its strip (seven thumbnails along its track, drawn); a keyboard move of one
    slider redraws the others' strips for the new code, once it rests (their codes follow it: LIVE.last.strips)."""
    goto(page, server, "sliders")
    wait_live(page, "sliders")
    page.wait_for_function("() => { const n = document.querySelectorAll('[data-testid=\"stSlider\"] input[type=\"range\"]')"
                           ".length; return n > 0 && (window.__vaeLive.stats.strips || []).length >= 1 && "
                           "document.querySelectorAll('[data-testid=\"stSlider\"] canvas.vae-strip').length === n; }",
                           timeout=60_000)
    n = page.locator('[data-testid="stSlider"] input[type="range"]').count()
    before = page.evaluate(STRIPS_JS)
    assert all(w > 0 and h > 0 and ink > 0 for w, h, ink, _ in before), before
    coef = page.evaluate("() => window.__vaeLive.last.strips.coef")
    refreshes = page.evaluate("() => window.__vaeLive.stats.strips.length")
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => window.__vaeLive.stats.strips.length > {refreshes} && JSON.stringify("
                           f"window.__vaeLive.last.strips.coef) !== {json.dumps(json.dumps(coef))}", timeout=30_000)
    after = page.evaluate(STRIPS_JS)
    moved = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a[3] != b[3]]
    assert len(moved) >= n - 1, f"only strips {moved} of {n} were redrawn for the new code"
    wait_app(page)
    no_exception(page)


CANVAS_RGB_JS = """(selector) => {
  const c = document.querySelector(selector);
  return {w: c.width, h: c.height, px: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)};
}"""


def test_the_colour_model_decodes_live_in_colour(page, server, exported):
    """The emoji model (RGB 32x32) on Sliders: a slider moved by the keyboard, the page's canvas shows the code
    it decoded in colour, each pixel within 2/255 of the server's decode of that code in R, G and B."""
    import torch

    from vae.data.images import upscale

    if "emoji" not in exported:
        pytest.skip("no checkpoints/emoji")
    ck, _files = exported["emoji"]
    goto(page, server, "sliders?ckpt=emoji")
    wait_live(page, "sliders")
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    before = page.evaluate("() => window.__vaeLive.stats.sliders.draws.length")
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => window.__vaeLive.stats.sliders.draws.length > {before}", timeout=30_000)
    wait_app(page)
    page.wait_for_timeout(300)  # the last frame drawn
    z = np.asarray(page.evaluate("() => window.__vaeLive.last.sliders.z"), np.float32)
    got = page.evaluate(CANVAS_RGB_JS, LIVE_CANVAS.format(mode="sliders"))
    rgba = np.asarray(got["px"], np.int16).reshape(got["h"], got["w"], 4)
    factor = got["w"] // 32
    shown = rgba[::factor, ::factor, :3]  # nearest-neighbour upscaled: one pixel per image pixel
    with torch.inference_mode():
        want = upscale(ck.model.float().decode_mean(torch.from_numpy(z[None]))[0], 0).astype(np.int16)
    assert want.shape == shown.shape == (32, 32, 3)
    assert int(np.abs(shown - want).max()) <= 2, f"the page's colours differ from the server's by {np.abs(shown - want).max()}/255"
    assert float(np.abs(want[..., 0] - want[..., 2]).mean()) > 5  # colour, not grey
    no_exception(page)
