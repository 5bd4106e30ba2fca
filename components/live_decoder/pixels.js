// Images from the decoder onto a canvas: the same 8-bit values as the server's PNGs
// (vae.data.images.upscale: clip to [0, 1], x 255 + 0.5, truncate) and the same nearest-neighbour
// blocks, so a pixel of the page equals the server's pixel within rounding.

/**
 * 8-bit pixels of the first image of a (1, C, H, W) float tensor, channel-last (H*W*C).
 * @param {{data: Float32Array, dims: number[]}} image
 * @returns {Uint8Array}
 */
export function toBytes(image) {
  const [, c, h, w] = image.dims;
  const src = image.data;
  const out = new Uint8Array(h * w * c);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h * w; i++) {
      const v = Math.min(Math.max(src[ch * h * w + i], 0), 1);
      out[i * c + ch] = Math.floor(v * 255 + 0.5);
    }
  }
  return out;
}

/**
 * Draw 8-bit pixels (H*W*C, C = 1 or 3) onto a canvas, each pixel a factor x factor block.
 * @param {HTMLCanvasElement} canvas resized to (W*factor, H*factor) when needed
 * @param {Uint8Array} bytes
 * @param {number[]} shape [C, H, W]
 * @param {number} factor
 */
export function paint(canvas, bytes, shape, factor) {
  const [c, h, w] = shape;
  const W = w * factor;
  const H = h * factor;
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(W, H);
  const px = img.data;
  for (let y = 0; y < H; y++) {
    const row = Math.floor(y / factor) * w;
    for (let x = 0; x < W; x++) {
      const s = (row + Math.floor(x / factor)) * c;
      const o = (y * W + x) * 4;
      px[o] = bytes[s];
      px[o + 1] = bytes[s + (c === 3 ? 1 : 0)];
      px[o + 2] = bytes[s + (c === 3 ? 2 : 0)];
      px[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * A canvas drawing as the model's input: the mean of each (280/W x 280/H) block of the canvas, so
 * that a grey model's white strokes on black become values near 1 on 0, like its data, and a colour
 * model's strokes on white keep their R, G and B. Twin: vae.data.pad.pad_to_input.
 * @param {HTMLCanvasElement} canvas the drawing (square)
 * @param {number[]} shape [C, H, W] of the model's input
 * @returns {Float32Array} (C*H*W,) in [0, 1]: one channel the block's brightness, three its R, G, B
 */
export function canvasToInput(canvas, shape) {
  const [c, h, w] = shape;
  const { width: W, height: H } = canvas;
  const px = canvas.getContext("2d").getImageData(0, 0, W, H).data;
  const n = h * w;
  const sums = new Float64Array(3 * n); // whole numbers: the sums of 8-bit values are exact
  const counts = new Float64Array(n);
  for (let y = 0; y < H; y++) {
    const r = Math.min(h - 1, Math.floor((y * h) / H));
    for (let x = 0; x < W; x++) {
      const k = r * w + Math.min(w - 1, Math.floor((x * w) / W));
      const o = (y * W + x) * 4;
      sums[k] += px[o];
      sums[n + k] += px[o + 1];
      sums[2 * n + k] += px[o + 2];
      counts[k] += 1;
    }
  }
  const out = new Float32Array(c * n);
  for (let i = 0; i < n; i++) {
    const m = Math.max(counts[i], 1);
    if (c === 3) {
      for (let ch = 0; ch < 3; ch++) out[ch * n + i] = sums[ch * n + i] / (255 * m);
    } else {
      const v = (sums[i] + sums[n + i] + sums[2 * n + i]) / (765 * m);
      for (let ch = 0; ch < c; ch++) out[ch * n + i] = v;
    }
  }
  return out;
}

/**
 * The inverse of canvasToInput: paint a model input (C*H*W in [0, 1]; a grey model's first channel, a
 * colour model's R, G, B) onto the canvas, each pixel the block of the canvas that canvasToInput averages
 * back into it. Twin: vae.data.pad.input_to_pad.
 * @param {HTMLCanvasElement} canvas the drawing (square)
 * @param {number[]} x (C*H*W,) in [0, 1]
 * @param {number[]} shape [C, H, W] of the model's input
 */
export function inputToCanvas(canvas, x, shape) {
  const [c, h, w] = shape;
  const { width: W, height: H } = canvas;
  const ctx = canvas.getContext("2d");
  const byte = (v) => Math.round(Math.min(Math.max(v, 0), 1) * 255);
  for (let r = 0; r < h; r++) {
    const y0 = Math.ceil((r * H) / h);
    const y1 = Math.ceil(((r + 1) * H) / h);
    for (let col = 0; col < w; col++) {
      const x0 = Math.ceil((col * W) / w);
      const x1 = Math.ceil(((col + 1) * W) / w);
      const i = r * w + col;
      const [R, G, B] = c === 3 ? [x[i], x[h * w + i], x[2 * h * w + i]].map(byte) : Array(3).fill(byte(x[i]));
      ctx.fillStyle = `rgb(${R},${G},${B})`;
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
  }
}
