"""A drawing as a short text, so that a link can carry it: the drawn image at the model's size,
quantised, compressed and base64url-encoded.

A grey drawing is one plane (H, W) in [0, 1], light strokes on dark like the data; its text is ``1.``
followed by the base64url (no padding) of the zlib stream of its pixels, 4 bits each (:data:`LEVELS`
grey levels, two pixels a byte, row by row). A colour drawing (3, H, W) (a colour model's pad, drawn on
white) is ``2.`` and the same stream of its R, G and B planes one after the other.
A 28×28 drawing of a few strokes takes 150 to 400 characters, a 32×32 colour one 150 to 1,000 (noise: 2,100);
:data:`MAX_TEXT` bounds what is read.

    >>> import numpy as np
    >>> plane = np.zeros((28, 28), np.float32); plane[4:24, 13:15] = 1.0
    >>> text = encode_drawing(plane)
    >>> text[:2], len(text) < 100, bool((decode_drawing(text, (1, 28, 28))[0] == plane).all())
    ('1.', True, True)
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

import numpy as np

from ..i18n import N_, Text

VERSION = "1"  # the format of a grey drawing's text after it (a later format gets another number)
COLOUR_VERSION = "2"  # the format of a colour drawing's text: three planes, R, G, B
LEVELS = 16  # grey levels of a pixel: 0, 1/15, ..., 1
MAX_TEXT = 4096  # characters of a drawing's text read at most (a 64×64 scribble needs about 2,000)
MAX_PIXELS = 128 * 128  # the largest drawing read (the model's image, one plane)
_TEXT = re.compile(r"^[A-Za-z0-9_-]+$")


class DrawingError(ValueError):
    """A drawing's text cannot be read; ``args[0]`` says why (a :class:`vae.i18n.Text`, one clause)."""


def quantise(plane: np.ndarray) -> np.ndarray:
    """``plane`` (any shape) in [0, 1] rounded to the :data:`LEVELS` grey levels a drawing's text keeps."""
    a = np.nan_to_num(np.asarray(plane, dtype=np.float32), nan=0.0)
    return (np.rint(np.clip(a, 0.0, 1.0) * (LEVELS - 1)) / (LEVELS - 1)).astype(np.float32)


def encode_drawing(plane: np.ndarray) -> str:
    """A drawing, grey (H, W) or colour (3, H, W), in [0, 1] as its text (quantised: :func:`quantise`)."""
    a = np.asarray(plane)
    colour = a.ndim == 3 and a.shape[0] == 3
    if not (a.ndim == 2 or colour) or a.shape[-2] * a.shape[-1] > MAX_PIXELS:
        raise ValueError(
            f"a drawing is one plane (H, W) or three (3, H, W) of at most {MAX_PIXELS} pixels, "
            f"got shape {a.shape}"
        )
    version = COLOUR_VERSION if colour else VERSION
    levels = np.rint(quantise(a) * (LEVELS - 1)).astype(np.uint8).ravel()
    if len(levels) % 2:
        levels = np.append(levels, np.uint8(0))
    packed = (levels[0::2] << 4) | levels[1::2]
    body = base64.urlsafe_b64encode(zlib.compress(packed.tobytes(), 9)).rstrip(b"=").decode("ascii")
    return f"{version}.{body}"


def decode_drawing(text: str, shape: tuple[int, int, int]) -> np.ndarray:
    """The drawing ``text`` holds, as a model input (C, H, W) of ``shape`` (a grey drawing's plane in every
    channel; a colour drawing's three planes, for a colour model only). Raises :class:`DrawingError` when the
    text is not a drawing of that size."""
    c, h, w = (int(v) for v in shape)
    n = h * w
    if n > MAX_PIXELS:
        raise DrawingError(Text(N_("drawings are kept for images of at most {n:,} pixels"), n=MAX_PIXELS))
    text = str(text).strip()
    if len(text) > MAX_TEXT:
        raise DrawingError(Text(N_("it is longer than a drawing's {n:,} characters"), n=MAX_TEXT))
    version, _, body = text.partition(".")
    if version not in (VERSION, COLOUR_VERSION) or not _TEXT.match(body):
        raise DrawingError(Text(N_("it is not a drawing's text")))
    if version == COLOUR_VERSION and c != 3:
        raise DrawingError(Text(N_("it is a colour drawing, and this model is grey")))
    planes = 3 if version == COLOUR_VERSION else 1
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        stream = zlib.decompressobj()
        raw = stream.decompress(packed, (planes * n + 1) // 2 + 1)  # never more than one drawing's bytes
    except (binascii.Error, ValueError, zlib.error):
        raise DrawingError(Text(N_("it is not a drawing's text"))) from None
    if len(raw) != (planes * n + 1) // 2 or not stream.eof or stream.unused_data:
        raise DrawingError(Text(N_("it is not a drawing of {w}×{h} pixels, this model's size"), w=w, h=h))
    b = np.frombuffer(raw, dtype=np.uint8)
    levels = np.stack([b >> 4, b & 15], axis=1).ravel()[: planes * n]
    x = (levels.astype(np.float32) / (LEVELS - 1)).reshape(planes, h, w)
    return x if planes == 3 else np.repeat(x, c, axis=0)
