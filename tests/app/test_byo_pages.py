"""Every explorer page on an imported model (tests/byo_model.py's VAE, not ours), with AppTest: each
renders without an exception or an error, Reconstructions puts ours and theirs side by side, How it
works says in one line what an ONNX model cannot give, and the training pages refuse it."""

from __future__ import annotations

import pytest
import torch
from app_helpers import app_test, switch
from pagecheck import assert_app_ok

EXPLORER = ["map", "sliders", "reconstructions", "interpolate", "generate", "your_image", "how_it_works"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One explorer cache for this module: a page's encodings and map, computed by the first test
    that opens it, serve the later ones (the shipped model's cache stays out of it)."""
    return tmp_path_factory.mktemp("byo-pages-cache")


@pytest.fixture()
def app(imported_root, cache_dir, monkeypatch):
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", imported_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", cache_dir)
    threads = torch.get_num_threads()  # the pages set torch's threads, which new threads inherit
    at = app_test(180)
    at.session_state["ckpt"] = "theirs"
    yield at
    torch.set_num_threads(threads)


def test_every_explorer_page_renders_an_imported_model(app):
    app.run()
    assert_app_ok(app, "map", errors=True)
    assert "imported ONNX · latent 20" in " ".join(c.value for c in app.sidebar.caption)
    assert app.selectbox(key="map_method").value == "pca", "the map chosen at import (imported_root)"
    for page in EXPLORER[1:]:  # the Map is the app's first page, drawn by the run above
        switch(app, f"pages/{page}.py").run()
        assert_app_ok(app, page, errors=True)
    assert "Per-layer sizes are not shown: an imported ONNX model's graphs hold its weights" in " ".join(
        c.value for c in app.caption)
    assert any("ELBO" in m.label for m in app.metric)  # a Bernoulli likelihood: the ELBO is there


def test_reconstructions_show_ours_and_theirs_side_by_side(app):
    switch(app, "pages/reconstructions.py").run()
    compare = [w for w in app.selectbox if "fashion-mnist" in (w.options or [])]
    assert compare, [w.label for w in app.selectbox]
    compare[0].set_value("fashion-mnist").run()
    assert_app_ok(app, "reconstructions A/B", errors=True)
    text = " ".join(str(getattr(e, "value", "")) for e in app.markdown) + " ".join(c.value for c in app.caption)
    assert "theirs" in text and "fashion-mnist" in text


def test_the_training_pages_refuse_an_imported_model(app):
    switch(app, "pages/training_step.py").run()
    assert_app_ok(app, "training step", errors=True)
    assert any("is an imported ONNX model: its frozen graphs give no gradients" in i.value for i in app.info)
    switch(app, "pages/train.py").run()
    assert_app_ok(app, "train", errors=True)
    assert any("theirs is an imported ONNX model" in c.value for c in app.caption), [c.value for c in app.caption]
    app.text_input(key="train_name").input("theirs").run()  # its name typed as the new run's: refused
    assert_app_ok(app, "train, the imported model's name")
    assert [e.value for e in app.error] == [
        "Cannot use this name: 'theirs' is an imported ONNX model: its weights live in frozen ONNX graphs that "
        "this tool runs but cannot train; choose a new name to train a VAE of ours."], [e.value for e in app.error]


def test_how_it_works_without_a_likelihood_says_so_in_one_line(tmp_path, their_onnx, cache_dir, monkeypatch):
    import pages._loaders
    from vae.byo.importer import import_onnx

    root = tmp_path / "checkpoints"
    import_onnx(*their_onnx, "fashion-mnist", root / "nolik", likelihood="none", evaluate=False, map_method="pca")
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", cache_dir)
    threads = torch.get_num_threads()
    try:
        at = app_test(180)
        at.session_state["ckpt"] = "nolik"
        at.run()
        assert_app_ok(at, "map", errors=True)
        assert at.selectbox(key="map_method").value == "pca", "the map chosen at import"
        # not the Map again: AppTest's switch_page drops its persisted projection (a browser keeps it,
        # test_classroom), and the Map would then fit a UMAP of 10,000 codes (70 s) that no user waits for
        for page in EXPLORER[1:]:
            switch(at, f"pages/{page}.py").run()
            assert_app_ok(at, page, errors=True)
        assert any("The ELBO needs a likelihood p(x|z), which **nolik** does not declare" in i.value for i in at.info)
    finally:
        torch.set_num_threads(threads)
