"""Checkpoints: save -> load is exact, and every broken folder gets one clear error."""

import json
import shutil

import pytest
import torch

from vae.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from vae.config import ModelConfig
from vae.errors import CheckpointError
from vae.folders import content_hash, update_meta
from vae.model import VAE


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    model = VAE(ModelConfig(arch="conv", image_shape=(1, 28, 28), latent_dim=3, hidden_dims=(4, 8), fc_dim=16))
    path = save_checkpoint(tmp_path / "ck", model, {"dataset": "fashion-mnist", "class_names": ["a"]})
    return model, path


def test_save_load_identical_weights_and_outputs(saved):
    model, path = saved
    ck = load_checkpoint(path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, ck.model.state_dict()[k])
    x = torch.rand(5, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.encode(x)[0], ck.model.encode(x)[0])
        assert torch.equal(model.decode_mean(torch.ones(2, 3)), ck.model.decode_mean(torch.ones(2, 3)))
    assert not ck.model.training
    assert ck.config == model.config and ck.meta["dataset"] == "fashion-mnist"
    assert len(ck.content_hash) == 16 and ck.content_hash == content_hash(path)


def test_half_weights_are_close(tmp_path, saved):
    model, _ = saved
    p = save_checkpoint(tmp_path / "half", model, {}, half=True)
    ck = load_checkpoint(p)
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model.eval().decode_mean(model.encode(x)[0]),
                              ck.model.decode_mean(ck.model.encode(x)[0]), atol=2e-2)
    assert (p / "model.safetensors").stat().st_size < 0.6 * (saved[1] / "model.safetensors").stat().st_size


def test_save_is_atomic_and_replaces(saved):
    model, path = saved
    save_checkpoint(path, model, {"dataset": "x", "round": 2})
    assert json.loads((path / "meta.json").read_text())["round"] == 2
    leftovers = [p.name for p in path.parent.iterdir() if p.name != path.name]
    assert leftovers == []


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing")


def test_missing_config(saved):
    _, path = saved
    (path / "config.json").unlink()
    with pytest.raises(CheckpointError, match="has no config.json"):
        load_checkpoint(path)


def test_missing_weights(saved):
    _, path = saved
    (path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="has no model.safetensors"):
        load_checkpoint(path)


def test_truncated_weights(saved):
    _, path = saved
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupted or truncated"):
        load_checkpoint(path)


def test_garbage_config(saved):
    _, path = saved
    (path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path)


def test_unknown_architecture(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    cfg["arch"] = "transformer"
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="arch must be one of mlp, conv, got 'transformer'"):
        load_checkpoint(path)


def test_weights_not_matching_config(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    cfg["latent_dim"] = 5
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not match .*config.json.*shape"):
        load_checkpoint(path)


def test_pickle_in_folder_is_refused_and_never_opened(saved, monkeypatch):
    import pickle

    _, path = saved

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle was executed')",))

    (path / "model.pt").write_bytes(pickle.dumps(Boom()))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load called"))
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load called"))
    with pytest.raises(CheckpointError, match="model.pt: pickle-style files can run code"):
        load_checkpoint(path)


def test_nan_weights_refused(tmp_path):
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(4,)))
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    p = save_checkpoint(tmp_path / "nan", model, {})
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_checkpoint(p)


def test_list_checkpoints_marks_broken_ones(tmp_path, saved):
    model, path = saved
    root = path.parent
    shutil.copytree(path, root / "broken")
    (root / "broken" / "model.safetensors").write_bytes(b"xx")
    (root / "empty").mkdir()
    entries = {e.name: e for e in list_checkpoints(root)}
    assert entries["ck"].error is None and "latent 3" in entries["ck"].summary
    assert "corrupted" in entries["broken"].error
    assert "no config.json" in entries["empty"].error


def test_update_meta_merges(saved):
    _, path = saved
    update_meta(path, metrics={"neg_elbo": 1.0})
    meta = load_checkpoint(path).meta
    assert meta["metrics"] == {"neg_elbo": 1.0} and meta["dataset"] == "fashion-mnist"


def test_readonly_folder_gives_clear_error(tmp_path, saved):
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    model, _ = saved
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(CheckpointError, match="cannot write a checkpoint"):
            save_checkpoint(ro / "x", model, {})
    finally:
        ro.chmod(0o700)


# -- fine-tuning and latent optimisation ---------------------------------------------------------
def test_loaded_models_are_frozen_unless_trainable(saved):
    _, path = saved
    assert not any(p.requires_grad for p in load_checkpoint(path).model.parameters())
    ck = load_checkpoint(path, trainable=True)
    assert not ck.model.training  # still handed back in eval mode
    ck.model.train()
    ck.model.loss(torch.rand(4, 1, 28, 28)).loss.backward()
    grads = [p.grad for p in ck.model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_helper_outputs_can_go_on_into_autograd(saved):
    """embed/generate run without gradients, but their results are ordinary tensors: a latent code
    can be optimised to match an image (with the frozen model of a plain load)."""
    _, path = saved
    model = load_checkpoint(path).model
    target = torch.rand(1, 1, 28, 28)
    mu, _ = model.embed(target)
    assert not mu.requires_grad and not mu.is_inference()
    z = mu.clone().requires_grad_()
    opt = torch.optim.Adam([z], lr=0.1)
    first = None
    for _ in range(20):
        opt.zero_grad()
        loss = -model.log_likelihood(model.decode(z), target).sum()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert z.grad is not None and loss.item() < first
    images = model.generate(z.detach())
    assert not images.is_inference() and images.shape == (1, 1, 28, 28)
    (images * torch.ones_like(images, requires_grad=True)).sum().backward()  # usable in a graph


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_a_gpu_asked_for_on_a_cpu_machine_is_one_line(saved, device):
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(saved[1], device=device)
    msg = str(e.value)
    assert msg == (f"device '{device}' was asked for but this machine has no usable CUDA GPU; "
                   "load the checkpoint with device='cpu'")


@pytest.mark.parametrize("device, message", [("tpu", "is not a device name torch knows"),
                                             ("meta", "is not supported; use 'cpu', 'cuda' or 'mps'")])
def test_unknown_devices_are_refused_by_name(saved, device, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved[1], device=device)


def test_gaussian_checkpoints_saved_before_the_likelihood_classes_still_load(tmp_path):
    """Their shared sigma was stored as `log_sigma`; it is `likelihood.log_sigma` now."""
    from safetensors.torch import load_file, save_file

    torch.manual_seed(1)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(8,),
                            likelihood="gaussian", sigma=0.2))
    with torch.no_grad():
        model.likelihood.log_sigma.fill_(-1.234)
    path = save_checkpoint(tmp_path / "old", model, {})
    state = load_file(str(path / "model.safetensors"))
    state["log_sigma"] = state.pop("likelihood.log_sigma")
    save_file(state, str(path / "model.safetensors"))
    ck = load_checkpoint(path)
    assert ck.model.likelihood.log_sigma.item() == pytest.approx(-1.234)
    x = torch.rand(3, 1, 8, 8)
    z = torch.zeros(3, 2)
    torch.testing.assert_close(ck.model.log_likelihood(ck.model.decode(z), x),
                               model.eval().log_likelihood(model.decode(z), x))
