"""export_vae on models shaped as other code bases shape them (vae/byo/third_party.py): each graph computes
what the module computes; an output it cannot read is refused in one sentence naming it and the fix;
it says each stage as it goes; meta.json says where the model came from. And pythae's models, brought
in both ways (tests/conftest.py pythae_root), compute what pythae computes."""

from __future__ import annotations

import dataclasses
import re
from collections import namedtuple

import onnxruntime as ort
import pytest
import torch
from conftest import PYTHAE_CONV_SOURCE, cli
from pythae.models.base.base_utils import ModelOutput
from torch import nn
from torch.distributions import Independent, Normal

from vae.byo.graphs import read_graph
from vae.byo.importer import export_graphs, export_vae
from vae.checkpoint import load_checkpoint
from vae.data.datasets import load_dataset
from vae.errors import CheckpointError

LATENT = 4


@dataclasses.dataclass
class KerasStyle:
    z_mean: torch.Tensor
    z_log_var: torch.Tensor


@dataclasses.dataclass
class Recon:
    recon: torch.Tensor
    z: torch.Tensor


MeanLogVar = namedtuple("MeanLogVar", "mean log_var")

#: what an encoder returns, made from its (mu, logvar)
ENCODER_OUTPUTS = {
    "pythae ModelOutput": lambda mu, lv: ModelOutput(embedding=mu, log_covariance=lv),
    "dict mu/logvar": lambda mu, lv: {"mu": mu, "logvar": lv},
    "dataclass z_mean/z_log_var": lambda mu, lv: KerasStyle(mu, lv),
    "named tuple mean/log_var": lambda mu, lv: MeanLogVar(mu, lv),
    "dict loc/log_scale": lambda mu, lv: {"loc": mu, "log_scale": 0.5 * lv},
    "Normal": lambda mu, lv: Normal(mu, torch.exp(0.5 * lv)),
    "Independent(Normal)": lambda mu, lv: Independent(Normal(mu, torch.exp(0.5 * lv)), 1),
    "tuple of three": lambda mu, lv: (mu, lv, torch.zeros_like(mu)),
}
#: what a decoder returns, made from its images
DECODER_OUTPUTS = {
    "pythae ModelOutput": lambda y: ModelOutput(reconstruction=y),
    "dict x_hat": lambda y: {"x_hat": y, "z": None},
    "dataclass recon": lambda y: Recon(y, torch.zeros(1)),
    "tuple": lambda y: (y, torch.zeros(1)),
    "tensor": lambda y: y,
}


class Half(nn.Module):
    """An encoder (x -> mu, logvar) or a decoder (z -> images in [0, 1]), its output wrapped by ``wrap``."""

    def __init__(self, part: str, wrap):
        super().__init__()
        self.part, self.wrap = part, wrap
        self.fc = nn.Linear(784, 2 * LATENT) if part == "encoder" else nn.Linear(LATENT, 784)

    def raw(self, t: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.part == "encoder":
            return tuple(self.fc(t.flatten(1)).chunk(2, dim=1))  # (B, 1, 28, 28) -> mu, logvar (B, 4)
        return (torch.sigmoid(self.fc(t)).view(-1, 1, 28, 28),)

    def forward(self, t: torch.Tensor):
        return self.wrap(*self.raw(t))


class WithSubmodules(nn.Module):
    """pythae's shape: ``model.encoder(x)``, ``model.decoder(z)``."""

    def __init__(self, enc_wrap, dec_wrap):
        super().__init__()
        self.encoder, self.decoder = Half("encoder", enc_wrap), Half("decoder", dec_wrap)

    def halves(self) -> tuple[Half, Half]:
        return self.encoder, self.decoder


class WithMethods(nn.Module):
    """pytorch/examples' shape: ``model.encode(x)``, ``model.decode(z)``."""

    def __init__(self, enc_wrap, dec_wrap):
        super().__init__()
        self.enc, self.dec = Half("encoder", enc_wrap), Half("decoder", dec_wrap)

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z)

    def halves(self) -> tuple[Half, Half]:
        return self.enc, self.dec


def _session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _cases() -> list:
    decoders = list(DECODER_OUTPUTS)
    return [pytest.param(enc, decoders[i % len(decoders)], (WithSubmodules, WithMethods)[i % 2],
                         id=f"{enc}, {decoders[i % len(decoders)]}") for i, enc in enumerate(ENCODER_OUTPUTS)]


@pytest.mark.parametrize("enc_out, dec_out, shape", _cases())
def test_export_reads_the_outputs_of_common_code_bases(enc_out, dec_out, shape, tmp_path):
    torch.manual_seed(0)
    model = shape(ENCODER_OUTPUTS[enc_out], DECODER_OUTPUTS[dec_out]).eval()
    enc_path, dec_path = export_graphs(model, tmp_path, (1, 28, 28))
    x, z = torch.rand(5, 1, 28, 28), torch.randn(3, LATENT)
    encoder, decoder = model.halves()
    with torch.no_grad():
        (mu_ref, logvar_ref), (img_ref,) = encoder.raw(x), decoder.raw(z)
    mu, logvar = _session(enc_path).run(None, {"x": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(mu), mu_ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.from_numpy(logvar), logvar_ref, atol=1e-5, rtol=1e-4)
    (img,) = _session(dec_path).run(None, {"z": z.numpy()})
    torch.testing.assert_close(torch.from_numpy(img), img_ref, atol=1e-6, rtol=1e-5)


def test_encode_and_decode_functions_given_explicitly(tmp_path):
    torch.manual_seed(0)
    model = nn.ModuleDict({"body": nn.Linear(784, 2 * LATENT), "head": nn.Linear(LATENT, 784)}).train()
    enc_path, dec_path = export_graphs(model, tmp_path, (1, 28, 28),
                                       encode=lambda x: model["body"](x).chunk(2, dim=1),
                                       decode=lambda z: torch.sigmoid(model["head"](z)))
    assert model.training, "the model's own mode is left as it was"
    x, z = torch.rand(4, 784), torch.randn(4, LATENT)
    with torch.no_grad():
        mu_ref, logvar_ref = model["body"](x).chunk(2, dim=1)
        img_ref = torch.sigmoid(model["head"](z))
    enc = _session(enc_path)
    assert enc.get_inputs()[0].shape == ["batch", 784], "a Linear on flattened images: the flat layout"
    mu, logvar = enc.run(None, {"x": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(mu), mu_ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.from_numpy(logvar), logvar_ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.from_numpy(_session(dec_path).run(None, {"z": z.numpy()})[0]), img_ref,
                               atol=1e-6, rtol=1e-5)


class Opaque(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 8)


@pytest.mark.parametrize("make, msg", [
    (lambda: WithSubmodules(lambda mu, lv: {"z": mu, "h": lv}, DECODER_OUTPUTS["tensor"]),
     r"^model\.encoder\(x\) returned a dict with keys \['z', 'h'\], which is not \(mu, logvar\): .*"
     r"embedding/log_covariance, mu/logvar, .*; pass encode=, a function of x returning \(mu, logvar\)"),
    (lambda: WithMethods(lambda mu, lv: torch.cat([mu, lv], 1), DECODER_OUTPUTS["tensor"]),
     r"^model\.encode\(x\) returned one tensor of shape \(2, 8\), which is not \(mu, logvar\).*; pass encode="),
    (lambda: WithSubmodules(ENCODER_OUTPUTS["pythae ModelOutput"], lambda y: ModelOutput(sample=y)),
     r"^model\.decoder\(z\) returned a ModelOutput with keys \['sample'\], which holds no images: .*"
     r"reconstruction, recon, recon_x, x_recon, x_hat; pass decode=, a function of z"),
    (Opaque, r"^Opaque has no encode\(x\) method and no encoder submodule; pass encode="),
])
def test_an_output_it_cannot_read_is_refused_in_one_sentence(make, msg, tmp_path):
    out = tmp_path / "checkpoints" / "x"
    with pytest.raises(CheckpointError, match=msg) as e:
        export_vae(make(), out, "fashion-mnist", progress=False)
    assert "\n" not in str(e.value)
    assert not out.exists() and not out.parent.exists(), "nothing written"


# -- what export_vae says, and records --------------------------------------------------------------
def test_export_vae_says_each_stage_and_records_where_the_model_came_from(their_vae, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "theirs"
    ck = export_vae(their_vae, out, "fashion-mnist", evaluate=False, map_method="none")
    err = capsys.readouterr().err.splitlines()
    assert err[:5] == ["exporting byo_model.TheirVAE to ONNX",
                       "reading model.encode(x): a list: its first two items as mu and logvar; "
                       "model.decode(z): a tensor",
                       "checking the graphs", "round trip on 256 test images", f"writing {out}"], err
    assert len(err) == 6 and re.fullmatch(r"done in [\d.]+ s: export [\d.]+ s, checks [\d.]+ s, round trip [\d.]+ s, "
                                          r"writing [\d.]+ s", err[5]), err
    imp = ck.meta["imported"]
    assert imp["exported"]["class"] == "byo_model.TheirVAE" and imp["exported"]["by"] == "vae.byo.export_vae"
    assert imp["source"] == "exported from byo_model.TheirVAE"
    assert "encoder" not in imp and "vae-export-" not in (out / "meta.json").read_text(), \
        "no path of the temporary folder the graphs were exported into"
    assert imp["weights"] == {"encoder": read_graph(out / "encoder.onnx").n_weights,
                              "decoder": read_graph(out / "decoder.onnx").n_weights}

    export_vae(their_vae, tmp_path / "quiet", "fashion-mnist", evaluate=False, map_method="none", progress=False,
               source="pytorch/examples, 4 epochs")
    assert capsys.readouterr().err == ""
    assert load_checkpoint(tmp_path / "quiet").meta["imported"]["source"] == "pytorch/examples, 4 epochs"
    seen: list[str] = []
    export_vae(their_vae, tmp_path / "told", "fashion-mnist", evaluate=False, map_method="none", progress=seen.append)
    assert seen[:3] == err[:3] and seen[-1].startswith("done in ") and capsys.readouterr().err == ""
    with pytest.raises(CheckpointError, match=r"^progress must be True, False or a function of one message, got 3"):
        export_vae(their_vae, tmp_path / "x", "fashion-mnist", progress=3)


# -- pythae, both ways ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name, kind", [("pythae-beta", "beta"), ("pythae-conv", "conv")])
def test_pythae_models_compute_what_pythae_computes(name, kind, pythae_root, pythae_vaes):
    x = load_dataset("fashion-mnist", "test").images[-64:]
    model = pythae_vaes[kind]
    with torch.no_grad():
        out = model.encoder(x)
        ref = model.decoder(out["embedding"])["reconstruction"]
    ck = load_checkpoint(pythae_root / name)
    mu, logvar = ck.model.encode(x)
    torch.testing.assert_close(mu, out["embedding"], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logvar, out["log_covariance"], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ck.model.reconstruct(x), ref, atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_pythae_provenance_and_info(pythae_root, capsys):
    beta = load_checkpoint(pythae_root / "pythae-beta").meta["imported"]
    assert beta["exported"]["class"] == "pythae.models.beta_vae.beta_vae_model.BetaVAE"
    assert beta["exported"]["encoder"] == "model.encoder(x): ModelOutput 'embedding' as mu, 'log_covariance' as logvar"
    assert beta["exported"]["decoder"] == "model.decoder(z): ModelOutput 'reconstruction'"
    conv = pythae_root / "pythae-conv"
    proc = cli(capsys, "info", conv)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    enc, dec = read_graph(conv / "encoder.onnx").n_weights, read_graph(conv / "decoder.onnx").n_weights
    assert "  model     imported ONNX: images (B, 1, 28, 28) in [0, 1] -> latent 8 -> images (B, 1, 28, 28) in [0, 1], " \
           "bernoulli likelihood" in lines, lines
    assert f"  graphs    encoder.onnx {enc:,} weights, decoder.onnx {dec:,} weights ({enc + dec:,} in all)" in lines
    assert f"  source    {PYTHAE_CONV_SOURCE}" in lines
    assert "hidden" not in proc.stdout and "?" not in proc.stdout
