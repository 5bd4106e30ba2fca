"""Datasets: one registry, images as float tensors in [0, 1] of shape (N, C, H, W).

``load_dataset(name, split)`` returns an :class:`ImageDataset` with integer labels and
class names. Names: ``fashion-mnist`` (default), ``mnist``, ``kmnist`` (IDX files),
``digits`` (scikit-learn's 8x8 digits, offline), ``emoji`` (Google's Noto emoji in colour,
32x32 or 64x64 RGB, from the npm registry: vae.data.emoji) and ``folder:PATH`` (your own images,
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..i18n import N_

PROJECT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEBIAN_DATA_DIR = Path("/usr/share/datasets")
DOWNLOAD_DIR = Path(os.environ.get("VAE_CACHE_DIR", Path.home() / ".cache" / "vae-explorer"))
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

FASHION_CLASSES = [  # N_: the app shows them translated (pages/_i18n.py)
    N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
    N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"),
]  # fmt: skip
KMNIST_CLASSES = [N_("o"), N_("ki"), N_("su"), N_("tsu"), N_("na"), N_("ha"), N_("ma"), N_("ya"), N_("re"), N_("wo")]
DIGIT_CLASSES = [str(i) for i in range(10)]


@dataclass(frozen=True)
class IdxSpec:
    """An IDX-format dataset (the MNIST family)."""

    name: str
    classes: list[str]
    torchvision_class: str  # torchvision.datasets class that can download it
    description: str


IDX_DATASETS: dict[str, IdxSpec] = {
    "fashion-mnist": IdxSpec(
        "fashion-mnist", FASHION_CLASSES, "FashionMNIST", N_("Zalando's 28x28 clothing images")
    ),
    "mnist": IdxSpec("mnist", DIGIT_CLASSES, "MNIST", N_("handwritten digits, 28x28")),
    "kmnist": IdxSpec("kmnist", KMNIST_CLASSES, "KMNIST", N_("Kuzushiji (cursive Japanese), 28x28")),
}

#: Every dataset name and a one-line description (``folder:PATH`` is open-ended).
DATASETS: dict[str, str] = {
    **{k: v.description for k, v in IDX_DATASETS.items()},
    "digits": N_("scikit-learn's 8x8 handwritten digits (offline; 1,797 images: 1,437 train, 360 test)"),
    "emoji": N_("Google's Noto emoji in colour, 32x32 RGB, 9 categories (3,781 images with skin-tone variants: "
                "3,210 train, 571 test; the train split downloads 74 MB from npm)"),
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
    notes: list[str] = field(default_factory=list)  # how it was read (inferred size, channels), a sentence each
    warnings: list[str] = field(default_factory=list)  # odd data (one class, squashed images), a sentence each
    files: list[str] = field(default_factory=list)  # each image's file, relative to its folder (folder data sets; else empty)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, n: int | None) -> ImageDataset:
        """The first ``n`` images (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        return ImageDataset(self.name, self.split, self.images[:n], self.labels[:n], self.class_names,
                            self.source, self.notes, self.warnings, self.files[:n])


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


def _digits_csv() -> Path | None:
    """scikit-learn's own copy of the digits (``sklearn/datasets/data/digits.csv.gz``), found without
    importing scikit-learn: that import takes about 2 s of CPU, which ``vae train --dataset digits``
    would otherwise pay before its first batch."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    return None


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits (8 x 8, values 0-16) and their labels, as ``sklearn.datasets.load_digits``
    reads them (its CSV: 64 pixels, then the label, a row each)."""
    path = _digits_csv()
    if path is None:  # another layout of scikit-learn: its loader
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.images, d.target
    data = np.loadtxt(path, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(np.int64)


def _load_digits(split: str) -> ImageDataset:
    pixels, target = _digits_arrays()
    images = torch.from_numpy(pixels.astype(np.float32) / 16.0).unsqueeze(1)  # (1797, 1, 8, 8)
    labels = torch.from_numpy(target.astype(np.int64))
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    idx = perm[DIGITS_TEST_SIZE:] if split == "train" else perm[:DIGITS_TEST_SIZE]
    return ImageDataset("digits", split, images[idx], labels[idx], list(DIGIT_CLASSES), "scikit-learn")


# -- emoji ----------------------------------------------------------------------------------------
def _load_emoji(split: str, image_size: int | None, download: bool) -> ImageDataset:
    from . import emoji

    arrays, path = emoji.emoji_arrays(split, image_size, DOWNLOAD_DIR, PROJECT_DATA_DIR, download)
    x = torch.from_numpy(arrays["images"].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
    y = torch.from_numpy(arrays["labels"].astype(np.int64))
    return ImageDataset("emoji", split, x, y, list(emoji.CATEGORIES), str(path.parent),
                        files=[str(n) for n in arrays["names"]])


# -- folder:PATH ----------------------------------------------------------------------------
DEFAULT_IMAGE_SIZE = 28  # a folder's images are resized to this when their sizes differ
MAX_INFERRED_SIZE = 256  # larger images are resized to DEFAULT_IMAGE_SIZE unless --image-size says otherwise
COLOUR_LEVELS = 16  # a pixel is coloured when its channels differ by more than this (of 255): JPEG noise is less
COLOUR_FRACTION = 0.005  # an image is in colour when more than this fraction of its pixels are


def _split_root(root: Path, split: str) -> Path:
    return root / split if (root / "train").is_dir() and (root / "test").is_dir() else root


def _class_files(split_root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names (sorted sub-folders) and (file, label) pairs of one split's images."""
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
    return classes, files


def _is_colour(path: Path) -> bool:
    """True when the picture has visibly coloured pixels (a grey picture saved as RGB has none)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode in ("1", "L", "LA", "I", "I;16", "F"):
                return False
            a = np.asarray(im.convert("RGB"), dtype=np.int16)
    except Exception as e:
        raise DataError(f"cannot read image {path}: {e}") from e
    spread = a.max(axis=2) - a.min(axis=2)  # (H, W): 0 for a grey pixel
    return bool((spread > COLOUR_LEVELS).mean() > COLOUR_FRACTION)


@dataclass
class FolderInfo:
    """What a folder of images holds (both splits), and the size and channels it is loaded at."""

    root: Path
    classes: list[str]
    n_images: int
    image_size: int  # square side the images are resized to
    channels: int  # 1 (grayscale) or 3 (RGB)
    colour: bool | None  # whether any image is in colour (None: not checked, --channels 3 was given)
    inferred: list[str]  # which of "image_size", "channels" were read off the images
    notes: list[str]  # what was inferred, one sentence each
    warnings: list[str]  # odd data, one sentence each


def inspect_folder(root: str | Path, image_size: int | None = None, channels: int | None = None) -> FolderInfo:
    """Look at every image of a folder dataset (both splits): its sizes and whether it is in colour.

    Size and channels not given are inferred: the images' common square size (when they all
    have one, up to MAX_INFERRED_SIZE; else DEFAULT_IMAGE_SIZE), and RGB when any image is in
    colour. Odd data gives one warning sentence each: a single class, images that are not
    square (they get squashed), colour images made grayscale by ``channels=1``.
    """
    from PIL import Image

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"folder dataset {root} does not exist or is not a folder")
    roots = ([_split_root(root, s) for s in SPLIT_PREFIX] if _split_root(root, "train") != root else [root])
    classes, files = [], []
    for r in roots:
        cls, f = _class_files(r)
        classes = classes or cls
        files += [p for p, _ in f]
    sizes: dict[tuple[int, int], list[Path]] = {}
    for p in files:
        try:
            with Image.open(p) as im:
                sizes.setdefault(im.size, []).append(p)
        except Exception as e:
            raise DataError(f"cannot read image {p}: {e}") from e
    inferred, notes, warnings = [], [], []
    colour = None if channels == 3 else next((p for p in files if _is_colour(p)), None) is not None
    if channels is None:
        channels = 3 if colour else 1
        inferred.append("channels")
    if image_size is None:
        inferred.append("image_size")
        common = next(iter(sizes)) if len(sizes) == 1 else None
        if common and common[0] == common[1] and 4 <= common[0] <= MAX_INFERRED_SIZE:
            image_size = common[0]
        else:
            image_size = DEFAULT_IMAGE_SIZE
            kinds = f"{len(sizes)} different sizes" if common is None else f"all {common[0]}x{common[1]}"
            notes.append(f"the images have {kinds}: they are resized to {image_size}x{image_size}; "
                         "pass --image-size to choose another size")
    if inferred:
        kind = "colour (RGB)" if channels == 3 else "grayscale"
        notes.insert(0, f"{root}: {len(files)} images in {len(classes)} classes, loaded as {kind} "
                        f"{image_size}x{image_size} (read off the images; --channels and --image-size override)")
    if len(classes) == 1:
        warnings.append(f"{root} has a single class ({classes[0]!r}): k-NN accuracy is 1.0 by construction and "
                        "the map has one colour; put each class in its own sub-folder")
    odd = [(wh, ps) for wh, ps in sizes.items() if wh[0] != wh[1]]
    if odd:
        n_odd = sum(len(ps) for _, ps in odd)
        ratios = [w / h for (w, h) in sizes]
        (w, h), ps = odd[0]
        warnings.append(f"{n_odd} of {len(files)} images are not square (width/height from {min(ratios):.2f} to "
                        f"{max(ratios):.2f}; {ps[0].name} is {w}x{h}): they are squashed to "
                        f"{image_size}x{image_size}; crop or pad them to squares to keep their shapes")
    if colour and channels == 1:
        warnings.append(f"{root} holds colour images but they are loaded as grayscale (--channels 1); leave "
                        "--channels out or pass --channels 3 to keep their colours")
    return FolderInfo(root, classes, len(files), image_size, channels, colour, inferred, notes, warnings)


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


def _load_folder(root: Path, split: str, image_size: int | None, channels: int | None) -> ImageDataset:
    notes: list[str] = []
    warnings: list[str] = []
    if image_size is None or channels is None:
        info = inspect_folder(root, image_size, channels)
        image_size, channels, notes, warnings = info.image_size, info.channels, info.notes, info.warnings
    elif not root.is_dir():
        raise DataError(f"folder dataset {root} does not exist or is not a folder")
    split_root = _split_root(root, split)
    classes, files = _class_files(split_root)
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
    names = [p.relative_to(split_root).as_posix() for p, _ in files]
    return ImageDataset(f"folder:{root}", split, x, y, classes, str(root), notes, warnings, names)


# -- the registry ---------------------------------------------------------------------------
def check_dataset_name(name: str) -> str:
    """Return ``name`` if it names a dataset, else raise DataError with a suggestion."""
    if name in IDX_DATASETS or name in ("digits", "emoji"):
        return name
    if name.startswith("folder:"):
        if not name.split(":", 1)[1].strip():
            raise DataError("folder: needs the path of your image folder, e.g. folder:/data/shapes")
        return name
    choices = [*IDX_DATASETS, "digits", "emoji"]
    close = difflib.get_close_matches(name, choices, n=1)
    if any(sep in name for sep in ("/", "\\")) or name.startswith((".", "~")) or Path(name).expanduser().is_dir():
        hint = f": did you mean folder:{name}?"
    else:
        hint = f": did you mean {close[0]!r}?" if close else "."
    raise DataError(
        f"unknown dataset {name!r}{hint} Known datasets: {', '.join(choices)}, or folder:PATH for your own images"
    )


def canonical_dataset_name(name: str) -> str:
    """The name to store in a checkpoint: a folder's absolute path (so it loads from anywhere)."""
    if name.startswith("folder:"):
        return "folder:" + os.path.abspath(Path(name.split(":", 1)[1]).expanduser())
    return name


def load_dataset(
    name: str = "fashion-mnist",
    split: str = "train",
    data_dir: str | Path | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    download: bool = True,
) -> ImageDataset:
    """Load one split ("train" or "test") of a dataset as an :class:`ImageDataset`.

    ``image_size`` applies to ``emoji`` too (32, the default, or 64). ``image_size`` and ``channels``
    apply to ``folder:`` datasets; left out, they are read off
    the images (see :func:`inspect_folder`), whose notes and warnings the result carries.
    """
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
    if name == "emoji":
        return _load_emoji(split, image_size, download)
    path = Path(canonical_dataset_name(name).split(":", 1)[1])
    return _load_folder(path, split, image_size, channels)


def load_training_data(
    name: str,
    data_dir: str | Path | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    download: bool = True,
) -> tuple[ImageDataset, ImageDataset]:
    """The train and test splits of a training run. A folder is inspected once, over both splits
    (so they agree on size and channels), and the train split carries its notes and warnings."""
    check_dataset_name(name)
    kw = dict(data_dir=data_dir, image_size=image_size, channels=channels, download=download)
    info = None
    if name.startswith("folder:"):
        info = inspect_folder(canonical_dataset_name(name).split(":", 1)[1], image_size, channels)
        kw.update(image_size=info.image_size, channels=info.channels)
    train = load_dataset(name, "train", **kw)
    test = load_dataset(name, "test", **kw)
    if info is not None:
        train.notes, train.warnings = list(info.notes), list(info.warnings)
    return train, test


def dataset_available(name: str, split: str = "test", data_dir: str | Path | None = None) -> bool:
    """True when the split can be loaded without a download."""
    if name in IDX_DATASETS:
        return find_idx(IDX_DATASETS[name], split, data_dir) is not None
    if name == "digits":
        return True
    if name == "emoji":
        from .emoji import available

        return available(split, None, DOWNLOAD_DIR, PROJECT_DATA_DIR)
    if name.startswith("folder:"):
        return Path(name.split(":", 1)[1]).expanduser().is_dir()
    return False
