"""vae.lessons.step: one training step taken apart, held against torch.autograd and Adam's formula."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from vae.config import ModelConfig
from vae.lessons.step import PACKAGE_ROOT, STAGES, source_of, trace_training_step
from vae.model import VAE

ROOT = Path(__file__).resolve().parents[2]


def small_conv() -> VAE:
    torch.manual_seed(0)
    return VAE(ModelConfig(arch="conv", image_shape=(1, 28, 28), latent_dim=4, hidden_dims=(8, 16), fc_dim=32))


def reference_gradients(model: VAE, x: torch.Tensor, eps: torch.Tensor, beta: float) -> dict[str, torch.Tensor]:
    """The loss written out independently with torch.distributions, differentiated by torch.autograd."""
    m = copy.deepcopy(model).float()
    params = dict(m.named_parameters())
    for p in params.values():
        p.requires_grad_(True)
    mu, logvar = m.encoder(x).chunk(2, dim=1)
    std = torch.exp(0.5 * logvar.clamp(-30.0, 20.0))
    logits = m.decoder(mu + std * eps)
    recon = -Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1).mean()
    kl = kl_divergence(Normal(mu, std), Normal(torch.zeros_like(mu), torch.ones_like(std))).sum(1).mean()
    grads = torch.autograd.grad(recon + beta * kl, list(params.values()))
    return dict(zip(params, grads, strict=True))


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_gradients_equal_autograd_on_the_same_batch_and_eps(beta):
    model = small_conv()
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    eps = torch.randn(6, 4, generator=torch.Generator().manual_seed(2))
    tr = trace_training_step(model, x, eps, beta=beta, lr=1e-3)
    ref = reference_gradients(model, x, eps, beta)
    assert set(tr.grads) == set(ref)
    for name, g in ref.items():
        assert torch.allclose(tr.grads[name], g, rtol=1e-4, atol=1e-6), (
            f"{name}: max difference {float((tr.grads[name] - g).abs().max()):.3g}")


def test_shipped_checkpoint_gradients_equal_autograd(digits_ck):
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    eps = torch.randn(5, digits_ck.config.latent_dim, generator=torch.Generator().manual_seed(4))
    tr = trace_training_step(digits_ck.model, x, eps, lr=1e-3)
    for name, g in reference_gradients(digits_ck.model, x, eps, digits_ck.config.beta).items():
        assert torch.allclose(tr.grads[name], g, rtol=1e-4, atol=1e-6), name


def test_logit_gradient_and_first_adam_step_follow_their_formulas():
    model = small_conv()
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    eps = torch.randn(4, 4, generator=torch.Generator().manual_seed(6))
    tr = trace_training_step(model, x, eps, lr=1e-3)
    # Bernoulli: d(mean over the batch of BCE-with-logits) / d logits = (sigmoid(logits) - x) / B
    assert torch.allclose(tr.grad_logits, (torch.sigmoid(tr.logits) - x) / len(x), atol=1e-7)
    # z = mu + sigma * eps, so dL/dmu = dL/dz + beta * mu / B (the KL's gradient)
    assert torch.allclose(tr.grad_mu, tr.grad_z + tr.beta * tr.mu / len(x), atol=1e-6)
    # Adam's first step: m_hat = g, v_hat = g^2, so every weight moves by -lr * g / (|g| + 1e-8)
    for name, g in tr.grads.items():
        expected = -tr.lr * g / (g.abs() + 1e-8)
        assert torch.allclose(tr.updates[name], expected, atol=1e-7), name


def test_the_model_itself_is_untouched_and_the_loss_goes_down(digits_ck):
    before = {k: v.clone() for k, v in digits_ck.model.state_dict().items()}
    x = digits_ck_images()[:32]
    eps = torch.randn(32, digits_ck.config.latent_dim, generator=torch.Generator().manual_seed(0))
    tr = trace_training_step(digits_ck.model, x, eps, lr=1e-3, steps=20)
    assert all(torch.equal(before[k], v) for k, v in digits_ck.model.state_dict().items())
    assert len(tr.losses) == 21 and tr.new_loss < tr.losses[0], tr.losses
    assert tr.new_loss == pytest.approx(tr.new_recon + tr.beta * tr.new_kl, rel=1e-5)
    assert tr.loss == pytest.approx(float(tr.recon.mean() + tr.beta * tr.kl.mean()), rel=1e-5)


def test_bad_eps_or_steps_are_refused(digits_ck):
    x = digits_ck_images()[:4]
    with pytest.raises(ValueError, match="eps must have shape"):
        trace_training_step(digits_ck.model, x, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="steps must be >= 1"):
        trace_training_step(digits_ck.model, x, torch.zeros(4, digits_ck.config.latent_dim), steps=0)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.key)
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "logistic"])
def test_stage_sources_are_the_lines_on_disk(stage, likelihood):
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(8,), likelihood=likelihood))
    for src in stage.sources(model):
        lines = (PACKAGE_ROOT / src.path).read_text().splitlines()
        assert src.path.startswith("vae/"), src.path
        on_disk = textwrap.dedent("\n".join(lines[src.first - 1 : src.last])).rstrip()
        assert src.text == on_disk, src.where


def test_stages_show_the_calls_that_compute_them():
    from vae.checkpoint import load_checkpoint

    model = load_checkpoint(PACKAGE_ROOT / "checkpoints" / "digits").model  # a Bernoulli model
    text = {s.key: "\n".join(src.text for src in s.sources(model)) for s in STAGES}
    assert "self.encoder(x)" in text["encode"]
    assert "torch.exp(0.5 * logvar) * eps" in text["z"]
    assert "self.decoder(z)" in text["decode"]
    assert "gaussian_kl" in text["loss"] and "binary_cross_entropy_with_logits" in text["loss"]
    assert "loss.backward()" in text["grad"]
    assert "torch.optim.Adam" in text["adam"] and "optimizer.step()" in text["adam"]
    # the trainer's loop calls the same two functions the trace calls
    assert "model.loss(xb" in text["new"] and "optimisation_step(optimizer, loss)" in text["new"]


def test_source_of_a_slice():
    src = source_of(trace_training_step, "work = copy.deepcopy", "work = copy.deepcopy")
    assert src.first == src.last and src.text.startswith("work = copy.deepcopy(model)")


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_ck():
    from vae.checkpoint import load_checkpoint

    return load_checkpoint(ROOT / "checkpoints" / "digits")


def digits_ck_images() -> torch.Tensor:
    from vae.data.datasets import load_dataset

    return load_dataset("digits", "test").images
