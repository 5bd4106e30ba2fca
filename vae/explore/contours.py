"""The density contours as polylines, for the canvas map (issue #34), and its view's data → pixel transform.

The Plotly map draws the contours of ``Density.enclosed`` itself (a ``go.Contour`` trace). The canvas map
(components/big_map) gets the same lines, traced here once (contourpy's marching squares, the library
matplotlib draws its contours with) at the same levels (density.SHARES), as polylines in map coordinates;
the page turns them into one Path2D in data units and strokes it through the view's transform each frame
(components/big_map/contours.js). :func:`to_pixels` is the twin of that transform (big_map.js ``toPixel``).
"""

from __future__ import annotations

from dataclasses import dataclass

import contourpy
import numpy as np

from .density import SHARES, Density

DIGITS = 4  # significant digits kept of a vertex, relative to the grid's span: 1/10,000 of the map's width


@dataclass
class Contour:
    """One contour level: ``share`` of the points enclosed, and its ``lines``: polylines (M, 2) in map
    coordinates (a closed one ends where it starts)."""

    share: float
    lines: list[np.ndarray]

    @property
    def vertices(self) -> int:
        return sum(len(line) for line in self.lines)


def contours(d: Density, shares: tuple[float, ...] = SHARES) -> list[Contour]:
    """The lines where ``d.enclosed`` equals each of ``shares`` (each between 0 and 1), interpolated linearly
    along the grid's edges, as the Plotly map's contour trace draws them."""
    bad = [s for s in shares if not 0.0 < s < 1.0]
    if bad:
        raise ValueError(f"contour shares must lie strictly between 0 and 1, not {bad}")
    gen = contourpy.contour_generator(d.x, d.y, d.enclosed, line_type=contourpy.LineType.Separate)
    return [
        Contour(float(s), [np.asarray(line, np.float64) for line in gen.lines(s) if len(line) >= 2])
        for s in shares
    ]


def encode(levels: list[Contour], d: Density) -> dict:
    """The contours for the canvas map, compactly: {"shares": [...], "lines": [[level, x0, y0, x1, y1, ...],
    ...]}, coordinates rounded to DIGITS significant digits of the grid's span (a few thousand numbers)."""
    span = max(float(d.x[-1] - d.x[0]), float(d.y[-1] - d.y[0]), 1e-12)
    decimals = max(0, DIGITS - int(np.floor(np.log10(span))))
    lines = [
        [k, *np.round(line, decimals).ravel().tolist()] for k, c in enumerate(levels) for line in c.lines
    ]
    return {"shares": [c.share for c in levels], "lines": lines}


def to_pixels(view: dict, w: float, h: float, xy: np.ndarray) -> np.ndarray:
    """Map positions (M, 2) -> canvas pixels (M, 2) for the canvas map's ``view`` {"x0", "x1", "y0", "y1"} on a
    ``w`` × ``h`` canvas (y down): the twin of ``toPixel`` in components/big_map/big_map.js and of the
    matrix contours.js strokes the lines through."""
    xy = np.atleast_2d(np.asarray(xy, np.float64))
    px = (xy[:, 0] - view["x0"]) / (view["x1"] - view["x0"]) * w
    py = (view["y1"] - xy[:, 1]) / (view["y1"] - view["y0"]) * h
    return np.stack([px, py], axis=1)
