"""Directions in the latent space and what they do, in words.

Sources of directions, each ranked by an effect size:

- the latent dimensions (by their average KL: vae.explore.latent.dims_by_kl);
- the principal directions of the posterior means (by variance: vae.explore.latent.principal_axes);
- SeFa (Shen & Zhou 2021, "Closed-form factorization of latent semantics in GANs"): the eigenvectors of
  AᵀA, A the decoder's first linear layer (hidden, D), by eigenvalue. A step along the top one changes
  the first layer's output most (‖A n‖² is the eigenvalue); no data is needed;
- class to class: the mean code of one class minus another's, by its length.

A direction is *named* by what changes when codes move along it (:func:`name_ends`): the class the
classifier reads at either end, and the measurements of vae.explore.measures that change most
("Sneaker → Sandal · wider, more ink"). The name is data (:class:`DirectionName`); its text is built
from translatable parts (``N_``), so that a page shows it in the reader's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..i18n import N_
from .measures import MEASURES, measure

#: A measurement change counts in a name when its size (+ end minus - end, averaged over the start
#: codes) is at least this: shares of the image (ink, width, height, position) or of the lightness scale.
NOTICEABLE = {"ink": 0.03, "brightness": 0.05, "width": 0.07, "height": 0.07, "symmetry": 0.05, "x": 0.04,
              "y": 0.04}
#: (word for an increase, word for a decrease) of each measurement.
WORDS = {
    "ink": (N_("more ink"), N_("less ink")),
    "brightness": (N_("brighter"), N_("darker")),
    "width": (N_("wider"), N_("narrower")),
    "height": (N_("taller"), N_("shorter")),
    "symmetry": (N_("more symmetric"), N_("less symmetric")),
    "x": (N_("moves right"), N_("moves left")),
    "y": (N_("moves down"), N_("moves up")),
}
#: Below this mean change of a pixel (lightness 0..1) between the two ends, a direction does nothing visible.
STILL = 0.01
#: A class is named at an end when at least this share of the start codes is read as it there (with
#: start codes of every class, about 0.1 to 0.2 read as any one class by chance).
CLASS_SHARE = 0.3
SHOWN_CHANGES = 2  # measurement words in a short name (one after the classes, which say much already)


class NoLinearLayer(ValueError):
    """The decoder does not start with a linear layer on z, so SeFa has no weights to factorise."""


@dataclass(frozen=True)
class Direction:
    """A direction of one source: ``kind`` ("latent", "pca", "sefa", "class"), ``index`` (a number, or
    the pair of classes), ``vector`` (D,), ``effect`` (KL, variance, eigenvalue or length)."""

    kind: str
    index: int | tuple[int, int]
    vector: np.ndarray
    effect: float
    label: str


# -- sources of directions ---------------------------------------------------------------------------
def sefa_directions(weight: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """SeFa's directions of a first layer ``weight`` A (hidden, D), mapping z (D,) to A z:
    the eigenvectors of AᵀA, largest eigenvalue first.

    Returns ``directions`` (D, D), row k the k-th unit direction (its largest entry positive, so the
    signs are reproducible), and the eigenvalues (D,): ‖A n‖² for each, the effect size."""
    a = np.asarray(weight.detach().cpu() if torch.is_tensor(weight) else weight, np.float64)
    if a.ndim != 2:
        raise ValueError(f"a first layer's weight is a matrix (hidden, D), got shape {a.shape}")
    values, vectors = np.linalg.eigh(a.T @ a)  # ascending
    values, vectors = np.maximum(values[::-1], 0.0), vectors[:, ::-1].T.copy()
    vectors *= np.sign(vectors[np.arange(len(vectors)), np.abs(vectors).argmax(1)])[:, None]
    return vectors.astype(np.float32), values


def first_layer_weight(model: nn.Module) -> np.ndarray:
    """The decoder's first linear layer as A (hidden, D): z -> A z + b. Our decoders (a torch
    ``decoder``) and imported ONNX decoders (the graph's Gemm or MatMul on the input z, with stored
    weights). :class:`NoLinearLayer` says what comes first instead."""
    graph = getattr(model, "decoder_graph", None)
    if graph is not None:
        return onnx_first_weight(graph.model)
    decoder = getattr(model, "decoder", None)
    if not isinstance(decoder, nn.Module):
        raise NoLinearLayer("the model has no decoder module to read weights from")
    for m in decoder.modules():
        if list(m.children()) or isinstance(m, (nn.Identity, nn.Flatten)):
            continue  # containers (their layers come next, in order) and layers that leave z as it is
        if isinstance(m, nn.Linear):
            return m.weight.detach().cpu().numpy().astype(np.float64)
        raise NoLinearLayer(f"the decoder starts with {type(m).__name__}, not a linear layer")
    raise NoLinearLayer("the decoder has no layers")


def onnx_first_weight(model) -> np.ndarray:
    """A (hidden, D) of an ONNX decoder whose input z goes straight into a Gemm or MatMul with a
    stored weight (through Identity or Flatten nodes at most); :class:`NoLinearLayer` otherwise."""
    from onnx import AttributeProto, numpy_helper

    g = model.graph
    stored = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for node in g.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].type == AttributeProto.TENSOR:
            stored[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    inputs = [i.name for i in g.input if i.name not in stored]
    if not inputs:
        raise NoLinearLayer("the decoder graph has no input")
    name = inputs[0]
    while True:
        users = [n for n in g.node if name in n.input]
        if len(users) != 1:
            raise NoLinearLayer(f"the decoder's input z feeds {len(users)} operations, not one linear layer")
        node = users[0]
        if node.op_type in ("Identity", "Flatten"):
            name = node.output[0]
            continue
        break
    attrs = {a.name: a for a in node.attribute}

    def weight(w: str) -> np.ndarray | None:
        """A stored tensor, through the Cast (float16 storage) and Transpose nodes made of it."""
        if w in stored:
            return np.asarray(stored[w], np.float64)
        maker = next((n for n in g.node if w in n.output), None)
        inner = weight(maker.input[0]) if maker is not None and maker.op_type in ("Cast", "Transpose") else None
        if inner is None or maker.op_type == "Cast":
            return inner
        perm = next((list(a.ints) for a in maker.attribute if a.name == "perm"), None)
        return inner.transpose(perm) if perm else inner.T

    if node.op_type == "Gemm" and node.input[0] == name and not (attrs.get("transA") and attrs["transA"].i):
        w = weight(node.input[1])
        if w is not None and w.ndim == 2:
            alpha = attrs["alpha"].f if "alpha" in attrs else 1.0
            return alpha * (w if attrs.get("transB") and attrs["transB"].i else w.T)
    if node.op_type == "MatMul" and node.input[0] == name:
        w = weight(node.input[1])
        if w is not None and w.ndim == 2:
            return w.T
    raise NoLinearLayer(f"the decoder's first operation on z is {node.op_type}, not a linear layer with stored "
                        "weights (Gemm or MatMul)")


def class_directions(mu: np.ndarray, labels: np.ndarray, class_names: list[str]) -> list[Direction]:
    """Every class-to-class direction (mean μ of class b minus mean μ of class a, for a != b, both
    present), longest first: its ``effect`` is that length, its ``vector`` the difference itself (a
    step of 1 moves class a's mean code to class b's)."""
    present = [c for c in range(len(class_names)) if (labels == c).any()]
    means = {c: mu[labels == c].mean(0) for c in present}
    out = [Direction("class", (a, b), (means[b] - means[a]).astype(np.float32),
                     float(np.linalg.norm(means[b] - means[a])), f"{class_names[a]} → {class_names[b]}")
           for a in present for b in present if a != b]
    return sorted(out, key=lambda d: -d.effect)


def sefa(model: nn.Module) -> list[Direction]:
    """SeFa's directions of ``model``'s decoder, largest eigenvalue first (:class:`NoLinearLayer` when
    its decoder does not start with a linear layer)."""
    vectors, values = sefa_directions(first_layer_weight(model))
    return [Direction("sefa", k, vectors[k], float(values[k]), f"SeFa{k + 1}") for k in range(len(values))]


# -- names ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DirectionName:
    """What moving along a direction does, read from decoded images at its two ends.

    ``classes``: (class at the - end, class at the + end), each None where no class holds
    :data:`CLASS_SHARE` of the start codes; ``shares`` their shares; ``changes``: (measurement, size)
    of the noticeable changes from the - end to the + end, largest (relative to :data:`NOTICEABLE`)
    first; ``pixels``: the mean absolute change of a pixel between the two ends; ``low``, ``high``: every
    measurement's mean at either end."""

    classes: tuple[str | None, str | None]
    shares: tuple[float, float]
    changes: tuple[tuple[str, float], ...]
    pixels: float = 0.0
    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)

    @property
    def class_change(self) -> bool:
        a, b = self.classes
        return a is not None and b is not None and a != b

    def words(self, n: int = SHOWN_CHANGES) -> list[str]:
        """The first ``n`` changes in words (English, marked for translation)."""
        return [WORDS[k][0 if d > 0 else 1] for k, d in self.changes[:n]]

    def text(self, translate: Callable[[str], str] = str, n: int | None = None) -> str:
        """The short name, "Sneaker → Sandal · wider" or "wider, more ink" (``n`` measurement words:
        one after two classes, else two; "subtle changes" where no measurement changes noticeably, "no
        visible change" where the pixels hardly do), its parts put through ``translate`` (a page's
        ``_``; class names are translated too)."""
        t = translate
        n = n if n is not None else 1 if self.class_change else SHOWN_CHANGES
        measures = self._listed(t, n)
        if self.class_change:
            classes = t(N_("{a} → {b}")).format(a=t(self.classes[0]), b=t(self.classes[1]))
            return t(N_("{classes} · {changes}")).format(classes=classes, changes=measures) if measures else classes
        if measures:
            return measures
        return t(N_("no visible change")) if self.pixels < STILL else t(N_("subtle changes"))

    def changed(self, translate: Callable[[str], str] = str) -> str:
        """Every noticeable change in words, largest first ("more ink, wider, taller"), or the words for none."""
        t = translate
        return self._listed(t, len(self.changes)) or (t(N_("no visible change")) if self.pixels < STILL
                                                      else t(N_("subtle changes")))

    def _listed(self, t: Callable[[str], str], n: int) -> str:
        words = [t(w) for w in self.words(n)]
        out = words[0] if words else ""
        for w in words[1:]:
            out = t(N_("{a}, {b}")).format(a=out, b=w)
        return out

    def __str__(self) -> str:
        return self.text()


def name_ends(decode: Callable[[np.ndarray], torch.Tensor], low: np.ndarray, high: np.ndarray,
              read: Callable[[torch.Tensor], np.ndarray] | None = None, class_names: list[str] | None = None,
              background: float | None = None) -> DirectionName:
    """The name of the move from codes ``low`` (M, D) to ``high`` (M, D) (row i: start code i moved to
    either end): their images' measurements compared (means over the M rows), and the class
    ``read`` (images -> (M,) class indices into ``class_names``) sees most often at each end.
    Without ``read``, the name is made of measurements alone."""
    lo_hi = decode(np.concatenate([low, high]).astype(np.float32))
    m = len(low)
    ms = measure(lo_hi, background)
    lo = {k: float(ms[k][:m].mean()) for k in MEASURES}
    hi = {k: float(ms[k][m:].mean()) for k in MEASURES}
    diffs = [(k, hi[k] - lo[k]) for k in MEASURES if abs(hi[k] - lo[k]) >= NOTICEABLE[k]]
    diffs.sort(key=lambda kd: -abs(kd[1]) / NOTICEABLE[kd[0]])
    classes, shares = (None, None), (0.0, 0.0)
    if read is not None and class_names is not None:
        seen = np.asarray(read(lo_hi))
        ends = []
        for part in (seen[:m], seen[m:]):
            c, count = Counter(int(v) for v in part).most_common(1)[0]
            ends.append((class_names[c] if count / m >= CLASS_SHARE else None, count / m))
        classes, shares = (ends[0][0], ends[1][0]), (ends[0][1], ends[1][1])
    pixels = float((lo_hi[m:] - lo_hi[:m]).abs().mean())
    return DirectionName(classes, shares, tuple(diffs), pixels, lo, hi)


def step_ends(starts: np.ndarray, vector: np.ndarray, t: float, limit: float | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Start codes (M, D) stepped by -t and +t times ``vector`` (D,) (a principal, SeFa or class
    direction's slider at its two ends), clipped to ±``limit``."""
    s, v = np.asarray(starts, np.float32), np.asarray(vector, np.float32)
    low, high = s - t * v[None], s + t * v[None]
    return (low, high) if limit is None else (np.clip(low, -limit, limit), np.clip(high, -limit, limit))


def dim_ends(starts: np.ndarray, d: int, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Start codes (M, D) with dimension ``d`` set to -t and +t (a latent slider at ±t)."""
    low, high = np.array(starts, np.float32), np.array(starts, np.float32)
    low[:, d], high[:, d] = -t, t
    return low, high


def name_direction(decode: Callable[[np.ndarray], torch.Tensor], starts: np.ndarray, vector: np.ndarray,
                   t: float = 3.0, **kw) -> DirectionName:
    """:func:`name_ends` of the move from ``starts - t·vector`` to ``starts + t·vector``."""
    return name_ends(decode, *step_ends(starts, vector, t), **kw)


def start_codes(mu: np.ndarray, labels: np.ndarray, per_class: int = 2) -> np.ndarray:
    """A few codes to name directions from: the first ``per_class`` codes of each class present, so
    that a name describes the direction rather than one image: (M, D)."""
    picks = [i for c in np.unique(labels) for i in np.flatnonzero(labels == c)[:per_class]]
    return np.asarray(mu, np.float32)[sorted(picks)]
