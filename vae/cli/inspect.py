"""``info``, ``sample`` and ``reconstruct``: a checkpoint described, its prior decoded, its test images
reconstructed.
"""

from __future__ import annotations

import argparse
import json

from .args import DATA_DIR_HELP, Command, number, positive_int


def add_info(sub) -> argparse.ArgumentParser:
    """info: a checkpoint's config, data and metrics."""
    i = sub.add_parser("info", help="print a checkpoint's config, data and metrics")
    i.add_argument("checkpoint")
    i.add_argument("--json", action="store_true")
    return i


def add_sample(sub) -> argparse.ArgumentParser:
    """sample: decoded prior samples as a PNG grid."""
    s = sub.add_parser("sample", help="decode samples from the prior into a PNG grid")
    s.add_argument("checkpoint")
    s.add_argument("--n", type=positive_int("--n"), default=64)
    s.add_argument("--temperature", type=number("--temperature", 0.0), default=1.0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--scale", type=positive_int("--scale"), default=3, help="pixel upscaling")
    s.add_argument("--out", required=True)
    return s


def add_reconstruct(sub) -> argparse.ArgumentParser:
    """reconstruct: test images over their reconstructions."""
    r = sub.add_parser("reconstruct", help="test images over their reconstructions, as a PNG")
    r.add_argument("checkpoint")
    r.add_argument("--n", type=positive_int("--n"), default=16)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--scale", type=positive_int("--scale"), default=3)
    r.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    r.add_argument("--out", required=True)
    return r


def cmd_info(args: argparse.Namespace) -> int:
    from ..checkpoint import load_checkpoint

    ck = load_checkpoint(args.checkpoint)
    if args.json:
        print(json.dumps({"path": str(ck.path), "hash": ck.content_hash, "config": ck.config.to_dict(),
                          "meta": ck.meta}, indent=2))
        return 0
    c, m = ck.config, ck.meta
    print(f"{ck.path}  ({ck.content_hash})")
    print(f"  {ck.summary()}")
    if ck.imported:
        _print_imported(ck)
    else:
        print(f"  model     {c.arch}, hidden {list(c.hidden_dims)}, image {list(c.image_shape)}, "
              f"{ck.model.num_parameters():,} parameters, {c.likelihood} likelihood")
    test = m.get("test_size", "?")
    sizes = f"{m['train_size']} train / {test} test" if "train_size" in m else f"test only, {test} images"
    print(f"  data      {m.get('dataset')} ({sizes}), classes: {', '.join(ck.class_names)}")
    derived = m.get("derived") or {}
    if derived:
        parent = derived.get("from") or {}
        note = f": {derived['note']}" if derived.get("note") else ""
        print(f"  derived   from {parent.get('name')} ({parent.get('content_hash')}), saved {derived.get('at')}{note}")
    tr = m.get("training") or {}
    if tr:
        print(f"  trained   {m.get('epochs_done', '?')} epochs on {tr.get('device')} in "
              f"{float(tr.get('seconds', 0)) / 60:.1f} min, status {m.get('status')}")
        if tr.get("command"):
            print(f"  command   {tr['command']}")
    metrics = ck.metrics
    if metrics:
        from ..evaluate import dims_in_use

        shown = {**metrics, "dims_in_use": dims_in_use(metrics)}  # the rule every page counts with
        keys = ["neg_elbo", "recon", "kl", "iwae_nll", "recon_mse", "knn_acc", "dims_in_use", "active_units"]
        print("  metrics   " + ", ".join(f"{k} {shown[k]:.4g}" for k in keys if shown.get(k) is not None))
        b = metrics.get("baselines") or {}
        if b:
            print("  baselines " + ", ".join(f"{k} {v:.4g}" for k, v in b.items()))
    elif ck.history:
        h = ck.history[-1]
        print(f"  last epoch test -ELBO {h['test_neg_elbo']:.2f} (run `python -m vae evaluate` for more)")
    return 0


def _print_imported(ck) -> None:
    """`info`'s lines on an imported model: its graphs and weights, where it came from, its round trip."""
    imp = ck.meta.get("imported") or {}
    w = imp.get("weights")
    enc_w, dec_w = (w.get("encoder"), w.get("decoder")) if isinstance(w, dict) else (None, None)
    print(f"  model     imported ONNX: {ck.config.describe()}")
    if enc_w is not None and dec_w is not None:
        print(f"  graphs    encoder.onnx {enc_w:,} weights, decoder.onnx {dec_w:,} weights "
              f"({ck.model.num_parameters():,} in all)")
    else:
        print(f"  graphs    encoder.onnx and decoder.onnx, {ck.model.num_parameters():,} weights")
    if imp.get("source"):
        print(f"  source    {imp['source']}")
    exported = imp.get("exported") or {}
    if exported:
        print(f"  exported  {exported.get('class')} by {exported.get('by')} (torch {exported.get('torch')})")
        print(f"            {exported.get('encoder')}; {exported.get('decoder')}")
    elif imp.get("encoder"):
        print(f"  files     {imp['encoder']}, {imp.get('decoder')}")
    trip = imp.get("round_trip") or {}
    if trip:
        print(f"  imported  {imp.get('at')}; round trip on {trip.get('images')} test images: MSE "
              f"{trip.get('recon_mse', float('nan')):.4g} (the mean image's: {trip.get('mean_image_mse', float('nan')):.4g})")


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from ..checkpoint import load_checkpoint
    from ..data.images import image_grid, save_png

    ck = load_checkpoint(args.checkpoint)
    gen = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, ck.config.latent_dim, generator=gen) * args.temperature
    imgs = ck.model.generate(z)
    save_png(image_grid(imgs, scale=args.scale), args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    import torch

    from ..checkpoint import load_checkpoint
    from ..data.images import image_grid, save_png

    ck = load_checkpoint(args.checkpoint)
    test = ck.load_data("test", data_dir=args.data_dir)
    n = min(args.n, len(test))
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(args.seed))[:n]
    x = test.images[idx]
    recon = ck.model.reconstruct(x)
    save_png(image_grid(torch.cat([x, recon]), ncol=n, scale=args.scale), args.out)
    print(f"wrote {n} originals (top row) over their reconstructions to {args.out}")
    return 0


COMMANDS = {
    "info": Command(add_info, cmd_info),
    "sample": Command(add_sample, cmd_sample),
    "reconstruct": Command(add_reconstruct, cmd_reconstruct),
}
