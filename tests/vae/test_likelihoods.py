"""Likelihoods: each is a normalised distribution whose mean is what decode_mean shows, checked against
references computed another way; a new one is one registered class."""

import math

import pytest
import torch

from vae.config import ModelConfig
from vae.errors import ConfigError
from vae.likelihoods import LIKELIHOODS, DiscretisedLogistic, Likelihood, get_likelihood, register_likelihood
from vae.model import VAE

LEVELS = torch.arange(256, dtype=torch.float64) / 255.0  # the values of an 8-bit pixel, in [0, 1]
# (mean on [-1, 1], log scale): ordinary, at both edges, beyond them, very sharp (a scale far
# below a grey level, where the bin's mass is the density times its width), very flat
CASES = [(0.1, -3.0), (-1.0, -4.0), (1.0, -4.0), (1.7, -2.0), (-2.5, -1.0), (0.3137, -9.0), (0.0, 1.5)]


def _logistic(config=None) -> DiscretisedLogistic:
    return DiscretisedLogistic(config or ModelConfig(likelihood="logistic"))


def _every_level(mu: float, log_s: float) -> torch.Tensor:
    """log p(x) of every 8-bit value x, for one pixel whose decoder outputs are (mu, log_s): (256,)."""
    params = torch.tensor([mu, log_s], dtype=torch.float32).view(1, 2, 1, 1).expand(256, 2, 1, 1)
    return _logistic().log_prob(params, LEVELS.float().view(256, 1, 1, 1))


def _reference_pmf(mu: float, log_s: float) -> torch.Tensor:
    """The same probabilities from the logistic's CDF in float64: bin edges halfway between levels,
    the lowest and highest level taking the tails."""
    s = math.exp(max(log_s, DiscretisedLogistic.MIN_LOG_SCALE))
    x = 2.0 * LEVELS - 1.0
    upper = torch.where(x > 1 - 1e-9, torch.tensor(math.inf, dtype=torch.float64), x + 1 / 255)
    lower = torch.where(x < -1 + 1e-9, torch.tensor(-math.inf, dtype=torch.float64), x - 1 / 255)
    return torch.sigmoid((upper - mu) / s) - torch.sigmoid((lower - mu) / s)


@pytest.mark.parametrize("mu, log_s", CASES)
def test_discretised_logistic_is_a_distribution_over_256_levels(mu, log_s):
    logp = _every_level(mu, log_s).double()
    assert torch.isfinite(logp).all()
    assert torch.logsumexp(logp, 0).exp().item() == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("mu, log_s", CASES)
def test_discretised_logistic_matches_the_cdf_reference(mu, log_s):
    ref = _reference_pmf(mu, log_s)
    p = _every_level(mu, log_s).double().exp()
    assert torch.allclose(p, ref, atol=2e-4), (p - ref).abs().max().item()
    big = ref > 1e-3  # where there is mass, the log-probabilities agree too
    assert torch.allclose(p[big].log(), ref[big].log(), atol=0.05)


@pytest.mark.parametrize("mu, log_s", CASES)
def test_discretised_logistic_mean_is_the_distributions_mean(mu, log_s):
    exact = float((_reference_pmf(mu, log_s) * LEVELS).sum())
    params = torch.tensor([mu, log_s], dtype=torch.float32).view(1, 2, 1, 1)
    mean = _logistic().mean(params).item()
    assert 0.0 <= mean <= 1.0
    assert mean == pytest.approx(exact, abs=0.5 / 255 + 1e-5)  # within half a grey level


def test_discretised_logistic_sums_over_pixels_and_splits_channels_in_order():
    lik = _logistic(ModelConfig(likelihood="logistic", image_shape=(3, 4, 4), arch="mlp"))
    gen = torch.Generator().manual_seed(0)
    params = torch.randn(2, 6, 4, 4, generator=gen)  # (B, 2C, H, W): 3 means, then 3 log scales
    x = torch.randint(0, 256, (2, 3, 4, 4), generator=gen).float() / 255
    per_image = lik.log_prob(params, x)
    assert per_image.shape == (2,)
    one_by_one = sum(lik.log_prob(params[:, [c, 3 + c], i : i + 1, j : j + 1], x[:, c : c + 1, i : i + 1, j : j + 1])
                     for c in range(3) for i in range(4) for j in range(4))
    assert torch.allclose(per_image, one_by_one, atol=1e-3)
    assert lik.mean(params).shape == (2, 3, 4, 4)


def test_bernoulli_and_gaussian_are_unchanged_references():
    x = torch.rand(3, 1, 4, 4)
    logits = torch.randn(3, 1, 4, 4)
    bern = get_likelihood("bernoulli")(ModelConfig())
    assert torch.allclose(bern.log_prob(logits, x),
                          (x * torch.nn.functional.logsigmoid(logits)
                           + (1 - x) * torch.nn.functional.logsigmoid(-logits)).flatten(1).sum(1), atol=1e-4)
    gauss = get_likelihood("gaussian")(ModelConfig(likelihood="gaussian", variance="fixed", sigma=0.3))
    ref = torch.distributions.Normal(torch.sigmoid(logits), 0.3).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(gauss.log_prob(logits, x), ref, atol=1e-4)


def test_a_model_with_the_logistic_likelihood_trains_and_decodes_images():
    torch.manual_seed(0)
    model = VAE(ModelConfig(arch="conv", image_shape=(3, 8, 8), latent_dim=3, hidden_dims=(8, 16), fc_dim=16,
                            likelihood="logistic"))
    x = (torch.randint(0, 256, (16, 3, 1, 1)).float() / 255).expand(16, 3, 8, 8)  # one colour an image
    assert model.decode(torch.zeros(2, 3)).shape == (2, 6, 8, 8)  # mean and log scale per channel
    imgs = model.decode_mean(torch.zeros(2, 3))
    assert imgs.shape == (2, 3, 8, 8) and 0 <= imgs.min() and imgs.max() <= 1
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model.loss(x).loss.item()
    for _ in range(20):
        opt.zero_grad()
        loss = model.loss(x).loss
        loss.backward()
        opt.step()
    uniform = 3 * 8 * 8 * math.log(256)  # nats of an image under a model that knows nothing
    assert first > uniform and loss.item() < 0.95 * first, (first, loss.item(), uniform)


def test_unknown_likelihood_lists_the_known_ones():
    with pytest.raises(ConfigError, match="likelihood must be one of bernoulli, gaussian, logistic, got 'poisson'"):
        ModelConfig(likelihood="poisson").validate()


def test_a_new_likelihood_is_one_registered_class():
    @register_likelihood
    class Laplace(Likelihood):
        name = "test-laplace"
        outputs_per_pixel = 1

        def log_prob(self, params, x):
            return torch.distributions.Laplace(torch.sigmoid(params), 0.1).log_prob(x).flatten(1).sum(1)

        def mean(self, params):
            return torch.sigmoid(params)

    try:
        model = VAE(ModelConfig(arch="mlp", image_shape=(1, 4, 4), latent_dim=2, hidden_dims=(8,),
                                likelihood="test-laplace"))
        out = model.loss(torch.rand(5, 1, 4, 4))
        assert torch.isfinite(out.loss) and model.decode_mean(torch.zeros(1, 2)).shape == (1, 1, 4, 4)
        with pytest.raises(ValueError, match="already registered"):
            register_likelihood(type("Other", (Likelihood,), {"name": "test-laplace"}))
    finally:
        LIKELIHOODS.pop("test-laplace", None)
