// The Map page's linked charts, in the page (issue #34): one small chart per per-image column (class,
// reconstruction error, −ELBO, KL, posterior σ, your own columns). Dragging across a numeric chart keeps a range
// of its values, clicking bars keeps categories (shift-click, or a tap on a touch screen: several); while the
// pointer moves, every chart's coloured part and the map follow in the page, without waiting for the server:
// the charts count what passes the *other* charts' terms (crossfilter.js, the twin of vae.explore.crossfilter),
// and the map fades the images that do not pass. When the gesture ends, the terms go to the server (state value
// `filters`), which reruns the page: the link, the count and the map's own highlight then say the same.
//
// The map follows in map_follow.js, mounted beside the map (this panel may be closed, and its content is then not
// mounted): the terms set here reach it through the page-wide "vae-xf-terms" event. The same component, in its
// "map" mode.

import { DIGITS, Masks, categoryCounts, histogram, rounded, short, ticks } from "./crossfilter.js";
import { fetchValues, mountMap, same } from "./map_follow.js";

const GREY = "#d4d4d4"; // all images (pages/_map_filters.GREY)
const KEPT = "#4c78a8"; // those passing, on a numeric chart (pages/_map_filters.KEPT)
const FADED = 0.25; // a bar outside the brush or the chosen categories
const CLICK_PX = 3; // a drag shorter than this is a click (clears a numeric chart's range)


/**
 * Mount the charts.
 * @param {{data: object, parentElement: HTMLElement, setStateValue: Function}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  return component.data.mode === "map" ? mountMap(component) : mountCharts(component);
}

function mountCharts(component) {
  const { data, parentElement, setStateValue } = component;
  if (parentElement.__vaeXfCleanup) parentElement.__vaeXfCleanup();
  // kept across reruns while the table is the same: the values, the terms being set here
  let st = parentElement.__vaeXf;
  if (!st || st.key !== data.key) {
    st = { key: data.key, cols: null, server: null, terms: [], frames: [], drawn: 0 };
    parentElement.__vaeXf = st;
  }
  window.__vaeXf = st; // read by the browser tests and the benchmarks
  if (!same(st.server, data.filters)) { // a link, the clear button or our own report, applied by the server
    st.server = data.filters;
    st.terms = data.filters.map(([name, term]) => [name, { ...term }]);
  }
  const scale = data.scale || 1;
  const px = (v) => Math.round(v * scale);
  const font = `${px(10)}px "Source Sans Pro", "Source Sans 3", sans-serif`;

  let root = parentElement.querySelector(".vae-xf");
  if (!root) {
    root = document.createElement("div");
    root.className = "vae-xf";
    parentElement.appendChild(root);
  }
  const tip = root.querySelector(".vae-xf-tip") || Object.assign(document.createElement("div"), { className: "vae-xf-tip" });
  // while the terms here are newer than the server's: how many pass now (the count above says it after the rerun)
  const live = root.querySelector(".vae-xf-live") || Object.assign(document.createElement("div"), { className: "vae-xf-live" });
  live.setAttribute("aria-live", "polite");
  tip.hidden = true;
  const charts = data.columns.map((col) => {
    let box = root.querySelector(`.vae-xf-chart[data-name="${CSS.escape(col.name)}"]`);
    if (!box) {
      box = document.createElement("div");
      box.className = "vae-xf-chart";
      box.dataset.name = col.name;
      box.dataset.kind = col.kind;
      box.innerHTML = '<div class="vae-xf-title"></div><canvas></canvas>';
    }
    box.querySelector(".vae-xf-title").textContent = col.title;
    const canvas = box.querySelector("canvas");
    canvas.setAttribute("aria-label", `${col.title}: ${data.text.keys}`);
    canvas.tabIndex = 0;
    const rows = col.kind === "cat" ? col.categories.length : 0;
    const plot = col.kind === "cat" ? Math.min(px(15) * rows, px(300)) : px(90);
    const height = plot + (col.kind === "cat" ? px(6) : px(22));
    canvas.style.height = `${height}px`;
    canvas.style.touchAction = "pan-y"; // a finger across a chart brushes it, up and down scrolls the page
    return { col, box, canvas, plot, height, counts: null };
  });
  root.replaceChildren(live, ...charts.map((c) => c.box), tip);
  root.style.setProperty("--vae-xf-min", `${px(190)}px`); // three side by side at 1024×768
  root.style.setProperty("--vae-xf-font", `${px(13)}px`);

  const within = data.within ? new Uint8Array(data.n) : null;
  if (within) for (const i of data.within) within[i] = 1;

  // -- what passes --------------------------------------------------------------------------------------------
  let raf = 0;
  const recompute = () => {
    const masks = new Masks(st.cols, st.terms, data.n);
    for (const c of charts) {
      const keep = masks.without(c.col.name);
      if (within) for (let i = 0; i < data.n; i++) keep[i] &= within[i];
      const values = st.cols[c.col.name];
      c.counts = c.col.kind === "cat"
        ? categoryCounts(values, c.col.categories.length, keep)
        : histogram(values, keep, c.col.edges);
    }
    st.passing = masks.without(null).reduce((a, b) => a + b, 0);
  };
  const local = () => !same(st.terms, st.server); // the terms differ from those the page was drawn with
  // the terms, for the map (map_follow.js, mounted beside it: this panel may be closed, and then not mounted)
  const publish = () => {
    const link = { key: data.key, terms: st.terms, server: st.server, since: st.moveAt ?? null };
    st.moveAt = null;
    globalThis.__vaeXfLink = link;
    document.dispatchEvent(new CustomEvent("vae-xf-terms", { detail: link }));
  };
  const draw = () => {
    raf = 0;
    if (!st.cols) return;
    const t0 = performance.now();
    recompute();
    for (const c of charts) drawChart(c);
    publish();
    live.hidden = !local();
    live.textContent = data.text.passing.replace("{n}", st.passing.toLocaleString())
      .replace("{total}", data.n.toLocaleString());
    const ms = performance.now() - t0; // the charts' own redraw
    st.frames.push(ms);
    if (st.frames.length > 2000) st.frames.splice(0, 1000);
    st.drawn += 1;
  };
  const request = () => {
    if (!raf) raf = requestAnimationFrame(draw);
  };

  // -- the charts ---------------------------------------------------------------------------------------------
  const term = (name) => (st.terms.find(([n]) => n === name) || [null, null])[1];
  const setTerm = (name, t) => {
    const kept = st.terms.filter(([n]) => n !== name);
    if (t && !(t.codes && !t.codes.length)) kept.push([name, t]);
    st.terms = kept;
    request();
  };
  const layoutOf = (c) => {
    const w = Math.max(120, c.canvas.clientWidth || c.box.clientWidth || 240);
    if (c.col.kind === "cat") {
      const label = Math.min(px(90), Math.round(w * 0.4));
      return { w, x0: label + 4, x1: w - px(8), y0: px(2), y1: px(2) + c.plot, label };
    }
    return { w, x0: px(4), x1: w - px(8), y0: px(3), y1: px(3) + c.plot };
  };
  const prepare = (c) => {
    const dpr = window.devicePixelRatio || 1;
    const L = layoutOf(c);
    if (c.canvas.width !== Math.round(L.w * dpr) || c.canvas.height !== Math.round(c.height * dpr)) {
      c.canvas.width = Math.round(L.w * dpr);
      c.canvas.height = Math.round(c.height * dpr);
    }
    const ctx = c.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, L.w, c.height);
    ctx.font = font;
    return [ctx, L];
  };
  const drawChart = (c) => {
    const [ctx, L] = prepare(c);
    const { all, kept } = c.counts;
    const top = Math.max(1, ...all);
    const t = term(c.col.name);
    if (c.col.kind === "cat") {
      const rows = all.length;
      const rowH = (L.y1 - L.y0) / rows;
      const labels = rowH >= px(9); // too many categories: no room for every name
      ctx.textBaseline = "middle";
      ctx.textAlign = "right";
      for (let k = 0; k < rows; k++) {
        const y = L.y0 + k * rowH;
        const bh = Math.max(1, rowH - (rowH > 4 ? 1.5 : 0));
        const width = (L.x1 - L.x0) * (all[k] / top);
        ctx.fillStyle = GREY;
        ctx.fillRect(L.x0, y, width, bh);
        ctx.globalAlpha = t && !t.codes.includes(k) ? FADED : 1;
        ctx.fillStyle = c.col.colours ? c.col.colours[k] : KEPT;
        ctx.fillRect(L.x0, y, (L.x1 - L.x0) * (kept[k] / top), bh);
        ctx.globalAlpha = 1;
        if (c.cursor === k && document.activeElement === c.canvas) { // the keyboard's bar
          ctx.strokeStyle = "#31333f";
          ctx.lineWidth = 1.5;
          ctx.strokeRect(L.x0 - 2, y - 0.5, L.x1 - L.x0 + 3, bh + 1);
        }
        if (labels) {
          ctx.fillStyle = "#31333f";
          ctx.fillText(clip(ctx, c.col.categories[k], L.label - 4), L.label, y + bh / 2);
        }
      }
      return;
    }
    const edges = c.col.edges;
    const lo = edges[0];
    const hi = edges[edges.length - 1];
    const x = (v) => L.x0 + ((v - lo) / (hi - lo || 1)) * (L.x1 - L.x0);
    const y = (v) => L.y1 - (v / top) * (L.y1 - L.y0);
    for (let k = 0; k < all.length; k++) {
      const a = x(edges[k]);
      const b = Math.max(a + 1, x(edges[k + 1]) - 1);
      ctx.fillStyle = GREY;
      ctx.fillRect(a, y(all[k]), b - a, L.y1 - y(all[k]));
      const inside = !t || (edges[k + 1] >= t.lo && edges[k] <= t.hi);
      ctx.globalAlpha = inside ? 1 : FADED;
      ctx.fillStyle = KEPT;
      ctx.fillRect(a, y(kept[k]), b - a, L.y1 - y(kept[k]));
      ctx.globalAlpha = 1;
    }
    if (t) { // the brush
      const a = Math.max(L.x0, x(t.lo ?? lo));
      const b = Math.min(L.x1, x(t.hi ?? hi));
      ctx.fillStyle = "rgba(51, 51, 51, 0.12)";
      ctx.fillRect(a, L.y0, Math.max(1, b - a), L.y1 - L.y0);
      ctx.strokeStyle = "#555";
      ctx.lineWidth = 1;
      ctx.strokeRect(a + 0.5, L.y0 + 0.5, Math.max(1, b - a - 1), L.y1 - L.y0 - 1);
    }
    ctx.strokeStyle = "#888"; // the axis
    ctx.beginPath();
    ctx.moveTo(L.x0, L.y1 + 0.5);
    ctx.lineTo(L.x1, L.y1 + 0.5);
    ctx.stroke();
    ctx.fillStyle = "#31333f";
    ctx.textBaseline = "top";
    ctx.textAlign = "center";
    let right = -Infinity;
    for (const v of ticks(lo, hi, 4)) {
      const text = short(v);
      const at = Math.min(Math.max(x(v), L.x0 + ctx.measureText(text).width / 2), L.x1);
      if (at - ctx.measureText(text).width / 2 < right + 4) continue;
      ctx.fillRect(at, L.y1, 1, 3);
      ctx.fillText(text, at, L.y1 + 4);
      right = at + ctx.measureText(text).width / 2;
    }
  };

  // -- gestures -------------------------------------------------------------------------------------------------
  let drag = null;
  const valueAt = (c, L, clientX) => {
    const r = c.canvas.getBoundingClientRect();
    const edges = c.col.edges;
    const lo = edges[0];
    const hi = edges[edges.length - 1];
    const f = Math.min(Math.max((clientX - r.left - L.x0) / (L.x1 - L.x0), 0), 1);
    return lo + f * (hi - lo);
  };
  const rowAt = (c, L, clientY) => {
    const r = c.canvas.getBoundingClientRect();
    const k = Math.floor(((clientY - r.top - L.y0) / (L.y1 - L.y0)) * c.col.categories.length);
    return k >= 0 && k < c.col.categories.length ? k : -1;
  };
  const report = () => {
    st.sent = st.terms.map(([name, t]) => [name, { ...t }]);
    setStateValue("filters", { terms: st.sent, seq: Date.now() });
  };
  const handlers = charts.map((c) => {
    const down = (e) => {
      if (e.button > 0 || !st.cols) return;
      tip.hidden = true;
      const L = layoutOf(c);
      if (c.col.kind === "cat") {
        drag = { c, cat: true, x: e.clientX, y: e.clientY };
        return;
      }
      const v = valueAt(c, L, e.clientX);
      const t = term(c.col.name);
      const inside = t && v >= (t.lo ?? -Infinity) && v <= (t.hi ?? Infinity);
      drag = { c, L, x: e.clientX, start: v, move: inside ? { ...t } : null, moved: false };
      c.canvas.setPointerCapture?.(e.pointerId);
      e.preventDefault();
    };
    const move = (e) => {
      if (!drag || drag.c !== c) {
        hover(c, e);
        return;
      }
      if (drag.cat) return;
      if (Math.abs(e.clientX - drag.x) < CLICK_PX && !drag.moved) return;
      drag.moved = true;
      drag.t0 = drag.t0 ?? performance.now();
      const v = valueAt(c, drag.L, e.clientX);
      const edges = c.col.edges;
      const lo = edges[0];
      const hi = edges[edges.length - 1];
      let a;
      let b;
      if (drag.move) { // the brush moved whole, kept inside the axis
        const width = drag.move.hi - drag.move.lo;
        a = Math.min(Math.max(drag.move.lo + (v - drag.start), lo), hi - width);
        b = a + width;
      } else {
        a = Math.min(drag.start, v);
        b = Math.max(drag.start, v);
      }
      setTerm(c.col.name, rounded(a, b, DIGITS));
      st.moveAt ??= e.timeStamp; // the first move not drawn yet: brush -> map redrawn starts here (benchmarks)
    };
    const up = (e) => {
      if (!drag || drag.c !== c) return;
      const d = drag;
      drag = null;
      if (d.cat) {
        if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 6) return; // a swipe, not a tap
        const k = rowAt(c, layoutOf(c), e.clientY);
        const t = term(c.col.name);
        const codes = t ? [...t.codes] : [];
        let next;
        if (k < 0) next = null; // a click beside the bars clears the chart
        else if (e.shiftKey || e.metaKey || e.ctrlKey || e.pointerType === "touch") {
          next = codes.includes(k) ? codes.filter((j) => j !== k) : [...codes, k].sort((p, q) => p - q);
        } else next = codes.length === 1 && codes[0] === k ? [] : [k];
        setTerm(c.col.name, next && next.length ? { codes: next } : null);
        report();
        return;
      }
      if (!d.moved) setTerm(c.col.name, null); // a click on a numeric chart clears its range
      report();
    };
    const cancel = () => {
      drag = null;
    };
    const leave = () => {
      tip.hidden = true;
    };
    c.canvas.addEventListener("pointerdown", down);
    c.canvas.addEventListener("pointermove", move);
    c.canvas.addEventListener("pointerup", up);
    c.canvas.addEventListener("pointercancel", cancel);
    c.canvas.addEventListener("pointerleave", leave);
    // the keyboard: a category chart's ↑ ↓ choose a bar, Space or Enter keeps it (or not); a numeric chart's ← →
    // move its range a bin (with Shift: its upper end), a range starting from the bin at the left; Esc clears
    const key = (e) => {
      if (!st.cols) return;
      const t = term(c.col.name);
      if (e.key === "Escape") {
        if (!t) return;
        setTerm(c.col.name, null);
      } else if (c.col.kind === "cat") {
        const n = c.col.categories.length;
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          c.cursor = Math.min(Math.max((c.cursor ?? -1) + (e.key === "ArrowDown" ? 1 : -1), 0), n - 1);
          request();
          e.preventDefault();
          return;
        }
        if ((e.key !== " " && e.key !== "Enter") || c.cursor === undefined) return;
        const codes = t ? [...t.codes] : [];
        const next = codes.includes(c.cursor) ? codes.filter((j) => j !== c.cursor)
          : [...codes, c.cursor].sort((p, q) => p - q);
        setTerm(c.col.name, next.length ? { codes: next } : null);
      } else {
        if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
        const edges = c.col.edges;
        const lo = edges[0];
        const hi = edges[edges.length - 1];
        const bin = (hi - lo) / (edges.length - 1);
        const step = e.key === "ArrowRight" ? bin : -bin;
        const from = t ? { lo: t.lo ?? lo, hi: t.hi ?? hi } : { lo, hi: lo + bin };
        const a = e.shiftKey ? from.lo : Math.min(Math.max(from.lo + step, lo), hi - (from.hi - from.lo));
        const b = e.shiftKey ? Math.min(Math.max(from.hi + step, a + bin / 4), hi) : a + (from.hi - from.lo);
        setTerm(c.col.name, rounded(a, b, DIGITS));
      }
      e.preventDefault();
      clearTimeout(c.keyTimer);
      c.keyTimer = setTimeout(report, 400); // the server once the keys rest
    };
    c.canvas.addEventListener("keydown", key);
    c.canvas.addEventListener("focus", request);
    c.canvas.addEventListener("blur", request);
    return () => {
      c.canvas.removeEventListener("keydown", key);
      c.canvas.removeEventListener("focus", request);
      c.canvas.removeEventListener("blur", request);
      c.canvas.removeEventListener("pointerdown", down);
      c.canvas.removeEventListener("pointermove", move);
      c.canvas.removeEventListener("pointerup", up);
      c.canvas.removeEventListener("pointercancel", cancel);
      c.canvas.removeEventListener("pointerleave", leave);
    };
  });
  // a bar's values and counts under the pointer
  const hover = (c, e) => {
    if (!c.counts || e.pointerType === "touch") return;
    const L = layoutOf(c);
    let k;
    let what;
    if (c.col.kind === "cat") {
      k = rowAt(c, L, e.clientY);
      what = k >= 0 ? c.col.categories[k] : null;
    } else {
      const v = valueAt(c, L, e.clientX);
      const edges = c.col.edges;
      k = Math.min(Math.floor(((v - edges[0]) / (edges[edges.length - 1] - edges[0] || 1)) * (edges.length - 1)),
        edges.length - 2);
      what = k >= 0 ? `${short(edges[k])} – ${short(edges[k + 1])}` : null;
    }
    if (what === null) {
      tip.hidden = true;
      return;
    }
    tip.textContent = `${what} · ${data.text.all}: ${c.counts.all[k].toLocaleString()} · `
      + `${data.text.coloured}: ${c.counts.kept[k].toLocaleString()}`;
    const r = root.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - r.left + 12, r.width - 200)}px`;
    tip.style.top = `${e.clientY - r.top + 14}px`;
    tip.hidden = false;
  };

  const resize = new ResizeObserver(() => request());
  resize.observe(root);

  const ready = (values) => {
    st.cols = {};
    data.columns.forEach((col, j) => {
      st.cols[col.name] = values.subarray(j * data.n, (j + 1) * data.n);
    });
    st.url = data.values;
    request();
  };
  if (st.cols && st.url === data.values) request();
  else fetchValues(data.values).then(ready, (err) => {
    root.querySelector(".vae-xf-title")?.append(` (${String(err && err.message || err)})`);
  });

  const cleanup = () => {
    globalThis.__vaeActiveMounts.filter -= 1;
    if (raf) cancelAnimationFrame(raf);
    resize.disconnect();
    for (const off of handlers) off();
  };
  parentElement.__vaeXfCleanup = cleanup;
  const active = (globalThis.__vaeActiveMounts ??= {}); // mounts still listening, by component (read by the tests)
  active.filter = (active.filter || 0) + 1;
  return () => {
    if (parentElement.__vaeXfCleanup === cleanup) {
      parentElement.__vaeXfCleanup = null;
      cleanup();
      if (globalThis.__vaeXfLink && globalThis.__vaeXfLink.key === data.key) { // the panel closed: the server's terms
        globalThis.__vaeXfLink = null;
        document.dispatchEvent(new CustomEvent("vae-xf-terms", { detail: null }));
      }
    }
  };
}

function clip(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > width) t = t.slice(0, -1);
  return `${t}…`;
}
