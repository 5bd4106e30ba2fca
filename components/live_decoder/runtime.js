// onnxruntime-web, loaded once per page from the app's own static files, and the models'
// inference sessions, created once per model URL. Every mount of the component shares them
// (and the test/benchmark hook) through one object on globalThis.

/** State shared by every mount of the live decoder in this page. */
export const LIVE = (globalThis.__vaeLive ??= {
  ort: null, // Promise of the onnxruntime-web module
  sessions: new Map(), // model URL -> Promise of {ort, session}
  assets: new Map(), // URL -> Promise of a fetched Float32Array or a loaded Image
  stats: {}, // mode -> {inputs: [[seq, t]], draws: [[seq, tInput, tDrawn]]}, read by the benchmarks
  last: {}, // mode -> what it drew last (code, map position), read by the browser tests
  ready: {}, // mode -> time of its first live frame (performance.now())
  failures: {}, // mode -> why live decoding is off
  events: [], // [time, mode, what] of each mount's life (mounted, loaded, drawn, stopped), read by the tests
});
LIVE.events ??= []; // (the state may come from an older copy of this module)

/**
 * Note a step in a mount's life (the last 200 are kept): what a test that waited in vain reports.
 * @param {string} mode
 * @param {string} what
 */
export function note(mode, what) {
  LIVE.events.push([Math.round(performance.now()), mode, what]);
  if (LIVE.events.length > 200) LIVE.events.splice(0, LIVE.events.length - 200);
}

// The smallest module that uses a v128 instruction (from wasm-feature-detect): validates only with SIMD.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1,
  8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** An error whose message is the reason shown to the user (completes "Live decoding is off: ..."). */
export class LiveUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = "LiveUnavailable"; // checked by name: the state above may come from another copy of this module
  }
}

function short(err) {
  return String(err && err.message ? err.message : err).split("\n")[0].slice(0, 160);
}

/**
 * Why this browser cannot run the model in the page, or null when it can.
 * @returns {string|null}
 */
export function browserProblem() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    return "this browser has WebAssembly switched off";
  }
  try {
    if (!WebAssembly.validate(SIMD_PROBE)) return "this browser's WebAssembly lacks SIMD";
  } catch (err) {
    return `this browser's WebAssembly cannot be checked (${short(err)})`;
  }
  return null;
}

/**
 * The onnxruntime-web module, imported once per page, set to the wasm backend with one thread
 * (Streamlit pages are not cross-origin isolated, so there is no SharedArrayBuffer for more).
 * @param {{module: string, wasm: string}} runtime URLs of the ES module and its .wasm binary
 * @returns {Promise<object>}
 */
export function loadRuntime(runtime) {
  if (!LIVE.ort) {
    const problem = browserProblem();
    LIVE.ort = problem
      ? Promise.reject(new LiveUnavailable(problem))
      : import(new URL(runtime.module, location.href).href).then( // absolute: this module's own URL is a blob:
        (ort) => {
          ort.env.wasm.numThreads = 1;
          ort.env.wasm.proxy = false;
          ort.env.wasm.wasmPaths = { wasm: new URL(runtime.wasm, location.href).href }; // the glue is in the bundle
          ort.env.logLevel = "error";
          return ort;
        },
        (err) => {
          throw new LiveUnavailable(`the in-browser runtime is missing on the server (${short(err)})`);
        },
      );
    LIVE.ort.catch(() => {}); // reported by whoever awaits it
  }
  return LIVE.ort;
}

/**
 * The bytes of one ONNX model, fetched once per URL.
 * @param {string} url
 * @returns {Promise<Uint8Array>}
 */
export function loadModelBytes(url) {
  const key = `model:${url}`;
  let entry = LIVE.assets.get(key);
  if (!entry) {
    entry = fetch(url).then((r) => {
      if (!r.ok) throw new LiveUnavailable(`the model could not be loaded in the page (HTTP ${r.status})`);
      return r.arrayBuffer();
    }).then((buf) => new Uint8Array(buf));
    LIVE.assets.set(key, entry);
    entry.catch(() => LIVE.assets.delete(key));
  }
  return entry;
}

/**
 * An inference session of one ONNX model, created once per URL. The model's bytes are fetched at
 * once, beside the runtime's import (not after it): the two downloads overlap.
 * @param {{module: string, wasm: string}} runtime
 * @param {string} url the model file (content-addressed: ?v= its digest)
 * @returns {Promise<{ort: object, session: object}>}
 */
export function loadSession(runtime, url) {
  let entry = LIVE.sessions.get(url);
  if (!entry) {
    const bytes = loadModelBytes(url);
    bytes.catch(() => {}); // reported below, after the runtime's own problem if it has one
    entry = loadRuntime(runtime).then((ort) => bytes.then((data) =>
      ort.InferenceSession.create(data, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }).then(
        (session) => ({ ort, session }),
        (err) => {
          const why = short(err);
          // no backend: the .wasm binary itself did not load or compile
          throw new LiveUnavailable(/backend/i.test(why)
            ? `the in-browser runtime could not start (${why})`
            : `the model could not be loaded in the page (${why})`);
        },
      )));
    LIVE.sessions.set(url, entry);
    entry.catch(() => LIVE.sessions.delete(url)); // a later mount may try again
  }
  return entry;
}

/**
 * Start everything a mount needs at once (the runtime, the model, the map data), and hand it over
 * when all is there; a problem of the runtime is the one told, whatever else failed too.
 * @param {{module: string, wasm: string}} runtime
 * @param {Promise[]} loads the mount's other loads, already started
 * @returns {Promise<Array>} their results
 */
export function whenLoaded(runtime, loads) {
  for (const p of loads) p.catch(() => {}); // awaited below: no unhandled rejection meanwhile
  return loadRuntime(runtime).then(() => Promise.all(loads));
}

/**
 * Decode one latent code.
 * @param {{ort: object, session: object}} model a decoder session
 * @param {ArrayLike<number>} z the code (D,)
 * @returns {Promise<{data: Float32Array, dims: number[]}>} the image (1, C, H, W) in [0, 1]
 */
export async function decode(model, z) {
  const input = new model.ort.Tensor("float32", Float32Array.from(z), [1, z.length]);
  const out = await runExclusive(model, { z: input });
  return out.image;
}

/**
 * Run a session after the runs already asked of it: every mount and the sliders' strips share one
 * session per model, and a session runs one thing at a time.
 * @param {{ort: object, session: object}} model
 * @param {object} feeds
 * @returns {Promise<object>} the run's outputs
 */
export function runExclusive(model, feeds) {
  const run = (model.queue ?? Promise.resolve()).then(() => model.session.run(feeds));
  model.queue = run.catch(() => {});
  return run;
}

/**
 * Encode one image to its posterior mean.
 * @param {{ort: object, session: object}} model an encoder session
 * @param {Float32Array} x the image (C*H*W,) in [0, 1]
 * @param {number[]} shape [C, H, W]
 * @returns {Promise<Float32Array>} mu (D,)
 */
export async function encodeMean(model, x, shape) {
  const input = new model.ort.Tensor("float32", x, [1, ...shape]);
  const out = await runExclusive(model, { x: input });
  return out.mu.data;
}

/**
 * A binary float32 array or an image from the server, fetched once per URL.
 * @param {string} url
 * @param {"f32"|"f16"|"image"} kind  "f16": little-endian float16 values, returned as float32
 * @returns {Promise<Float32Array|HTMLImageElement>}
 */
export function loadAsset(url, kind) {
  let entry = LIVE.assets.get(url);
  if (!entry) {
    entry = kind === "image"
      ? new Promise((resolve, reject) => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = () => reject(new LiveUnavailable(`the map picture could not be loaded (${url})`));
        img.src = url;
      })
      : fetch(url).then((r) => {
        if (!r.ok) throw new LiveUnavailable(`the map data could not be loaded (HTTP ${r.status})`);
        return r.arrayBuffer();
      }).then((buf) => (kind === "f16" ? halfToFloat(new Uint16Array(buf)) : new Float32Array(buf)));
    LIVE.assets.set(url, entry);
    entry.catch(() => LIVE.assets.delete(url));
  }
  return entry;
}

/**
 * float16 values (their bits, little-endian as written by NumPy's "<f2") as float32: exactly NumPy's
 * ``astype(np.float32)`` of the same array (zeros keep their sign; infinities and NaN stay so).
 * @param {Uint16Array} bits
 * @returns {Float32Array}
 */
export function halfToFloat(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const man = h & 0x3ff;
    out[i] = exp === 0 ? sign * man * 2 ** -24 // zero and the subnormals
      : exp === 31 ? (man ? NaN : sign * Infinity)
        : sign * (1024 + man) * 2 ** (exp - 25);
  }
  return out;
}

/**
 * The reason to show for an error: its own message when it is a LiveUnavailable, else a short one.
 * @param {unknown} err
 * @returns {string}
 */
export function reasonOf(err) {
  return err && err.name === "LiveUnavailable" ? err.message : `the page's decoder failed (${short(err)})`;
}
