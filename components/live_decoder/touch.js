// Touch on the Map's Plotly chart. One finger belongs to the page: a swipe over the map scrolls it, as
// on any web page, and a tap is a click. Two fingers move the map: they pan it and pinch-zoom it.
//
// Plotly's own touch handling pans with one finger (the page cannot be scrolled past a map that fills
// the screen) and turns a tap into a click event without the selection a mouse click makes. So while
// the chart's tool is Pan, one-finger touches on its plot area never reach Plotly: the browser
// scrolls, and makes a tap into the mouse events of a click, which Plotly handles as it does the
// mouse's (the same point, the same selection). With the box, lasso or zoom tool the user has chosen
// to draw, and one finger is Plotly's.

const HINT_MS = 1500; // how long the two-finger hint stays after a one-finger swipe over the map
export const SWIPE_PX = 12; // a finger that moved this far is a swipe, not a tap

/**
 * Follow two-finger gestures on `el`: `move(g)` gets the gesture so far (start and current centroid,
 * client pixels, and the ratio of the fingers' distance now to at the start). The page neither
 * scrolls nor zooms under them.
 * @param {HTMLElement} el
 * @param {(g: {x0: number, y0: number, x: number, y: number, scale: number}) => void} move
 * @param {() => void} [start] called when a gesture begins
 * @returns {() => void} stops following
 */
export function twoFingers(el, move, start) {
  let g = null;
  const centre = (t) => [(t[0].clientX + t[1].clientX) / 2, (t[0].clientY + t[1].clientY) / 2];
  const span = (t) => Math.max(1, Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY));
  const onStart = (e) => {
    if (e.touches.length !== 2) {
      g = null;
      return;
    }
    const [x0, y0] = centre(e.touches);
    g = { x0, y0, d0: span(e.touches) };
    if (start) start();
  };
  const onMove = (e) => {
    if (!g || e.touches.length !== 2) return;
    if (e.cancelable) e.preventDefault(); // neither scroll nor zoom the page under the map
    const [x, y] = centre(e.touches);
    move({ x0: g.x0, y0: g.y0, x, y, scale: span(e.touches) / g.d0 });
  };
  const onEnd = (e) => {
    if (e.touches.length !== 2) g = null;
  };
  // capture phase: they see the touches even where a listener of the same element keeps them from its children
  el.addEventListener("touchstart", onStart, { capture: true, passive: true });
  el.addEventListener("touchmove", onMove, { capture: true, passive: false });
  el.addEventListener("touchend", onEnd, true);
  el.addEventListener("touchcancel", onEnd, true);
  return () => {
    el.removeEventListener("touchstart", onStart, true);
    el.removeEventListener("touchmove", onMove, true);
    el.removeEventListener("touchend", onEnd, true);
    el.removeEventListener("touchcancel", onEnd, true);
  };
}

/**
 * A view's ranges after a two-finger gesture: the data point that was under the fingers' first
 * centroid is under their centroid now, and the view is `scale` times smaller (zoomed in).
 * @param {number[]} range [lo, hi] at the gesture's start
 * @param {number} offset pixel of `lo` along the axis (from the same origin as `p0` and `p`)
 * @param {number} length pixels from `lo` to `hi`
 * @param {number} p0 the centroid at the start (pixels)
 * @param {number} p the centroid now
 * @param {number} scale
 * @param {boolean} flipped true when `lo` is drawn at the far end (a y axis: up is larger)
 * @returns {number[]}
 */
export function gestureRange(range, offset, length, p0, p, scale, flipped) {
  const [lo, hi] = range;
  const f0 = (p0 - offset) / length; // share of the axis from its drawn start
  const f = (p - offset) / length;
  const w = hi - lo;
  const under = flipped ? hi - f0 * w : lo + f0 * w; // the data value under the first centroid
  const w2 = w / scale;
  return flipped ? [under + f * w2 - w2, under + f * w2] : [under - f * w2, under - f * w2 + w2];
}

/**
 * Touch for a Plotly chart (see the top of this file); `hint` is a short sentence shown over the map
 * when one finger swipes over it (e.g. "Two fingers move the map").
 * @param {HTMLElement} gd a plotly.js graph div
 * @param {string} hint
 * @returns {() => void} cleanup
 */
export function plotlyTouch(gd, hint) {
  const panning = () => gd._fullLayout && gd._fullLayout.dragmode === "pan";
  const onPlot = (e) => e.target instanceof Element && e.target.closest(".draglayer, .nsewdrag");
  let swipe = null;
  // capture phase on the chart: Plotly's own listeners sit on the plot area inside it
  const keep = (e) => {
    if (!panning() || !onPlot(e)) return;
    e.stopPropagation();
    if (e.type === "touchstart") {
      const t = e.touches[0];
      swipe = e.touches.length === 1 ? { x: t.clientX, y: t.clientY, told: false } : null;
    } else if (e.type === "touchmove" && swipe && !swipe.told && e.touches.length === 1) {
      const t = e.touches[0];
      if (Math.hypot(t.clientX - swipe.x, t.clientY - swipe.y) > SWIPE_PX) {
        swipe.told = true;
        showHint(gd, hint);
      }
    }
  };
  const types = ["touchstart", "touchmove", "touchend", "touchcancel"];
  for (const t of types) gd.addEventListener(t, keep, { capture: true, passive: true });
  gd.style.touchAction = "pan-x pan-y"; // the page scrolls under one finger; two are the map's
  let ranges = null;
  let frame = 0;
  const stopTwo = twoFingers(gd, (g) => {
    const Plotly = window.Plotly;
    const fl = gd._fullLayout;
    if (!panning() || !ranges || !Plotly || !fl || !fl.xaxis) return;
    const r = gd.getBoundingClientRect();
    const x = gestureRange(ranges.x, r.left + fl.xaxis._offset, fl.xaxis._length, g.x0, g.x, g.scale, false);
    const y = gestureRange(ranges.y, r.top + fl.yaxis._offset, fl.yaxis._length, g.y0, g.y, g.scale, true);
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => Plotly.relayout(gd, { "xaxis.range": x, "yaxis.range": y }));
  }, () => {
    const fl = gd._fullLayout;
    ranges = fl && fl.xaxis ? { x: fl.xaxis.range.slice(), y: fl.yaxis.range.slice() } : null;
    swipe = null;
  });
  return () => {
    for (const t of types) gd.removeEventListener(t, keep, { capture: true });
    stopTwo();
    cancelAnimationFrame(frame);
  };
}

/**
 * Show `text` over a map for a moment (a swipe that scrolled the page instead of moving the map).
 * @param {HTMLElement} box the map's element (positioned, or given a position here)
 * @param {string} text
 */
export function showHint(box, text) {
  if (!text) return;
  let el = box.querySelector(":scope > .vae-map-hint");
  if (!el) {
    el = document.createElement("div");
    el.className = "vae-map-hint";
    if (getComputedStyle(box).position === "static") box.style.position = "relative";
    box.appendChild(el);
  }
  el.textContent = text;
  el.hidden = false;
  clearTimeout(el.__timer);
  el.__timer = setTimeout(() => {
    el.hidden = true;
  }, HINT_MS);
}
