"""``evaluate`` and ``compare``: a checkpoint's test-set metrics, and a VAE measured against a GAN.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .args import DATA_DIR_HELP, CliError, Command, positive_int


def add_evaluate(sub) -> argparse.ArgumentParser:
    """evaluate: test-set metrics, with PCA and pixel baselines."""
    from ..config import DEVICES

    e = sub.add_parser("evaluate", help="test-set metrics of a checkpoint, with PCA and pixel baselines")
    e.add_argument("checkpoint")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--limit", type=positive_int("--limit"), default=None,
                   help="evaluate on the first N test images")
    e.add_argument("--iwae-k", type=positive_int("--iwae-k"), default=1000)
    e.add_argument("--iwae-images", type=positive_int("--iwae-images"), default=1000,
                   help="images used for the (costly) IWAE bound (default 1000)")
    e.add_argument("--knn-train", type=positive_int("--knn-train"), default=None,
                   help="fit k-NN on the first N training images (default all)")
    e.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    e.add_argument("--device", choices=DEVICES, default="auto")
    e.add_argument("--no-save", action="store_true", help="do not store the results in meta.json")
    e.add_argument("--replace", action="store_true",
                   help="store partial results (--limit, other settings, no train split) as the "
                        "checkpoint's metrics, replacing a complete evaluation")
    return e


def add_compare(sub) -> argparse.ArgumentParser:
    """compare: a VAE against a GAN on the same data, judged by a classifier."""
    cp = sub.add_parser("compare", help="a VAE against a GAN on the same data, judged by a classifier")
    cp.add_argument("checkpoint", help="the VAE checkpoint folder")
    cp.add_argument("--gan", default=None, help="GAN generator folder (default: the one of the VAE's data set in models/)")
    cp.add_argument("--classifier", default=None, help="classifier folder (default: as --gan)")
    cp.add_argument("--n", type=positive_int("--n"), default=10_000, help="samples of each model (default 10000)")
    cp.add_argument("--seed", type=int, default=0)
    cp.add_argument("--data-dir", default=None)
    cp.add_argument("--json", action="store_true", help="print one JSON object")
    cp.add_argument("--save", action="store_true",
                    help="store the report in the GAN's folder (comparisons/), where the app finds it")
    return cp


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..checkpoint import load_checkpoint
    from ..evaluate import EvalConfig, evaluate, format_report, store_report
    from ..training.trainer import resolve_device

    ck = load_checkpoint(args.checkpoint, device=resolve_device(args.device))
    cfg = EvalConfig(limit=args.limit, iwae_k=args.iwae_k, iwae_images=args.iwae_images,
                     knn_train=args.knn_train, data_dir=args.data_dir)
    report = evaluate(ck, cfg)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    if not args.no_save:
        print(store_report(ck.path, report, replace=args.replace), file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import time

    from ..baselines.classifier import KIND as CLASSIFIER
    from ..baselines.classifier import load_classifier
    from ..baselines.compare import compare_generators
    from ..baselines.gan import KIND as GAN
    from ..baselines.gan import load_generator
    from ..checkpoint import find_model, load_checkpoint

    ck = load_checkpoint(args.checkpoint)
    models = Path(__file__).resolve().parents[2] / "models"  # the repository's models/
    loaded = []
    for kind, given, opt, load in ((GAN, args.gan, "--gan", load_generator),
                                   (CLASSIFIER, args.classifier, "--classifier", load_classifier)):
        path = Path(given) if given else find_model(models, kind, ck.dataset)
        if path is None:
            raise CliError(f"no {kind} of {ck.dataset} in {models}; pass {opt} or train one "
                           f"(python -m vae train-{'gan' if kind == GAN else 'classifier'})")
        m = load(path)
        if m.meta.get("dataset") != ck.dataset:
            raise CliError(f"{m.path} was trained on {m.meta.get('dataset')}, the VAE on {ck.dataset}")
        loaded.append(m)
    gan, clf = loaded
    real = ck.load_data("test", data_dir=args.data_dir).images
    t0 = time.perf_counter()
    report = compare_generators(ck.model, gan.model, clf.model, real, n=args.n, seed=args.seed)
    report.update(vae=str(ck.path), gan=str(gan.path), classifier=str(clf.path),
                  classifier_test_acc=clf.meta.get("test_acc"), seconds=round(time.perf_counter() - t0, 1),
                  training_seconds={"VAE": (ck.meta.get("training") or {}).get("seconds"),
                                    "GAN": (gan.meta.get("training") or {}).get("seconds")})
    if args.save:
        from ..baselines.compare import SHIPPED_COMPARISONS, comparison_key, save_comparison

        key = comparison_key(ck.content_hash, gan.content_hash, clf.content_hash, args.n, args.seed)
        if save_comparison(gan.path / SHIPPED_COMPARISONS, key, report) is None:
            raise CliError(f"cannot write {gan.path / SHIPPED_COMPARISONS}; check its permissions")
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{ck.path.name} vs {gan.path.name}, judged by {clf.path.name} (test accuracy "
          f"{report['classifier_test_acc']:.3f}); {report['n']} images each, seed {args.seed}")
    print(f"  {'':<22}{'sharpness':>10}{'Fréchet':>10}{'entropy':>9}{'rarest':>8}{'confid.':>9}")
    for name, r in report["sets"].items():
        print(f"  {name:<22}{r['sharpness']:>10.4f}{r['frechet']:>10.2f}{r['entropy_bits']:>9.3f}"
              f"{r['min_share'] * 100:>7.1f}%{r['confidence']:>9.3f}")
    ts = report["training_seconds"]
    print(f"  training: VAE {float(ts['VAE'] or 0) / 60:.0f} min, GAN {float(ts['GAN'] or 0) / 60:.0f} min; "
          f"this comparison {report['seconds']:.0f} s")
    return 0


COMMANDS = {
    "evaluate": Command(add_evaluate, cmd_evaluate),
    "compare": Command(add_compare, cmd_compare),
}
