"""The Train page (pages/train.py) through streamlit.testing.v1.AppTest, on a throw-away checkpoint root."""

import shutil
import time
from pathlib import Path

import pytest
import streamlit as st
from app_helpers import app_test, switch
from pagecheck import assert_app_ok
from streamlit.testing.v1 import AppTest

from vae.checkpoint import list_checkpoints
from vae.training.jobs import staging_path

ROOT = Path(__file__).resolve().parents[2]
REAL_ROOT = ROOT / "checkpoints"
NAMES = ("tmp-apptest", "tmp-long", "digits-mlp-z2-beta1", "evil")  # what these tests type


@pytest.fixture()
def ck_root(tmp_path, monkeypatch):
    """A checkpoints/ folder holding only a copy of the shipped digits model; the real one and the
    real disk cache are untouched."""
    import pages._loaders as loaders

    if not (REAL_ROOT / "digits").is_dir():
        pytest.skip("the shipped checkpoints/digits is missing")
    root = tmp_path / "checkpoints"
    root.mkdir()
    shutil.copytree(REAL_ROOT / "digits", root / "digits")
    monkeypatch.setattr(loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")  # "Open it" encodes on the Map
    st.cache_resource.clear()  # a fresh job registry for every test
    st.cache_data.clear()
    yield root
    st.cache_resource.clear()
    st.cache_data.clear()
    # (other runs may be writing into checkpoints/ meanwhile, so look for this file's names only)
    for name in NAMES:
        assert not (REAL_ROOT / name).exists() and not staging_path(REAL_ROOT / name).exists(), name


def _train_page() -> AppTest:
    at = app_test(120)
    at.session_state["ckpt"] = "digits"
    at.run()
    switch(at, "pages/train.py").run()
    assert_app_ok(at)
    return at


def _start_button(at):
    return at.button(key="train_start")


def _errors(at) -> str:
    return " | ".join(e.value for e in at.error)


def _rerun_until(at, pred, timeout=120.0):
    t0 = time.monotonic()
    while True:
        at.run()
        assert_app_ok(at)
        if pred(at):
            return at
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out; page shows: {[m.value for m in at.markdown][:6]}")
        time.sleep(0.3)


def test_the_page_renders_with_a_valid_default_and_the_cli_command(ck_root):
    at = _train_page()
    assert at.title[0].value == "Train a new model"
    assert not at.error, _errors(at)
    assert not _start_button(at).disabled
    shown = at.code[0].value
    lines = shown.split(" \\\n  ")  # one option per line, so that no line break splits an option
    assert lines[0] == "python -m vae train" and all(line.startswith("--") for line in lines[1:]), shown
    assert all(len(line.split()) == 2 for line in lines[1:]), shown  # --flag value
    code = " ".join(lines)
    assert code.startswith("python -m vae train --dataset digits --arch mlp --latent-dim 2")
    assert code.endswith("checkpoints/digits-mlp-z2-beta1")
    assert any("No run yet" in c.value for c in at.caption)


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "sp ace"])
def test_a_name_that_is_not_a_plain_folder_name_is_refused(ck_root, name):
    at = _train_page()
    at.text_input(key="train_name").input(name).run()
    assert_app_ok(at)
    assert "not a plain folder name" in _errors(at)
    assert _start_button(at).disabled
    assert sorted(p.name for p in ck_root.iterdir()) == ["digits"]


def test_an_existing_name_is_refused(ck_root):
    at = _train_page()
    at.text_input(key="train_name").input("digits").run()
    assert "already exists" in _errors(at)
    assert _start_button(at).disabled


def test_a_missing_data_set_is_explained_before_starting(ck_root, monkeypatch):
    import vae.data.datasets

    monkeypatch.setattr(vae.data.datasets, "dataset_available", lambda name, split="test", data_dir=None:
                        name == "digits" or split == "test")
    at = _train_page()
    at.selectbox(key="train_dataset").select("fashion-mnist").run()
    assert_app_ok(at)
    errors = _errors(at)
    assert "fashion-mnist** cannot be trained here" in errors and "train split" in errors
    assert "make data" in errors and _start_button(at).disabled
    at.selectbox(key="train_dataset").select("kmnist").run()
    assert "python -m vae data --fetch kmnist" in _errors(at)


def test_a_digits_run_from_the_page_lands_in_the_picker(ck_root):
    at = _train_page()
    at.text_input(key="train_name").input("tmp-apptest").run()
    at.number_input(key="train_epochs").set_value(3).run()
    assert not at.error, _errors(at)
    _start_button(at).click().run()
    assert_app_ok(at)
    # 3 epochs without a KL warm-up: the 2-D model ends with its dimensions collapsed, and the page says
    # so, with what to change, instead of a green "Finished" (issue #16)
    _rerun_until(at, lambda a: any("Finished 3 epochs" in w.value for w in [*a.success, *a.warning]))
    done = next(w.value for w in [*at.success, *at.warning] if "Finished 3 epochs" in w.value)
    assert "test −ELBO" in done
    assert not at.success and "not usable yet" in done and "of 2 latent dimensions in use" in done, done
    assert "KL warm-up" in done and "classroom preset" in done, done
    assert (ck_root / "tmp-apptest" / "model.safetensors").is_file()
    assert at.text_input(key="train_name").value == ""  # the taken name gave way to a fresh suggestion
    assert not at.error, _errors(at)
    assert not (REAL_ROOT / "tmp-apptest").exists()
    # what the sidebar's picker lists (AppTest drops the sidebar after switch_page, so ask the library)
    assert {"name": "tmp-apptest", "error": None} in [
        {"name": e.name, "error": e.error} for e in list_checkpoints(ck_root)]
    assert len(at.get("plotly_chart")) == 3  # the codes, the batch losses and the per-epoch curves
    at.button(key="train_open_1").click().run()
    assert_app_ok(at)
    assert at.session_state["ckpt"] == "tmp-apptest"
    assert at.title[0].value == "Map of the latent space"  # "Open it" switched pages
    # the name is now taken
    switch(at, "pages/train.py").run()
    at.text_input(key="train_name").input("tmp-apptest").run()
    assert "already exists" in _errors(at)


def test_one_run_at_a_time_and_stop_keeps_the_finished_epochs(ck_root):
    at = _train_page()
    at.text_input(key="train_name").input("tmp-long").run()
    at.number_input(key="train_epochs").set_value(500).run()
    _start_button(at).click().run()
    _rerun_until(at, lambda a: any("Training: tmp-long" in s.value for s in a.subheader))

    other = _train_page()  # another browser session sees the same run and cannot start a second
    assert any("already in progress" in i.value for i in other.info)
    assert _start_button(other).disabled
    assert any("another browser session" in c.value for c in other.caption)

    _rerun_until(at, lambda a: "batch" in a.get("progress")[0].proto.text
                 and not a.get("progress")[0].proto.text.startswith("epoch 1 "))  # past epoch 1
    at.button(key="train_stop_1").click().run()
    _rerun_until(at, lambda a: len(a.warning) > 0)
    assert "Stopped" in at.warning[0].value and "saved to" in at.warning[0].value
    assert (ck_root / "tmp-long" / "model.safetensors").is_file()
    assert at.text_input(key="train_name").value == "" and not at.error  # a fresh suggestion
    # nothing runs any more (the one info left is the time estimate of the next run)
    assert not [i.value for i in at.info if i.icon != ":material/timer:"] and not _start_button(at).disabled
    at.text_input(key="train_name").input("tmp-long").run()
    assert "already exists" in _errors(at) and _start_button(at).disabled
