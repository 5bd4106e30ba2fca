"""The Reconstructions, Generate and Your-image pages.

Each page is run with ``streamlit.testing.v1.AppTest`` on the shipped checkpoints (digits always;
the Fashion-MNIST ones when their folders exist), and its helper functions are checked directly
against references (sklearn neighbours, the model's own encoder, PIL decoding).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from app_helpers import app_test, switch
from pagecheck import assert_app_ok
from PIL import Image
from streamlit.testing.v1 import AppTest

from vae.explore.latent import prior_samples

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = ROOT / "checkpoints"
PAGES = ("reconstructions", "generate", "your_image")


def has_checkpoint(name: str) -> bool:
    import pages._loaders  # a test may point the app at another folder

    folder = pages._loaders.CHECKPOINT_ROOT / name
    return all((folder / f).is_file() for f in ("config.json", "model.safetensors"))


def open_page(page: str, ckpt: str = "digits", **state) -> AppTest:
    """An AppTest of the whole app, switched to ``pages/<page>.py`` for checkpoint ``ckpt``."""
    if not has_checkpoint(ckpt):
        pytest.skip(f"checkpoints/{ckpt} does not exist (yet)")
    at = app_test(120)
    at.session_state["ckpt"] = ckpt
    at.session_state["map_method"] = "pca"  # the Map page runs first; keep it off a slow UMAP fit
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    switch(at, f"pages/{page}.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert_app_ok(at)
    assert not at.error, [e.value for e in at.error]


def images(at: AppTest):
    return at.get("image")


def captions(at: AppTest) -> list[str]:
    return [c for im in images(at) for c in im.captions]


def image_url(at: AppTest, caption_start: str) -> str:
    hits = [im.value[0] for im in images(at) if im.captions and im.captions[0].startswith(caption_start)]
    assert hits, f"no image captioned {caption_start!r} among {captions(at)}"
    return hits[0]


def steered_code(at: AppTest) -> np.ndarray:
    """The code a "Steer" button sent: still queued, or already taken by the Sliders page."""
    assert at.title[0].value == "Sliders"
    if "sliders_start_request" in at.session_state:
        req = at.session_state["sliders_start_request"]
        assert req["kind"] == "code" and all(isinstance(v, float) for v in req["code"])
        return np.array(req["code"])
    assert at.session_state["sl_start_label"] == "a chosen code"
    return np.array(at.session_state["sl_start"])


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def gallery():
    """The three page modules, imported (importing runs none of their Streamlit code)."""
    import pages.generate as gen
    import pages.reconstructions as rec
    import pages.your_image as img

    return rec, gen, img


# -- every page, every shipped checkpoint -------------------------------------------------------------
@pytest.mark.parametrize("ckpt", ["digits", "fashion-mnist", "fashion-mnist-2d"])
def test_every_page_runs(ckpt):
    at = open_page("reconstructions", ckpt)
    assert at.title[0].value == "Reconstructions"
    assert sum("MSE" in c for c in captions(at)) == 16  # the default grid: 16 cells
    for page, title in (("generate", "Generate"), ("your_image", "Your image")):
        switch(at, f"pages/{page}.py").run()
        assert_clean(at)
        assert at.title[0].value == title
        assert images(at), f"{page} shows no image for {ckpt}"
    assert len(at.get("plotly_chart")) == 2  # the map with the image on it, and its code


def test_pages_import_without_running(gallery):
    rec, gen, img = gallery
    for mod in gallery:
        assert callable(mod.main)


# -- Reconstructions ------------------------------------------------------------------------------
def test_reconstructions_class_count_and_order():
    at = open_page("reconstructions", rec_class=3, rec_count=8, rec_order="worst_elbo")
    cells = [c for c in captions(at) if "MSE" in c]
    assert len(cells) == 8
    assert all(re.match(r"#\d+ 3 ·", c) for c in cells), cells
    elbo = [float(re.search(r"−ELBO ([\d.]+)", c).group(1)) for c in cells]
    assert elbo == sorted(elbo, reverse=True)
    at.selectbox(key="rec_order").set_value("best_elbo").run()
    best = [float(re.search(r"−ELBO ([\d.]+)", c).group(1)) for c in captions(at) if "MSE" in c]
    assert best == sorted(best) and max(best) <= min(elbo)
    assert at.get("download_button")[0].label == "Download the grid (PNG)"


def test_reconstructions_random_seed_changes_images():
    at = open_page("reconstructions", rec_count=4)
    first = [c for c in captions(at) if "MSE" in c]
    at.number_input(key="rec_seed").set_value(7).run()
    assert [c for c in captions(at) if "MSE" in c] != first
    at.number_input(key="rec_seed").set_value(0).run()
    assert [c for c in captions(at) if "MSE" in c] == first


def test_reconstructions_posterior_samples():
    at = open_page("reconstructions", rec_post_index=5)
    assert image_url(at, "#5 ").endswith(".png")
    samples = [im.value[0] for im in images(at) if im.captions[0].startswith("z ~ q(z|x)")]
    assert len(samples) == 8 and len(set(samples)) > 1  # draws from q(z|x) differ
    at.number_input(key="rec_post_seed").set_value(3).run()
    again = [im.value[0] for im in images(at) if im.captions[0].startswith("z ~ q(z|x)")]
    assert again != samples


def test_reconstructions_follows_the_map_selection():
    at = open_page("reconstructions", selected_index=11, selected_for="digits")
    assert at.toggle(key="rec_post_use_map").value is True
    image_url(at, "#11 ")


def use_checkpoint_root(monkeypatch, root: Path) -> None:
    """Point the app at another checkpoints folder (and a private cache) for this test."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", root.parent / "cache")


def test_reconstructions_compares_two_checkpoints(tmp_path, monkeypatch, digits_checkpoint):
    if not has_checkpoint("digits"):
        pytest.skip("checkpoints/digits does not exist")
    root = tmp_path / "checkpoints"
    shutil.copytree(CHECKPOINTS / "digits", root / "digits")
    shutil.copytree(digits_checkpoint, root / "small")
    (root / "broken").mkdir()
    use_checkpoint_root(monkeypatch, root)
    at = open_page("reconstructions", rec_count=4)
    assert at.selectbox(key="rec_compare").options == ["— no second checkpoint —", "small"]
    assert "broken" in at.expander[0].label or any("broken" in m.value for m in at.markdown)
    at.selectbox(key="rec_compare").set_value("small").run()
    assert_clean(at)
    cells = [c for c in captions(at) if "−ELBO A" in c]
    assert len(cells) == 4 and all(", B " in c for c in cells)
    table = at.table[0].value
    assert list(table.columns) == ["A: digits", "B: small"]
    assert table.loc["−ELBO, these 4 images"].map(float).gt(0).all()


def test_metrics_column_falls_back_to_history(gallery):
    from types import SimpleNamespace

    rec = gallery[0]
    cfg = SimpleNamespace(latent_dim=8)
    trained = SimpleNamespace(metrics={}, history=[{"epoch": 3, "test_neg_elbo": 30.0, "test_recon": 25.5,
                                                    "test_kl": 4.5}], config=cfg, meta={"test_size": 360})
    col, evaluated = rec.metrics_column(trained)
    assert not evaluated
    assert col["−ELBO (nats)"] == "30.0" and col["KL (nats)"] == "4.5" and col["MSE per pixel"] == "—"
    assert col["source"] == "last training epoch (3)"
    done = SimpleNamespace(metrics={"neg_elbo": 29.0, "recon": 25.0, "kl": 4.0, "iwae_nll": 28.0,
                                    "recon_mse": 0.0123, "knn_acc": 0.9, "active_units": 7, "n_images": 360,
                                    "kl_per_dim": [1.2, 0.9, 0.04, 0.5, 0.051, 2.0, 0.0, 0.3]},
                           history=trained.history, config=cfg, meta=trained.meta)
    col, evaluated = rec.metrics_column(done)
    assert evaluated and col["−ELBO (nats)"] == "29.0" and col["dimensions in use"] == "6 / 8"
    assert col["5-NN accuracy on μ"] == "90.0 %"
    assert col["source"] == "evaluate, 360 test images (partial)", "no IWAE or k-NN settings: not complete"
    done.metrics.update(limit=None, iwae_k=1000, iwae_images=360, knn_k=5, knn_fit="train", seed=0)
    assert rec.metrics_column(done)[0]["source"] == "evaluate, 360 test images"


def test_pick_indices(gallery):
    rec = gallery[0]
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 50)
    elbo, mse = rng.random(50), rng.random(50)
    worst = rec.pick_indices(labels, elbo, mse, -1, 5, "worst_elbo", 0)
    assert list(worst) == list(np.argsort(-elbo)[:5])
    assert list(rec.pick_indices(labels, elbo, mse, -1, 5, "worst_mse", 0)) == list(np.argsort(-mse)[:5])
    one = rec.pick_indices(labels, elbo, mse, 2, 100, "random", 1)
    assert len(one) == (labels == 2).sum() and len(set(one)) == len(one) and (labels[one] == 2).all()
    assert list(rec.pick_indices(labels, elbo, mse, -1, 7, "random", 4)) == \
        list(rec.pick_indices(labels, elbo, mse, -1, 7, "random", 4))
    assert len(rec.pick_indices(labels, elbo, mse, 9, 5, "random", 0)) == 0


def test_side_by_side_and_grid_png(gallery):
    from pages._widgets import side_by_side

    rec = gallery[0]
    a, b = torch.zeros(1, 8, 8), torch.ones(1, 8, 8)
    row = side_by_side([a, b], size=80, gap=4)
    assert row.shape == (80, 164) and row[:, :80].max() == 0 and row[:, 84:].min() == 255
    x = torch.rand(5, 1, 8, 8)
    im = Image.open(io.BytesIO(rec.grid_png([x, x], per_row=3, scale=2)))
    assert im.size == (2 * (3 * 9 + 1), 2 * (4 * 9 + 1))  # 3 columns; 2 chunks x (originals, recons)


# -- Generate ---------------------------------------------------------------------------------------
def grid_url(at: AppTest) -> str:
    """The URL of the sample grid (the first image; media URLs name their content's hash)."""
    url = images(at)[0].value[0]
    assert images(at)[0].captions[0].endswith(tuple(f"shown ×{k}" for k in range(1, 65)))
    return url


def test_generate_temperature_and_seed_change_the_images():
    at = open_page("generate")
    base = grid_url(at)
    at.slider(key="gen_temp").set_value(0.5).run()
    cooler = grid_url(at)
    assert cooler != base
    at.number_input(key="gen_seed").set_value(3).run()
    assert grid_url(at) not in (base, cooler)
    at.slider(key="gen_temp").set_value(1.0).run()
    at.number_input(key="gen_seed").set_value(0).run()
    assert grid_url(at) == base  # seeded: the same settings give the same images
    at.button(key="gen_new_seed").click().run()
    assert at.number_input(key="gen_seed").value == 1


def test_generate_zero_temperature_and_count():
    at = open_page("generate", gen_count=4, gen_pick=3)
    assert images(at)[0].captions[0].startswith("4 samples")
    at.slider(key="gen_temp").set_value(0.0).run()
    assert any("z = 0" in i.value for i in at.info)
    at.number_input(key="gen_count").set_value(2).run()  # the picked sample (3) no longer exists
    assert_clean(at)
    assert at.number_input(key="gen_pick").value == 1


def test_generate_steer_sends_the_code_to_sliders():
    at = open_page("generate", gen_pick=2)
    at.button(key="gen_steer").click().run()
    assert_clean(at)
    expected = prior_samples(36, 8, temperature=1.0, seed=0)[2]  # checkpoints/digits: latent 8
    np.testing.assert_allclose(steered_code(at), np.clip(expected, -4, 4), atol=1e-6)


def test_generate_helpers(gallery):
    gen = gallery[1]
    z = np.arange(6, dtype=np.float32).reshape(3, 2) / 7
    rows = list(csv.reader(io.StringIO(gen.codes_csv(z, 0.5, 9))))
    assert rows[0] == ["sample", "temperature", "seed", "z0", "z1"]
    assert len(rows) == 4 and rows[2][:3] == ["1", "0.5", "9"]
    np.testing.assert_allclose(np.array([r[3:] for r in rows[1:]], float), z, rtol=1e-5)
    assert gen.grid_scale(6, 8) == 760 // 55
    assert gen.grid_scale(10, 500) == 1


# -- Your image ------------------------------------------------------------------------------------
def test_your_image_sample_needs_no_upload():
    at = open_page("your_image")
    caps = captions(at)
    assert caps[:3] == ["original: test-split image #0", "model input: 8×8, inverted",
                        "reconstruction (decoded μ)"]
    assert sum(" · d " in c for c in caps) == 8  # the nearest neighbours
    assert any("inverted" in c.value for c in at.caption)
    at.radio(key="img_invert").set_value("no").run()
    assert captions(at)[1] == "model input: 8×8"


def test_your_image_sample_of_a_light_background_model_is_not_swapped():
    """The colour emoji model's images are on white, as a scan is: its sample goes in as the data image, in
    colour, not turned dark and back (it was: 'inverted: dark background made light')."""
    at = open_page("your_image", ckpt="emoji")
    caps = captions(at)
    assert caps[:2] == ["original: test-split image #0", "model input: 32×32"], caps[:3]
    assert not any("inverted" in c.value for c in at.caption)


def test_your_image_drawing_sample():
    at = open_page("your_image", img_sample_kind="drawing", img_drawing="seven")
    assert captions(at)[0] == "original: a drawing of a seven"


def test_your_image_upload_and_steer():
    at = open_page("your_image")
    im = Image.new("L", (60, 90), 0)
    im.paste(255, (20, 10, 40, 80))  # a light bar on black: already like the data
    at.file_uploader(key="img_upload").set_value(("bar.png", png(im), "image/png")).run()
    assert_clean(at)
    assert captions(at)[0] == "original: your file bar.png"
    assert captions(at)[1] == "model input: 8×8"  # dark border: not inverted
    at.button(key="img_steer").click().run()
    assert_clean(at)
    code = steered_code(at)
    assert code.shape == (8,) and np.isfinite(code).all() and np.abs(code).max() > 0


@pytest.mark.parametrize("name, data", [
    ("junk.png", b"this is not an image"),
    ("empty.png", b""),
    ("cut.png", png(Image.new("RGB", (64, 64), (200, 10, 10)))[:60]),
], ids=["not-an-image", "empty", "truncated"])
def test_your_image_bad_upload_shows_an_error(name, data):
    at = open_page("your_image")
    at.file_uploader(key="img_upload").set_value((name, data, "image/png")).run()
    assert_app_ok(at)
    assert len(at.error) == 1 and at.error[0].value.startswith("Cannot use this upload: ")
    assert at.file_uploader(key="img_upload")  # the page is still there to upload another file
    at.file_uploader(key="img_upload").set_value(None).run()
    assert_clean(at)


@pytest.fixture(scope="module")
def digits_2d(tmp_path_factory, digits_data):
    """A checkpoints folder holding one tiny VAE with a 2-D latent space (a second to train)."""
    from vae.config import ModelConfig, TrainConfig
    from vae.training.trainer import Trainer

    root = tmp_path_factory.mktemp("two-d") / "checkpoints"
    mc = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(32,))
    tc = TrainConfig(dataset="digits", out=str(root / "d2"), epochs=2, batch_size=128, lr=3e-3, seed=0)
    Trainer(mc, tc, *digits_data).run()
    return root


def test_every_page_runs_with_a_2d_latent_space(digits_2d, monkeypatch):
    use_checkpoint_root(monkeypatch, digits_2d)
    at = open_page("your_image", "d2", map_method="latent")
    assert any("latent space is 2-D" in c.value for c in at.caption)
    for page in ("reconstructions", "generate"):
        switch(at, f"pages/{page}.py").run()
        assert_clean(at)
        assert images(at)


def test_your_image_on_the_fashion_mnist_2d_map():
    at = open_page("your_image", "fashion-mnist-2d", map_method="latent")
    assert any("latent space is 2-D" in c.value for c in at.caption)


def test_convert_and_encode_against_the_model(gallery, digits_checkpoint):
    from vae.checkpoint import load_checkpoint

    img = gallery[2]
    ck = load_checkpoint(digits_checkpoint)
    prep, err = img.convert(img.drawing("ring"), ck.config.image_shape, None, ck.data_background())
    assert err is None and prep.inverted and prep.tensor.shape == (1, 8, 8)  # digits: light on black
    prep, err = img.convert(img.drawing("ring"), ck.config.image_shape, None)
    assert err is None and not prep.inverted  # nothing known about the data: left as it is
    res = img.encode_image(ck.model, prep.tensor)
    mu, logvar = ck.model.encode(prep.tensor[None])
    np.testing.assert_allclose(res["mu"], mu[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(res["logvar"], logvar[0].numpy(), atol=1e-6)
    torch.testing.assert_close(res["recon_img"], torch.sigmoid(ck.model.decode(mu))[0])  # Bernoulli's mean
    assert res["neg_elbo"] == pytest.approx(res["recon"] + res["kl"])
    for bad in (b"", b"GIF89a", b"\x89PNG\r\n\x1a\n" + b"\0" * 40):
        prep, err = img.convert(bad, (1, 8, 8), None)
        assert prep is None and err.startswith("Cannot use this upload: ")


def test_neighbour_helpers_match_sklearn(gallery):
    from sklearn.neighbors import NearestNeighbors

    img = gallery[2]
    codes = np.random.default_rng(1).normal(size=(300, 5)).astype(np.float32)
    z = codes[17] + 0.01
    dist, idx = img.nearest_codes(codes, z, 8)
    ref_d, ref_i = NearestNeighbors(n_neighbors=8).fit(codes).kneighbors(z[None])
    assert list(idx) == list(ref_i[0])
    np.testing.assert_allclose(dist, ref_d[0], rtol=1e-5)
    d2, _ = NearestNeighbors(n_neighbors=2).fit(codes).kneighbors(codes)
    assert img.typical_nn_distance(codes, n=300) == pytest.approx(np.median(d2[:, 1]), rel=1e-4)


@pytest.mark.parametrize("shape", ["ring", "bar", "seven", "tshirt", "trousers"])
def test_drawings_are_dark_on_white(gallery, shape):
    img = gallery[2]
    im = Image.open(io.BytesIO(img.drawing(shape)))
    a = np.asarray(im)
    assert im.format == "PNG" and a[0, 0] == 255 and a.min() == 0
    data = img.sample_from_data(torch.zeros(1, 8, 8))  # a black data image becomes white paper
    assert np.asarray(Image.open(io.BytesIO(data))).min() == 255
