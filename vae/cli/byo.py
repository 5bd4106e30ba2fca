"""``import``: bring your own VAE, two ONNX graphs (encoder, decoder) made into a checkpoint folder.
"""

from __future__ import annotations

import argparse

from .args import Command, number, pixel_range, positive_int


def add_import(sub) -> argparse.ArgumentParser:
    """import: two ONNX graphs as a checkpoint folder."""
    im = sub.add_parser("import", help="bring your own VAE: two ONNX graphs (encoder, decoder) as a checkpoint folder")
    im.add_argument("--encoder", required=True, help="encoder.onnx: images -> (mu, logvar), each (B, D)")
    im.add_argument("--decoder", required=True, help="decoder.onnx: z (B, D) -> images")
    im.add_argument("--dataset", required=True, help="the data it was trained on: fashion-mnist, mnist, kmnist, "
                                                     "digits or folder:PATH")
    im.add_argument("--out", required=True, help="checkpoint folder to write (e.g. checkpoints/my-vae)")
    im.add_argument("--input-range", type=pixel_range, default=None,
                    help="pixel values the encoder expects: 0,1 or -1,1, typed --input-range=-1,1 (default: as --output-range)")
    im.add_argument("--output-range", type=pixel_range, default=None,
                    help="pixel values the decoder returns: 0,1 or -1,1, typed --output-range=-1,1 (default: -1,1 when it ends in tanh)")
    im.add_argument("--logits", action="store_true", help="the decoder returns logits (a sigmoid maps them to [0, 1])")
    im.add_argument("--likelihood", choices=("bernoulli", "gaussian", "none"), default="bernoulli",
                    help="p(x|z) behind the ELBO figures (default bernoulli); none: no ELBO")
    im.add_argument("--sigma", type=number("--sigma", 0.0, strict=True), default=None,
                    help="gaussian likelihood: its standard deviation on the decoder's pixel scale (default 0.1)")
    im.add_argument("--latent-dim", type=positive_int("--latent-dim"), default=None,
                    help="only when the graphs do not declare it")
    im.add_argument("--class-names", default=None, help="comma-separated, one per class (default: the data set's)")
    im.add_argument("--source", default=None, help="where the model came from (stored in meta.json)")
    im.add_argument("--beta", type=number("--beta", 0.0), default=None, help="the KL weight it was trained with "
                                                                             "(shown only)")
    im.add_argument("--iwae-k", type=positive_int("--iwae-k"), default=1000)
    im.add_argument("--iwae-images", type=positive_int("--iwae-images"), default=1000)
    im.add_argument("--no-evaluate", action="store_true", help="skip the evaluation (python -m vae evaluate later)")
    im.add_argument("--map", choices=("umap", "pca", "tsne", "latent", "none"), default=None,
                    help="the 2-D map to ship (default: latent for a 2-D model, else umap)")
    im.add_argument("--data-dir", default=None, help="where the data set's files are searched first")
    return im


def cmd_import(args: argparse.Namespace) -> int:
    from ..byo.importer import import_onnx

    names = [n.strip() for n in args.class_names.split(",")] if args.class_names else None
    declared = dict(input_range=args.input_range, output_range=args.output_range, likelihood=args.likelihood,
                    sigma=args.sigma, latent_dim=args.latent_dim, beta=args.beta,
                    decoder_outputs="logits" if args.logits else None)
    ck = import_onnx(args.encoder, args.decoder, args.dataset, args.out, class_names=names, source=args.source,
                     data_dir=args.data_dir, evaluate=not args.no_evaluate, iwae_k=args.iwae_k,
                     iwae_images=args.iwae_images, map_method=args.map, progress=True, **declared)
    print(f"imported {ck.path}: {ck.config.describe()}")
    if ck.metrics:
        from ..evaluate import format_report

        print(format_report(ck.metrics))
    return 0


COMMANDS = {"import": Command(add_import, cmd_import)}
