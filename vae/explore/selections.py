"""Selections you can keep (issue #34): named sets of images, their statistics side by side, their
exports (a CSV, a PNG grid, a ZIP of PNGs) and the latent direction between two of them (in a link,
each travels as vae.explore.index_text writes an index set).

A selection is its images' indices into the explore set, ascending and unique. Nothing here knows of
Streamlit: the Map page keeps the selections in its session and calls these.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data.images import image_grid, to_pil
from ..export.tables import attribute_table
from .attributes import Attributes

MAX_NAME = 40  # characters of a selection's name
NAME_RE = re.compile(r"^[^\s;:][^;:]{0,39}$")  # a name in the link: no separators, not blank
GRID_MAX = 400  # images in a selection's PNG grid (the first ones)
ZIP_MAX = 10_000  # images in a selection's ZIP


@dataclass(frozen=True)
class Selection:
    """A named set of images: ``indices`` ascending and unique."""

    name: str
    indices: np.ndarray

    @staticmethod
    def of(name: str, indices: Sequence[int] | np.ndarray, n: int) -> Selection:
        """A selection of the images ``indices`` of an explore set of ``n`` images, checked."""
        name = " ".join(str(name).split())
        if not NAME_RE.match(name):
            raise ValueError(f"a selection's name must be 1 to {MAX_NAME} characters without ';' or ':' "
                             f"(got {name!r})")
        idx = np.unique(np.asarray(indices, dtype=np.int64))
        if not len(idx):
            raise ValueError("a selection needs at least one image")
        if idx[0] < 0 or idx[-1] >= n:
            raise ValueError(f"image indices run from 0 to {n - 1}; the selection holds {int(idx[0])} to "
                             f"{int(idx[-1])}")
        return Selection(name, idx)

    def __len__(self) -> int:
        return len(self.indices)


# -- statistics ---------------------------------------------------------------------------------
def statistics(sel: Selection, labels: np.ndarray, n_classes: int, metrics: Mapping[str, np.ndarray]) -> dict:
    """One selection's size, class counts (n_classes,), majority class and its share, and each metric's
    mean (``metrics``: name -> (N,) per image; NaN values are left out of a mean)."""
    counts = np.bincount(np.asarray(labels)[sel.indices].astype(np.int64), minlength=n_classes)
    row = {"name": sel.name, "size": len(sel), "counts": counts, "majority": int(counts.argmax()),
           "share": float(counts.max() / len(sel))}
    for key, values in metrics.items():
        v = np.asarray(values, dtype=np.float64)[sel.indices]
        row[key] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
    return row


def compare(selections: Sequence[Selection], labels: np.ndarray, class_names: Sequence[str],
            metrics: Mapping[str, np.ndarray]) -> list[dict]:
    """:func:`statistics` of each selection, with its class mix as text ("Trouser 96% · Dress 3%": the
    classes holding at least 1%, largest first)."""
    rows = []
    for s in selections:
        row = statistics(s, labels, len(class_names), metrics)
        order = np.argsort(-row["counts"], kind="stable")
        row["mix"] = " · ".join(f"{class_names[c]} {100 * row['counts'][c] / len(s):.0f}%" for c in order
                                if row["counts"][c] / len(s) >= 0.01)
        rows.append(row)
    return rows


def direction(mu: np.ndarray, a: Selection, b: Selection) -> np.ndarray:
    """(D,) the mean code μ of ``a`` minus that of ``b``: the way from B's images to A's in latent space."""
    if np.array_equal(a.indices, b.indices):
        raise ValueError(f"the selections {a.name!r} and {b.name!r} hold the same images: their direction is zero; "
                         "pick two different selections")
    mu = np.asarray(mu, dtype=np.float64)
    return (mu[a.indices].mean(axis=0) - mu[b.indices].mean(axis=0)).astype(np.float32)


# -- exports ------------------------------------------------------------------------------------
def table(sel: Selection, mu: np.ndarray, labels: np.ndarray, class_names: list[str], coords: np.ndarray,
          metrics: Mapping[str, np.ndarray], attributes: Attributes | None = None) -> str:
    """CSV text: index, label, class, z0..z{D-1} (μ), then map_x, map_y, the ``metrics`` and your own
    columns (vae.export.tables.attribute_table, so that read_attributes reads it back)."""
    idx = sel.indices
    cols: dict[str, np.ndarray] = {"map_x": np.asarray(coords[:, 0], np.float64),
                                   "map_y": np.asarray(coords[:, 1], np.float64)}
    cols.update({k: np.asarray(v, np.float64) for k, v in metrics.items()})
    headers = {k: k for k in cols}
    if attributes is not None:
        for k, v in attributes.columns.items():
            if k not in cols:
                cols[k], headers[k] = v, attributes.headers[k]
    extra = Attributes(n_images=len(mu), key="index", columns=cols, headers=headers, rows=len(mu),
                       missing=np.zeros(0, np.int64))
    return attribute_table(mu[idx], np.asarray(labels)[idx], class_names, extra, idx)


def grid_png(sel: Selection, images: torch.Tensor, scale: int = 2) -> bytes:
    """The selection's first GRID_MAX images as one PNG grid."""
    shown = images[torch.as_tensor(sel.indices[:GRID_MAX])]
    buf = io.BytesIO()
    image_grid(shown, scale=scale).save(buf, format="PNG")
    return buf.getvalue()


def images_zip(sel: Selection, images: torch.Tensor, class_names: Sequence[str], labels: np.ndarray) -> bytes:
    """A ZIP of the selection's images (the first ZIP_MAX), one PNG each, named ``00123-Trouser.png``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:  # PNGs are compressed already
        for i in sel.indices[:ZIP_MAX].tolist():
            png = io.BytesIO()
            to_pil(images[i]).save(png, format="PNG")
            cls = re.sub(r"[^A-Za-z0-9_-]+", "_", str(class_names[int(labels[i])])).strip("_") or "image"
            z.writestr(f"{i:05d}-{cls}.png", png.getvalue())
    return buf.getvalue()
