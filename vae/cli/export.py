"""``export``, ``project`` and ``map``: a checkpoint's codes and graphs written out, its 2-D map shipped,
the app's maps of a large explore set built into the cache.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .args import DATA_DIR_HELP, CliError, Command, number, positive_int

ATTRIBUTES_HELP = ("your own columns: a CSV keyed by 'index' (0..N-1) or 'file' (a folder data set's file names), "
                   "one row per image")


def _attributes(path: str | None, n: int, files: list[str] | None):
    """The ``--attributes`` file read against an explore set of ``n`` images (None: no file), and its
    summary on stderr."""
    if path is None:
        return None
    from ..explore.attributes import read_attributes

    attrs = read_attributes(path, n, files)
    print(attrs.summary(), file=sys.stderr, flush=True)
    if attrs.left_out():
        print(attrs.left_out(), file=sys.stderr, flush=True)
    return attrs


def add_export(sub) -> argparse.ArgumentParser:
    """export: latent means as CSV or for TensorBoard's projector, or the graphs as ONNX."""
    x = sub.add_parser("export", help="latent means + labels as CSV or for TensorBoard's projector, "
                                      "or the decoder and encoder as ONNX")
    x.add_argument("checkpoint")
    x.add_argument("--format", choices=("csv", "projector", "onnx"), default="csv",
                   help="onnx: decoder.onnx and encoder.onnx (dynamic batch), e.g. for onnxruntime-web")
    x.add_argument("--split", choices=("train", "test"), default="test")
    x.add_argument("--limit", type=positive_int("--limit"), default=None)
    x.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    x.add_argument("--out", required=True, help="output folder")
    x.add_argument("--attributes", default=None, metavar="FILE", help=ATTRIBUTES_HELP + "; joined to latents.csv")
    return x


def add_project(sub) -> argparse.ArgumentParser:
    """project: a 2-D map shipped inside the checkpoint folder."""
    pr = sub.add_parser("project", help="compute a 2-D map and ship it inside the checkpoint folder")
    pr.add_argument("checkpoint")
    pr.add_argument("--method", choices=("umap", "pca", "tsne", "latent"), default=None,
                    help="default: latent for a 2-D model, else umap")
    pr.add_argument("--split", choices=("train", "test"), default="test")
    pr.add_argument("--limit", type=positive_int("--limit"), default=None)
    pr.add_argument("--n-neighbors", type=positive_int("--n-neighbors"), default=15)
    pr.add_argument("--min-dist", type=number("--min-dist", 0.0), default=0.1)
    pr.add_argument("--perplexity", type=number("--perplexity", 2.0), default=30.0)
    pr.add_argument("--seed", type=int, default=42)
    pr.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    return pr


def add_map(sub) -> argparse.ArgumentParser:
    """map: the app's map of a large explore set, built into the cache."""
    mp = sub.add_parser("map", help="build the app's map of a large explore set (all images, posterior samples) "
                                    "into the cache, and say how long it took")
    mp.add_argument("checkpoint")
    mp.add_argument("--split", choices=("test", "train", "all"), default="test",
                    help="all: the test split then the train split (the test map, every training image placed on it)")
    mp.add_argument("--samples", type=positive_int("--samples"), default=1,
                    help="codes per image: 1 = the posterior means; K > 1 adds K samples z ~ q(z|x) of every image "
                         "(70,000 images x 15 = 1,050,000 codes)")
    mp.add_argument("--method", choices=("umap", "pca", "tsne", "latent"), default=None,
                    help="default: latent for a 2-D model, else umap")
    mp.add_argument("--seed", type=int, default=0, help="seed of the posterior samples")
    mp.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    mp.add_argument("--cache-dir", default=None, help="default: the app's cache (cache/ or $VAE_EXPLORER_CACHE)")
    mp.add_argument("--attributes", default=None, metavar="FILE",
                    help=ATTRIBUTES_HELP + "; checked against the explore set before it is encoded (the map page "
                         "loads the file itself: its columns are never cached)")
    return mp


def cmd_export(args: argparse.Namespace) -> int:
    from ..checkpoint import load_checkpoint
    from ..export.tables import export_csv, export_projector

    ck = load_checkpoint(args.checkpoint)
    if args.format == "onnx":  # the model only: no data set needed
        from ..export.onnx_files import export_onnx

        files = export_onnx(ck.model, args.out).values()
        print(f"wrote {', '.join(str(f) for f in files)}")
        return 0
    data = ck.load_data(args.split, args.limit, args.data_dir)
    if args.format == "csv":
        files = export_csv(ck, data, args.out, _attributes(args.attributes, len(data), data.files or None))
    elif args.attributes:
        raise CliError("--attributes is joined to the CSV export only: use --format csv")
    else:
        files = export_projector(ck, data, args.out)
    print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    from ..checkpoint import load_checkpoint
    from ..explore.projection import ProjectionConfig
    from ..explore.sets import default_projection, ship_projection

    ck = load_checkpoint(args.checkpoint)
    data = ck.load_data(args.split, args.limit, args.data_dir)
    method = args.method or default_projection(ck, len(data)).method
    cfg = ProjectionConfig(method=method, n_neighbors=args.n_neighbors, min_dist=args.min_dist,
                           perplexity=args.perplexity, seed=args.seed)
    cfg.validate(n_points=len(data), latent_dim=ck.config.latent_dim)
    files = ship_projection(ck, data, cfg, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """The maps the app draws for an explore set, built (or read) where the app looks for them."""
    import time

    from ..checkpoint import load_checkpoint
    from ..data.cache import DEFAULT_CACHE_DIR
    from ..explore.projection import LatentMap, ProjectionConfig
    from ..explore.sets import (
        ALL,
        all_parts,
        default_projection,
        explore_parts,
        explore_set,
        placed_projection,
        projection,
        sample_map,
    )

    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    cache = Path(args.cache_dir) if args.cache_dir else DEFAULT_CACHE_DIR
    ck = load_checkpoint(args.checkpoint)
    t0 = time.perf_counter()
    if args.split == ALL:
        parts = all_parts(ck, args.data_dir)
        files = [f for p in parts for f in p.files] if all(p.files for p in parts) else None
        _attributes(args.attributes, sum(len(p) for p in parts), files)
        base, enc = explore_set(ck, parts[0], cache), explore_parts(ck, parts, cache)
    else:
        data = ck.load_data(args.split, 10_000 if args.split == "train" else None, args.data_dir)
        _attributes(args.attributes, len(data), data.files or None)
        base = enc = explore_set(ck, data, cache)
    t_enc = time.perf_counter() - t0
    cfg = ProjectionConfig(method=args.method) if args.method else default_projection(ck, len(enc))
    cfg.validate(n_points=len(base), latent_dim=ck.config.latent_dim)
    t1 = time.perf_counter()
    if args.split == ALL:
        coords = placed_projection(ck, args.split, base, enc, cfg, cache, progress=say)
        base_coords = coords[: len(base)]
    else:
        coords = base_coords = projection(ck, args.split, enc, cfg, cache, progress=say)[0]
    t_map = time.perf_counter() - t1
    print(f"{len(enc):,} images of {ck.dataset} ({args.split}): encoded in {t_enc:.1f} s, {cfg.method} map in "
          f"{t_map:.1f} s; cached in {cache}")
    if args.samples > 1:
        t2 = time.perf_counter()
        if cfg.method in ("umap", "tsne"):
            base_map = LatentMap(base.mu, base_coords)
        else:
            from ..explore.projection import build_latent_map, fit_pca_map

            base_map = build_latent_map(enc.mu, coords, cfg.method,
                                        fit_pca_map(enc.mu, coords) if cfg.method == "pca" else None)
        try:
            sm = sample_map(ck, args.split, enc, base_map, args.samples, cfg, args.seed, cache)
        except ValueError as e:
            raise CliError(str(e)) from None
        print(f"{len(sm):,} codes ({args.samples} posterior samples of each image) placed in "
              f"{time.perf_counter() - t2:.1f} s")
    return 0


COMMANDS = {
    "export": Command(add_export, cmd_export),
    "project": Command(add_project, cmd_project),
    "map": Command(add_map, cmd_map),
}
