// The linked charts' arithmetic in the page: the twin of vae.explore.crossfilter (a test holds each function
// against it on the same values). A term keeps a numeric column's values in a closed range or a categorical
// column's codes among a set; the terms are ANDed; each chart counts all images and those that pass the *other*
// terms, on edges the server computed once (numpy's equal bins, placed here exactly as numpy places them).

export const DIGITS = 4; // significant digits a brush's ends keep (vae.explore.crossfilter.DIGITS)

/**
 * One end of a brush rounded to `digits` significant digits, `how` = Math.floor or Math.ceil (crossfilter._round).
 * @param {number} x
 * @param {number} digits
 * @param {(v: number) => number} how
 * @returns {number}
 */
export function roundEnd(x, digits, how) {
  if (!Number.isFinite(x) || x === 0) return x;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Number((how(x * scale) / scale).toPrecision(digits));
}

/**
 * A brush's range, its ends rounded outwards (crossfilter.rounded): what the link keeps and the server tests.
 * @param {number} lo
 * @param {number} hi
 * @returns {{lo: number, hi: number}}
 */
export function rounded(lo, hi, digits = DIGITS) {
  return { lo: roundEnd(lo, digits, Math.floor), hi: roundEnd(hi, digits, Math.ceil) };
}

/**
 * Which images a term keeps (Range.test / Among.test): 1 where kept.
 * @param {{lo?: number, hi?: number, codes?: number[]}} term a range {lo, hi} (null ends: open) or codes
 * @param {Float64Array} values the column, by image
 * @returns {Uint8Array}
 */
export function termMask(term, values) {
  const n = values.length;
  const out = new Uint8Array(n);
  if (term.codes) {
    const kept = new Set(term.codes);
    for (let i = 0; i < n; i++) out[i] = kept.has(values[i]) ? 1 : 0;
    return out;
  }
  const lo = term.lo ?? -Infinity;
  const hi = term.hi ?? Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    out[i] = v >= lo && v <= hi ? 1 : 0; // NaN never passes
  }
  return out;
}

/**
 * Each term's mask, computed once; what passes all terms but one column's is then a few ANDs (crossfilter.Masks).
 * @param {Object<string, Float64Array>} columns name -> values
 * @param {Array<[string, object]>} terms [name, term] in the order they were set
 * @param {number} n images
 */
export class Masks {
  constructor(columns, terms, n) {
    this.n = n;
    this.terms = new Map();
    for (const [name, term] of terms) if (columns[name]) this.terms.set(name, termMask(term, columns[name]));
  }

  /**
   * The images that pass every term but `skip`'s (null: every term).
   * @param {string|null} skip
   * @returns {Uint8Array}
   */
  without(skip = null) {
    const keep = new Uint8Array(this.n).fill(1);
    for (const [name, m] of this.terms) {
      if (name === skip) continue;
      for (let i = 0; i < this.n; i++) keep[i] &= m[i];
    }
    return keep;
  }
}

/**
 * Counts of the finite `values` in the bins between `edges` (numpy.histogram's equal bins: the last bin holds its
 * right edge), of all images and of those `keep` marks (crossfilter.histogram, on the edges it returned).
 * @param {Float64Array} values
 * @param {Uint8Array|null} keep
 * @param {number[]} edges B + 1 edges, equally spaced (np.linspace)
 * @returns {{all: Int32Array, kept: Int32Array}}
 */
export function histogram(values, keep, edges) {
  const bins = edges.length - 1;
  const first = edges[0];
  const last = edges[bins];
  const span = last - first;
  const all = new Int32Array(bins);
  const kept = new Int32Array(bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= first && v <= last)) continue; // NaN, ±inf and anything outside the edges
    let k = Math.trunc(((v - first) / span) * bins);
    if (k === bins) k -= 1;
    if (v < edges[k]) k -= 1; // within an ulp of an edge: numpy's corrections
    else if (v >= edges[k + 1] && k !== bins - 1) k += 1;
    all[k] += 1;
    if (!keep || keep[i]) kept[k] += 1;
  }
  return { all, kept };
}

/**
 * Counts of each category among all images and those `keep` marks (crossfilter.category_counts).
 * @param {Float64Array} codes
 * @param {number} n categories
 * @param {Uint8Array|null} keep
 * @returns {{all: Int32Array, kept: Int32Array}}
 */
export function categoryCounts(codes, n, keep) {
  const all = new Int32Array(n);
  const kept = new Int32Array(n);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (!(c >= 0 && c < n) || !Number.isInteger(c)) continue;
    all[c] += 1;
    if (!keep || keep[i]) kept[c] += 1;
  }
  return { all, kept };
}

/**
 * Round "nice" tick values across [lo, hi], about `count` of them (1, 2 or 5 times a power of ten apart).
 * @returns {number[]}
 */
export function ticks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || 10 * power;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/**
 * A tick's or a range end's text: 3 significant digits, without trailing zeros; thousands as k, M.
 * @param {number} v
 * @returns {string}
 */
export function short(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}
