"""Checkpoint.save (vae/derived.py): a fine-tuned model saved as a new checkpoint of its own, with
metrics measured on its new weights and a record of what it came from, never its parent's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from vae.byo.importer import import_onnx
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.data.datasets import load_dataset
from vae.errors import CheckpointError
from vae.evaluate import EvalConfig, evaluate

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "checkpoints" / "digits"  # the shipped one: its meta.json holds metrics and a history
QUICK = EvalConfig(iwae_k=20, iwae_images=100)
COMPARED = ("neg_elbo", "recon", "kl", "iwae_nll", "recon_mse", "knn_acc", "active_units")


def fine_tuned(steps: int = 4):
    """The shipped digits checkpoint after ``steps`` Adam steps (lr 1e-2) on 64 training images each."""
    ck = load_checkpoint(DIGITS, trainable=True)
    images = load_dataset("digits", "train").images
    torch.manual_seed(0)
    opt = torch.optim.Adam(ck.model.parameters(), lr=1e-2)
    ck.model.train()
    for x in images[: 64 * steps].split(64):
        loss = ck.model.loss(x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ck


@pytest.mark.parametrize("half", [False, True], ids=["float32", "float16"])
def test_a_fine_tuned_model_is_saved_with_fresh_metrics_and_its_own_record(half, tmp_path):
    parent = fine_tuned()
    parent_meta = json.loads((DIGITS / "meta.json").read_text())
    new = parent.save(tmp_path / "digits-tuned", note="4 steps on my digits", eval_config=QUICK, half=half)
    assert parent.model.training, "the parent's model is left in the mode it was in"
    ck = load_checkpoint(tmp_path / "digits-tuned")
    assert new.content_hash == ck.content_hash != parent.content_hash
    fresh = evaluate(ck, QUICK)
    for k in COMPARED:
        assert ck.metrics[k] == pytest.approx(fresh[k], rel=1e-6, abs=1e-9), k
    assert abs(ck.metrics["neg_elbo"] - parent_meta["metrics"]["neg_elbo"]) > 0.05, "the parent's metrics"
    assert list(ck.meta["evaluations"].values()) == [ck.metrics]
    # the parent's training record is not claimed; what it came from is recorded
    assert ck.history == [] and not {"training", "train_config", "epochs_done", "status", "default_map"} & set(ck.meta)
    assert ck.meta["derived"]["from"] == {"name": "digits", "path": str(DIGITS.resolve()),
                                         "content_hash": parent.content_hash, "saved_at": parent_meta["saved_at"]}
    assert ck.meta["derived"]["note"] == "4 steps on my digits"
    for key in ("dataset", "class_names", "image_shape", "train_size", "test_size"):
        assert ck.meta[key] == parent_meta[key], key
    assert ck.summary().endswith(f"test -ELBO {fresh['neg_elbo']:.1f} nats")
    assert not (tmp_path / "digits-tuned" / "projections").exists()


def test_save_without_evaluating_claims_no_metrics(tmp_path, capsys):
    fine_tuned(steps=1).save(tmp_path / "d", evaluate=False)
    ck = load_checkpoint(tmp_path / "d")
    assert "metrics" not in ck.meta and "evaluations" not in ck.meta and ck.meta["derived"]["note"] is None
    assert ck.summary() == "digits · mlp · latent 8 · β = 1"
    from conftest import cli

    out = cli(capsys, "info", tmp_path / "d").stdout
    assert "  derived   from digits (" in out and "metrics" not in out and "trained" not in out


def test_save_refuses_an_existing_folder_and_an_imported_model(tmp_path, their_onnx):
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("a user's file")
    with pytest.raises(CheckpointError, match=rf"^{kept} already exists; save a derived model to a new folder"):
        load_checkpoint(DIGITS).save(kept)
    assert [p.name for p in kept.iterdir()] == ["mine.txt"]
    with pytest.raises(CheckpointError, match=r"^theirs is an imported ONNX model: .* cannot train, so there is no "
                                              r"fine-tuned model to save; fine-tune it in your own code and import"):
        import_onnx(*their_onnx, "fashion-mnist", tmp_path / "theirs", evaluate=False, map_method="none").save(
            tmp_path / "t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "theirs"]


def test_save_checkpoint_still_writes_meta_as_given(tmp_path):
    ck = load_checkpoint(DIGITS)
    shutil.copytree(DIGITS, tmp_path / "copy")
    save_checkpoint(tmp_path / "copy", ck.model, ck.meta)
    assert load_checkpoint(tmp_path / "copy").metrics == ck.metrics
