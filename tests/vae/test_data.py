"""Datasets: the IDX reader against known Fashion-MNIST facts, digits, folders, errors."""


import numpy as np
import pytest
import torch
from conftest import ROOT, write_idx
from PIL import Image

from vae.data.datasets import (
    IDX_DATASETS,
    PROJECT_DATA_DIR,
    dataset_available,
    find_idx,
    load_dataset,
    read_idx,
)
from vae.errors import DataError


def test_shipped_fashion_mnist_test_split_facts():
    ds = load_dataset("fashion-mnist", "test", download=False)
    assert ds.images.shape == (10000, 1, 28, 28)
    assert ds.images.dtype == torch.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    assert torch.bincount(ds.labels).tolist() == [1000] * 10
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    # the first test image of Fashion-MNIST is an ankle boot (label 9)
    assert ds.labels[0].item() == 9
    assert (PROJECT_DATA_DIR / "fashion-mnist" / "LICENSE").is_file()


def test_fashion_mnist_train_split_facts():
    if not dataset_available("fashion-mnist", "train"):
        pytest.skip("Fashion-MNIST train split not on this machine (make data fetches it)")
    ds = load_dataset("fashion-mnist", "train", download=False)
    assert ds.images.shape == (60000, 1, 28, 28)
    assert torch.bincount(ds.labels).tolist() == [6000] * 10


@pytest.mark.parametrize("gz", [True, False])
def test_idx_reader_round_trip(tmp_path, gz):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / ("x.idx.gz" if gz else "x.idx")
    write_idx(p, arr, gz)
    assert np.array_equal(read_idx(p), arr)


def test_idx_reader_rejects_truncated_and_garbage(tmp_path):
    arr = np.zeros((5, 4, 4), dtype=np.uint8)
    p = tmp_path / "t.idx"
    write_idx(p, arr, False)
    p.write_bytes(p.read_bytes()[:-7])
    with pytest.raises(DataError, match="truncated or corrupted"):
        read_idx(p)
    q = tmp_path / "g.idx"
    q.write_bytes(b"hello world")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(q)


def test_data_dir_is_searched_first(tmp_path, monkeypatch):
    imgs = (np.random.default_rng(0).random((6, 28, 28)) * 255).astype(np.uint8)
    labels = np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs, False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, False)
    ds = load_dataset("mnist", "test", data_dir=tmp_path, download=False)
    assert ds.images.shape == (6, 1, 28, 28) and ds.labels.tolist() == labels.tolist()
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    assert find_idx(IDX_DATASETS["kmnist"], "test")[0].parent == tmp_path


def test_missing_dataset_gives_one_clear_error(tmp_path, monkeypatch):
    import vae.data.datasets as data

    monkeypatch.setattr(data, "DOWNLOAD_DIR", tmp_path / "none")
    monkeypatch.setattr(data, "DEBIAN_DATA_DIR", tmp_path / "none")
    with pytest.raises(DataError, match="kmnist was not found .*make data"):
        load_dataset("kmnist", "test", data_dir=tmp_path, download=False)


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(DataError, match="did you mean 'fashion-mnist'"):
        load_dataset("fashion_mnist")
    with pytest.raises(DataError, match="split must be 'train' or 'test'"):
        load_dataset("digits", "valid")


def test_digits_are_scikit_learns_without_importing_it():
    """Read from scikit-learn's CSV directly (no 2 s import of scikit-learn): the same arrays as its loader."""
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    from vae.data.datasets import _digits_arrays

    images, target = _digits_arrays()
    ref = load_digits()
    assert images.shape == (1797, 8, 8) and np.array_equal(images, ref.images)
    assert target.dtype == np.int64 and np.array_equal(target, ref.target)
    code = "import sys, vae.data.datasets as d; d.load_dataset('digits', 'test'); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stdout + out.stderr[-2000:]


def test_digits_splits_are_disjoint_and_in_range():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert tr.images.shape[1:] == (1, 8, 8) and len(tr) + len(te) == 1797 and len(te) == 360
    assert tr.images.max() <= 1.0 and tr.images.min() >= 0.0
    assert set(te.labels.tolist()) == set(range(10))


def _make_folder(root, sizes_modes):
    for cls, items in sizes_modes.items():
        (root / cls).mkdir(parents=True)
        for i, (size, mode) in enumerate(items):
            color = 200 if mode == "L" else (10, 200, 30) if mode == "RGB" else (250, 0, 0, 128)
            Image.new(mode, size, color).save(root / cls / f"{i}.png")


def test_folder_dataset_mixed_sizes_and_modes(tmp_path):
    _make_folder(tmp_path, {
        "cats": [((40, 30), "RGB"), ((12, 12), "L"), ((64, 64), "RGBA")] * 3,
        "dogs": [((28, 28), "L"), ((100, 20), "RGB")] * 3,
    })
    tr = load_dataset(f"folder:{tmp_path}", "train", image_size=16, channels=1)
    te = load_dataset(f"folder:{tmp_path}", "test", image_size=16, channels=1)
    assert tr.class_names == ["cats", "dogs"]
    assert tr.images.shape[1:] == (1, 16, 16) and len(tr) + len(te) == 15 and len(te) >= 1
    rgb = load_dataset(f"folder:{tmp_path}", "train", image_size=8, channels=3)
    assert rgb.images.shape[1:] == (3, 8, 8)


def test_folder_dataset_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(DataError, match="no class sub-folders"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="no images"):
        load_dataset(f"folder:{tmp_path}")
