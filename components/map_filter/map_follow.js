// The map's side of the linked charts and the search box (issue #34): mounted beside the map (the component's
// "map" mode), it fades the map in the page while the charts' terms (map_filter.js, through the "vae-xf-terms"
// event) or a search typed into the box (search.js: answered here on Enter, where the page can) are newer than
// what the server drew. On the Plotly chart a canvas over its plot veils the dots and draws those that pass in
// their class colours, as the server's highlight does, until the rerun brings the server's figure; the canvas map
// (components/big_map) takes the mask itself, through the page-wide "vae-map-highlight" event.

import { Masks } from "./crossfilter.js";
import { normalised, searchMask } from "./search.js";

const KIND_DATA = 0; // vae.explore.figures.KIND_DATA: a data trace's customdata[0]
const VEIL = "rgba(255, 255, 255, 0.85)"; // the Plotly map's dots under it: about the server's 0.12 opacity
const NO_CLASS = "#4c78a8"; // a point's colour where its class has none

export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The table's values, float64 columns one after another (components/map_filter.values_file).
 * @param {string} url
 * @returns {Promise<Float64Array>}
 */
export async function fetchValues(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Float64Array(await r.arrayBuffer());
}

// -- the map's positions, from the Plotly chart's data traces (as components/map_thumbs reads them) --------------
function readChart(gd, n) {
  const xy = new Float64Array(2 * n).fill(NaN);
  const visible = new Uint8Array(n);
  let size = 6;
  for (const t of gd._fullData || []) {
    const cd = t.customdata;
    if (t.visible !== true || !cd || !cd.length || !cd[0] || Number(cd[0][0]) !== KIND_DATA) continue;
    if (typeof t.marker.size === "number") size = t.marker.size;
    for (let k = 0; k < t.x.length; k++) {
      const i = Number(cd[k][1]);
      if (!(i >= 0 && i < n)) continue;
      xy[2 * i] = t.x[k];
      xy[2 * i + 1] = t.y[k];
      visible[i] = 1;
    }
  }
  return { xy, visible, size };
}

/**
 * Mount the map's follower.
 * @param {{data: object, parentElement: HTMLElement}} component
 * @returns {() => void} cleanup
 */
export function mountMap(component) {
  const { data, parentElement } = component;
  if (parentElement.__vaeXfMapCleanup) parentElement.__vaeXfMapCleanup();
  let st = parentElement.__vaeXfMap;
  if (!st || st.key !== data.key) {
    st = { key: data.key, cols: null, search: null, frames: [] };
    parentElement.__vaeXfMap = st;
  }
  window.__vaeXfMap = st; // read by the browser tests and the benchmarks
  if (st.search && st.search.text === (data.searchText || "")) st.search = null; // the server has answered it
  const server = data.filters;
  const search = data.search ? new Uint8Array(data.n) : null;
  if (search) for (const i of data.search) search[i] = 1;
  // the charts' terms where they start from what the server drew (else the server's: a link, the clear button)
  const termsNow = () => {
    const link = globalThis.__vaeXfLink;
    return link && link.key === data.key && same(link.server, server) ? link.terms : server;
  };
  const local = () => !same(termsNow(), server);
  const searching = () => !!st.search; // a search typed here, not answered by the server yet
  const active = () => local() || searching();

  let raf = 0;
  let pass = null; // the images passing every term and the search
  let gd = null;
  let veil = null;
  let chart = null;
  const draw = () => {
    raf = 0;
    if (!st.cols) return;
    const on = active();
    pass = null;
    if (on) {
      pass = new Masks(st.cols, termsNow(), data.n).without(null);
      const matches = searching() ? st.search.mask : search;
      if (matches) for (let i = 0; i < data.n; i++) pass[i] &= matches[i];
      st.passing = pass.reduce((a, b) => a + b, 0);
    }
    const typed = st.search && !st.search.drawn ? st.search : null; // a search shown for the first time
    const detail = { active: on, mask: pass, key: data.key, since: st.since ?? (typed ? typed.since : null) };
    st.since = null;
    if (typed) {
      typed.drawn = true;
      st.searchShown = { text: typed.text, n: st.passing, at: performance.now() }; // read by the benchmarks
    }
    globalThis.__vaeMapHighlight = detail;
    if (data.map.kind === "canvas") { // the canvas map redraws at its next frame (and times it from `since`)
      document.dispatchEvent(new CustomEvent("vae-map-highlight", { detail }));
      return;
    }
    drawVeil();
    if (detail.since !== null) { // the pointer's move or Enter -> the map's veil drawn, ms (read by the benchmarks)
      (st.latency ??= []).push(performance.now() - detail.since);
      if (st.latency.length > 2000) st.latency.splice(0, 1000);
    }
  };
  const request = () => {
    if (!raf) raf = requestAnimationFrame(draw);
  };
  const drawVeil = () => {
    if (!gd || !veil) return;
    const ctx = veil.getContext("2d");
    const fl = gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const xa = fl.xaxis;
    const ya = fl.yaxis;
    const w = Math.round(xa._length);
    const h = Math.round(ya._length);
    const dpr = window.devicePixelRatio || 1;
    Object.assign(veil.style, { left: `${xa._offset}px`, top: `${ya._offset}px`, width: `${w}px`, height: `${h}px` });
    if (veil.width !== Math.round(w * dpr) || veil.height !== Math.round(h * dpr)) {
      veil.width = Math.round(w * dpr);
      veil.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    st.veiled = 0;
    if (!active() || !pass) return;
    if (!chart) chart = readChart(gd, data.n);
    ctx.fillStyle = VEIL;
    ctx.fillRect(0, 0, w, h);
    const r = (chart.size + 2) / 2;
    const classes = st.cols[data.classColumn];
    ctx.lineWidth = 0.5;
    ctx.strokeStyle = "#000";
    for (let i = 0; i < data.n; i++) {
      if (!pass[i] || !chart.visible[i]) continue;
      const x = xa.l2p(chart.xy[2 * i]);
      const y = ya.l2p(chart.xy[2 * i + 1]);
      if (x < -r || y < -r || x > w + r || y > h + r) continue;
      ctx.fillStyle = data.classColours[classes ? classes[i] : 0] || NO_CLASS;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      st.veiled += 1;
    }
  };
  const onPlot = () => {
    chart = null;
    if (st.cols) drawVeil();
  };
  const onView = () => {
    if (st.cols) drawVeil();
  };
  const EVENTS = [["plotly_relayout", onView], ["plotly_relayouting", onView], ["plotly_afterplot", onPlot],
    ["plotly_restyle", onPlot]];
  const listen = (on) => {
    if (!gd || typeof gd.on !== "function") return;
    for (const [name, f] of EVENTS) (on ? gd.on.bind(gd) : gd.removeListener.bind(gd))(name, f);
  };
  const attach = () => {
    if (data.map.kind !== "plotly") return;
    const div = document.querySelector(`.st-key-${CSS.escape(data.map.chart)} .js-plotly-plot`);
    if (div !== gd) {
      listen(false);
      gd = div;
      chart = null;
      listen(true);
    }
    const box = gd && gd.querySelector(".svg-container");
    if (box && (!veil || veil.parentElement !== box)) {
      veil = box.querySelector(":scope > canvas.vae-map-filter") || document.createElement("canvas");
      veil.className = "vae-map-filter";
      const gl = box.querySelector(":scope > .gl-container");
      if (gl) gl.after(veil); // over the dots, under the thumbnails, the selection's outline and hover labels
      else box.appendChild(veil);
      if (st.cols) drawVeil();
    }
  };
  attach();
  const timer = data.map.kind === "plotly" ? setInterval(attach, 250) : 0;
  // Enter in the search box above the map: its matches faded in at once, where the page can find them
  const onKey = (e) => {
    if (e.key !== "Enter" || !data.searchClasses || !st.cols || !e.target.closest?.(".st-key-map_search")) return;
    const text = normalised(e.target.value || "");
    if (text === (data.searchText || "")) return; // what the map shows already
    const mask = text ? searchMask(text, st.cols[data.classColumn], data.searchClasses) : null;
    if (text && !mask) return; // the server's to answer (or to explain)
    const none = mask && !mask.some((m) => m); // no image matches: the server fades nothing either
    st.search = { text, mask: none ? null : mask, since: e.timeStamp, drawn: false };
    request();
  };
  document.addEventListener("keydown", onKey, true);
  const onTerms = (e) => { // sent from the charts' frame: the map follows in the same frame
    if (e.detail && e.detail.since !== null) st.since ??= e.detail.since;
    if (raf) cancelAnimationFrame(raf);
    draw();
  };
  document.addEventListener("vae-xf-terms", onTerms);

  if (st.cols && st.url === data.values) request();
  else {
    fetchValues(data.values).then((values) => {
      st.cols = {};
      data.columns.forEach((col, j) => {
        st.cols[col.name] = values.subarray(j * data.n, (j + 1) * data.n);
      });
      st.url = data.values;
      request();
    }, () => {}); // the charts say why, where they are open; the server's highlight stays
  }
  const cleanup = () => {
    if (raf) cancelAnimationFrame(raf);
    if (timer) clearInterval(timer);
    listen(false);
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("vae-xf-terms", onTerms);
  };
  parentElement.__vaeXfMapCleanup = cleanup;
  return () => {
    if (parentElement.__vaeXfMapCleanup === cleanup) {
      parentElement.__vaeXfMapCleanup = null;
      cleanup();
      if (globalThis.__vaeMapHighlight && globalThis.__vaeMapHighlight.key === data.key) globalThis.__vaeMapHighlight = null;
    }
  };
}
