"""Maps of large explore sets: every image (train + test) placed on the test map, and posterior samples
of every image (a million codes for Fashion-MNIST); the library, the CLI and the Map page (AppTest).

The Fashion-MNIST train split is not needed: digits (1,797 images, both splits offline) and synthetic
codes stand in for it."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
from app_helpers import app_test
from pagecheck import assert_app_ok
from streamlit.testing.v1 import AppTest

from vae.checkpoint import load_checkpoint
from vae.cli import main
from vae.explore.latent import Encoding
from vae.explore.projection import LatentMap, ProjectionConfig, place_on_map, trustworthiness
from vae.explore.sets import (
    ALL,
    MAX_CODES,
    all_available,
    all_parts,
    combine,
    explore_parts,
    explore_set,
    placed_projection,
    posterior_samples,
    projection,
    sample_map,
)

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "checkpoints" / "digits"


def synthetic(n: int = 3000, d: int = 6, seed: int = 0) -> Encoding:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (5, d))
    labels = rng.integers(0, 5, n)
    mu = (centres[labels] + rng.normal(0, 1, (n, d))).astype(np.float32)
    logvar = np.full((n, d), np.log(0.3**2), np.float32)
    z = np.zeros(n, np.float32)
    return Encoding(mu, logvar, z, z, np.zeros((n, d), np.float32), z, labels.astype(np.int64))


# -- placing codes on a fitted map -----------------------------------------------------------------
def test_placing_is_latent_maps_own_placement_and_keeps_the_maps_points():
    enc = synthetic()
    base = LatentMap(enc.mu[:500], np.random.default_rng(1).normal(size=(500, 2)).astype(np.float32))
    placed = place_on_map(base, enc.mu, chunk=700)  # several chunks
    assert placed.shape == (3000, 2) and placed.dtype == np.float32
    np.testing.assert_array_equal(placed[:500], base.coords)  # its own codes land exactly on their points
    np.testing.assert_allclose(placed, base.to_map(enc.mu), rtol=0, atol=1e-6)


@pytest.mark.slow
def test_a_placed_map_keeps_the_neighbourhoods_of_a_full_fit():
    """Fit t-SNE on a fifth of the codes, place the rest: sklearn's trustworthiness of the whole map
    (against the codes) stays near that of t-SNE fitted on all of them."""
    enc = synthetic(600)
    from vae.explore.projection import fit_projection

    cfg = ProjectionConfig(method="tsne")
    base_coords, _ = fit_projection(enc.mu[:120], cfg)
    placed = np.concatenate([base_coords, place_on_map(LatentMap(enc.mu[:120], base_coords), enc.mu[120:])])
    full, _ = fit_projection(enc.mu, cfg)
    t_placed, t_full = trustworthiness(enc.mu, placed), trustworthiness(enc.mu, full)
    assert t_placed >= 0.9 and t_placed >= t_full - 0.05, (t_placed, t_full)


# -- posterior samples ---------------------------------------------------------------------------
def test_posterior_samples_are_drawn_around_each_images_mean():
    enc = synthetic(400)
    codes, owner = posterior_samples(enc, 50, seed=3)
    assert codes.shape == (20_000, 6) and codes.dtype == np.float32
    np.testing.assert_array_equal(owner, np.repeat(np.arange(400), 50))
    per_image = codes.reshape(400, 50, 6)
    sigma = np.exp(0.5 * enc.logvar)
    z = (per_image - enc.mu[:, None]) / sigma[:, None]  # standard normal if drawn from q(z|x)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    again, _ = posterior_samples(enc, 50, seed=3)
    np.testing.assert_array_equal(codes, again)


def test_too_many_codes_are_refused_naming_the_numbers():
    enc = synthetic(100_001, d=2)
    with pytest.raises(ValueError, match=r"100,001 images x 11 samples is 1,100,011 codes, more than the 1,100,000"):
        posterior_samples(enc, 11)
    assert MAX_CODES >= 70_000 * 15


def test_a_sample_map_is_cached_and_ties_each_code_to_its_image(tmp_path):
    ck = load_checkpoint(DIGITS)
    data = ck.load_data("test")
    enc = explore_set(ck, data, tmp_path)
    coords, _ = projection(ck, "test", enc, ProjectionConfig(method="pca"), tmp_path)
    lmap = LatentMap(enc.mu, coords)
    cfg = ProjectionConfig(method="pca")
    sm = sample_map(ck, "test", enc, lmap, 4, cfg, cache_dir=tmp_path)
    assert len(sm) == 4 * len(enc) and sm.per_image == 4
    assert np.all(enc.labels[sm.owner].reshape(-1, 4) == enc.labels[:, None])
    again = sample_map(ck, "test", enc, lmap, 4, cfg, cache_dir=tmp_path)  # from the disk cache
    np.testing.assert_array_equal(again.coords, sm.coords)
    assert list(tmp_path.glob("samples-*-test-*-k4-*.npz"))


# -- every image: test + train ---------------------------------------------------------------------
def test_the_all_set_is_the_test_split_then_the_train_split(tmp_path):
    ck = load_checkpoint(DIGITS)
    assert all_available(ck)
    parts = all_parts(ck)
    data = combine(parts)
    assert data.split == ALL and len(data) == len(parts[0]) + len(parts[1]) == 1797
    np.testing.assert_array_equal(data.images[: len(parts[0])].numpy(), parts[0].images.numpy())
    enc = explore_parts(ck, parts, tmp_path)
    base = explore_set(ck, parts[0], tmp_path)
    np.testing.assert_array_equal(enc.mu[: len(base)], base.mu)  # the test split's own codes, reused
    cfg = ProjectionConfig(method="tsne")
    coords = placed_projection(ck, ALL, base, enc, cfg, tmp_path)
    base_coords, _ = projection(ck, "test", base, cfg, tmp_path)
    np.testing.assert_array_equal(coords[: len(base)], base_coords)  # the test map, unchanged
    assert trustworthiness(enc.mu, coords) >= 0.85
    assert list(tmp_path.glob("proj-*-all-1797-tsne-*-on-test.npz"))


# -- the CLI ----------------------------------------------------------------------------------------
def _cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_cli_map_builds_the_all_set_and_its_samples_into_the_cache(tmp_path):
    code, out, err = _cli("map", str(DIGITS), "--split", "all", "--samples", "3", "--method", "pca",
                          "--cache-dir", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("1,797 images of digits (all): encoded in ") and f"cached in {tmp_path}" in lines[0]
    assert lines[1].startswith("5,391 codes (3 posterior samples of each image) placed in ")
    assert list(tmp_path.glob("samples-*-all-1797-k3-s0-pca.npz"))


def test_cli_map_refuses_more_codes_than_a_map_holds(tmp_path):
    code, out, err = _cli("map", str(DIGITS), "--samples", "5000", "--method", "pca", "--cache-dir", str(tmp_path))
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("python -m vae map: error: 360 images x 5000 samples is 1,800,000 codes, more than")


# -- the Map page -----------------------------------------------------------------------------------
def _app(**state) -> AppTest:
    at = app_test(300)
    at.session_state["ckpt"] = "digits"
    for k, v in state.items():
        at.session_state[k] = v
    return at


def test_the_sidebar_offers_every_image_where_the_train_split_is_here():
    at = _app()
    at.run()
    assert_app_ok(at)
    radio = at.sidebar.radio(key="split")
    assert radio.options == ["test split", "train split (first 10,000)", "all 1,797 (train + test)"]
    radio.set_value(ALL).run()
    assert_app_ok(at, errors=True)
    assert "1,797 images (train + test)" in at.caption[0].value
    chart = at.get("plotly_chart")[0]
    assert chart.proto.spec  # the WebGL map of every image, as at 10,000


def test_the_map_shows_posterior_samples_and_the_image_of_one():
    at = _app(split=ALL, map_per_image=5)
    at.run()
    assert_app_ok(at, errors=True)
    assert not at.get("plotly_chart")  # the density component draws them instead
    assert any("8,985 codes: 5 posterior samples of each of the 1,797 images" in c.value for c in at.caption)
    at.session_state["map_sample"] = {"key": "map_samples_digits_all_umap-nn15-md0.1-s42_5", "index": 7}
    at.run()
    assert_app_ok(at, errors=True)
    assert at.subheader[0].value.startswith("#1 · ") and at.subheader[0].value.endswith("sample 3 of 5")


# -- the page's density raster (components/big_map/raster.js, run by node) ----------------------------
NODE = __import__("shutil").which("node")
RASTER = ROOT / "components" / "big_map" / "raster.js"


@pytest.mark.skipif(NODE is None, reason="node not installed (only this check of raster.js needs it)")
def test_the_density_counts_the_codes_in_view_as_there_are(tmp_path):
    """A sampled frame (more codes in view than the frame's budget) says how many codes are in view:
    exactly the number there are with the whole map in view, and within 1% of a NumPy count with a
    part of it (a cell on the view's edge is estimated from its sample)."""
    import json
    import subprocess

    rng = np.random.default_rng(0)
    n = 300_000
    xy = np.concatenate([rng.normal(c, 1.0, (n // 3, 2)) for c in ((-3, 0), (2, 2), (0, -4))]).astype(np.float32)
    cls = np.repeat(np.arange(3), n // 3).astype(np.uint8)
    bounds = [float(xy[:, 0].min()) - 0.1, float(xy[:, 1].min()) - 0.1, float(xy[:, 0].max()) + 0.1,
              float(xy[:, 1].max()) + 0.1]
    part = {"x0": -2.5, "y0": -1.7, "x1": 3.2, "y1": 2.9}
    views = [dict(zip(("x0", "y0", "x1", "y1"), bounds, strict=True)), part]
    (tmp_path / "xy.bin").write_bytes(xy.tobytes())
    (tmp_path / "cls.bin").write_bytes(cls.tobytes())
    script = f"""
import {{ buildIndex, rasterize }} from {json.dumps(RASTER.as_uri())};
import {{ readFileSync }} from "node:fs";
const b = readFileSync({json.dumps(str(tmp_path / "xy.bin"))});
const xy = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
const cls = new Uint8Array(readFileSync({json.dumps(str(tmp_path / "cls.bin"))}));
const index = buildIndex(xy, cls, {json.dumps(bounds)});
const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
const out = new Uint8ClampedArray(400 * 300 * 4);
const found = {json.dumps(views)}.map((v) => rasterize(index, palette, v, 400, 300, 2000, out, {{ budget: 50000 }}));
console.log(JSON.stringify(found));
"""
    (tmp_path / "run.mjs").write_text(script, encoding="utf-8")
    r = subprocess.run([NODE, str(tmp_path / "run.mjs")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    whole, partial = json.loads(r.stdout)
    assert whole["mode"] == "density" and whole["read"] < n, whole
    assert whole["inView"] == n, f"{whole['inView']:,} codes in view of {n:,}"
    inside = ((xy[:, 0] >= part["x0"]) & (xy[:, 0] < part["x1"]) & (xy[:, 1] > part["y0"])
              & (xy[:, 1] <= part["y1"])).sum()
    assert abs(partial["inView"] - inside) <= 0.01 * inside, (partial["inView"], int(inside))
