"""The Map along a direction (pages/_map_axis.py, issue #35): opened from the Directions page or a link
(?axis=), each image placed at its coordinate along the direction (vae.explore.projection.axis_map);
a bad or foreign direction is ignored with a notice; the way back is one button."""

from __future__ import annotations

import json

import numpy as np
import pytest
from app_helpers import need, open_link, url
from pagecheck import assert_app_ok
from test_map_attributes import bdata

from vae.checkpoint import load_checkpoint
from vae.explore.direction_sets import source_directions
from vae.explore.projection import axis_map
from vae.explore.sets import explore_set

FM, SNEAKER, BOOT = "fashion-mnist", 7, 9


@pytest.fixture(scope="module")
def shipped():
    need(FM)
    from app_helpers import ROOT

    ck = load_checkpoint(ROOT / "checkpoints" / FM)
    enc = explore_set(ck, ck.load_data("test", download=False))
    return ck, enc.mu, enc.labels


def _map_points(at) -> dict[int, np.ndarray]:
    """Each image's (x, y) on the page's map chart, by its index."""
    fig = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if len(json.loads(c.proto.spec)["data"]) > 3)
    out = {}
    for t in fig["data"]:
        cd = t.get("customdata")
        if not cd or not isinstance(cd, list) or not isinstance(cd[0], list):
            continue
        xs, ys = bdata(t["x"]), bdata(t["y"])
        for (kind, i), x, y in zip(cd, xs, ys, strict=True):
            if kind == 0:
                out[int(i)] = np.array([x, y])
    return out


def test_the_map_along_a_class_direction_places_each_image_by_its_coordinate_along_it(shipped):
    ck, mu, labels = shipped
    at = open_link("map", {"ckpt": FM, "axis": f"class:{SNEAKER}:{BOOT}"})
    (d,) = source_directions("class", mu, labels, class_names=list(ck.class_names), pair=(SNEAKER, BOOT))
    want = axis_map(mu, d.vector).transform(mu)
    got = _map_points(at)
    assert len(got) == len(mu)
    idx = np.array(sorted(got))
    np.testing.assert_allclose(np.stack([got[i] for i in idx]), want[idx], atol=1e-4)
    assert any("along Sneaker → Ankle boot" in i.value for i in at.info), [i.value for i in at.info]
    assert url(at)["axis"] == f"class:{SNEAKER}:{BOOT}"
    at.button(key="map_axis_off").click().run()
    assert_app_ok(at, "back to the chosen map")
    assert "axis" not in url(at) and not any("along" in i.value for i in at.info)


def test_the_directions_page_opens_its_direction_on_the_map(shipped):
    at = open_link("directions", {"ckpt": FM, "source": "pca", "row": "pca:0"})
    at.button(key="dir_to_map").click().run()
    assert_app_ok(at, "map from directions")
    assert url(at).get("axis") == "pca:0"


@pytest.mark.parametrize("text", ["class:7", "pca:x", "sefa:99", "class:3:3"])
def test_a_bad_direction_in_the_link_is_ignored_with_a_notice(text):
    need(FM)
    at = open_link("map", {"ckpt": FM, "axis": text})
    assert at.link_notices and any("direction axis" in n for n in at.link_notices), at.link_notices
    assert "axis" not in url(at) and not any("along" in i.value for i in at.info)
