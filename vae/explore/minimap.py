"""A small raster map of the data with a moving marker: the Sliders page's "where am I".

A Plotly chart of thousands of points costs the browser a full re-render on every slider
move (and the server a figure to build and serialise); this map is a PNG instead. The data
points are drawn once into a background image; each move only draws the trail, the start
and the current position on a copy (about a millisecond), and the browser swaps one small
image.

    mm = MiniMap(coords, labels)              # once per map
    img = mm.render(current_xy, trail=xy_list, start=start_xy)   # (H, W, 3) uint8
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .figures import class_color, padded_bounds


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class MiniMap:
    """The data's 2-D positions as a square image, with both axes on the same scale.

    ``size`` is the side in pixels; show it at that width (``st.image`` would resample a larger
    image down, blurring it). At most ``max_points`` points (a fixed random subset) are drawn.
    """

    def __init__(self, coords: np.ndarray, labels: np.ndarray, size: int = 260, max_points: int = 5000,
                 seed: int = 0):
        coords = np.asarray(coords, dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) == 0:
            raise ValueError(f"MiniMap needs (N, 2) coordinates with N >= 1, got shape {coords.shape}")
        self.size = int(size)
        lo, hi = padded_bounds(coords)
        span = float(max(hi - lo))  # one scale for both axes: the map is not stretched
        self._center = (lo + hi) / 2.0
        self._scale = (self.size - 1) / span
        pick = np.random.default_rng(seed).permutation(len(coords))[:max_points]
        labels = np.asarray(labels)
        layer = Image.new("RGBA", (self.size, self.size), (255, 255, 255, 0))
        draw = ImageDraw.Draw(layer)
        r = max(1.0, self.size / 260)
        for (x, y), c in zip(self.to_pixels(coords[pick]), labels[pick], strict=True):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*_rgb(class_color(int(c))), 110))
        base = Image.new("RGBA", (self.size, self.size), (255, 255, 255, 255))
        self.background = Image.alpha_composite(base, layer).convert("RGB")
        ImageDraw.Draw(self.background).rectangle((0, 0, self.size - 1, self.size - 1), outline=(225, 225, 225))

    def geometry(self) -> dict[str, float | int | list[float]]:
        """What :meth:`to_pixels` uses (side, centre, scale): for the page's twin that draws the marker."""
        return {"size": self.size, "center": [float(v) for v in self._center], "scale": float(self._scale)}

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Map positions (M, 2) -> pixel positions (M, 2) in the image (y pointing down)."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        half = (self.size - 1) / 2.0
        px = half + (xy[:, 0] - self._center[0]) * self._scale
        py = half - (xy[:, 1] - self._center[1]) * self._scale
        return np.stack([px, py], axis=1)

    def render(self, current: Sequence[float], trail: Sequence[Sequence[float]] | None = None,
               start: Sequence[float] | None = None) -> np.ndarray:
        """The background with the trail (black line), the start (○) and the current position (★)."""
        im = self.background.copy()
        draw = ImageDraw.Draw(im)
        u = self.size / 260  # one "screen pixel" at the intended display width
        if trail is not None and len(trail) > 1:
            pts = [tuple(p) for p in self.to_pixels(np.asarray(trail))]
            draw.line(pts, fill=(0, 0, 0), width=max(1, round(1.5 * u)), joint="curve")
            for x, y in pts[:-1]:
                draw.ellipse((x - 1.5 * u, y - 1.5 * u, x + 1.5 * u, y + 1.5 * u), fill=(0, 0, 0))
        if start is not None:
            x, y = self.to_pixels(np.asarray(start))[0]
            draw.ellipse((x - 6 * u, y - 6 * u, x + 6 * u, y + 6 * u), outline=(0, 0, 0), width=max(1, round(2 * u)))
        x, y = self.to_pixels(np.asarray(current))[0]
        draw.polygon(_star(x, y, 9 * u, 3.8 * u), fill=(214, 39, 40), outline=(0, 0, 0), width=max(1, round(u)))
        return np.asarray(im)


def _star(x: float, y: float, outer: float, inner: float) -> list[tuple[float, float]]:
    """The corners of a five-pointed star centred on (x, y), pointing up."""
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, outer, inner)
    return [(x + r * np.cos(a), y - r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]
