"""The live lecture, round two (issue #32), with AppTest: one −ELBO per image wherever a page shows it,
and the classroom's address in presenter mode (``make class``). The translations' side is in
test_i18n.py, the drawing in the link in test_link.py.
"""

from __future__ import annotations

import subprocess

import pytest
from app_helpers import ROOT, need, open_link

IMAGE = 9  # the tour's sneaker on the Map (step 2) and on How it works (step 10)


def _metric(at, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, [(m.label, m.value) for m in at.metric]
    return values[0]


@pytest.fixture(scope="module")
def shown() -> dict[str, str]:
    """The −ELBO of image #9 of the fashion-mnist test split as each page shows it."""
    need("fashion-mnist")
    pca = {"map_method": "pca"}
    out = {}
    at = open_link("map", {"ckpt": "fashion-mnist", "point": str(IMAGE)}, pca)
    out["map"] = _metric(at, "−ELBO (nats)")
    at = open_link("how_it_works", {"ckpt": "fashion-mnist", "image": str(IMAGE)}, pca)
    out["how_it_works"] = _metric(at, "−ELBO (nats)")
    out["how_it_works latex"] = " ".join(e.value for e in at.latex)
    at = open_link("your_image", {"ckpt": "fashion-mnist", "sample": "data", "image": str(IMAGE)}, pca)
    out["your_image"] = _metric(at, "−ELBO (nats)")
    return out


def test_one_image_has_one_elbo_on_every_page(shown):
    """The Map's point panel (tour step 2), How it works (step 10) and Your image (the same image, saved as a
    PNG and read back) show the same −ELBO for image #9."""
    assert shown["map"] == shown["how_it_works"] == shown["your_image"], shown
    assert f"= {shown['map']}" in shown["how_it_works latex"], shown


def test_the_figure_is_the_librarys_estimate(shown):
    """What the pages show is vae's estimate for that image, computed alone, from ELBO_SAMPLES samples."""
    from vae.checkpoint import load_checkpoint
    from vae.explore.latent import image_elbo
    from vae.model import ELBO_SAMPLES

    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    est = image_elbo(ck.model.eval(), ck.load_data("test", IMAGE + 1).images[IMAGE])
    assert est.samples == ELBO_SAMPLES and 0 < est.se < 3, est
    assert shown["map"] == f"{est.neg_elbo:.1f}", (shown, est)


# -- the classroom's address ------------------------------------------------------------------------
@pytest.fixture
def served_on():
    """Sets Streamlit's server.address for the test (the app reads it with st.get_option)."""
    from streamlit import config

    old = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", old)


def _panel(at) -> dict:
    side = at.sidebar
    return {"code": [c.value for c in side.code], "captions": [c.value for c in side.caption],
            "images": len(side.get("image")), "buttons": [b.label for b in side.button]}


def test_presenter_mode_shows_the_students_address_and_its_qr_code(served_on):
    from vae.lan import lan_address

    need("digits")
    served_on("0.0.0.0")
    host = lan_address()
    at = open_link("generate", {"ckpt": "digits", "present": "1", "lang": "zh"})
    panel = _panel(at)
    if host is None:  # a machine on no network: the panel says so
        assert any("没有连接" in c or "网络" in c for c in panel["captions"]), panel
        return
    assert panel["code"] == [f"http://{host}:8501/?lang=zh"], panel
    assert panel["images"] >= 1 and "给全班看" in panel["buttons"], panel
    plain = open_link("generate", {"ckpt": "digits", "lang": "zh"})  # not in presenter mode: no panel
    assert not _panel(plain)["code"]


def test_an_app_serving_this_computer_only_says_how_to_serve_the_class(served_on):
    need("digits")
    served_on("localhost")
    at = open_link("generate", {"ckpt": "digits", "present": "1"})
    panel = _panel(at)
    assert not panel["code"] and any("`make class`" in c for c in panel["captions"]), panel


def test_make_class_serves_every_interface():
    out = subprocess.run(["make", "-n", "class"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if "streamlit run app.py" in ln)
    assert "--server.address 0.0.0.0" in line, line
