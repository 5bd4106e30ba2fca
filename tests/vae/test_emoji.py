"""The emoji data set: the shipped test split, compositing onto white, the split, the tarball's
checksum, reading a (small, made-here) package tarball, and the one clear line offline."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae.cli import main
from vae.data import datasets, emoji
from vae.data.datasets import PROJECT_DATA_DIR, check_dataset_name, dataset_available, load_dataset
from vae.errors import DataError

#: Images per category in the shipped test split (the seeded split of the 3,781 images).
TEST_COUNTS = [25, 342, 24, 20, 33, 13, 40, 34, 40]


@pytest.fixture
def no_cache(tmp_path, monkeypatch):
    """An empty download folder: only what the repository ships is here."""
    monkeypatch.setattr(datasets, "DOWNLOAD_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def test_the_shipped_test_split_loads_without_the_package(no_cache):
    ds = load_dataset("emoji", "test", download=False)
    assert ds.images.shape == (571, 3, 32, 32) and ds.images.dtype == torch.float32
    assert 0.0 <= ds.images.min() and ds.images.max() == 1.0
    assert ds.class_names == ["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink",
                              "Travel & Places", "Activities", "Objects", "Symbols", "Flags"]
    assert torch.bincount(ds.labels, minlength=9).tolist() == TEST_COUNTS
    assert ds.source == str(PROJECT_DATA_DIR / "emoji")
    assert len(ds.files) == 571 and len(set(ds.files)) == 571
    tones = [n for n in ds.files if n.endswith("skin tone")]
    assert len(tones) == 5 * 57  # 57 emoji of the test split come with their five skin tones
    assert "WAVING HAND SIGN: medium skin tone" in ds.files or any(": dark skin tone" in n for n in tones)
    # white backgrounds: every image's corners are white, and it is in colour (a grinning face is yellow)
    assert torch.all(ds.images[:, :, 0, 0] == 1.0)
    spread = ds.images.amax(1) - ds.images.amin(1)
    assert (spread > 0.1).float().mean() > 0.1
    assert dataset_available("emoji", "test") and not dataset_available("emoji", "train")
    licence = PROJECT_DATA_DIR / "emoji"
    assert "MIT License" in (licence / "LICENSE").read_text()
    assert "Apache License 2.0" in (licence / "NOTICE").read_text()
    assert "Apache License" in (licence / emoji.APACHE_FILE).read_text()


def test_the_train_split_without_the_package_says_how_to_get_it(no_cache):
    with pytest.raises(DataError, match=r"make data.*--fetch emoji"):
        load_dataset("emoji", "train", download=False)
    with pytest.raises(DataError, match="32 or 64 pixels, not 48"):
        load_dataset("emoji", "test", image_size=48)
    assert check_dataset_name("emoji") == "emoji"
    with pytest.raises(DataError, match="did you mean 'emoji'"):
        check_dataset_name("emoij")


def test_the_shipped_split_is_the_full_data_sets_test_split():
    cached = emoji.cache_file(datasets.DOWNLOAD_DIR, 32)
    if not cached.is_file():
        pytest.skip("the emoji data set is not fetched here (`python -m vae data --fetch emoji`)")
    train = load_dataset("emoji", "train", download=False)
    test = load_dataset("emoji", "test", download=False)
    shipped = emoji._read(emoji.shipped_file(PROJECT_DATA_DIR))
    assert len(train) == 3210 and len(test) == 571
    assert test.files == [str(n) for n in shipped["names"]]
    assert torch.equal(test.images, torch.from_numpy(shipped["images"].transpose(0, 3, 1, 2) / np.float32(255)))
    assert not set(train.files) & set(test.files)
    full = emoji._read(cached)
    groups_test = set(full["groups"][full["test"]])
    assert not groups_test & set(full["groups"][~full["test"]])  # an emoji's skin tones stay together


# -- compositing ---------------------------------------------------------------------------------
def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_transparency_is_composited_onto_white_as_pil_does():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    rgba[:8, :, 3] = 0  # fully transparent rows: white whatever their colour
    rgba[8:16, :, 3] = 255  # opaque rows: their own colour
    im = Image.fromarray(rgba, "RGBA")
    reference = Image.new("RGB", im.size, (255, 255, 255))
    reference.paste(im, mask=im.getchannel("A"))  # PIL's own blend: c * a + 255 * (1 - a)
    got = emoji.on_white(_png(im), 64)
    assert got.shape == (64, 64, 3) and got.dtype == np.uint8
    assert np.abs(got.astype(int) - np.asarray(reference, dtype=int)).max() <= 1
    assert (got[:8] == 255).all() and (got[8:16] == rgba[8:16, :, :3]).all()
    small = emoji.on_white(_png(im), 32)
    assert np.array_equal(small, np.asarray(Image.fromarray(got).resize((32, 32), Image.Resampling.LANCZOS)))
    # a palette PNG with a transparent index, and a grey one: RGB on white too
    pal = Image.new("P", (64, 64), 0)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    pal.paste(1, (16, 16, 48, 48))
    pal.info["transparency"] = 0
    out = emoji.on_white(_png(pal), 64)
    assert (out[0, 0] == 255).all() and tuple(out[32, 32]) == (200, 30, 30)
    assert tuple(emoji.on_white(_png(Image.new("L", (64, 64), 77)), 64)[5, 5]) == (77, 77, 77)


# -- the package's tarball ------------------------------------------------------------------------
def _fake_package(path: Path) -> Path:
    """A small package tarball laid out as emoji-datasource-google's: emoji.json, LICENSE, 64-px PNGs."""
    entries = [
        {"name": "GRINNING FACE", "image": "1f600.png", "category": "Smileys & Emotion", "sort_order": 1,
         "has_img_google": True},
        {"name": "WAVING HAND SIGN", "image": "1f44b.png", "category": "People & Body", "sort_order": 2,
         "has_img_google": True, "skin_variations": {
             t: {"image": f"1f44b-{t.lower()}.png", "has_img_google": True} for t in emoji.SKIN_TONES}},
        {"name": "EMOJI MODIFIER FITZPATRICK TYPE-3", "image": "1f3fc.png", "category": "Component",
         "sort_order": 3, "has_img_google": True},
        {"name": "DOG FACE", "image": "1f436.png", "category": "Animals & Nature", "sort_order": 0,
         "has_img_google": True},
    ]
    files = {"package/emoji.json": json.dumps(entries).encode(), "package/LICENSE": b"The MIT License (MIT)\n"}
    images = ["1f600.png", "1f44b.png", "1f3fc.png", "1f436.png", *(f"1f44b-{t.lower()}.png" for t in emoji.SKIN_TONES)]
    for i, name in enumerate(images):
        rgba = np.zeros((64, 64, 4), np.uint8)
        rgba[16:48, 16:48] = (40 * i % 256, 200, 90, 255)
        files[emoji.IMAGE_DIR + name] = _png(Image.fromarray(rgba, "RGBA"))
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def test_a_package_tarball_becomes_the_data_set(tmp_path, monkeypatch):
    tgz = _fake_package(tmp_path / "pkg.tgz")
    monkeypatch.setattr(emoji, "INTEGRITY", _integrity(tgz))
    a = emoji.prepare(tgz, 32)
    assert a["names"].tolist() == ["DOG FACE", "GRINNING FACE", "WAVING HAND SIGN",  # in the package's sort order
                                   *(f"WAVING HAND SIGN: {t}" for t in emoji.SKIN_TONES.values())]
    assert a["labels"].tolist() == [2, 0, 1, 1, 1, 1, 1, 1]  # the Component swatch is left out
    assert a["tones"].tolist() == [0, 0, 0, 1, 2, 3, 4, 5]
    assert len(set(a["groups"][2:])) == 1 and len(set(a["groups"])) == 3 and a["images"].shape == (8, 32, 32, 3)
    assert (a["images"][:, 0, 0] == 255).all() and tuple(a["images"][1, 16, 16]) == (0, 200, 90)
    assert str(a["licence"]).startswith("The MIT License")


def test_the_split_is_seeded_by_category_and_keeps_an_emojis_variants_together():
    items = [emoji.EmojiEntry(f"{g}-{t}.png", f"E{g}", g % 9, g, t, g)
             for g in range(300) for t in (range(6) if g % 7 == 0 else [0])]
    first, again = emoji.split_of(items), emoji.split_of(items)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, emoji.split_of(items, seed=1))
    groups = np.array([e.group for e in items])
    for g in np.unique(groups):
        assert len(set(first[groups == g])) == 1
    cats = np.array([e.category for e in items])
    for c in range(9):
        share = first[cats == c].mean()
        assert 0.12 <= share <= 0.3, (c, share)
    assert abs(first.mean() - 0.15) < 0.05


def test_a_corrupted_tarball_is_refused(tmp_path, monkeypatch):
    tgz = _fake_package(tmp_path / "pkg.tgz")
    with pytest.raises(DataError, match="sha512.*corrupted"):
        emoji.verify(tgz)  # not the published package
    good = _integrity(tgz)
    emoji.verify(tgz, good)
    data = bytearray(tgz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tgz.write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupted"):
        emoji.verify(tgz, good)
    # a download that is not the package is refused and leaves nothing behind
    monkeypatch.setattr(emoji.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"<html>proxy login</html>"))
    dest = tmp_path / "cache" / "emoji" / "pkg.tgz"
    with pytest.raises(DataError, match="corrupted"):
        emoji.fetch_tarball(dest)
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_no_network_gives_one_clear_line(no_cache, monkeypatch, capsys):
    def offline(url, timeout):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(emoji.urllib.request, "urlopen", offline)
    with pytest.raises(DataError, match=r"downloading the emoji images .* failed: .*unreachable.*--fetch emoji"):
        load_dataset("emoji", "train")
    assert main(["data", "--fetch", "emoji"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("python -m vae data: error: downloading the emoji images")
    assert "Network is unreachable" in err and "npm pack emoji-datasource-google@16.0.0" in err
    assert not any(no_cache.rglob("*.tgz*"))
