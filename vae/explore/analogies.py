"""Analogies in latent space: a − b + c ("this sandal, as a boot": the sandal's code, minus the mean
code of sandals, plus the mean code of ankle boots), and the real images nearest the result.

Each of a, b, c is a :class:`Term`: an image of the explore set (its posterior mean μ) or the mean μ of
a class. Its text form, as a link writes it: ``"123"`` (image #123) or ``"mean:7"`` (the mean of class 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .knn import ExactKnn


@dataclass(frozen=True)
class Term:
    """One input of an analogy: ``kind`` "image" (``value`` an index) or "mean" (``value`` a class)."""

    kind: str
    value: int

    def __str__(self) -> str:
        return str(self.value) if self.kind == "image" else f"mean:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Term:
        """``"123"`` or ``"mean:7"``; a ValueError says what the text should look like."""
        t = str(text).strip()
        try:
            if t.startswith("mean:"):
                c = int(t[5:])
                if c >= 0:
                    return cls("mean", c)
            elif int(t) >= 0:
                return cls("image", int(t))
        except ValueError:
            pass
        raise ValueError(f"analogy input {text!r} is not an image index (123) or a class mean (mean:7)")

    def code(self, mu: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Its code (D,): the image's μ or the class's mean μ; a ValueError names what is missing."""
        if self.kind == "image":
            if not 0 <= self.value < len(mu):
                raise ValueError(f"image #{self.value} is outside the explore set: pass 0 to {len(mu) - 1}")
            return np.asarray(mu[self.value], np.float32)
        members = np.asarray(labels) == self.value
        if not members.any():
            raise ValueError(f"the explore set has no image of class {self.value}: pick a class it has")
        return np.asarray(mu, np.float64)[members].mean(0).astype(np.float32)


@dataclass(frozen=True)
class Analogy:
    """a − b + c and the real images nearest it."""

    codes: np.ndarray  # (3, D) the codes of a, b, c
    result: np.ndarray  # (D,) a − b + c
    nearest: np.ndarray  # (k,) indices of the nearest encoded images (by μ, Euclidean), nearest first
    distances: np.ndarray  # (k,) their distances to the result


def analogy(a: Term, b: Term, c: Term, mu: np.ndarray, labels: np.ndarray, k: int = 5,
            index: ExactKnn | None = None) -> Analogy:
    """a − b + c on the posterior means ``mu`` (N, D) with ``labels`` (N,), and its ``k`` nearest encoded
    images (``index``: an ExactKnn of ``mu`` already built, else one is built here)."""
    codes = np.stack([t.code(mu, labels) for t in (a, b, c)])
    result = (codes[0].astype(np.float64) - codes[1] + codes[2]).astype(np.float32)
    if k < 1:
        raise ValueError(f"k = {k} nearest images: pass k >= 1")
    knn = index if index is not None else ExactKnn(np.asarray(mu, np.float32))
    dist, idx = knn.query(result[None], k)
    return Analogy(codes, result, idx[0], dist[0])
