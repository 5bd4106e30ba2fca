// The map of a million codes (Streamlit components v2): a density raster that turns into points as
// you zoom. Plotly's WebGL scatter takes every point through Streamlit's JSON and redraws all of
// them on every pan; here the page fetches the positions once (float32) and the class of each
// (uint8), and each frame bins only what is in view into a raster: where at most `pointsBelow`
// codes are in view it draws each one as a dot instead. Panning and zooming never wait for the
// server; a click sends the index of the nearest code (within a few pixels) to Python, which shows
// its image.

const HTML = `
  <div class="vae-big-map">
    <canvas class="vae-big-map-canvas"></canvas>
    <div class="vae-big-map-caption" data-role="caption"></div>
  </div>`;

const GRID = 256; // cells per side of the index over the map's bounds

/**
 * The codes sorted into a GRID x GRID index over the map's bounds, in a random order within each
 * cell: a frame then reads only the cells in view, and where too many codes are in view, the first
 * share of each cell (a uniform random sample of them).
 * @param {Float32Array} xy (n*2,) map positions
 * @param {Uint8Array} cls (n,) class of each code
 * @param {number[]} bounds [x0, y0, x1, y1]
 * @returns {object} {xy, cls, start (GRID*GRID+1 offsets), bounds}
 */
export function buildIndex(xy, cls, bounds) {
  const n = cls.length;
  const [x0, y0, x1, y1] = bounds;
  const fx = GRID / (x1 - x0);
  const fy = GRID / (y1 - y0);
  const cellOf = new Uint32Array(n);
  const start = new Uint32Array(GRID * GRID + 1);
  for (let i = 0; i < n; i++) {
    const gx = Math.min(GRID - 1, Math.max(0, Math.floor((xy[2 * i] - x0) * fx)));
    const gy = Math.min(GRID - 1, Math.max(0, Math.floor((xy[2 * i + 1] - y0) * fy)));
    cellOf[i] = gy * GRID + gx;
    start[cellOf[i] + 1]++;
  }
  for (let c = 0; c < GRID * GRID; c++) start[c + 1] += start[c];
  const order = new Uint32Array(n); // a seeded shuffle, so that each cell's first codes are a random sample
  for (let i = 0; i < n; i++) order[i] = i;
  let seed = 12345;
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const fill = start.slice(0, GRID * GRID);
  const sxy = new Float32Array(2 * n);
  const scls = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const p = fill[cellOf[i]]++;
    sxy[2 * p] = xy[2 * i];
    sxy[2 * p + 1] = xy[2 * i + 1];
    scls[p] = cls[i];
  }
  return { xy: sxy, cls: scls, start, bounds };
}

/**
 * Bin the codes in view into an RGBA raster (density: each cell the mean colour of its codes, more
 * opaque where there are more), or draw each as a dot when at most `pointsBelow` are in view.
 * Where more than `budget` codes are in view, each index cell contributes its first share (a
 * random sample), weighted up: the frame's cost stays bounded at any zoom.
 * @param {object} index from buildIndex
 * @param {number[][]} palette [r, g, b] per class
 * @param {{x0: number, y0: number, x1: number, y1: number}} view data rectangle shown
 * @param {number} w canvas width, pixels
 * @param {number} h canvas height, pixels
 * @param {number} pointsBelow draw dots when at most this many codes are in view
 * @param {Uint8ClampedArray} out (w*h*4,) RGBA pixels, written
 * @param {number} budget most codes read in one frame
 * @param {number} cell density cell size, pixels
 * @returns {{inView: number, read: number, mode: string}}
 */
export function rasterize(index, palette, view, w, h, pointsBelow, out, budget = 200000, cell = 2) {
  const { xy, cls, start, bounds } = index;
  const [bx0, by0, bx1, by1] = bounds;
  const gx0 = Math.max(0, Math.floor(((view.x0 - bx0) / (bx1 - bx0)) * GRID));
  const gx1 = Math.min(GRID - 1, Math.floor(((view.x1 - bx0) / (bx1 - bx0)) * GRID));
  const gy0 = Math.max(0, Math.floor(((view.y0 - by0) / (by1 - by0)) * GRID));
  const gy1 = Math.min(GRID - 1, Math.floor(((view.y1 - by0) / (by1 - by0)) * GRID));
  let candidates = 0;
  for (let gy = gy0; gy <= gy1; gy++) candidates += start[gy * GRID + gx1 + 1] - start[gy * GRID + gx0];
  const share = candidates > budget ? budget / candidates : 1;
  const pr = Uint8Array.from(palette, (c) => c[0]);
  const pg = Uint8Array.from(palette, (c) => c[1]);
  const pb = Uint8Array.from(palette, (c) => c[2]);
  const gw = Math.ceil(w / cell);
  const gh = Math.ceil(h / cell);
  const count = new Float32Array(gw * gh);
  const rgb = new Float32Array(gw * gh * 3);
  const cx = w / (view.x1 - view.x0) / cell;
  const cy = h / (view.y1 - view.y0) / cell;
  const ox = -view.x0 * cx;
  const oy = view.y1 * cy;
  const weight = 1 / share;
  let inView = 0;
  let read = 0;
  for (let gy = gy0; gy <= gy1; gy++) {
    for (let gx = gx0; gx <= gx1; gx++) {
      const c0 = start[gy * GRID + gx];
      const all = start[gy * GRID + gx + 1] - c0;
      const end = c0 + (share < 1 ? Math.ceil(all * share) : all);
      read += end - c0;
      for (let i = c0; i < end; i++) {
        const fx = xy[2 * i] * cx + ox;
        const fy = oy - xy[2 * i + 1] * cy;
        if (!(fx >= 0 && fy >= 0 && fx < gw && fy < gh)) continue;
        const g = (fy | 0) * gw + (fx | 0);
        const k = cls[i];
        inView++;
        count[g] += weight;
        rgb[3 * g] += weight * pr[k];
        rgb[3 * g + 1] += weight * pg[k];
        rgb[3 * g + 2] += weight * pb[k];
      }
    }
  }
  inView = Math.round(inView * weight);
  out.fill(255);
  if (share === 1 && inView <= pointsBelow) { // few enough: each drawn as a dot
    const r = inView <= pointsBelow / 8 ? 2 : 1; // larger dots when very few are in view
    const sx = w / (view.x1 - view.x0);
    const sy = h / (view.y1 - view.y0);
    for (let gy = gy0; gy <= gy1; gy++) {
      for (let i = start[gy * GRID + gx0]; i < start[gy * GRID + gx1 + 1]; i++) {
        const px = Math.floor((xy[2 * i] - view.x0) * sx);
        const py = Math.floor((view.y1 - xy[2 * i + 1]) * sy);
        if (px < 0 || py < 0 || px >= w || py >= h) continue;
        const k = cls[i];
        for (let yy = Math.max(0, py - r); yy <= Math.min(h - 1, py + r); yy++) {
          for (let xx = Math.max(0, px - r); xx <= Math.min(w - 1, px + r); xx++) {
            const o = 4 * (yy * w + xx);
            out[o] = pr[k];
            out[o + 1] = pg[k];
            out[o + 2] = pb[k];
          }
        }
      }
    }
    return { inView, read, mode: "points" };
  }
  let most = 1;
  for (let g = 0; g < count.length; g++) if (count[g] > most) most = count[g];
  const norm = 1 / Math.log1p(most);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const g = gy * gw + gx;
      const k = count[g];
      if (!k) continue;
      const a = (0.25 + 0.75 * Math.log1p(k) * norm) / k; // opacity: log of the codes in the cell
      const r = 255 - a * (255 * k - rgb[3 * g]); // the cell's mean colour over white
      const gg = 255 - a * (255 * k - rgb[3 * g + 1]);
      const b = 255 - a * (255 * k - rgb[3 * g + 2]);
      for (let dy = 0; dy < cell; dy++) {
        const yy = gy * cell + dy;
        if (yy >= h) break;
        let o = 4 * (yy * w + gx * cell);
        for (let dx = 0; dx < cell && gx * cell + dx < w; dx++, o += 4) {
          out[o] = r;
          out[o + 1] = gg;
          out[o + 2] = b;
        }
      }
    }
  }
  return { inView, read, mode: "density" };
}

/**
 * The code nearest to a data point, within `radius` (data units), or -1.
 * @param {Float32Array} xy (n*2,)
 * @param {number} x
 * @param {number} y
 * @param {number} radius
 * @returns {number}
 */
export function nearest(xy, x, y, radius) {
  let best = -1;
  let bestD = radius * radius;
  const n = xy.length / 2;
  for (let i = 0; i < n; i++) {
    const dx = xy[2 * i] - x;
    const dy = xy[2 * i + 1] - y;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

async function fetchArray(url, Kind) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Kind(await r.arrayBuffer());
}

function hexToRgb(hex) {
  const v = parseInt(hex.replace("#", ""), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Mount the map: fetch positions and classes (cached by URL across reruns), then draw on demand.
 * @param {{data: object, parentElement: HTMLElement, setTriggerValue: Function}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (parentElement.__vaeBigMapCleanup) parentElement.__vaeBigMapCleanup();
  let root = parentElement.querySelector(".vae-big-map");
  if (!root) {
    parentElement.insertAdjacentHTML("beforeend", HTML);
    root = parentElement.querySelector(".vae-big-map");
  }
  const canvas = root.querySelector("canvas");
  const caption = root.querySelector('[data-role="caption"]');
  const palette = data.colors.map(hexToRgb);
  const home = { x0: data.bounds[0], y0: data.bounds[1], x1: data.bounds[2], y1: data.bounds[3] };
  // the view survives reruns (a click reruns the page): kept on the element, reset for another map
  const state = parentElement.__vaeBigMap && parentElement.__vaeBigMap.tag === data.tag
    ? parentElement.__vaeBigMap : { tag: data.tag, view: null, xy: null, cls: null, frames: [] };
  parentElement.__vaeBigMap = state;
  window.__vaeBigMap = state; // read by the browser tests and the frame-time benchmark
  let raf = 0;
  let image = null;

  const size = () => {
    const w = Math.max(200, Math.floor(root.clientWidth || parentElement.clientWidth || 600));
    const h = data.height;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      image = null;
    }
    if (!state.view) state.view = fit(home, w, h);
    return [w, h];
  };
  const draw = () => {
    raf = 0;
    if (!state.xy) return;
    const t0 = performance.now();
    const [w, h] = size();
    const ctx = canvas.getContext("2d");
    if (!image) image = ctx.createImageData(w, h);
    const info = rasterize(state.index, palette, state.view, w, h, data.pointsBelow, image.data);
    ctx.putImageData(image, 0, 0);
    if (data.selected) {
      const [px, py] = toPixel(state.view, w, h, data.selected[0], data.selected[1]);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(px, py, 9, 0, 2 * Math.PI);
      ctx.stroke();
    }
    state.frames.push(performance.now() - t0);
    if (state.frames.length > 2000) state.frames.splice(0, 1000);
    state.mode = info.mode;
    caption.textContent = (info.mode === "points" ? data.text.points : data.text.density)
      .replace("{n}", info.inView.toLocaleString("en-US"));
  };
  const request = () => {
    if (!raf) raf = requestAnimationFrame(draw);
  };

  let drag = null;
  const onDown = (e) => {
    drag = { x: e.clientX, y: e.clientY, view: { ...state.view }, moved: false };
    canvas.setPointerCapture(e.pointerId);
  };
  const onMove = (e) => {
    if (!drag) return;
    const [w, h] = size();
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    const ux = (drag.view.x1 - drag.view.x0) / w;
    const uy = (drag.view.y1 - drag.view.y0) / h;
    state.view = { x0: drag.view.x0 - dx * ux, x1: drag.view.x1 - dx * ux,
      y0: drag.view.y0 + dy * uy, y1: drag.view.y1 + dy * uy };
    request();
  };
  const onUp = (e) => {
    if (!drag) return;
    const click = !drag.moved;
    drag = null;
    if (!click || !state.xy) return;
    const [w, h] = size();
    const r = canvas.getBoundingClientRect();
    const [x, y] = toData(state.view, w, h, e.clientX - r.left, e.clientY - r.top);
    const i = nearest(state.xy, x, y, 8 * (state.view.x1 - state.view.x0) / w);
    if (i >= 0) setTriggerValue("clicked", i);
  };
  const onWheel = (e) => {
    e.preventDefault();
    const [w, h] = size();
    const r = canvas.getBoundingClientRect();
    const [x, y] = toData(state.view, w, h, e.clientX - r.left, e.clientY - r.top);
    const f = Math.exp(Math.max(-0.5, Math.min(0.5, e.deltaY * 0.0015)));
    const v = state.view;
    state.view = { x0: x + (v.x0 - x) * f, x1: x + (v.x1 - x) * f, y0: y + (v.y0 - y) * f, y1: y + (v.y1 - y) * f };
    request();
  };
  const onDouble = () => {
    const [w, h] = size();
    state.view = fit(home, w, h);
    request();
  };
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("dblclick", onDouble);
  const resize = new ResizeObserver(() => request());
  resize.observe(root);

  if (state.xy) {
    request();
  } else {
    caption.textContent = data.text.loading;
    Promise.all([fetchArray(data.coords, Float32Array), fetchArray(data.classes, Uint8Array)]).then(([xy, cls]) => {
      [state.xy, state.cls] = [xy, cls];
      state.index = buildIndex(xy, cls, data.bounds);
      request();
    }, (err) => {
      caption.textContent = data.text.failed.replace("{reason}", String(err && err.message || err));
    });
  }
  const cleanup = () => {
    if (raf) cancelAnimationFrame(raf);
    resize.disconnect();
    canvas.removeEventListener("pointerdown", onDown);
    canvas.removeEventListener("pointermove", onMove);
    canvas.removeEventListener("pointerup", onUp);
    canvas.removeEventListener("wheel", onWheel);
    canvas.removeEventListener("dblclick", onDouble);
  };
  parentElement.__vaeBigMapCleanup = cleanup;
  return () => {
    if (parentElement.__vaeBigMapCleanup === cleanup) {
      parentElement.__vaeBigMapCleanup = null;
      cleanup();
    }
  };
}

// A view of the data rectangle with equal units on both axes, centred, filling w x h pixels.
function fit(b, w, h) {
  const per = Math.max((b.x1 - b.x0) / w, (b.y1 - b.y0) / h);
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  return { x0: cx - (per * w) / 2, x1: cx + (per * w) / 2, y0: cy - (per * h) / 2, y1: cy + (per * h) / 2 };
}

function toData(v, w, h, px, py) {
  return [v.x0 + (px / w) * (v.x1 - v.x0), v.y1 - (py / h) * (v.y1 - v.y0)];
}

function toPixel(v, w, h, x, y) {
  return [((x - v.x0) / (v.x1 - v.x0)) * w, ((v.y1 - y) / (v.y1 - v.y0)) * h];
}
