// Interpolate: a scrub slider along the path from A to B, decoding live while it moves.
// The code at t is the page's twin of vae.explore.latent.path_point (linear or spherical).

import { Runner, noteInput, statsFor } from "./runner.js";
import { LIVE, decode, loadSession, reasonOf } from "./runtime.js";
import { paint, toBytes } from "./pixels.js";
import { floatingCopy, watchSliders } from "./sliders.js";
import { ensureRoot, setLive, showServerView } from "./view.js";

/**
 * The code at t in [0, 1] on the path from a to b, as vae.explore.latent.path_point computes it.
 * @param {number[]} a
 * @param {number[]} b
 * @param {number} t
 * @param {"lerp"|"slerp"} kind
 * @returns {Float64Array}
 */
export function pathPoint(a, b, t, kind) {
  const lerp = () => Float64Array.from(a, (v, j) => (1 - t) * v + t * b[j]);
  if (kind !== "slerp") return lerp();
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  if (na < 1e-8 || nb < 1e-8) return lerp();
  const cos = Math.min(1, Math.max(-1, a.reduce((s, v, j) => s + (v / na) * (b[j] / nb), 0)));
  const omega = Math.acos(cos);
  if (Math.sin(omega) < 1e-6) return lerp();
  const s = Math.sin(omega);
  return Float64Array.from(a, (v, j) => (Math.sin((1 - t) * omega) * v + Math.sin(t * omega) * b[j]) / s);
}

const SCRUB_HTML = `
  <img class="vae-live-server" alt="">
  <div class="vae-live-view">
    <canvas class="vae-live-image"></canvas>
    <div class="vae-live-caption" data-role="caption"></div>
  </div>
  <div class="vae-live-note" hidden></div>`;

/**
 * Mount the scrub mode.
 * @param {HTMLElement} parent
 * @param {object} data label (the scrub slider's), t, a, b, kind, decoder, runtime, image, text, and
 *   server (the server's decode at t, a PNG data: URL, shown until the page draws or where it cannot)
 * @returns {() => void} cleanup
 */
export function mountScrub(parent, data) {
  const el = ensureRoot(parent, "scrub", SCRUB_HTML);
  if (el.matches(".vae-live:not(.vae-live--waiting):not(.vae-live--off)")) showServerView(data.hide, false);
  const image = el.querySelector(".vae-live-image");
  const caption = el.querySelector('[data-role="caption"]');
  const floating = floatingCopy(image); // the image in view while a finger scrubs
  const server = el.querySelector(".vae-live-server");
  if (server.getAttribute("src") !== data.server) server.src = data.server;
  server.title = data.text.server;
  const stats = statsFor(LIVE, "scrub");
  let t = data.t;
  let model = null;
  let seq;
  let tInput;
  const runner = new Runner(
    async (req) => toBytes(await decode(model, req.z)),
    (bytes, req) => {
      paint(image, bytes, data.image.shape, data.image.factor);
      floating.draw();
      caption.textContent = data.text.caption.replace("{t}", req.at.toFixed(2));
      LIVE.last.scrub = { t: req.at, z: Array.from(req.z) };
      setLive(el, data, null);
    },
    (err) => fail(err),
    stats,
  );
  const fail = (err) => {
    runner.stop();
    LIVE.failures.scrub = reasonOf(err);
    setLive(el, data, LIVE.failures.scrub);
  };
  const request = () => runner.request({ z: pathPoint(data.a, data.b, t, data.kind), at: t, seq, t: tInput });
  const stop = watchSliders(
    { [data.label]: 0 },
    (values) => {
      if (values[0] === undefined) return;
      t = values[0];
      if (model) request();
    },
    (time) => {
      tInput = time;
      seq = noteInput(stats, time);
    },
    floating.follow,
  );
  loadSession(data.runtime, data.decoder).then((m) => {
    model = m;
    request();
  }, fail);
  return () => {
    runner.stop();
    stop();
    floating.remove();
    showServerView(data.hide, true);
  };
}
