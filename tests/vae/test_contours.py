"""The canvas map's density contours (issue #34): vae.explore.contours' polylines against a brute-force search
of the grid's edges that the level crosses (the crossing linearly interpolated, as marching squares does and
as the Plotly map's contour trace does), their compact encoding, and the canvas view's map -> pixel transform."""

from __future__ import annotations

import numpy as np
import pytest

from vae.explore.contours import contours, encode, to_pixels
from vae.explore.density import SHARES, density


def two_blobs(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(size=(n, 2)), rng.normal(size=(n // 2, 2)) * [0.5, 1.5] + [4.0, 1.0]]


def crossings(d, level: float) -> np.ndarray:
    """(K, 2) every point where ``d.enclosed`` crosses ``level`` along a grid edge, brute force."""
    z, out = d.enclosed, []
    for i in range(len(d.y)):
        for j in range(len(d.x)):
            for di, dj in ((0, 1), (1, 0)):
                i2, j2 = i + di, j + dj
                if i2 >= len(d.y) or j2 >= len(d.x):
                    continue
                a, b = z[i, j], z[i2, j2]
                if (a - level) * (b - level) < 0:
                    t = (level - a) / (b - a)
                    out.append((d.x[j] + t * (d.x[j2] - d.x[j]), d.y[i] + t * (d.y[i2] - d.y[i])))
    return np.array(out)


def unique_rows(a: np.ndarray) -> np.ndarray:
    return np.unique(np.round(a, 9), axis=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_lines_pass_through_every_crossing_of_the_grid_and_nowhere_else(seed):
    d = density(two_blobs(seed=seed), grid=48)
    levels = contours(d)
    assert [c.share for c in levels] == list(SHARES)
    for c in levels:
        assert c.lines, f"no line at {c.share}"
        ours = unique_rows(np.concatenate(c.lines))
        ref = unique_rows(crossings(d, c.share))
        assert ours.shape == ref.shape, (c.share, ours.shape, ref.shape)
        np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_inner_contours_enclose_fewer_points():
    """The 20 % line lies inside the 80 % one: a shorter total length."""
    d = density(two_blobs(), grid=64)
    lengths = [
        sum(np.linalg.norm(np.diff(line, axis=0), axis=1).sum() for line in c.lines) for c in contours(d)
    ]
    assert lengths == sorted(lengths), lengths


def test_the_encoding_keeps_each_line_and_its_level_to_a_ten_thousandth_of_the_map():
    d = density(two_blobs(), grid=64)
    levels = contours(d)
    spec = encode(levels, d)
    assert spec["shares"] == list(SHARES)
    flat = [(k, line) for k, c in enumerate(levels) for line in c.lines]
    assert len(spec["lines"]) == len(flat)
    span = max(d.x[-1] - d.x[0], d.y[-1] - d.y[0])
    for got, (k, line) in zip(spec["lines"], flat, strict=True):
        assert got[0] == k
        np.testing.assert_allclose(np.reshape(got[1:], (-1, 2)), line, atol=span * 1e-4)


def test_shares_outside_zero_and_one_are_refused():
    d = density(two_blobs(), grid=16)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        contours(d, (0.5, 1.0))


def test_to_pixels_puts_the_views_corners_on_the_canvas_corners_and_keeps_ratios():
    view = {"x0": -2.0, "x1": 6.0, "y0": -1.0, "y1": 3.0}
    px = to_pixels(view, 800, 400, [[-2.0, 3.0], [6.0, -1.0], [2.0, 1.0], [0.0, 2.0]])
    np.testing.assert_allclose(px, [[0, 0], [800, 400], [400, 200], [200, 100]])
