"""--resume says what it does: nothing left to do, fewer epochs than done, more epochs (and what that
changes), and settings that differ from the run's are refused naming both values."""

import json

import pytest

from vae.cli import main

BASE = ["--dataset", "digits", "--arch", "mlp", "--hidden", "16", "--latent-dim", "2", "--batch-size", "256",
        "--lr", "3e-3", "--no-progress"]


@pytest.fixture()
def finished(tmp_path, capsys):
    out = tmp_path / "ck"
    assert main(["train", *BASE, "--epochs", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def _resume(out, *extra) -> tuple[int, str, str]:
    import contextlib
    import io

    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = main(["train", "--out", str(out), "--resume", "--no-progress", *extra])
    return code, o.getvalue(), e.getvalue()


def _epochs(out) -> int:
    return json.loads((out / "meta.json").read_text())["epochs_done"]


def test_a_finished_run_says_so(finished):
    before = (finished / "model.safetensors").read_bytes()
    code, out, err = _resume(finished)  # every option from the run itself
    assert code == 0 and err == ""
    assert out == f"{finished} has already finished 2/2 epochs; pass --epochs M (more than 2) to train further\n"
    assert (finished / "model.safetensors").read_bytes() == before


def test_fewer_epochs_than_done_is_refused(finished):
    code, out, err = _resume(finished, "--epochs", "1")
    assert code == 2 and out == ""
    assert err == (f"python -m vae train: error: --resume: {finished} has already finished 2 epochs, more than "
                   "--epochs 1; pass --epochs M (more than 2) to train further\n")


def test_more_epochs_continue_and_say_what_the_schedule_does(finished):
    code, out, err = _resume(finished, "--epochs", "3")
    assert code == 0 and out.startswith(f"complete: {finished}  (epoch 3,")
    notes = [line for line in err.splitlines() if ": note: " in line]
    assert notes == [f"python -m vae train: note: {finished} was planned for --epochs 2; going on to 3 stretches "
                     "the cosine learning-rate schedule from here, so the result differs from a run started with "
                     "--epochs 3"]
    assert _epochs(finished) == 3


@pytest.mark.parametrize("extra, named", [
    (["--lr", "1e-3"], "--lr 0.003 (this run asks for 0.001)"),
    (["--batch-size", "64"], "--batch-size 256 (this run asks for 64)"),
    (["--lr", "1e-3", "--batch-size", "64"], "--batch-size 256 (this run asks for 64), --lr 0.003 (this run "
                                             "asks for 0.001)"),
])
def test_changed_settings_are_refused_naming_both_values(finished, extra, named):
    code, out, err = _resume(finished, "--epochs", "4", *extra)
    assert code == 2 and len(err.splitlines()) == 1
    assert err == (f"python -m vae train: error: --resume: {finished} was trained with {named}; pass the run's "
                   "values to continue it exactly, or choose a new --out\n")
    assert _epochs(finished) == 2


def test_an_interrupted_run_resumes_exactly_without_repeating_its_options(tmp_path, capsys, monkeypatch):
    import vae.cli.train

    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert main(["train", *BASE, "--epochs", "3", "--out", str(straight)]) == 0
    attach = vae.cli.train._attach_progress

    def stop_after_two(trainer, bar=True):
        attach(trainer, bar)
        trainer.add_callback("on_epoch_end", lambda t, info: info["epoch"] == 2 and t.request_stop())

    monkeypatch.setattr(vae.cli.train, "_attach_progress", stop_after_two)
    assert main(["train", *BASE, "--epochs", "3", "--out", str(interrupted)]) == 0
    monkeypatch.undo()
    assert _epochs(interrupted) == 2
    capsys.readouterr()
    code, out, err = _resume(interrupted)  # no --epochs, --lr, ...: the run's own
    assert code == 0 and out.startswith(f"complete: {interrupted}  (epoch 3,") and ": note: " not in err
    a = json.loads((straight / "meta.json").read_text())["history"]
    b = json.loads((interrupted / "meta.json").read_text())["history"]
    assert [r["test_neg_elbo"] for r in a] == [r["test_neg_elbo"] for r in b]
