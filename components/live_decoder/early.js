// The earliest start of live decoding: the app puts this module, with runtime.js, into the HTML of the pages that
// decode in the browser (frame/early_start.py), so that a browser starts onnxruntime-web (its 14 MB WebAssembly
// binary compiled once per page) and loads the decoder of the checkpoint in the link while it fetches and runs
// Streamlit's own scripts, not after them. The state is runtime.js's (globalThis.__vaeLive): the page's mounts,
// when they come, find the runtime started and the decoder's session made, or on its way, under the same URLs.

import { loadRuntime, loadSession, note } from "./runtime.js";

/**
 * Start the runtime and, where the page knows it, load the decoder; never an error on the page (a mount that
 * needs them says why they failed).
 * @param {{module: string, wasm: string}} runtime URLs of the runtime's ES module and its .wasm binary
 * @param {string|null} decoder the decoder's URL, or null (not exported yet: the page exports it, then loads it)
 */
export function startEarly(runtime, decoder) {
  note("early", decoder ? "start" : "start (runtime only)");
  const started = decoder ? loadSession(runtime, decoder) : loadRuntime(runtime);
  started.then(() => note("early", "ready"), () => {});
}
