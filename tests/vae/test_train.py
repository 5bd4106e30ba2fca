"""Training: loss goes down, runs are reproducible, resume is exact, NaN stops cleanly."""

import json

import pytest
import torch

from vae.checkpoint import load_checkpoint
from vae.config import ModelConfig, TrainConfig
from vae.training.trainer import NonFiniteLossError, Trainer

MC = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden_dims=(32,))


def _tc(out, **kw):
    base = dict(dataset="digits", out=str(out), epochs=3, batch_size=64, lr=3e-3, seed=1)
    base.update(kw)
    return TrainConfig(**base)


def test_training_lowers_test_loss_and_records_history(digits_checkpoint):
    ck = load_checkpoint(digits_checkpoint)
    h = ck.history
    assert [r["epoch"] for r in h] == [1, 2, 3, 4]
    assert h[-1]["test_neg_elbo"] < h[0]["test_neg_elbo"] - 1.0
    for key in ("train_loss", "train_recon", "train_kl", "test_recon", "test_kl", "seconds"):
        assert key in h[-1]
    assert ck.meta["status"] == "complete" and ck.meta["class_names"][3] == "3"
    assert ck.meta["image_shape"] == [1, 8, 8]


def test_callbacks_are_called(tmp_path, digits_data):
    events = []
    t = Trainer(MC, _tc(tmp_path / "cb", epochs=2), *digits_data)
    for ev in ("on_start", "on_batch_end", "on_epoch_end", "on_end"):
        t.add_callback(ev, lambda tr, info, ev=ev: events.append(ev))
    t.run()
    assert events[0] == "on_start" and events[-1] == "on_end"
    assert events.count("on_epoch_end") == 2 and events.count("on_batch_end") == 2 * 23
    with pytest.raises(ValueError, match="unknown event"):
        t.add_callback("on_step", lambda *a: None)


def test_seeded_runs_are_reproducible(tmp_path, digits_data):
    a = Trainer(MC, _tc(tmp_path / "a"), *digits_data).run()
    b = Trainer(MC, _tc(tmp_path / "b"), *digits_data).run()
    wa, wb = load_checkpoint(a.path).model.state_dict(), load_checkpoint(b.path).model.state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_continues_to_the_same_result(tmp_path, digits_data):
    full = Trainer(MC, _tc(tmp_path / "full", epochs=4), *digits_data).run()
    part = Trainer(MC, _tc(tmp_path / "part", epochs=4), *digits_data)
    part.add_callback("on_epoch_end", lambda t, info: t.request_stop() if info["epoch"] == 2 else None)
    res = part.run()
    assert res.status == "stopped" and len(res.history) == 2
    resumed = Trainer(MC, _tc(tmp_path / "part", epochs=4, resume=True), *digits_data).run()
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]
    wf = load_checkpoint(full.path).model.state_dict()
    wr = load_checkpoint(resumed.path).model.state_dict()
    for k in wf:
        assert torch.allclose(wf[k], wr[k], atol=1e-5), k


def test_resume_with_other_config_is_refused(tmp_path, digits_data):
    Trainer(MC, _tc(tmp_path / "r", epochs=1), *digits_data).run()
    other = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=4, hidden_dims=(32,))
    with pytest.raises(ValueError, match="different model config .*latent_dim: 3 vs 4"):
        Trainer(other, _tc(tmp_path / "r", epochs=2, resume=True), *digits_data).run()


def test_stop_mid_epoch_keeps_last_finished_epoch(tmp_path, digits_data):
    t = Trainer(MC, _tc(tmp_path / "s", epochs=3), *digits_data)
    t.add_callback("on_batch_end", lambda tr, info: tr.request_stop()
                   if info["epoch"] == 1 and info["step"] == 5 else None)
    res = t.run()
    assert res.status == "stopped" and len(res.history) == 1
    meta = json.loads((tmp_path / "s" / "meta.json").read_text())
    assert meta["status"] == "stopped" and meta["epochs_done"] == 1


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, digits_data):
    t = Trainer(MC, _tc(tmp_path / "n", epochs=3), *digits_data)

    def poison(tr, info):  # corrupt the weights mid-way through the second epoch
        if info["epoch"] == 1 and info["step"] == 3:
            with torch.no_grad():
                for p in tr.model.parameters():
                    p.fill_(float("nan"))

    t.add_callback("on_batch_end", poison)
    with pytest.raises(NonFiniteLossError, match="epoch 2, step 5.*last good checkpoint \\(epoch 1\\)"):
        t.run()
    ck = load_checkpoint(tmp_path / "n")
    assert len(ck.history) == 1
    assert all(torch.isfinite(v).all() for v in ck.model.state_dict().values())


def test_shape_mismatch_is_named(tmp_path, digits_data):
    mc = ModelConfig(arch="mlp", image_shape=(1, 28, 28), latent_dim=2, hidden_dims=(8,))
    with pytest.raises(ValueError, match="expects images of shape \\(1, 28, 28\\) but digits has \\(1, 8, 8\\)"):
        Trainer(mc, _tc(tmp_path / "m"), *digits_data).run()
