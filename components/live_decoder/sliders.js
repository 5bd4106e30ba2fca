// Sliders: the page's Streamlit sliders decode live while they move. Streamlit sends a slider's
// value to Python only when the drag ends; its thumb, though, updates the slider's hidden
// <input type="range"> on every move. This mode watches those inputs (mouse, touch and keyboard
// all move them), turns their values into a code and decodes it in the page.

import { Runner, noteInput, statsFor } from "./runner.js";
import { LIVE, decode, loadAsset, loadSession, note, reasonOf, whenLoaded } from "./runtime.js";
import { paint, toBytes } from "./pixels.js";
import { drawMiniMap, loadLatentMap } from "./latent_map.js";
import { ensureRoot, setLive, showLoading, showServerView } from "./view.js";
import { decodeMany, paintStrip, stripCanvas, stripCodes, stripValues } from "./strips.js";

/** How long the code must rest before the strips follow it, ms (a drag's own frames come first). */
const STRIP_SETTLE_MS = 120;

const SLIDER_INPUTS = '[data-testid="stSlider"] input[type="range"]';

/**
 * The value a react-aria slider takes for a pointer at `x`, as its own drag handler computes it:
 * the grab value plus the pointer's travel as a share of the track, snapped to the step.
 * @param {{v0: number, x0: number, width: number, min: number, max: number, step: number}} drag
 * @param {number} x the pointer's clientX
 * @returns {number}
 */
export function dragValue(drag, x) {
  const { v0, x0, width, min, max, step } = drag;
  const raw = Math.min(max, Math.max(min, v0 + ((x - x0) / width) * (max - min)));
  const snapped = Math.min(max, Math.max(min, min + Math.round((raw - min) / step) * step));
  const decimals = (String(step).split(".")[1] || "").length;
  return parseFloat(snapped.toFixed(decimals));
}

/**
 * Watch the Streamlit sliders whose labels are keys of `labels`; call `changed(values)` with
 * their values ({index: value}) whenever one moves, and `input(t)` on every pointer move or key
 * press that drives one (for the latency record).
 *
 * Streamlit redraws a dragged slider 10-45 ms after the pointer moves (measured on 2 busy cores),
 * so during a pointer drag the value is computed from the pointer itself, the way the slider's
 * own handler computes it (`dragValue`); what the slider then shows is read back as it renders
 * (a MutationObserver on its input), which also covers the keyboard and corrects any mismatch.
 * @param {Object<string, number>} labels aria-label -> index
 * @param {(values: Object<number, number>) => void} changed
 * @param {(t: number) => void} input
 * @param {(y: number|null) => void} [dragging] a pointer drag of one of them: its clientY as it moves;
 *   null when it ends
 * @returns {() => void} stops watching
 */
export function watchSliders(labels, changed, input, dragging) {
  const values = {};
  let last = "";
  const emit = () => {
    const key = JSON.stringify(values);
    if (key !== last) {
      last = key;
      changed({ ...values });
    }
  };
  const read = () => {
    for (const el of document.querySelectorAll(SLIDER_INPUTS)) {
      const k = labels[el.getAttribute("aria-label")];
      if (k !== undefined && !(drag && drag.k === k)) values[k] = parseFloat(el.value);
    }
    emit();
  };
  const ours = (target) => {
    const box = target instanceof Element ? target.closest('[data-testid="stSlider"]') : null;
    const el = box && box.querySelector('input[type="range"]');
    return el && labels[el.getAttribute("aria-label")] !== undefined ? el : null;
  };
  let drag = null;
  const onDown = (e) => {
    const el = ours(e.target);
    if (!el) return;
    const track = el.closest('[role="group"]').firstElementChild.getBoundingClientRect();
    const thumb = el.parentElement.parentElement; // the thumb holds the visually hidden input
    const [min, max, step] = ["min", "max", "step"].map((a) => parseFloat(el.getAttribute(a)));
    const onThumb = thumb.contains(e.target);
    // a press on the track jumps there (unsnapped) and drags from that spot, as react-aria does
    const v0 = onThumb ? parseFloat(el.value) : min + ((e.clientX - track.left) / track.width) * (max - min);
    drag = { k: labels[el.getAttribute("aria-label")], v0, x0: e.clientX, width: track.width, min, max, step };
    input(e.timeStamp);
    values[drag.k] = dragValue(drag, e.clientX);
    emit();
    if (dragging) dragging(e.clientY);
  };
  const onMove = (e) => {
    if (!drag) return;
    input(e.timeStamp);
    values[drag.k] = dragValue(drag, e.clientX);
    emit();
    if (dragging) dragging(e.clientY);
  };
  const onUp = () => {
    if (drag && dragging) dragging(null);
    drag = null;
    requestAnimationFrame(read); // from now on the slider's own value counts
  };
  const onKey = (e) => ours(e.target) && input(e.timeStamp);
  // React updates the input's value (and aria-valuetext) when it renders a move: observe that
  const observer = new MutationObserver(read);
  observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-valuetext", "value"] });
  document.addEventListener("pointerdown", onDown, true);
  document.addEventListener("pointermove", onMove, true);
  document.addEventListener("pointerup", onUp, true);
  document.addEventListener("pointercancel", onUp, true);
  document.addEventListener("keydown", onKey, true);
  read();
  return () => {
    observer.disconnect();
    drag = null;
    document.removeEventListener("pointerdown", onDown, true);
    document.removeEventListener("pointermove", onMove, true);
    document.removeEventListener("pointerup", onUp, true);
    document.removeEventListener("pointercancel", onUp, true);
    document.removeEventListener("keydown", onKey, true);
  };
}

const FLOAT_LINGER_MS = 1200; // the floating copy stays this long after the drag, showing where it ended
const FLOAT_MAX_PX = 200; // its largest side, pixels (at most 45% of the window's width)

/**
 * A copy of `image` that floats over the page while a slider is dragged and the image itself is
 * mostly out of view (a phone, where the image is far above the slider under the finger): in the
 * window's top right corner, or its bottom right when the finger is in the top half.
 * @param {HTMLCanvasElement} image
 * @returns {{follow: (y: number|null) => void, draw: () => void, remove: () => void}}
 */
export function floatingCopy(image) {
  const box = document.createElement("div");
  box.className = "vae-live-float";
  box.hidden = true;
  box.setAttribute("aria-hidden", "true"); // a copy of an image the page already has
  const copy = document.createElement("canvas");
  box.appendChild(copy);
  document.body.appendChild(box); // fixed to the window, whatever the page's containers do
  let timer = 0;
  const inView = () => {
    const r = image.getBoundingClientRect();
    const seen = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0));
    return r.height > 0 && seen >= 0.6 * r.height;
  };
  const draw = () => {
    if (box.hidden || !image.width) return;
    if (copy.width !== image.width || copy.height !== image.height) [copy.width, copy.height] = [image.width, image.height];
    copy.getContext("2d").drawImage(image, 0, 0);
  };
  const follow = (y) => {
    clearTimeout(timer);
    if (y === null) {
      timer = setTimeout(() => (box.hidden = true), FLOAT_LINGER_MS);
      return;
    }
    if (inView() || !image.width) {
      box.hidden = true;
      return;
    }
    const side = Math.min(FLOAT_MAX_PX, 0.45 * window.innerWidth, image.width);
    copy.style.width = `${side}px`;
    box.classList.toggle("vae-live-float--bottom", y < window.innerHeight / 2);
    if (box.hidden) {
      box.hidden = false;
      draw();
    }
  };
  return { follow, draw, remove: () => (clearTimeout(timer), box.remove()) };
}

const SLIDERS_HTML = `
  <div class="vae-live-view">
    <canvas class="vae-live-image"></canvas>
    <div class="vae-live-caption" data-role="caption"></div>
    <canvas class="vae-live-map"></canvas>
    <div class="vae-live-caption" data-role="map-caption"></div>
  </div>
  <div class="vae-live-note" hidden></div>`;

/**
 * Mount the Sliders mode.
 * @param {HTMLElement} parent
 * @param {object} data origin (D,), axes (K x D, or null for the latent axes), coef (K,), labels,
 *   decoder, runtime, image {shape, factor}, map (spec), minimap {background, size, center, scale,
 *   trail, start, start_id}, hide, text
 * @returns {() => void} cleanup
 */
export function mountSliders(parent, data) {
  const el = ensureRoot(parent, "sliders", SLIDERS_HTML);
  const id = (LIVE.mounts = (LIVE.mounts || 0) + 1); // this mount, in the event log
  note("sliders", `mount ${id} (${data.axes === null ? "latent" : "principal"} axes)`);
  if (el.matches(".vae-live:not(.vae-live--waiting):not(.vae-live--off)")) showServerView(data.hide, false);
  showLoading(el, data);
  el.querySelector('[data-role="caption"]').textContent = data.text.caption;
  el.querySelector('[data-role="map-caption"]').textContent = data.text.map_caption;
  const image = el.querySelector(".vae-live-image");
  const mapCanvas = el.querySelector(".vae-live-map");
  const floating = floatingCopy(image);
  const stats = statsFor(LIVE, "sliders");
  const coef = Float64Array.from(data.coef);
  const D = data.origin.length;
  const codeOf = () => {
    const z = Float64Array.from(data.origin);
    coef.forEach((c, k) => {
      if (!c) return;
      if (data.axes === null) z[k] += c;
      else for (let j = 0; j < D; j++) z[j] += c * data.axes[k][j];
    });
    return z;
  };
  // the trail lives as long as the start (the server's trail holds only released positions)
  const trails = (LIVE.trails ??= {});
  const mm = data.minimap;
  if (!trails[mm.start_id]) trails[mm.start_id] = mm.trail.slice();
  const trail = trails[mm.start_id];
  let model = null;
  let background = null;
  // code -> map position: the server's for the code of the first frame (mm.here); the page's own map (its codes,
  // 0.4 MB for 10k images) is fetched once the code first changes, not before the first frame
  let lmap = null;
  const latentMap = () => (lmap ??= loadLatentMap(data.map, loadAsset));
  let seq;
  let t;
  let ready = false;

  const runner = new Runner(
    async (req) => {
      if (!LIVE.ready.sliders) note("sliders", `mount ${id} decodes`);
      const out = await decode(model, req.z);
      return { bytes: toBytes(out), xy: req.here ? mm.here : (await latentMap()).toMap(req.z) };
    },
    (res, req) => {
      paint(image, res.bytes, data.image.shape, data.image.factor);
      floating.draw();
      const tail = trail[trail.length - 1];
      if (!tail || Math.hypot(tail[0] - res.xy[0], tail[1] - res.xy[1]) > 1e-6) {
        trail.push(res.xy);
        if (trail.length > 60) trail.splice(0, trail.length - 60);
      }
      drawMiniMap(mapCanvas, background, mm, res.xy, trail, mm.start);
      LIVE.last.sliders = { z: Array.from(req.z), xy: res.xy };
      if (!LIVE.ready.sliders) {
        LIVE.ready.sliders = performance.now();
        note("sliders", `mount ${id} drew its first frame`);
      }
      setLive(el, data, null);
    },
    (err) => fail(err),
    stats,
  );
  const fail = (err) => {
    runner.stop();
    LIVE.failures.sliders = reasonOf(err);
    setLive(el, data, LIVE.failures.sliders);
  };
  let dragging = false;
  const strips = data.strips ? stripsFor(data, coef, () => model, () => dragging) : null;
  const stopWatching = watchSliders(
    data.labels,
    (values) => {
      // sliders drawn after the mount report the values the page already has: no new code (and no need of the
      // map's codes yet), only strips to draw on them
      let moved = false;
      for (const [k, v] of Object.entries(values)) {
        if (coef[k] !== v) [coef[k], moved] = [v, true];
      }
      if (ready && moved) runner.request({ z: codeOf(), seq, t });
      if (ready && strips && !dragging) strips.soon();
    },
    (time) => {
      t = time;
      seq = noteInput(stats, time);
      latentMap().catch(() => {}); // a slider is taken: the map's codes come now (a failure shows at the decode)
    },
    (y) => {
      dragging = y !== null;
      if (!dragging && ready && strips) strips.soon();
      floating.follow(y);
    },
  );
  whenLoaded(data.runtime, [
    loadSession(data.runtime, data.decoder),
    loadAsset(mm.background, "image"),
  ]).then(([m, bg]) => {
    [model, background] = [m, bg];
    ready = true;
    note("sliders", `mount ${id} loaded${runner.stopped ? " after it was stopped" : ""}`);
    runner.request({ z: codeOf(), here: true });
    if (strips) strips.soon();
  }, fail);
  return () => {
    note("sliders", `mount ${id} stopped`);
    runner.stop();
    if (strips) strips.stop();
    stopWatching();
    floating.remove();
    showServerView(data.hide, true); // unmounted (or about to be re-run): the server's view is back
  };
}

/**
 * The strips of one mount: `soon()` refreshes them once the code has rested (a batched decode per strip, every
 * slider's thumbnails; only the latest request runs), `stop()` ends them. What they drew last and how long
 * each refresh took (asked -> painted, ms) are in LIVE.last.strips and LIVE.stats.strips.
 * @param {object} data the mount's data (labels, origin, axes, image, strips: {label})
 * @param {Float64Array} coef the sliders' values, as the mount keeps them
 * @param {() => object} model the decoder's session once loaded
 * @param {() => boolean} dragging whether a slider is being dragged (a refresh then stops: the drag comes first)
 */
function stripsFor(data, coef, model, dragging) {
  const shape = data.image.shape;
  const thumb = Math.max(24, Math.min(32, shape[1]));
  const byLabel = data.labels;
  let timer = null;
  let shown = null; // the last result, repainted when the window's width changes
  const times = (LIVE.stats.strips ??= []);
  const sliders = () => {
    const out = [];
    for (const el of document.querySelectorAll(SLIDER_INPUTS)) {
      const k = byLabel[el.getAttribute("aria-label")];
      if (k === undefined) continue;
      const box = el.closest('[data-testid="stSlider"]');
      const group = el.closest('[role="group"]');
      if (!box || !group || !group.firstElementChild) continue;
      const [min, max] = ["min", "max"].map((a) => parseFloat(el.getAttribute(a)));
      out.push({ k, box, track: group.firstElementChild, values: stripValues(min, max) });
    }
    return out;
  };
  const paintAll = (res) => {
    const rows = res.rows.filter((row) => row.box.isConnected);
    const canvases = rows.map((row) => stripCanvas(row.box, data.strips.label)); // DOM writes first,
    const rects = rows.map((row) => [row.box.getBoundingClientRect(), row.track.getBoundingClientRect()]); // one layout,
    rows.forEach((row, i) => { // then paints only
      const k = res.rows.indexOf(row);
      const T = row.values.length;
      paintStrip(canvases[i], rects[i][0], rects[i][1], res.images.slice(k * T, (k + 1) * T), shape, thumb);
    });
  };
  const runner = new Runner(
    async (req) => {
      const D = data.origin.length;
      const values = Array.from(coef, (c) => [c]); // a slider off the page: no strip (its row is not decoded)
      for (const row of req.rows) values[row.k] = row.values;
      const all = stripCodes(data.origin, data.axes, Array.from(coef), values.map((v) => (v.length > 1 ? v : Array(req.steps).fill(v[0]))));
      const codes = new Float32Array(req.rows.length * req.steps * D);
      req.rows.forEach((row, i) => codes.set(all.subarray(row.k * req.steps * D, (row.k + 1) * req.steps * D), i * req.steps * D));
      // one strip a run, yielding between them: a drag that starts meanwhile gets the decoder within one
      // strip's decode (a few ms), and a refresh it overtakes is dropped (the drag's end asks for another)
      const images = [];
      const per = req.steps * D;
      for (let i = 0; i < req.rows.length; i++) {
        if (dragging()) throw new Error("strips: a drag started");
        images.push(...(await decodeMany(model(), codes.subarray(i * per, (i + 1) * per), req.steps)));
        await yieldToInput();
      }
      return { rows: req.rows, images, coef: req.coef };
    },
    (res, req) => {
      shown = res;
      if (dragging()) return; // painted when the drag ends (it asks for a refresh)
      paintAll(res);
      const ms = performance.now() - req.t0;
      times.push([res.rows.length, ms]);
      if (times.length > 500) times.splice(0, times.length - 500);
      LIVE.last.strips = { coef: res.coef, values: Object.fromEntries(res.rows.map((r) => [r.k, r.values])) };
    },
    () => {}, // stopped by a drag, or a strip that cannot be drawn: the image and its own failure say the rest
  );
  const refresh = () => {
    timer = null;
    const rows = sliders();
    if (rows.length && model()) runner.request({ rows, steps: rows[0].values.length, coef: Array.from(coef), t0: performance.now() });
  };
  const onResize = () => shown && paintAll(shown);
  window.addEventListener("resize", onResize);
  const soon = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(refresh, STRIP_SETTLE_MS);
  };
  // a slider drawn after the last refresh (the panel renders in steps; a rerun may draw one anew) gets its strip:
  // looked for twice a second while no slider is dragged (nothing runs on the drag's frames)
  const missing = () => {
    if (!shown || timer !== null || !model() || dragging()) return;
    for (const el of document.querySelectorAll(SLIDER_INPUTS)) {
      const box = byLabel[el.getAttribute("aria-label")] !== undefined && el.closest('[data-testid="stSlider"]');
      if (box && !box.querySelector(":scope > canvas.vae-strip")) {
        soon();
        return;
      }
    }
  };
  const looking = setInterval(missing, 500);
  return {
    soon,
    stop() {
      if (timer !== null) clearTimeout(timer);
      runner.stop();
      clearInterval(looking);
      window.removeEventListener("resize", onResize);
    },
  };
}

/**
 * Let the page handle what is waiting (a pointer press, a frame) before the next strip's decode: a new task
 * by a message to itself, which no browser throttles (a timer in a tab in the background waits a second).
 */
function yieldToInput() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
