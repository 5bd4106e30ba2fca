"""Models trained with a third-party library (pythae 0.1.2: tests/pythae_models.py), imported and
opened on every page of the app, as a researcher explores their own VAE: no page may fail on them."""

from __future__ import annotations

import pytest
import torch
from app_helpers import app_test, switch
from pagecheck import assert_app_ok

#: every page of the app, in the sidebar's order; the Map is the first and opens with the app
PAGES = ["sliders", "reconstructions", "interpolate", "generate", "your_image", "how_it_works", "training_step",
         "ae_vs_vae", "vae_vs_gan", "uses", "weaknesses", "train", "tour"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pythae-pages-cache")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "lang"), [("pythae-beta", "en"), ("pythae-conv", "zh")])
def test_every_page_opens_a_pythae_model(name, lang, pythae_root, cache_dir, monkeypatch):
    """Each model in one of the two languages (the pages' code paths are the same in both; the walk in
    Chinese catches a translation whose placeholders do not fit what an imported model gives)."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", pythae_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", cache_dir)
    threads = torch.get_num_threads()
    try:
        at = app_test(240)
        at.query_params["lang"] = lang
        at.session_state["ckpt"] = name
        at.run()
        assert_app_ok(at, f"{name}: map", errors=True)
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in at.title[0].value)
        assert cjk == (lang == "zh"), at.title[0].value
        for page in PAGES:
            switch(at, f"pages/{page}.py").run()
            assert_app_ok(at, f"{name}: {page}", errors=True)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture()
def app(pythae_root, cache_dir, monkeypatch):
    """The app on the pythae checkpoints folder, opened on ``pythae-beta``."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", pythae_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", cache_dir)
    threads = torch.get_num_threads()
    at = app_test(240)
    at.session_state["ckpt"] = "pythae-beta"
    yield at
    torch.set_num_threads(threads)


def _text(at) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in [*at.markdown, *at.caption, *at.info])


def test_the_explore_set_of_every_image_claims_no_size_the_import_did_not_record(app, pythae_root, tmp_path,
                                                                                 monkeypatch):
    """An import made where the train split was not on the machine records the test split's size alone:
    the sidebar's "all" choice must not read "all 10,000" (the map of every image holds 70,000)."""
    import json
    import shutil

    import pages._loaders

    root = tmp_path / "checkpoints"
    shutil.copytree(pythae_root / "pythae-beta", root / "pythae-beta")
    meta = json.loads((root / "pythae-beta" / "meta.json").read_text(encoding="utf-8"))
    meta.pop("train_size", None)
    (root / "pythae-beta" / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "all_available", lambda ck: True)  # as where the train split is here
    app.run()
    options = app.sidebar.radio(key="split").options
    assert "all (train + test)" in options, options
    assert not any("10,000 (train + test)" in o for o in options), options


def test_ae_vs_vae_suggests_a_command_that_runs_for_an_imported_model(app):
    """Its twin cannot be trained here: the page says so and suggests the import command, which the
    command line accepts (it suggested `train --arch onnx`, which argparse refuses)."""
    import shlex

    from vae.cli import build_parser

    switch(app, "pages/ae_vs_vae.py").run()
    assert_app_ok(app, "ae_vs_vae", errors=True)
    text = " ".join(i.value for i in app.info)
    assert "imported model, which this tool cannot train" in text, text
    command = text.split("`python -m vae ", 1)[1].split("`", 1)[0]
    args = build_parser().parse_args(shlex.split(command))  # SystemExit (argparse's refusal) fails the test
    assert (args.command, args.beta, args.dataset) == ("import", 0.0, "fashion-mnist"), args


def test_the_uses_page_counts_the_decoder_graphs_weights(app, pythae_root):
    from vae.checkpoint import load_checkpoint

    switch(app, "pages/uses.py").run()
    assert_app_ok(app, "uses", errors=True)
    weights = load_checkpoint(pythae_root / "pythae-beta").model.decoder_graph.n_weights
    assert f"the receiver needs the decoder ({weights:,} weights)" in _text(app)


def test_every_page_counts_the_same_dimensions_in_use(app, pythae_root, capsys):
    """One rule everywhere (average KL over the test images >= 0.05 nats): the Map, How it works,
    Weaknesses, Reconstructions and `vae info` give the number a reference computation gives."""
    import re

    from conftest import cli
    from torch.distributions import Normal, kl_divergence

    from vae.checkpoint import load_checkpoint

    ck = load_checkpoint(pythae_root / "pythae-beta")
    mu, logvar = ck.model.embed(ck.load_data("test").images)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).mean(0)  # (D,), the reference
    used, d = int((kl >= 0.05).sum()), ck.config.latent_dim
    app.run()
    assert f"**{used} of {d}** latent dimensions in use" in _text(app), _text(app)
    switch(app, "pages/how_it_works.py").run()
    assert f"**{used} of {d} dimensions in use**" in _text(app)
    collapsed = [f"z{j}" for j in range(d) if kl[j] < 0.05]
    assert (f"**Collapsed**: {', '.join(collapsed)}." in _text(app)) == bool(collapsed)
    switch(app, "pages/weaknesses.py").run()
    assert f"keeps {used} of {d} dimensions in use" in _text(app)
    tables = [t.value for t in app.dataframe if "pythae-beta" in set(t.value.iloc[:, 0])]
    assert tables, "the table of every checkpoint's dimensions in use"
    row = tables[0][tables[0].iloc[:, 0] == "pythae-beta"].iloc[0]
    assert row.iloc[2] == f"{used} of {d}", row
    switch(app, "pages/reconstructions.py").run()
    assert any(f"{used} / {d}" in t.value.to_numpy() for t in app.table), [t.value for t in app.table]
    out = cli(capsys, "info", pythae_root / "pythae-beta").stdout
    assert re.search(rf"dims_in_use {used}\b", out), out
