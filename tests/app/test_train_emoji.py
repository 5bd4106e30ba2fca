"""The Train page on the colour emoji data set (AppTest, on a throw-away checkpoint root): choosing emoji
starts from the conv architecture, a Gaussian likelihood, 16 dimensions and β = 2 (vae.training.defaults),
shows a few of its images in colour, and a one-epoch run from the page finishes with its reconstructions
shown in colour; going back to a grey set brings Bernoulli back."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from app_helpers import app_test, switch
from pagecheck import assert_app_ok
from PIL import Image

from vae.data import datasets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def ck_root(tmp_path, monkeypatch):
    import pages._loaders as loaders

    if not (ROOT / "checkpoints" / "digits").is_dir():
        pytest.skip("the shipped checkpoints/digits is missing")
    root = tmp_path / "checkpoints"
    root.mkdir()
    shutil.copytree(ROOT / "checkpoints" / "digits", root / "digits")
    monkeypatch.setattr(loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield root
    st.cache_resource.clear()
    st.cache_data.clear()


def _train_page():
    at = app_test(120)
    at.session_state["ckpt"] = "digits"
    at.run()
    switch(at, "pages/train.py").run()
    assert_app_ok(at)
    return at


def _captions(at) -> list[str]:
    return [c for im in at.get("image") for c in im.captions]


def _png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _coloured_share(im: Image.Image) -> float:
    a = np.asarray(im.convert("RGB"), np.int16)
    return float(((a.max(-1) - a.min(-1)) >= 24).mean())


def test_emoji_starts_from_the_colour_models_settings_and_shows_colour(ck_root):
    at = _train_page()
    assert at.radio(key="train_likelihood").value == "bernoulli"  # digits
    at.selectbox(key="train_dataset").select("emoji").run()
    assert_app_ok(at)
    assert at.radio(key="train_arch").value == "conv" and at.radio(key="train_likelihood").value == "gaussian"
    assert at.number_input(key="train_latent").value == 16 and at.number_input(key="train_beta").value == 2.0
    command = " ".join(at.code[0].value.replace("\\", " ").split())
    assert "--dataset emoji --arch conv" in command and "--likelihood gaussian" in command, command
    if datasets.dataset_available("emoji", "test"):  # the page shows the row its cached function makes
        from pages.train import data_preview_png

        assert _captions(at) == ["A few of its test images."]
        row = _png(data_preview_png("emoji"))
        assert row.mode == "RGB" and _coloured_share(row) > 0.1, (row.mode, _coloured_share(row))
    at.radio(key="train_likelihood").set_value("logistic").run()  # the user's choice stays
    assert at.radio(key="train_likelihood").value == "logistic"
    at.selectbox(key="train_dataset").select("digits").run()
    assert (
        at.radio(key="train_likelihood").value == "bernoulli" and at.radio(key="train_arch").value == "conv"
    )
    from pages.train import data_preview_png

    assert _png(data_preview_png("digits")).mode == "L"


@pytest.mark.skipif(
    not datasets.dataset_available("emoji", "train"), reason="the emoji train split is not here (make data)"
)
def test_a_one_epoch_emoji_run_shows_colour_reconstructions(ck_root):
    at = _train_page()
    at.selectbox(key="train_dataset").select("emoji").run()
    at.number_input(key="train_epochs").set_value(1).run()
    at.text_input(key="train_name").input("tmp-emoji").run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="train_start").click().run()
    t0 = time.monotonic()
    while not any("Finished 1 epoch" in m.value for m in [*at.success, *at.warning]):
        assert time.monotonic() - t0 < 300, [m.value for m in at.markdown][:6]
        time.sleep(0.5)
        at.run()
        assert_app_ok(at)
    assert (ck_root / "tmp-emoji" / "model.safetensors").is_file()
    assert any("Its reconstructions" in m.value for m in at.markdown)
    assert len(at.get("image")) == 2  # the data set's row, the run's reconstructions
    from pages.train import data_preview_png, reconstructions_png

    recon = _png(reconstructions_png(str(ck_root / "tmp-emoji"), "emoji", None))
    preview = _png(data_preview_png("emoji"))
    assert (
        recon.mode == "RGB" and recon.height > preview.height
    )  # two rows: the images, their reconstructions
    share = _coloured_share(recon)
    assert share > 0.1, f"the reconstructions are grey: {share:.1%} of their pixels coloured"
