"""The Sliders page's strips: the codes along each slider (vae.explore.latent.strip_codes, twin of
components/live_decoder/strips.js), against codes built one by one."""

from __future__ import annotations

import numpy as np

from vae.explore.latent import strip_codes, strip_values, traversal_codes


def test_latent_sliders_set_one_dimension_each():
    rng = np.random.default_rng(0)
    z = rng.normal(size=6).astype(np.float32)
    values = np.stack([strip_values(-3, 3)] * 6)
    got = strip_codes(np.zeros(6), None, z, values)
    want = traversal_codes(z, list(range(6)), strip_values(-3, 3)).reshape(6, 7, 6)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_stepped_sliders_move_their_own_coefficient_only():
    rng = np.random.default_rng(1)
    origin, axes, coef = rng.normal(size=5), rng.normal(size=(3, 5)), rng.normal(size=3)
    values = rng.uniform(-3, 3, size=(3, 4))
    got = strip_codes(origin, axes, coef, values)
    assert got.shape == (3, 4, 5) and got.dtype == np.float32
    for k in range(3):
        for t in range(4):
            c = coef.copy()
            c[k] = values[k, t]
            np.testing.assert_allclose(got[k, t], origin + c @ axes, atol=1e-5)


def test_strip_values_span_the_track():
    np.testing.assert_allclose(strip_values(-3, 3), [-3, -2, -1, 0, 1, 2, 3])
    assert strip_values(0, 1, 2).tolist() == [0, 1]
