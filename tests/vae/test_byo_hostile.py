"""Hostile or broken ONNX files dropped among the checkpoints: each is listed as broken with its reason,
`import` refuses it in one line, nothing in it is ever executed, and the app keeps running."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from app_helpers import app_test
from onnx import TensorProto, helper, numpy_helper

from vae.byo.graphs import MAX_ONNX_BYTES
from vae.checkpoint import list_checkpoints
from vae.cli import main

MARKER = Path("/tmp/vae-byo-pickle-ran")


class _Boom:
    """Unpickling this runs a shell command: a pickle named .onnx must never be opened."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def _matmul_decoder(latent: int, weight: float = 0.01) -> onnx.ModelProto:
    """A decoder z (B, latent) -> (B, 784) made by hand: one MatMul by a constant."""
    w = numpy_helper.from_array(np.full((latent, 784), weight, np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["z", "w"], ["image"])], "dec",
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", latent])],
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 784])],
                          initializer=[w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)


def _external(model: onnx.ModelProto, location: str) -> onnx.ModelProto:
    """``model`` with its largest weight moved to an external file at ``location`` (not written)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    t = max(m.graph.initializer, key=lambda t: len(t.raw_data) or np.prod(t.dims))
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value=location)
    return m


def _custom(model: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    out = m.graph.output[0].name
    m.graph.node[-1].output[0] = "before_custom"
    m.graph.node.append(helper.make_node("Pwn", ["before_custom"], [out], domain="com.evil.ops"))
    m.opset_import.append(helper.make_opsetid("com.evil.ops", 1))
    return m


def _cases(good: Path, tmp: Path) -> dict[str, tuple]:
    """name: (what to do to a copy of the good folder, the reason the listing must give)."""
    enc = onnx.load(str(good / "encoder.onnx"))
    dec = onnx.load(str(good / "decoder.onnx"))

    def save(folder, name, model):
        (folder / name).write_bytes(model.SerializeToString())

    def nan(folder):
        save(folder, "decoder.onnx", _matmul_decoder(20, float("nan")))

    def bigger(folder):
        with open(folder / "decoder.onnx", "r+b") as f:  # sparse: costs no disk
            f.truncate(MAX_ONNX_BYTES + 1)

    def config(folder, **changes):
        cfg = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**cfg, **changes}))

    return {
        "external-inside": (lambda f: (save(f, "decoder.onnx", _external(dec, "weights.data")),
                                       (f / "weights.data").write_bytes(b"\0" * 16)),
                            "keeps tensor .* in an external file \\('weights.data'\\): only self-contained"),
        "external-outside": (lambda f: save(f, "encoder.onnx", _external(enc, "../../../etc/passwd")),
                             "in an external file \\('../../../etc/passwd'\\)"),
        "custom-domain": (lambda f: save(f, "decoder.onnx", _custom(dec)),
                          "uses the custom-operator domain 'com.evil.ops': only standard ONNX operators are run"),
        "over-the-cap": (bigger, "decoder.onnx is 256 MiB, over the 256 MiB cap on ONNX files; it was not read"),
        "outputs-not-config": (lambda f: config(f, decoder_output="image"),
                               "decoder.onnx: its output image \\[B, 784\\] is flat images but config.json "
                               "declares image"),
        "latent-not-config": (lambda f: config(f, latent_dim=16),
                              "config.json declares latent_dim 16 but the graphs use 20"),
        "nan-outputs": (nan, "decoder.onnx returns NaN or infinite images; the model is broken"),
        "latent-sizes-differ": (lambda f: save(f, "decoder.onnx", _matmul_decoder(16)),
                                "the encoder and the decoder disagree on the latent size: encoder.onnx returns "
                                "mu \\[B, 20\\] and logvar \\[B, 20\\], decoder.onnx takes z \\[B, 16\\]"),
        "not-onnx": (lambda f: (f / "encoder.onnx").write_text("this is not a model\n" * 50),
                     "encoder.onnx is not an ONNX model"),
        "pickle": (lambda f: (f / "decoder.onnx").write_bytes(pickle.dumps(_Boom(), protocol=4)),
                   "decoder.onnx is a Python pickle \\(torch.save\\), not ONNX: pickles can run code when opened "
                   "and are never loaded"),
        "torch-save": (lambda f: __import__("torch").save({"w": __import__("torch").zeros(3)}, f / "encoder.onnx"),
                       "encoder.onnx is a Python pickle"),
    }


@pytest.fixture(scope="module")
def hostile_root(imported_root, tmp_path_factory):
    """A checkpoints folder holding the good import and one broken copy of it per case."""
    root = tmp_path_factory.mktemp("hostile") / "checkpoints"
    good = imported_root / "theirs"
    shutil.copytree(good, root / "theirs")
    cases = _cases(good, root)
    for name, (make, _) in cases.items():
        folder = root / name
        shutil.copytree(good, folder)
        shutil.rmtree(folder / "projections")
        make(folder)
    return root, cases


def test_every_hostile_folder_is_listed_as_broken_with_its_reason(hostile_root):
    import re

    root, cases = hostile_root
    MARKER.unlink(missing_ok=True)
    entries = {e.name: e for e in list_checkpoints(root)}
    assert entries["theirs"].error is None
    for name, (_, reason) in cases.items():
        err = entries[name].error
        assert err is not None and re.search(reason, err), f"{name}: {err}"
        assert "\n" not in err
    assert not MARKER.exists(), "the pickle named .onnx was unpickled"


def test_import_refuses_each_hostile_graph_in_one_line(hostile_root, tmp_path, capsys):
    import re

    root, cases = hostile_root
    MARKER.unlink(missing_ok=True)
    for name, (_, reason) in cases.items():
        if name in ("outputs-not-config", "latent-not-config", "over-the-cap"):
            continue  # a config.json of theirs, or 256 MiB to read: only a folder can hold these
        folder = root / name
        capsys.readouterr()
        code = main(["import", "--encoder", str(folder / "encoder.onnx"), "--decoder", str(folder / "decoder.onnx"),
                     "--dataset", "fashion-mnist", "--out", str(tmp_path / name), "--no-evaluate", "--map", "none"])
        err = capsys.readouterr().err
        last = err.splitlines()[-1]
        assert code == 2 and last.startswith("python -m vae import: error: ") and "Traceback" not in err, err
        assert re.search(reason, last), f"{name}: {last}"
        assert not (tmp_path / name).exists()
    assert not MARKER.exists(), "the pickle named .onnx was unpickled"


def test_the_app_lists_them_and_keeps_running(hostile_root, tmp_path, monkeypatch):
    from pagecheck import assert_app_ok

    import pages._loaders

    root, cases = hostile_root
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    at = app_test(180)
    at.session_state["ckpt"] = "theirs"
    at.run()
    assert_app_ok(at, "hostile folders listed", errors=True)
    listed = " ".join(m.value for m in at.sidebar.markdown)
    assert f"{len(cases)} checkpoint folder(s) could not be loaded" in [e.label for e in at.sidebar.expander]
    for name in cases:
        assert f"**{name}**:" in listed, name
