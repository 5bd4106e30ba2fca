// The map's thumbnails: past a zoom level its points are drawn as their own images (the real image,
// or its decoded mean). Shared by the canvas map (components/big_map, drawn in its canvas) and the
// Plotly map (plotly_thumbs.js, a canvas over the plot).
//
// pickThumbs is the twin of vae.explore.thumb_view.pick_thumbs, and thumbChunkOf / thumbChunksFor of
// vae.export.thumbnails.ThumbLayout: tests/vae/test_thumbnails.py runs both on the same points.
// The images come as uint8 files of `chunk` images each (HWC, grey or RGB) in a Z-order of their map
// positions (the `order` file: the image at each place), so a zoomed-in view's points lie in few files;
// a file is fetched only when a view first needs one of its images, once per URL for the page's life.

import { loadAsset, loadSession, runExclusive } from "../live_decoder/runtime.js";

export const THUMBS_BELOW = 400; // as vae.explore.thumb_view
export const THUMB_MIN_PX = 24;
export const THUMB_MAX_PX = 96;
const FADED_ALPHA = 0.25; // a greyed point's thumbnail (outside a selection or a search)
const DECODE_BATCH = 64; // codes decoded a run (decoded mode)
const CANVASES = 3000; // small canvases kept (the most recently drawn); the bytes behind them are all kept

const THUMB_CACHE = (globalThis.__vaeThumbCache ??= { chunks: new Map(), stores: new Map() });

/** @param {number} rank an image's place in the files @param {number} chunk @returns {number} its chunk */
export function thumbChunkOf(rank, chunk) {
  return Math.floor(rank / chunk);
}

/**
 * @param {ArrayLike<number>} indices images
 * @param {number} chunk
 * @param {ArrayLike<number>|null} rank (N,) each image's place in the files (null: index order)
 * @returns {number[]} the chunks that hold them, sorted, each once
 */
export function thumbChunksFor(indices, chunk, rank = null) {
  return [...new Set(Array.from(indices, (i) => thumbChunkOf(rank ? rank[i] : i, chunk)))].sort((a, b) => a - b);
}

/** @returns {number} a thumbnail's side in pixels for n points in view of a w x h view, at least `least` */
export function thumbSide(n, w, h, least = THUMB_MIN_PX) {
  return Math.min(THUMB_MAX_PX, Math.max(least, Math.floor(Math.sqrt((w * h) / Math.max(1, n)))));
}

/**
 * The thumbnails drawn in a view (vae.explore.thumb_view.pick_thumbs): none when more than `limit`
 * visible points are in view; else the points nearest the view's centre first (faded ones last), each
 * kept when its thumbnail touches none placed before.
 * @param {ArrayLike<number>} xy (N*2,) map positions
 * @param {{x0: number, y0: number, x1: number, y1: number}} view
 * @param {number} w pixels
 * @param {number} h pixels
 * @param {ArrayLike<number>|null} visible (N,) 1: shown at all
 * @param {ArrayLike<number>|null} faded (N,) 1: greyed
 * @param {number} limit
 * @param {number} least the least side (vae.explore.thumb_view.least_side: the spec's `least`)
 * @returns {{indices: number[], px: number[], py: number[], side: number, inView: number}} inView: the
 *   visible points in view, counted up to limit + 1 (past it, none is drawn)
 */
export function pickThumbs(xy, view, w, h, visible = null, faded = null, limit = THUMBS_BELOW, least = THUMB_MIN_PX) {
  const n = xy.length / 2;
  const idx = [];
  const PX = new Float64Array(n);
  const PY = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (visible && !visible[i]) continue;
    const px = ((xy[2 * i] - view.x0) / (view.x1 - view.x0)) * w;
    const py = ((view.y1 - xy[2 * i + 1]) / (view.y1 - view.y0)) * h;
    if (px >= 0 && px < w && py >= 0 && py < h) {
      idx.push(i);
      PX[i] = px;
      PY[i] = py;
      if (idx.length > limit) return { indices: [], px: [], py: [], side: 0, inView: idx.length };
    }
  }
  if (!idx.length) return { indices: [], px: [], py: [], side: 0, inView: 0 };
  const side = thumbSide(idx.length, w, h, least);
  const d2 = new Map();
  for (const i of idx) {
    const dx = PX[i] - w / 2;
    const dy = PY[i] - h / 2;
    d2.set(i, dx * dx + dy * dy);
  }
  const late = (i) => (faded && faded[i] ? 1 : 0);
  idx.sort((a, b) => late(a) - late(b) || d2.get(a) - d2.get(b) || a - b);
  const out = { indices: [], px: [], py: [], side, inView: idx.length };
  for (const i of idx) {
    let free = true;
    for (let k = 0; k < out.indices.length && free; k++) {
      free = Math.abs(PX[i] - out.px[k]) >= side || Math.abs(PY[i] - out.py[k]) >= side;
    }
    if (!free) continue;
    out.indices.push(i);
    out.px.push(PX[i]);
    out.py.push(PY[i]);
  }
  return out;
}

function fetchChunk(url, Kind = Uint8Array) {
  let entry = THUMB_CACHE.chunks.get(url);
  if (!entry) {
    entry = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }).then((b) => new Kind(b));
    THUMB_CACHE.chunks.set(url, entry);
    entry.catch(() => THUMB_CACHE.chunks.delete(url));
  }
  return entry;
}

// An image (H*W*C bytes, C = 1 or 3) as a small canvas of its own pixels.
function toCanvas(bytes, shape) {
  const [c, h, w] = shape;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    const o = p * c;
    img.data[4 * p] = bytes[o];
    img.data[4 * p + 1] = bytes[c === 3 ? o + 1 : o];
    img.data[4 * p + 2] = bytes[c === 3 ? o + 2 : o];
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/**
 * The images of one explore set, loaded as views ask for them; one per spec key for the page's life
 * (a rerun finds what it loaded and decoded). `onReady` is called when more images can be drawn.
 */
export class ThumbStore {
  /**
   * @param {object} spec {key, mode: "real"|"decoded", chunks: [url], order: url, n, chunk, shape: [C, H, W],
   *   decoded: {decoder, codes, d, runtime} | null}
   */
  static for(spec) {
    const key = `${spec.key}|${spec.mode}`;
    let store = THUMB_CACHE.stores.get(key);
    if (!store) {
      store = new ThumbStore(spec);
      THUMB_CACHE.stores.set(key, store);
    }
    store.spec = spec; // the URLs of this run (the same files)
    return store;
  }

  constructor(spec) {
    this.spec = spec;
    this.pixels = new Map(); // index -> its bytes (H*W*C), a view into its chunk's
    this.canvases = new Map(); // index -> canvas, least recently drawn first
    this.pending = new Set(); // chunks (real) or indices (decoded) on their way
    this.listeners = new Set();
    this.fetched = []; // chunks fetched so far, in order (read by the browser tests)
    this.failure = null;
    this.order = null; // Uint32Array: the image at each place in the files, once fetched
    this.rank = null; // Int32Array: each image's place
  }

  /** @param {() => void} f called when more images are ready @returns {() => void} to stop */
  listen(f) {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  ready() {
    for (const f of this.listeners) f();
  }

  /** @param {number} i @returns {HTMLCanvasElement|null} */
  image(i) {
    let canvas = this.canvases.get(i);
    if (canvas) this.canvases.delete(i); // moved to the end: drawn most recently
    else {
      const bytes = this.pixels.get(i);
      if (!bytes) return null;
      canvas = toCanvas(bytes, this.spec.shape);
      if (this.canvases.size >= CANVASES) this.canvases.delete(this.canvases.keys().next().value);
    }
    this.canvases.set(i, canvas);
    return canvas;
  }

  /** Start loading the images of `indices` not loaded yet. @param {number[]} indices */
  want(indices) {
    const missing = indices.filter((i) => !this.pixels.has(i));
    if (!missing.length || this.failure) return;
    if (this.spec.mode === "decoded") this.decodeSome(missing.filter((i) => !this.pending.has(i)));
    else if (this.rank) for (const k of thumbChunksFor(missing, this.spec.chunk, this.rank)) this.loadChunk(k);
    else if (!this.pending.has("order")) {
      this.pending.add("order");
      fetchChunk(this.spec.order, Uint32Array).then((order) => {
        this.order = order;
        this.rank = new Int32Array(order.length);
        order.forEach((i, r) => { this.rank[i] = r; });
        this.want(indices);
      }, (err) => {
        this.failure = String(err && err.message ? err.message : err);
      }).finally(() => this.pending.delete("order"));
    }
  }

  loadChunk(k) {
    if (this.pending.has(k)) return;
    this.pending.add(k);
    this.fetched.push(k);
    const { chunk, shape } = this.spec;
    fetchChunk(this.spec.chunks[k]).then((bytes) => {
      const size = shape[0] * shape[1] * shape[2];
      const m = bytes.length / size;
      for (let j = 0; j < m; j++) {
        this.pixels.set(this.order[k * chunk + j], bytes.subarray(j * size, (j + 1) * size));
      }
      this.ready();
    }, (err) => {
      this.pending.delete(k);
      this.failure = String(err && err.message ? err.message : err);
    });
  }

  async decodeSome(indices) {
    if (!indices.length) return;
    for (const i of indices) this.pending.add(i);
    const dec = this.spec.decoded;
    try {
      const [model, codes] = await Promise.all([loadSession(dec.runtime, dec.decoder), loadAsset(dec.codes, "f16")]);
      for (let s = 0; s < indices.length; s += DECODE_BATCH) {
        const batch = indices.slice(s, s + DECODE_BATCH);
        const z = new Float32Array(batch.length * dec.d);
        batch.forEach((i, b) => z.set(codes.subarray(i * dec.d, (i + 1) * dec.d), b * dec.d));
        const out = await runExclusive(model, { z: new model.ort.Tensor("float32", z, [batch.length, dec.d]) });
        const [, c, h, w] = out.image.dims;
        const src = out.image.data;
        batch.forEach((i, b) => {
          const bytes = new Uint8Array(h * w * c);
          for (let ch = 0; ch < c; ch++) {
            for (let p = 0; p < h * w; p++) {
              const v = Math.min(Math.max(src[((b * c) + ch) * h * w + p], 0), 1);
              bytes[p * c + ch] = Math.floor(v * 255 + 0.5); // as the server's PNGs (pixels.js)
            }
          }
          this.pixels.set(i, bytes);
        });
        this.ready();
      }
    } catch (err) {
      this.failure = String(err && err.message ? err.message : err);
      this.ready();
    } finally {
      for (const i of indices) this.pending.delete(i);
    }
  }
}

/**
 * Draw the picked thumbnails: each image at `side` pixels (nearest-neighbour), centred on its point,
 * framed in its point's colour (the class's, on a map coloured by class); greyed points' images faded. Returns what was drawn (for the tests).
 * @param {CanvasRenderingContext2D} ctx
 * @param {{indices: number[], px: number[], py: number[], side: number}} picks
 * @param {ThumbStore} store
 * @param {(i: number) => string} colour
 * @param {ArrayLike<number>|null} faded
 * @returns {Array<{i: number, x: number, y: number, side: number, faded: boolean}>}
 */
export function drawThumbs(ctx, picks, store, colour, faded) {
  const drawn = [];
  const { side } = picks;
  const [, h, w] = store.spec.shape;
  const tall = Math.round((side * h) / w);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  picks.indices.forEach((i, k) => {
    if (!store.image(i)) return;
    const x = Math.round(picks.px[k] - side / 2);
    const y = Math.round(picks.py[k] - tall / 2);
    drawn.push({ i, x, y, side, height: tall, faded: Boolean(faded && faded[i]) });
  });
  // the frames first, outside each image, then the images: a neighbour's frame never covers an image
  for (const t of drawn) {
    ctx.globalAlpha = t.faded ? FADED_ALPHA : 1;
    ctx.strokeStyle = colour(t.i);
    ctx.lineWidth = t.faded ? 1 : 2;
    ctx.strokeRect(t.x - ctx.lineWidth / 2, t.y - ctx.lineWidth / 2, side + ctx.lineWidth, tall + ctx.lineWidth);
  }
  for (const t of drawn) {
    ctx.globalAlpha = t.faded ? FADED_ALPHA : 1;
    ctx.drawImage(store.image(t.i), t.x, t.y, side, tall);
  }
  ctx.restore();
  store.want(picks.indices);
  return drawn;
}
