"""What the canvas map of a large explore set (components/big_map) computes, on the server too.

The page draws the map itself and selects with a box or a lasso there; it sends the shape (map
coordinates), not the indices, and the server finds the points inside with
:func:`inside_polygon`, the twin of ``insidePolygon`` in ``components/big_map/selection.js``
(the same even-odd test, in the same float64 arithmetic on the float32 positions, so both find
the same points). Colours travel as one byte a point (:func:`colour_codes`): a class, or a value
on a 256-step colour scale.
"""

from __future__ import annotations

import numpy as np

#: Steps of a continuous colour scale (one byte a point).
SCALE_STEPS = 256


def inside_polygon(coords: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points of ``coords`` (N, 2) lie inside ``polygon`` (V, 2), closed from its last vertex
    to its first: (N,) bool, by the even-odd rule (a ray to +x crosses the edges an odd number of
    times). A box is the polygon of its four corners."""
    xy = np.asarray(coords, np.float32).astype(np.float64)
    poly = np.asarray(polygon, np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2 or len(poly) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices (x, y); got shape {poly.shape}")
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(len(xy), bool)
    j = len(poly) - 1
    for i in range(len(poly)):
        xi, yi = poly[i]
        xj, yj = poly[j]
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (xj - xi) * (y - yi) / (yj - yi) + xi  # where the edge meets the point's row
        inside ^= crosses & (x < at)
        j = i
    return inside


def box_polygon(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A box's corners as a polygon (4, 2), the order the page's box tool sends them in."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def colour_codes(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``values`` (N,) as steps of a colour scale from their minimum to their maximum, as Plotly's
    colour bar spans them: ((N,) uint8 in [0, SCALE_STEPS), low, high). Non-finite values get the
    lowest step."""
    v = np.asarray(values, np.float64)
    finite = np.isfinite(v)
    lo, hi = (float(v[finite].min()), float(v[finite].max())) if finite.any() else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    steps = np.rint(np.where(finite, (v - lo) / span, 0.0) * (SCALE_STEPS - 1))
    return np.clip(steps, 0, SCALE_STEPS - 1).astype(np.uint8), lo, hi


def scale_palette(name: str = "Viridis", steps: int = SCALE_STEPS) -> list[str]:
    """Plotly's colour scale ``name`` (the one the Plotly map's colour bar uses) as ``steps`` hex colours."""
    from plotly.colors import hex_to_rgb, sample_colorscale, unlabel_rgb

    out = []
    for c in sample_colorscale(name, [k / (steps - 1) for k in range(steps)]):
        r, g, b = (unlabel_rgb(c) if c.startswith("rgb") else hex_to_rgb(c))
        out.append("#{:02x}{:02x}{:02x}".format(*(int(round(v)) for v in (r, g, b))))
    return out
