"""The emoji data set: Google's Noto emoji from npm's ``emoji-datasource-google`` 16.0.0, in colour.

One image per emoji and per skin-tone variant (3,781 images: the 1,906 emoji of nine categories and
their 1,875 skin-tone variants; the five bare skin-tone swatches of the "Component" category are left
out, they are colour patches, not emoji), each the package's 64-px PNG composited onto white and
resized to 32x32 (or 64x64) RGB. The class is the emoji's category; ``ImageDataset.files`` holds each
image's Unicode name (with its skin tones, e.g. "WAVING HAND SIGN: medium skin tone"), which the map's
search box finds.

The split is fixed: within each category, whole emoji (an emoji with all its skin-tone variants, so
that no test image has a sibling in the train split that differs only in skin tone) are shuffled with
a seeded generator and taken into the test split until it holds 15% of the category's images.

Where the images come from, in order: the prepared arrays cached under ``DOWNLOAD_DIR/emoji/``; the
package's tarball there, prepared again; the npm registry (the tarball, checked against the sha512 the
registry publishes for it). The repository ships the test split at 32x32 in ``data/emoji/`` (the
whole test split, so a machine without the network explores the shipped model on the same images it
was evaluated on); the train split needs the download (``make data``).

Licences (recorded beside the arrays): the emoji-datasource package is MIT (Cal Henderson); its
Google images are Noto Emoji, Apache License 2.0 (Google).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..i18n import N_

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"
TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
#: ``npm view emoji-datasource-google@16.0.0 dist.integrity``: the tarball's SHA-512, base64.
INTEGRITY = "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A=="
TARBALL_BYTES = 74_344_091
IMAGE_DIR = "package/img/google/64/"
SIZES = (32, 64)  # the sizes the images are prepared at (the package's PNGs are 64x64)
TEST_FRACTION = 0.15
SPLIT_SEED = 0
DOWNLOAD_TIMEOUT_S = 60

#: The classes, in the package's (Unicode's) order; "Component" (skin-tone swatches) is left out.
CATEGORIES = [
    N_("Smileys & Emotion"), N_("People & Body"), N_("Animals & Nature"), N_("Food & Drink"),
    N_("Travel & Places"), N_("Activities"), N_("Objects"), N_("Symbols"), N_("Flags"),
]  # fmt: skip
SKIN_TONES = {"1F3FB": "light skin tone", "1F3FC": "medium-light skin tone", "1F3FD": "medium skin tone",
              "1F3FE": "medium-dark skin tone", "1F3FF": "dark skin tone"}

NOTICE = f"""The emoji images in this folder are prepared from the npm package {PACKAGE} {VERSION}
({TARBALL_URL}), composited onto white and resized.

- emoji-datasource (emoji.json: names, categories, sort order): MIT License, Copyright (c) 2013
  Cal Henderson; the licence text is in LICENSE beside this file.
- The images (img/google/64/) are Google's Noto Emoji, which the package's README says "are available
  under the Apache License 2.0" (https://github.com/googlefonts/noto-emoji/blob/main/LICENSE); its
  text is in LICENSE-APACHE-2.0 beside this file.
"""
APACHE_FILE = "LICENSE-APACHE-2.0"


@dataclass(frozen=True)
class EmojiEntry:
    """One image of the package: an emoji or one of its skin-tone variants."""

    image: str  # file name under img/google/64/, e.g. "1f385-1f3fb.png"
    name: str  # Unicode name, with the skin tones of a variant: "FATHER CHRISTMAS: light skin tone"; a
    # name the package gives two emoji is replaced by each one's short name (MAN / PERSON IN TUXEDO)
    category: int  # index into CATEGORIES
    group: int  # index of the emoji this image is (a variant of): variants share it
    tone: int  # 0 no skin tone, 1 (light) .. 5 (dark): the variant's first tone
    sort_order: int  # the package's order of the emoji


def entries(emoji_json: bytes) -> list[EmojiEntry]:
    """Every image the package's emoji.json lists with a Google image, in the package's order."""
    out: list[EmojiEntry] = []
    tones = list(SKIN_TONES)
    listed = sorted(json.loads(emoji_json), key=lambda e: e["sort_order"])
    twice = {n for n, k in Counter(e["name"] for e in listed).items() if k > 1}  # 1F935 and its "man" form
    for group, e in enumerate(listed):
        if e["category"] not in CATEGORIES:
            continue  # "Component": the bare skin-tone swatches and hair parts
        cat = CATEGORIES.index(e["category"])
        base = e["short_name"].replace("_", " ").upper() if e["name"] in twice else e["name"]
        if e.get("has_img_google"):
            out.append(EmojiEntry(e["image"], base, cat, group, 0, e["sort_order"]))
        for key, v in sorted((e.get("skin_variations") or {}).items()):
            if v.get("has_img_google"):
                parts = key.split("-")
                name = f"{base}: " + ", ".join(SKIN_TONES[p] for p in parts)
                out.append(EmojiEntry(v["image"], name, cat, group, tones.index(parts[0]) + 1, e["sort_order"]))
    return out


def split_of(items: list[EmojiEntry], test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED) -> np.ndarray:
    """True for the test images: per category, whole emoji (with their variants) in a seeded random
    order until the category's test share reaches ``test_fraction``."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(items), dtype=bool)
    cats = np.array([e.category for e in items])
    groups = np.array([e.group for e in items])
    for c in range(len(CATEGORIES)):
        members = np.flatnonzero(cats == c)
        target = round(test_fraction * len(members))
        taken = 0
        for g in rng.permutation(np.unique(groups[members])):
            if taken >= target:
                break
            idx = members[groups[members] == g]
            test[idx] = True
            taken += len(idx)
    return test


def on_white(png: bytes, size: int) -> np.ndarray:
    """A PNG (any mode, transparency or not) composited onto white and resized: (size, size, 3) uint8."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.uint8)


# -- the tarball --------------------------------------------------------------------------------
def verify(path: Path, integrity: str | None = None) -> None:
    """Raise DataError unless the file's SHA-512 is ``integrity`` (default: the one the registry publishes)."""
    integrity = integrity or INTEGRITY
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    got = "sha512-" + base64.b64encode(h.digest()).decode()
    if got != integrity:
        raise DataError(f"{path} is not {PACKAGE} {VERSION} (its sha512 is {got[:27]}..., expected "
                        f"{integrity[:27]}...): the download is corrupted or was changed; delete it and "
                        "run `python -m vae data --fetch emoji` again")


def fetch_tarball(dest: Path, url: str = TARBALL_URL) -> Path:
    """Fetch the package's tarball to ``dest`` and check its checksum; one clear DataError offline."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r, open(part, "wb") as f:
            while block := r.read(1 << 20):
                f.write(block)
    except (urllib.error.URLError, OSError) as e:
        part.unlink(missing_ok=True)
        why = getattr(e, "reason", None) or e
        raise DataError(f"downloading the emoji images ({url}) failed: {why}. Connect to the network and run "
                        f"`python -m vae data --fetch emoji` (or `make data`), or put {PACKAGE}-{VERSION}.tgz "
                        f"(from `npm pack {PACKAGE}@{VERSION}`) into {dest.parent}") from e
    try:
        verify(part)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return dest


def prepare(tarball: Path, size: int) -> dict[str, np.ndarray]:
    """The arrays of the whole data set at ``size`` from the package's tarball (read member by member,
    only emoji.json and the listed PNGs): images (N, size, size, 3) uint8, labels, names, files, groups,
    tones, test (bool)."""
    verify(tarball)
    pngs: dict[str, bytes] = {}
    try:
        with tarfile.open(tarball, "r:gz") as tf:
            meta = tf.extractfile("package/emoji.json").read()  # type: ignore[union-attr]
            wanted = {e.image for e in entries(meta)}
            for m in tf:
                base = m.name[len(IMAGE_DIR):]
                if m.isfile() and m.name.startswith(IMAGE_DIR) and base in wanted:
                    pngs[base] = tf.extractfile(m).read()  # type: ignore[union-attr]
            licence = tf.extractfile("package/LICENSE").read().decode()  # type: ignore[union-attr]
    except (tarfile.TarError, KeyError, OSError) as e:
        raise DataError(f"cannot read {tarball}: {e}; delete it and run `python -m vae data --fetch emoji`") from e
    items = [e for e in entries(meta) if e.image in pngs]
    return {
        "images": np.stack([on_white(pngs[e.image], size) for e in items]),
        "labels": np.array([e.category for e in items], dtype=np.int64),
        "names": np.array([e.name for e in items]),
        "files": np.array([e.image for e in items]),
        "groups": np.array([e.group for e in items], dtype=np.int64),
        "tones": np.array([e.tone for e in items], dtype=np.int64),
        "test": split_of(items),
        "licence": np.array(licence),
    }


# -- the prepared arrays ----------------------------------------------------------------------------
def cache_file(cache_dir: Path, size: int) -> Path:
    return Path(cache_dir) / "emoji" / f"emoji-{VERSION}-{size}.npz"


def shipped_file(project_dir: Path) -> Path:
    """The test split at 32x32 that the repository ships (``data/emoji/``)."""
    return Path(project_dir) / "emoji" / f"emoji-{VERSION}-test-32.npz"


def save(arrays: dict[str, np.ndarray], path: Path, project_dir: Path) -> Path:
    """Write prepared arrays (compressed) with the licences beside them (the Apache text: the copy
    the repository ships in ``data/emoji/``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    (path.parent / "LICENSE").write_text(str(arrays["licence"]))
    (path.parent / "NOTICE").write_text(NOTICE)
    apache = shipped_file(project_dir).parent / APACHE_FILE
    if apache.is_file() and apache.resolve() != (path.parent / APACHE_FILE).resolve():
        (path.parent / APACHE_FILE).write_text(apache.read_text())
    return path


def select(arrays: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays of the images where ``keep`` is True (per-image arrays cut, the rest as they are)."""
    return {k: (v[keep] if v.ndim and len(v) == len(keep) else v) for k, v in arrays.items()}


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"cannot read {path}: {e}; delete it and run `python -m vae data --fetch emoji`") from e


def check_size(size: int | None) -> int:
    size = SIZES[0] if size is None else int(size)
    if size not in SIZES:
        raise DataError(f"the emoji images come at {' or '.join(map(str, SIZES))} pixels, not {size}; "
                        f"pass --image-size {SIZES[0]} or {SIZES[1]}")
    return size


def available(split: str, size: int | None, cache_dir: Path, project_dir: Path) -> bool:
    """True when the split can be loaded without a download (the tarball alone counts: it is prepared here)."""
    size = check_size(size)
    if cache_file(cache_dir, size).is_file() or (Path(cache_dir) / "emoji" / f"{PACKAGE}-{VERSION}.tgz").is_file():
        return True
    return split == "test" and size == 32 and shipped_file(project_dir).is_file()


def emoji_arrays(split: str, size: int | None, cache_dir: Path, project_dir: Path,
                 download: bool = True) -> tuple[dict[str, np.ndarray], Path]:
    """One split's arrays and the file they came from: the cache, the shipped test split, the cached
    tarball prepared again, or (``download``) the registry's tarball."""
    size = check_size(size)
    cached = cache_file(cache_dir, size)
    if not cached.is_file() and split == "test" and size == 32 and shipped_file(project_dir).is_file():
        return _read(shipped_file(project_dir)), shipped_file(project_dir)
    if not cached.is_file():
        tarball = cached.parent / f"{PACKAGE}-{VERSION}.tgz"
        if not tarball.is_file():
            if not download:
                raise DataError(f"the {split} split of emoji ({size}x{size}) is not on this machine; run `make data` "
                                "or `python -m vae data --fetch emoji` (downloads 74 MB from the npm registry)")
            fetch_tarball(tarball)
        save(prepare(tarball, size), cached, project_dir)
    arrays = _read(cached)
    return select(arrays, arrays["test"] if split == "test" else ~arrays["test"]), cached
