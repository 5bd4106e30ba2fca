"""The map along a direction (vae.explore.projection.axis_map), against NumPy and scikit-learn directly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from vae.explore.projection import LatentMap, axis_map


def _codes(n=400, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.array([3, 2, 1.5, 1, 0.5, 0.2])[:d]


def test_x_is_the_coordinate_along_the_direction():
    codes, direction = _codes(), np.array([1.0, -2.0, 0.5, 0, 0, 3])
    xy = axis_map(codes, direction).transform(codes)
    u = direction / np.linalg.norm(direction)
    np.testing.assert_allclose(xy[:, 0], (codes - codes.mean(0)) @ u, atol=1e-10)


def test_y_is_the_first_principal_component_of_what_is_left():
    codes, direction = _codes(), np.array([0.0, 1.0, 0, 0, 0, 0])
    am = axis_map(codes, direction)
    u = am.components_[0]
    rest = (codes - codes.mean(0)) - np.outer((codes - codes.mean(0)) @ u, u)
    pc = PCA(n_components=1).fit(rest).components_[0]
    assert abs(abs(float(pc @ am.components_[1])) - 1.0) < 1e-8  # the same axis, up to its sign
    np.testing.assert_allclose(am.components_ @ am.components_.T, np.eye(2), atol=1e-12)  # orthonormal


def test_it_is_exact_both_ways_as_a_linear_latent_map():
    codes, direction = _codes(), np.array([1.0, 1, 1, 1, 1, 1])
    am = axis_map(codes, direction)
    lm = LatentMap(codes, am.transform(codes), linear=am)
    spots = np.array([[0.5, -1.0], [2.0, 0.3]])
    np.testing.assert_allclose(lm.to_map(lm.to_latent(spots)), spots, atol=1e-5)
    plane = am.inverse_transform(am.transform(codes))  # each code's shadow on the map's plane
    np.testing.assert_allclose(am.transform(plane), am.transform(codes), atol=1e-10)


def test_same_input_same_map_and_clear_errors():
    codes = _codes()
    a, b = axis_map(codes, np.ones(6)), axis_map(codes.copy(), np.ones(6))
    np.testing.assert_array_equal(a.components_, b.components_)
    with pytest.raises(ValueError, match="non-zero"):
        axis_map(codes, np.zeros(6))
    with pytest.raises(ValueError, match="one number per latent dimension"):
        axis_map(codes, np.ones(5))
