"""Architectures: the registry behind --arch, and a new architecture being one registered class that the
model, the checkpoint, the CLI parser, the Train page's command line and the diagrams all pick up."""

import shlex

import pytest
import torch
from torch import nn

from vae.archs import ARCHITECTURES, Architecture, get_architecture, register_architecture
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.cli import build_parser
from vae.cli.train import resolve_train_args
from vae.config import ModelConfig, TrainConfig
from vae.errors import ConfigError
from vae.model import VAE
from vae.training.jobs import train_command


def test_the_built_in_architectures_and_their_cli_defaults():
    assert list(ARCHITECTURES) == ["mlp", "conv"]
    assert get_architecture("mlp").default_hidden == (512, 256)
    assert get_architecture("conv").default_hidden == (32, 64)
    with pytest.raises(ConfigError, match="arch must be one of mlp, conv, got 'rnn'"):
        get_architecture("rnn")


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("outputs", [1, 2])
def test_decoders_emit_the_likelihoods_outputs_per_pixel(arch, outputs):
    cfg = ModelConfig(arch=arch, image_shape=(3, 8, 12), latent_dim=4, hidden_dims=(8, 16), fc_dim=16)
    a = get_architecture(arch)(cfg)
    assert a.encoder()(torch.zeros(2, 3, 8, 12)).shape == (2, 8)
    assert a.decoder(3 * outputs)(torch.zeros(2, 4)).shape == (2, 3 * outputs, 8, 12)
    assert a.encoder_text().endswith("2×4")
    assert a.decoder_text(3 * outputs).endswith(f"→ {3 * outputs * 8 * 12}" if arch == "mlp" else f"→ {3 * outputs}")


def test_conv_checks_its_own_rule():
    with pytest.raises(ConfigError, match="divisible by 4, got 30x30; use fewer hidden_dims or arch='mlp'"):
        ModelConfig(arch="conv", image_shape=(1, 30, 30), hidden_dims=(8, 16)).validate()
    ModelConfig(arch="mlp", image_shape=(1, 30, 30), hidden_dims=(8, 16)).validate()


@pytest.fixture()
def tiny_arch():
    """A new architecture, added the documented way: one class, registered."""

    @register_architecture
    class Linear(Architecture):
        name = "test-linear"
        label = "Linear"
        description = "one linear layer each way"
        default_hidden = (1,)

        def encoder(self):
            c, h, w = self.config.image_shape
            return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 2 * self.config.latent_dim))

        def decoder(self, out_channels):
            _, h, w = self.config.image_shape
            return nn.Sequential(nn.Linear(self.config.latent_dim, out_channels * h * w),
                                 nn.Unflatten(1, (out_channels, h, w)))

    yield Linear
    ARCHITECTURES.pop("test-linear", None)


def test_a_new_architecture_is_one_registered_class(tiny_arch, tmp_path):
    cfg = ModelConfig(arch="test-linear", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(1,),
                      likelihood="logistic")
    model = VAE(cfg)
    x = torch.rand(4, 1, 8, 8)
    model.loss(x).loss.backward()
    save_checkpoint(tmp_path / "ck", model, {"dataset": "digits"})
    ck = load_checkpoint(tmp_path / "ck")
    assert ck.config.arch == "test-linear"
    torch.testing.assert_close(ck.model.generate(torch.ones(3, 2)), model.eval().generate(torch.ones(3, 2)))
    # the CLI offers it, with its default hidden sizes, and the Train page's command says it back
    args = resolve_train_args(build_parser().parse_args(["train", "--arch", "test-linear", "--out", "x"]))
    assert args.arch == "test-linear"
    tc = TrainConfig(dataset="digits", out="x")
    command = train_command(cfg, tc)
    assert "--arch test-linear" in command and "--hidden" not in command
    assert resolve_train_args(build_parser().parse_args(shlex.split(command)[3:])).likelihood == "logistic"
    with pytest.raises(ValueError, match="already registered"):
        register_architecture(type("Other", (Architecture,), {"name": "test-linear"}))
