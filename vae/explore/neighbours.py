"""The map as a research instrument: the nearest neighbours of one image, and search.

- :class:`NeighbourIndex`: exact k nearest neighbours of one image of the encoded set, in latent
  space (the posterior means μ, Euclidean or cosine) and in pixel space (the flattened images,
  Euclidean), the image itself left out; :meth:`NeighbourIndex.report` gives both lists and how
  many of the latent neighbours are pixel neighbours too; :meth:`NeighbourIndex.near_code`: the
  nearest images of a code from outside the set (an upload's or a drawing's μ). The searches are
  ``vae.explore.knn.ExactKnn`` (exact, a few µs a query on 10,000 16-D codes); the cosine
  distance is searched as the Euclidean distance of unit vectors (|u − v|² = 2 − 2 cos) and then
  measured in float64 from μ itself.
- :func:`search`: the images a query text names: an index (``123``, ``#123``), a class (its English
  or translated name, or part of one) or a file name (folder data sets), case-insensitive.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import SearchError
from ..i18n import N_, Text
from .knn import ExactKnn

Metric = Literal["euclidean", "cosine"]
METRICS: tuple[Metric, ...] = ("euclidean", "cosine")
MAX_QUERY = 100  # characters of a search text
EXTRA = 8  # candidates beyond k that the cosine search measures in float64 (near-ties of float32)


@dataclass(frozen=True)
class Neighbours:
    """The k nearest images of one query image, nearest first, the query left out."""

    indices: np.ndarray  # (k,) int64
    distances: np.ndarray  # (k,) float64, ascending

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class NeighbourReport:
    """One image's neighbours in latent space and in pixel space, and what the two lists share."""

    index: int  # the query image
    metric: Metric  # the latent space's distance
    latent: Neighbours
    pixel: Neighbours

    @property
    def shared(self) -> np.ndarray:
        """The latent neighbours that are pixel neighbours too, in the latent list's order."""
        return self.latent.indices[np.isin(self.latent.indices, self.pixel.indices)]

    @property
    def share(self) -> float:
        """The fraction of the latent neighbours that are pixel neighbours too (0 to 1)."""
        return len(self.shared) / max(len(self.latent), 1)


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero: cosine distance 1 to everything, as sklearn)."""
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


class NeighbourIndex:
    """Exact neighbour searches over one encoded set: ``mu`` (N, D) posterior means and ``images``
    (N, ...) the images they encode (any shape per image; flattened). The indexes are built on first
    use (pixel space: about 0.3 s for 10,000 28×28 images)."""

    def __init__(self, mu: np.ndarray, images: np.ndarray | None = None):
        self.mu = np.ascontiguousarray(mu, dtype=np.float32)
        if self.mu.ndim != 2 or len(self.mu) < 2:
            raise ValueError(f"NeighbourIndex needs codes of shape (N, D) with N >= 2, got {self.mu.shape}")
        self._images = images
        if images is not None and len(images) != len(self.mu):
            raise ValueError(f"{len(images)} images for {len(self.mu)} codes: pass one image per code")
        self._knn: dict[str, ExactKnn] = {}
        self._unit_mu: np.ndarray | None = None
        # one build of each search, whichever thread asks first; a built one is read without waiting
        self._locks = {space: threading.Lock() for space in ("euclidean", "cosine", "pixel")}
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self.mu)

    def _index(self, space: str) -> ExactKnn:
        if space in self._knn:
            return self._knn[space]
        with self._locks[space]:
            if space not in self._knn:
                self._knn[space] = self._build(space)
            return self._knn[space]

    def _build(self, space: str) -> ExactKnn:
        if space == "euclidean":
            return ExactKnn(self.mu)
        if space == "cosine":
            self._unit_mu = _unit(self.mu)
            return ExactKnn(self._unit_mu.astype(np.float32))
        return ExactKnn(self.pixels)

    def warm_up(self) -> threading.Thread:
        """Build the searches now, in a daemon thread (pixel space: 0.2-1.3 s for 10,000 28x28 images on
        2 cores, about 5 s for 70,000), so that the first click does not wait; only the first call starts
        anything."""
        with self._lock:
            if self._warming is None:
                spaces = ["euclidean", "cosine"] + (["pixel"] if self._images is not None else [])
                self._warming = threading.Thread(target=lambda: [self._index(s) for s in spaces],
                                                 name="vae-neighbours-warm-up", daemon=True)
                self._warming.start()
            return self._warming

    @property
    def pixels(self) -> np.ndarray:
        """(N, P) the flattened images, float32."""
        if self._images is None:
            raise ValueError("this NeighbourIndex has no images: pass them to search pixel space")
        x = np.asarray(self._images, dtype=np.float32)
        return x.reshape(len(x), -1)

    def _check(self, i: int, k: int) -> tuple[int, int]:
        n = len(self.mu)
        if not 0 <= int(i) < n:
            raise ValueError(f"image index {i} is outside the encoded set: pass 0 to {n - 1}")
        if int(k) < 1:
            raise ValueError(f"k = {k} neighbours: pass k >= 1")
        return int(i), min(int(k), n - 1)

    @staticmethod
    def _without(i: int, dist: np.ndarray, idx: np.ndarray, k: int) -> Neighbours:
        keep = idx != i
        return Neighbours(idx[keep][:k].astype(np.int64), dist[keep][:k].astype(np.float64))

    def latent(self, i: int, k: int = 10, metric: Metric = "euclidean") -> Neighbours:
        """Image ``i``'s k nearest images by their codes μ: Euclidean or cosine distance (1 − cos)."""
        i, k = self._check(i, k)
        if metric not in METRICS:
            raise ValueError(f"metric {metric!r} is not one of {', '.join(METRICS)}")
        if metric == "euclidean":
            dist, idx = self._index("euclidean").query(self.mu[i : i + 1], k + 1)
            return self._without(i, dist[0], idx[0], k)
        knn = self._index("cosine")
        _d, idx = knn.query(knn.points[i : i + 1], min(k + 1 + EXTRA, len(self.mu)))
        unit = self._unit_mu
        cand = idx[0][idx[0] != i]
        dist = 1.0 - unit[cand] @ unit[i]
        order = np.argsort(dist, kind="stable")
        return Neighbours(cand[order][:k].astype(np.int64), dist[order][:k])

    def near_code(self, z: np.ndarray, k: int = 10, metric: Metric = "euclidean") -> Neighbours:
        """The k images whose codes μ are nearest to ``z`` (D,), a code from outside the set (an uploaded
        image's or a drawing's μ): Euclidean or cosine distance (1 − cos), nothing left out."""
        z = np.asarray(z, dtype=np.float64).ravel()
        if z.shape != (self.mu.shape[1],) or not np.all(np.isfinite(z)):
            raise ValueError(f"a code of {self.mu.shape[1]} finite numbers is needed, got shape {z.shape}: "
                             "pass a posterior mean μ of this model")
        if int(k) < 1:
            raise ValueError(f"k = {k} neighbours: pass k >= 1")
        if metric not in METRICS:
            raise ValueError(f"metric {metric!r} is not one of {', '.join(METRICS)}")
        k = min(int(k), len(self.mu))
        if metric == "euclidean":
            dist, idx = self._index("euclidean").query(z[None].astype(np.float32), k)
            # measured in float64 from μ itself (the search saw z rounded to float32)
            d = np.linalg.norm(self.mu[idx[0]].astype(np.float64) - z, axis=1)
            order = np.argsort(d, kind="stable")
            return Neighbours(idx[0][order].astype(np.int64), d[order])
        knn = self._index("cosine")
        u = _unit(z[None])[0]
        _d, idx = knn.query(u[None].astype(np.float32), min(k + EXTRA, len(self.mu)))
        cand = idx[0]
        dist = 1.0 - self._unit_mu[cand] @ u
        order = np.argsort(dist, kind="stable")
        return Neighbours(cand[order][:k].astype(np.int64), dist[order][:k])

    def pixel(self, i: int, k: int = 10) -> Neighbours:
        """Image ``i``'s k nearest images by their pixels (Euclidean distance of the flattened images)."""
        i, k = self._check(i, k)
        knn = self._index("pixel")
        dist, idx = knn.query(knn.points[i : i + 1], k + 1)
        return self._without(i, dist[0], idx[0], k)

    def report(self, i: int, k: int = 10, metric: Metric = "euclidean") -> NeighbourReport:
        """Both lists of image ``i``'s k nearest images, and what they share."""
        return NeighbourReport(int(i), metric, self.latent(i, k, metric), self.pixel(i, k))


_INDEX = re.compile(r"#?\s*(\d+)")


def search(text: str, labels: np.ndarray, class_names: Sequence[str],
           translated: Mapping[str, str] | None = None, file_names: Sequence[str] | None = None,
           texts: Sequence[Sequence[str]] = ()) -> np.ndarray:
    """The indices (ascending) of the images that ``text`` names, among ``len(labels)`` images.

    - an index, ``123`` or ``#123``: that image;
    - otherwise, case-insensitive, part of a class name (``class_names[c]``, or its translation
      ``translated[class_names[c]]``: "shirt" finds T-shirt/top and Shirt) or of a file name
      (``file_names[i]``, where the data set has them) or of a text attribute (each of ``texts`` holds one
      value per image: your own columns, vae.explore.attributes): the images of those classes, files and values.

    Text that names nothing gives an empty array; an index outside the set, an empty or an overlong
    text raise :class:`vae.errors.SearchError`, whose message names the value and what to type instead.
    """
    query = " ".join(str(text).split())
    n = len(labels)
    if not query:
        raise SearchError(Text(N_("Nothing to search for: type an image's number (0 to {last}), a class or part "
                                  "of its name."), last=n - 1))
    if len(query) > MAX_QUERY:
        raise SearchError(Text(N_("The search text is {n} characters long: type at most {max}, e.g. an image's "
                                  "number or a class."), n=len(query), max=MAX_QUERY))
    whole = _INDEX.fullmatch(query)
    if whole:
        i = int(whole.group(1))
        if i >= n:
            raise SearchError(Text(N_("There is no image #{i}: the explore set's images are numbered 0 to {last}."),
                                   i=i, last=n - 1))
        return np.array([i], dtype=np.int64)
    needle = query.casefold()
    translated = translated or {}
    classes = [c for c, name in enumerate(class_names)
               if needle in str(name).casefold() or needle in str(translated.get(name, "")).casefold()]
    hit = np.isin(np.asarray(labels), classes)
    if file_names is not None:
        if len(file_names) != n:
            raise ValueError(f"{len(file_names)} file names for {n} images: pass one name per image, or None")
        hit |= np.fromiter((needle in str(f).casefold() for f in file_names), dtype=bool, count=n)
    for column in texts:
        if len(column) != n:
            raise ValueError(f"a text column of {len(column)} values for {n} images: pass one value per image")
        hit |= np.fromiter((needle in str(v).casefold() for v in column), dtype=bool, count=n)
    return np.flatnonzero(hit).astype(np.int64)
