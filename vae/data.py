"""Datasets: one registry, images as float tensors in [0, 1] of shape (N, C, H, W).

``load_dataset(name, split)`` returns an :class:`ImageDataset` with integer labels and
class names. Names: ``fashion-mnist`` (default), ``mnist``, ``kmnist`` (IDX files),
``digits`` (scikit-learn's 8x8 digits, offline) and ``folder:PATH`` (your own images,
one sub-folder per class).

IDX files are searched, in order, in ``data_dir`` (or ``$VAE_DATA_DIR``), the project's
``data/`` folder, Debian's ``/usr/share/datasets/<name>/``, and finally downloaded by
torchvision when the network allows.
"""

from __future__ import annotations

import difflib
import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

PROJECT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEBIAN_DATA_DIR = Path("/usr/share/datasets")
DOWNLOAD_DIR = Path(os.environ.get("VAE_CACHE_DIR", Path.home() / ".cache" / "vae-explorer"))
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
KMNIST_CLASSES = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
DIGIT_CLASSES = [str(i) for i in range(10)]


class DataError(RuntimeError):
    """A dataset cannot be found or read; the message says how to get it."""


@dataclass(frozen=True)
class IdxSpec:
    """An IDX-format dataset (the MNIST family)."""

    name: str
    classes: list[str]
    torchvision_class: str  # torchvision.datasets class that can download it
    description: str


IDX_DATASETS: dict[str, IdxSpec] = {
    "fashion-mnist": IdxSpec(
        "fashion-mnist", FASHION_CLASSES, "FashionMNIST", "Zalando's 28x28 clothing images"
    ),
    "mnist": IdxSpec("mnist", DIGIT_CLASSES, "MNIST", "handwritten digits, 28x28"),
    "kmnist": IdxSpec("kmnist", KMNIST_CLASSES, "KMNIST", "Kuzushiji (cursive Japanese), 28x28"),
}

#: Every dataset name and a one-line description (``folder:PATH`` is open-ended).
DATASETS: dict[str, str] = {
    **{k: v.description for k, v in IDX_DATASETS.items()},
    "digits": "scikit-learn's 8x8 handwritten digits (offline, 1,797 images)",
    "folder:PATH": "your own images, one sub-folder per class (ImageFolder layout)",
}

SPLIT_PREFIX = {"train": "train", "test": "t10k"}


@dataclass
class ImageDataset:
    """Images (N, C, H, W) float32 in [0, 1], labels (N,) int64, and what they mean."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    source: str = ""  # where the files came from (shown to users)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, n: int | None) -> ImageDataset:
        """The first ``n`` images (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        return ImageDataset(
            self.name, self.split, self.images[:n], self.labels[:n], self.class_names, self.source
        )


# -- IDX -----------------------------------------------------------------------------------
def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a NumPy array of its stored dtype and shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read IDX file {path}: {e}") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    code, ndim = raw[2], raw[3]
    if code not in dtypes:
        raise DataError(f"{path}: unknown IDX data type 0x{code:02x}")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(dtypes[code])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        raise DataError(
            f"{path}: IDX header says {shape} ({expected} bytes) but the file holds {len(body)}; "
            "the file is truncated or corrupted, download it again"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_file(folder: Path, prefix: str, kind: str) -> Path | None:
    stem = f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _candidate_dirs(spec: IdxSpec, data_dir: str | Path | None) -> list[Path]:
    dirs: list[Path] = []
    user = data_dir or os.environ.get("VAE_DATA_DIR")
    bases = []
    if user:
        bases.append(Path(user).expanduser())
    bases += [PROJECT_DATA_DIR, DEBIAN_DATA_DIR, DOWNLOAD_DIR]
    for base in bases:
        dirs += [
            base,
            base / spec.name,
            base / spec.torchvision_class / "raw",
            base / spec.name / spec.torchvision_class / "raw",
        ]
    return dirs


def find_idx(spec: IdxSpec, split: str, data_dir: str | Path | None = None):
    """Paths (images, labels) of a split, or None when no searched folder has both."""
    prefix = SPLIT_PREFIX[split]
    for d in _candidate_dirs(spec, data_dir):
        imgs, labels = _idx_file(d, prefix, "images"), _idx_file(d, prefix, "labels")
        if imgs and labels:
            return imgs, labels
    return None


def _download(spec: IdxSpec, split: str) -> None:
    """Let torchvision download the dataset into DOWNLOAD_DIR (raises DataError offline)."""
    try:
        import torchvision.datasets as tvd

        cls = getattr(tvd, spec.torchvision_class)
        cls(root=str(DOWNLOAD_DIR), train=(split == "train"), download=True)
    except Exception as e:  # network errors come in many types
        why = " ".join(str(e).split())  # torchvision's messages span several lines
        raise DataError(
            f"the {split} split of {spec.name} is not on this machine and downloading it failed "
            f"({type(e).__name__}: {why[:160]}). Get the IDX files ({SPLIT_PREFIX[split]}-images-"
            f"idx3-ubyte.gz, {SPLIT_PREFIX[split]}-labels-idx1-ubyte.gz) into data/{spec.name}/ or "
            f"pass --data-dir (the app reads $VAE_DATA_DIR); on Debian: apt install dataset-{spec.name}"
        ) from e


def _load_idx_dataset(spec: IdxSpec, split: str, data_dir, download: bool) -> ImageDataset:
    found = find_idx(spec, split, data_dir)
    if found is None and download:
        _download(spec, split)
        found = find_idx(spec, split, data_dir)
    if found is None:
        where = ", ".join(str(p) for p in [data_dir or "$VAE_DATA_DIR", PROJECT_DATA_DIR / spec.name,
                                           DEBIAN_DATA_DIR / spec.name, DOWNLOAD_DIR])
        raise DataError(
            f"the {split} split of {spec.name} was not found (looked in {where}); "
            f"run `make data` or `python -m vae data --fetch {spec.name}`, pass --data-dir, "
            f"or on Debian: apt install dataset-{spec.name}"
        )
    img_path, lbl_path = found
    images = read_idx(img_path)
    labels = read_idx(lbl_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{img_path} and {lbl_path} do not match: {images.shape} images, {labels.shape} labels"
        )
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return ImageDataset(spec.name, split, x, y, list(spec.classes), str(img_path.parent))


# -- digits ---------------------------------------------------------------------------------
DIGITS_TEST_SIZE = 360


def _load_digits(split: str) -> ImageDataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)  # (1797, 1, 8, 8)
    labels = torch.from_numpy(d.target.astype(np.int64))
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    idx = perm[DIGITS_TEST_SIZE:] if split == "train" else perm[:DIGITS_TEST_SIZE]
    return ImageDataset("digits", split, images[idx], labels[idx], list(DIGIT_CLASSES), "scikit-learn")


# -- folder:PATH ----------------------------------------------------------------------------
def _load_image_file(path: Path, size: int, channels: int) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            im = im.convert("L" if channels == 1 else "RGB")
            im = im.resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except Exception as e:
        raise DataError(f"cannot read image {path}: {e}") from e
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def _load_folder(root: Path, split: str, image_size: int, channels: int) -> ImageDataset:
    if not root.is_dir():
        raise DataError(f"folder dataset {root} does not exist or is not a folder")
    split_root = root / split if (root / "train").is_dir() and (root / "test").is_dir() else root
    classes = sorted(p.name for p in split_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(
            f"{split_root} has no class sub-folders; put images in {split_root}/<class name>/*.png"
        )
    files: list[tuple[Path, int]] = []
    for i, c in enumerate(classes):
        for p in sorted((split_root / c).rglob("*")):
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
                files.append((p, i))
    if not files:
        raise DataError(
            f"no images ({', '.join(IMAGE_SUFFIXES)}) found under {split_root}/<class>/"
        )
    if split_root == root:  # no train/test folders: a fixed, seeded 85/15 split
        perm = np.random.default_rng(0).permutation(len(files))
        n_test = max(1, len(files) * 15 // 100) if len(files) > 1 else 0
        chosen = perm[:n_test] if split == "test" else perm[n_test:]
        if len(chosen) == 0:
            chosen = perm
        files = [files[i] for i in sorted(chosen)]
    arrays = [_load_image_file(p, image_size, channels) for p, _ in files]
    x = torch.from_numpy(np.stack(arrays))
    y = torch.tensor([label for _, label in files], dtype=torch.long)
    return ImageDataset(f"folder:{root}", split, x, y, classes, str(root))


# -- the registry ---------------------------------------------------------------------------
def dataset_names() -> list[str]:
    return list(DATASETS)


def check_dataset_name(name: str) -> str:
    """Return ``name`` if it names a dataset, else raise DataError with a suggestion."""
    if name in IDX_DATASETS or name == "digits" or name.startswith("folder:"):
        return name
    choices = [*IDX_DATASETS, "digits"]
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise DataError(
        f"unknown dataset {name!r}{hint} Known: {', '.join(choices)}, or folder:PATH for your own images"
    )


def load_dataset(
    name: str = "fashion-mnist",
    split: str = "train",
    data_dir: str | Path | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    download: bool = True,
) -> ImageDataset:
    """Load one split ("train" or "test") of a dataset as an :class:`ImageDataset`."""
    if split not in SPLIT_PREFIX:
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    check_dataset_name(name)
    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        raise DataError(f"data directory {str(data_dir)!r} does not exist or is not a folder; "
                        "pass the folder that holds the dataset's files, or leave --data-dir out")
    if name in IDX_DATASETS:
        return _load_idx_dataset(IDX_DATASETS[name], split, data_dir, download)
    if name == "digits":
        return _load_digits(split)
    path = Path(name.split(":", 1)[1]).expanduser()
    return _load_folder(path, split, image_size or 28, channels or 1)


def dataset_available(name: str, split: str = "test", data_dir: str | Path | None = None) -> bool:
    """True when the split can be loaded without a download."""
    if name in IDX_DATASETS:
        return find_idx(IDX_DATASETS[name], split, data_dir) is not None
    if name == "digits":
        return True
    if name.startswith("folder:"):
        return Path(name.split(":", 1)[1]).expanduser().is_dir()
    return False
