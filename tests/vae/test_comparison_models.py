"""The comparison models (vae.baselines.gan, vae.baselines.classifier): building, training, saving, strict loading, the CLI,
and the shipped ones in models/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cli
from safetensors.torch import load_file, save_file

from vae.baselines.classifier import (
    ClassifierConfig,
    ClassifierTrainConfig,
    ClassifierTrainer,
    load_classifier,
)
from vae.baselines.compare import class_coverage
from vae.baselines.gan import Discriminator, GanConfig, GanTrainConfig, GanTrainer, Generator, load_generator
from vae.checkpoint import load_checkpoint
from vae.errors import CheckpointError, ConfigError

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
SHIPPED_GAN, SHIPPED_CLASSIFIER = MODELS / "fashion-mnist-gan", MODELS / "fashion-mnist-classifier"


@pytest.fixture(scope="module")
def digits():
    from vae.data.datasets import load_dataset

    return load_dataset("digits", "train"), load_dataset("digits", "test")


@pytest.fixture(scope="module")
def tiny_gan(tmp_path_factory, digits):
    out = tmp_path_factory.mktemp("gan") / "digits-gan"
    cfg = GanConfig(image_shape=(1, 8, 8), noise_dim=8, channels=(16, 32))
    GanTrainer(cfg, GanTrainConfig(dataset="digits", out=str(out), epochs=2, batch_size=64, limit=512),
               digits[0], command="test").run()
    return out


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory, digits):
    out = tmp_path_factory.mktemp("clf") / "digits-classifier"
    cfg = ClassifierConfig(image_shape=(1, 8, 8), channels=(16,), feature_dim=32)
    ClassifierTrainer(cfg, ClassifierTrainConfig(dataset="digits", out=str(out), epochs=8, lr=3e-3),
                      *digits, command="test").run()
    return out


def test_generator_and_discriminator_shapes():
    cfg = GanConfig()
    g, d = Generator(cfg).eval(), Discriminator(cfg)
    x = g.sample(5, seed=1)
    assert x.shape == (5, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert torch.equal(x, g.sample(5, seed=1)) and not torch.equal(x, g.sample(5, seed=2))
    assert d(x * 2 - 1).shape == (5,)


@pytest.mark.parametrize("kw, match", [
    (dict(noise_dim=0), "noise_dim"), (dict(channels=()), "channels"),
    (dict(image_shape=(1, 28, 28), channels=(8, 16, 32)), "divisible by 8"), (dict(image_shape=(2, 8, 8)), "image_shape"),
])
def test_gan_config_rules(kw, match):
    with pytest.raises(ConfigError, match=match):
        GanConfig(**kw).validate()


@pytest.mark.parametrize("kw, match", [
    (dict(n_classes=1), "n_classes"), (dict(channels=(8, 8, 8)), "divisible by 8"), (dict(feature_dim=1), "feature_dim"),
])
def test_classifier_config_rules(kw, match):
    with pytest.raises(ConfigError, match=match):
        ClassifierConfig(**kw).validate()


def test_trained_gan_saves_loads_strictly_and_describes_itself(tiny_gan):
    gan = load_generator(tiny_gan)
    assert not gan.model.training and not any(p.requires_grad for p in gan.model.parameters())
    assert json.loads((tiny_gan / "config.json").read_text())["kind"] == "gan-generator"
    m = gan.meta
    assert m["status"] == "complete" and m["epochs_done"] == 2 and len(m["history"]) == 2
    assert m["training"]["command"] == "test" and m["training"]["seconds"] > 0
    assert {"d_loss", "g_loss", "d_real", "d_fake", "images_per_s"} <= set(m["history"][-1])
    assert gan.model.sample(3).shape == (3, 1, 8, 8)


def test_gan_training_is_reproducible(tmp_path, digits):
    cfg = GanConfig(image_shape=(1, 8, 8), noise_dim=4, channels=(8,))
    states = []
    for run in ("a", "b"):
        out = tmp_path / run
        GanTrainer(cfg, GanTrainConfig(dataset="digits", out=str(out), epochs=1, batch_size=32, limit=128),
                   digits[0]).run()
        states.append(load_file(str(out / "model.safetensors")))
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_classifier_learns_digits_and_reports_test_accuracy(tiny_classifier, digits):
    clf = load_classifier(tiny_classifier)
    acc = float((clf.model.predict(digits[1].images) == digits[1].labels.numpy()).mean())
    assert acc > 0.8 and acc == pytest.approx(clf.meta["test_acc"])
    feats, probs = clf.model.embed(digits[1].images[:7])
    assert feats.shape == (7, 32) and probs.shape == (7, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_loading_is_strict(tmp_path, tiny_gan, tiny_classifier):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_gan, broken)
    state = load_file(str(broken / "model.safetensors"))
    state.pop(next(iter(state)))
    save_file(state, str(broken / "model.safetensors"))
    with pytest.raises(CheckpointError, match="missing"):
        load_generator(broken)
    with pytest.raises(CheckpointError, match="holds a classifier, not a gan-generator"):
        load_generator(tiny_classifier)
    with pytest.raises(CheckpointError, match="holds a gan-generator, not a VAE.*models/"):
        load_checkpoint(tiny_gan)
    with pytest.raises(CheckpointError, match="holds a VAE, not a classifier"):
        load_classifier(ROOT / "checkpoints" / "digits")


def test_a_comparison_model_among_the_checkpoints_is_listed_with_the_reason(tmp_path, tiny_gan):
    from vae.checkpoint import list_checkpoints

    shutil.copytree(ROOT / "checkpoints" / "digits", tmp_path / "digits")
    shutil.copytree(tiny_gan, tmp_path / "a-gan")
    entries = {e.name: e for e in list_checkpoints(tmp_path)}
    assert entries["digits"].error is None
    assert "holds a gan-generator, not a VAE" in entries["a-gan"].error and "models/" in entries["a-gan"].error
    shipped = [e.name for e in list_checkpoints(ROOT / "checkpoints")]
    assert not any(e.error for e in list_checkpoints(ROOT / "checkpoints")), shipped


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_cli_trains_both_models(tmp_path):
    r = run_cli("train-gan", "--dataset", "digits", "--epochs", "1", "--limit", "128", "--batch-size", "32",
                "--channels", "8", "--noise-dim", "4", "--no-progress", "--half", "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    assert "D loss" in r.stderr and "complete" in r.stdout
    gan = load_generator(tmp_path / "g")
    assert gan.meta["training"]["command"].startswith("python -m vae train-gan --dataset digits")
    assert load_file(str(tmp_path / "g" / "model.safetensors"))["net.0.weight"].dtype == torch.float16
    r = run_cli("train-classifier", "--dataset", "digits", "--epochs", "1", "--channels", "8", "--feature-dim", "8",
                "--no-progress", "--out", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stderr
    assert load_classifier(tmp_path / "c").config.feature_dim == 8


def test_cli_compare_measures_both_models(tiny_gan, tiny_classifier, capsys):
    r = cli(capsys, "compare", "checkpoints/digits", "--gan", str(tiny_gan), "--classifier", str(tiny_classifier),
            "--n", "200", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["n"] == 200 and report["classifier_test_acc"] > 0.8
    assert set(report["sets"]) == {"test images", "VAE samples", "VAE reconstructions", "GAN samples"}
    assert all(sum(v["counts"]) == 200 for v in report["sets"].values())
    assert report["training_seconds"]["VAE"] > 0 and report["training_seconds"]["GAN"] > 0
    text = cli(capsys, "compare", "checkpoints/digits", "--gan", str(tiny_gan), "--classifier", str(tiny_classifier),
               "--n", "200")
    assert text.returncode == 0 and "GAN samples" in text.stdout and "Fréchet" in text.stdout


def test_comparison_reports_are_shipped_then_cached_then_measured(tmp_path, monkeypatch, tiny_gan, tiny_classifier):
    import vae.baselines.compare as compare
    from vae.data.datasets import load_dataset

    ck = load_checkpoint(ROOT / "checkpoints" / "digits")
    gan_dir = tmp_path / "gan"
    shutil.copytree(tiny_gan, gan_dir)
    gan, clf = load_generator(gan_dir), load_classifier(tiny_classifier)
    real, cache = load_dataset("digits", "test").images, tmp_path / "cache"
    first = compare.cached_comparison(ck, gan, clf, real, cache, n=100)
    assert len(list(cache.glob("cmp-*.json"))) == 1

    def no_measuring(*a, **k):
        raise AssertionError("measured again instead of reading the stored report")

    monkeypatch.setattr(compare, "compare_generators", no_measuring)
    assert compare.cached_comparison(ck, gan, clf, real, cache, n=100) == first
    key = compare.comparison_key(ck.content_hash, gan.content_hash, clf.content_hash, 100, 0)
    compare.save_comparison(gan_dir / compare.SHIPPED_COMPARISONS, key, {**first, "n": -1})  # shipped wins
    assert compare.cached_comparison(ck, gan, clf, real, tmp_path / "empty", n=100)["n"] == -1
    (gan_dir / compare.SHIPPED_COMPARISONS / f"{key}.json").write_text("{not json")  # unreadable: falls back
    assert compare.cached_comparison(ck, gan, clf, real, cache, n=100) == first
    with pytest.raises(AssertionError, match="measured again"):  # another n is another report
        compare.cached_comparison(ck, gan, clf, real, cache, n=50)


def test_cli_compare_save_ships_the_report_in_the_gan_folder(tmp_path, tiny_gan, tiny_classifier, capsys):
    gan_dir = tmp_path / "gan"
    shutil.copytree(tiny_gan, gan_dir)
    r = cli(capsys, "compare", "checkpoints/digits", "--gan", str(gan_dir), "--classifier", str(tiny_classifier),
            "--n", "100", "--save")
    assert r.returncode == 0, r.stderr
    [saved] = (gan_dir / "comparisons").glob("cmp-*-n100-s0.json")
    assert json.loads(saved.read_text())["report"]["n"] == 100
    load_generator(gan_dir)  # the extra folder does not upset strict loading


@pytest.mark.parametrize("args, match", [
    (["compare", "checkpoints/digits", "--gan", "/nonexistent"], "does not exist"),
    (["train-gan", "--epochs", "0", "--out", "x"], "--epochs must be >= 1"),
    (["train-classifier", "--dataset", "fashion", "--out", "x"], "unknown dataset 'fashion'"),
    (["train-gan", "--dataset", "digits", "--out", "checkpoints"], "already exists"),
])
def test_cli_errors_are_one_line(args, match, capsys):
    r = cli(capsys, *args)
    assert r.returncode == 2 and match in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


# -- the shipped comparison models --------------------------------------------------------------
def need(path: Path) -> None:
    if not (path / "model.safetensors").is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not there")


@pytest.mark.parametrize("path, loader, command", [
    (SHIPPED_GAN, load_generator, "python -m vae train-gan"),
    (SHIPPED_CLASSIFIER, load_classifier, "python -m vae train-classifier"),
])
def test_shipped_comparison_models_load_strictly_and_say_how_they_were_trained(path, loader, command):
    need(path)
    m = loader(path)
    assert m.meta["dataset"] == "fashion-mnist" and m.meta["status"] == "complete"
    tr = m.meta["training"]
    assert tr["command"].startswith(command) and tr["seconds"] > 0 and tr["device"]
    assert m.meta["epochs_done"] == len(m.meta["history"]) >= 1
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 4e6, "a few MB at most"
    weights = load_file(str(path / "model.safetensors"))
    assert all(v.dtype == torch.float16 for v in weights.values() if v.is_floating_point())


def test_shipped_classifier_accuracy_on_the_shipped_test_split():
    need(SHIPPED_CLASSIFIER)
    from vae.data.datasets import load_dataset

    test = load_dataset("fashion-mnist", "test")
    clf = load_classifier(SHIPPED_CLASSIFIER)
    acc = float((clf.model.predict(test.images) == test.labels.numpy()).mean())
    assert acc >= 0.88, acc
    assert acc == pytest.approx(clf.meta["test_acc"], abs=0.003)  # float16 weights vs the float32 ones it measured


def test_shipped_gan_covers_every_class():
    need(SHIPPED_GAN)
    need(SHIPPED_CLASSIFIER)
    gan, clf = load_generator(SHIPPED_GAN), load_classifier(SHIPPED_CLASSIFIER)
    cov = class_coverage(clf.model.embed(gan.model.sample(2000, seed=0))[1])
    assert cov["min_share"] > 0.02 and cov["entropy_bits"] > 3.0, cov
