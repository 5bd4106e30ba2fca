"""Two latent spaces (issue #35): what the page computes for a pair of checkpoints on the 10,000 test images.

Ours: ``vae.explore.spaces.compare_spaces`` on the shipped fashion-mnist and fashion-mnist-beta4
encodings and maps (the summary table, the Procrustes alignment and the shared neighbours), as the page
computes it once per pair (its cache keeps it). The peer is what a notebook would call for the same
figures that cost: scikit-learn's ``NearestNeighbors`` for each space's neighbour lists (and so the shared
count), ``sklearn.manifold.trustworthiness`` of each map (an N x N distance matrix, argsorted) and
``scipy.spatial.procrustes``. Both give the same figures (the tests hold them to it); the record says
whether this run's did.

- ``spaces_compare_10k``: seconds for the whole comparison; the note gives its parts.

Nothing here waits on a browser or a server: a failure is an exception, reported in one line by
benchmarks/cli.py.
"""

from __future__ import annotations

import time

from .records import Record, median
from .settings import Settings, Skip

NAME = "spaces"
PARTNER = "fashion-mnist-beta4"


def _space(path, name: str):
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import default_projection, explore_set, projection
    from vae.explore.spaces import Space, has_elbo

    ck = load_checkpoint(path)
    enc = explore_set(ck, ck.load_data("test"))
    coords, _ = projection(ck, "test", enc, default_projection(ck, len(enc)))
    return Space.of(name, enc, coords, has_elbo(ck.model))


def _peer(a, b, k: int) -> dict:
    """The same figures with scikit-learn and scipy, as a notebook would get them."""
    from scipy.spatial import procrustes
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    nn = [NearestNeighbors(n_neighbors=k).fit(s.mu).kneighbors(return_distance=False) for s in (a, b)]
    shared = (nn[0][:, :, None] == nn[1][:, None, :]).any(2).sum(1)
    return {"mean_shared": float(shared.mean()), "disparity": procrustes(a.coords, b.coords)[2],
            "trust": [trustworthiness(s.mu, s.coords, n_neighbors=k) for s in (a, b)]}


def run(settings: Settings) -> list[Record]:
    from vae.explore.knn import warm_up
    from vae.explore.spaces import compare_spaces

    partner = settings.checkpoint.resolve().parent / PARTNER
    if not (partner / "model.safetensors").is_file():
        raise Skip(f"spaces: checkpoints/{PARTNER} is not there (the pair compared)")
    warm_up(background=False)  # numba's compile is not the comparison's cost
    a, b = _space(settings.checkpoint, settings.checkpoint_name), _space(partner, PARTNER)
    repeats = settings.pick(2, 5)
    settings.say(f"spaces: {a.name} vs {b.name} on {len(a.mu):,} images, {repeats} times; the peer once")
    times, parts = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        cmp = compare_spaces(a, b)
        times.append(time.perf_counter() - t0)
        parts.append(cmp.seconds)
    t0 = time.perf_counter()
    peer = _peer(a, b, cmp.k)
    peer_s = time.perf_counter() - t0
    same = (abs(peer["mean_shared"] - cmp.mean_shared) < 1e-9 and abs(peer["disparity"] - cmp.alignment.disparity) < 1e-6
            and all(abs(p - s.trustworthiness) < 1e-4 for p, s in zip(peer["trust"], (cmp.a, cmp.b), strict=True)))
    split = {k: median([p[k] for p in parts]) for k in parts[0]}
    return [Record(
        "spaces_compare_10k", median(times), peer_s, "s", repeats, "lower",
        ours_label="vae.explore.spaces.compare_spaces", peer_label="sklearn NearestNeighbors + trustworthiness, scipy procrustes",
        note=f"{a.name} vs {b.name}, {len(a.mu):,} test images; " + ", ".join(f"{k} {v:.2f} s" for k, v in split.items())
             + f"; same figures as the peer: {same}",
        extra={"parts_s": split, "same_figures": bool(same), "images": len(a.mu),
               "trustworthiness": [cmp.a.trustworthiness, cmp.b.trustworthiness], "peer_trustworthiness": peer["trust"]},
    )]
