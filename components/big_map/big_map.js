// The canvas map (Streamlit components v2): the codes of a large explore set, drawn by the page.
// Plotly's WebGL scatter takes every point through Streamlit's JSON and redraws all of them on
// every pan; here the page fetches the positions once (float32) and a colour byte of each (uint8)
// as static files, and each frame draws only what is in view (raster.js): a density where very
// many codes are in view, a dot for each code where fewer are. Panning and zooming never wait for
// the server.
//
// Two uses. The million posterior samples (`explore` off): a click sends the index of the nearest
// code (trigger `clicked`). The Map page's 70,000 images (`explore` on): a colour legend (classes
// toggle), a toolbar (pan, box, lasso), prior samples over the codes, a decoded picture behind
// them; what the user picked is the state value `pick`, kept across reruns: {kind: "point",
// index} | {kind: "spot", xy} | {kind: "prior", index} | {kind: "box" | "lasso", polygon}. The
// selection is marked here at once (selection.js; the server finds the same points with its twin).
//
// Touch: one finger belongs to the page (a swipe scrolls it, a tap is a click), two fingers pan and
// pinch-zoom the map; with the box or lasso tool, one finger draws.

import { SWIPE_PX, gestureRange, showHint, twoFingers } from "../live_decoder/touch.js";
import { buildIndex, nearest, rasterize, sorted } from "./raster.js";
import { boxPolygon, insidePolygon } from "./selection.js";
import { drawLabels } from "./labels.js";
import { Contours } from "./contours.js";
import { ThumbStore, drawThumbs, pickThumbs } from "../map_thumbs/thumbs.js";

const HTML = `
  <div class="vae-big-map">
    <div class="vae-big-map-bar">
      <div class="vae-big-map-legend" data-role="legend"></div>
      <div class="vae-big-map-tools" data-role="tools" hidden></div>
    </div>
    <div class="vae-big-map-stage"><canvas class="vae-big-map-canvas"></canvas></div>
    <div class="vae-big-map-caption" data-role="caption"></div>
  </div>`;

const CLICK_PX = 8; // a click means the nearest code within this many pixels
const TOOLS = ["pan", "box", "lasso"];
// the toolbar's icons (inline SVG: no icon font to load, and every system draws them alike)
const SVG = (body) => `<svg viewBox="0 0 16 16" width="16" height="16" fill="none" stroke="currentColor" `
  + `stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;
const ICONS = {
  pan: SVG("<path d='M8 1v14M1 8h14M8 1 6 3M8 1l2 2M8 15l-2-2M8 15l2-2M1 8l2-2M1 8l2 2M15 8l-2-2M15 8l-2 2'/>"),
  box: SVG("<rect x='2' y='3' width='12' height='10' stroke-dasharray='2.5 2'/>"),
  lasso: SVG("<path d='M5 12c-3-1-4-4-2-6.5S10 2 13 4s1 6-3 7c-2 .5-4 .5-5 1z' stroke-dasharray='2.5 2'/>"
    + "<path d='M5 12c-1 1-1 2.5 0 3'/>"),
};

async function fetchArray(url, Kind) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Kind(await r.arrayBuffer());
}

function hexToRgb(hex) {
  const v = parseInt(hex.replace("#", ""), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Mount the map: fetch positions and colours (cached by URL across reruns), then draw on demand.
 * @param {{data: object, parentElement: HTMLElement, setTriggerValue: Function, setStateValue: Function}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  const { data, parentElement, setTriggerValue, setStateValue } = component;
  if (parentElement.__vaeBigMapCleanup) parentElement.__vaeBigMapCleanup();
  let root = parentElement.querySelector(".vae-big-map");
  if (!root) {
    parentElement.insertAdjacentHTML("beforeend", HTML);
    root = parentElement.querySelector(".vae-big-map");
  }
  const canvas = root.querySelector("canvas");
  const caption = root.querySelector('[data-role="caption"]');
  const palette = data.colors.map(hexToRgb);
  const home = { x0: data.bounds[0], y0: data.bounds[1], x1: data.bounds[2], y1: data.bounds[3] };
  // the view survives reruns (a click reruns the page): kept on the element, reset for another map
  const state = parentElement.__vaeBigMap && parentElement.__vaeBigMap.tag === data.tag
    ? parentElement.__vaeBigMap
    : { tag: data.tag, view: null, xy: null, cls: null, frames: [], tool: "pan", hidden: {}, colours: {} };
  parentElement.__vaeBigMap = state;
  window.__vaeBigMap = state; // read by the browser tests and the benchmarks
  const hidden = new Uint8Array(palette.length);
  if (data.legend && data.legend.kind === "classes") for (const c in state.hidden) hidden[c] = state.hidden[c] ? 1 : 0;
  // the ring: where the user just clicked, until the server answers; then where the server says
  const serverMark = JSON.stringify(data.selected || null);
  if (!state.mark || state.mark.after !== serverMark) state.mark = null;
  let raf = 0;
  let image = null;
  let shape = null; // the box or lasso being drawn, map coordinates
  let background = null;
  // the density contours (contours.js): one path per set of lines, kept across reruns while they stay the same
  const contourKey = data.contours ? JSON.stringify(data.contours.shares) + data.contours.lines.length
    + ":" + (data.contours.lines[0] || []).slice(0, 5).join(",") : null;
  if (contourKey !== state.contourKey) {
    state.contourKey = contourKey;
    state.contourLines = data.contours ? new Contours(data.contours) : null;
  }
  const contours = state.contourLines;

  const size = () => {
    const w = Math.max(200, Math.floor(root.clientWidth || parentElement.clientWidth || 600));
    const h = data.height;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      image = null;
    }
    if (!state.view) state.view = fit(home, w, h);
    return [w, h];
  };
  const ring = (ctx, w, h, xy, radius = 9, widths = [6, 3]) => {
    const [px, py] = toPixel(state.view, w, h, xy[0], xy[1]);
    for (const [colour, width] of [["#fff", widths[0]], ["#000", widths[1]]]) { // a white halo: visible on dense colour too
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.arc(px, py, radius, 0, 2 * Math.PI);
      ctx.stroke();
    }
  };
  const draw = () => {
    raf = 0;
    if (!state.index) return;
    const t0 = performance.now();
    const [w, h] = size();
    const ctx = canvas.getContext("2d");
    if (!image) image = ctx.createImageData(w, h);
    const info = data.points === false ? { inView: 0, mode: "points" } : rasterize(
      state.index, palette, state.view, w, h, data.pointsBelow, image.data,
      { hidden, mask: state.maskSorted || null, radius: data.dot || 0 });
    if (background) { // the picture first, the codes over it (through a second canvas: putImageData replaces)
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, w, h);
      const [bx0, by1] = toPixel(state.view, w, h, data.background.bounds[0], data.background.bounds[1]);
      const [bx1, by0] = toPixel(state.view, w, h, data.background.bounds[2], data.background.bounds[3]);
      ctx.globalAlpha = data.background.opacity;
      ctx.drawImage(background, bx0, by0, bx1 - bx0, by1 - by0);
      ctx.globalAlpha = 1;
      if (contours) contours.draw(ctx, state.view, w, h, data.dot ? 1.3 : 1); // over the picture, under the codes
      if (data.points !== false) {
        const off = state.offscreen || (state.offscreen = document.createElement("canvas"));
        [off.width, off.height] = [w, h];
        off.getContext("2d").putImageData(image, 0, 0);
        ctx.drawImage(off, 0, 0);
      }
    } else {
      ctx.putImageData(image, 0, 0);
      if (contours) { // under the codes: only where the raster left the canvas transparent
        ctx.globalCompositeOperation = "destination-over";
        contours.draw(ctx, state.view, w, h, data.dot ? 1.3 : 1);
        ctx.globalCompositeOperation = "source-over";
      }
    }
    const contourLabels = contours && data.points !== false ? contours.drawLabels(ctx, state.view, w, h, data.dot ? 1.3 : 1)
      : null; // each line's share, over the codes
    state.contours = contours ? { lines: contours.lines, vertices: contours.vertices, built: contours.built,
      labels: contourLabels } : null;
    if (data.overlay) {
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (const [x, y] of data.overlay) {
        const [px, py] = toPixel(state.view, w, h, x, y);
        ctx.moveTo(px - 3.5, py - 3.5);
        ctx.lineTo(px + 3.5, py + 3.5);
        ctx.moveTo(px + 3.5, py - 3.5);
        ctx.lineTo(px - 3.5, py + 3.5);
      }
      ctx.stroke();
    }
    drawThumbnails(ctx, w, h, info);
    for (const xy of data.rings || []) ring(ctx, w, h, xy, 6, [4, 2]); // the chosen point's neighbours
    state.rings = (data.rings || []).length; // read by the browser tests
    if (data.labels && data.labels.length) { // cluster labels: as many as fit at this zoom (labels.js)
      // a smaller cluster's label waits for its zoom (`least`: vae.explore.clusters.min_zoom), as on the Plotly map
      const zoom = Math.max((home.x1 - home.x0) / (state.view.x1 - state.view.x0),
        (home.y1 - home.y0) / (state.view.y1 - state.view.y0));
      const labels = data.labels.filter((l) => !(l.least > zoom * (1 + 1e-6)));
      state.labels = drawLabels(ctx, w, h, labels, (x, y) => toPixel(state.view, w, h, x, y), data.dot ? 1.3 : 1);
      Object.assign(state.labels, { zoom, eligible: labels.length });
    } else state.labels = null;
    const mark = state.mark ? state.mark.xy : data.selected;
    if (mark && !(state.maskSorted && state.maskFor !== "found")) ring(ctx, w, h, mark); // no ring over a box
    if (shape && shape.length > 1) {
      ctx.strokeStyle = "#31333f";
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 4]);
      ctx.fillStyle = "rgba(49, 51, 63, 0.08)";
      ctx.beginPath();
      shape.forEach(([x, y], k) => {
        const [px, py] = toPixel(state.view, w, h, x, y);
        if (k) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      });
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    state.frames.push(performance.now() - t0);
    if (state.frames.length > 2000) state.frames.splice(0, 1000);
    if (state.linkedSince != null) { // a linked chart's pointer move -> this frame, ms (read by the benchmarks)
      (state.linkedLatency ??= []).push(performance.now() - state.linkedSince);
      if (state.linkedLatency.length > 2000) state.linkedLatency.splice(0, 1000);
      state.linkedSince = null;
    }
    state.mode = info.mode;
    state.drawnColours = state.colourUrl; // the colouring on screen (the benchmark waits for a new one)
    caption.textContent = data.points === false ? "" // the points are switched off: only the picture
      : (info.mode === "points" ? data.text.points : data.text.density).replace("{n}", info.inView.toLocaleString("en-US"));
  };
  const request = () => {
    if (!raf) raf = requestAnimationFrame(draw);
  };
  // the points' own images once few are in view (components/map_thumbs): over the dots, greyed ones faded
  const thumbs = data.thumbs && data.points !== false ? ThumbStore.for(data.thumbs) : null;
  const unthumb = thumbs ? thumbs.listen(request) : () => {};
  const drawThumbnails = (ctx, w, h, info) => {
    state.thumbs = null;
    if (!thumbs || info.mode !== "points" || info.inView > data.thumbs.limit * 4) return;
    const visible = new Uint8Array(state.cls.length);
    for (let i = 0; i < visible.length; i++) visible[i] = hidden[state.cls[i]] ? 0 : 1;
    const faded = state.mask ? Uint8Array.from(state.mask, (m) => 1 - m) : null; // outside a box, lasso or search
    const picks = pickThumbs(state.xy, state.view, w, h, visible, faded, data.thumbs.limit, data.thumbs.least);
    const drawn = drawThumbs(ctx, picks, thumbs, (i) => data.colors[state.cls[i]], faded);
    state.thumbs = { mode: data.thumbs.mode, drawn, inView: picks.inView, side: picks.side,
      picked: picks.indices.length, fetched: thumbs.fetched.slice(), failure: thumbs.failure }; // read by the tests
  };

  // -- the selection (box or lasso): marked here, sent to the server as its shape
  const select = (polygon) => {
    const linked = globalThis.__vaeMapHighlight; // the linked charts' terms, newer than this map's (map_filter.js)
    if (!polygon && linked && linked.active && linked.mask && linked.mask.length === state.xy.length / 2) {
      state.mask = linked.mask;
      state.maskSorted = sorted(state.mask, state.index.perm);
      state.maskFor = "found";
      return;
    }
    if (!polygon && data.found) { // a search's matches: marked as a selection is, the rest faded
      state.mask = new Uint8Array(state.xy.length / 2);
      for (const i of data.found) state.mask[i] = 1;
      state.maskSorted = sorted(state.mask, state.index.perm);
      state.maskFor = "found";
      return;
    }
    if (!polygon) {
      state.mask = state.maskSorted = null;
      state.maskFor = null;
      return;
    }
    const key = JSON.stringify(polygon);
    if (state.maskFor === key && state.mask) return;
    state.mask = insidePolygon(state.xy, polygon);
    state.maskSorted = sorted(state.mask, state.index.perm);
    state.maskFor = key;
  };
  const pick = (value) => setStateValue("pick", { ...value, seq: Date.now() });

  // -- the toolbar and the legend (explore mode)
  const tools = root.querySelector('[data-role="tools"]');
  const legend = root.querySelector('[data-role="legend"]');
  const setTool = (t) => {
    state.tool = t;
    canvas.style.cursor = t === "pan" ? "grab" : "crosshair";
    canvas.style.touchAction = t === "pan" ? "pan-x pan-y" : "none"; // one finger scrolls the page, or draws
    for (const b of tools.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.tool === t));
  };
  if (data.explore) {
    tools.hidden = false;
    tools.replaceChildren(...TOOLS.map((t) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.tool = t;
      b.innerHTML = ICONS[t];
      b.title = data.text.tools[t];
      b.setAttribute("aria-label", data.text.tools[t]);
      b.addEventListener("click", () => setTool(t));
      return b;
    }));
    setTool(state.tool);
  } else {
    tools.hidden = true;
  }
  legend.replaceChildren();
  if (data.legend && data.legend.kind === "classes") {
    data.legend.names.forEach((name, c) => {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "vae-big-map-key";
      item.dataset.hidden = String(Boolean(hidden[c]));
      item.title = data.text.toggle;
      const dot = document.createElement("span");
      dot.className = "vae-big-map-dot";
      dot.style.background = data.colors[c];
      item.append(dot, document.createTextNode(name));
      item.addEventListener("click", () => {
        hidden[c] = hidden[c] ? 0 : 1;
        state.hidden[c] = hidden[c];
        item.dataset.hidden = String(Boolean(hidden[c]));
        request();
      });
      legend.appendChild(item);
    });
  } else if (data.legend && data.legend.kind === "scale") {
    const title = document.createElement("span");
    title.textContent = data.legend.title;
    const bar = document.createElement("span");
    bar.className = "vae-big-map-scale";
    const stops = [0, 0.25, 0.5, 0.75, 1].map((f) => data.colors[Math.round(f * (data.colors.length - 1))]);
    bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
    const low = document.createElement("span");
    low.textContent = data.legend.low;
    const high = document.createElement("span");
    high.textContent = data.legend.high;
    legend.append(title, low, bar, high);
  }

  if (data.overlay && data.text.overlay) { // the prior samples' key, after the colours'
    const item = document.createElement("span");
    item.className = "vae-big-map-key";
    item.textContent = `× ${data.text.overlay}`;
    legend.appendChild(item);
  }

  // -- the pointer: pan (drag), click, box or lasso (drag with those tools), zoom (wheel)
  const at = (e) => {
    const [w, h] = size();
    const r = canvas.getBoundingClientRect();
    return toData(state.view, w, h, e.clientX - r.left, e.clientY - r.top);
  };
  // the map point under a pointer event, or null off the canvas (the live preview reads it)
  root.__vaeMapPoint = (e) => {
    const r = canvas.getBoundingClientRect();
    if (e.clientX < r.left || e.clientY < r.top || e.clientX > r.right || e.clientY > r.bottom) return null;
    return at(e);
  };
  let drag = null;
  const onDown = (e) => {
    const tool = data.explore ? state.tool : "pan";
    const finger = e.pointerType === "touch" && tool === "pan"; // the page scrolls under it; a tap clicks
    if (drag && drag.finger) {
      drag = null; // a second finger: the two-finger gesture's
      return;
    }
    drag = { x: e.clientX, y: e.clientY, view: { ...state.view }, moved: false, tool, finger };
    if (drag.tool !== "pan") shape = [at(e)];
    if (!finger) canvas.setPointerCapture(e.pointerId);
  };
  const onCancel = () => {
    drag = null; // the browser took the touch (it scrolls the page)
    shape = null;
  };
  const onMove = (e) => {
    if (!drag) return;
    const [w, h] = size();
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.finger) {
      if (Math.hypot(dx, dy) > SWIPE_PX && !drag.told) {
        drag.told = true;
        showHint(root.querySelector(".vae-big-map-stage"), data.text.two_fingers);
      }
      return;
    }
    if (drag.tool === "box") {
      const [x0, y0] = shape[0];
      const [x1, y1] = at(e);
      shape = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    } else if (drag.tool === "lasso") {
      shape.push(at(e));
    } else {
      const ux = (drag.view.x1 - drag.view.x0) / w;
      const uy = (drag.view.y1 - drag.view.y0) / h;
      state.view = { x0: drag.view.x0 - dx * ux, x1: drag.view.x1 - dx * ux,
        y0: drag.view.y0 + dy * uy, y1: drag.view.y1 + dy * uy };
    }
    request();
  };
  const onUp = (e) => {
    if (!drag) return;
    const { moved, tool } = drag;
    drag = null;
    if (!state.xy) return;
    if (tool !== "pan") {
      const drawn = shape;
      shape = null;
      if (moved && drawn.length >= 3) {
        const polygon = tool === "box"
          ? boxPolygon(Math.min(drawn[0][0], drawn[2][0]), Math.min(drawn[0][1], drawn[2][1]),
            Math.max(drawn[0][0], drawn[2][0]), Math.max(drawn[0][1], drawn[2][1]))
          : drawn;
        select(polygon);
        pick({ kind: tool, polygon });
      }
      request();
      return;
    }
    if (moved) return;
    const [w] = size();
    const [x, y] = at(e);
    const radius = (CLICK_PX * (state.view.x1 - state.view.x0)) / w;
    if (!data.explore) {
      const i = nearest(state.xy, x, y, radius);
      if (i >= 0) setTriggerValue("clicked", i);
      return;
    }
    let picked = null;
    if (data.overlay && data.overlay.length) { // the prior samples are drawn on top: they come first
      const k = nearest(Float32Array.from(data.overlay.flat()), x, y, radius);
      if (k >= 0) picked = { value: { kind: "prior", index: k }, xy: data.overlay[k] };
    }
    if (!picked && data.points !== false) {
      const i = nearest(state.xy, x, y, radius, state.cls, hidden);
      if (i >= 0) picked = { value: { kind: "point", index: i }, xy: [state.xy[2 * i], state.xy[2 * i + 1]] };
    }
    if (!picked) picked = { value: { kind: "spot", xy: [x, y] }, xy: [x, y] };
    select(null);
    state.mark = { xy: picked.xy, after: serverMark };
    pick(picked.value);
    request();
  };
  const onWheel = (e) => {
    e.preventDefault();
    const [x, y] = at(e);
    const f = Math.exp(Math.max(-0.5, Math.min(0.5, e.deltaY * 0.0015)));
    const v = state.view;
    state.view = { x0: x + (v.x0 - x) * f, x1: x + (v.x1 - x) * f, y0: y + (v.y0 - y) * f, y1: y + (v.y1 - y) * f };
    request();
  };
  const onDouble = () => {
    const [w, h] = size();
    state.view = fit(home, w, h);
    request();
  };
  let pinched = null; // the view when two fingers came down
  const stopTwo = twoFingers(canvas, (g) => {
    if (!pinched || (data.explore && state.tool !== "pan")) return;
    const [w, h] = size();
    const r = canvas.getBoundingClientRect();
    const [x0, x1] = gestureRange([pinched.x0, pinched.x1], r.left, w, g.x0, g.x, g.scale, false);
    const [y0, y1] = gestureRange([pinched.y0, pinched.y1], r.top, h, g.y0, g.y, g.scale, true);
    state.view = { x0, x1, y0, y1 };
    request();
  }, () => {
    drag = null;
    pinched = { ...state.view };
  });
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onCancel);
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("dblclick", onDouble);
  const resize = new ResizeObserver(() => request());
  resize.observe(root);
  const onLinked = () => { // the linked charts filter the map while a gesture goes on (no box or lasso drawn)
    if (!state.index || shape || data.selection) return;
    select(null);
    state.linkedSince = globalThis.__vaeMapHighlight ? globalThis.__vaeMapHighlight.since : null;
    request();
  };
  document.addEventListener("vae-map-highlight", onLinked);

  if (data.background) {
    const img = new Image();
    img.onload = () => {
      background = img;
      request();
    };
    img.src = data.background.src;
  }
  const ready = (cls) => {
    state.cls = cls;
    if (!state.index) state.index = buildIndex(state.xy, cls, data.bounds);
    else state.index.cls = sorted(cls, state.index.perm); // another colouring of the same codes
    state.colourUrl = data.classes;
    if (data.selection) select(data.selection);
    else if (!shape) select(null);
    request();
  };
  const failed = (err) => {
    caption.textContent = data.text.failed.replace("{reason}", String(err && err.message || err));
  };
  const colours = state.colours[data.classes]
    ? Promise.resolve(state.colours[data.classes])
    : fetchArray(data.classes, Uint8Array).then((c) => (state.colours[data.classes] = c));
  if (state.xy) {
    if (state.colourUrl === data.classes) ready(state.cls);
    else colours.then(ready, failed);
  } else {
    caption.textContent = data.text.loading;
    Promise.all([fetchArray(data.coords, Float32Array), colours]).then(([xy, cls]) => {
      state.xy = xy;
      ready(cls);
    }, failed);
  }
  const cleanup = () => {
    if (raf) cancelAnimationFrame(raf);
    unthumb();
    resize.disconnect();
    document.removeEventListener("vae-map-highlight", onLinked);
    canvas.removeEventListener("pointerdown", onDown);
    canvas.removeEventListener("pointermove", onMove);
    canvas.removeEventListener("pointerup", onUp);
    canvas.removeEventListener("pointercancel", onCancel);
    stopTwo();
    canvas.removeEventListener("wheel", onWheel);
    canvas.removeEventListener("dblclick", onDouble);
  };
  parentElement.__vaeBigMapCleanup = cleanup;
  return () => {
    if (parentElement.__vaeBigMapCleanup === cleanup) {
      parentElement.__vaeBigMapCleanup = null;
      cleanup();
    }
  };
}

// A view of the data rectangle with equal units on both axes, centred, filling w x h pixels.
function fit(b, w, h) {
  const per = Math.max((b.x1 - b.x0) / w, (b.y1 - b.y0) / h);
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  return { x0: cx - (per * w) / 2, x1: cx + (per * w) / 2, y0: cy - (per * h) / 2, y1: cy + (per * h) / 2 };
}

function toData(v, w, h, px, py) {
  return [v.x0 + (px / w) * (v.x1 - v.x0), v.y1 - (py / h) * (v.y1 - v.y0)];
}

function toPixel(v, w, h, x, y) {
  return [((x - v.x0) / (v.x1 - v.x0)) * w, ((v.y1 - y) / (v.y1 - v.y0)) * h];
}
