"""The shipped checkpoints: they load, say how they were trained, and meet the quality bar."""

from pathlib import Path

import pytest
import torch

from vae.checkpoint import load_checkpoint
from vae.data.cache import load_arrays
from vae.explore.sets import default_projection, encoding_key, projection_key

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["fashion-mnist", "fashion-mnist-2d", "fashion-mnist-beta4", "fashion-mnist-ae", "digits", "emoji"]
EXPECTED = {  # name: (dataset, latent_dim, beta)
    "fashion-mnist": ("fashion-mnist", 16, 1.0),
    "fashion-mnist-2d": ("fashion-mnist", 2, 1.0),
    "fashion-mnist-beta4": ("fashion-mnist", 16, 4.0),
    "fashion-mnist-ae": ("fashion-mnist", 16, 0.0),
    "digits": ("digits", 8, 1.0),
    "emoji": ("emoji", 16, 2.0),
}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_loads_and_describes_itself(name):
    path = ROOT / "checkpoints" / name
    ck = load_checkpoint(path)
    dataset, latent, beta = EXPECTED[name]
    assert (ck.dataset, ck.config.latent_dim, ck.config.beta) == (dataset, latent, beta)
    assert ck.meta["status"] == "complete"
    tr = ck.meta["training"]
    assert tr["command"].startswith("python -m vae train") and tr["device"] and tr["seconds"] > 0
    assert ck.meta["epochs_done"] == len(ck.history) >= 1
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 8e6, "checkpoints stay small"
    with torch.inference_mode():
        img = ck.model.decode_mean(torch.zeros(1, latent))
    assert img.shape[1:] == tuple(ck.config.image_shape) and torch.isfinite(img).all()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_is_evaluated_against_baselines(name):
    m = load_checkpoint(ROOT / "checkpoints" / name).metrics
    for key in ("neg_elbo", "recon", "kl", "iwae_nll", "iwae_k", "recon_mse", "knn_acc", "active_units",
                "latent_dim", "baselines"):
        assert key in m, f"{name}: metrics lack {key}; run python -m vae evaluate"
    assert m["iwae_nll"] <= m["neg_elbo"] + 0.5
    for key in ("pca_recon_mse", "pca_knn_acc", "pixel_knn_acc"):
        assert key in m["baselines"]


def test_default_model_meets_the_quality_bar():
    m = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist").metrics
    b = m["baselines"]
    assert m["n_images"] == 10_000 and m["iwae_k"] == 1000 and m["iwae_images"] == 1000
    assert m["knn_fit"] == "train"
    assert m["recon_mse"] <= 0.6 * b["pca_recon_mse"]
    assert m["knn_acc"] >= b["pixel_knn_acc"]
    assert m["iwae_nll"] <= 236.0


def test_the_autoencoder_is_the_default_model_with_beta_zero():
    ae = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist-ae")
    vae = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    same = {k: v for k, v in vae.config.to_dict().items() if k != "beta"}
    assert {k: v for k, v in ae.config.to_dict().items() if k != "beta"} == same and ae.config.beta == 0
    assert ae.meta["train_size"] == vae.meta["train_size"] == 60_000
    m_ae, m_vae = ae.metrics, vae.metrics
    assert m_ae["recon"] < m_vae["recon"] and m_ae["kl"] > 5 * m_vae["kl"], "no KL price: sharper codes, far from the prior"


def test_beta4_trades_reconstruction_for_a_smaller_kl():
    m1 = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist").metrics
    m4 = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist-beta4").metrics
    assert m4["kl"] < m1["kl"] and m4["recon"] > m1["recon"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_projection_makes_the_first_map_instant(name):
    ck = load_checkpoint(ROOT / "checkpoints" / name)
    n = ck.meta["test_size"]
    folder = ck.path / "projections"
    cfg = default_projection(ck)
    assert load_arrays(folder, encoding_key(ck, "test", n)) is not None
    coords = load_arrays(folder, projection_key(ck, "test", n, cfg))
    assert coords is not None and coords["coords"].shape == (n, 2)


def test_the_emoji_model_is_in_colour_and_beats_pca():
    ck = load_checkpoint(ROOT / "checkpoints" / "emoji")
    assert tuple(ck.config.image_shape) == (3, 32, 32)
    assert (ck.meta["train_size"], ck.meta["test_size"]) == (3210, 571)
    m = ck.metrics
    assert m["recon_mse"] <= 0.85 * m["baselines"]["pca_recon_mse"]
    assert m["knn_acc"] >= m["baselines"]["pixel_knn_acc"]
    data = ck.load_data("test", download=False)  # the split the repository ships
    with torch.inference_mode():
        recon = ck.model.decode_mean(ck.model.encode(data.images)[0])
    # each reconstruction keeps its original's colours: the images' mean R, G and B go together
    ours, theirs = recon.mean((2, 3)), data.images.mean((2, 3))
    for c in range(3):
        assert torch.corrcoef(torch.stack([ours[:, c], theirs[:, c]]))[0, 1] > 0.95, "RGB channel " + "RGB"[c]
    # and it is not grey: as many pixels are coloured (channels 0.1 apart) as in the originals, give or take
    coloured = lambda x: ((x.amax(1) - x.amin(1)) > 0.1).float().mean()  # noqa: E731
    assert coloured(recon) >= 0.8 * coloured(data.images)
