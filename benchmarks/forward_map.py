"""Placing new codes on the map, latent -> 2-D: ``LatentMap.to_map`` vs umap-learn's ``transform``.

The new codes are images the map was not fitted on (the first images of the train split,
encoded), or, where the train split is missing, posterior samples z ~ q(z|x) of test images.
Latency is one code per call (as the Sliders page places its code), after umap-learn's JIT
warm-up; agreement is the distance between the two placements in neighbour spacings of the
map. How far ``transform`` puts the map's *own* codes from where the fit put them is given
as ``judge_noise_floor``: agreement much better than that cannot be told apart.

Where the time goes (``vae.explore.knn``, 10,000 16-D codes, one core of this machine's AMD EPYC):
the exact search computes an int8 score for every code (2.1 µs: AVX-512 VNNI, one
``vpdpbusd`` per 16 codes and 4 dimensions), then measures the few candidates it cannot rule
out (about 1 µs: some 11 of 40 blocks looked at, 13 codes measured in float64); calling
into the compiled kernel costs 0.8 µs and the Python around it about 1 µs. This benchmark
measures more than these parts add up to: its rounds alternate with umap-learn's calls,
after which each of our calls runs about 1.3 µs slower for the whole round (not page
faults, not where the scratch space lies; not found). The int8 scan
took 7.5 µs before, with one 32-bit multiply per code and dimension (17.6× over umap-learn
with the numpy search of the first version, 70.7× with that scan, see the notes of issue
#4). Where a CPU lacks VNNI the kernels compile to plain vector code instead: still exact,
and no slower than before (compiled here for an AVX2-only CPU: 12.3 µs a query, against
13.2 µs for the earlier kernels). Trees do not prune in 16 dimensions (scipy's cKDTree:
150 µs; clusters, or blocks ordered by a PCA tree, still leave more than half of the
points to scan), and an approximate search (probing 16 of 100 k-means clusters) would miss
0.5% of the neighbours and move 3.5% of the placements: the shipped search stays exact.
"""

from __future__ import annotations

import numpy as np

from vae.errors import DataError

from .records import Record, median, p95, spread
from .settings import Settings
from .umap_fixture import MapFixture, map_fixture, timed

NAME = "forward_map"


def new_codes(fx: MapFixture, n: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """(n, D) codes the map has not seen, and what they are."""
    try:
        train = fx.ck.load_data("train", limit=n)
        return fx.embed(train.images), f"first {n} train-split images, encoded"
    except DataError:
        rng = np.random.default_rng(seed)
        test = fx.ck.load_data("test")
        idx = rng.choice(len(test), size=min(n, len(test)), replace=False)
        mu, logvar = fx.ck.model.embed(test.images[idx])
        z = mu.numpy() + np.exp(0.5 * logvar.numpy()) * rng.standard_normal(mu.shape)
        return z.astype(np.float32), f"{len(idx)} posterior samples of test images (no train split here)"


def run(settings: Settings) -> list[Record]:
    fx = map_fixture(settings.checkpoint, settings.say)
    n_codes = settings.pick(50, 200)
    n_peer = n_codes  # warm transform calls take milliseconds: time the peer on every code too
    rounds = settings.pick(3, 5)
    z, what = new_codes(fx, n_codes, settings.seed)
    lmap, reducer = fx.lmap, fx.reducer
    settings.say(f"forward_map: {len(z)} codes ({what}), {n_peer} umap-learn calls")
    for q in z[:3]:
        lmap.to_map(q[None])
    warmup_ms, _ = timed(reducer.transform, z[-1:])  # JIT warm-up (or already warm), not counted
    ours_ms = np.zeros((rounds, len(z)))
    peer_ms: list[float] = []
    peer_idx = list(range(n_peer))
    for r in range(rounds):
        for j, q in enumerate(z):
            ours_ms[r, j], _ = timed(lmap.to_map, q[None])
        for j in peer_idx[r::rounds]:
            ms, _ = timed(reducer.transform, z[j : j + 1])
            peer_ms.append(ms)
    per_code = np.median(ours_ms, 0)
    batched_ours, _ = timed(lmap.to_map, z)  # all codes in one call, for context
    batched_peer, _ = timed(reducer.transform, z)

    settings.say("forward_map: agreement with umap-learn transform (batched)")
    rng = np.random.default_rng(settings.seed)
    own = rng.choice(len(fx.codes), size=min(len(z), len(fx.codes) - 1), replace=False)
    placed = np.asarray(reducer.transform(np.concatenate([z, fx.codes[own]])))
    s = lmap.spacing
    d = np.linalg.norm(lmap.to_map(z) - placed[: len(z)], axis=1) / s
    floor = np.linalg.norm(placed[len(z):] - fx.coords[own], axis=1) / s
    latency = Record(
        NAME, median(per_code), median(peer_ms), "ms", len(z), "lower",
        ours_label="LatentMap.to_map", peer_label="umap-learn transform (warm)",
        goal="ratio ≥ 100", note=f"one code per call; {what}; peer on {len(peer_ms)} codes",
        extra={"p95": p95(per_code), "peer_p95": p95(peer_ms), "peer_n": len(peer_ms),
               "peer_warmup_call_ms": warmup_ms,
               "ours_batched_ms_per_code": batched_ours / len(z),
               "peer_batched_ms_per_code": batched_peer / len(z), "ours_spread": spread(per_code),
               "peer_spread": spread(peer_ms), "map_points": len(fx.codes)},
    )
    latency.met = latency.ratio is not None and latency.ratio >= 100
    agreement = Record(
        f"{NAME}_agreement", median(d), None, "spacings", len(d), "lower",
        ours_label="|to_map(z) − transform(z)|", peer_label="",
        note=f"median distance to transform's placement; transform's own noise floor "
             f"{median(floor):.2f} spacings (spacing {s:.3g} map units)",
        extra={"p95": p95(d), "judge_noise_floor": median(floor), "judge_noise_floor_p95": p95(floor),
               "spacing": s, "map_units": median(d) * s},
    )
    return [latency, agreement]
