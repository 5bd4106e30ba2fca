// Map: the spot under the mouse, decoded live in a preview beside the map. The spot's code is the
// page's twin of LatentMap.to_latent (the same neighbours and weights; the plane itself for a
// 2-D model). Clicks are left to the chart: they still decode on the server.
//
// It also rings what the panel beside the map shows (a clicked point or spot): at once on the click,
// before the server answers, then where the server says (data.mark, map coordinates; null: nothing).
// The ring is a page element over the chart, not part of the figure: a changed figure would be a
// new chart to Streamlit, which drops the user's selection and toolbar tool.
//
// The map is a Plotly chart, or for a large explore set the canvas map (components/big_map), which
// tells the map point under the mouse itself (`__vaeMapPoint` on its element) and draws its own ring.

import { Runner, noteInput, statsFor } from "./runner.js";
import { LIVE, decode, loadAsset, loadSession, reasonOf, whenLoaded } from "./runtime.js";
import { paint, toBytes } from "./pixels.js";
import { loadLatentMap } from "./latent_map.js";
import { ensureRoot, setLive } from "./view.js";
import { plotlyTouch } from "./touch.js";

const HOVER_HTML = `
  <div class="vae-live-view vae-live-hover">
    <canvas class="vae-live-image"></canvas>
    <div class="vae-live-caption" data-role="caption"></div>
  </div>
  <div class="vae-live-note" hidden></div>`;

/**
 * The plot's data coordinates under a pointer event, or null outside the plotting area.
 * @param {HTMLElement} gd a plotly.js graph div
 * @param {PointerEvent} e
 * @returns {number[]|null}
 */
export function dataPoint(gd, e) {
  const fl = gd._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis) return null;
  const xa = fl.xaxis;
  const ya = fl.yaxis;
  const r = gd.getBoundingClientRect();
  const px = e.clientX - r.left - xa._offset;
  const py = e.clientY - r.top - ya._offset;
  if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
  return [xa.p2l(px), ya.p2l(py)];
}

/**
 * A ring over a plotly chart at map coordinates, kept in place through zooms and pans.
 * @param {HTMLElement} gd a plotly.js graph div
 * @param {HTMLElement} ring an absolutely positioned element inside gd
 * @param {number[]|null} xy
 */
export function placeRing(gd, ring, xy) {
  const fl = gd._fullLayout;
  if (!xy || !fl || !fl.xaxis || !fl.yaxis) {
    ring.hidden = true;
    return;
  }
  const px = fl.xaxis.l2p(xy[0]);
  const py = fl.yaxis.l2p(xy[1]);
  ring.hidden = !(px >= 0 && py >= 0 && px <= fl.xaxis._length && py <= fl.yaxis._length);
  ring.style.left = `${fl.xaxis._offset + px}px`;
  ring.style.top = `${fl.yaxis._offset + py}px`;
}

/**
 * Mount the hover mode.
 * @param {HTMLElement} parent
 * @param {object} data chart (the st.plotly_chart key), map (spec), decoder, runtime, image, text
 * @returns {() => void} cleanup
 */
export function mountHover(parent, data) {
  const el = ensureRoot(parent, "hover", HOVER_HTML);
  const image = el.querySelector(".vae-live-image");
  const caption = el.querySelector('[data-role="caption"]');
  if (!caption.textContent) caption.textContent = data.text.idle;
  const stats = statsFor(LIVE, "hover");
  let model = null;
  let lmap = null;
  let gd = null;
  const runner = new Runner(
    async (req) => {
      const z = lmap.toLatent(req.xy);
      return { bytes: toBytes(await decode(model, z)), z };
    },
    (res, req) => {
      paint(image, res.bytes, data.image.shape, data.image.factor);
      image.style.display = "";
      caption.textContent = data.text.caption.replace("{x}", req.xy[0].toFixed(2)).replace("{y}", req.xy[1].toFixed(2));
      LIVE.last.hover = { xy: req.xy, z: res.z };
      setLive(el, data, null);
    },
    (err) => fail(err),
    stats,
  );
  const fail = (err) => {
    runner.stop();
    LIVE.failures.hover = reasonOf(err);
    setLive(el, data, LIVE.failures.hover);
  };
  const onMove = (e) => {
    if (!model) return;
    const xy = gd.__vaeMapPoint ? gd.__vaeMapPoint(e) : dataPoint(gd, e);
    if (xy === null) return;
    const seq = noteInput(stats, e.timeStamp);
    runner.request({ xy, seq, t: e.timeStamp });
  };
  // the ring: where the server says (this rerun's data.mark), or where the user has just clicked
  const marks = (LIVE.marks = LIVE.marks || {});
  const clicked = marks[data.chart];
  const serverMark = data.mark === undefined ? null : data.mark;
  let mark = serverMark;
  if (clicked && clicked.after === JSON.stringify(serverMark)) mark = clicked.xy; // no answer yet
  else delete marks[data.chart];
  const ring = () => {
    const box = gd.querySelector(".svg-container") || gd; // positioned: the plot's own origin
    let r = box.querySelector(":scope > .vae-map-ring");
    if (!r) {
      r = document.createElement("div");
      r.className = "vae-map-ring";
      r.hidden = true;
      box.appendChild(r);
    }
    return r;
  };
  const redraw = () => gd && !gd.__vaeMapPoint && placeRing(gd, ring(), mark);
  const onClick = (ev) => {
    const p = ev && ev.points && ev.points[0];
    const mode = gd._fullLayout.dragmode;
    if (!p || mode === "select" || mode === "lasso") return; // those modes select nothing on a click
    mark = [p.x, p.y];
    marks[data.chart] = { xy: mark, after: JSON.stringify(serverMark) }; // until the server's answer
    redraw();
  };
  const onSelected = (ev) => {
    if (ev && (ev.range || ev.lassoPoints)) {
      mark = null; // a box or lasso: the panel lists many
      redraw();
    }
  };
  const onDeselect = () => {
    mark = null;
    redraw();
  };
  const listen = (on) => {
    if (!gd || typeof gd.on !== "function") return;
    const f = on ? gd.on.bind(gd) : gd.removeListener.bind(gd);
    f("plotly_click", onClick);
    f("plotly_selected", onSelected);
    f("plotly_deselect", onDeselect);
    f("plotly_relayout", redraw);
    f("plotly_afterplot", redraw);
  };
  // a finger that touches the map: the spot under it (touch has no hover)
  const onTouch = (e) => e.pointerType === "touch" && onMove(e);
  let untouch = null;
  const unlisten = () => {
    if (gd) gd.removeEventListener("pointermove", onMove, true);
    if (gd) gd.removeEventListener("pointerdown", onTouch, true);
    if (untouch) untouch();
    untouch = null;
    listen(false);
  };
  // the chart may be drawn (or redrawn) after this mount: find it, and find it again when replaced
  const attach = () => {
    const div = document.querySelector(`.st-key-${CSS.escape(data.chart)} .js-plotly-plot`)
      || document.querySelector(`.st-key-${CSS.escape(data.chart)} .vae-big-map`);
    if (div !== gd) {
      unlisten();
      gd = div;
      if (gd) gd.addEventListener("pointermove", onMove, true);
      if (gd) gd.addEventListener("pointerdown", onTouch, true);
      if (gd && !gd.__vaeMapPoint) untouch = plotlyTouch(gd, data.text.two_fingers); // the canvas map has its own
      listen(true);
    }
    if (gd && gd._fullLayout && gd._fullLayout.xaxis) redraw();
  };
  attach();
  const timer = setInterval(attach, 250);
  whenLoaded(data.runtime, [loadSession(data.runtime, data.decoder), loadLatentMap(data.map, loadAsset)]).then(([m, l]) => {
    [model, lmap] = [m, l];
    // the image under the cursor's last spot, or until the first hover the hint alone (never a blank square)
    if (LIVE.last.hover) runner.request({ xy: LIVE.last.hover.xy });
    else image.style.display = "none";
    setLive(el, data, null);
    if (!LIVE.ready.hover) LIVE.ready.hover = performance.now();
  }, fail);
  return () => {
    clearInterval(timer);
    runner.stop();
    unlisten();
  };
}
