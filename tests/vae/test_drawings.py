"""A drawing as a link's text (vae.data.drawings): it round-trips, stays short, and anything else is refused."""

import base64
import zlib

import numpy as np
import pytest

from vae.data.drawings import LEVELS, MAX_TEXT, DrawingError, decode_drawing, encode_drawing, quantise


def _strokes(size: int = 28) -> np.ndarray:
    from PIL import Image, ImageDraw

    im = Image.new("L", (280, 280), 0)
    d = ImageDraw.Draw(im)
    d.line([(70, 50), (210, 50), (120, 240)], fill=255, width=26, joint="curve")
    d.ellipse([(80, 40), (200, 240)], outline=255, width=26)
    return np.asarray(im.resize((size, size), Image.Resampling.BOX), np.float32) / 255.0


def test_a_drawing_round_trips_quantised_and_short():
    plane = _strokes()
    text = encode_drawing(plane)
    back = decode_drawing(text, (1, 28, 28))
    assert back.shape == (1, 28, 28) and np.array_equal(back[0], quantise(plane))
    assert np.abs(back[0] - plane).max() <= 0.5 / (LEVELS - 1) + 1e-6
    assert len(text) < 400 and text.isascii(), len(text)
    assert encode_drawing(back[0]) == text  # quantised already: the same text again
    assert len(encode_drawing(np.random.default_rng(0).random((28, 28)))) < 600  # noise: no compression
    rgb = decode_drawing(encode_drawing(_strokes(32)), (3, 32, 32))
    assert rgb.shape == (3, 32, 32) and np.array_equal(rgb[0], rgb[2])


def _body(raw: bytes) -> str:
    return "1." + base64.urlsafe_b64encode(zlib.compress(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("text", [
    "", "1.", "2." + encode_drawing(_strokes())[2:], "1.not base64!", "1.AAAA", "1." + "A" * MAX_TEXT,
    _body(b"\x00" * 391), _body(b"\x00" * 393),  # one byte short, one byte over a 28x28 drawing
    _body(b"\x00" * 392) + "AAAA",  # data after the stream
    _body(b"\x00" * 10**7),  # a decompression bomb: read no further than one drawing
])
def test_anything_but_a_drawing_of_the_models_size_is_refused(text):
    with pytest.raises(DrawingError):
        decode_drawing(text, (1, 28, 28))


def test_a_drawing_of_another_size_says_so():
    with pytest.raises(DrawingError) as e:
        decode_drawing(encode_drawing(_strokes(28)), (1, 32, 32))
    assert "32×32" in str(e.value.args[0])
