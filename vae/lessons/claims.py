"""What the guided tour's talking points say the audience will see, as checks on the shipped models.

A talking point that tells the class what it will see ("drag z0 up: the sneaker becomes a bag",
"shirts, pullovers and coats overlap", "β = 4 buys a much smaller KL") is written beside a claim of
this module that measures it on the models the app ships (pages/_tour_steps.py holds both; the test
that runs every claim is tests/app/test_tour_claims.py). A check returns what it measured, so that a
claim that stops holding (a retrained model, a new default) says what is true instead.

What an image looks like is read by the shipped classifier (models/, vae.baselines.classifier), the
judge the VAE vs GAN page uses too; blur is vae.baselines.compare.sharpness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ..baselines.classifier import KIND as CLASSIFIER
from ..baselines.classifier import load_classifier
from ..baselines.compare import SHIPPED_COMPARISONS, comparison_key, load_comparison, sharpness
from ..baselines.gan import KIND as GAN
from ..baselines.gan import load_generator
from ..checkpoint import Checkpoint, ModelFolder, find_model, load_checkpoint
from ..data.cache import load_arrays
from ..evaluate import dims_in_use
from ..explore.latent import dims_by_kl, lerp, principal_axes, prior_samples
from ..explore.measures import measure
from ..explore.projection import ProjectionConfig
from ..explore.sets import SHIPPED_DIR, projection_key
from ..explore.spaces import neighbour_lists, shared_neighbours
from . import uses

ROOT = Path(__file__).resolve().parent.parent.parent
SHOES = ("Sandal", "Sneaker", "Ankle boot")


@dataclass(frozen=True)
class Seen:
    """A claim's verdict and what was measured (one line, for a failing test to quote)."""

    holds: bool
    saw: str


class Shipped:
    """The shipped models and data the claims are checked on, loaded once each.

    ``pictures``: images the app makes that are not data (the Your image page's drawings), by name ->
    a function of the checkpoint giving the model's input (C, H, W)."""

    def __init__(self, checkpoints: Path = ROOT / "checkpoints", models: Path = ROOT / "models",
                 pictures: dict[str, Callable[[Checkpoint], torch.Tensor]] | None = None):
        self.checkpoints, self.models, self.pictures = Path(checkpoints), Path(models), pictures or {}
        self._loaded: dict[tuple, Any] = {}

    def _once(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key not in self._loaded:
            self._loaded[key] = make()
        return self._loaded[key]

    def checkpoint(self, name: str) -> Checkpoint:
        return self._once(("checkpoint", name), lambda: load_checkpoint(self.checkpoints / name))

    def test_images(self, name: str) -> tuple[torch.Tensor, np.ndarray, list[str]]:
        """The checkpoint's test split: images (N, C, H, W), labels (N,), class names."""
        def load():
            data = self.checkpoint(name).load_data("test")
            return data.images, data.labels.numpy(), list(data.class_names)
        return self._once(("test", name), load)

    def posterior(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The test split's posterior means and log-variances, (N, D) each."""
        def embed():
            mu, logvar = self.checkpoint(name).model.embed(self.test_images(name)[0])
            return np.asarray(mu, np.float32), np.asarray(logvar, np.float32)
        return self._once(("posterior", name), embed)

    def codes(self, name: str) -> np.ndarray:
        """The posterior means of the test split (N, D): the codes the Sliders page starts from."""
        return self.posterior(name)[0]

    def sliders(self, name: str) -> list[int]:
        """The latent dimensions in the Sliders page's order: most informative (highest average KL) first."""
        mu, logvar = self.posterior(name)
        return dims_by_kl((0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)).mean(0))

    def map_coords(self, name: str, method: str = "umap") -> np.ndarray:
        """The test split's 2-D map as the checkpoint ships it (``python -m vae project``): (N, 2)."""
        ck = self.checkpoint(name)
        key = projection_key(ck, "test", len(self.test_images(name)[1]), ProjectionConfig(method=method))
        arrays = self._once(("map", key), lambda: load_arrays(ck.path / SHIPPED_DIR, key))
        if arrays is None:
            raise FileNotFoundError(f"{name} ships no {method} map of its test split ({key})")
        return arrays["coords"]

    def folder(self, kind: str, dataset: str) -> ModelFolder:
        """The shipped classifier or GAN of ``dataset`` (models/)."""
        path = find_model(self.models, kind, dataset)
        if path is None:
            raise FileNotFoundError(f"no {kind} of {dataset} in {self.models}")
        return self._once((kind, str(path)), lambda: (load_classifier if kind == CLASSIFIER else load_generator)(path))

    def read(self, name: str, images: torch.Tensor) -> list[str]:
        """What the classifier of the checkpoint's data set sees in each image."""
        clf = self.folder(CLASSIFIER, self.checkpoint(name).dataset)
        return [clf.class_names[int(c)] for c in clf.model.predict(images)]

    def decode(self, name: str, z: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            return self.checkpoint(name).model.generate(torch.as_tensor(np.asarray(z, np.float32)))


def _runs(values: np.ndarray, readings: list[str]) -> list[tuple[str, float, float]]:
    """(class, first value, last value) of each run of equal readings along ``values``."""
    out: list[tuple[str, float, float]] = []
    for v, c in zip(values, readings, strict=True):
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1], float(v))
        else:
            out.append((c, float(v), float(v)))
    return out


def _in_order(wanted: tuple[str, ...], seen: list[str]) -> bool:
    """Whether ``wanted`` is ``seen`` with some in-between readings left out, from the first to the last."""
    it = iter(seen)
    return bool(seen) and seen[0] == wanted[0] and seen[-1] == wanted[-1] and all(c in it for c in wanted)


def _describe(runs: list[tuple[str, float, float]]) -> str:
    return ", ".join(f"{c} [{a:+.2f}, {b:+.2f}]" for c, a, b in runs)


# -- the map ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Regions:
    """On the shipped map, each group of classes keeps to itself: at least ``share`` of its images'
    ``k`` nearest neighbours on the map are of the same group."""

    checkpoint: str
    groups: tuple[tuple[str, ...], ...]
    share: float = 0.9
    k: int = 10

    def check(self, m: Shipped) -> Seen:
        _x, labels, names = m.test_images(self.checkpoint)
        near = _map_neighbours(m.map_coords(self.checkpoint), self.k)
        found = {}
        for group in self.groups:
            ids = [names.index(c) for c in group]
            mine = np.isin(labels, ids)
            found[" + ".join(group)] = float(np.isin(labels[near[mine]], ids).mean())
        return Seen(all(v >= self.share for v in found.values()),
                    "neighbours in their own group: " + ", ".join(f"{g} {v:.2f}" for g, v in found.items()))


@dataclass(frozen=True)
class Overlap:
    """On the shipped map, ``classes`` mix: at least ``share`` of each one's ``k`` nearest neighbours
    are of the others; ``apart`` classes have at most ``stray`` of theirs among them."""

    checkpoint: str
    classes: tuple[str, ...]
    apart: tuple[str, ...]
    share: float = 0.25
    stray: float = 0.05
    k: int = 10

    def check(self, m: Shipped) -> Seen:
        _x, labels, names = m.test_images(self.checkpoint)
        near = _map_neighbours(m.map_coords(self.checkpoint), self.k)
        ids = [names.index(c) for c in self.classes]
        mixed = {c: float(np.isin(labels[near[labels == i]], [j for j in ids if j != i]).mean())
                 for c, i in zip(self.classes, ids, strict=True)}
        stray = {c: float(np.isin(labels[near[labels == names.index(c)]], ids).mean()) for c in self.apart}
        return Seen(min(mixed.values()) >= self.share and max(stray.values()) <= self.stray,
                    "neighbours of the other classes: " + ", ".join(f"{c} {v:.2f}" for c, v in mixed.items())
                    + "; of them near " + ", ".join(f"{c} {v:.2f}" for c, v in stray.items()))


def _map_neighbours(coords: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest other points of each point of a 2-D map: (N, k) indices."""
    from sklearn.neighbors import NearestNeighbors

    _d, idx = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords)
    return idx[:, 1:]


# -- moving a code ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SliderReads:
    """On the Sliders page, started from test image ``image``, one slider dragged from its start to
    ``to``: the classifier reads ``reads`` in this order (the first at the start, the last at the end,
    each for at least ``hold`` of the slider's units; brief in-between readings allowed).

    ``axes="latent"``: slider ``slider`` is latent dimension z{slider}, its value the code's, and with
    ``top`` it is among the first ``top`` sliders the page shows; ``"pca"``: it is principal direction
    ``slider`` (0 = most variance, shown as PC1), its value the step from the start along it in standard
    deviations (vae.explore.latent.principal_axes). Sliders stop at ``limit``."""

    checkpoint: str
    image: int
    axes: Literal["latent", "pca"]
    slider: int
    to: float
    reads: tuple[str, ...]
    hold: float = 0.25
    top: int | None = None
    limit: float = 4.0  # pages/sliders.py's LIMIT

    def path(self, m: Shipped) -> tuple[np.ndarray, np.ndarray]:
        """The slider's values from its start to ``to`` (steps of 0.05) and the codes they set: (V,), (V, D)."""
        codes = m.codes(self.checkpoint)
        z0 = codes[self.image]
        start = float(z0[self.slider]) if self.axes == "latent" else 0.0
        values = np.linspace(start, self.to, max(2, int(round(abs(self.to - start) / 0.05)) + 1))
        if self.axes == "latent":
            z = np.repeat(z0[None], len(values), 0)
            z[:, self.slider] = values
        else:
            z = z0[None] + values[:, None] * principal_axes(codes)[0][self.slider][None]
        return values, np.clip(z, -self.limit, self.limit)

    def check(self, m: Shipped) -> Seen:
        values, z = self.path(m)
        runs = _runs(values, m.read(self.checkpoint, m.decode(self.checkpoint, z)))
        steady = [c for c, a, b in runs if abs(b - a) >= self.hold - 1e-6]
        order = m.sliders(self.checkpoint) if self.axes == "latent" else list(range(z.shape[1]))
        shown = self.top is None or self.slider in order[: self.top]
        ends = runs[0][0] == self.reads[0] and runs[-1][0] == self.reads[-1]
        return Seen(shown and ends and _in_order(self.reads, steady),
                    f"{self.axes} slider {self.slider} (shown {order.index(self.slider) + 1}.) to {self.to:+g}: "
                    f"{_describe(runs)}")


@dataclass(frozen=True)
class DirectionsMatter:
    """On the Sliders page with principal directions, a step of ``step`` along each of the ``first``
    directions changes the image at least ``ratio`` times as much as along each of the last ``last``."""

    checkpoint: str
    image: int
    first: int = 2
    last: int = 4
    step: float = 2.0
    ratio: float = 5.0

    def check(self, m: Shipped) -> Seen:
        codes = m.codes(self.checkpoint)
        axes, _share = principal_axes(codes)
        z0 = codes[self.image]
        base = m.decode(self.checkpoint, z0[None])
        change = []
        for a in axes:
            moved = m.decode(self.checkpoint, np.clip(np.stack([z0 + self.step * a, z0 - self.step * a]), -4, 4))
            change.append(float((moved - base).abs().mean()))
        head, tail = min(change[: self.first]), max(change[-self.last:])
        return Seen(head >= self.ratio * tail, "mean pixel change per direction: "
                    + " ".join(f"{c:.3f}" for c in change))


#: What :class:`ChangesAlong` measures in a decoded image: vae.explore.measures' ``ink`` and ``brightness``
#: (what the Sliders page's names say), and ``yellow``, a colour: the mean of (R + G) / 2 - B over the
#: pixels that are not white (at least 0.1 below 1 in some channel), 0 for grey, 0.46 on average for the emoji
#: test split's smiley faces.
ALONG = ("ink", "brightness", "yellow")


def _yellow(images: torch.Tensor) -> np.ndarray:
    """How yellow the drawn (not white) pixels of colour images (N, 3, H, W) in [0, 1] are, on average: (N,)."""
    x = images.detach().float().cpu().numpy()
    drawn = (1.0 - x.min(1)) > 0.1
    yellow = (x[:, 0] + x[:, 1]) / 2 - x[:, 2]
    return (yellow * drawn).sum((1, 2)) / np.maximum(drawn.sum((1, 2)), 1)


@dataclass(frozen=True)
class ChangesAlong:
    """On the Sliders page with principal directions, started from test image ``image``: along direction
    ``direction`` (0 = most variance, shown as PC1) the decoded image's ``what`` (one of :data:`ALONG`)
    goes from the slider's low end (-``limit``) through the start to its high end (+``limit``), and the
    high end's minus the low end's is at least ``by`` (at most, when ``by`` is negative)."""

    checkpoint: str
    image: int
    direction: int
    what: Literal["ink", "brightness", "yellow"]
    by: float
    limit: float = 4.0  # pages/sliders.py's LIMIT

    def __post_init__(self) -> None:
        if self.what not in ALONG:
            raise ValueError(f"ChangesAlong measures one of {', '.join(ALONG)}, not {self.what!r}")

    def check(self, m: Shipped) -> Seen:
        codes = m.codes(self.checkpoint)
        axis = principal_axes(codes)[0][self.direction]
        z0 = codes[self.image]
        z = np.clip(np.stack([z0 - self.limit * axis, z0, z0 + self.limit * axis]), -self.limit, self.limit)
        images = m.decode(self.checkpoint, z)
        if self.what == "yellow":
            low, start, high = (float(v) for v in _yellow(images))
        else:
            bg = m.checkpoint(self.checkpoint).data_background()
            low, start, high = (float(v) for v in measure(images, bg.lightness if bg else None)[self.what])
        between = min(low, high) <= start <= max(low, high)
        enough = high - low >= self.by if self.by >= 0 else high - low <= self.by
        return Seen(between and enough, f"PC{self.direction + 1}'s {self.what}: {low:.3f} at -{self.limit:g}, "
                    f"{start:.3f} at the start, {high:.3f} at +{self.limit:g} (change {high - low:+.3f})")


@dataclass(frozen=True)
class PathReads:
    """Interpolate's frames on the straight line between test images ``a`` and ``b`` (``steps`` frames):
    the classifier reads every one as one of ``within``."""

    checkpoint: str
    a: int
    b: int
    steps: int
    within: tuple[str, ...]

    def check(self, m: Shipped) -> Seen:
        codes = m.codes(self.checkpoint)
        seen = m.read(self.checkpoint, m.decode(self.checkpoint, lerp(codes[self.a], codes[self.b], self.steps)))
        return Seen(all(c in self.within for c in seen), "frames read as: " + ", ".join(seen))


# -- blur ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Blurrier:
    """Images of ``kind`` are blurrier than the test images they are compared with: their sharpness is
    at most ``ratio`` of it. ``"reconstructions"`` of the first ``n`` test images (or just ``image``),
    ``"prior"`` samples (``n`` of them, ``seed``), or the reconstructions by ``than`` (another checkpoint,
    whose own reconstructions are then the reference)."""

    checkpoint: str
    kind: Literal["reconstructions", "prior"]
    n: int = 1000
    image: int | None = None
    seed: int = 0
    ratio: float = 0.8
    than: str | None = None

    def check(self, m: Shipped) -> Seen:
        x = m.test_images(self.checkpoint)[0]
        x = x[self.image : self.image + 1] if self.image is not None else x[: self.n]
        model = m.checkpoint(self.checkpoint).model
        with torch.inference_mode():
            if self.kind == "prior":
                shown = model.generate(torch.from_numpy(prior_samples(self.n, model.config.latent_dim, seed=self.seed)))
            else:
                shown = model.reconstruct(x)
            ref = m.checkpoint(self.than).model.reconstruct(x) if self.than else x
        s, r = float(sharpness(shown).mean()), float(sharpness(ref).mean())
        what = f"reconstructions by {self.than}" if self.than else "the test images"
        return Seen(s <= self.ratio * r, f"sharpness {s:.4f} ({self.kind}) against {r:.4f} ({what})")


# -- comparisons ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BetaTradeOff:
    """``other`` (a larger β) against ``checkpoint`` by their evaluations (meta.json, the How it works
    table): a KL at most ``kl_ratio`` of it, a worse reconstruction, fewer dimensions in use (``in_use``
    of them, when given)."""

    checkpoint: str
    other: str
    kl_ratio: float = 0.6
    in_use: int | None = None

    def check(self, m: Shipped) -> Seen:
        a, b = m.checkpoint(self.checkpoint).metrics, m.checkpoint(self.other).metrics
        da, db = dims_in_use(a), dims_in_use(b)
        return Seen(b["kl"] <= self.kl_ratio * a["kl"] and b["recon"] > a["recon"] and db < da
                    and self.in_use in (None, db),
                    f"KL {a['kl']:.1f} -> {b['kl']:.1f}, reconstruction {a['recon']:.1f} -> {b['recon']:.1f}, "
                    f"dimensions in use {da} -> {db}")


@dataclass(frozen=True)
class SharedNeighbours:
    """Two models of the same images mostly disagree on which images are alike: of each test image's ``k``
    nearest others in latent space (posterior means), the two share ``low`` to ``high`` on average, far more
    than chance (k²/N) and far from all k (vae.explore.spaces, as the Two latent spaces page computes it)."""

    checkpoint: str
    other: str
    low: float
    high: float
    k: int = 10

    def check(self, m: Shipped) -> Seen:
        a, b = m.codes(self.checkpoint), m.codes(self.other)
        shared = float(shared_neighbours(neighbour_lists(a, self.k), neighbour_lists(b, self.k)).mean())
        return Seen(self.low <= shared <= self.high,
                    f"{shared:.2f} of {self.k} nearest neighbours shared on average (chance {self.k**2 / len(a):.2f})")


@dataclass(frozen=True)
class AutoencoderVsVae:
    """The autoencoder (β = 0) reconstructs better than the VAE (its evaluation's reconstruction term is
    lower), and the same ``n`` prior samples (``seed``, as the AE vs VAE page draws them) through its
    decoder are murkier (sharpness at most ``ratio`` of the VAE's) and less recognisable (the classifier's
    mean confidence is lower)."""

    autoencoder: str
    vae: str
    n: int = 8
    seed: int = 0
    ratio: float = 0.8

    def check(self, m: Shipped) -> Seen:
        ae, vae = m.checkpoint(self.autoencoder), m.checkpoint(self.vae)
        z = prior_samples(self.n, vae.config.latent_dim, seed=self.seed)
        clf = m.folder(CLASSIFIER, vae.dataset)
        got = {}
        for name in (self.autoencoder, self.vae):
            imgs = m.decode(name, z)
            got[name] = (float(sharpness(imgs).mean()), float(clf.model.embed(imgs)[1].max(1).mean()))
        (s_ae, c_ae), (s_vae, c_vae) = got[self.autoencoder], got[self.vae]
        return Seen(ae.metrics["recon"] < vae.metrics["recon"] and s_ae <= self.ratio * s_vae and c_ae < c_vae,
                    f"reconstruction {ae.metrics['recon']:.1f} (autoencoder) vs {vae.metrics['recon']:.1f}; prior "
                    f"samples' sharpness {s_ae:.4f} vs {s_vae:.4f}, the classifier's confidence {c_ae:.2f} vs {c_vae:.2f}")


@dataclass(frozen=True)
class GanSharper:
    """The shipped GAN's samples are sharper than the VAE's, in the comparison shipped with the GAN
    (the VAE vs GAN page's table)."""

    checkpoint: str
    n: int = 10_000
    seed: int = 0

    def check(self, m: Shipped) -> Seen:
        ck = m.checkpoint(self.checkpoint)
        gan, clf = m.folder(GAN, ck.dataset), m.folder(CLASSIFIER, ck.dataset)
        key = comparison_key(ck.content_hash, gan.content_hash, clf.content_hash, self.n, self.seed)
        report = load_comparison(Path(gan.path) / SHIPPED_COMPARISONS, key)
        if report is None:
            return Seen(False, f"no comparison {key} shipped with {gan.path}")
        s = {k: report["sets"][k]["sharpness"] for k in ("VAE samples", "GAN samples")}
        return Seen(s["GAN samples"] > s["VAE samples"], f"sharpness: VAE samples {s['VAE samples']:.4f}, "
                    f"GAN samples {s['GAN samples']:.4f}")


# -- uses ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Repairs:
    """The Uses page's first ``n`` test images: encode → decode brings noisy ones (σ = ``noise``) closer
    to the originals, and rounds of encode → decode fill a hidden region (``mask``) closer to them."""

    checkpoint: str
    noise: float
    mask: str
    n: int = 8
    rounds: int = 20

    def check(self, m: Shipped) -> Seen:
        model = m.checkpoint(self.checkpoint).model
        x = m.test_images(self.checkpoint)[0][: self.n]
        noisy = uses.add_noise(x, self.noise, seed=0)
        clean = uses.denoise(model, noisy)
        e_noisy, e_clean = float((noisy - x).pow(2).mean()), float((clean - x).pow(2).mean())
        known = uses.mask(self.mask, tuple(model.config.image_shape), seed=0)
        steps = uses.inpaint(model, x, known, iterations=self.rounds)
        e0, e1 = (uses.masked_mse(s, x, 1 - known) for s in (steps[0], steps[-1]))
        return Seen(e_clean < e_noisy and e1 < e0, f"denoising: error {e_noisy:.4f} -> {e_clean:.4f}; "
                    f"inpainting: error in the hidden region {e0:.4f} -> {e1:.4f}")


@dataclass(frozen=True)
class StrangersLikelier:
    """Images of another set (``other``, one of vae.lessons.uses.other_images) get a lower mean −ELBO
    (look more likely) than the model's own first ``n`` test images."""

    checkpoint: str
    other: str
    n: int = 1000

    def check(self, m: Shipped) -> Seen:
        ck = m.checkpoint(self.checkpoint)
        own = m.test_images(self.checkpoint)[0][: self.n]
        sets = {o.name: o.images for o in uses.other_images(tuple(ck.config.image_shape), own, ck.dataset, n=self.n)}
        if self.other not in sets:
            return Seen(False, f"no set {self.other!r} among {', '.join(sets)}")
        a, b = float(np.mean(uses.neg_elbo(ck.model, own))), float(np.mean(uses.neg_elbo(ck.model, sets[self.other])))
        return Seen(b < a, f"mean −ELBO: own test images {a:.1f}, {self.other} {b:.1f}")


@dataclass(frozen=True)
class Outsider:
    """A picture the app makes (``picture``, see :class:`Shipped`): its −ELBO is lower than that of at
    least ``beats`` of the test images, and its ``k`` nearest codes are of ``classes`` classes or more."""

    checkpoint: str
    picture: str
    beats: float = 0.5
    classes: int = 3
    k: int = 8

    def check(self, m: Shipped) -> Seen:
        ck = m.checkpoint(self.checkpoint)
        x = m.pictures[self.picture](ck)
        mine = float(np.mean(uses.neg_elbo(ck.model, x[None])))
        images, labels, names = m.test_images(self.checkpoint)
        share = float((uses.neg_elbo(ck.model, images) > mine).mean())
        mu = np.asarray(ck.model.embed(x[None])[0], np.float32)[0]
        near = np.argsort(np.linalg.norm(m.codes(self.checkpoint) - mu, axis=1))[: self.k]
        kinds = sorted({names[int(labels[i])] for i in near})
        return Seen(share >= self.beats and len(kinds) >= self.classes,
                    f"−ELBO {mine:.1f}, lower than {share:.0%} of the test images'; nearest codes: {', '.join(kinds)}")


Claim = (Regions | Overlap | SliderReads | DirectionsMatter | ChangesAlong | PathReads | Blurrier | BetaTradeOff
         | AutoencoderVsVae | GanSharper | Repairs | StrangersLikelier | Outsider)
