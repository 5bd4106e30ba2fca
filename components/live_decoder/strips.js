// Strips: under each of the page's sliders, what the decoder draws at evenly spaced spots of its track,
// every other slider staying where it is (issue #35: "every slider shows what it does"). One batched
// decode refreshes every strip; they refresh once the code settles (not during a drag: the dragged
// image comes first). The Python twin of the codes is vae/explore/latent.py's strip_codes.

import { paint, toBytes } from "./pixels.js";
import { runExclusive } from "./runtime.js";

/** Thumbnails per strip. */
export const STRIP_STEPS = 7;

/**
 * The slider positions a strip shows: `n` evenly spaced from `min` to `max` (both ends included).
 * @param {number} min
 * @param {number} max
 * @param {number} [n]
 * @returns {number[]}
 */
export function stripValues(min, max, n = STRIP_STEPS) {
  return Array.from({ length: n }, (_, i) => min + ((max - min) * i) / (n - 1));
}

/**
 * The codes of every strip: for slider k and each value v of values[k], the code with coefficient k set
 * to v and the others as they are; code(c) = origin + sum_j c_j * axis_j (axes null: the latent axes).
 * @param {number[]} origin (D,)
 * @param {number[][]|null} axes (K, D), or null for K = D latent axes
 * @param {number[]} coef (K,)
 * @param {number[][]} values (K, T)
 * @returns {Float32Array} (K*T, D): strip k's T codes, one after another
 */
export function stripCodes(origin, axes, coef, values) {
  const D = origin.length;
  const K = coef.length;
  const axis = (k, j) => (axes === null ? (k === j ? 1 : 0) : axes[k][j]);
  const base = Float64Array.from(origin);
  for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) base[j] += coef[k] * axis(k, j);
  const T = values.length ? values[0].length : 0;
  const out = new Float32Array(K * T * D);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < T; t++) {
      const step = values[k][t] - coef[k];
      const row = (k * T + t) * D;
      for (let j = 0; j < D; j++) out[row + j] = base[j] + step * axis(k, j);
    }
  }
  return out;
}

/**
 * Decode n codes in one run of the decoder.
 * @param {{ort: object, session: object}} model
 * @param {Float32Array} codes (n*D,)
 * @param {number} n
 * @returns {Promise<Uint8Array[]>} each image's 8-bit pixels (H*W*C)
 */
export async function decodeMany(model, codes, n) {
  const D = codes.length / n;
  const out = await runExclusive(model, { z: new model.ort.Tensor("float32", codes, [n, D]) });
  const { data, dims } = out.image;
  const [, c, h, w] = dims;
  const size = c * h * w;
  return Array.from({ length: n }, (_, i) => toBytes({ data: data.subarray(i * size, (i + 1) * size), dims: [1, c, h, w] }));
}

/**
 * The strip's canvas under a slider (made once; React leaves an element it does not know alone).
 * @param {Element} box the slider's [data-testid="stSlider"] element
 * @param {string} label the strip's accessible name
 * @returns {HTMLCanvasElement}
 */
export function stripCanvas(box, label) {
  let canvas = box.querySelector(":scope > canvas.vae-strip");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "vae-strip";
    canvas.setAttribute("role", "img");
    box.appendChild(canvas);
  }
  canvas.setAttribute("aria-label", label);
  return canvas;
}

/**
 * Paint one strip: each thumbnail centred under its spot of the slider's track. The rectangles are read by
 * the caller for every strip first, then all are painted: a read after a canvas's resize would lay the
 * page out again, once per strip (16 layouts in a row, tens of ms while a drag waits).
 * @param {HTMLCanvasElement} canvas
 * @param {DOMRect} box the slider's box (the canvas's parent)
 * @param {DOMRect} track the slider's track (its spots' positions)
 * @param {Uint8Array[]} images T images' pixels (H*W*C)
 * @param {number[]} shape [C, H, W]
 * @param {number} thumb the thumbnails' size, CSS pixels
 */
export function paintStrip(canvas, box, track, images, shape, thumb) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(box.width));
  const [W, H] = [Math.round(width * ratio), Math.round(thumb * ratio)];
  if (canvas.width !== W || canvas.height !== H) {
    canvas.style.width = `${width}px`;
    canvas.style.height = `${thumb}px`;
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, W, H);
  const one = (paintStrip.scratch ??= document.createElement("canvas"));
  const T = images.length;
  images.forEach((bytes, i) => {
    paint(one, bytes, shape, 1);
    const centre = track.left - box.left + (track.width * i) / Math.max(1, T - 1);
    const x = Math.min(Math.max(centre - thumb / 2, 0), width - thumb);
    ctx.drawImage(one, Math.round(x * ratio), 0, Math.round(thumb * ratio), Math.round(thumb * ratio));
  });
}
