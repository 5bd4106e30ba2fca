"""Selections you can keep (issue #34): vae.explore.selections' statistics against pandas on the same
table, the direction against numpy, the CSV read back (csv and read_attributes), the PNG grid and the ZIP
opened again."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from vae.explore.attributes import read_attributes
from vae.explore.selections import (
    Selection,
    compare,
    direction,
    grid_png,
    images_zip,
    table,
)

N, D = 500, 6
NAMES = ["T-shirt/top", "Trouser", "Bag"]


@pytest.fixture()
def explore():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(N, D)).astype(np.float32)
    labels = rng.integers(0, 3, N)
    coords = rng.normal(size=(N, 2))
    metrics = {"recon": rng.gamma(2, 10, N), "kl": rng.gamma(2, 3, N), "sigma": rng.uniform(0.1, 1, N)}
    metrics["kl"][7] = np.nan  # a metric without a value for an image
    images = torch.rand(N, 1, 8, 8)
    return mu, labels, coords, metrics, images


def test_statistics_are_pandas_on_the_same_table(explore):
    mu, labels, coords, metrics, _ = explore
    a = Selection.of("left", np.flatnonzero(coords[:, 0] < 0), N)
    b = Selection.of("some", [7, 3, 3, 100, 499], N)
    df = pd.DataFrame({"label": labels, **metrics})
    rows = compare([a, b], labels, NAMES, metrics)
    for sel, row in zip([a, b], rows, strict=True):
        part = df.iloc[sel.indices]
        assert row["size"] == len(part)
        counts = part["label"].value_counts()
        np.testing.assert_array_equal(row["counts"], [counts.get(c, 0) for c in range(3)])
        assert row["majority"] == counts.idxmax() and row["share"] == pytest.approx(counts.max() / len(part))
        for k in metrics:
            assert row[k] == pytest.approx(part[k].mean())  # pandas leaves NaN out too
    assert rows[1]["size"] == 4 and rows[1]["mix"].startswith(NAMES[rows[1]["majority"]])


def test_the_direction_is_the_difference_of_the_means(explore):
    mu, *_ = explore
    a, b = Selection.of("A", range(0, 50), N), Selection.of("B", range(60, 200), N)
    np.testing.assert_allclose(direction(mu, a, b), mu[:50].mean(0) - mu[60:200].mean(0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same images"):
        direction(mu, a, Selection.of("A again", range(50), N))


@pytest.mark.parametrize("name, indices, match", [
    ("", [1], "name"), ("a;b", [1], "name"), ("x" * 41, [1], "name"), ("ok", [], "at least one"),
    ("ok", [N], f"0 to {N - 1}"), ("ok", [-1], "0 to"),
])
def test_a_bad_selection_is_named(name, indices, match):
    with pytest.raises(ValueError, match=match):
        Selection.of(name, indices, N)


def test_the_csv_round_trips(explore):
    mu, labels, coords, metrics, _ = explore
    sel = Selection.of("some", [3, 7, 42, 499], N)
    text = table(sel, mu, labels, NAMES, coords, metrics)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["index"]) for r in rows] == sel.indices.tolist()
    assert [r["class"] for r in rows] == [NAMES[labels[i]] for i in sel.indices]
    got_mu = np.array([[float(r[f"z{d}"]) for d in range(D)] for r in rows])
    np.testing.assert_allclose(got_mu, mu[sel.indices], rtol=1e-5)
    for key, ref in {"map_x": coords[:, 0], "map_y": coords[:, 1], **metrics}.items():
        got = np.array([float(r[key]) if r[key] else np.nan for r in rows])
        np.testing.assert_array_equal(got, ref[sel.indices])
    back = read_attributes(text.encode(), N)  # the project's reader takes it back as your own columns
    np.testing.assert_array_equal(back.columns["map_x"][sel.indices], coords[sel.indices, 0])
    np.testing.assert_array_equal(back.columns["recon"][sel.indices], metrics["recon"][sel.indices])


def test_the_png_grid_and_the_zip_hold_the_images(explore):
    *_, labels, _, _, images = explore
    sel = Selection.of("four", [1, 2, 30, 31], N)
    grid = Image.open(io.BytesIO(grid_png(sel, images, scale=1)))
    assert grid.size == (2 * 9 + 1, 2 * 9 + 1)  # 2 x 2 images of 8 px and 1-px gaps
    cell = np.asarray(grid)[1 + 9 : 9 + 9, 1 + 9 : 9 + 9] / 255.0  # the 4th image
    np.testing.assert_allclose(cell, images[31, 0].numpy(), atol=1 / 255 + 1e-6)
    with zipfile.ZipFile(io.BytesIO(images_zip(sel, images, NAMES, labels))) as z:
        names = z.namelist()
        assert names == [f"{i:05d}-{NAMES[labels[i]].replace('/', '_').replace('-', '-')}.png" for i in [1, 2, 30, 31]]
        one = np.asarray(Image.open(io.BytesIO(z.read(names[2])))) / 255.0
    np.testing.assert_allclose(one, images[30, 0].numpy(), atol=1 / 255 + 1e-6)
