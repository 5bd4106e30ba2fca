"""The directions of one source as a list to browse: which directions a source offers, their keys
(as a link writes them), the codes each is named from, their ranking, and the grid of traversals.

A source is one of :data:`SOURCES`: the latent dimensions, the principal directions of the posterior
means, SeFa's directions of the decoder's first layer, or class-to-class directions (vae.explore.directions
builds each; this module lists them alike). A direction's key is its source and index as text:
``"latent:3"``, ``"pca:0"``, ``"sefa:2"``, ``"class:7:9"`` (from class 7 to class 9).

Moving along a direction, as the Sliders page does: a latent dimension is *set* to a value (−3 … +3 of
the prior); any other direction is *stepped* from the start code, ``start + t · v``. A principal
direction's ``v`` is one standard deviation of the data along it and SeFa's a unit vector, so ``t``
counts prior-sized steps; a class direction's ``v`` is the whole difference of the two class means, so
its steps are a third as long (``t = ±3`` moves one class difference, :data:`CLASS_STEP`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from .directions import Direction, DirectionName, class_directions, dim_ends, sefa, step_ends
from .latent import dims_by_kl, principal_axes

SOURCES = ("latent", "pca", "sefa", "class")
NAME_AT = 3.0  # names compare the images at -3 and +3 (the Sliders page's rule)
CLASS_STEP = 1.0 / 3.0  # a class direction's step per unit of t: ±3 is one class difference either way
LIMIT = 4.0  # codes are kept within ±4 prior standard deviations (the Sliders page's range)
NAME_CODES = 10  # a class direction is named from this many codes of its first class


@dataclass(frozen=True)
class DirectionKey:
    """A direction's source and index: ``index`` a number, or (from class, to class) for "class"."""

    source: str
    index: int | tuple[int, int]

    def __str__(self) -> str:
        if self.source == "class":
            a, b = self.index
            return f"class:{a}:{b}"
        return f"{self.source}:{self.index}"

    @classmethod
    def parse(cls, text: str) -> DirectionKey:
        """``"sefa:2"`` or ``"class:7:9"``; a ValueError says what the text should look like."""
        parts = str(text).strip().split(":")
        try:
            if parts[0] == "class" and len(parts) == 3:
                a, b = int(parts[1]), int(parts[2])
                if a < 0 or b < 0 or a == b:
                    raise ValueError
                return cls("class", (a, b))
            if parts[0] in SOURCES and parts[0] != "class" and len(parts) == 2 and int(parts[1]) >= 0:
                return cls(parts[0], int(parts[1]))
        except ValueError:
            pass
        raise ValueError(f"direction {text!r} is not latent:D, pca:K, sefa:K or class:A:B "
                         "(two different classes)")


def key_of(direction: Direction) -> DirectionKey:
    return DirectionKey(direction.kind, tuple(direction.index) if direction.kind == "class" else int(direction.index))


def source_directions(source: str, mu: np.ndarray, labels: np.ndarray | None = None,
                      kl: np.ndarray | None = None, model: nn.Module | None = None,
                      class_names: Sequence[str] | None = None, pair: tuple[int, int | None] | None = None
                      ) -> list[Direction]:
    """Every direction of ``source``, largest effect first.

    latent: one unit vector per dimension, effect its average KL ``kl`` (D,); pca: the principal
    directions of ``mu`` (N, D), each one standard deviation long, effect its variance; sefa: SeFa's
    directions of ``model``'s decoder, effect the eigenvalue (NoLinearLayer where it has no first linear
    layer); class: mean μ of class b minus class a for ``pair`` = (a, b), or for every b when b is None,
    effect the length (``labels`` (N,) and ``class_names`` needed)."""
    mu = np.asarray(mu, np.float32)
    D = mu.shape[1]
    if source == "latent":
        if kl is None or len(kl) != D:
            raise ValueError(f"latent dimensions are ranked by their KL: pass kl of shape ({D},)")
        return [Direction("latent", d, np.eye(D, dtype=np.float32)[d], float(kl[d]), f"z{d}") for d in dims_by_kl(kl)]
    if source == "pca":
        axes, _share = principal_axes(mu)
        return [Direction("pca", k, axes[k], float(np.square(axes[k]).sum()), f"PC{k + 1}") for k in range(D)]
    if source == "sefa":
        if model is None:
            raise ValueError("SeFa reads the decoder's weights: pass the model")
        return sefa(model)
    if source == "class":
        if labels is None or class_names is None or pair is None:
            raise ValueError("class directions need the labels, the class names and a pair (from, to or None)")
        a, b = pair
        chosen = [d for d in class_directions(mu, np.asarray(labels), list(class_names))
                  if d.index[0] == a and (b is None or d.index[1] == b)]
        if not chosen:
            raise ValueError(f"no class direction from class {a} to {'any class' if b is None else f'class {b}'}: "
                             "both classes need images in the explore set, and they must differ")
        return chosen
    raise ValueError(f"source {source!r} is not one of {', '.join(SOURCES)}")


def find(directions: Sequence[Direction], key: DirectionKey) -> Direction:
    """The direction of ``key`` among ``directions``; a ValueError says which keys there are."""
    for d in directions:
        if key_of(d) == key:
            return d
    raise ValueError(f"no direction {key}: this source has {', '.join(str(key_of(d)) for d in directions[:4])}…")


def shares(directions: Sequence[Direction]) -> np.ndarray:
    """Each direction's share of the effects' sum (variance, eigenvalues, KL) (K,)."""
    e = np.array([d.effect for d in directions], np.float64)
    return e / e.sum() if e.sum() > 0 else np.zeros_like(e)


def rank(directions: Sequence[Direction], names: Sequence[str], by: str = "effect") -> list[int]:
    """The order of ``directions`` (indices): largest effect first, or by ``names`` (K,) alphabetically
    (ties by effect)."""
    if by == "effect":
        return sorted(range(len(directions)), key=lambda i: -directions[i].effect)
    if by == "name":
        return sorted(range(len(directions)), key=lambda i: (names[i].casefold(), -directions[i].effect))
    raise ValueError(f"rank by {by!r}: pass 'effect' or 'name'")


# -- moving along a direction ----------------------------------------------------------------------
def step_scale(direction: Direction) -> float:
    """How far one unit of ``t`` moves along ``direction.vector`` (:data:`CLASS_STEP` for class directions)."""
    return CLASS_STEP if direction.kind == "class" else 1.0


def moved(start: np.ndarray, direction: Direction, values: np.ndarray, limit: float = LIMIT) -> np.ndarray:
    """The codes (V, D) ``start`` (D,) reaches at each of ``values`` (V,): a latent dimension set to the
    value; any other direction stepped ``value · step_scale · v`` from the start. Clipped to ±``limit``."""
    start = np.asarray(start, np.float32)
    values = np.asarray(values, np.float32)
    if direction.kind == "latent":
        z = np.repeat(start[None], len(values), axis=0)
        z[:, int(direction.index)] = values
    else:
        z = start[None] + (values * np.float32(step_scale(direction)))[:, None] * direction.vector[None]
    return np.clip(z, -limit, limit).astype(np.float32)


def traversal_grid(start: np.ndarray, directions: Sequence[Direction], values: np.ndarray,
                   limit: float = LIMIT) -> np.ndarray:
    """One row per direction, one column per value: the codes (K·V, D), row-major, to decode in one call."""
    if not directions:
        return np.zeros((0, len(start)), np.float32)
    return np.concatenate([moved(start, d, values, limit) for d in directions])


def name_codes(direction: Direction, starts: np.ndarray, mu: np.ndarray, labels: np.ndarray,
               t: float = NAME_AT, limit: float = LIMIT) -> tuple[np.ndarray, np.ndarray]:
    """The codes (M, D) at the two ends that ``direction`` is named from (vae.explore.directions.name_ends):
    ``starts`` (M, D) at ±t as the Sliders page names its sliders; a class direction from the first
    :data:`NAME_CODES` codes of its first class and the same codes moved one class difference."""
    if direction.kind == "latent":
        return dim_ends(starts, int(direction.index), t)
    if direction.kind == "class":
        own = np.asarray(mu, np.float32)[np.asarray(labels) == direction.index[0]][:NAME_CODES]
        return np.clip(own, -limit, limit), np.clip(own + direction.vector[None], -limit, limit)
    return step_ends(starts, direction.vector, t, limit)


def name_all(directions: Sequence[Direction], decode: Callable, starts: np.ndarray, mu: np.ndarray,
             labels: np.ndarray, **kw) -> list[DirectionName]:
    """The name of each direction (vae.explore.directions.name_ends of :func:`name_codes`); ``kw``:
    ``read``, ``class_names``, ``background`` as name_ends takes them."""
    from .directions import name_ends

    return [name_ends(decode, *name_codes(d, starts, mu, labels), **kw) for d in directions]
