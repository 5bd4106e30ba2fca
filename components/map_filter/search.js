// The Map's search box answered in the page, for what it can answer here: the twin of
// vae.explore.neighbours.search for an image's number and a class's name (in any of the app's languages). The
// server answers the same text on its rerun; where the page cannot (file names, your own text columns, a letter
// whose case folding JavaScript does not share with Python), it leaves the search to the server.

const INDEX = /^#?\s*(\d+)$/;

/**
 * The text as the server reads it: runs of white space made one space, the ends trimmed.
 * @param {string} text
 * @returns {string}
 */
export function normalised(text) {
  return String(text).split(/\s+/).filter((w) => w).join(" ");
}

/**
 * The images `text` names, or null where the page leaves it to the server.
 * @param {string} text the search box's text
 * @param {Float64Array} labels each image's class
 * @param {string[]} classes each class's names, case-folded by the server, one after another
 * @returns {Uint8Array|null} 1 for each image named; null: the server's to answer
 */
export function searchMask(text, labels, classes) {
  const query = normalised(text);
  const n = labels.length;
  if (!query || query.length > 100) return null; // nothing, or too long: the server says why
  const whole = INDEX.exec(query);
  if (whole) {
    const i = Number(whole[1]);
    if (!(i < n)) return null; // no such image: the server says so
    const out = new Uint8Array(n);
    out[i] = 1;
    return out;
  }
  for (const ch of query) { // a cased letter beyond ASCII: Python's casefold may differ from toLowerCase
    if (ch.charCodeAt(0) > 127 && ch.toLowerCase() !== ch.toUpperCase()) return null;
  }
  const needle = query.toLowerCase();
  const kept = new Set();
  classes.forEach((names, c) => {
    if (names.includes(needle)) kept.add(c);
  });
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = kept.has(labels[i]) ? 1 : 0;
  return out;
}
