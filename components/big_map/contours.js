// Density contours on the canvas map (issue #34): the lines vae.explore.contours traced once on the server
// (the levels the Plotly map draws), as polylines in map coordinates. They become one Path2D in map units
// when they arrive; each view gets that path through the view's matrix (addPath, once per view: a pan or a
// zoom is one more matrix, no vertex is touched in JavaScript), stroked in pixels so that the lines stay
// 1.5 px wide at every zoom. The matrix is toPixel's (big_map.js); its twin is vae.explore.contours.to_pixels.

import { placeLabels } from "./labels.js";

const STYLE = { colour: "rgba(20, 20, 20, 0.85)", width: 1.5 }; // as the Plotly map's contour trace
const LABEL = { px: 10, colour: "#555", least: 12 }; // each line's share at its top (lines of 12 vertices or more)

/**
 * The view's map → pixel matrix: x' = a·x + e, y' = d·y + f (toPixel in big_map.js).
 * @param {{x0: number, x1: number, y0: number, y1: number}} v the view, map coordinates
 * @param {number} w canvas width (px)
 * @param {number} h canvas height (px)
 * @returns {DOMMatrix}
 */
export function viewMatrix(v, w, h) {
  const a = w / (v.x1 - v.x0);
  const d = -h / (v.y1 - v.y0);
  return new DOMMatrix([a, 0, 0, d, -v.x0 * a, -v.y1 * d]);
}

/**
 * The contours of one map, drawn under its points.
 */
export class Contours {
  /**
   * @param {{shares: number[], lines: number[][]}} spec each line: [level, x0, y0, x1, y1, ...]
   */
  constructor(spec) {
    this.path = new Path2D(); // map units
    this.vertices = 0;
    this.anchors = []; // [x, y, text]: a line's share written at its topmost vertex, as Plotly labels its lines
    for (const line of spec.lines) {
      let top = 1;
      for (let k = 1; k + 1 < line.length; k += 2) {
        if (k === 1) this.path.moveTo(line[k], line[k + 1]);
        else this.path.lineTo(line[k], line[k + 1]);
        if (line[k + 1] > line[top + 1]) top = k;
      }
      const n = (line.length - 1) / 2;
      this.vertices += n;
      if (n >= LABEL.least) this.anchors.push([line[top], line[top + 1], `${Math.round(100 * spec.shares[line[0]])}%`]);
    }
    this.lines = spec.lines.length;
    this.key = null; // the view the cached pixel path is for
    this.inView = null;
    this.built = 0; // pixel paths built so far (read by the browser tests)
  }

  /**
   * Stroke the lines for this view (the pixel path cached until the view or the canvas changes), under what
   * the canvas holds when its composite operation is "destination-over".
   * @param {CanvasRenderingContext2D} ctx
   * @param {{x0: number, x1: number, y0: number, y1: number}} v
   * @param {number} w
   * @param {number} h
   * @param {number} scale 1, or larger for a projector (presenter mode)
   */
  draw(ctx, v, w, h, scale = 1) {
    const key = `${v.x0},${v.x1},${v.y0},${v.y1},${w},${h}`;
    if (key !== this.key) {
      this.inView = new Path2D();
      this.inView.addPath(this.path, viewMatrix(v, w, h));
      this.key = key;
      this.built += 1;
    }
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.strokeStyle = STYLE.colour;
    ctx.lineWidth = STYLE.width * scale;
    ctx.lineJoin = "round";
    ctx.stroke(this.inView);
    ctx.restore();
  }

  /**
   * Write each line's share at its topmost vertex, over the codes (readable where they are dense), those
   * that fit apart (placeLabels, labels.js: the inner lines' tops often crowd the outer ones').
   * @param {CanvasRenderingContext2D} ctx
   * @param {{x0: number, x1: number, y0: number, y1: number}} v
   * @param {number} w
   * @param {number} h
   * @param {number} scale
   * @returns {Array<[number, number, string]>} the labels written (pixels; read by the browser tests)
   */
  drawLabels(ctx, v, w, h, scale = 1) {
    const m = viewMatrix(v, w, h);
    const px = Math.round(LABEL.px * scale);
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.font = `${px}px "Source Sans Pro", sans-serif`;
    const at = this.anchors.map(([x, y, text]) => [m.a * x + m.e, m.d * y + m.f, text]);
    const boxes = at.map(([x, y, text]) => [x, y, ctx.measureText(text).width / 2 + 2, px / 2 + 1]);
    const shown = placeLabels(boxes, w, h).map((k) => at[k]);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    ctx.lineWidth = 3 * scale;
    ctx.fillStyle = LABEL.colour;
    for (const [x, y, text] of shown) {
      ctx.strokeText(text, x, y); // a white halo
      ctx.fillText(text, x, y);
    }
    ctx.restore();
    return shown;
  }
}
