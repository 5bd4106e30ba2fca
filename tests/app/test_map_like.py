"""Find images like this one (issue #34 item 1), with AppTest: an upload on Your image, one click, the Map with
its code μ marked ★ (placed by the map's own LatentMap.to_map), its nearest images drawn over the faded rest and
ringed, and listed beside the map; the same from the link alone; a bad link value named. The neighbours
against NumPy's brute force over the page's codes."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from app_helpers import app_test, fashion_test_set, open_link, reopened, switch, url
from pagecheck import assert_app_ok
from PIL import Image

K = 10  # the Map's neighbours by default (pages/_map_tools.K_DEFAULT)


@pytest.fixture(scope="module")
def fashion():
    return fashion_test_set()


@pytest.fixture()
def rings(monkeypatch):
    """What the page asked components/map_rings to ring over the Plotly map: the last call's points."""
    from components import map_rings

    calls = []
    monkeypatch.setattr(map_rings, "mount", lambda chart, points, key: calls.append((chart, points)))
    return calls


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _code(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split(",")])


def _listed(at) -> list[int]:
    """The image numbers of the panel's list ("#j class · distance")."""
    caps = [
        list(im.captions)
        for im in at.get("image")
        if im.captions
        and len(im.captions) > 1
        and all(re.fullmatch(r"#\d+ .+ · [\d.e+-]+", c) for c in im.captions)
    ]
    assert len(caps) == 1, caps
    return [int(c[1:].split()[0]) for c in caps[0]]


def _check_map(at, enc, rings) -> None:
    """The Map shows the link's code: ★ where LatentMap.to_map puts it, its K nearest (brute force) listed,
    drawn over the faded rest and ringed."""
    from tests.app.test_map_tools import traces  # the Plotly map's traces, decoded

    assert at.title[0].value == "Map of the latent space"
    assert [s.value for s in at.subheader].count("Your image on the map") == 1
    z = _code(url(at)["like"])
    want = np.argsort(np.linalg.norm(enc.mu.astype(np.float64) - z, axis=1), kind="stable")[:K]
    assert _listed(at) == want.tolist()
    tr = traces(at)
    star = [t for t in tr if t.get("name") == "your image"]
    coords = np.full((len(enc.mu), 2), np.nan)  # the data points' places, by image number
    for t in tr:
        cd = t.get("customdata")
        if cd is not None and len(cd) and cd[0][0] == 0:
            coords[cd[:, 1].astype(int)] = np.c_[t["x"], t["y"]]
    assert len(star) == 1 and star[0]["marker"]["symbol"] == "star"
    found = next(t for t in tr if t.get("name") == "search matches")  # drawn over the faded rest
    assert len(found["x"]) == K
    # the neighbours drawn over the rest are those ringed
    ringed = np.asarray(rings[-1][1])
    assert ringed.shape == (K, 2)
    np.testing.assert_allclose(np.sort(ringed, 0), np.sort(np.c_[found["x"], found["y"]], 0), atol=1e-4)
    # the ★ lands where the map's own projection (PCA here: exact, linear) puts the code
    from sklearn.decomposition import PCA

    fit = PCA(2).fit(enc.mu)
    dots, mine = fit.transform(enc.mu), fit.transform(z[None])[0]
    # the map's axes are PCA's up to a sign each: compare distances to the data's points
    d_map = np.linalg.norm(coords - [star[0]["x"][0], star[0]["y"][0]], axis=1)
    d_ref = np.linalg.norm(dots - mine, axis=1)
    assert not np.isnan(coords).any() and np.argmin(d_map) == np.argmin(d_ref)
    np.testing.assert_allclose(np.sort(d_map)[:5], np.sort(d_ref)[:5], rtol=1e-3, atol=1e-3)


def test_an_upload_opens_the_map_with_its_code_and_its_neighbours(fashion, rings):
    enc, data = fashion
    at = app_test(300)
    at.session_state["ckpt"] = "fashion-mnist"
    at.session_state["map_method"] = "pca"  # off a UMAP fit
    at.run()
    switch(at, "your_image").run()
    im = Image.new("L", (56, 56), 255)
    im.paste(0, (14, 8, 42, 50))  # a dark block on white paper: 'auto' swaps it, as a scan
    at.file_uploader(key="img_upload").set_value(("block.png", _png(im), "image/png")).run()
    assert_app_ok(at)
    at.button(key="img_like").click().run()
    assert_app_ok(at)
    assert not at.error, [e.value for e in at.error]
    from pages.your_image import convert, encode_image

    prep, _err = convert(_png(im), (1, 28, 28), None, at_background(data))
    mu = encode_image(_model(), prep.tensor)["mu"]
    np.testing.assert_allclose(_code(url(at)["like"]), mu, atol=5e-4)  # the link keeps μ to 3 decimals
    _check_map(at, enc, rings)
    again = reopened(at, "map")  # the link alone shows the same
    _check_map(again, enc, rings)
    assert _listed(again) == _listed(at)


def at_background(data):
    from vae.checkpoint import load_checkpoint

    return load_checkpoint("checkpoints/fashion-mnist").data_background(data.images)


def _model():
    from vae.checkpoint import load_checkpoint

    return load_checkpoint("checkpoints/fashion-mnist").model.eval()


@pytest.mark.parametrize(
    "value, reason",
    [
        ("1,2,3", "it has 3 values but this model has 16 dimensions"),
        ("a,b", "it has 2 values but this model has 16 dimensions"),
        (",".join(["x"] * 16), "it is not a list of numbers"),
        (",".join(["nan"] * 16), "it contains NaN or infinite values"),
    ],
)
def test_a_bad_code_in_the_link_is_named(fashion, value, reason):
    at = open_link("map", {"ckpt": "fashion-mnist", "method": "pca", "like": value})
    assert len(at.link_notices) == 1 and reason in at.link_notices[0], at.link_notices
    assert "The map shows no image of yours instead." in at.link_notices[0]
    assert "Your image on the map" not in [s.value for s in at.subheader]
    assert "like" not in url(at)


def test_remove_takes_the_code_off_the_map_and_out_of_the_link(fashion, rings):
    enc, _data = fashion
    z = enc.mu[123] + 0.01
    at = open_link("map", {"ckpt": "fashion-mnist", "method": "pca", "like": ",".join(f"{v:.3f}" for v in z)})
    assert not at.link_notices, at.link_notices
    assert _listed(at)[0] == 123  # the image whose code it nearly is comes first
    at.button(key="map_like_remove").click().run()
    assert_app_ok(at)
    assert "Your image on the map" not in [s.value for s in at.subheader]
    assert "like" not in url(at)
    from tests.app.test_map_tools import traces

    assert not [t for t in traces(at) if t.get("name") == "your image"]
