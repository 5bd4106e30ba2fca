"""Robustness, bad input: every malformed upload, checkpoint, argument and link gets one clear
message, and the app (or the command) keeps running.

Cases already covered elsewhere are not repeated here; docs/robustness.md lists every case and
the test that tries it.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import numpy as np
import pytest
from app_helpers import app_test, switch
from pagecheck import assert_app_ok
from PIL import Image
from streamlit.testing.v1 import AppTest

from vae.cli import build_parser, main
from vae.data.images import ImageError, prepare_image

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_DIGITS = ROOT / "checkpoints" / "digits"
SECONDS = 20  # no single conversion may take longer than this (a hang fails, it does not wait)


# -- building hostile and unusual images -------------------------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bilevel_png(width: int, height: int, with_pixels: bool = True) -> bytes:
    """A 1-bit PNG of any size, built row by row (never held in memory): a few KB per 10^8 pixels.

    ``with_pixels=False`` gives only the header that claims the size (no image data at all).
    """
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    body = b""
    if with_pixels:
        z = zlib.compressobj(9)
        row = b"\0" + b"\xff" * ((width + 7) // 8)  # filter byte + white pixels
        parts = [z.compress(row * min(1000, height - i)) for i in range(0, height, 1000)]
        body = _png_chunk(b"IDAT", b"".join(parts) + z.flush())
    return b"\x89PNG\r\n\x1a\n" + ihdr + body + _png_chunk(b"IEND", b"")


def encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def sixteen_bit_png() -> bytes:
    """A 16-bit grayscale gradient using the full 0..65535 range."""
    a = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (32, 1))
    im = Image.fromarray(a)
    assert im.mode.startswith("I;16")
    return encode(im)


def rgba_png() -> bytes:
    """Transparent everywhere except an opaque black square in the middle."""
    im = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (8, 8, 24, 24))
    return encode(im)


def cmyk_jpeg() -> bytes:
    """White paper (CMYK 0,0,0,0) with a solid black (K = 255) square."""
    im = Image.new("CMYK", (32, 32), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (8, 8, 24, 24))
    return encode(im, "JPEG", quality=95)


def palette_png(transparent: bool = False) -> bytes:
    im = Image.new("P", (32, 32), 0)
    im.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)  # index 0 white, 1 black
    im.paste(1, (8, 8, 24, 24))
    return encode(im, transparency=0) if transparent else encode(im)


def animated_gif() -> bytes:
    frames = [Image.new("L", (16, 16), v) for v in (40, 120, 250)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def exif_rotated_jpeg() -> tuple[bytes, Image.Image]:
    """A 40x20 JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6),
    and the picture as it should look once displayed (20x40)."""
    im = Image.new("L", (40, 20), 0)
    im.paste(255, (0, 0, 10, 20))  # a white band on the left edge as stored
    exif = Image.Exif()
    exif[0x0112] = 6
    shown = im.transpose(Image.Transpose.ROTATE_270)  # 90° clockwise: the band goes to the top
    return encode(im, "JPEG", quality=95, exif=exif.tobytes()), shown


def within(seconds: float, fn, *args, **kw):
    """fn(*args) in a worker thread; a call that does not return in time fails the test."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(fn, *args, **kw).result(timeout=seconds)
    except FutureTimeout:
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not return within {seconds} s (a hang)")
    finally:
        pool.shutdown(wait=False)


@pytest.fixture(scope="module")
def bombs():
    return {
        "header-20000": bilevel_png(20_000, 20_000, with_pixels=False),
        "bilevel-20000": bilevel_png(20_000, 20_000),
        "bilevel-7000": bilevel_png(7_000, 7_000),
    }


# -- uploads, in the library ----------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("header-20000", "far too large (a possible decompression bomb)"),
    ("bilevel-20000", "far too large (a possible decompression bomb)"),
    ("bilevel-7000", "7000 x 7000 pixels, more than the 40,000,000 allowed"),
])
def test_oversized_images_are_refused_before_decoding(bombs, name, message):
    data = bombs[name]
    assert len(data) < 2_000_000  # small files: the danger is the pixel count, not the upload size
    with pytest.raises(ImageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        within(SECONDS, prepare_image, data, (1, 28, 28))


def test_largest_allowed_image_converts_in_bounded_time():
    data = bilevel_png(6_000, 6_000)  # 36 million pixels: under the cap, so it is decoded
    prep = within(SECONDS, prepare_image, data, (1, 28, 28), invert=False)
    assert prep.tensor.shape == (1, 28, 28) and float(prep.tensor.min()) > 0.99


def test_sixteen_bit_png_uses_its_full_range():
    prep = within(SECONDS, prepare_image, sixteen_bit_png(), (1, 8, 8), invert=False)
    assert any("scaled to 8-bit" in n for n in prep.notes)
    row = prep.tensor[0, 4].numpy()
    assert row[0] < 0.1 and row[-1] > 0.9 and np.all(np.diff(row) >= -1e-6)  # a dark-to-light ramp


@pytest.mark.parametrize("make, note", [
    (rgba_png, "transparency flattened onto white"),
    (cmyk_jpeg, "CMYK converted to RGB"),
    (lambda: palette_png(False), None),
    (lambda: palette_png(True), "transparency flattened onto white"),
], ids=["rgba", "cmyk-jpeg", "palette", "palette-transparent"])
def test_colour_modes_become_the_right_grayscale(make, note):
    prep = within(SECONDS, prepare_image, make(), (1, 32, 32), invert=False)
    a = prep.tensor[0].numpy()
    # white (or transparent) paper, a black square in the middle: whatever the file's colour model
    assert a[:6].mean() > 0.95 and a[12:20, 12:20].mean() < 0.05, (a[:6].mean(), a[12:20, 12:20].mean())
    if note:
        assert note in prep.notes
    assert "converted to grayscale" in prep.notes or prep.original.mode == "L"


def test_animated_gif_uses_its_first_frame():
    prep = within(SECONDS, prepare_image, animated_gif(), (1, 8, 8), invert=False)
    assert "animated image: used the first of 3 frames" in prep.notes
    assert abs(float(prep.tensor.mean()) - 40 / 255) < 0.02


def test_one_pixel_image_is_scaled_up():
    prep = within(SECONDS, prepare_image, encode(Image.new("L", (1, 1), 200)), (1, 28, 28), invert=False)
    assert prep.tensor.shape == (1, 28, 28) and "resized 1x1 -> 28x28" in prep.notes
    assert np.allclose(prep.tensor.numpy(), 200 / 255, atol=1 / 255)


def test_exif_rotation_is_applied():
    data, shown = exif_rotated_jpeg()
    prep = within(SECONDS, prepare_image, data, (1, 40, 40), invert=False)
    assert prep.original.size == (20, 40)  # width x height once rotated
    expected = prepare_image(encode(shown, "JPEG", quality=95), (1, 40, 40), invert=False).tensor
    assert float((prep.tensor - expected).abs().max()) < 0.1
    a = prep.tensor[0].numpy()  # padded to a square, so the picture is the middle half of columns
    assert a[:8, 12:28].mean() > 0.8 and a[-8:, 12:28].mean() < 0.2  # the band is at the top now


# -- uploads, on the page -------------------------------------------------------------------------
def use_root(monkeypatch, root: Path) -> None:
    """Point the app at a checkpoints folder of this test (and a private disk cache)."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", root.parent / "cache")


def new_app(timeout: float = 120) -> AppTest:
    return app_test(timeout)


def digits_root(tmp_path: Path) -> Path:
    root = tmp_path / "checkpoints"
    shutil.copytree(SHIPPED_DIGITS, root / "digits")
    return root


UPLOADS_REFUSED = {  # file name -> what the error must say
    "notes.png": "not an image that can be read",
    "empty.png": "the file is empty",
    "cut.png": "truncated or corrupted",
    "bomb-header.png": "decompression bomb",
    "bomb-20000.png": "decompression bomb",
    "huge-7000.png": "7000 x 7000 pixels",
}
UPLOADS_ACCEPTED = {  # file name -> a step the page must report under "Conversion:"
    "deep.png": "scaled to 8-bit",
    "alpha.png": "transparency flattened onto white",
    "cmyk.jpg": "CMYK converted to RGB",
    "palette.png": "resized 32x32 -> 8x8",
    "anim.gif": "animated image: used the first of 3 frames",
    "dot.png": "resized 1x1 -> 8x8",
    "rotated.jpg": "resized 20x40 -> 8x8",  # 40x20 as stored: the size shows the rotation was applied
}


def test_every_odd_upload_on_the_your_image_page(tmp_path, monkeypatch, bombs):
    """One session uploads every file in turn: an error naming the problem, or a conversion."""
    use_root(monkeypatch, digits_root(tmp_path))
    files = {
        "notes.png": b"these are my notes, not a picture\n" * 20,
        "empty.png": b"",
        "cut.png": encode(Image.effect_noise((64, 64), 60).convert("L"))[:300],
        "bomb-header.png": bombs["header-20000"],
        "bomb-20000.png": bombs["bilevel-20000"],
        "huge-7000.png": bombs["bilevel-7000"],
        "deep.png": sixteen_bit_png(),
        "alpha.png": rgba_png(),
        "cmyk.jpg": cmyk_jpeg(),
        "palette.png": palette_png(),
        "anim.gif": animated_gif(),
        "dot.png": encode(Image.new("L", (1, 1), 200)),
        "rotated.jpg": exif_rotated_jpeg()[0],
    }
    at = new_app()
    at.session_state["ckpt"] = "digits"
    at.session_state["map_method"] = "pca"
    switch(at, "pages/your_image.py").run(timeout=120)
    assert_app_ok(at, errors=True)
    for name, data in files.items():
        mime = "image/jpeg" if name.endswith(".jpg") else "image/gif" if name.endswith(".gif") else "image/png"
        at.file_uploader(key="img_upload").set_value((name, data, mime)).run(timeout=60)
        assert_app_ok(at, name)
        errors = [e.value for e in at.error]
        if name in UPLOADS_REFUSED:
            assert len(errors) == 1 and errors[0].startswith("Cannot use this upload: "), (name, errors)
            assert UPLOADS_REFUSED[name] in errors[0], (name, errors)
        else:
            assert not errors, (name, errors)
            conversion = " ".join(c.value for c in at.caption if c.value.startswith("Conversion:"))
            assert UPLOADS_ACCEPTED[name] in conversion, (name, conversion)
            assert at.get("image"), name
    at.file_uploader(key="img_upload").set_value(None).run(timeout=60)  # and the page still works
    assert_app_ok(at, errors=True)


def test_upload_size_cap_and_server_safety_settings():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = cfg["server"]
    assert 1 <= server["maxUploadSize"] <= 50  # MB; Streamlit's own default is 200
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # turning CORS off would switch XSRF off with it
    assert server["address"] == "localhost"
    readme = (ROOT / "README.md").read_text()
    assert "--server.address 0.0.0.0" in readme and "make class" in readme  # how to expose it, on purpose
    assert "--server.address 0.0.0.0" in (ROOT / "Makefile").read_text()  # make class does it


# -- checkpoints: the picker and the CLI -----------------------------------------------------------
def _edit_json(path: Path, **changes) -> None:
    d = json.loads(path.read_text())
    d.update(changes)
    path.write_text(json.dumps(d))


@pytest.fixture()
def broken_root(tmp_path):
    """A checkpoints folder: one good checkpoint and one of every kind of broken one."""
    root = tmp_path / "checkpoints"
    shutil.copytree(SHIPPED_DIGITS, root / "digits")

    def clone(name: str) -> Path:
        return Path(shutil.copytree(SHIPPED_DIGITS, root / name, ignore=shutil.ignore_patterns("projections")))

    w = clone("truncated") / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 3])
    _edit_json(clone("mismatch") / "config.json", latent_dim=5)
    (clone("no-config") / "config.json").unlink()
    _edit_json(clone("unknown-arch") / "config.json", arch="transformer")
    (clone("garbage-meta") / "meta.json").write_text("{oops")
    _edit_json(clone("kmnist-missing") / "meta.json", dataset="kmnist", class_names=list("abcdefghij"))
    _edit_json(clone("folder-missing") / "meta.json", dataset=f"folder:{tmp_path / 'gone'}")
    (root / "empty").mkdir()
    return root


BROKEN = {  # folder -> the reason the picker and the CLI give
    "truncated": "corrupted or truncated",
    "mismatch": "does not match",
    "no-config": "has no config.json",
    "unknown-arch": "arch must be one of mlp, conv, got 'transformer'",
    "garbage-meta": "meta.json is not valid JSON",
    "empty": "has no config.json",
}


@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """No downloads: torchvision's dataset classes fail the way they do without a network."""
    import torchvision.datasets

    import vae.data.datasets

    class Offline:
        def __init__(self, *a, **k):
            raise RuntimeError("Error downloading t10k-images-idx3-ubyte.gz:\nTried http://example/, got:\n"
                               "<urlopen error [Errno -3] Temporary failure in name resolution>")

    for name in ("KMNIST", "MNIST", "FashionMNIST"):
        monkeypatch.setattr(torchvision.datasets, name, Offline)
    monkeypatch.setattr(vae.data.datasets, "DOWNLOAD_DIR", tmp_path / "downloads")
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)


def test_picker_lists_every_broken_checkpoint_with_its_reason(broken_root, monkeypatch, offline):
    use_root(monkeypatch, broken_root)
    at = new_app()
    at.run()
    assert_app_ok(at)
    offered = at.sidebar.selectbox[0].options
    assert offered == ["digits", "folder-missing (data not here)", "kmnist-missing (data not here)"]
    expander = at.sidebar.expander[0]
    assert expander.label == f"{len(BROKEN)} checkpoint folder(s) could not be loaded"
    listed = {m.value.split("**")[1]: m.value for m in expander.markdown}
    assert set(listed) == set(BROKEN)
    for name, reason in BROKEN.items():
        assert reason in listed[name], (name, listed[name])


@pytest.mark.parametrize("name, warning, error", [
    ("kmnist-missing", "python -m vae data --fetch kmnist", "downloading it failed"),
    ("folder-missing", "its image folder", "is gone (moved or deleted); pass --data-dir"),
])
def test_a_checkpoint_whose_data_is_not_here_gets_an_error_not_a_crash(broken_root, monkeypatch, offline,
                                                                      name, warning, error):
    use_root(monkeypatch, broken_root)
    at = new_app()
    at.session_state["ckpt"] = name
    at.run()
    assert_app_ok(at)
    notes = [w.value for w in at.sidebar.warning]
    assert len(notes) == 1 and name in notes[0] and warning in notes[0], notes
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(f"**{name}** cannot be explored here:"), errors
    assert error in errors[0], errors
    for page in ("sliders", "generate", "your_image"):  # every page says the same and keeps running
        switch(at, f"pages/{page}.py").run()
        assert_app_ok(at, page)
        assert len(at.error) == 1, (page, [e.value for e in at.error])


def main_in_process(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in this process: (exit code, stderr)."""
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse errors
            code = e.code
    return code, err.getvalue()


def assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, (code, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("command", [["info"], ["evaluate", "--iwae-k", "2"], ["sample", "--out", "{tmp}/s.png"],
                                     ["reconstruct", "--out", "{tmp}/r.png"], ["export", "--out", "{tmp}/e"]])
def test_cli_on_a_broken_checkpoint_exits_2_with_one_line(broken_root, tmp_path, name, command):
    args = [command[0], str(broken_root / name), *(a.format(tmp=tmp_path) for a in command[1:])]
    code, err = main_in_process(args)
    assert_one_line(code, err, f"python -m vae {command[0]}: error:", BROKEN[name])
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "r.png").exists()


@pytest.mark.parametrize("command", [["evaluate", "--no-save"], ["reconstruct", "--out", "{tmp}/x.png"],
                                     ["export", "--out", "{tmp}/x"], ["project", "--method", "pca"]])
def test_cli_on_a_checkpoint_whose_data_is_missing(broken_root, offline, tmp_path, command):
    """The download's own multi-line error still reaches the terminal as one line."""
    rest = [a.format(tmp=tmp_path) for a in command[1:]]
    code, err = main_in_process([command[0], str(broken_root / "kmnist-missing"), *rest])
    assert_one_line(code, err, "kmnist is not on this machine and downloading it failed", "data/kmnist/")
    code, err = main_in_process([command[0], str(broken_root / "folder-missing"), *rest])
    assert_one_line(code, err, "is gone (moved or deleted); pass --data-dir with its new place")


def test_cli_in_a_real_process_on_a_broken_checkpoint(broken_root):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "vae", "info", str(broken_root / "mismatch")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert_one_line(r.returncode, r.stderr, "does not match")


# -- the CLI: every typed option of every command, given the wrong type or an out-of-range value ----
def _typed_options():
    """(command, option, kind) for every option with a type or a fixed set of choices."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for command, p in sub.choices.items():
        for a in p._actions:
            if not a.option_strings or a.help == "==SUPPRESS==" or a.nargs == 0:
                continue
            kind = "choices" if a.choices else getattr(a.type, "__qualname__", "")
            if kind:
                yield command, a.option_strings[0], kind


def _argv(command: str, option: str, value: str) -> list[str]:
    if command == "import":  # its required options, then the bad one (refused before any file is read)
        return [command, "--encoder", "e.onnx", "--decoder", "d.onnx", "--dataset", "fashion-mnist", "--out", "x",
                option, value]
    needs_checkpoint = command not in ("train", "data", "train-gan", "train-classifier")
    needs_out = command in ("train", "sample", "reconstruct", "export", "train-gan", "train-classifier")
    return [command, *(["ck"] if needs_checkpoint else []), *(["--out", "x"] if needs_out else []),
            option, value]


TYPED = list(_typed_options())


def test_the_option_list_covers_every_command():
    assert {c for c, _, _ in TYPED} == {"train", "evaluate", "sample", "reconstruct", "export", "project", "map", "data",
                                       "train-gan", "train-classifier", "compare", "import"}
    assert len(TYPED) >= 40


@pytest.mark.parametrize("command, option, kind", TYPED, ids=[f"{c} {o}" for c, o, _ in TYPED])
def test_every_typed_option_refuses_a_wrong_type(command, option, kind):
    code, err = main_in_process(_argv(command, option, "bogus"))
    assert_one_line(code, err, option)
    assert "bogus" in err


RANGED = [(c, o, k) for c, o, k in TYPED if "_positive_int" in k or "_float" in k]


@pytest.mark.parametrize("command, option, kind", RANGED, ids=[f"{c} {o}" for c, o, _ in RANGED])
def test_every_ranged_option_refuses_out_of_range_values(command, option, kind):
    bad = ["0", "-1"] if "_positive_int" in kind else ["-1", "nan", "inf"]
    for value in bad:
        code, err = main_in_process(_argv(command, option, value))
        assert_one_line(code, err, option)


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "digits", "--image-size", "2"], "image_size must be between 4 and 256"),
    (["train", "--dataset", "digits", "--arch", "conv", "--hidden", "4,4,4,4"], "divisible by 16, got 8x8"),
    (["train", "--dataset", "digits", "--hidden", "0,4"], "sizes must be positive whole numbers"),
    (["train", "--dataset", "digits", "--latent-dim", "2000"], "latent_dim must be <= 1024"),
    (["train", "--dataset", "mnist", "--data-dir", "/no/such/dir"], "data directory '/no/such/dir' does not exist"),
    (["evaluate", str(SHIPPED_DIGITS), "--no-save", "--data-dir", "/no/such/dir"], "data directory '/no/such/dir' does not exist"),
    (["project", str(SHIPPED_DIGITS), "--method", "latent"], "needs latent_dim 2, got 8"),
    (["data", "--check", "fashon-mnist"], "did you mean 'fashion-mnist'"),
    (["data", "--fetch", "kmnst"], "did you mean 'kmnist'"),
])
def test_values_checked_after_parsing_exit_2_with_one_line(tmp_path, args, message):
    if args[0] == "train":
        args = [*args, "--out", str(tmp_path / "out"), "--epochs", "1"]
    code, err = main_in_process(args)
    assert_one_line(code, err, message)
    assert not (tmp_path / "out").exists()


def test_an_image_folder_with_a_broken_file_names_it(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (12 + i, 9), 30 * i).save(tmp_path / "imgs" / cls / f"{i}.png")
    (tmp_path / "imgs" / "b" / "bad.png").write_bytes(b"not a png")
    code, err = main_in_process(["train", "--dataset", f"folder:{tmp_path / 'imgs'}", "--image-size", "8",
                                 "--arch", "mlp", "--epochs", "1", "--out", str(tmp_path / "out")])
    assert_one_line(code, err, "cannot read image", "bad.png")


# -- links: ?ckpt= and ?z= never open anything outside checkpoints/ --------------------------------
@pytest.fixture()
def root_and_outside(tmp_path):
    root = digits_root(tmp_path)
    shutil.copytree(SHIPPED_DIGITS, tmp_path / "outside", ignore=shutil.ignore_patterns("projections"))
    return root, tmp_path / "outside"


def _ckpt_links(outside: Path) -> list[str]:
    return [
        "../outside", str(outside), str(SHIPPED_DIGITS), "/etc", "/etc/passwd", "..", ".", "",
        "..%2Foutside", "%2e%2e%2foutside", "digits/../../outside", "digits/", "./digits", "~/digits",
        "..\\outside", "digits\x00", "digits\n", "x" * 5000, "DIGITS",
    ]


def test_checkpoint_links_never_leave_the_checkpoints_folder(root_and_outside, monkeypatch):
    import vae.checkpoint

    root, outside = root_and_outside
    use_root(monkeypatch, root)
    opened: list[Path] = []
    real = vae.checkpoint.load_checkpoint

    def spy(path, *a, **k):
        opened.append(Path(path).resolve())
        return real(path, *a, **k)

    monkeypatch.setattr(vae.checkpoint, "load_checkpoint", spy)
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "load_checkpoint", spy)
    for link in _ckpt_links(outside):
        at = new_app()
        at.query_params["ckpt"] = link
        at.query_params["z"] = "0,0,0,0,0,0,0,0"
        switch(at, "pages/sliders.py").run()
        assert_app_ok(at, link)
        assert at.session_state["ckpt"] == "digits", link
        assert any("not a loadable checkpoint" in w.value for w in at.warning), link
        assert at.title[0].value == "Sliders"
    assert opened and all(p.parent == root.resolve() for p in opened), opened


@pytest.mark.parametrize("code, why", [
    ("0,0,0", "has 3 values but this model has 8 dimensions"),
    ("0," * 5000, "has 5000 values"),
    ("", "has 0 values"),
    ("1e999,0,0,0,0,0,0,0", "NaN or infinite"),
    ("-nan,0,0,0,0,0,0,0", "NaN or infinite"),
    ("0x1f,0,0,0,0,0,0,0", "not a list of numbers"),
    ("<script>,0,0,0,0,0,0,0", "not a list of numbers"),
    ("1;2;3;4;5;6;7;8", "has 1 values"),
])
def test_malformed_latent_codes_in_links_fall_back_with_a_notice(tmp_path, monkeypatch, code, why):
    use_root(monkeypatch, digits_root(tmp_path))
    at = new_app()
    at.query_params["ckpt"] = "digits"
    at.query_params["z"] = code
    switch(at, "pages/sliders.py").run()
    assert_app_ok(at)
    notes = [w.value for w in at.warning if "Ignored the link's code" in w.value]
    assert len(notes) == 1 and why in notes[0], [w.value for w in at.warning]
    assert all(v == 0.0 for v in at.session_state["sl_start"])


def test_out_of_range_codes_in_links_are_clipped_not_refused(tmp_path, monkeypatch):
    use_root(monkeypatch, digits_root(tmp_path))
    at = new_app()
    at.query_params["ckpt"] = "digits"
    at.query_params["z"] = "1e30,-1e30,0,0,0,0,0,0"
    switch(at, "pages/sliders.py").run()
    assert_app_ok(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.session_state["sl_start"][:2] == [4.0, -4.0]
