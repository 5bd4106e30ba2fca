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


def test_another_session_queues_behind_a_run_it_cannot_stop_and_the_owner_stops_it(ck_root):
    """Runs belong to the session that started them: another session sees the run and its progress, has no
    Stop, may join the queue, sees its place and may leave it; the owner's Stop keeps the finished epochs."""
    at = _train_page()
    at.text_input(key="train_name").input("tmp-long").run()
    at.number_input(key="train_epochs").set_value(500).run()
    _start_button(at).click().run()
    _rerun_until(at, lambda a: any("Training: tmp-long" in s.value for s in a.subheader))

    other = _train_page()  # another browser session sees the same run, and cannot stop it
    assert any("Training: tmp-long" in s.value for s in other.subheader)
    assert not [b for b in other.button if b.key and b.key.startswith("train_stop_")], "only the owner may stop"
    assert any("only that session can stop it" in c.value for c in other.caption)
    assert any("Every training slot is busy" in i.value for i in other.info)
    assert _start_button(other).label == "Join the queue" and not _start_button(other).disabled
    other.text_input(key="train_name").input("tmp-queued").run()
    other.number_input(key="train_epochs").set_value(1).run()
    _start_button(other).click().run()
    assert_app_ok(other)
    waiting = next(i.value for i in other.info if "waiting for a free slot" in i.value)
    assert "number 1 in the queue" in waiting and "tmp-queued" in waiting, waiting
    assert any("as number 2" in i.value for i in _train_page().info), "a third session would come after it"
    assert _start_button(other).disabled  # one run each
    at.run()
    assert any("1 run started in another browser session waits in the queue" in c.value for c in at.caption)
    other.button(key="train_cancel_2").click().run()  # it leaves the queue: nothing was written
    assert_app_ok(other)
    assert not any("waiting for a free slot" in i.value for i in other.info)
    assert not (ck_root / "tmp-queued").exists()

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


def _a_run_at(state: dict, owner: str = "someone else"):
    """A run of the page's registry frozen in ``state`` (its thread never started): what every session
    polls, at a moment a test chooses."""
    import pages.train as train
    from vae.config import ModelConfig, TrainConfig
    from vae.training.jobs import TrainingJob

    job = TrainingJob(ModelConfig(arch="mlp", latent_dim=2, hidden_dims=(32,)),
                      TrainConfig(dataset="digits", out="/nonexistent/frozen", epochs=150), job_id=99, owner=owner)
    job._state.update(state)
    reg = train.registry()
    reg._jobs.append(job)
    return job


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_runs_progress_is_shown_in_the_sessions_language(ck_root, lang):
    """The job's own sentences (vae/training/jobs.py) reach the page in the session's language: the
    rehearsal's Chinese sessions read "Evaluating epoch 31 on the test split." in English."""
    from vae.i18n import Text
    from vae.training import jobs

    at = app_test(120)
    at.session_state["ckpt"] = "digits"
    at.session_state["lang"] = lang
    at.run()
    switch(at, "pages/train.py")
    job = _a_run_at(dict(status="running", message=Text(jobs.EVALUATING, epoch=31), epoch=30, step=23,
                         steps_per_epoch=23, started_at=time.time() - 10))
    at.run()
    assert_app_ok(at)
    captions = [c.value for c in at.caption]
    english = "Evaluating epoch 31 on the test split."
    if lang == "en":
        assert any(c.startswith(english) for c in captions), captions
    else:
        assert not any("Evaluating" in c or "epoch" in c for c in captions), captions
        assert any("31" in c and "测试" in c for c in captions), captions
    job._state.update(status="running", message=Text(jobs.LOADING), steps_per_epoch=None)
    at.run()
    bar = at.get("progress")[0].proto.text
    assert (bar == "Loading the data.") if lang == "en" else ("Loading" not in bar and bar), bar
    job._state.update(status="stopped")  # let the fixture's registry go quietly

