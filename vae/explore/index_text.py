"""A set of image indices as a short text for a link (``?sel=...``), and back.

Two spellings, the shorter is written:

- a comma list, ``3,17,512``: readable, for a few images;
- ``b.`` + the base64url (no padding) of the zlib-compressed bit mask of the set over the N images
  (``numpy.packbits``, first image in the high bit): a box or lasso of thousands of images stays
  within about N / 6 characters (1,700 for N = 10,000), and a compact group in far fewer.

Both are read back to the same sorted, unique indices; :func:`parse` names what is wrong with a text.
"""

from __future__ import annotations

import base64
import binascii
import zlib

import numpy as np

from ..i18n import N_, Text

MASK = "b."  # the prefix of the bit-mask spelling
MAX_TEXT = 4096  # characters a text may have (a link's value; the mask of 10,000 images needs < 1,700)


def text(indices, n: int) -> str:
    """The sorted unique ``indices`` (each in [0, n)) as link text; "" for none."""
    idx = np.unique(np.asarray(indices, np.int64))
    if len(idx) and (idx[0] < 0 or idx[-1] >= n):
        raise ValueError(f"indices must lie in 0 to {n - 1}, got {int(idx[0])} to {int(idx[-1])}")
    listed = ",".join(map(str, idx.tolist()))
    if len(listed) <= 40:
        return listed
    mask = np.zeros(n, bool)
    mask[idx] = True
    packed = base64.urlsafe_b64encode(zlib.compress(np.packbits(mask).tobytes(), 9)).rstrip(b"=").decode("ascii")
    return min(listed, MASK + packed, key=len)


def parse(value: str, n: int) -> np.ndarray:
    """The sorted unique indices (int64) a text of :func:`text` stands for, each checked against ``n``
    images; ValueError with a clause that says what is wrong (a vae.i18n.Text: the app translates it)."""
    value = str(value).strip()
    if len(value) > MAX_TEXT:
        raise ValueError(Text(N_("it is longer than {n} characters"), n=MAX_TEXT))
    if not value:
        return np.zeros(0, np.int64)
    if value.startswith(MASK):
        body = value[len(MASK):]
        stream = zlib.decompressobj()
        try:
            packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
            raw = stream.decompress(packed, (n + 7) // 8 + 1)
        except (binascii.Error, ValueError, zlib.error):
            raise ValueError(Text(N_("it is not a selection this app wrote"))) from None
        if not stream.eof and len(raw) <= (n + 7) // 8:  # cut short, or no zlib stream at all
            raise ValueError(Text(N_("it is not a selection this app wrote")))
        if len(raw) != (n + 7) // 8:
            raise ValueError(Text(N_("it is a selection of another number of images than these {n:,}"), n=n))
        bits = np.unpackbits(np.frombuffer(raw, np.uint8))
        if bits[n:].any():
            raise ValueError(Text(N_("it is a selection of another number of images than these {n:,}"), n=n))
        return np.flatnonzero(bits[:n]).astype(np.int64)
    try:
        idx = np.array([int(p) for p in value.split(",")], np.int64)
    except ValueError:
        raise ValueError(Text(N_("it is not a list of image numbers such as 3,17,512"))) from None
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(Text(N_("it names images outside 0 to {last}"), last=n - 1))
    return np.unique(idx)
