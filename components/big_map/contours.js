// Density contours on the canvas map (issue #34): the lines vae.explore.contours traced once on the server
// (the levels the Plotly map draws), as polylines in map coordinates. They become one Path2D in map units
// when they arrive; each view gets that path through the view's matrix (addPath, once per view: a pan or a
// zoom is one more matrix, no vertex is touched in JavaScript), stroked in pixels so that the lines stay
// 1.5 px wide at every zoom. The matrix is toPixel's (big_map.js); its twin is vae.explore.contours.to_pixels.

const STYLE = { colour: "rgba(20, 20, 20, 0.85)", width: 1.5 }; // as the Plotly map's contour trace

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
    for (const line of spec.lines) {
      for (let k = 1; k + 1 < line.length; k += 2) {
        if (k === 1) this.path.moveTo(line[k], line[k + 1]);
        else this.path.lineTo(line[k], line[k + 1]);
      }
      this.vertices += (line.length - 1) / 2;
    }
    this.lines = spec.lines.length;
    this.key = null; // the view the cached pixel path is for
    this.inView = null;
    this.built = 0; // pixel paths built so far (read by the browser tests)
  }

  /**
   * Stroke the lines for this view (the pixel path cached until the view or the canvas changes).
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
}
