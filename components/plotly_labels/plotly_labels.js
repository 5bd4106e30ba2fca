// Cluster labels on the Plotly map at a level of detail that follows the zoom (issue #34). The server puts
// every label in the figure: the home view's at full opacity, the smaller clusters' at opacity 0, and in
// layout.meta (pages/_map_structure.ZOOM_META) the home view's range and each label's least zoom
// (vae.explore.clusters.min_zoom). On every zoom and pan (plotly.js events, no rerun) this shows a hidden
// label whose least zoom is reached, which lies wholly in view and overlaps no label shown before it
// (placeLabels, big_map/labels.js; its twin is vae.explore.clusters.place_labels), by a style rule on its
// data-index: plotly.js redraws its annotations on each frame of a pan, and the rule holds for the new ones.

import { placeLabels } from "../big_map/labels.js";

/**
 * The view's zoom: the home view's span over the view's, on the axis where it is larger (equal axes: one
 * of the two may have been widened to keep the scale).
 * @param {number[]} home [x0, x1, y0, y1]
 * @param {number[]} xr the x axis range
 * @param {number[]} yr the y axis range
 * @returns {number}
 */
export function viewZoom(home, xr, yr) {
  return Math.max((home[1] - home[0]) / Math.abs(xr[1] - xr[0]), (home[3] - home[2]) / Math.abs(yr[1] - yr[0]));
}

/**
 * Which of the labels to show at this view.
 * @param {Array<{name: string, index: number, box: number[]|null}>} labels in the figure's order (home view's
 *   first, then the rest largest first); box: centre and half-size in plot pixels, null when not drawn
 * @param {Object<string, number>} least each label's least zoom (0: always shown)
 * @param {number} zoom
 * @param {number} w plot width (px)
 * @param {number} h plot height (px)
 * @returns {number[]} the annotation indices of the hidden labels to show
 */
export function revealed(labels, least, zoom, w, h) {
  const drawn = labels.filter((l) => l.box && least[l.name] <= zoom * (1 + 1e-6)); // the home view: zoom 1
  const placed = placeLabels(drawn.map((l) => l.box), w, h);
  return placed.map((k) => drawn[k]).filter((l) => least[l.name] > 0).map((l) => l.index);
}

/**
 * Mount the follower: it finds the Plotly chart whose layout.meta holds `data.meta` and keeps its labels.
 * @param {{data: {meta: string}, parentElement: HTMLElement}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  const { data, parentElement } = component;
  if (parentElement.__vaeLabelsCleanup) parentElement.__vaeLabelsCleanup();
  const style = document.createElement("style");
  document.head.appendChild(style);
  let gd = null;
  let raf = 0;

  const apply = () => {
    raf = 0;
    const fl = gd && gd._fullLayout;
    const spec = fl && fl.meta && fl.meta[data.meta];
    if (!spec || !fl.xaxis || !fl.yaxis) {
      style.textContent = "";
      return;
    }
    const xa = fl.xaxis;
    const ya = fl.yaxis;
    const r = gd.getBoundingClientRect();
    const labels = (fl.annotations || []).map((a, index) => ({ name: a.name, index }))
      .filter((l) => l.name in spec.zoom).map((l) => {
        const el = gd.querySelector(`.annotation[data-index="${l.index}"]`);
        const b = el && el.getBoundingClientRect();
        return { ...l, box: b && b.width > 0 ? [b.left + b.width / 2 - r.left - xa._offset,
          b.top + b.height / 2 - r.top - ya._offset, b.width / 2, b.height / 2] : null };
      });
    const zoom = viewZoom(spec.home, xa.range, ya.range);
    const shown = revealed(labels, spec.zoom, zoom, xa._length, ya._length);
    style.textContent = shown.map((i) => `.js-plotly-plot[data-vae-labels] .annotation[data-index="${i}"]`)
      .join(",\n") + (shown.length ? " { opacity: 1 !important; }" : "");
    gd.__vaeLabels = { zoom, shown, labels }; // read by the browser tests
  };
  const request = () => {
    if (!raf) raf = requestAnimationFrame(apply);
  };
  const EVENTS = ["plotly_relayout", "plotly_relayouting", "plotly_afterplot"];
  const listen = (on) => {
    if (!gd || typeof gd.on !== "function") return;
    for (const name of EVENTS) (on ? gd.on.bind(gd) : gd.removeListener.bind(gd))(name, request);
  };
  // the chart may be drawn (or redrawn) after this mount: find it, and find it again when replaced
  const attach = () => {
    const div = [...document.querySelectorAll(".js-plotly-plot")]
      .find((g) => g._fullLayout && g._fullLayout.meta && g._fullLayout.meta[data.meta]) || null;
    if (div !== gd) {
      listen(false);
      gd = div;
      if (gd) gd.dataset.vaeLabels = "1";
      listen(true);
      request();
    }
  };
  attach();
  const timer = setInterval(attach, 250);
  const cleanup = () => {
    globalThis.__vaeActiveMounts.labels -= 1;
    clearInterval(timer);
    if (raf) cancelAnimationFrame(raf);
    listen(false);
    style.remove();
  };
  // a rerun that changes the data mounts again on the same element without ending this mount: end it then
  parentElement.__vaeLabelsCleanup = cleanup;
  const active = (globalThis.__vaeActiveMounts ??= {}); // mounts still listening, by component (read by the tests)
  active.labels = (active.labels || 0) + 1;
  return () => {
    if (parentElement.__vaeLabelsCleanup === cleanup) {
      parentElement.__vaeLabelsCleanup = null;
      cleanup();
    }
  };
}
