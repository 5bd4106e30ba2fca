// The guided tour's focus (Streamlit components v2): when a tour step opens, the page scrolls so
// that the step's figure, the element its talking points are about, sits in the window below the
// tour's bar, and keeps it there while the page lays itself out (images, charts and components
// arrive after the elements above them) and while the reader works the step's widgets (a click that
// brings a new figure, as Start does on Train, brings it into view), until the reader scrolls the
// page or leaves it. A window resized before that (a lecturer moving the browser to the projector)
// re-aligns it. A rerun of the same opening never scrolls again once the reader has scrolled.

const FOCUS = (globalThis.__vaeTourFocus ??= { opening: null, stop: null });
const TICK_MS = 150; // how often the figure's place is checked while the tour holds it
const GAP_PX = 8; // space kept between the figure and the bar above it / the window's edge below
const SCROLL_KEYS = new Set(["PageUp", "PageDown", "Home", "End", "ArrowUp", "ArrowDown", " "]);

/** The element that scrolls the page (Streamlit's main area). */
function scroller() {
  return document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
}

/**
 * The window's rows left to the figure, [top, bottom] in window pixels: below the tour's bar as it
 * stands once the page is scrolled (sticky at its CSS `top`), above the window's bottom edge.
 * @returns {[number, number]}
 */
export function freeRows() {
  const bar = document.querySelector(".st-key-tour_bar");
  const box = bar && (bar.closest('[data-testid="stLayoutWrapper"]') || bar);
  let top = 0;
  if (box) {
    const cs = getComputedStyle(box);
    const stuck = cs.position === "sticky" ? parseFloat(cs.top) || 0 : null;
    top = (stuck ?? box.getBoundingClientRect().top) + box.getBoundingClientRect().height;
  }
  return [top + GAP_PX, window.innerHeight - GAP_PX];
}

/**
 * The scroll position that shows `el` whole in the free rows: centred there (`centre`), or moved as
 * little as it takes; an element taller than them starts at their top.
 * @param {HTMLElement} el
 * @param {HTMLElement} sc
 * @param {boolean} centre
 * @returns {number}
 */
export function wantedScroll(el, sc, centre) {
  const [top, bottom] = freeRows();
  const r = el.getBoundingClientRect();
  const room = bottom - top;
  let at = r.top; // where its top should be, in window pixels
  if (r.height > room || r.top < top) at = top;
  else if (centre) at = top + (room - r.height) / 2;
  else if (r.bottom > bottom) at = bottom - r.height;
  const max = sc.scrollHeight - sc.clientHeight;
  return Math.max(0, Math.min(max, sc.scrollTop + r.top - at));
}

/**
 * The focus: the first of `selectors` (in their order) that matches an element drawn on the page.
 * @param {string[]} selectors
 * @returns {HTMLElement | null}
 */
export function focusElement(selectors) {
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (r.width >= 1 && r.height >= 1) return el;
    }
  }
  return null;
}

/**
 * Whether an input event is the reader scrolling the page: the wheel, a finger dragging, a scroll
 * key outside a widget (arrows move a focused slider), a press on the page's scroll bar.
 * @param {Event} e
 */
function scrolls(e) {
  if (e.type === "wheel" || e.type === "touchmove") return true;
  const t = e.target;
  if (e.type === "keydown") {
    return SCROLL_KEYS.has(e.key) && !(t && t.closest && t.closest("input, textarea, select, [role=slider], [contenteditable]"));
  }
  return e.type === "pointerdown" && t === scroller(); // on the scroll bar, not on the page's content
}

/**
 * Hold the focus (see focusElement) in view until the reader scrolls, the page changes or a new
 * opening begins: centred while the page lays itself out, then (once the reader works a widget)
 * moved only when it would leave the window, so that the widget under the reader's hand stays put.
 */
function hold(selectors) {
  let timer = null;
  let centre = true;
  const path = location.pathname;
  const input = (e) => (scrolls(e) ? stop() : (centre = false));
  const types = ["wheel", "touchmove", "keydown", "pointerdown"];
  const stop = () => {
    clearInterval(timer);
    types.forEach((t) => window.removeEventListener(t, input, true));
    if (FOCUS.stop === stop) FOCUS.stop = null;
  };
  const tick = () => {
    if (location.pathname !== path) return stop(); // another page: the step's own is left
    const el = focusElement(selectors);
    if (!el) return; // not drawn yet
    const sc = scroller();
    const want = wantedScroll(el, sc, centre);
    if (Math.abs(sc.scrollTop - want) > 1) sc.scrollTop = want;
  };
  types.forEach((t) => window.addEventListener(t, input, { capture: true, passive: true }));
  timer = setInterval(tick, TICK_MS);
  tick();
  return stop;
}

/**
 * Mount: hold the step's figure in view once per opening of a step.
 * @param {{data: {selectors: string[], opening: string}}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  const { selectors, opening } = component.data || {};
  if (!selectors || !selectors.length || opening === FOCUS.opening) return () => {};
  if (FOCUS.stop) FOCUS.stop();
  FOCUS.opening = opening;
  FOCUS.stop = hold(selectors);
  return () => {}; // the hold outlives this element's reruns; the reader, another page or the next opening ends it
}
