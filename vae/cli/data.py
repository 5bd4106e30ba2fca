"""``data``: which datasets are on this machine, and fetching one.
"""

from __future__ import annotations

import argparse
import sys

from .args import Command


def add_data(sub) -> argparse.ArgumentParser:
    """data: which datasets are here; --check one, --fetch one."""
    d = sub.add_parser("data", help="which datasets are on this machine; fetch one")
    d.add_argument("--check", metavar="NAME", default=None,
                   help="exit 0 if the dataset's split is available without a download, else 1")
    d.add_argument("--fetch", metavar="NAME", default=None,
                   help="make both splits available (downloads when needed: the MNIST family with "
                        "torchvision, emoji from the npm registry)")
    d.add_argument("--split", choices=("train", "test", "both"), default="both")
    d.add_argument("--data-dir", default=None)
    d.add_argument("--image-size", type=int, default=None,
                   help="emoji: prepare the images at 32 (default) or 64 pixels")
    return d


def cmd_data(args: argparse.Namespace) -> int:
    from ..data.datasets import IDX_DATASETS, check_dataset_name, dataset_available, find_idx, load_dataset

    splits = ("train", "test") if args.split == "both" else (args.split,)
    if args.check:
        check_dataset_name(args.check)
        missing = [s for s in splits if not dataset_available(args.check, s, args.data_dir)]
        if missing:
            print(f"{args.check}: the {' and '.join(missing)} split{'s are' if len(missing) > 1 else ' is'} not on this machine; "
                  f"run `make data` or `python -m vae data --fetch {args.check}`", file=sys.stderr)
            return 1
        return 0
    if args.fetch:
        check_dataset_name(args.fetch)
        for split in splits:
            kw = {"image_size": args.image_size} if args.fetch == "emoji" else {}
            ds = load_dataset(args.fetch, split, data_dir=args.data_dir, download=True, **kw)
            print(f"{args.fetch} {split}: {len(ds)} images in {ds.source}")
        return 0
    for name in [*IDX_DATASETS, "digits", "emoji"]:
        where = []
        for split in ("train", "test"):
            if name == "digits":
                where.append(f"{split}: scikit-learn")
                continue
            if name == "emoji":
                here = dataset_available(name, split, args.data_dir)
                where.append(f"{split}: {'here' if here else 'not here (`python -m vae data --fetch emoji`)'}")
                continue
            found = find_idx(IDX_DATASETS[name], split, args.data_dir)
            where.append(f"{split}: {found[0].parent if found else 'not here (downloads on first use)'}")
        print(f"{name:<14} " + "; ".join(where))
    return 0


COMMANDS = {"data": Command(add_data, cmd_data)}
