// The live decoder component (Streamlit components v2): the loaded checkpoint's decoder (and
// encoder) run in the page with onnxruntime-web. Python mounts it in one of its modes (four draw; "warm" only loads); each
// mode lives in its own module. Where the page cannot decode (no WebAssembly, runtime or model
// missing), a mode says so in one line and the page keeps its server-drawn view.

import { LIVE, decode, encodeMean, halfToFloat, loadAsset, loadSession, note } from "./runtime.js";
import { toBytes } from "./pixels.js";
import { PageLatentMap, loadLatentMap } from "./latent_map.js";
import { mountSliders } from "./sliders.js";
import { mountHover } from "./hover.js";
import { mountScrub, pathPoint } from "./scrub.js";
import { mountDraw } from "./draw.js";
import { stripCodes } from "./strips.js";

/**
 * "warm": draws nothing; starts the runtime and loads the decoder now, so that the page's own mount, later
 * in the same run, finds them ready (LIVE.sessions keeps them for the page's lifetime).
 * @param {HTMLElement} el
 * @param {{runtime: {module: string, wasm: string}, decoder: string}} data
 * @returns {() => void}
 */
function mountWarm(el, data) {
  note("warm", "start");
  loadSession(data.runtime, data.decoder).then(() => note("warm", "ready"), () => {}); // a mount says why, if it fails
  return () => {};
}

const MODES = { sliders: mountSliders, hover: mountHover, scrub: mountScrub, draw: mountDraw, warm: mountWarm };

// What the browser tests and benchmarks call to hold the page against the server's twins.
LIVE.api ??= {
  /** 8-bit pixels (H*W*C) of the decode of z with the model at `url`. */
  decodeBytes: async (runtime, url, z) => Array.from(toBytes(await decode(await loadSession(runtime, url), z))),
  /** The posterior mean of image x (C*H*W floats) with the encoder at `url`. */
  encodeMean: async (runtime, url, x, shape) =>
    Array.from(await encodeMean(await loadSession(runtime, url), Float32Array.from(x), shape)),
  /** Map positions of codes and codes of map positions, with the page's twin of LatentMap. */
  mapBoth: async (spec, codes, spots) => {
    const m = spec.kind === "knn" ? await loadLatentMap(spec, loadAsset) : new PageLatentMap(spec);
    return { toMap: codes.map((z) => m.toMap(z)), toLatent: spots.map((xy) => m.toLatent(xy)) };
  },
  pathPoint: (a, b, t, kind) => Array.from(pathPoint(a, b, t, kind)),
  /** The sliders' strips' codes (K*T*D,), as the page computes them. */
  stripCodes: (origin, axes, coef, values) => Array.from(stripCodes(origin, axes, coef, values)),
  /** float16 bit patterns -> their values, as the page reads an "f16" file (NaN as null, as JSON has no NaN). */
  halfToFloat: (bits) => Array.from(halfToFloat(Uint16Array.from(bits)), (v) => (Number.isNaN(v) ? null : v)),
};

/**
 * Mount the component: dispatch to the mode named in the data.
 *
 * Streamlit calls this again with the new data after every rerun, on the same element, but runs
 * the returned cleanup only when the element goes away; so the previous mount's cleanup (kept on
 * the element) runs first here, or its listeners and decode loops would pile up, one per rerun.
 *
 * Streamlit may also run the returned cleanup while the element stays on the page (under load a
 * rerun can render the component twice within milliseconds and clean up the second mount at once,
 * with no third to follow): a mount therefore stops only when its element has left the page, or
 * when a newer mount replaces it, so that the page always keeps one live mount.
 * @param {{data: object, parentElement: HTMLElement, setStateValue: Function}} component
 * @returns {() => void} cleanup
 */
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const mount = MODES[data && data.mode];
  if (!mount) throw new Error(`live decoder: unknown mode ${data && data.mode}`);
  if (parentElement.__vaeLiveCleanup) parentElement.__vaeLiveCleanup();
  const cleanup = mount(parentElement, data, setStateValue);
  parentElement.__vaeLiveCleanup = cleanup;
  const stopWhenGone = () => {
    if (parentElement.__vaeLiveCleanup !== cleanup) return; // a newer mount has stopped this one
    if (parentElement.isConnected) {
      setTimeout(stopWhenGone, 1000); // still on the page: it may be drawn again, or leave later
      return;
    }
    parentElement.__vaeLiveCleanup = null;
    cleanup();
  };
  return () => setTimeout(stopWhenGone, 0);
}
