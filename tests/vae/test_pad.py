"""The drawing pad (vae.data.pad): its pixels as the model's input, held against the page's own functions
(components/live_decoder/pixels.js canvasToInput and inputToCanvas, run by node on the same pixels) and
against a plain loop over the blocks; its palette survives a drawing's link (vae.data.drawings) exactly;
a colour drawing's text round-trips and a grey model refuses it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vae.data.drawings import LEVELS, DrawingError, decode_drawing, encode_drawing, quantise
from vae.data.pad import BACKGROUND, INK, PAD_SIZE, PALETTE, input_to_pad, pad_to_input, rgb_of

ROOT = Path(__file__).resolve().parents[2]
PIXELS_JS = ROOT / "components" / "live_decoder" / "pixels.js"
NODE = shutil.which("node")
SHAPES = [(1, 28, 28), (1, 8, 8), (3, 32, 32), (3, 64, 64)]


def _strokes(seed: int = 0, size: int = PAD_SIZE) -> np.ndarray:
    """A pad (size, size, 4) on white with a few rectangles of the palette's colours and some noise on
    their edges (anti-aliasing leaves in-between colours)."""
    rng = np.random.default_rng(seed)
    px = np.full((size, size, 4), 255, np.uint8)
    for k in range(12):
        y, x = rng.integers(0, size - 30, 2)
        px[y : y + rng.integers(5, 60), x : x + rng.integers(5, 60), :3] = rgb_of(
            PALETTE[k % len(PALETTE)].colour
        )
    edge = rng.random((size, size)) < 0.05
    px[edge, :3] = rng.integers(0, 256, (int(edge.sum()), 3))
    return px


def _blockwise(px: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """The reference: a plain loop over the model's pixels, each the mean of the pad pixels y, x with
    floor(y * h / H) = r and floor(x * w / W) = c."""
    c, h, w = shape
    H, W = px.shape[:2]
    out = np.zeros((c, h, w))
    for r in range(h):
        ys = [y for y in range(H) if min(h - 1, y * h // H) == r]
        for col in range(w):
            xs = [x for x in range(W) if min(w - 1, x * w // W) == col]
            block = px[np.ix_(ys, xs)][..., :3].astype(np.float64) / 255
            out[:, r, col] = block.reshape(-1, 3).mean(0) if c == 3 else block.mean()
    return out


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_the_pad_becomes_block_means_of_brightness_or_of_each_colour(shape):
    px = _strokes(1)
    got = pad_to_input(px, shape)
    assert got.shape == shape and got.dtype == np.float32
    np.testing.assert_allclose(got, _blockwise(px, shape), atol=1e-6)
    if shape[0] == 3:  # a colour drawing stays in colour: its channels differ where it is drawn
        assert np.abs(got[0] - got[2]).max() > 0.5


@pytest.mark.parametrize("shape", SHAPES)
def test_an_input_painted_on_the_pad_reads_back_as_itself(shape):
    x = np.random.default_rng(2).random(shape).astype(np.float32)
    if shape[0] == 1:
        x = np.repeat(x[:1], shape[0], axis=0)
    pad = input_to_pad(x, shape)
    assert pad.shape == (PAD_SIZE, PAD_SIZE, 4)
    assert np.abs(pad_to_input(pad, shape) - x).max() <= 0.5 / 255 + 1e-6


def test_the_palette_survives_a_drawing_link_exactly():
    """Each swatch's channels are one of a drawing's 16 levels: a stroke's inside comes back from the link
    as it was drawn; the paper and the first ink are the palette's or the grey pad's."""
    for s in PALETTE:
        rgb = np.asarray(rgb_of(s.colour), np.float32) / 255
        assert (quantise(rgb) == rgb).all(), s
    assert BACKGROUND == {1: "#000", 3: "#fff"} and INK[3] == PALETTE[0].colour and INK[1] == "#fff"
    assert "#fff" in [s.colour for s in PALETTE]  # the rubber: the paper's colour


def test_a_colour_drawing_round_trips_and_a_grey_model_refuses_it():
    x = quantise(pad_to_input(_strokes(3), (3, 32, 32)))
    text = encode_drawing(x)
    assert text.startswith("2.") and len(text) < 4096
    np.testing.assert_array_equal(decode_drawing(text, (3, 32, 32)), x)
    with pytest.raises(DrawingError) as e:
        decode_drawing(text, (1, 32, 32))
    assert "colour drawing" in str(e.value.args[0])
    with pytest.raises(DrawingError):  # three planes of 32x32 are not three of 16x16
        decode_drawing(text, (3, 16, 16))
    grey = encode_drawing(x[0])  # a grey drawing still opens on a colour model: its plane in every channel
    assert grey.startswith("1.")
    np.testing.assert_array_equal(decode_drawing(grey, (3, 32, 32)), np.repeat(x[:1], 3, axis=0))
    assert LEVELS == 16


def test_bad_pads_are_refused_by_name():
    with pytest.raises(ValueError, match="1 or 3 channels"):
        pad_to_input(_strokes(), (2, 8, 8))
    with pytest.raises(ValueError, match="RGBA"):
        pad_to_input(np.zeros((8, 8, 3)), (1, 8, 8))
    with pytest.raises(ValueError, match="#rgb"):
        rgb_of("yellow")


# -- the page's twin, run by node ----------------------------------------------------------------
NODE_SCRIPT = """
import { canvasToInput, inputToCanvas } from %(module)s;
import { readFileSync } from "node:fs";
const job = JSON.parse(readFileSync(%(job)s, "utf-8"));
const px = new Uint8ClampedArray(readFileSync(%(pad)s));
const size = job.size;
// a canvas as far as the two functions reach: getImageData for one, fillStyle + fillRect for the other
const painted = new Uint8ClampedArray(size * size * 4).fill(255);
const ctx = {
  fillStyle: "",
  getImageData: () => ({ data: px }),
  fillRect(x, y, w, h) {
    const [r, g, b] = this.fillStyle.match(/\\d+/g).map(Number);
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) painted.set([r, g, b, 255], (j * size + i) * 4);
  },
};
const canvas = { width: size, height: size, getContext: () => ctx };
const out = {};
for (const shape of job.shapes) {
  out[shape.join("x")] = Array.from(canvasToInput(canvas, shape));
}
inputToCanvas(canvas, job.x, job.xShape);
out.painted = Buffer.from(painted).toString("base64");
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(NODE is None, reason="node not installed (only this twin check needs it)")
def test_the_page_turns_the_pad_into_the_same_input_and_back(tmp_path):
    """pixels.js and vae.data.pad on the same pad: canvasToInput equals pad_to_input (float32) for grey and
    colour models; inputToCanvas paints what input_to_pad paints, pixel for pixel."""
    import base64

    px = _strokes(4)
    shapes = [list(s) for s in SHAPES]
    x = np.random.default_rng(5).random((3, 32, 32)).astype(np.float32)
    (tmp_path / "pad.bin").write_bytes(px.tobytes())
    (tmp_path / "job.json").write_text(
        json.dumps({"size": PAD_SIZE, "shapes": shapes, "x": x.ravel().tolist(), "xShape": [3, 32, 32]}),
        encoding="utf-8",
    )
    script = NODE_SCRIPT % {
        "module": json.dumps(PIXELS_JS.as_uri()),
        "job": json.dumps(str(tmp_path / "job.json")),
        "pad": json.dumps(str(tmp_path / "pad.bin")),
    }
    (tmp_path / "run.mjs").write_text(script, encoding="utf-8")
    r = subprocess.run([NODE, str(tmp_path / "run.mjs")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for shape in SHAPES:
        got = np.asarray(out["x".join(map(str, shape))], np.float32).reshape(shape)
        np.testing.assert_array_equal(got, pad_to_input(px, shape), err_msg=str(shape))
    painted = np.frombuffer(base64.b64decode(out["painted"]), np.uint8).reshape(PAD_SIZE, PAD_SIZE, 4)
    np.testing.assert_array_equal(painted, input_to_pad(x, (3, 32, 32)))
