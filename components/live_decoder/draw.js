// Your image -> Draw: a canvas to draw on. While the pen moves, the encoder runs in the page on
// the drawing, its posterior mean is decoded (the reconstruction) and placed on the small map.
// When the pen lifts, the drawing goes to Python, which shows the rest of the page for it.
// A grey model's pad is drawn light on black; a colour model's in the palette's colours on white, like
// its data (vae.data.pad: the palette, and the twin of the pixels the encoder gets).

import { Runner, noteInput, statsFor } from "./runner.js";
import { LIVE, decode, encodeMean, loadAsset, loadRuntime, loadSession, reasonOf } from "./runtime.js";
import { canvasToInput, inputToCanvas, paint, toBytes } from "./pixels.js";
import { drawMiniMap, loadLatentMap } from "./latent_map.js";
import { ensureRoot, setLive } from "./view.js";

const DRAW_HTML = `
  <div class="vae-draw">
    <div class="vae-draw-pad">
      <canvas class="vae-draw-canvas" width="280" height="280"></canvas>
      <div class="vae-draw-palette" role="radiogroup" hidden></div>
      <div class="vae-live-caption"><span data-role="pad-caption"></span>
        <button type="button" class="vae-draw-clear"></button></div>
    </div>
    <div class="vae-live-view">
      <canvas class="vae-live-image"></canvas>
      <div class="vae-live-caption" data-role="caption"></div>
    </div>
    <div class="vae-live-view">
      <canvas class="vae-live-map"></canvas>
      <div class="vae-live-caption" data-role="map-caption"></div>
    </div>
  </div>
  <div class="vae-live-note" hidden></div>`;

/**
 * Mount the draw mode.
 * @param {HTMLElement} parent
 * @param {object} data encoder, decoder, runtime, image {shape, factor}, pen (px), map (spec),
 *   minimap {background, size, center, scale}, text, initial (the session's drawing, C*H*W, or null),
 *   paper and ink (CSS colours: the pad's background and first colour), palette ([{colour, name}], empty
 *   for a grey model: it draws in ink only)
 * @param {(name: string, value: unknown) => void} setStateValue
 * @returns {() => void} cleanup
 */
export function mountDraw(parent, data, setStateValue) {
  const el = ensureRoot(parent, "draw", DRAW_HTML);
  const pad = el.querySelector(".vae-draw-canvas");
  const image = el.querySelector(".vae-live-image");
  const mapCanvas = el.querySelector(".vae-live-map");
  el.querySelector('[data-role="pad-caption"]').textContent = data.text.pad;
  el.querySelector('[data-role="caption"]').textContent = data.text.caption;
  el.querySelector('[data-role="map-caption"]').textContent = data.text.map_caption;
  const clear = el.querySelector(".vae-draw-clear");
  clear.textContent = data.text.clear;
  const ctx = pad.getContext("2d");
  const paper = data.paper || "#000";
  if (pad.dataset.paper !== paper) delete pad.dataset.used; // another model's drawing: start afresh
  pad.dataset.paper = paper;
  if (!pad.dataset.ink || !(data.palette || []).some((s) => s.colour === pad.dataset.ink)) {
    pad.dataset.ink = data.ink || "#fff";
  }
  const palette = el.querySelector(".vae-draw-palette");
  mountPalette(palette, data.palette || [], pad);
  if (!pad.dataset.used) {
    ctx.fillStyle = paper;
    ctx.fillRect(0, 0, pad.width, pad.height);
    if (data.initial) {
      // the drawing the session already has (a link opened, the page shown again): drawn on from here
      inputToCanvas(pad, data.initial, data.image.shape);
      pad.dataset.used = "1";
    }
  }
  const stats = statsFor(LIVE, "draw");
  const trail = (LIVE.drawTrail ??= []);
  let enc = null;
  let dec = null;
  let lmap = null;
  let background = null;
  let down = false;
  let prev = null;

  const runner = new Runner(
    async (req) => {
      const mu = await encodeMean(enc, req.x, data.image.shape);
      return { bytes: toBytes(await decode(dec, mu)), mu: Array.from(mu), xy: lmap.toMap(mu) };
    },
    (res) => {
      paint(image, res.bytes, data.image.shape, data.image.factor);
      trail.push(res.xy);
      if (trail.length > 60) trail.splice(0, trail.length - 60);
      drawMiniMap(mapCanvas, background, data.minimap, res.xy, trail, null);
      LIVE.last.draw = { mu: res.mu, xy: res.xy, n: (LIVE.last.draw?.n ?? 0) + 1 };
      setLive(el, data, null);
    },
    (err) => fail(err),
    stats,
  );
  const fail = (err) => {
    runner.stop();
    enc = null;
    LIVE.failures.draw = reasonOf(err);
    setLive(el, data, LIVE.failures.draw);
  };
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  const stroke = (p) => {
    ctx.strokeStyle = pad.dataset.ink;
    ctx.lineWidth = data.pen;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...(prev || p));
    ctx.lineTo(...p);
    ctx.stroke();
    prev = p;
    pad.dataset.used = "1";
  };
  const live = (t) => {
    if (!enc) return;
    runner.request({ x: canvasToInput(pad, data.image.shape), seq: noteInput(stats, t), t });
  };
  const onDown = (e) => {
    down = true;
    prev = null;
    pad.setPointerCapture(e.pointerId);
    stroke(at(e));
    live(e.timeStamp);
    e.preventDefault();
  };
  const onMove = (e) => {
    if (!down) return;
    stroke(at(e));
    live(e.timeStamp);
  };
  const onUp = () => {
    if (!down) return;
    down = false;
    prev = null;
    const x = canvasToInput(pad, data.image.shape);
    setStateValue("drawing", { shape: data.image.shape, pixels: Array.from(x, (v) => Math.round(v * 1e4) / 1e4) });
  };
  const onClear = () => {
    ctx.fillStyle = paper;
    ctx.fillRect(0, 0, pad.width, pad.height);
    delete pad.dataset.used;
    trail.length = 0;
    setStateValue("drawing", null);
  };
  pad.addEventListener("pointerdown", onDown);
  pad.addEventListener("pointermove", onMove);
  pad.addEventListener("pointerup", onUp);
  pad.addEventListener("pointercancel", onUp);
  clear.addEventListener("click", onClear);
  loadRuntime(data.runtime).then(() => Promise.all([
    loadSession(data.runtime, data.encoder),
    loadSession(data.runtime, data.decoder),
    loadLatentMap(data.map, loadAsset),
    loadAsset(data.minimap.background, "image"),
  ])).then(([e, d, l, bg]) => {
    [enc, dec, lmap, background] = [e, d, l, bg];
    if (!LIVE.ready.draw) LIVE.ready.draw = performance.now();
    if (pad.dataset.used) {
      live(performance.now()); // a drawing kept across a rerun: show its decode
    } else {
      const [c, h, w] = data.image.shape;
      paint(image, new Uint8Array(c * h * w), data.image.shape, data.image.factor);
      drawMiniMap(mapCanvas, background, data.minimap, null, [], null);
      setLive(el, data, null);
    }
  }, fail);
  return () => {
    runner.stop();
    pad.removeEventListener("pointerdown", onDown);
    pad.removeEventListener("pointermove", onMove);
    pad.removeEventListener("pointerup", onUp);
    pad.removeEventListener("pointercancel", onUp);
    clear.removeEventListener("click", onClear);
  };
}

/**
 * The palette's swatches under the pad (none, and hidden, for a grey model): a click or a tap picks the
 * colour the next stroke is drawn in (kept on the pad as data-ink, so a rerun keeps it).
 * @param {HTMLElement} box the palette's element
 * @param {{colour: string, name: string}[]} swatches
 * @param {HTMLCanvasElement} pad
 */
function mountPalette(box, swatches, pad) {
  box.hidden = swatches.length === 0;
  box.replaceChildren(...swatches.map((s) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "vae-draw-swatch";
    b.style.background = s.colour;
    b.title = s.name;
    b.setAttribute("role", "radio");
    b.setAttribute("aria-label", s.name);
    b.dataset.colour = s.colour;
    b.addEventListener("click", () => {
      pad.dataset.ink = s.colour;
      for (const o of box.children) o.setAttribute("aria-checked", String(o === b));
    });
    b.setAttribute("aria-checked", String(s.colour === pad.dataset.ink));
    return b;
  }));
}
