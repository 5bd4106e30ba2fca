"""Robustness, many users at once (without a browser): every session uses the one cached model,
read-only, in eval mode, under torch.inference_mode(); no page can train or edit it.

The 20-session test against a real server is in tests/browser/test_robustness_server.py.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
import torch
from app_helpers import app_test, switch
from pagecheck import assert_app_ok
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_DIGITS = ROOT / "checkpoints" / "digits"


@pytest.fixture()
def app_root(tmp_path, monkeypatch):
    import pages._loaders

    root = tmp_path / "checkpoints"
    shutil.copytree(SHIPPED_DIGITS, root / "digits")
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    return root


def _png() -> bytes:
    im = Image.new("L", (40, 40), 255)
    im.paste(0, (15, 5, 25, 35))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def one_session(code: float) -> None:
    """A user who touches every page: map (with a chosen point), sliders, reconstructions,
    interpolation, generation, an upload, how it works."""
    at = app_test(120)
    at.session_state["ckpt"] = "digits"
    at.session_state["map_method"] = "pca"
    at.session_state["selected_index"] = 5
    at.session_state["selected_for"] = "digits"
    at.run()
    at.query_params["z"] = ",".join([str(code)] * 8)
    switch(at, "pages/sliders.py").run()
    at.slider[0].set_value(-code).run()
    for page in ("reconstructions", "interpolate", "generate", "your_image", "how_it_works"):
        switch(at, f"pages/{page}.py").run()
        assert_app_ok(at, page)
        if page == "your_image":
            at.file_uploader(key="img_upload").set_value(("bar.png", _png(), "image/png")).run()
        assert_app_ok(at, page, errors=True)


def test_sessions_share_one_model_and_leave_it_untouched(app_root):
    import pages._loaders as loaders

    ck = loaders.get_checkpoint("digits")  # the object every session gets from st.cache_resource
    model = ck.model
    before = {k: (v.clone(), v._version) for k, v in model.state_dict().items()}
    modes: list[tuple[bool, bool]] = []  # (inference mode on, module in training mode) at every call

    def record(module, args):
        modes.append((torch.is_inference_mode_enabled(), module.training))

    hooks = [m.register_forward_pre_hook(record) for m in (model.encoder, model.decoder)]
    try:
        for n, code in enumerate((0.5, -1.5)):
            calls = len(modes)
            one_session(code)
            assert len(modes) > calls, f"session {n} never used the cached model: it has a copy"
    finally:
        for h in hooks:
            h.remove()
    assert loaders.get_checkpoint("digits") is ck and ck.model is model  # still the same shared object
    assert all(inference for inference, _ in modes), "an inference ran outside torch.inference_mode()"
    assert not any(training for _, training in modes) and not model.training
    assert not any(m.training for m in model.modules())
    assert not any(p.requires_grad for p in model.parameters())
    for k, v in model.state_dict().items():
        ref, version = before[k]
        assert v._version == version, f"{k} was modified in place"
        assert torch.equal(v, ref), k


def test_sessions_share_one_copy_of_the_data(app_root):
    import pages._loaders as loaders

    ck = loaders.get_checkpoint("digits")
    one_session(1.0)
    data = loaders.load_data("digits", ck.content_hash, "test", None)
    enc = loaders.load_encoding("digits", ck.content_hash, "test", None, "cpu")
    one_session(-1.0)
    assert loaders.load_data("digits", ck.content_hash, "test", None) is data
    assert loaders.load_encoding("digits", ck.content_hash, "test", None, "cpu") is enc


MUTATIONS = [  # what a page must never do to a model (or anything else) it shares with other sessions
    (r"\.train\(", "switches a model to training mode"),
    (r"torch\.optim|optimi[sz]er|\.zero_grad\(|\.backward\(", "uses an optimiser or gradients"),
    (r"requires_grad_?\(\s*True|requires_grad\s*=\s*True|enable_grad|set_grad_enabled\(\s*True",
     "switches gradients on"),
    (r"load_state_dict|register_\w*hook", "replaces weights or hooks into a model"),
    (r"\bmodel\.(to|cuda|cpu|half|float|double|bfloat16|requires_grad_|apply)\(", "changes a model in place"),
    (r"\.(copy_|fill_|add_|sub_|mul_|div_|zero_|normal_|uniform_|clamp_|set_)\(", "edits a tensor in place"),
]


def test_pages_never_train_or_edit_the_shared_model():
    files = [ROOT / "app.py", *sorted((ROOT / "frame").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
    assert len(files) >= 9
    for f in files:
        text = f.read_text()
        for pattern, what in MUTATIONS:
            m = re.search(pattern, text)
            assert not m, f"{f.relative_to(ROOT)} {what}: {m.group(0)!r}"


def test_the_cached_loader_hands_out_eval_mode_models_without_gradients(app_root):
    import pages._loaders as loaders

    ck = loaders.get_checkpoint("digits")
    assert not ck.model.training and not any(p.requires_grad for p in ck.model.parameters())
    from vae.explore.latent import decode

    assert decode(ck.model, torch.zeros(1, 8).numpy()).is_inference()  # inference tensors, no graph
