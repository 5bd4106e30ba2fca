"""ONNX export: onnxruntime reproduces torch on every shipped checkpoint (batch 1 and 64), the
files are self-contained with a dynamic batch, the cache exports once, the CLI writes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cli

from vae.checkpoint import load_checkpoint
from vae.export.onnx_files import (
    CACHE_LAYOUT,
    DECODER_FILE,
    ENCODER_FILE,
    TOLERANCE,
    compact,
    export_cached,
    export_onnx,
    onnx_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["fashion-mnist", "fashion-mnist-2d", "fashion-mnist-beta4", "digits", "emoji"]  # emoji: RGB 32x32
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every shipped checkpoint exported once for this module: {name: (checkpoint, folder)}."""
    out = {}
    for name in SHIPPED:
        ck = load_checkpoint(ROOT / "checkpoints" / name)
        folder = tmp_path_factory.mktemp(f"onnx-{name}")
        export_onnx(ck.model, folder)
        out[name] = (ck, folder)
    return out


def session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("batch", [1, 64])
def test_onnxruntime_decoder_matches_torch(exported, name, batch):
    ck, folder = exported[name]
    z = torch.randn(batch, ck.config.latent_dim, generator=torch.Generator().manual_seed(batch)) * 1.5
    with torch.inference_mode():
        want = ck.model.decode_mean(z).numpy()
    (got,) = session(folder / DECODER_FILE).run(None, {"z": z.numpy()})
    assert got.shape == want.shape == (batch, *ck.config.image_shape)
    err = float(np.abs(got - want).max())
    assert err <= 1e-5, f"{name} decoder, batch {batch}: max |onnx - torch| = {err:.2e}"
    assert got.min() >= 0.0 and got.max() <= 1.0


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("batch", [1, 64])
def test_onnxruntime_encoder_matches_torch(exported, name, batch):
    ck, folder = exported[name]
    x = torch.rand(batch, *ck.config.image_shape, generator=torch.Generator().manual_seed(batch))
    with torch.inference_mode():
        mu, logvar = ck.model.encode(x)
    got_mu, got_logvar = session(folder / ENCODER_FILE).run(["mu", "logvar"], {"x": x.numpy()})
    for what, got, want in (("mu", got_mu, mu.numpy()), ("logvar", got_logvar, logvar.numpy())):
        assert got.shape == want.shape == (batch, ck.config.latent_dim)
        err = float(np.abs(got - want).max())
        assert err <= 1e-5, f"{name} encoder {what}, batch {batch}: max |onnx - torch| = {err:.2e}"


def test_files_are_self_contained_with_a_dynamic_batch(exported):
    ck, folder = exported["digits"]
    assert sorted(p.name for p in folder.iterdir()) == [DECODER_FILE, ENCODER_FILE], "no side files"
    for file, inputs, outputs in ((DECODER_FILE, ["z"], ["image"]), (ENCODER_FILE, ["x"], ["mu", "logvar"])):
        model = onnx.load(str(folder / file), load_external_data=False)
        onnx.checker.check_model(model, full_check=True)
        stored_outside = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        assert not stored_outside, f"{file}: weights in external data: {stored_outside}"
        assert [i.name for i in model.graph.input] == inputs
        assert [o.name for o in model.graph.output] == outputs
        for value in (*model.graph.input, *model.graph.output):
            first = value.type.tensor_type.shape.dim[0]
            assert first.dim_param and not first.dim_value, f"{file}: {value.name}'s batch dimension is fixed"
            assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_export_cached_exports_once_per_content_hash(tmp_path):
    ck = load_checkpoint(ROOT / "checkpoints" / "digits")
    files = export_cached(ck.model, ck.content_hash, tmp_path)
    assert files["decoder"].parent == tmp_path / ck.content_hash / CACHE_LAYOUT
    stamps = {p: f.stat().st_mtime_ns for p, f in files.items()}
    again = export_cached(ck.model, ck.content_hash, tmp_path)
    assert {p: f.stat().st_mtime_ns for p, f in again.items()} == stamps, "exported twice"
    files["encoder"].unlink()  # a missing part is exported again, the other kept
    export_cached(ck.model, ck.content_hash, tmp_path)
    assert files["encoder"].is_file() and files["decoder"].stat().st_mtime_ns == stamps["decoder"]


@pytest.mark.parametrize("bad", ["", "../x", "a/b"])
def test_export_cached_refuses_a_hash_that_is_not_a_plain_name(tmp_path, bad):
    ck = load_checkpoint(ROOT / "checkpoints" / "digits")
    with pytest.raises(ValueError, match="content_hash"):
        export_cached(ck.model, bad, tmp_path)


def test_cli_writes_both_files(tmp_path, capsys):
    """Through ``vae.cli.main`` in this process (a new one adds seconds of imports and of the first
    export's warm-up); the entry point as its own process is test_cli_bad_checkpoint_is_one_line's."""
    out = tmp_path / "onnx"
    r = cli(capsys, "export", ROOT / "checkpoints" / "digits", "--format", "onnx", "--out", out)
    assert r.returncode == 0, r.stderr
    assert (out / DECODER_FILE).is_file() and (out / ENCODER_FILE).is_file()
    assert str(out / DECODER_FILE) in r.stdout


def test_cli_bad_checkpoint_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "vae", "export", str(tmp_path / "nope"), "--format", "onnx",
                        "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


# -- float16 weights --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_models_are_stored_at_half_size_and_exact(exported, name):
    """Their weights are float16 in the checkpoint already: the files take half the bytes and give the
    same outputs as the float32 graph (the tests above hold both against torch within 1e-5)."""
    ck, folder = exported[name]
    for part, file in (("decoder", DECODER_FILE), ("encoder", ENCODER_FILE)):
        raw = onnx_bytes(ck.model, part, compact_weights=False)
        stored = (folder / file).stat().st_size
        assert stored < 0.56 * len(raw), f"{name} {part}: {stored:,} bytes of {len(raw):,}"
        kinds = {t.data_type for t in onnx.load(str(folder / file)).graph.initializer if len(t.dims) > 1}
        assert kinds == {onnx.TensorProto.FLOAT16}, f"{name} {part}: weight types {kinds}"


def test_a_float32_model_keeps_its_outputs_within_a_quarter_grey_level(digits_checkpoint):
    """A model trained here in float32 (weights not representable in float16): compacted, its images
    move by at most TOLERANCE (0.25/255), well inside the page's 2/255."""
    ck = load_checkpoint(digits_checkpoint)
    raw, small = onnx_bytes(ck.model, "decoder", compact_weights=False), onnx_bytes(ck.model, "decoder")
    z = np.random.default_rng(5).standard_normal((200, ck.config.latent_dim)).astype(np.float32) * 2
    want, got = (ort.InferenceSession(b, providers=["CPUExecutionProvider"]).run(None, {"z": z})[0]
                 for b in (raw, small))
    assert len(small) < 0.75 * len(raw), (len(small), len(raw))  # a tiny model: the graph itself weighs
    assert float(np.abs(got - want).max()) <= TOLERANCE


def test_weights_that_float16_would_change_too_much_stay_float32():
    """y = x · W with W = 1 + 4e-4 over 64 inputs: float16 rounds W to 1, and y moves by 0.026."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.full((64, 4), 1 + 4e-4, np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 4])], [w])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10).SerializeToString()
    probe = {"x": np.ones((3, 64), np.float32)}
    assert compact(data, probe) == data
    assert compact(data, probe, tolerance=0.1) != data, "within a looser tolerance it is compacted"
