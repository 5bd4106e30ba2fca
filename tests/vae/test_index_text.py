"""vae.explore.index_text: a set of image indices as link text and back."""

from __future__ import annotations

import numpy as np
import pytest

from vae.explore import index_text


@pytest.mark.parametrize("idx", [[], [0], [5, 3, 3, 9999], list(range(2000, 2600)),
                                 np.random.default_rng(0).choice(10_000, 3000, replace=False).tolist(),
                                 list(range(10_000))])
def test_round_trip(idx):
    text = index_text.text(idx, 10_000)
    assert index_text.parse(text, 10_000).tolist() == sorted(set(idx))
    assert len(text) <= 1700, "the mask of 10,000 images fits a link"


def test_a_few_images_are_a_readable_list_and_many_a_mask():
    assert index_text.text([17, 3, 512], 10_000) == "3,17,512"
    assert index_text.text(range(100, 400), 10_000).startswith(index_text.MASK)
    assert len(index_text.text(range(100, 400), 10_000)) < 40, "a compact group compresses well"


@pytest.mark.parametrize("text, n, reason", [
    ("3,x", 100, "not a list of image numbers"),
    ("100", 100, "outside 0 to 99"),
    ("-1", 100, "outside 0 to 99"),
    ("b.%%%", 100, "not a selection this app wrote"),
    ("b." + "A" * 10, 100, "not a selection this app wrote"),
    ("x" * 5000, 100, "longer than 4096 characters"),
])
def test_bad_texts_say_why(text, n, reason):
    with pytest.raises(ValueError, match=reason):
        index_text.parse(text, n)


def test_a_mask_of_another_number_of_images_is_refused():
    text = index_text.text([*range(0, 400, 2), 999], 1000)
    assert text.startswith(index_text.MASK)
    with pytest.raises(ValueError, match="another number of images than these 2,000"):
        index_text.parse(text, 2000)
    with pytest.raises(ValueError, match="another number of images than these 999"):
        index_text.parse(text, 999)  # 125 bytes either way: image 999 is past the end


def test_indices_outside_the_set_are_refused_when_written():
    with pytest.raises(ValueError, match="0 to 9, got 0 to 10"):
        index_text.text([0, 10], 10)
