"""Walks through the Interpolate and How-it-works pages with streamlit's AppTest.

Images are compared by their media URL: Streamlit names an image by a hash of its bytes, so
two equal URLs mean two identical PNGs and different URLs mean different pixels.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from app_helpers import app_test, switch
from pagecheck import assert_app_ok

ROOT = Path(__file__).resolve().parents[2]
CKPTS = ROOT / "checkpoints"
MODELS = ["digits", "fashion-mnist", "fashion-mnist-2d"]
INTERP, HOW = "pages/interpolate.py", "pages/how_it_works.py"

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def open_page(name: str, page: str, **state) -> AppTest:
    """The app on ``page`` with checkpoint ``name`` (skipped when that checkpoint does not exist)."""
    import pages._loaders as loaders

    if not (loaders.CHECKPOINT_ROOT / name / "model.safetensors").is_file():
        pytest.skip(f"checkpoints/{name} does not exist (yet)")
    at = app_test(120)
    at.session_state["ckpt"] = name
    at.session_state["map_method"] = "pca"
    for k, v in state.items():
        at.session_state[k] = v
    switch(at, page).run()
    assert_app_ok(at)
    assert not at.error, [e.value for e in at.error]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert_app_ok(at)
    return at


def images(at: AppTest) -> list[tuple[str, str]]:
    """(url, caption) of every image on the page, in order."""
    return [(im.url, im.caption) for e in at.get("image") for im in e.proto.imgs]


def latent_dim(name: str) -> int:
    import json

    return json.loads((CKPTS / name / "config.json").read_text())["latent_dim"]


# -- Interpolate ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_interpolate_walks_every_tab(name):
    at = open_page(name, INTERP)
    strip = images(at)
    assert len(strip) == 9 + 2, "9 decoded frames between the two originals"
    assert strip[0][1] == "A: original" and strip[-1][1] == "B: original"
    assert {b.proto.label for b in at.get("download_button")} == {"Filmstrip (PNG)", "Animation (GIF)"}
    assert len(at.get("plotly_chart")) == 1
    for tab in ("Traversals", "Attribute vectors"):
        at.session_state["interp_tab"] = tab
        rerun(at)
        assert images(at), tab


def test_slerp_and_lerp_share_ends_but_not_the_middle():
    at = open_page("digits", INTERP, interp_a_request=5)
    assert "interp_a_request" not in at.session_state, "the Map page's request is consumed once"
    assert at.markdown[0].value.startswith("**A** = #5 ")
    lerp_imgs = images(at)
    lerp_norm = at.dataframe[0].value["‖z‖"].to_numpy()
    at.radio(key="interp_path").set_value("slerp")
    slerp_imgs = images(rerun(at))
    slerp_norm = at.dataframe[0].value["‖z‖"].to_numpy()
    assert lerp_imgs[1] == slerp_imgs[1] and lerp_imgs[-2] == slerp_imgs[-2], "t = 0 and t = 1 agree"
    mid = 1 + 9 // 2
    assert lerp_imgs[mid][0] != slerp_imgs[mid][0], "the middle frames differ"
    assert np.allclose(lerp_norm[[0, -1]], slerp_norm[[0, -1]])
    assert slerp_norm[4] > lerp_norm[4] + 0.05, "the straight line cuts a shorter chord"


def test_steps_and_endpoint_kinds_change_the_strip():
    at = open_page("digits", INTERP)
    at.slider(key="interp_steps").set_value(5)
    assert len(images(rerun(at))) == 5 + 2
    at.radio(key="interp_b_kind").set_value("prior")
    strip = images(rerun(at))
    assert len(strip) == 5 + 1, "a prior sample has no original"
    assert "prior sample" in at.markdown[0].value
    at.radio(key="interp_a_kind").set_value("class")
    rerun(at)
    at.radio(key="interp_a_how").set_value("mean")
    assert len(images(rerun(at))) == 5, "neither end is a data image now"
    assert "mean of" in at.markdown[0].value


def test_traversal_grid_has_one_row_per_dimension():
    at = open_page("digits", INTERP, interp_tab="Traversals")
    d = latent_dim("digits")
    rows = [m.value for m in at.markdown if re.match(r"\*\*z\d+\*\* · KL", m.value)]
    assert len(rows) == min(d, 6) and len(images(at)) == min(d, 6) * 9
    at.slider(key="interp_trav_dims").set_value(d)
    at.slider(key="interp_trav_values").set_value(5)
    rerun(at)
    rows = [m.value for m in at.markdown if re.match(r"\*\*z\d+\*\* · KL", m.value)]
    assert len(rows) == d and len(images(at)) == d * 5
    kls = [float(re.search(r"KL ([\d.]+)", r).group(1)) for r in rows]
    assert kls == sorted(kls, reverse=True), "most informative dimension first"
    grid = images(at)
    assert len({u for u, _ in grid[:5]}) == 5, "the top dimension changes the image"


def test_traversal_of_a_2d_model():
    at = open_page("fashion-mnist-2d", INTERP, interp_tab="Traversals")
    rows = [m.value for m in at.markdown if re.match(r"\*\*z\d+\*\* · KL", m.value)]
    assert len(rows) == 2 and len(images(at)) == 2 * 9


def test_attribute_strength_moves_the_decode():
    at = open_page("digits", INTERP, interp_tab="Attribute vectors")
    at.slider(key="interp_attr_strength").set_value(0.0)
    imgs = images(rerun(at))
    original, recon, moved = imgs[0], imgs[1], imgs[2]
    assert moved[0] == recon[0], "strength 0 is the reconstruction"
    assert original[0] != recon[0]
    row = imgs[3:]
    assert len(row) == 8 and len({u for u, _ in row}) == 8, "every strength decodes differently"
    moved_at = {}
    for strength in (1.0, 1.5):
        at.slider(key="interp_attr_strength").set_value(strength)
        moved_at[strength] = images(rerun(at))[2][0]
    assert len({recon[0], moved_at[1.0], moved_at[1.5]}) == 3, "the strength changes the decode"
    # somewhere along the vector the code comes nearest the target class's mean (digits: names are digits)
    target = str(at.selectbox(key="interp_attr_to").value)
    assert any(cap.endswith(f"· {target}") for _, cap in row)


def test_attribute_same_class_says_so():
    at = open_page("digits", INTERP, interp_tab="Attribute vectors")
    at.selectbox(key="interp_attr_to").set_value(at.selectbox(key="interp_attr_from").value)
    rerun(at)
    assert any("two different classes" in i.value for i in at.info)


# -- How it works ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_how_it_works_walks(name):
    at = open_page(name, HOW)
    d = latent_dim(name)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert f"({d})" in dot and "z = μ + σ ⊙ ε" in dot
    assert len(at.latex) >= 5
    assert len(at.get("plotly_chart")) >= 2
    assert len(at.dataframe[0].value) == d


def test_elbo_numbers_match_a_reference_kl():
    from vae.checkpoint import load_checkpoint
    from vae.data.datasets import load_dataset

    at = open_page("digits", HOW, how_index=7)
    metrics = {m.label: float(m.value) for m in at.metric if m.label != "β used in training"}
    # one sign convention in the whole app: -ELBO = reconstruction (-E[log p(x|z)]) + KL, all positive
    recon, kl, neg_elbo = metrics["Reconstruction (nats)"], metrics["KL (nats)"], metrics["−ELBO (nats)"]
    assert recon > 0 and kl > 0 and neg_elbo > 0
    assert neg_elbo == pytest.approx(recon + kl, abs=0.11)
    ck = load_checkpoint(CKPTS / "digits")
    x = load_dataset("digits", "test").images[7:8]
    with torch.inference_mode():
        mu, logvar = ck.model.encode(x)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, torch.exp(0.5 * logvar)), torch.distributions.Normal(0.0, 1.0)
    ).sum()
    assert kl == pytest.approx(float(ref), abs=0.006)
    assert any("#7" in t.value and f"{neg_elbo:.1f}" in t.value for t in at.latex)


def test_reparameterisation_draw_changes_z_not_mu():
    at = open_page("digits", HOW)
    before = at.dataframe[0].value
    recon_url = images(at)[3][0]
    at.button(key="how_draw").click()
    rerun(at)
    after = at.dataframe[0].value
    assert at.number_input(key="how_eps_seed").value == 1
    assert np.allclose(before["μ"], after["μ"]) and np.allclose(before["σ"], after["σ"])
    assert not np.allclose(before["z"], after["z"])
    for t in (before, after):
        assert np.allclose(t["z"], t["μ"] + t["σ"] * t["ε"], atol=0.005)
    assert images(at)[3][0] != recon_url, "the decode of z follows the new draw"


def test_beta_comparison_without_a_partner():
    at = open_page("digits", HOW)
    assert any("No other checkpoint of **digits**" in i.value for i in at.info)


@pytest.fixture()
def root_with_beta4(tmp_path, monkeypatch):
    """A checkpoint root holding the real digits model and a quickly trained β = 4 one."""
    import pages._loaders as loaders
    from vae.config import ModelConfig, TrainConfig
    from vae.data.datasets import load_dataset
    from vae.training.trainer import Trainer

    if not (CKPTS / "digits").is_dir():
        pytest.skip("checkpoints/digits does not exist")
    (tmp_path / "digits").symlink_to(CKPTS / "digits", target_is_directory=True)
    mc = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=8, hidden_dims=(64, 32), beta=4.0)
    tc = TrainConfig(dataset="digits", out=str(tmp_path / "digits-beta4"), epochs=3, batch_size=64,
                     lr=3e-3, seed=0)
    Trainer(mc, tc, load_dataset("digits", "train"), load_dataset("digits", "test")).run()
    monkeypatch.setattr(loaders, "CHECKPOINT_ROOT", tmp_path)
    monkeypatch.setattr(loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    return tmp_path


def test_beta_comparison_with_a_partner(root_with_beta4):
    at = open_page("digits", HOW)
    assert at.selectbox(key="how_partner").value == "digits-beta4"
    table = next(d.value for d in at.dataframe if "digits-beta4 (β = 4)" in d.value.columns)
    assert list(table[""])[:3] == ["−ELBO (nats)", "reconstruction −log p(x|z) (nats)", "KL (nats)"]
    kl_this, kl_other = (float(table[c].iloc[2]) for c in table.columns[1:])
    assert kl_other < kl_this, "β = 4 buys a smaller KL"
    assert not any("No other checkpoint" in i.value for i in at.info)


@pytest.fixture()
def root_with_2d(tmp_path, monkeypatch):
    """A checkpoint root holding a quickly trained 2-D digits model (whatever checkpoints/ holds)."""
    import pages._loaders as loaders
    from vae.config import ModelConfig, TrainConfig
    from vae.data.datasets import load_dataset
    from vae.training.trainer import Trainer

    mc = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(64, 32))
    tc = TrainConfig(dataset="digits", out=str(tmp_path / "digits-2d"), epochs=3, batch_size=64, lr=3e-3, seed=0)
    Trainer(mc, tc, load_dataset("digits", "train"), load_dataset("digits", "test")).run()
    monkeypatch.setattr(loaders, "CHECKPOINT_ROOT", tmp_path)
    monkeypatch.setattr(loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    return tmp_path


def test_pages_on_a_2d_model(root_with_2d):
    at = open_page("digits-2d", INTERP, interp_map="latent")
    assert at.selectbox(key="interp_map").value == "latent"
    table = at.dataframe[0].value
    assert len(table) == 9 and table["distance to it"].iloc[0] == 0.0
    at.session_state["interp_tab"] = "Traversals"
    rows = [m.value for m in rerun(at).markdown if re.match(r"\*\*z\d+\*\* · KL", m.value)]
    assert len(rows) == 2 and len(images(at)) == 2 * 9
    at.session_state["interp_tab"] = "Attribute vectors"
    assert len(images(rerun(at))) == 3 + 8
    switch(at, HOW)
    rerun(at)
    assert len(at.dataframe[0].value) == 2
    assert "(2)" in at.get("graphviz_chart")[0].proto.spec


def test_settings_survive_switching_tabs():
    at = open_page("digits", INTERP)
    at.slider(key="interp_steps").set_value(4)
    rerun(at)
    at.session_state["interp_tab"] = "Traversals"
    rerun(at)
    assert not at.get("download_button") or all(b.proto.label != "Filmstrip (PNG)" for b in at.get("download_button"))
    at.session_state["interp_tab"] = "Interpolation"
    rerun(at)
    assert at.slider(key="interp_steps").value == 4 and len(images(at)) == 4 + 2
