"""Bring your own VAE: a model that is not ours (tests/byo_model.py), exported to ONNX, imported, and
held against the PyTorch module it came from; every CLI command on it; what import infers and refuses."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import onnxruntime as ort
import pytest
import torch
from byo_model import LATENT, train_their_vae
from conftest import cli, write_fashion_mnist
from PIL import Image

from vae.byo.graphs import read_graph
from vae.byo.importer import export_vae, import_onnx
from vae.checkpoint import list_checkpoints, load_checkpoint
from vae.cli import main
from vae.data.datasets import load_dataset
from vae.errors import CheckpointError
from vae.evaluate import format_report


@pytest.fixture(scope="module")
def images():
    return load_dataset("fashion-mnist", "test").images[:64]


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own one-line errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


# -- the imported model is their model -----------------------------------------------------------------
def test_import_infers_the_layout_the_latent_size_and_the_range(imported_root):
    ck = load_checkpoint(imported_root / "theirs")
    c = ck.config
    assert ck.imported and c.latent_dim == LATENT and c.image_shape == (1, 28, 28)
    assert (c.encoder_input, c.decoder_output) == ("flat", "flat")
    assert (c.input_range, c.output_range, c.decoder_outputs, c.likelihood) == ((0, 1), (0, 1), "probabilities",
                                                                                 "bernoulli")
    assert sorted(p.name for p in ck.path.iterdir()) == ["config.json", "decoder.onnx", "encoder.onnx", "meta.json",
                                                         "projections"]
    assert json.loads((ck.path / "config.json").read_text())["kind"] == "onnx-vae"
    assert ck.meta["dataset"] == "fashion-mnist" and ck.class_names[0] == "T-shirt/top"
    trip = ck.meta["imported"]["round_trip"]
    assert trip["recon_mse"] < trip["mean_image_mse"], trip
    assert ck.meta["default_map"] == "pca" and ck.summary().startswith("fashion-mnist · imported ONNX · latent 20")


def test_the_imported_model_computes_what_the_pytorch_module_computes(imported_root, their_vae, images):
    model = load_checkpoint(imported_root / "theirs").model
    with torch.no_grad():
        mu_ref, logvar_ref = their_vae.encode(images.flatten(1))
        img_ref = their_vae.decode(mu_ref).reshape(images.shape)
    mu, logvar = model.encode(images)
    torch.testing.assert_close(mu, mu_ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logvar, logvar_ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model.reconstruct(images), img_ref, atol=1e-5, rtol=1e-4)
    # the ELBO terms are VAE's own code on their outputs: pytorch/examples' binary cross-entropy
    terms = model.per_image_terms(images[:4])
    ref = torch.nn.functional.binary_cross_entropy(model.decode(mu[:4]).flatten(1), images[:4].flatten(1),
                                                   reduction="none").sum(1)
    assert terms["recon"].shape == (4,) and torch.isfinite(terms["recon"]).all()
    assert terms["mse"].mean() == pytest.approx(float((img_ref[:4] - images[:4]).pow(2).mean()), rel=1e-4)
    assert model.log_likelihood(model.decode(mu[:4]), images[:4]) == pytest.approx(-ref, rel=1e-5)
    assert model.num_parameters() == sum(p.numel() for p in their_vae.parameters())


def test_the_graphs_the_page_runs_follow_our_conventions(imported_root, images):
    model = load_checkpoint(imported_root / "theirs").model
    dec = ort.InferenceSession(model.page_onnx("decoder"), providers=["CPUExecutionProvider"])
    enc = ort.InferenceSession(model.page_onnx("encoder"), providers=["CPUExecutionProvider"])
    z = torch.randn(5, LATENT, generator=torch.Generator().manual_seed(0)) * 2
    img = dec.run(["image"], {"z": z.numpy()})[0]
    assert img.shape == (5, 1, 28, 28)
    np.testing.assert_allclose(img, model.generate(z).numpy(), atol=1e-6)
    mu = enc.run(["mu"], {"x": images[:5].numpy()})[0]
    np.testing.assert_allclose(mu, model.embed(images[:5])[0].numpy(), atol=1e-6)


@pytest.mark.parametrize("last, as_list", [("sigmoid", False), ("tanh", True)])
def test_export_vae_handles_tuples_lists_sigmoid_and_tanh(tmp_path, last, as_list):
    data = load_dataset("fashion-mnist", "test").images[:3000]
    module = train_their_vae(data, epochs=2, last=last, as_list=as_list)
    ck = export_vae(module, tmp_path / last, "fashion-mnist", evaluate=False, map_method="none")
    c = ck.config
    want = (-1, 1) if last == "tanh" else (0, 1)
    assert (c.input_range, c.output_range, c.encoder_input) == (want, want, "flat")
    x = data[:8]
    with torch.no_grad():
        xin = x.flatten(1) * 2 - 1 if last == "tanh" else x.flatten(1)
        ref = module.decode(module.encode(xin)[0]).reshape(x.shape)
    ref = (ref + 1) / 2 if last == "tanh" else ref
    torch.testing.assert_close(ck.model.reconstruct(x), ref, atol=1e-5, rtol=1e-4)
    page = ort.InferenceSession(ck.model.page_onnx("decoder"), providers=["CPUExecutionProvider"])
    z = torch.randn(4, LATENT)
    np.testing.assert_allclose(page.run(None, {"z": z.numpy()})[0], ck.model.generate(z).numpy(), atol=1e-6)
    if last == "tanh":  # told [0, 1], the outputs of a tanh leave it
        with pytest.raises(CheckpointError, match=r"^the decoder's outputs run from -.* outside the declared range "
                                                  r"\[0, 1\]; pass --logits"):
            export_vae(module, tmp_path / "wrong", "fashion-mnist", input_range=(0, 1), output_range=(0, 1))


def test_logits_and_gaussian_are_declared_not_guessed(tmp_path, their_onnx):
    with pytest.raises(CheckpointError, match=r"^the reconstructions are no closer to their inputs \(MSE 0\.2"):
        import_onnx(*their_onnx, "fashion-mnist", tmp_path / "x", output_range=(-1, 1), evaluate=False,
                    map_method="none")
    assert not (tmp_path / "x").exists()
    ck = import_onnx(*their_onnx, "fashion-mnist", tmp_path / "g", likelihood="gaussian", sigma=0.2,
                     evaluate=False, map_method="none")
    x = load_dataset("fashion-mnist", "test").images[:3]
    mean = ck.model.decode_mean(ck.model.encode(x)[0])
    ref = torch.distributions.Normal(mean, 0.2).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(ck.model.log_likelihood(ck.model.decode(ck.model.encode(x)[0]), x), ref)


def test_no_likelihood_evaluates_what_it_can(tmp_path, their_onnx):
    ck = import_onnx(*their_onnx, "fashion-mnist", tmp_path / "n", likelihood="none", iwae_k=2, iwae_images=5,
                     map_method="none")
    m = ck.metrics
    assert m["neg_elbo"] is None and m["iwae_nll"] is None and m["bits_per_dim"] is None
    assert m["kl"] > 0 and 0 < m["recon_mse"] < 0.1 and m["knn_acc"] > 0.5
    text = format_report(m)
    assert "-ELBO           n/a: the model declares no likelihood p(x|z)" in text and "IWAE" not in text


# -- the command line ------------------------------------------------------------------------------------
def test_every_cli_command_works_on_an_imported_model(imported_root, tmp_path, capsys):
    ck = imported_root / "theirs"
    code, out, err = run(capsys, "info", ck)
    assert code == 0 and "imported ONNX · latent 20" in out, err
    code, out, err = run(capsys, "evaluate", ck, "--json", "--limit", "200", "--iwae-k", "5", "--iwae-images", "10",
                         "--no-save")
    report = json.loads(out)
    assert code == 0 and report["latent_dim"] == LATENT and report["likelihood"] == "bernoulli", err
    assert np.isfinite(report["neg_elbo"]) and report["knn_acc"] > 0.3  # chance: 0.1
    assert run(capsys, "sample", ck, "--n", "4", "--scale", "1", "--out", tmp_path / "s.png")[0] == 0
    assert Image.open(tmp_path / "s.png").size == (2 * 28 + 3, 2 * 28 + 3)
    assert run(capsys, "reconstruct", ck, "--n", "3", "--scale", "1", "--out", tmp_path / "r.png")[0] == 0
    assert Image.open(tmp_path / "r.png").size == (3 * 28 + 4, 2 * 28 + 3)
    assert run(capsys, "export", ck, "--limit", "10", "--out", tmp_path / "csv")[0] == 0
    assert (tmp_path / "csv" / "latents.csv").read_text().splitlines()[0].startswith("index,label,class,z0,z1")
    assert run(capsys, "export", ck, "--format", "onnx", "--out", tmp_path / "onnx")[0] == 0
    sess = ort.InferenceSession(str(tmp_path / "onnx" / "decoder.onnx"), providers=["CPUExecutionProvider"])
    assert sess.run(None, {"z": np.zeros((2, LATENT), np.float32)})[0].shape == (2, 1, 28, 28)
    copy = tmp_path / "copy"
    __import__("shutil").copytree(ck, copy)
    code, out, err = run(capsys, "project", copy, "--method", "pca", "--limit", "500")
    assert code == 0 and len(list((copy / "projections").glob("*-test-500*.npz"))) == 2, err


def test_train_resume_refuses_an_imported_model(imported_root, capsys):
    code, _, err = run(capsys, "train", "--out", imported_root / "theirs", "--resume")
    assert code == 2 and err.count("\n") == 1
    assert f"--resume: {imported_root / 'theirs'} is an imported ONNX model" in err and "cannot train" in err
    from vae.training.jobs import checkpoint_name_problem

    assert "'theirs' is an imported ONNX model" in checkpoint_name_problem(imported_root, "theirs")


def test_cli_import_refuses_in_one_line_and_keeps_what_is_there(their_onnx, tmp_path, capsys):
    enc, dec = their_onnx
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("a user's file")
    for argv, msg in [
        (["--out", kept], "already exists; choose another --out"),
        (["--out", tmp_path / "a", "--input-range=-1,1"], "no closer to their inputs"),
        (["--out", tmp_path / "b", "--class-names", "a,b"], "--class-names names 2 classes but fashion-mnist has 10"),
        (["--out", tmp_path / "c", "--output-range", "0,2"], "a pixel range is 0,1 or -1,1"),
    ]:
        code, _, err = run(capsys, "import", "--encoder", enc, "--decoder", dec, "--dataset", "fashion-mnist", *argv)
        last = err.splitlines()[-1]  # before it, at most the progress lines ("checking the graphs", ...)
        assert code == 2 and msg in last and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"] and (kept / "mine.txt").exists()


@pytest.mark.slow
def test_cli_import_needs_no_options_for_the_common_case(their_onnx, tmp_path, capsys, monkeypatch):
    """The whole import as a researcher types it: evaluation with the default IWAE and the UMAP map.
    Its Fashion-MNIST test split is the shipped one's first 300 images (a $VAE_DATA_DIR of the test's
    own), so that the default IWAE (k = 1000 samples an image) and UMAP take seconds. In this process
    (vae.cli.main): a subprocess would compile UMAP's numba code again, 20-40 s of CPU."""
    enc, dec = their_onnx
    out = tmp_path / "checkpoints" / "theirs"
    monkeypatch.setenv("VAE_DATA_DIR", str(write_fashion_mnist(tmp_path / "data", test=300)))
    proc = cli(capsys, "import", "--encoder", enc, "--decoder", dec, "--dataset", "fashion-mnist", "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(f"imported {out}: flattened images (B, 784) in [0, 1] -> latent 20 -> flattened "
                                  "images (B, 784) in [0, 1], bernoulli likelihood\n")
    ck = load_checkpoint(out)
    m = ck.metrics
    assert (m["n_images"], m["iwae_k"], m["iwae_images"]) == (300, 1000, 300) and np.isfinite(m["iwae_nll"]), m
    assert any("umap" in p.name for p in (out / "projections").iterdir())
    assert [e.error for e in list_checkpoints(out.parent)] == [None]


# -- a graph with a fixed batch --------------------------------------------------------------------------
class Encode(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        return tuple(self.vae.encode(x))


class Decode(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, z):
        return self.vae.decode(z)


@pytest.fixture(scope="module")
def fixed_batch_onnx(tmp_path_factory, their_vae):
    """TheirVAE's graphs exported as people often do, without a dynamic axis: a batch of 1 is baked in
    (the encoder by torch.onnx.export's legacy exporter, the decoder by its dynamo exporter)."""
    import warnings

    folder = tmp_path_factory.mktemp("fixed-batch")
    enc, dec = folder / "encoder.onnx", folder / "decoder.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encode(their_vae), (torch.zeros(1, 784),), str(enc), dynamo=False, input_names=["x"],
                          output_names=["mu", "logvar"])
        torch.onnx.export(Decode(their_vae), (torch.zeros(1, LATENT),), str(dec), dynamo=True, input_names=["z"],
                          output_names=["image"], external_data=False, verbose=False)
    return enc, dec


FIXED = ("input {port} has a fixed batch of 1; re-export it with a dynamic batch axis: torch.onnx.export(..., "
         'dynamic_axes={{"{name}": {{0: "batch"}}}}), or dynamic_shapes=({{0: torch.export.Dim("batch")}},) with '
         "dynamo=True; from Keras (tf2onnx), an input signature whose batch dimension is None")


def test_a_fixed_batch_graph_is_refused_with_the_fix(fixed_batch_onnx, their_onnx, imported_root, tmp_path, capsys):
    enc, dec = fixed_batch_onnx
    out = tmp_path / "checkpoints" / "fixed"
    code, _, err = run(capsys, "import", "--encoder", enc, "--decoder", their_onnx[1], "--dataset", "fashion-mnist",
                       "--out", out)
    assert code == 2 and err.splitlines()[-1] == (f"python -m vae import: error: {enc}: "
                                                  + FIXED.format(port="x [1, 784]", name="x")), err
    assert "Traceback" not in err and "INVALID_ARGUMENT" not in err and not out.parent.exists()
    with pytest.raises(CheckpointError, match=re.escape(f"{dec}: " + FIXED.format(port="z [1, 20]", name="z"))):
        import_onnx(their_onnx[0], dec, "fashion-mnist", out, evaluate=False, map_method="none")
    assert not out.parent.exists()
    # a folder whose decoder was swapped for the fixed one: listed as broken, with the fix
    folder = tmp_path / "root" / "swapped"
    shutil.copytree(imported_root / "theirs", folder)
    shutil.copy(dec, folder / "decoder.onnx")
    [entry] = list_checkpoints(folder.parent)
    assert entry.error == f"{folder / 'decoder.onnx'}: " + FIXED.format(port="z [1, 20]", name="z"), entry.error
    with pytest.raises(CheckpointError, match="has a fixed batch of 1; re-export it with a dynamic batch axis"):
        load_checkpoint(folder)


# -- what `import` and `info` say -------------------------------------------------------------------------
@pytest.mark.parametrize("train_split", [True, False], ids=["train split here", "test split only"])
def test_info_describes_an_imported_model(train_split, their_onnx, tmp_path, capsys, monkeypatch):
    """Fashion-MNIST's test split is the shipped one's first 300 images; its train split the 10,000
    shipped ones, or none (the folders searched after $VAE_DATA_DIR point nowhere)."""
    import vae.data.datasets

    monkeypatch.setenv("VAE_DATA_DIR", str(write_fashion_mnist(tmp_path / "data", 300, train_from_test=train_split)))
    for folder in ("DEBIAN_DATA_DIR", "DOWNLOAD_DIR"):
        monkeypatch.setattr(vae.data.datasets, folder, tmp_path / "nowhere")
    enc, dec = their_onnx
    out = tmp_path / "theirs"
    proc = cli(capsys, "import", "--encoder", enc, "--decoder", dec, "--dataset", "fashion-mnist", "--out", out,
               "--source", "pytorch/examples' VAE, 4 epochs on my laptop", "--no-evaluate", "--map", "none")
    assert proc.returncode == 0, proc.stderr
    described = ("flattened images (B, 784) in [0, 1] -> latent 20 -> flattened images (B, 784) in [0, 1], "
                 "bernoulli likelihood")
    assert proc.stdout == f"imported {out}: {described}\n"
    proc = cli(capsys, "info", out)
    lines = proc.stdout.splitlines()
    enc_w, dec_w = read_graph(enc).n_weights, read_graph(dec).n_weights
    assert lines[2:6] == [
        f"  model     imported ONNX: {described}",
        f"  graphs    encoder.onnx {enc_w:,} weights, decoder.onnx {dec_w:,} weights ({enc_w + dec_w:,} in all)",
        "  source    pytorch/examples' VAE, 4 epochs on my laptop",
        f"  files     {enc}, {dec}",
    ], lines
    sizes = "10000 train / 300 test" if train_split else "test only, 300 images"
    assert f"  data      fashion-mnist ({sizes}), classes: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, " \
           "Sneaker, Bag, Ankle boot" in lines, lines
    assert "hidden" not in proc.stdout and "?" not in proc.stdout
