"""The map's thumbnails: the chunk files (vae.export.thumbnails) round-trip to the images, and the page's
twin (components/map_thumbs/thumbs.js, run by node) picks and fetches exactly what the Python twins
(vae.explore.thumb_view, ThumbLayout.chunks_for) do, on the same points and views."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from vae.explore.thumb_view import MAX_PX, MIN_PX, THUMBS_BELOW, View, least_side, pick_thumbs, thumb_side
from vae.export.thumbnails import (
    ThumbLayout,
    as_uint8,
    layout_of,
    ranks,
    read_chunk,
    spatial_order,
    write_thumbnails,
)

ROOT = Path(__file__).resolve().parents[2]
THUMBS_JS = ROOT / "components" / "map_thumbs" / "thumbs.js"
NODE = shutil.which("node")


# -- the files ----------------------------------------------------------------------------------------
def _read_back(paths: list[Path], layout: ThumbLayout, order_file: Path) -> np.ndarray:
    """The images by index, read from the files in their order."""
    stored = np.concatenate([read_chunk(p.read_bytes(), layout, k) for k, p in enumerate(paths)])
    order = np.frombuffer(order_file.read_bytes(), "<u4")
    assert sorted(order.tolist()) == list(range(layout.n))  # a permutation
    out = np.empty_like(stored)
    out[order] = stored
    return out


def test_grey_images_round_trip_through_the_chunk_files(tmp_path):
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, size=(5000, 1, 28, 28), dtype=np.uint8)
    images = torch.from_numpy(u8).float().div(255.0)  # as the data sets hold them
    coords = rng.normal(size=(5000, 2))
    layout, paths, order = write_thumbnails(images, tmp_path, "thumbs-test", coords, chunk=2048)
    assert (layout.n, layout.channels, layout.height, layout.width) == (5000, 1, 28, 28)
    assert len(paths) == 3 and [p.stat().st_size for p in paths] == [2048 * 784, 2048 * 784, 904 * 784]
    np.testing.assert_array_equal(_read_back(paths, layout, order)[..., 0], u8[:, 0])
    # chunk k holds the images at ranks [2048 k, 2048 (k + 1)) of the map's order
    rank = ranks(spatial_order(coords))
    first = read_chunk(paths[1].read_bytes(), layout, 1)
    for i in np.flatnonzero(rank // 2048 == 1)[:50]:
        np.testing.assert_array_equal(first[rank[i] - 2048, ..., 0], u8[i, 0])


def test_rgb_is_kept_channel_by_channel(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.uniform(-0.1, 1.1, size=(70, 3, 32, 32)).astype(np.float32)  # out of range: clipped
    layout, paths, order = write_thumbnails(images, tmp_path, "emoji", rng.normal(size=(70, 2)), chunk=32)
    back = _read_back(paths, layout, order)
    assert back.shape == (70, 32, 32, 3)
    want = np.floor(np.clip(images, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(back, want)
    assert (back[..., 0] != back[..., 1]).any() and (back[..., 1] != back[..., 2]).any()


def test_the_values_are_the_server_pngs():
    from vae.data.images import upscale

    rng = np.random.default_rng(2)
    img = torch.from_numpy(rng.uniform(0, 1, size=(1, 3, 8, 8)).astype(np.float32))
    np.testing.assert_array_equal(as_uint8(img)[0], upscale(img[0], size=8))


def test_chunk_of_image_i_is_its_rank_floor_chunk():
    layout = ThumbLayout(70_000, 1, 28, 28, 2048)
    i = np.arange(70_000)
    np.testing.assert_array_equal(layout.chunk_of(i), i // 2048)
    assert layout.n_chunks == 35 and layout.span(34) == (34 * 2048, 70_000)
    np.testing.assert_array_equal(layout.chunks_for(np.array([5, 2047, 2048, 69_999, 3])), [0, 1, 34])
    rank = ranks(np.random.default_rng(0).permutation(70_000))
    some = np.array([9, 70, 12_345, 69_999])
    np.testing.assert_array_equal(layout.chunks_for(some, rank), np.unique(rank[some] // 2048))
    with pytest.raises(IndexError, match=r"\[0, 70000\)"):
        layout.chunks_for(np.array([70_000]))


def test_a_zoomed_in_view_needs_few_chunks_in_the_maps_order():
    """70,000 points in clusters; a view holding about 300 of them: in index order its points lie in every
    (almost) every one of the 35 files, in the map's Z-order in a few."""
    rng = np.random.default_rng(4)
    xy = np.concatenate(
        [rng.normal(c, 1.0, (14_000, 2)) for c in ((-3, 0), (2, 2), (0, -4), (4, -2), (-2, 4))]
    )
    rng.shuffle(xy)
    layout = ThumbLayout(len(xy), 1, 28, 28)
    rank = ranks(spatial_order(xy))
    np.testing.assert_array_equal(np.sort(spatial_order(xy)), np.arange(len(xy)))
    for cx, cy in ((-3, 0), (2.5, 2.5), (0.5, -4.2)):
        inside = np.flatnonzero((np.abs(xy[:, 0] - cx) < 0.13) & (np.abs(xy[:, 1] - cy) < 0.13))
        assert 100 < len(inside) < 600, len(inside)
        by_index, by_map = len(layout.chunks_for(inside)), len(layout.chunks_for(inside, rank))
        assert by_index >= 30 and by_map <= 4, (len(inside), by_index, by_map)


def test_existing_files_are_not_rewritten(tmp_path):
    images = np.zeros((10, 1, 4, 4), np.float32)
    _, paths, _order = write_thumbnails(images, tmp_path, "s", chunk=4)
    before = [p.stat().st_mtime_ns for p in paths]
    write_thumbnails(images, tmp_path, "s", chunk=4)
    assert [p.stat().st_mtime_ns for p in paths] == before


def test_bad_inputs_name_the_value():
    with pytest.raises(ValueError, match="channels=2"):
        layout_of(np.zeros((3, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\): got \(3, 4, 4\)"):
        layout_of(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="cut short"):
        read_chunk(b"\0" * 10, ThumbLayout(4, 1, 2, 2, 4), 0)
    with pytest.raises(ValueError, match="3 map positions for 10 images"):
        write_thumbnails(np.zeros((10, 1, 4, 4)), Path("/nonexistent-thumbs"), "s", np.zeros((3, 2)))


# -- which points become thumbnails ------------------------------------------------------------------
def _brute(xy, view, visible=None, faded=None, limit=THUMBS_BELOW, least=MIN_PX):
    """The rule written plainly: the visible points in view, none above the limit; the unfaded nearest the
    centre first, each kept when it overlaps no kept one."""
    pts = []
    for i, (x, y) in enumerate(np.asarray(xy, float)):
        px = (x - view.x0) / (view.x1 - view.x0) * view.w
        py = (view.y1 - y) / (view.y1 - view.y0) * view.h
        if 0 <= px < view.w and 0 <= py < view.h and (visible is None or visible[i]):
            pts.append(
                (
                    bool(faded is not None and faded[i]),
                    (px - view.w / 2) ** 2 + (py - view.h / 2) ** 2,
                    i,
                    px,
                    py,
                )
            )
    if not pts or len(pts) > limit:
        return []
    side = min(MAX_PX, max(least, int(np.sqrt(view.w * view.h / len(pts)))))
    kept = []
    for _f, _d, i, px, py in sorted(pts):
        if all(abs(px - a) >= side or abs(py - b) >= side for _i, a, b in kept):
            kept.append((i, px, py))
    return [i for i, _a, _b in kept]


def _cases(seed=0):
    rng = np.random.default_rng(seed)
    xy = np.concatenate([rng.normal(c, 1.0, (3000, 2)) for c in ((-3, 0), (2, 2), (0, -4))]).astype(
        np.float32
    )
    visible = (rng.uniform(size=len(xy)) > 0.2).astype(np.uint8)
    faded = (rng.uniform(size=len(xy)) > 0.7).astype(np.uint8)
    views = [
        View(-8, -8, 8, 8, 700, 600),  # everything: too many for thumbnails
        View(-3.3, -0.3, -2.7, 0.3, 700, 600),
        View(1.5, 1.6, 2.6, 2.5, 640, 480),
        View(-0.2, -4.2, 0.1, -3.9, 300, 300),
        View(5, 5, 6, 6, 700, 600),
    ]  # the last: nothing in view
    return xy, visible, faded, views


def test_pick_thumbs_is_the_rule_written_plainly():
    xy, visible, faded, views = _cases()
    for view in views:
        for vis, fad in ((None, None), (visible, faded)):
            got = pick_thumbs(xy, view, vis, fad)
            assert got.indices.tolist() == _brute(xy, view, vis, fad), view
        got = pick_thumbs(xy, view, visible, faded, least=40)
        assert got.indices.tolist() == _brute(xy, view, visible, faded, least=40), view
    some = [pick_thumbs(xy, v, visible, faded) for v in views[1:4]]
    assert all(len(t.indices) > 5 for t in some), [len(t.indices) for t in some]  # the cases test something
    assert pick_thumbs(xy, views[0]).in_view > THUMBS_BELOW and not len(pick_thumbs(xy, views[0]).indices)
    assert (
        thumb_side(400, 700, 600) == 32
        and thumb_side(1, 700, 600) == MAX_PX
        and thumb_side(10**6, 10, 10) == MIN_PX
    )
    assert thumb_side(400, 700, 600, least_side(32)) == 32 and thumb_side(10**6, 10, 10, least_side(64)) == 64
    assert [least_side(w) for w in (8, 28, 32, 64, 500)] == [MIN_PX, 28, 32, 64, MAX_PX]


@pytest.mark.skipif(NODE is None, reason="node not installed (only this check of thumbs.js needs it)")
def test_the_page_picks_and_fetches_what_python_does(tmp_path):
    xy, visible, faded, views = _cases(3)
    rank = ranks(spatial_order(xy))
    (tmp_path / "xy.bin").write_bytes(xy.tobytes())
    # thumbs.js imports the runtime (decoded μ); node needs only the picking, so a stub stands in for it
    stub = tmp_path / "live_decoder" / "runtime.js"
    stub.parent.mkdir()
    stub.write_text(
        "export const loadAsset = null, loadSession = null, runExclusive = null;\n", encoding="utf-8"
    )
    (tmp_path / "map_thumbs").mkdir()
    shutil.copy(THUMBS_JS, tmp_path / "map_thumbs" / "thumbs.js")
    vs = [dict(x0=v.x0, y0=v.y0, x1=v.x1, y1=v.y1, w=v.w, h=v.h) for v in views]
    script = f"""
import {{ pickThumbs, thumbChunksFor, thumbChunkOf }} from "./map_thumbs/thumbs.js";
import {{ readFileSync }} from "node:fs";
const b = readFileSync({json.dumps(str(tmp_path / "xy.bin"))});
const xy = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
const visible = Uint8Array.from({json.dumps(visible.tolist())});
const faded = Uint8Array.from({json.dumps(faded.tolist())});
const rank = Int32Array.from({json.dumps(rank.tolist())});
const out = {json.dumps(vs)}.map((v) => [null, 1, 2].map((k) => {{
  const p = pickThumbs(xy, v, v.w, v.h, k && visible, k && faded, 400, k === 2 ? 40 : 24);
  return {{ indices: p.indices, side: p.side, inView: p.inView, chunks: thumbChunksFor(p.indices, 512),
           ranked: thumbChunksFor(p.indices, 512, rank) }};
}}));
console.log(JSON.stringify({{ out, chunkOf: [0, 511, 512, 8999].map((i) => thumbChunkOf(i, 512)) }}));
"""
    (tmp_path / "run.mjs").write_text(script, encoding="utf-8")
    r = subprocess.run(
        [NODE, str(tmp_path / "run.mjs")], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    layout = ThumbLayout(len(xy), 1, 28, 28, 512)
    assert got["chunkOf"] == [int(layout.chunk_of(i)) for i in (0, 511, 512, 8999)]
    for view, pair in zip(views, got["out"], strict=True):
        for (vis, fad, least), page in zip(
            ((None, None, 24), (visible, faded, 24), (visible, faded, 40)), pair, strict=True
        ):
            want = pick_thumbs(xy, view, vis, fad, least=least)
            assert page["indices"] == want.indices.tolist(), view
            assert page["side"] == want.side, view
            # the page stops counting past the limit: it knows then that no thumbnail is drawn
            assert page["inView"] == min(want.in_view, THUMBS_BELOW + 1), view
            assert page["chunks"] == layout.chunks_for(want.indices).tolist(), view
            assert page["ranked"] == layout.chunks_for(want.indices, rank).tolist(), view
