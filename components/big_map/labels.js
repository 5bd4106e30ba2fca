// Cluster labels over the canvas map (issue #34), at a level of detail that follows the zoom: the
// labels come largest cluster first; each frame draws those in view whose box does not overlap a
// box already drawn. Zoomed out, only the largest fit; zoomed in, the clusters spread apart and
// smaller ones' labels appear. The twin of placeLabels is vae.explore.clusters.place_labels (the
// browser test holds them against each other on the boxes this module measured).

const FONT_PX = 13; // the labels' text
const PAD_PX = 4; // inside a label's box, around its text

/**
 * Which labels to draw: largest first, in view, not overlapping one already placed.
 * @param {Array<[number, number, number, number]>} boxes each label's centre (px) and half-size (px)
 * @param {number} w the canvas's width (px)
 * @param {number} h its height (px)
 * @returns {number[]} the indices of the labels drawn, in order
 */
export function placeLabels(boxes, w, h) {
  const placed = [];
  const shown = [];
  boxes.forEach(([cx, cy, hw, hh], i) => {
    if (cx - hw < 0 || cx + hw > w || cy - hh < 0 || cy + hh > h) return; // not wholly in view
    const hit = placed.some(([x, y, a, b]) => Math.abs(cx - x) < hw + a && Math.abs(cy - y) < hh + b);
    if (hit) return;
    placed.push([cx, cy, hw, hh]);
    shown.push(i);
  });
  return shown;
}

/**
 * Draw the labels ({x, y, text, colour}, map coordinates, largest cluster first) that fit.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number} w canvas width (px)
 * @param {number} h canvas height (px)
 * @param {Array<{x: number, y: number, text: string, colour: string}>} labels
 * @param {(x: number, y: number) => [number, number]} toPx map coordinates to canvas pixels
 * @param {number} scale 1, or larger for a projector (presenter mode)
 * @returns {{boxes: number[][], shown: number[], w: number, h: number}} what was measured and drawn (read by
 *   the browser tests)
 */
export function drawLabels(ctx, w, h, labels, toPx, scale = 1) {
  const font = Math.round(FONT_PX * scale);
  ctx.font = `bold ${font}px "Source Sans Pro", sans-serif`;
  const boxes = labels.map((l) => {
    const [px, py] = toPx(l.x, l.y);
    return [px, py, ctx.measureText(l.text).width / 2 + PAD_PX, font / 2 + PAD_PX];
  });
  const shown = placeLabels(boxes, w, h);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const i of shown) {
    const [cx, cy, hw, hh] = boxes[i];
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(cx - hw, cy - hh, 2 * hw, 2 * hh);
    ctx.strokeStyle = labels[i].colour;
    ctx.lineWidth = 2;
    ctx.strokeRect(cx - hw, cy - hh, 2 * hw, 2 * hh);
    ctx.fillStyle = "#111";
    ctx.fillText(labels[i].text, cx, cy);
  }
  return { boxes, shown, w, h };
}
