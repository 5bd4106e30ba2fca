// The component's DOM in the page: one root per mount, kept across reruns (the canvases keep
// their pixels while Streamlit re-invokes the component with new data), and the server's own
// view, which the live view replaces once it draws.

/**
 * The component's root element for a mode, created on first use inside the mount's element.
 * @param {HTMLElement} parent the component's parentElement
 * @param {string} mode
 * @param {string} html the inner markup of a new root
 * @returns {HTMLElement}
 */
export function ensureRoot(parent, mode, html) {
  let el = parent.querySelector(":scope > .vae-live");
  if (!el || el.dataset.mode !== mode) {
    if (el) el.remove(); // only our own root: Streamlit keeps the component's <style> in the same element
    el = document.createElement("div");
    el.className = "vae-live vae-live--waiting";
    el.dataset.mode = mode;
    el.innerHTML = html;
    parent.appendChild(el);
  }
  return el;
}

/**
 * Show or hide the server-drawn elements (Streamlit containers with these keys).
 * @param {string[]} keys st.container keys
 * @param {boolean} visible
 */
export function showServerView(keys, visible) {
  for (const key of keys || []) {
    for (const node of document.querySelectorAll(`.st-key-${CSS.escape(key)}`)) {
      node.style.display = visible ? "" : "none";
    }
  }
}

/**
 * Switch a root to live (its view shown, the server's hidden) or to off (one line saying why).
 * @param {HTMLElement} el
 * @param {object} data the mount's data (hide: server container keys, text.off: "... {reason} ...")
 * @param {string|null} reason null: live
 */
export function setLive(el, data, reason) {
  el.classList.remove("vae-live--waiting");
  el.classList.toggle("vae-live--off", reason !== null);
  const note = el.querySelector(".vae-live-note");
  if (reason === null) {
    note.hidden = true;
    showServerView(data.hide, false);
  } else {
    note.textContent = data.text.off.replace("{reason}", reason);
    note.hidden = false;
    showServerView(data.hide, true);
  }
}

/**
 * While a root waits for its runtime and model, say so (``data.text.loading``, when the page gives one):
 * until the page can decode, the server's view stays and changes when Python hears the input.
 * @param {HTMLElement} el
 * @param {object} data the mount's data
 */
export function showLoading(el, data) {
  if (!el.classList.contains("vae-live--waiting") || !data.text || !data.text.loading) return;
  const note = el.querySelector(".vae-live-note");
  note.textContent = data.text.loading;
  note.hidden = false;
}
