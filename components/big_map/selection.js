// Box and lasso selection on the canvas map: which codes lie inside the shape the user drew. The
// server finds the same points from the same shape (vae/explore/map_view.py inside_polygon, its twin: the
// same even-odd test in the same float64 arithmetic), so the page can mark them at once and the
// panel beside the map lists the same ones.

/**
 * Which points lie inside `polygon`, closed from its last vertex to its first (even-odd rule).
 * @param {Float32Array} xy (n*2,) map positions
 * @param {number[][]} polygon [[x, y], ...], at least 3 vertices
 * @returns {Uint8Array} (n,) 1 inside, 0 outside
 */
export function insidePolygon(xy, polygon) {
  const n = xy.length / 2;
  const inside = new Uint8Array(n);
  const m = polygon.length;
  if (m < 3) return inside;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [, py] of polygon) {
    minY = Math.min(minY, py);
    maxY = Math.max(maxY, py);
  }
  for (let k = 0; k < n; k++) {
    const x = xy[2 * k];
    const y = xy[2 * k + 1];
    if (y < minY || y >= maxY) continue; // no edge crosses this row: exactly what the full test finds
    let c = 0;
    for (let i = 0, j = m - 1; i < m; j = i++) {
      const [xi, yi] = polygon[i];
      const [xj, yj] = polygon[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c ^= 1;
    }
    inside[k] = c;
  }
  return inside;
}

/**
 * A box's corners as a polygon, in the order vae/explore/map_view.py box_polygon gives them.
 * @returns {number[][]}
 */
export function boxPolygon(x0, y0, x1, y1) {
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}
