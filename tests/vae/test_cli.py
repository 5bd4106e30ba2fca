"""Every CLI command runs (on digits), and bad arguments exit 2 with one line, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli

from vae.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "vae", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_train_then_every_command(tmp_path, capsys):
    """Training runs as a real `python -m vae` process (twice: a run, then --resume); the commands
    in between run in this process through the same ``main`` (a process each would add seconds of
    imports per command, and the entry point is already proven by the training runs)."""
    out = tmp_path / "ck"
    r = run_cli("train", "--dataset", "digits", "--arch", "mlp", "--latent-dim", "3", "--hidden", "32",
                "--epochs", "2", "--batch-size", "64", "--kl-warmup", "1", "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "complete" in r.stdout and "epoch   2/2" in r.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["training"]["command"].startswith("python -m vae train --dataset digits")

    r = cli(capsys, "info", out)
    assert r.returncode == 0 and "digits" in r.stdout and "latent 3" in r.stdout
    r = cli(capsys, "info", out, "--json")
    assert json.loads(r.stdout)["config"]["latent_dim"] == 3

    r = cli(capsys, "evaluate", out, "--json", "--iwae-k", "20", "--iwae-images", "50")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    for key in ("neg_elbo", "recon", "kl", "iwae_nll", "iwae_k", "recon_mse", "knn_acc",
                "active_units", "latent_dim", "baselines"):
        assert key in rep
    for key in ("pca_recon_mse", "pca_knn_acc", "pixel_knn_acc"):
        assert key in rep["baselines"]
    assert rep["iwae_k"] == 20 and rep["iwae_images"] == 50 and rep["latent_dim"] == 3
    assert rep["iwae_nll"] <= rep["neg_elbo"] + 1.0  # a tighter bound (noise allowed)
    assert json.loads((out / "meta.json").read_text())["metrics"]["iwae_k"] == 20
    r = cli(capsys, "evaluate", out, "--iwae-k", "5", "--iwae-images", "10", "--no-save")
    assert r.returncode == 0 and "IWAE bound" in r.stdout and "k-NN accuracy" in r.stdout

    r = cli(capsys, "sample", out, "--n", "16", "--out", tmp_path / "s.png")
    assert r.returncode == 0 and (tmp_path / "s.png").stat().st_size > 100
    r = cli(capsys, "reconstruct", out, "--n", "8", "--out", tmp_path / "r.png")
    assert r.returncode == 0 and (tmp_path / "r.png").stat().st_size > 100

    r = cli(capsys, "export", out, "--format", "csv", "--out", tmp_path / "csv")
    assert r.returncode == 0
    lines = (tmp_path / "csv" / "latents.csv").read_text().splitlines()
    assert lines[0] == "index,label,class,z0,z1,z2" and len(lines) == 361
    r = cli(capsys, "export", out, "--format", "projector", "--out", tmp_path / "proj")
    assert r.returncode == 0
    for f in ("tensors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"):
        assert (tmp_path / "proj" / f).is_file()
    assert len((tmp_path / "proj" / "tensors.tsv").read_text().splitlines()) == 360

    r = run_cli("train", "--dataset", "digits", "--arch", "mlp", "--latent-dim", "3", "--hidden", "32",
                "--epochs", "3", "--out", out, "--resume", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "meta.json").read_text())["epochs_done"] == 3


BAD = [
    (["train", "--out", "x", "--latent-dim", "0"], "--latent-dim must be >= 1, got 0"),
    (["train", "--out", "x", "--latent-dim", "two"], "--latent-dim must be a whole number, got 'two'"),
    (["train", "--out", "x", "--epochs", "-3"], "--epochs must be >= 1, got -3"),
    (["train", "--out", "x", "--beta", "-1"], "--beta must be >= 0, got -1"),
    (["train", "--out", "x", "--beta", "nan"], "--beta must be a finite number"),
    (["train", "--out", "x", "--lr", "0"], "--lr must be > 0"),
    (["train", "--out", "x", "--arch", "rnn"], "invalid choice: 'rnn'"),
    (["train", "--out", "x", "--dataset", "fasion-mnist"], "did you mean 'fashion-mnist'"),
    (["train", "--out", "x", "--dataset", "folder:/no/such/dir"], "does not exist"),
    (["train", "--out", "x", "--hidden", "32,abc"], "expected comma-separated sizes"),
    (["train"], "the following arguments are required: --out"),
    (["train", "--out", "nonexistent-dir-xyz", "--resume", "--dataset", "digits"], "does not exist yet"),
    (["evaluate", "no/such/checkpoint"], "does not exist"),
    (["evaluate", "checkpoints", "--iwae-k", "0"], "--iwae-k must be >= 1"),
    (["info", "tests"], "no config.json"),
    (["sample", "no/such", "--out", "x.png"], "does not exist"),
    (["sample", "x", "--n", "many", "--out", "x.png"], "--n must be a whole number"),
    (["reconstruct", "x"], "required: --out"),
    (["export", "x", "--format", "xml", "--out", "d"], "invalid choice: 'xml'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: command"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(args)
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_bad_arguments_in_a_real_process_have_no_traceback():
    r = run_cli("train", "--dataset", "nope", "--out", "x")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_a_partial_evaluation_never_replaces_a_complete_one(tmp_path, capsys):
    """`evaluate --limit` once overwrote the shipped 10,000-image metrics (issue #14)."""
    import shutil

    from vae.evaluate import is_complete, settings_key

    ck = tmp_path / "digits"
    shutil.copytree(ROOT / "checkpoints" / "digits", ck)
    meta = json.loads((ck / "meta.json").read_text())
    shipped = meta["metrics"]
    assert is_complete(shipped, meta), "the shipped metrics are a complete evaluation"

    r = cli(capsys, "evaluate", ck, "--limit", "100", "--iwae-k", "5", "--iwae-images", "20")
    assert r.returncode == 0, r.stderr
    assert "kept the complete evaluation" in r.stderr and "--replace" in r.stderr, r.stderr
    assert "partial" in r.stdout
    after = json.loads((ck / "meta.json").read_text())
    assert after["metrics"] == shipped, "the complete metrics must stay"
    partial = [v for v in after["evaluations"].values() if v["n_images"] == 100]
    assert len(partial) == 1 and partial[0]["complete"] is False and partial[0]["limit"] == 100
    assert settings_key(partial[0]) in after["evaluations"]

    r = cli(capsys, "evaluate", ck, "--limit", "100", "--iwae-k", "5", "--iwae-images", "20", "--replace")
    assert r.returncode == 0 and "stored these partial metrics" in r.stderr, r.stderr
    assert json.loads((ck / "meta.json").read_text())["metrics"]["n_images"] == 100


def test_a_complete_evaluation_replaces_a_partial_one(tmp_path, digits_checkpoint):
    import shutil

    from vae.evaluate import store_report

    ck = shutil.copytree(digits_checkpoint, tmp_path / "ck")  # the session's checkpoint stays as it is
    partial = {"n_images": 50, "limit": 50, "iwae_k": 5, "iwae_images": 5, "knn_k": 5, "knn_fit": "train",
               "knn_fit_size": 1437, "seed": 0, "neg_elbo": 1.0}
    msg = store_report(ck, partial)
    assert "stored these partial metrics" in msg  # nothing better was there
    meta = json.loads((ck / "meta.json").read_text())
    complete = {**partial, "n_images": meta["test_size"], "limit": None, "iwae_k": 1000,
                "iwae_images": min(1000, meta["test_size"]), "knn_fit_size": meta["train_size"], "neg_elbo": 2.0}
    assert "stored these complete metrics" in store_report(ck, complete)
    meta = json.loads((ck / "meta.json").read_text())
    assert meta["metrics"]["neg_elbo"] == 2.0 and meta["metrics"]["complete"] is True
    assert len(meta["evaluations"]) == 2
    # a later partial run with other settings keeps the complete one
    assert "kept the complete evaluation" in store_report(ck, {**partial, "n_images": 60})
    assert json.loads((ck / "meta.json").read_text())["metrics"]["neg_elbo"] == 2.0
