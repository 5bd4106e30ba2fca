// The page's twin of vae.explore.projection.LatentMap (code <-> map position) and of vae.explore.minimap.MiniMap
// (the small raster map with the marker and trail). A browser test holds both directions against
// the Python ones on the same codes and spots.

/**
 * Inverse-distance-weighted mean of `values` over the k nearest `points` to `q` (exact search,
 * float64 distances from float32 points), as vae.explore.knn.ExactKnn.weighted_mean: a query within 1e-9
 * of a point gets that point's value.
 * @param {Float32Array} points (n*dim,)
 * @param {number} dim
 * @param {ArrayLike<number>} q (dim,)
 * @param {number} k
 * @param {number} power
 * @param {Float32Array} values (n*nf,)
 * @param {number} nf
 * @returns {Float64Array} (nf,)
 */
export function knnIdw(points, dim, q, k, power, values, nf) {
  const n = points.length / dim;
  k = Math.min(k, n);
  const bestD = new Float64Array(k).fill(Infinity);
  const bestI = new Int32Array(k).fill(-1);
  const qq = Float64Array.from(q, (v) => Math.fround(v)); // the query as float32, like the Python side
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      const t = points[o + j] - qq[j];
      d2 += t * t;
      if (d2 >= bestD[k - 1]) break;
    }
    if (d2 >= bestD[k - 1]) continue;
    let p = k - 1; // insertion into the sorted k best
    while (p > 0 && bestD[p - 1] > d2) {
      bestD[p] = bestD[p - 1];
      bestI[p] = bestI[p - 1];
      p--;
    }
    bestD[p] = d2;
    bestI[p] = i;
  }
  const out = new Float64Array(nf);
  if (bestD[0] < 1e-18) {
    for (let f = 0; f < nf; f++) out[f] = values[bestI[0] * nf + f];
    return out;
  }
  let total = 0;
  for (let j = 0; j < k; j++) {
    const w = 1 / Math.max(Math.sqrt(bestD[j]), 1e-12) ** power;
    total += w;
    for (let f = 0; f < nf; f++) out[f] += w * values[bestI[j] * nf + f];
  }
  for (let f = 0; f < nf; f++) out[f] /= total;
  return out;
}

/** Code <-> map position, as the server's LatentMap of the same map. */
export class PageLatentMap {
  /**
   * @param {object} spec {kind: "knn"|"linear"|"identity", k, power, d, mean, components}
   * @param {Float32Array|null} codes (n*d,) for "knn"
   * @param {Float32Array|null} coords (n*2,) for "knn"
   */
  constructor(spec, codes = null, coords = null) {
    this.spec = spec;
    this.codes = codes;
    this.coords = coords;
  }

  /** @param {ArrayLike<number>} z (D,) @returns {number[]} [x, y] */
  toMap(z) {
    const s = this.spec;
    if (s.kind === "identity") return [z[0], z[1]];
    if (s.kind === "linear") {
      return s.components.map((row) => row.reduce((acc, c, j) => acc + c * (z[j] - s.mean[j]), 0));
    }
    return Array.from(knnIdw(this.codes, s.d, z, s.k, s.power, this.coords, 2));
  }

  /** @param {number[]} xy [x, y] @returns {number[]} the code (D,) */
  toLatent(xy) {
    const s = this.spec;
    if (s.kind === "identity") return [xy[0], xy[1]];
    if (s.kind === "linear") return s.mean.map((m, j) => m + xy[0] * s.components[0][j] + xy[1] * s.components[1][j]);
    return Array.from(knnIdw(this.coords, 2, xy, s.k, s.power, this.codes, s.d));
  }
}

/**
 * The small map with its marker, as vae.explore.minimap.MiniMap.render draws it.
 * @param {HTMLCanvasElement} canvas
 * @param {HTMLImageElement} background the server's picture of the data points
 * @param {{size: number, center: number[], scale: number}} geo MiniMap.geometry()
 * @param {number[]|null} current [x, y] (null: no marker)
 * @param {number[][]} trail
 * @param {number[]|null} start
 */
export function drawMiniMap(canvas, background, geo, current, trail, start) {
  const { size } = geo;
  if (canvas.width !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  const half = (size - 1) / 2;
  const px = (p) => [half + (p[0] - geo.center[0]) * geo.scale, half - (p[1] - geo.center[1]) * geo.scale];
  const u = size / 260;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(background, 0, 0);
  ctx.fillStyle = "#000";
  ctx.strokeStyle = "#000";
  if (trail && trail.length > 1) {
    ctx.lineWidth = Math.max(1, Math.round(1.5 * u));
    ctx.lineJoin = "round";
    ctx.beginPath();
    trail.forEach((p, i) => (i ? ctx.lineTo(...px(p)) : ctx.moveTo(...px(p))));
    ctx.stroke();
    for (const p of trail.slice(0, -1)) {
      ctx.beginPath();
      ctx.arc(...px(p), 1.5 * u, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  if (start) {
    ctx.lineWidth = Math.max(1, Math.round(2 * u));
    ctx.beginPath();
    ctx.arc(...px(start), 6 * u, 0, 2 * Math.PI);
    ctx.stroke();
  }
  if (!current) return;
  const [x, y] = px(current);
  ctx.beginPath();
  for (let i = 0; i < 10; i++) { // a five-pointed star, pointing up
    const a = Math.PI / 2 + (i * Math.PI) / 5;
    const r = (i % 2 ? 3.8 : 9) * u;
    const X = x + r * Math.cos(a);
    const Y = y - r * Math.sin(a);
    i ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y);
  }
  ctx.closePath();
  ctx.fillStyle = "rgb(214, 39, 40)";
  ctx.fill();
  ctx.lineWidth = Math.max(1, Math.round(u));
  ctx.stroke();
}

/**
 * Load what a map spec needs (the codes and positions for "knn") and build its PageLatentMap.
 * @param {object} spec
 * @param {(url: string, kind: string) => Promise<Float32Array>} load  kind: "f32" or "f16" (read as float32)
 * @returns {Promise<PageLatentMap>}
 */
export async function loadLatentMap(spec, load) {
  if (spec.kind !== "knn") return new PageLatentMap(spec);
  // the codes as float16: half the bytes on the wire (components/live_decoder: map_spec)
  const [codes, coords] = await Promise.all([load(spec.codes, spec.codes_dtype || "f32"), load(spec.coords, "f32")]);
  return new PageLatentMap(spec, codes, coords);
}
