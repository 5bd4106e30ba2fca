"""The Sliders page names what each slider does, and offers SeFa's directions: every label ends with the
name vae.explore.directions gives the same direction (computed here from the checkpoint, the shipped
classifier and the test split), in English and in Chinese; the SeFa sliders step along the eigenvectors
NumPy finds for the decoder's first layer, on our model and on an imported ONNX one."""

from __future__ import annotations

import gettext
import json

import numpy as np
import pytest
import torch
from app_helpers import ROOT, app_test, need, switch
from pagecheck import assert_app_ok

from vae.baselines.classifier import KIND as CLASSIFIER
from vae.baselines.classifier import load_classifier
from vae.checkpoint import find_model, load_checkpoint
from vae.explore.directions import dim_ends, name_ends, start_codes, step_ends
from vae.explore.latent import decode

FM = "fashion-mnist"
ZH = gettext.translation("messages", ROOT / "locale", languages=["zh"])


def expected_names(ck, mu: np.ndarray, labels: np.ndarray, kind: str, axes: np.ndarray | None = None) -> list:
    """The library's names of every slider of ``kind``: ±3 from two codes of each class (the page's rule)."""
    path = find_model(ROOT / "models", CLASSIFIER, ck.dataset)
    read = {}
    if path is not None:
        clf = load_classifier(path)
        read = {"read": clf.model.predict, "class_names": list(clf.class_names)}
    starts = start_codes(mu, labels, 2)
    ends = ([dim_ends(starts, d, 3.0) for d in range(mu.shape[1])] if kind == "latent"
            else [step_ends(starts, a, 3.0, 4.0) for a in axes])
    bg = ck.data_background()
    return [name_ends(lambda z: decode(ck.model, z), lo, hi, background=bg.lightness if bg else None, **read)
            for lo, hi in ends]


def sefa_reference(a: np.ndarray) -> np.ndarray:
    """NumPy's eigenvectors of AᵀA, largest eigenvalue first (rows)."""
    _values, vectors = np.linalg.eigh(np.asarray(a, np.float64).T @ np.asarray(a, np.float64))
    return vectors[:, ::-1].T


def open_sliders(ckpt: str, lang: str = "en", **state):
    at = app_test(300)
    at.query_params["ckpt"] = ckpt
    at.query_params["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    switch(at, "pages/sliders.py").run()
    assert_app_ok(at, f"sliders, {ckpt}, {lang}")
    return at


def live_axes(at) -> np.ndarray:
    (el,) = at.get("bidi_component")
    return np.asarray(json.loads(el.proto.json or el.proto.mixed.json)["axes"])


def url_code(at) -> np.ndarray:
    link = at.query_params["z"]
    return np.array([float(v) for v in (link[0] if isinstance(link, list) else link).split(",")])


def labelled(at, prefix: str) -> dict[int, str]:
    """{slider index: its label} of the sliders whose state key starts with ``prefix``."""
    return {int(s.key.removeprefix(prefix)): s.label for s in at.slider if s.key.startswith(prefix)}


@pytest.fixture(scope="module")
def shipped():
    need(FM)
    ck = load_checkpoint(ROOT / "checkpoints" / FM)
    data = ck.load_data("test")
    mu = np.asarray(ck.model.embed(data.images)[0], np.float32)
    return ck, mu, data.labels.numpy()


def test_every_latent_slider_says_what_the_library_names_it(shipped):
    ck, mu, labels = shipped
    at = open_sliders(FM)
    names = expected_names(ck, mu, labels, "latent")
    shown = labelled(at, "sl_z")
    assert len(shown) >= 8
    for d, label in shown.items():
        assert label.startswith(f"z{d} · KL ") and label.endswith(" · " + names[d].text()), (label, names[d].text())
    assert any("→" in label for label in shown.values()), "no slider names the classes at its ends"


def test_names_from_the_start_image_alone(shipped):
    """The toggle names the sliders from the start (test image #9, a sneaker) instead of from every class."""
    ck, mu, labels = shipped
    at = app_test(300)
    at.query_params["ckpt"] = FM
    at.query_params["image"] = "9"
    switch(at, "pages/sliders.py").run()
    at.toggle(key="sl_names_here").set_value(True).run()
    assert_app_ok(at, "sliders, named from image #9")
    clf = load_classifier(find_model(ROOT / "models", CLASSIFIER, ck.dataset))
    shown = labelled(at, "sl_z")
    for d, label in shown.items():
        name = name_ends(lambda z: decode(ck.model, z), *dim_ends(mu[9:10], d, 3.0), read=clf.model.predict,
                         class_names=list(clf.class_names), background=ck.data_background().lightness)
        assert label.endswith(" · " + name.text()), (label, name.text())
    assert "Sneaker →" in shown[0] or "→ Sneaker" in shown[0], shown[0]


def test_sefa_sliders_step_along_numpys_eigenvectors_and_are_named(shipped):
    ck, mu, labels = shipped
    at = open_sliders(FM)
    at.radio(key="sl_axes").set_value("sefa").run()
    assert_app_ok(at, "sliders, SeFa")
    reference = sefa_reference(ck.model.decoder[0].weight.detach().numpy())
    axes = live_axes(at)  # the live decoder's steps: one row per slider
    np.testing.assert_allclose(np.abs(np.sum(axes * reference, axis=1)), 1.0, atol=1e-5)
    names = expected_names(ck, mu, labels, "sefa", axes)
    for k, label in labelled(at, "sl_sf").items():
        assert label.startswith(f"SeFa{k + 1} · ") and label.endswith(" · " + names[k].text()), label
    z0 = url_code(at)
    at.slider(key="sl_sf0").set_value(1.0).run()
    z1 = url_code(at)
    np.testing.assert_allclose(np.abs(z1 - z0), np.abs(reference[0]), atol=2e-3)


def test_the_names_are_in_chinese_with_the_page(shipped):
    ck, mu, labels = shipped
    at = open_sliders(FM, "zh", sl_axes="pca")
    from vae.explore.latent import principal_axes

    axes = principal_axes(mu)[0]
    names = expected_names(ck, mu, labels, "pca", axes)
    shown = labelled(at, "sl_pc")
    for k, label in shown.items():
        assert label.endswith(" · " + names[k].text(ZH.gettext)), (label, names[k].text(ZH.gettext))
    assert all(w not in " ".join(shown.values()) for w in ("ink", "wider", "Sneaker", "Trouser"))


@pytest.fixture()
def imported(imported_root, tmp_path, monkeypatch):
    """The app on the folder with TheirVAE imported as ONNX graphs (tests/conftest.py's imported_root)."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", imported_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path)
    threads = torch.get_num_threads()
    yield imported_root
    torch.set_num_threads(threads)


def test_an_imported_onnx_model_gets_named_sliders_and_sefa_from_its_graph(imported, their_vae):
    at = open_sliders("theirs")
    ck = load_checkpoint(imported / "theirs")
    data = ck.load_data("test")
    mu = np.asarray(ck.model.embed(data.images)[0], np.float32)
    names = expected_names(ck, mu, data.labels.numpy(), "latent")
    for d, label in labelled(at, "sl_z").items():
        assert label.endswith(" · " + names[d].text()), (label, names[d].text())
    at.radio(key="sl_axes").set_value("sefa").run()
    assert_app_ok(at, "sliders, imported, SeFa")
    reference = sefa_reference(their_vae.fc3.weight.detach().numpy())  # the decoder's first layer, in torch
    np.testing.assert_allclose(np.abs(np.sum(live_axes(at) * reference, axis=1)), 1.0, atol=1e-4)
