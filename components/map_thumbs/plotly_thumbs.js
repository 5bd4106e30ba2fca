// Thumbnails over the Plotly map: a canvas laid over the plot area, redrawn in the page on every zoom,
// pan, legend toggle and selection (plotly.js events), never rerunning the script. What is shown and
// greyed is read from the chart itself: its data traces (customdata [kind, index]; kind 0: an image),
// their visibility (a class hidden from the legend), their selected points (a click, box or lasso: the
// others fade, as their dots do) and the search's matches (`found`: the others fade).

import { ThumbStore, drawThumbs, pickThumbs } from "./thumbs.js";

const KIND_DATA = 0; // vae.explore.figures.KIND_DATA

// Every image's map position, whether it is shown, greyed, and its colour, from the chart's traces.
function readChart(gd, n, found) {
  const xy = new Float64Array(2 * n).fill(NaN);
  const visible = new Uint8Array(n);
  const faded = new Uint8Array(n);
  const colours = new Array(n);
  for (const t of gd._fullData || []) {
    const cd = t.customdata;
    if (t.visible !== true || !cd || !cd.length || !cd[0] || Number(cd[0][0]) !== KIND_DATA) continue;
    const sel = t.selectedpoints ? new Set(Array.from(t.selectedpoints, Number)) : null;
    const colour = typeof t.marker.color === "string" ? t.marker.color : "#555";
    for (let k = 0; k < t.x.length; k++) {
      const i = Number(cd[k][1]);
      if (!(i >= 0 && i < n)) continue;
      xy[2 * i] = t.x[k];
      xy[2 * i + 1] = t.y[k];
      visible[i] = 1;
      faded[i] = (sel && !sel.has(k)) || (found && !found.has(i)) ? 1 : 0;
      colours[i] = colour;
    }
  }
  return { xy, visible, faded, colours };
}

/**
 * Mount the overlay on the chart `data.chart` (a st.plotly_chart key).
 * @param {{data: object, parentElement: HTMLElement}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  const { data, parentElement } = component;
  if (parentElement.__vaeThumbsCleanup) parentElement.__vaeThumbsCleanup();
  const spec = data.thumbs;
  const found = data.found ? new Set(data.found) : null;
  const store = spec ? ThumbStore.for(spec) : null;
  let gd = null;
  let canvas = null;
  let raf = 0;
  let chart = null; // what readChart found, until the chart changes

  const draw = () => {
    raf = 0;
    if (!gd || !canvas) return;
    const t0 = performance.now();
    const fl = gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const xa = fl.xaxis;
    const ya = fl.yaxis;
    const w = Math.round(xa._length);
    const h = Math.round(ya._length);
    const dpr = window.devicePixelRatio || 1;
    Object.assign(canvas.style, { left: `${xa._offset}px`, top: `${ya._offset}px`, width: `${w}px`, height: `${h}px` });
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const info = { mode: spec ? spec.mode : "off", drawn: [], inView: 0, side: 0, w, h };
    if (spec) {
      if (!chart) chart = readChart(gd, spec.n, found);
      const view = { x0: xa.range[0], x1: xa.range[1], y0: ya.range[0], y1: ya.range[1] };
      const picks = pickThumbs(chart.xy, view, w, h, chart.visible, chart.faded, spec.limit, spec.least);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      info.drawn = drawThumbs(ctx, picks, store, (i) => chart.colours[i], chart.faded);
      Object.assign(info, { inView: picks.inView, side: picks.side, picked: picks.indices.length,
        fetched: store.fetched.slice(), failure: store.failure });
    }
    gd.__vaeThumbs = info; // read by the browser tests
    const frames = (gd.__vaeThumbFrames ??= []); // each redraw's time, ms (read by the benchmarks)
    frames.push(performance.now() - t0);
    if (frames.length > 2000) frames.splice(0, 1000);
  };
  const request = () => {
    if (!raf) raf = requestAnimationFrame(draw);
  };
  const changed = () => {
    chart = null; // traces restyled (a legend click), selected or replotted: read them again
    request();
  };
  const unlisten = store ? store.listen(request) : () => {};
  const EVENTS = [["plotly_relayout", request], ["plotly_relayouting", request], ["plotly_afterplot", changed],
    ["plotly_restyle", changed], ["plotly_selected", changed], ["plotly_deselect", changed]];
  const listen = (on) => {
    if (!gd || typeof gd.on !== "function") return;
    for (const [name, f] of EVENTS) (on ? gd.on.bind(gd) : gd.removeListener.bind(gd))(name, f);
  };
  // the chart may be drawn (or redrawn) after this mount: find it, and find it again when replaced
  const attach = () => {
    const div = document.querySelector(`.st-key-${CSS.escape(data.chart)} .js-plotly-plot`);
    if (div !== gd) {
      listen(false);
      gd = div;
      chart = null;
      listen(true);
    }
    const box = gd && gd.querySelector(".svg-container");
    if (box && (!canvas || canvas.parentElement !== box)) {
      canvas = box.querySelector(":scope > canvas.vae-map-thumbs") || document.createElement("canvas");
      canvas.className = "vae-map-thumbs";
      const gl = box.querySelector(":scope > .gl-container");
      if (gl) gl.after(canvas); // over the dots, under the selection's outline, hover labels and rings
      else box.appendChild(canvas);
      request();
    }
  };
  attach();
  const timer = setInterval(attach, 250);
  request();
  const cleanup = () => {
    globalThis.__vaeActiveMounts.thumbs -= 1;
    clearInterval(timer);
    if (raf) cancelAnimationFrame(raf);
    unlisten();
    listen(false);
    if (canvas && !spec) canvas.remove();
  };
  // a rerun that changes the data mounts again on the same element without ending this mount: end it then
  parentElement.__vaeThumbsCleanup = cleanup;
  const active = (globalThis.__vaeActiveMounts ??= {}); // mounts still listening, by component (read by the tests)
  active.thumbs = (active.thumbs || 0) + 1;
  return () => {
    if (parentElement.__vaeThumbsCleanup === cleanup) {
      parentElement.__vaeThumbsCleanup = null;
      cleanup();
    }
  };
}
