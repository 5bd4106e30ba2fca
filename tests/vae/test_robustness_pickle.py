"""Robustness, nothing unsafe loaded: a hostile pickle dropped into a checkpoint folder is refused by
the library, the app's picker and every CLI command, and never unpickled.

The pickle's ``__reduce__`` creates a marker file when it is unpickled; a subprocess first shows
that it really does, then every way in must leave the marker absent. This file builds a pickle on
purpose, so tests/test_package.py's scan for unsafe code skips it (as it skips test_checkpoint.py).
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from app_helpers import app_test
from pagecheck import assert_app_ok

from vae.checkpoint import load_checkpoint
from vae.cli import main
from vae.errors import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_DIGITS = ROOT / "checkpoints" / "digits"


class _Hostile:
    """Unpickling this opens (and so creates) ``marker`` for writing: code run by merely loading."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture()
def hostile(tmp_path):
    """(bytes of a hostile pickle, the marker file it creates when unpickled)."""
    marker = tmp_path / "PWNED"
    data = pickle.dumps(_Hostile(marker), protocol=2)
    assert not marker.exists()
    return data, marker


def test_the_hostile_pickle_really_runs_code_when_unpickled(hostile, tmp_path):
    data, marker = hostile
    (tmp_path / "model.pt").write_bytes(data)
    r = subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.load(open(sys.argv[1], 'rb'))",
                        str(tmp_path / "model.pt")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert marker.exists()  # so an absent marker below means: never unpickled


@pytest.fixture()
def no_unpickling(monkeypatch):
    """torch.load (the usual way a .pt file gets unpickled) fails the test at once.

    pickle itself stays: Streamlit's st.cache_data and torch use it for their own data. The
    marker file is the proof that the hostile file was never unpickled, by any route.
    """
    def refuse(*a, **k):
        pytest.fail("something called torch.load")

    monkeypatch.setattr(torch, "load", refuse)


@pytest.fixture()
def hostile_root(tmp_path, hostile):
    """A checkpoints folder: a good one, and the pickle dropped in three ways."""
    data, marker = hostile
    root = tmp_path / "checkpoints"
    shutil.copytree(SHIPPED_DIGITS, root / "digits")
    beside = Path(shutil.copytree(SHIPPED_DIGITS, root / "beside", ignore=shutil.ignore_patterns("projections")))
    (beside / "model.pt").write_bytes(data)  # next to good weights: refused all the same
    (root / "alone").mkdir()
    for suffix in (".pth", ".ckpt", ".bin"):
        (root / "alone" / f"weights{suffix}").write_bytes(data)
    disguised = Path(shutil.copytree(SHIPPED_DIGITS, root / "disguised",
                                     ignore=shutil.ignore_patterns("projections")))
    (disguised / "model.safetensors").write_bytes(data)  # a pickle wearing safetensors' name
    return root, marker


REASONS = {
    "beside": "model.pt: pickle-style files can run code",
    "alone": "weights.bin, weights.ckpt, weights.pth: pickle-style files can run code",
    "disguised": "model.safetensors is corrupted or truncated",
}


def test_library_refuses_every_hostile_folder(hostile_root, no_unpickling):
    root, marker = hostile_root
    for name, reason in REASONS.items():
        with pytest.raises(CheckpointError, match=reason):
            load_checkpoint(root / name)
    assert not marker.exists()


def test_picker_lists_hostile_folders_as_broken(hostile_root, monkeypatch, no_unpickling):
    import pages._loaders

    root, marker = hostile_root
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", root.parent / "cache")
    at = app_test(120)
    at.query_params["ckpt"] = "beside"  # a link straight to one of them
    at.run()
    assert_app_ok(at)
    assert at.sidebar.selectbox[0].options == ["digits"] and at.session_state["ckpt"] == "digits"
    assert any("not a loadable checkpoint" in w.value for w in at.warning)
    listed = {m.value.split("**")[1]: m.value for m in at.sidebar.expander[0].markdown}
    for name, reason in REASONS.items():
        assert reason in listed[name], listed
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(REASONS))
def test_every_cli_command_refuses_hostile_folders(hostile_root, tmp_path, capsys, no_unpickling, name):
    root, marker = hostile_root
    ck = str(root / name)
    commands = [["info", ck], ["evaluate", ck], ["sample", ck, "--out", str(tmp_path / "s.png")],
                ["reconstruct", ck, "--out", str(tmp_path / "r.png")], ["export", ck, "--out", str(tmp_path / "e")],
                ["project", ck], ["train", "--dataset", "digits", "--arch", "mlp", "--out", ck, "--resume"]]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and REASONS[name] in err, (argv, err)
    assert not marker.exists()


def test_a_real_cli_process_never_unpickles(hostile_root):
    root, marker = hostile_root
    r = subprocess.run([sys.executable, "-m", "vae", "evaluate", str(root / "beside")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert REASONS["beside"] in r.stderr and not marker.exists()
