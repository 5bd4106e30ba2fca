// The map's frames, computed without the DOM: the codes sorted into a grid index over the map, and
// each frame binned from the cells in view into an RGBA raster (a density), or each code drawn as a
// dot where few enough are in view. Empty pixels stay transparent (the canvas's white, or a
// picture behind the codes, shows through).

const GRID = 256; // cells per side of the index over the map's bounds

/**
 * The codes sorted into a GRID x GRID index over the map's bounds, in a random order within each
 * cell: a frame then reads only the cells in view, and where too many codes are in view, the first
 * share of each cell (a uniform random sample of them).
 * @param {Float32Array} xy (n*2,) map positions
 * @param {Uint8Array} cls (n,) colour of each code (an index into the palette)
 * @param {number[]} bounds [x0, y0, x1, y1]
 * @returns {object} {xy, cls, perm (sorted position -> code), start (GRID*GRID+1 offsets), bounds}
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
  const perm = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const p = fill[cellOf[i]]++;
    sxy[2 * p] = xy[2 * i];
    sxy[2 * p + 1] = xy[2 * i + 1];
    perm[p] = i;
  }
  return { xy: sxy, cls: sorted(cls, perm), perm, start, bounds };
}

/**
 * A per-code array in the index's order (colours, a selection): out[p] = values[perm[p]].
 * @param {Uint8Array} values (n,)
 * @param {Uint32Array} perm from buildIndex
 * @returns {Uint8Array}
 */
export function sorted(values, perm) {
  const out = new Uint8Array(perm.length);
  for (let p = 0; p < perm.length; p++) out[p] = values[perm[p]];
  return out;
}

/**
 * Bin the codes in view into an RGBA raster (density: each cell the mean colour of its codes, more
 * opaque where there are more), or draw each as a dot when at most `pointsBelow` are in view.
 * Where more than `budget` codes are in view, each index cell contributes its first share (a
 * random sample), weighted up: the frame's cost stays bounded at any zoom.
 * @param {object} index from buildIndex
 * @param {number[][]} palette [r, g, b] per colour
 * @param {{x0: number, y0: number, x1: number, y1: number}} view data rectangle shown
 * @param {number} w canvas width, pixels
 * @param {number} h canvas height, pixels
 * @param {number} pointsBelow draw dots when at most this many codes are in view
 * @param {Uint8ClampedArray} out (w*h*4,) RGBA pixels, written
 * @param {object} [opts] budget (most codes read in one frame), cell (density cell, pixels), radius
 *   (dot radius, pixels; default: 2 where few are in view, else 1), hidden (Uint8Array a colour:
 *   1 = not drawn), mask (Uint8Array in index order, 1 = selected: the others drawn faded)
 * @returns {{inView: number, read: number, mode: string}}
 */
export function rasterize(index, palette, view, w, h, pointsBelow, out, opts = {}) {
  const { budget = 200000, cell = 2, radius = 0, hidden = null, mask = null } = opts;
  const { xy, cls, start, bounds } = index;
  const [bx0, by0, bx1, by1] = bounds;
  const gx0 = Math.max(0, Math.floor(((view.x0 - bx0) / (bx1 - bx0)) * GRID));
  const gx1 = Math.min(GRID - 1, Math.floor(((view.x1 - bx0) / (bx1 - bx0)) * GRID));
  const gy0 = Math.max(0, Math.floor(((view.y0 - by0) / (by1 - by0)) * GRID));
  const gy1 = Math.min(GRID - 1, Math.floor(((view.y1 - by0) / (by1 - by0)) * GRID));
  let candidates = 0;
  for (let gy = gy0; gy <= gy1; gy++) candidates += start[gy * GRID + gx1 + 1] - start[gy * GRID + gx0];
  const share = candidates > budget ? budget / candidates : 1;
  // colours 0..m-1 as they are, m..2m-1 faded towards white (codes outside a selection)
  const m = palette.length;
  const fade = (c) => Math.round(255 - 0.3 * (255 - c));
  const pr = Uint8Array.from([...palette.map((c) => c[0]), ...palette.map((c) => fade(c[0]))]);
  const pg = Uint8Array.from([...palette.map((c) => c[1]), ...palette.map((c) => fade(c[1]))]);
  const pb = Uint8Array.from([...palette.map((c) => c[2]), ...palette.map((c) => fade(c[2]))]);
  const off = hidden || new Uint8Array(m);
  const gw = Math.ceil(w / cell);
  const gh = Math.ceil(h / cell);
  const count = new Float32Array(gw * gh);
  const rgb = new Float32Array(gw * gh * 3);
  const cx = w / (view.x1 - view.x0) / cell;
  const cy = h / (view.y1 - view.y0) / cell;
  const ox = -view.x0 * cx;
  const oy = view.y1 * cy;
  let inView = 0;
  let read = 0;
  for (let gy = gy0; gy <= gy1; gy++) {
    for (let gx = gx0; gx <= gx1; gx++) {
      const c0 = start[gy * GRID + gx];
      const all = start[gy * GRID + gx + 1] - c0;
      const taken = share < 1 ? Math.ceil(all * share) : all;
      const end = c0 + taken;
      // each code read stands for all / taken of its cell's codes (a cell read whole: for itself),
      // so that the counts add up to the codes there are, however each cell's share was rounded
      const weight = taken ? all / taken : 0;
      read += taken;
      for (let i = c0; i < end; i++) {
        const k = cls[i];
        if (off[k]) continue;
        const fx = xy[2 * i] * cx + ox;
        const fy = oy - xy[2 * i + 1] * cy;
        if (!(fx >= 0 && fy >= 0 && fx < gw && fy < gh)) continue;
        const g = (fy | 0) * gw + (fx | 0);
        const kk = mask && !mask[i] ? k + m : k;
        inView += weight;
        count[g] += weight;
        rgb[3 * g] += weight * pr[kk];
        rgb[3 * g + 1] += weight * pg[kk];
        rgb[3 * g + 2] += weight * pb[kk];
      }
    }
  }
  inView = Math.round(inView);
  out.fill(0);
  if (share === 1 && inView <= pointsBelow) { // few enough: each drawn as a dot
    const r = radius || (inView <= pointsBelow / 8 ? 2 : 1); // larger dots when very few are in view
    const round = r * r + r; // r = 1: the 3 x 3 square; r = 2: its corners cut
    const sx = w / (view.x1 - view.x0);
    const sy = h / (view.y1 - view.y0);
    const passes = mask ? [0, 1] : [1]; // with a selection: the faded codes first, the selected on top
    for (const pass of passes) {
      for (let gy = gy0; gy <= gy1; gy++) {
        for (let i = start[gy * GRID + gx0]; i < start[gy * GRID + gx1 + 1]; i++) {
          const k = cls[i];
          if (off[k] || (mask && mask[i] !== pass)) continue;
          const px = Math.floor((xy[2 * i] - view.x0) * sx);
          const py = Math.floor((view.y1 - xy[2 * i + 1]) * sy);
          if (px < 0 || py < 0 || px >= w || py >= h) continue;
          const kk = mask && !pass ? k + m : k;
          for (let yy = Math.max(0, py - r); yy <= Math.min(h - 1, py + r); yy++) {
            for (let xx = Math.max(0, px - r); xx <= Math.min(w - 1, px + r); xx++) {
              if ((xx - px) * (xx - px) + (yy - py) * (yy - py) > round) continue; // a disc, not a square
              const o = 4 * (yy * w + xx);
              out[o] = pr[kk];
              out[o + 1] = pg[kk];
              out[o + 2] = pb[kk];
              out[o + 3] = 255;
            }
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
          out[o + 3] = 255;
        }
      }
    }
  }
  return { inView, read, mode: "density" };
}

/**
 * The code nearest to a data point, within `radius` (data units), or -1; codes whose colour is
 * hidden are skipped.
 * @param {Float32Array} xy (n*2,)
 * @param {number} x
 * @param {number} y
 * @param {number} radius
 * @param {Uint8Array} [cls] (n,) colour of each code, with `hidden`
 * @param {Uint8Array} [hidden] 1 for each colour not drawn
 * @returns {number}
 */
export function nearest(xy, x, y, radius, cls = null, hidden = null) {
  let best = -1;
  let bestD = radius * radius;
  const n = xy.length / 2;
  for (let i = 0; i < n; i++) {
    const dx = xy[2 * i] - x;
    const dy = xy[2 * i + 1] - y;
    const d = dx * dx + dy * dy;
    if (d <= bestD && !(hidden && hidden[cls[i]])) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
