"""Seeded, tiny fixtures shared by the suite: a digits checkpoint trained once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Compute threads (torch's OpenMP, MKL, OpenBLAS) per test process: the cores shared between the
#: pytest-xdist lanes (make test: two lanes), at most 2. With two threads in each of two lanes on 2
#: cores, a lane's threads spin-wait for the core the other lane holds: test_byo, test_projection and
#: test_benchmarks beside one busy core took 234 s and 249 CPU-s with 2 threads, 157 s and 156 CPU-s
#: with 1. In a lane, set before torch loads, for the processes its tests start (CLI runs, servers)
#: too; only there, as the controlling process's environment would reach the lanes first.
THREADS = max(1, min(2, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)))
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, str(THREADS))  # a value the user set wins

import torch  # noqa: E402  (after the thread settings)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "tests" / "artifacts"
torch.set_num_threads(THREADS)


@pytest.fixture(scope="session")
def digits_data():
    from vae.data.datasets import load_dataset

    return load_dataset("digits", "train"), load_dataset("digits", "test")


@pytest.fixture(scope="session")
def digits_checkpoint(tmp_path_factory, digits_data):
    """A small MLP VAE trained for 4 epochs on digits (a few seconds)."""
    from vae.config import ModelConfig, TrainConfig
    from vae.training.trainer import Trainer

    out = tmp_path_factory.mktemp("ck") / "digits-mlp"
    mc = ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=4, hidden_dims=(64, 32))
    tc = TrainConfig(dataset="digits", out=str(out), epochs=4, batch_size=64, lr=3e-3, seed=0)
    Trainer(mc, tc, *digits_data).run()
    return out


@pytest.fixture()
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def write_image_folder(root: Path, size: int | tuple[int, int] = 16, mode: str = "RGB", per_class: int = 12,
                       classes: tuple[str, ...] = ("circle", "square", "triangle"), background="white",
                       seed: int = 0) -> Path:
    """A folder dataset of seeded coloured (or grey) shapes, one sub-folder per class: root/<class>/*.png."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    w, h = (size, size) if isinstance(size, int) else size
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            im = Image.new(mode, (w, h), background)
            d = ImageDraw.Draw(im)
            colour = tuple(rng.randrange(0, 200) for _ in range(3)) if mode == "RGB" else rng.randrange(0, 120)
            r = rng.uniform(0.2, 0.35) * min(w, h)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            box = (cx - r, cy - r, cx + r, cy + r)
            if cls == "circle":
                d.ellipse(box, fill=colour)
            elif cls == "square":
                d.rectangle(box, fill=colour)
            else:
                d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
            im.save(root / cls / f"{i:03d}.png")
    return root


def write_idx(path: Path, arr, gz: bool = True) -> Path:
    """An IDX file (uint8) as Fashion-MNIST ships them: big-endian header, then the bytes."""
    import gzip
    import struct

    import numpy as np

    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + np.asarray(arr).astype(np.uint8).tobytes())
    return path


def write_fashion_mnist(root: Path, test: int, train_from_test: bool = False) -> Path:
    """A data folder for $VAE_DATA_DIR (searched before data/): the first ``test`` images of the
    shipped test split as ``fashion-mnist``'s test split, and with ``train_from_test`` all 10,000
    shipped test images standing in for the train split (which is not on every machine).
    Returns ``root``."""
    import numpy as np

    from vae.data.datasets import PROJECT_DATA_DIR, read_idx

    src = PROJECT_DATA_DIR / "fashion-mnist"
    images, labels = read_idx(src / "t10k-images-idx3-ubyte.gz"), read_idx(src / "t10k-labels-idx1-ubyte.gz")
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images[:test])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.asarray(labels[:test]))
    if train_from_test:
        write_idx(folder / "train-images-idx3-ubyte.gz", images)
        write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    return root


@pytest.fixture()
def image_folder():
    """write_image_folder, for tests that need a folder dataset of their own."""
    return write_image_folder


def _url_of(value) -> str | None:
    """The URL a fixture's value stands for: a server's URL (a string, {"url": ...}, a Server), or the
    address of a browser tab."""
    if isinstance(value, str):
        return value
    try:
        url = value.get("url") if isinstance(value, dict) else getattr(value, "url", None)
    except Exception:  # a closed tab, an object whose url cannot be read now
        return None
    return url if isinstance(url, str) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test that used a streamlit server (a fixture yielding it, its URL, or a tab on it) shows
    that server's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    from pagecheck import SERVER_LOGS

    urls = {u for u in map(_url_of, item.funcargs.values()) if u}
    for server in [s for s in SERVER_LOGS if any(u == s or u.startswith(s + "/") for u in urls)]:
        rep.sections.append((f"streamlit server log ({server}), last lines", SERVER_LOGS[server]()))


# -- the app in a real browser (tests/browser/test_browser.py has the helpers) -------------------------------
@pytest.fixture(scope="session")
def server():
    """`streamlit run app.py` on a free port, one for the whole run: every browser test module that
    does not need a server of its own shares it (and the caches it fills: maps, story measurements),
    as the users of one classroom server do. Tests that need a fresh server start their own."""
    from browser_helpers import serving

    with serving() as served:
        yield served.url


def is_local(url: str) -> bool:
    """Whether a request stays on this machine (the app's server, or data the page made itself)."""
    from urllib.parse import urlparse

    u = urlparse(url)
    return u.scheme in ("data", "blob", "about") or u.hostname in ("localhost", "127.0.0.1", "::1")


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (Playwright's sync API; skipped, with the reason, without one).

    Every context it opens records the requests that would leave the machine (a font, icon or script
    from a CDN: offline it fails, online it tells a third party who opened the app) in
    ``browser.outside``; ``_nothing_leaves_the_machine`` fails the test that made one."""
    from playwright.sync_api import sync_playwright

    from benchmarks.app_driver import CHROMIUM_ARGS, chromium_path

    exe = chromium_path(shell=True)  # the headless shell where installed, else Chromium
    with sync_playwright() as p:
        kw = dict(args=CHROMIUM_ARGS)
        try:
            b = p.chromium.launch(executable_path=exe, **kw) if exe else p.chromium.launch(**kw)
        except Exception as e:  # no browser on this machine
            pytest.skip(f"no Chromium available ({str(e).splitlines()[0][:120]}); run `make browser`")
        b.outside = []
        b.devices = p.devices  # Playwright's device profiles (viewport, touch, user agent): b.devices["iPhone 13"]
        new_context = b.new_context

        def recording_context(*args, **kwargs):
            ctx = new_context(*args, **kwargs)
            ctx.on("request", lambda r: None if is_local(r.url) else b.outside.append(f"{r.resource_type} {r.url}"))
            return ctx

        b.new_context = recording_context
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _nothing_leaves_the_machine(request):
    """A browser test fails when any page it opened asked anything of another machine (issue #14)."""
    if "browser" not in request.fixturenames:
        yield
        return
    b = request.getfixturevalue("browser")
    b.outside.clear()
    yield
    assert not b.outside, "requests that left the machine:\n" + "\n".join(sorted(set(b.outside)))


@pytest.fixture(scope="module")
def tabs(browser):
    """One browser context per test module, whose tabs the ``page`` fixture opens: they share the HTTP
    cache and V8's code cache, as one user's tabs do, so that the in-page decoder's 14 MB WebAssembly
    runtime is fetched, gzipped by the server and compiled once a module instead of once a test.
    Measured on Sliders, three loads each: 6.0-8.7 CPU-s in a fresh context, 4.1-4.6 in a used one,
    3.7-4.6 without WebAssembly. The app keeps nothing in the browser (no storage; a cookie of its own only
    once a tab has started a training run: components/browser_id)."""
    from browser_helpers import VIEWPORT

    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(tabs, server):
    """A new tab on ``server`` (1440 x 950): a Streamlit session of its own. Its console's errors and
    warnings, and uncaught errors, collect in ``pg.console`` (for failure messages)."""
    from browser_helpers import new_tab

    pg = new_tab(tabs)
    yield pg
    pg.close()


# -- lanes (make test: pytest -n 2 --dist loadscope) -------------------------------------------------
#: Modules that drive Chromium against the session's streamlit server, in two groups of about equal
#: time (about 350 and 310 s on 2 cores, in one lane). With pytest-xdist, each group runs one after
#: another in one worker, against that worker's own server (the session fixture), and the other
#: workers take the rest a module at a time (its module-scoped fixtures built once); with two workers
#: (make test's default), both groups share one lane. Three workers on 2 cores were slower than two
#: (16.8 against 16.0 min): the cores are the limit.
BROWSER_GROUPS = (
    {"test_classroom", "test_layout", "test_browser_i18n", "test_browser_story"},
    {"test_browser", "test_live_decode"},
)
#: Browser modules with servers of their own (module fixtures), each a scope at the end of the queue:
#: whichever lane is free first takes it. With all of them in the browser lane, that lane ran 150 s
#: after the other had finished, on one core of two (measured on 2 cores: 855 s against 707 s).
LATE = {"test_robustness_server", "test_byo_browser", "test_bigmap_browser", "test_notebook", "test_class_and_phones"}
#: Modules taken first by the other lane (right after the browser group): test_projection compiles
#: UMAP's numba kernels into the suite's disk cache (a fresh clone has none: ~45 CPU-s), so that the
#: processes that fit a UMAP later (the server's Refine, the README example, the big-map server) load
#: them (~7 CPU-s). In the middle of the queue, it compiled them at the same time as the server's Refine.
#: Not yet shown to shorten the suite: one pair of runs was within the noise (Refine 19.6 -> 18.2 s).
EARLY = {"test_projection"}


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: a run with -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    """--dist loadscope with the browser modules in one scope per group (one scope for all of them
    with fewer than three workers). (xdist's own ``loadgroup`` cannot group here: it renames test
    ids through an attribute pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    workers = getattr(config.option, "numprocesses", None)
    split = isinstance(workers, int) and workers >= 3

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = Path(nodeid.split("::", 1)[0]).stem
            for k, group in enumerate(BROWSER_GROUPS):
                if module in group:
                    return f"browser-{k if split else 0}"
            return nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node) -> None:
            for scope in [s for s in self.workqueue if Path(s).stem in LATE]:
                self.workqueue.move_to_end(scope)  # the LATE modules last
            for scope in [s for s in self.workqueue if Path(s).stem in EARLY]:
                self.workqueue.move_to_end(scope, last=False)  # the EARLY ones first,
            for scope in [s for s in self.workqueue if s.startswith("browser-")]:
                self.workqueue.move_to_end(scope, last=False)  # after the browser lane's (the longest)
            super()._assign_work_unit(node)

    return Lanes(config, log)


# -- the suite leaves the working tree as it found it ------------------------------------------
def _git_status() -> set[str] | None:
    """`git status --porcelain` lines (None outside a git checkout or without git)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


def _scan_installed_components_once() -> None:
    """Streamlit's AppTest scans every installed distribution for custom components (v2 manifests) for
    each new AppTest: it parses each package's METADATA three times with the email parser, 0.08-0.12 s
    of CPU a scan here (96 distributions), and the tests make 277 AppTests (tests/app/test_link.py's 88:
    47.2 -> 35.2 CPU-s). Nothing is installed while a test process runs, so the scan's answer is kept
    for the process: the same list, computed once. A server (``streamlit run``) scans once when it
    starts, as before."""
    import functools

    from streamlit.components.v2 import manifest_scanner

    scan = manifest_scanner.scan_component_manifests
    if not hasattr(scan, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(scan)


def pytest_sessionstart(session):
    session.config.stash[_GIT_BEFORE] = _git_status()
    if not getattr(session.config.option, "numprocesses", None) or hasattr(session.config, "workerinput"):
        _scan_installed_components_once()  # in each process that runs tests (not xdist's controller)
    # numba's compiled kernels (UMAP, k-NN) in one folder for every process the tests start: a
    # subprocess with a VAE_EXPLORER_CACHE of its own would otherwise compile UMAP's anew (~17 s of CPU)
    from vae.data.cache import numba_cache_dir

    numba_cache_dir()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when it changed what git sees (a rewritten screenshot, doc or checkpoint):
    test output belongs in ignored folders (tests/artifacts/, runs/, cache/)."""
    before = session.config.stash.get(_GIT_BEFORE, None)
    after = _git_status() if before is not None else None
    if after is None:
        return
    changed = sorted(after - before)
    if changed:
        rep = session.config.pluginmanager.get_plugin("terminalreporter")
        msg = ("the tests changed the working tree (git status); write test output into an ignored "
               "folder instead:\n  " + "\n  ".join(changed[:20]))
        if rep is not None:
            rep.write_sep("=", "working tree changed", red=True)
            rep.write_line(msg)
        else:
            print(msg, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_GIT_BEFORE = pytest.StashKey[set | None]()


# -- bring your own VAE (tests/byo_model.py) ----------------------------------------------------------
@pytest.fixture(scope="session")
def their_vae():
    """TheirVAE (not ours: MLP on flattened input, 20-D, clamped output), 4 epochs on 5,000 shipped images."""
    from byo_model import train_their_vae

    from vae.data.datasets import load_dataset

    return train_their_vae(load_dataset("fashion-mnist", "test").images[:5000])


@pytest.fixture(scope="session")
def their_onnx(tmp_path_factory, their_vae):
    """TheirVAE exported to encoder.onnx and decoder.onnx, as a researcher would hand them over."""
    from vae.byo.importer import export_graphs

    return export_graphs(their_vae, tmp_path_factory.mktemp("their-onnx"), (1, 28, 28))


@pytest.fixture(scope="session")
def imported_root(tmp_path_factory, their_onnx):
    """A checkpoints folder: ``theirs`` (TheirVAE imported; PCA map, a quick IWAE) beside a link to our
    shipped ``fashion-mnist``."""
    from vae.byo.importer import import_onnx

    root = tmp_path_factory.mktemp("byo") / "checkpoints"
    import_onnx(*their_onnx, "fashion-mnist", root / "theirs", iwae_k=10, iwae_images=50, map_method="pca")
    (root / "fashion-mnist").symlink_to(ROOT / "checkpoints" / "fashion-mnist")
    return root


@pytest.fixture(scope="session")
def pythae_vaes():
    """Two pythae models (tests/pythae_models.py): ``beta`` (default MLPs) and ``conv`` (BatchNorm),
    each trained for two epochs on 3,000 shipped test images."""
    from pythae_models import train_pythae

    from vae.data.datasets import load_dataset

    images = load_dataset("fashion-mnist", "test").images[:3000]
    return {kind: train_pythae(kind, images) for kind in ("beta", "conv")}


@pytest.fixture(scope="session")
def pythae_root(tmp_path_factory, pythae_vaes):
    """A checkpoints folder holding both pythae models imported (PCA maps, a quick IWAE) the two ways a
    researcher brings them, beside links to our shipped ``fashion-mnist`` and ``fashion-mnist-ae``:

    - ``pythae-beta``: the model itself, ``export_vae(model, ...)`` (no wrapper);
    - ``pythae-conv``: its encoder and decoder exported with ``torch.onnx.export`` as they are (pythae's
      ModelOutput outputs; the legacy exporter flattens them, a dynamic batch axis), then
      ``python -m vae import`` (through ``vae.cli.main``, in this process) with ``--source``."""
    import warnings

    from vae.byo.importer import export_vae
    from vae.cli import main

    root = tmp_path_factory.mktemp("pythae") / "checkpoints"
    export_vae(pythae_vaes["beta"], root / "pythae-beta", dataset="fashion-mnist", iwae_k=10, iwae_images=50,
               map_method="pca", progress=False)
    conv, graphs = pythae_vaes["conv"], tmp_path_factory.mktemp("pythae-conv-onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation notes
        for part, example, names in (("encoder", torch.zeros(2, 1, 28, 28), (["x"], ["mu", "logvar"])),
                                     ("decoder", torch.zeros(2, 8), (["z"], ["image"]))):
            torch.onnx.export(getattr(conv, part), (example,), str(graphs / f"{part}.onnx"), dynamo=False,
                              input_names=names[0], output_names=names[1], dynamic_axes={names[0][0]: {0: "batch"}})
    code = main(["import", "--encoder", str(graphs / "encoder.onnx"), "--decoder", str(graphs / "decoder.onnx"),
                 "--dataset", "fashion-mnist", "--out", str(root / "pythae-conv"), "--source", PYTHAE_CONV_SOURCE,
                 "--iwae-k", "10", "--iwae-images", "50", "--map", "pca"])
    assert code == 0, "python -m vae import refused pythae-conv (its stderr says why)"
    for name in ("fashion-mnist", "fashion-mnist-ae"):
        (root / name).symlink_to(ROOT / "checkpoints" / name)
    return root


#: the --source pythae-conv is imported with (pythae_root)
PYTHAE_CONV_SOURCE = "pythae 0.1.2 VAE, own conv encoder/decoder, exported with torch.onnx.export"


def in_process(main, name: str, capsys, *args) -> subprocess.CompletedProcess:
    """`python -m NAME ARGS` run from the project folder through its ``main(argv)`` in the test's own
    process (no seconds of imports, nor a second compile of UMAP's numba code, per command), with what
    it printed: shaped like ``subprocess.run``'s result."""
    import contextlib

    capsys.readouterr()  # drop anything printed before
    with contextlib.chdir(ROOT):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's refusals exit 2 from inside main
            code = e.code
    printed = capsys.readouterr()
    return subprocess.CompletedProcess([name, *map(str, args)], code, printed.out, printed.err)


def cli(capsys, *args) -> subprocess.CompletedProcess:
    """`python -m vae ARGS` through ``vae.cli.main`` in the test's own process (``in_process``)."""
    from vae.cli import main

    return in_process(main, "vae", capsys, *args)
