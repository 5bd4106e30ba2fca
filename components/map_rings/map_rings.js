// Rings over the Plotly map, at map coordinates: the chosen image's nearest neighbours. They are page
// elements over the chart, not part of its figure: a changed figure would be a new chart to Streamlit,
// which drops the user's selection, toolbar tool and zoom. They follow zooms and pans (plotly_relayout)
// and a chart that is drawn anew (found again by its key, as components/live_decoder/hover.js finds it).

/**
 * Place one ring per point of `points` inside the graph div `gd` (hidden where outside the plot).
 * @param {HTMLElement} gd a plotly.js graph div
 * @param {number[][]} points map coordinates
 * @returns {number} how many rings are in view
 */
export function placeRings(gd, points) {
  const fl = gd._fullLayout;
  const box = gd.querySelector(".svg-container") || gd; // positioned: the plot's own origin
  let rings = [...box.querySelectorAll(":scope > .vae-map-neighbour")];
  while (rings.length < points.length) {
    const r = document.createElement("div");
    r.className = "vae-map-neighbour";
    box.appendChild(r);
    rings.push(r);
  }
  rings.slice(points.length).forEach((r) => r.remove());
  rings = rings.slice(0, points.length);
  let shown = 0;
  points.forEach(([x, y], k) => {
    const px = fl && fl.xaxis ? fl.xaxis.l2p(x) : -1;
    const py = fl && fl.yaxis ? fl.yaxis.l2p(y) : -1;
    const inside = px >= 0 && py >= 0 && px <= fl.xaxis._length && py <= fl.yaxis._length;
    rings[k].hidden = !inside;
    if (!inside) return;
    shown += 1;
    rings[k].style.left = `${fl.xaxis._offset + px}px`;
    rings[k].style.top = `${fl.yaxis._offset + py}px`;
  });
  gd.__vaeRings = { n: points.length, shown }; // read by the browser tests
  return shown;
}

export default function (component) {
  const { data, parentElement } = component;
  if (parentElement.__vaeRingsCleanup) parentElement.__vaeRingsCleanup();
  const points = data.points || [];
  let gd = null;
  const redraw = () => gd && gd._fullLayout && placeRings(gd, points);
  const listen = (on) => {
    if (!gd || typeof gd.on !== "function") return;
    const f = on ? gd.on.bind(gd) : gd.removeListener.bind(gd);
    f("plotly_relayout", redraw);
    f("plotly_afterplot", redraw);
  };
  const attach = () => {
    const div = document.querySelector(`.st-key-${CSS.escape(data.chart)} .js-plotly-plot`);
    if (div !== gd) {
      listen(false);
      gd = div;
      listen(true);
    }
    redraw();
  };
  attach();
  const timer = setInterval(attach, 250); // the chart may be drawn, or drawn anew, after this mount
  const cleanup = () => {
    clearInterval(timer);
    listen(false);
    if (gd && gd._fullLayout) placeRings(gd, []);
  };
  parentElement.__vaeRingsCleanup = cleanup;
  return () => {
    if (parentElement.__vaeRingsCleanup === cleanup) {
      parentElement.__vaeRingsCleanup = null;
      cleanup();
    }
  };
}
