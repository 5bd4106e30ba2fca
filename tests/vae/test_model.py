"""The model: shapes, finite losses, the KL against torch.distributions, one step learns."""

import itertools

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vae.config import ModelConfig
from vae.evaluate import iwae_bound
from vae.model import VAE, gaussian_kl

SHAPES = [(1, 28, 28), (3, 32, 32), (1, 32, 32), (3, 28, 28)]
LIKELIHOODS = [("bernoulli", "learned"), ("gaussian", "learned"), ("gaussian", "fixed")]


@pytest.mark.parametrize(
    "arch, shape, lik", list(itertools.product(["mlp", "conv"], SHAPES, LIKELIHOODS))
)
def test_shapes_and_finite_loss(arch, shape, lik):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, image_shape=shape, latent_dim=5, hidden_dims=(16, 32) if arch == "conv" else (64,),
                      fc_dim=32, likelihood=lik[0], variance=lik[1])
    model = VAE(cfg)
    x = torch.rand(3, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 5)
    z = model.reparameterize(mu, logvar)
    assert z.shape == (3, 5)
    logits = model.decode(z)
    assert logits.shape == (3, *shape)
    img = model.decode_mean(z)
    assert img.min() >= 0 and img.max() <= 1
    out = model.loss(x)
    assert torch.isfinite(out.loss) and torch.isfinite(out.recon) and torch.isfinite(out.kl)
    assert out.kl_per_dim.shape == (5,)
    assert torch.allclose(out.kl_per_dim.sum(), out.kl)
    assert torch.allclose(out.neg_elbo, out.recon + out.kl)


def test_kl_matches_torch_distributions():
    torch.manual_seed(1)
    mu, logvar = torch.randn(50, 7) * 2, torch.randn(50, 7)
    ours = gaussian_kl(mu, logvar)
    ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))
    assert torch.allclose(ours, ref, atol=1e-5)


def test_bernoulli_log_likelihood_matches_torch_distributions():
    torch.manual_seed(2)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(8,)))
    logits, x = torch.randn(4, 1, 8, 8), torch.randint(0, 2, (4, 1, 8, 8)).float()
    ref = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(model.log_likelihood(logits, x), ref, atol=1e-4)


def test_gaussian_log_likelihood_matches_torch_distributions():
    torch.manual_seed(3)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(8,),
                            likelihood="gaussian", variance="fixed", sigma=0.2))
    logits, x = torch.randn(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    ref = Normal(torch.sigmoid(logits), 0.2).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(model.log_likelihood(logits, x), ref, atol=1e-3)


def test_beta_weights_only_the_kl():
    torch.manual_seed(4)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,)))
    x = torch.rand(8, 1, 8, 8)
    torch.manual_seed(5)
    a = model.loss(x, beta=1.0)
    torch.manual_seed(5)
    b = model.loss(x, beta=4.0)
    assert torch.allclose(b.loss - a.loss, 3.0 * a.kl, atol=1e-4)


def test_one_training_step_changes_every_weight():
    torch.manual_seed(6)
    model = VAE(ModelConfig(arch="conv", image_shape=(1, 28, 28), latent_dim=4, hidden_dims=(8, 16), fc_dim=32))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model.loss(torch.rand(16, 1, 28, 28)).loss
    loss.backward()
    opt.step()
    for k, v in model.state_dict().items():
        assert not torch.equal(before[k], v), f"{k} did not change"


def test_reparameterize_uses_given_noise():
    mu, logvar = torch.tensor([[1.0, -1.0]]), torch.log(torch.tensor([[4.0, 0.25]]))
    z = VAE.reparameterize(mu, logvar, torch.tensor([[1.0, 2.0]]))
    assert torch.allclose(z, torch.tensor([[3.0, 0.0]]))


def test_embed_is_deterministic_posterior_mean():
    torch.manual_seed(7)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,))).eval()
    x = torch.rand(10, 1, 8, 8)
    a, _ = model.embed(x, batch_size=3)
    b, _ = model.embed(x, batch_size=7)
    mu, _ = model.encode(x)
    assert torch.allclose(a, b) and torch.allclose(a, mu.detach(), atol=1e-6)


def test_iwae_bound_is_tighter_than_elbo():
    torch.manual_seed(8)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,))).eval()
    x = torch.rand(20, 1, 8, 8)
    elbo = -model.per_image_terms(x, seed=0)["recon"] - model.per_image_terms(x, seed=0)["kl"]
    k1 = iwae_bound(model, x, k=1, seed=0, max_batch=7)
    k200 = iwae_bound(model, x, k=200, seed=0, max_batch=333)
    # k = 1 is an unbiased estimate of the ELBO; k = 200 is a tighter (higher) bound on log p(x)
    assert abs(k1.mean() - elbo.mean()) < 0.05 * abs(elbo.mean())
    assert k200.mean() > elbo.mean()


def _tiny() -> VAE:
    torch.manual_seed(3)
    return VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,))).eval()


def test_an_images_elbo_is_the_same_alone_or_anywhere_in_a_batch():
    """The −ELBO of an image does not depend on which images share its batch, or where it stands in it."""
    model, x = _tiny(), torch.rand(12, 1, 8, 8)
    for samples in (1, 4):
        batch = model.per_image_terms(x, batch_size=5 * samples, samples=samples)
        flipped = model.per_image_terms(x.flip(0), batch_size=3 * samples, samples=samples)
        for i in (0, 7, 11):
            alone = model.per_image_terms(x[i : i + 1], samples=samples)
            for key in ("recon", "kl"):
                assert torch.allclose(alone[key][0], batch[key][i], atol=1e-4), (samples, i, key)
                assert torch.allclose(flipped[key][11 - i], batch[key][i], atol=1e-4), (samples, i, key)
    other = model.per_image_terms(x, seed=1, samples=4)["recon"]
    assert not torch.allclose(other, batch["recon"]), "the seed does not change the noise"


def test_the_reconstruction_term_is_the_mean_over_samples_with_its_standard_error():
    """recon and recon_se against torch.distributions: −log Bernoulli(logits = decode(μ + σ ε_k)).log_prob(x),
    with each image's ε_k from image_noise, averaged over k, and their spread / √k."""
    from torch.distributions import Bernoulli

    from vae.model import image_noise

    model, x, k = _tiny(), torch.rand(5, 1, 8, 8), 6
    t = model.per_image_terms(x, samples=k)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        eps = image_noise(x, k, 3)  # (5, k, 3)
        for i in range(len(x)):
            z = mu[i] + torch.exp(0.5 * logvar[i]) * eps[i]  # (k, 3)
            nll = -Bernoulli(logits=model.decode(z), validate_args=False).log_prob(x[i].expand(k, -1, -1, -1)).flatten(1).sum(1)
            assert abs(float(t["recon"][i]) - float(nll.mean())) < 1e-3
            assert abs(float(t["recon_se"][i]) - float(nll.std() / k**0.5)) < 1e-3
    assert torch.isnan(model.per_image_terms(x)["recon_se"]).all()  # one sample: no spread to measure
    assert image_noise(x[:1], k, 3).equal(image_noise(x, k, 3)[:1])  # fixed per image
    assert not image_noise(x[:1], k, 3).equal(image_noise(x[1:2], k, 3))
