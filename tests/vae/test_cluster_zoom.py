"""The Plotly map's cluster labels by zoom (issue #34): vae.explore.clusters.min_zoom against a scan of zooms
for the first at which a cluster covers as much of the screen as the smallest of the home view's labelled
ones (its area on screen growing with the zoom squared)."""

from __future__ import annotations

import numpy as np
import pytest

from vae.explore.clusters import min_zoom


@pytest.mark.parametrize("labelled", [1, 3, 5])
def test_a_label_shows_once_its_cluster_looks_as_large_as_the_smallest_labelled_one(labelled):
    sizes = np.array([900, 700, 400, 250, 120, 60, 33, 20])
    zooms = np.linspace(1.0, 20.0, 190_001)  # steps of 1e-4
    ref = [
        1.0 if r < labelled else zooms[np.argmax(s * zooms**2 >= sizes[labelled - 1] * (1 - 1e-12))]
        for r, s in enumerate(sizes)
    ]
    np.testing.assert_allclose(min_zoom(sizes, labelled), ref, atol=1e-4)


def test_fewer_clusters_than_labels_all_show_at_once():
    np.testing.assert_array_equal(min_zoom(np.array([50, 40]), 8), [1.0, 1.0])
    assert min_zoom(np.array([]), 3).shape == (0,)


@pytest.mark.parametrize(
    "sizes, labelled, match",
    [([10, 20], 1, "largest first"), ([10, 0], 1, "positive"), ([10, 5], 0, "at least 1")],
)
def test_bad_arguments_are_named(sizes, labelled, match):
    with pytest.raises(ValueError, match=match):
        min_zoom(np.array(sizes), labelled)
