"""Which map points are drawn as thumbnails in a view: the twin of pickThumbs in
components/map_thumbs/thumbs.js (tests/vae/test_thumbnails.py runs both on the same points).

Thumbnails replace dots once at most :data:`THUMBS_BELOW` points are in view: then a thumbnail's side
is the on-screen spacing the points would have if spread evenly, ``sqrt(w·h / n)``, kept within
[:func:`least_side`, :data:`MAX_PX`] (at 400 points in a 700 × 600 plot, 32 px: a 28-pixel garment a little
larger than itself; never smaller than the image, whose pixels then all show). They never overlap: the points nearest the view's centre go first (the faded ones
after every other), and a point whose thumbnail would touch one already placed stays a dot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THUMBS_BELOW = 400  # points in view at most for thumbnails (a frame draws them in a few ms)
MIN_PX = 24  # a thumbnail's side on screen, pixels: the least at which a 28-pixel image still reads
MAX_PX = 96  # and the most (zoomed in far, a few points in view)


@dataclass(frozen=True)
class View:
    """The map's rectangle on screen: data x in [x0, x1] left to right, y in [y0, y1] bottom to top,
    drawn in ``w`` × ``h`` pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    w: float
    h: float


@dataclass(frozen=True)
class Thumbs:
    """The thumbnails of a view: image ``indices[k]`` centred at (``px[k]``, ``py[k]``), ``side`` pixels."""

    indices: np.ndarray  # (T,) int64, in the order placed
    px: np.ndarray  # (T,) float64
    py: np.ndarray  # (T,) float64
    side: int
    in_view: int  # points in view (visible ones)


def least_side(image_width: int) -> int:
    """The least thumbnail side for images ``image_width`` pixels wide: :data:`MIN_PX`, or the image's own
    width where it is larger (drawn smaller, a 32-pixel emoji would lose pixels), up to :data:`MAX_PX`."""
    return max(MIN_PX, min(int(image_width), MAX_PX))


def thumb_side(n_in_view: int, w: float, h: float, least: int = MIN_PX) -> int:
    """A thumbnail's side in pixels for ``n_in_view`` points in a ``w`` × ``h`` view, at least ``least``."""
    return int(min(MAX_PX, max(least, np.floor(np.sqrt(w * h / max(1, n_in_view))))))


def pick_thumbs(
    xy: np.ndarray,
    view: View,
    visible: np.ndarray | None = None,
    faded: np.ndarray | None = None,
    limit: int = THUMBS_BELOW,
    least: int = MIN_PX,
) -> Thumbs:
    """The thumbnails drawn for points ``xy`` (N, 2) in ``view``: none when more than ``limit`` visible
    points are in view. ``visible`` (N,) bool: points shown at all (a hidden class: not); ``faded`` (N,)
    bool: points greyed (outside a selection or a search), placed after the others; ``least``: the least side
    (:func:`least_side`)."""
    xy = np.asarray(xy, np.float64)
    px = (xy[:, 0] - view.x0) / (view.x1 - view.x0) * view.w
    py = (view.y1 - xy[:, 1]) / (view.y1 - view.y0) * view.h
    inside = (px >= 0) & (px < view.w) & (py >= 0) & (py < view.h)
    if visible is not None:
        inside &= np.asarray(visible, bool)
    idx = np.flatnonzero(inside)
    empty = Thumbs(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), 0, len(idx))
    if len(idx) == 0 or len(idx) > limit:
        return empty
    side = thumb_side(len(idx), view.w, view.h, least)
    dx, dy = px[idx] - view.w / 2, py[idx] - view.h / 2
    d2 = dx * dx + dy * dy
    late = np.zeros(len(idx), bool) if faded is None else np.asarray(faded, bool)[idx]
    order = idx[np.lexsort((idx, d2, late))]  # the faded last, then nearest the centre, then by index
    placed: list[int] = []
    for i in order:
        if all(abs(px[i] - px[j]) >= side or abs(py[i] - py[j]) >= side for j in placed):
            placed.append(int(i))
    chosen = np.asarray(placed, np.int64)
    return Thumbs(chosen, px[chosen], py[chosen], side, len(idx))
