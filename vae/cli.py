"""Command-line interface: ``vae {train,evaluate,info,sample,reconstruct,export,project,map,data,
train-gan,train-classifier,compare,import}`` (``python -m vae ...`` in a checkout; ``vae ...`` where the
package is installed).

Bad arguments or inputs print one line on stderr and exit with code 2 (no traceback).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
DATA_DIR_HELP = ("where the dataset's files are searched first; for a folder: checkpoint, the image folder "
                 "itself when it has moved")


class CliError(Exception):
    """An error to report in one line on stderr, exiting with code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(name: str):
    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {s!r}") from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{name} must be >= 1, got {v}")
        return v

    return parse


def _float(name: str, minimum: float | None = None, strict: bool = False):
    def parse(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {s!r}") from None
        if v != v or v in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number, got {s!r}")
        if minimum is not None and (v < minimum or (strict and v == minimum)):
            op = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"{name} must be {op} {minimum:g}, got {v:g}")
        return v

    return parse


def _int_list(s: str) -> tuple[int, ...]:
    try:
        vals = tuple(int(v) for v in s.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes like 32,64, got {s!r}") from None
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError(f"sizes must be positive whole numbers, got {s!r}")
    return vals


def _pixel_range(s: str) -> tuple[int, int]:
    key = s.replace(" ", "").strip("[]()")
    ranges = {"0,1": (0, 1), "-1,1": (-1, 1)}
    if key not in ranges:
        raise argparse.ArgumentTypeError(f"a pixel range is 0,1 or -1,1, got {s!r}")
    return ranges[key]


def prog_name() -> str:
    """How the user called us: ``vae`` (the installed command) or ``python -m vae``."""
    return "vae" if Path(sys.argv[0]).name == "vae" else "python -m vae"


def build_parser() -> argparse.ArgumentParser:
    from .archs import ARCHITECTURES
    from .config import DEVICES, VARIANCES
    from .likelihoods import LIKELIHOODS

    p = _Parser(prog=prog_name(), description="Train, evaluate and inspect VAEs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a VAE and save a checkpoint folder")
    # Options whose default is None here take TRAIN_DEFAULTS, or with --resume the run's own values.
    t.add_argument("--dataset", default=None,
                   help="fashion-mnist (default), mnist, kmnist, digits, or folder:PATH")
    t.add_argument("--arch", choices=list(ARCHITECTURES), default=None, help="conv (default) or mlp")
    t.add_argument("--latent-dim", type=_positive_int("--latent-dim"), default=None, help="default 16")
    t.add_argument("--hidden", type=_int_list, default=None,
                   help="mlp: hidden widths (default 512,256); conv: channels per stage (default 32,64); "
                        "other architectures: their default_hidden")
    t.add_argument("--fc-dim", type=_positive_int("--fc-dim"), default=None,
                   help="conv: width of the dense layer (default 256)")
    t.add_argument("--beta", type=_float("--beta", 0.0), default=None, help="KL weight (default 1)")
    t.add_argument("--likelihood", choices=list(LIKELIHOODS), default=None,
                   help="p(x|z): bernoulli (default), gaussian (one sigma), or logistic (discretised, "
                        "per pixel: suits colour and natural images)")
    t.add_argument("--variance", choices=VARIANCES, default=None,
                   help="gaussian likelihood: learned (default) or fixed sigma")
    t.add_argument("--sigma", type=_float("--sigma", 0.0, strict=True), default=None,
                   help="gaussian likelihood: the (initial) sigma, default 0.1")
    t.add_argument("--epochs", type=_positive_int("--epochs"), default=None,
                   help="default 20; with --resume, the number the run was started with")
    t.add_argument("--batch-size", type=_positive_int("--batch-size"), default=None, help="default 128")
    t.add_argument("--lr", type=_float("--lr", 0.0, strict=True), default=None, help="default 1e-3")
    t.add_argument("--lr-schedule", choices=("constant", "cosine"), default=None, help="default cosine")
    t.add_argument("--kl-warmup", type=_float("--kl-warmup", 0.0), default=None, metavar="EPOCHS",
                   help="ramp the KL weight from 0 to beta over this many epochs (default 0)")
    t.add_argument("--seed", type=int, default=None, help="default 0")
    t.add_argument("--device", choices=DEVICES, default="auto")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--image-size", type=_positive_int("--image-size"), default=None,
                   help="folder datasets: square size to resize to (default: the images' own size "
                        "when they share one, else 28)")
    t.add_argument("--channels", type=int, choices=(1, 3), default=None,
                   help="folder datasets: 1 = grayscale, 3 = RGB (default: RGB when any image is in colour)")
    t.add_argument("--limit", type=_positive_int("--limit"), default=None,
                   help="train on the first N images only")
    t.add_argument("--threads", type=_positive_int("--threads"), default=None)
    t.add_argument("--half", action="store_true", help="store the final weights as float16")
    t.add_argument("--no-optimizer-state", action="store_true",
                   help="drop Adam's state from the final checkpoint (smaller; --resume restarts Adam)")
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out; options left out take the run's values")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--nproc-per-node", type=_positive_int("--nproc-per-node"), default=1, metavar="N",
                   help="train on N processes of this machine (one per GPU, or CPU processes), as torchrun "
                        "--standalone --nproc-per-node N would; several machines: torchrun")

    e = sub.add_parser("evaluate", help="test-set metrics of a checkpoint, with PCA and pixel baselines")
    e.add_argument("checkpoint")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--limit", type=_positive_int("--limit"), default=None,
                   help="evaluate on the first N test images")
    e.add_argument("--iwae-k", type=_positive_int("--iwae-k"), default=1000)
    e.add_argument("--iwae-images", type=_positive_int("--iwae-images"), default=1000,
                   help="images used for the (costly) IWAE bound (default 1000)")
    e.add_argument("--knn-train", type=_positive_int("--knn-train"), default=None,
                   help="fit k-NN on the first N training images (default all)")
    e.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    e.add_argument("--device", choices=DEVICES, default="auto")
    e.add_argument("--no-save", action="store_true", help="do not store the results in meta.json")
    e.add_argument("--replace", action="store_true",
                   help="store partial results (--limit, other settings, no train split) as the "
                        "checkpoint's metrics, replacing a complete evaluation")

    i = sub.add_parser("info", help="print a checkpoint's config, data and metrics")
    i.add_argument("checkpoint")
    i.add_argument("--json", action="store_true")

    s = sub.add_parser("sample", help="decode samples from the prior into a PNG grid")
    s.add_argument("checkpoint")
    s.add_argument("--n", type=_positive_int("--n"), default=64)
    s.add_argument("--temperature", type=_float("--temperature", 0.0), default=1.0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--scale", type=_positive_int("--scale"), default=3, help="pixel upscaling")
    s.add_argument("--out", required=True)

    r = sub.add_parser("reconstruct", help="test images over their reconstructions, as a PNG")
    r.add_argument("checkpoint")
    r.add_argument("--n", type=_positive_int("--n"), default=16)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--scale", type=_positive_int("--scale"), default=3)
    r.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    r.add_argument("--out", required=True)

    x = sub.add_parser("export", help="latent means + labels as CSV or for TensorBoard's projector, "
                                      "or the decoder and encoder as ONNX")
    x.add_argument("checkpoint")
    x.add_argument("--format", choices=("csv", "projector", "onnx"), default="csv",
                   help="onnx: decoder.onnx and encoder.onnx (dynamic batch), e.g. for onnxruntime-web")
    x.add_argument("--split", choices=("train", "test"), default="test")
    x.add_argument("--limit", type=_positive_int("--limit"), default=None)
    x.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    x.add_argument("--out", required=True, help="output folder")
    pr = sub.add_parser("project", help="compute a 2-D map and ship it inside the checkpoint folder")
    pr.add_argument("checkpoint")
    pr.add_argument("--method", choices=("umap", "pca", "tsne", "latent"), default=None,
                    help="default: latent for a 2-D model, else umap")
    pr.add_argument("--split", choices=("train", "test"), default="test")
    pr.add_argument("--limit", type=_positive_int("--limit"), default=None)
    pr.add_argument("--n-neighbors", type=_positive_int("--n-neighbors"), default=15)
    pr.add_argument("--min-dist", type=_float("--min-dist", 0.0), default=0.1)
    pr.add_argument("--perplexity", type=_float("--perplexity", 2.0), default=30.0)
    pr.add_argument("--seed", type=int, default=42)
    pr.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)

    mp = sub.add_parser("map", help="build the app's map of a large explore set (all images, posterior samples) "
                                    "into the cache, and say how long it took")
    mp.add_argument("checkpoint")
    mp.add_argument("--split", choices=("test", "train", "all"), default="test",
                    help="all: the test split then the train split (the test map, every training image placed on it)")
    mp.add_argument("--samples", type=_positive_int("--samples"), default=1,
                    help="codes per image: 1 = the posterior means; K > 1 adds K samples z ~ q(z|x) of every image "
                         "(70,000 images x 15 = 1,050,000 codes)")
    mp.add_argument("--method", choices=("umap", "pca", "tsne", "latent"), default=None,
                    help="default: latent for a 2-D model, else umap")
    mp.add_argument("--seed", type=int, default=0, help="seed of the posterior samples")
    mp.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    mp.add_argument("--cache-dir", default=None, help="default: the app's cache (cache/ or $VAE_EXPLORER_CACHE)")

    im = sub.add_parser("import", help="bring your own VAE: two ONNX graphs (encoder, decoder) as a checkpoint folder")
    im.add_argument("--encoder", required=True, help="encoder.onnx: images -> (mu, logvar), each (B, D)")
    im.add_argument("--decoder", required=True, help="decoder.onnx: z (B, D) -> images")
    im.add_argument("--dataset", required=True, help="the data it was trained on: fashion-mnist, mnist, kmnist, "
                                                     "digits or folder:PATH")
    im.add_argument("--out", required=True, help="checkpoint folder to write (e.g. checkpoints/my-vae)")
    im.add_argument("--input-range", type=_pixel_range, default=None,
                    help="pixel values the encoder expects: 0,1 or -1,1, typed --input-range=-1,1 (default: as --output-range)")
    im.add_argument("--output-range", type=_pixel_range, default=None,
                    help="pixel values the decoder returns: 0,1 or -1,1, typed --output-range=-1,1 (default: -1,1 when it ends in tanh)")
    im.add_argument("--logits", action="store_true", help="the decoder returns logits (a sigmoid maps them to [0, 1])")
    im.add_argument("--likelihood", choices=("bernoulli", "gaussian", "none"), default="bernoulli",
                    help="p(x|z) behind the ELBO figures (default bernoulli); none: no ELBO")
    im.add_argument("--sigma", type=_float("--sigma", 0.0, strict=True), default=None,
                    help="gaussian likelihood: its standard deviation on the decoder's pixel scale (default 0.1)")
    im.add_argument("--latent-dim", type=_positive_int("--latent-dim"), default=None,
                    help="only when the graphs do not declare it")
    im.add_argument("--class-names", default=None, help="comma-separated, one per class (default: the data set's)")
    im.add_argument("--source", default=None, help="where the model came from (stored in meta.json)")
    im.add_argument("--beta", type=_float("--beta", 0.0), default=None, help="the KL weight it was trained with "
                                                                             "(shown only)")
    im.add_argument("--iwae-k", type=_positive_int("--iwae-k"), default=1000)
    im.add_argument("--iwae-images", type=_positive_int("--iwae-images"), default=1000)
    im.add_argument("--no-evaluate", action="store_true", help="skip the evaluation (python -m vae evaluate later)")
    im.add_argument("--map", choices=("umap", "pca", "tsne", "latent", "none"), default=None,
                    help="the 2-D map to ship (default: latent for a 2-D model, else umap)")
    im.add_argument("--data-dir", default=None, help="where the data set's files are searched first")

    d = sub.add_parser("data", help="which datasets are on this machine; fetch one")
    d.add_argument("--check", metavar="NAME", default=None,
                   help="exit 0 if the dataset's split is available without a download, else 1")
    d.add_argument("--fetch", metavar="NAME", default=None,
                   help="make both splits available (downloads with torchvision when needed)")
    d.add_argument("--split", choices=("train", "test", "both"), default="both")
    d.add_argument("--data-dir", default=None)

    cp = sub.add_parser("compare", help="a VAE against a GAN on the same data, judged by a classifier")
    cp.add_argument("checkpoint", help="the VAE checkpoint folder")
    cp.add_argument("--gan", default=None, help="GAN generator folder (default: the one of the VAE's data set in models/)")
    cp.add_argument("--classifier", default=None, help="classifier folder (default: as --gan)")
    cp.add_argument("--n", type=_positive_int("--n"), default=10_000, help="samples of each model (default 10000)")
    cp.add_argument("--seed", type=int, default=0)
    cp.add_argument("--data-dir", default=None)
    cp.add_argument("--json", action="store_true", help="print one JSON object")
    cp.add_argument("--save", action="store_true",
                    help="store the report in the GAN's folder (comparisons/), where the app finds it")

    g = _model_train_parser(sub, "train-gan", "train a small DCGAN on the same data (for the VAE-vs-GAN page)",
                            epochs=15, lr=2e-4)
    g.add_argument("--noise-dim", type=_positive_int("--noise-dim"), default=64)
    g.add_argument("--channels", type=_int_list, default=(32, 64), help="per stride-2 stage (default 32,64)")
    c = _model_train_parser(sub, "train-classifier", "train the small classifier that judges generated images",
                            epochs=6, lr=1e-3)
    c.add_argument("--channels", type=_int_list, default=(32, 64), help="per conv + pool stage (default 32,64)")
    c.add_argument("--feature-dim", type=_positive_int("--feature-dim"), default=128)
    return p


def _model_train_parser(sub, name: str, help: str, epochs: int, lr: float) -> argparse.ArgumentParser:
    """The options the comparison models' training commands share."""
    from .config import DEVICES

    t = sub.add_parser(name, help=help)
    t.add_argument("--dataset", default="fashion-mnist", help="fashion-mnist (default), mnist, kmnist, digits")
    t.add_argument("--epochs", type=_positive_int("--epochs"), default=epochs)
    t.add_argument("--batch-size", type=_positive_int("--batch-size"), default=128)
    t.add_argument("--lr", type=_float("--lr", 0.0, strict=True), default=lr)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", choices=DEVICES, default="auto")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--limit", type=_positive_int("--limit"), default=None, help="train on the first N images only")
    t.add_argument("--threads", type=_positive_int("--threads"), default=None)
    t.add_argument("--half", action="store_true", help="store the final weights as float16")
    t.add_argument("--out", required=True, help="folder to write (models/NAME)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    return t


# -- commands ---------------------------------------------------------------------------------
#: `train` options and their defaults, for those left out (with --resume: left out and not saved).
TRAIN_DEFAULTS: dict[str, Any] = {
    "dataset": "fashion-mnist", "arch": "conv", "latent_dim": 16, "hidden": None, "fc_dim": 256, "beta": 1.0,
    "likelihood": "bernoulli", "variance": "learned", "sigma": 0.1, "epochs": 20, "batch_size": 128,
    "lr": 1e-3, "lr_schedule": "cosine", "kl_warmup": 0.0, "seed": 0,
}


def _saved_settings(out: Path) -> dict[str, Any]:
    """The `train` options a saved run used, read from its config.json and meta.json."""
    from .errors import CheckpointError
    from .folders import CONFIG, META, read_json

    try:
        cfg, meta = read_json(out / CONFIG), read_json(out / META)
    except CheckpointError:
        return {}  # the run's own loading says what is wrong with it
    tc = meta.get("train_config") or {}
    saved = {k: cfg.get(k) for k in ("arch", "latent_dim", "fc_dim", "beta", "likelihood", "variance", "sigma")}
    saved.update({k: tc.get(k) for k in ("epochs", "batch_size", "lr", "lr_schedule", "seed", "limit")})
    saved.update(dataset=meta.get("dataset"), kl_warmup=tc.get("kl_warmup_epochs"),
                 hidden=tuple(cfg["hidden_dims"]) if isinstance(cfg.get("hidden_dims"), list) else None)
    shape = cfg.get("image_shape")
    if str(saved["dataset"]).startswith("folder:") and isinstance(shape, list) and len(shape) == 3:
        saved.update(channels=shape[0], image_size=shape[1])
    return {k: v for k, v in saved.items() if v is not None}


def resolve_train_args(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the `train` options left out: with --resume from the saved run, else TRAIN_DEFAULTS."""
    saved = _saved_settings(Path(args.out)) if args.resume else {}
    for key in (*TRAIN_DEFAULTS, "limit", "image_size", "channels"):
        if getattr(args, key) is None:
            setattr(args, key, saved.get(key, TRAIN_DEFAULTS.get(key)))
    return args


def cmd_train(args: argparse.Namespace) -> int:
    from .training import distributed

    if args.nproc_per_node > 1 and not distributed.launched():
        argv = _without_option(sys.argv[1:], "--nproc-per-node")
        return distributed.launch(args.nproc_per_node, argv, " ".join([prog_name(), *map(shlex.quote, sys.argv[1:])]))
    d = distributed.init(args.device)  # under torchrun: join the other processes (None otherwise)
    finished = False
    try:
        code = _train(args, d)
        finished = True
        return code
    finally:
        distributed.shutdown(finished)


def _without_option(argv: list[str], option: str) -> list[str]:
    """``argv`` without ``option`` and its value (``--opt N`` or ``--opt=N``)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == option:
            skip = True
        elif not a.startswith(option + "="):
            out.append(a)
    return out


def _train(args: argparse.Namespace, d) -> int:
    from .archs import get_architecture
    from .checkpoint import check_trainable
    from .config import ModelConfig, TrainConfig
    from .data.datasets import check_dataset_name, load_training_data
    from .training import distributed
    from .training.trainer import Trainer

    def settle() -> argparse.Namespace:  # rank 0 reads --out; every process gets the same options
        resolved = resolve_train_args(args)
        check_dataset_name(resolved.dataset)
        if resolved.resume and not Path(resolved.out).exists():
            raise CliError(f"--resume: {resolved.out} does not exist yet; start without --resume")
        if resolved.resume:
            check_trainable(resolved.out)  # an imported model: said before the data is looked for
        if not resolved.resume and Path(resolved.out).exists() and any(Path(resolved.out).iterdir()):
            raise CliError(
                f"{resolved.out} already exists; pass --resume to continue it or choose another --out"
            )
        return resolved

    args = distributed.on_main(d, settle)
    tc = TrainConfig(
        dataset=args.dataset, out=args.out, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, lr_schedule=args.lr_schedule, kl_warmup_epochs=args.kl_warmup,
        seed=args.seed, device=args.device, data_dir=args.data_dir, image_size=args.image_size,
        channels=args.channels, limit=args.limit, resume=args.resume, threads=args.threads,
        half_weights=args.half, keep_optimizer=not args.no_optimizer_state,
    ).validate()
    train_data, test_data = load_training_data(tc.dataset, tc.data_dir, tc.image_size, tc.channels)
    hidden = args.hidden or get_architecture(args.arch).default_hidden
    mc = ModelConfig(
        arch=args.arch, image_shape=tuple(train_data.image_shape), latent_dim=args.latent_dim,
        hidden_dims=hidden, fc_dim=args.fc_dim, beta=args.beta, likelihood=args.likelihood,
        variance=args.variance, sigma=args.sigma,
    ).validate()
    command = f"{prog_name()} " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if d is not None:
        command = distributed.launch_command() or (
            f"{_torchrun_prefix()} -m vae " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    trainer = Trainer(mc, tc, train_data, test_data, command=command)
    if d is not None:  # torchrun stops the other processes with SIGTERM when one fails: say so in one line
        from .training.distributed import Termination

        trainer.add_callback("on_batch_end", Termination(d, tc.out).install().check)
    if d is None or d.is_main:  # one progress bar and one summary per run
        _attach_progress(trainer, bar=not args.no_progress)
    result = trainer.run()
    if d is not None and not d.is_main:
        return 0
    if result.status == "finished-before":
        done = len(result.history)
        print(f"{result.path} has already finished {done}/{done} epochs; pass --epochs M (more than {done}) "
              "to train further")
        return 0
    last = result.history[-1] if result.history else {}
    msg = f"{result.status}: {result.path}"
    if last:
        msg += (f"  (epoch {last['epoch']}, test -ELBO {last['test_neg_elbo']:.2f} nats, "
                f"{result.seconds / 60:.1f} min)")
    print(msg)
    return 0


def _torchrun_prefix() -> str:
    """How torchrun was called, as far as its environment tells (for meta.json's command)."""
    import os

    nodes = int(os.environ.get("GROUP_WORLD_SIZE", "1"))
    local = os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1"))
    return "torchrun" + (f" --nnodes {nodes}" if nodes > 1 else "") + f" --nproc-per-node {local}"


def cmd_train_model(args: argparse.Namespace) -> int:
    """train-gan and train-classifier: a comparison model, trained on the same data as the VAEs."""
    from .data.datasets import check_dataset_name, load_dataset

    check_dataset_name(args.dataset)
    if Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise CliError(f"{args.out} already exists; choose another --out or remove it")
    train_data = load_dataset(args.dataset, "train", data_dir=args.data_dir)
    common = dict(dataset=args.dataset, out=args.out, epochs=args.epochs, batch_size=args.batch_size,
                  lr=args.lr, seed=args.seed, device=args.device, data_dir=args.data_dir, limit=args.limit,
                  threads=args.threads, half_weights=args.half)
    command = "python -m vae " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    shape = tuple(train_data.image_shape)
    if args.command == "train-gan":
        from .baselines.gan import GanConfig, GanTrainConfig, GanTrainer

        trainer = GanTrainer(GanConfig(image_shape=shape, noise_dim=args.noise_dim, channels=args.channels),
                             GanTrainConfig(**common), train_data, command=command)
        line = ("epoch {epoch:>3}/{epochs}  D loss {d_loss:.3f}  G loss {g_loss:.3f}  D(real) {d_real:.2f}  "
                "D(fake) {d_fake:.2f}  {seconds:.0f}s")
    else:
        from .baselines.classifier import ClassifierConfig, ClassifierTrainConfig, ClassifierTrainer

        test_data = load_dataset(args.dataset, "test", data_dir=args.data_dir)
        cfg = ClassifierConfig(image_shape=shape, n_classes=len(train_data.class_names), channels=args.channels,
                               feature_dim=args.feature_dim)
        trainer = ClassifierTrainer(cfg, ClassifierTrainConfig(**common), train_data, test_data, command=command)
        line = "epoch {epoch:>3}/{epochs}  train loss {train_loss:.4f}  test accuracy {test_acc:.4f}  {seconds:.0f}s"
    _attach_progress(trainer, bar=not args.no_progress, epoch_line=line)
    result = trainer.run()
    print(f"{result.status}: {result.path}  ({len(result.history)} epochs, {result.seconds / 60:.1f} min)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import time

    from .baselines.classifier import KIND as CLASSIFIER
    from .baselines.classifier import load_classifier
    from .baselines.compare import compare_generators
    from .baselines.gan import KIND as GAN
    from .baselines.gan import load_generator
    from .checkpoint import find_model, load_checkpoint

    ck = load_checkpoint(args.checkpoint)
    models = Path(__file__).resolve().parent.parent / "models"
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
        from .baselines.compare import SHIPPED_COMPARISONS, comparison_key, save_comparison

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


def _attach_progress(trainer, bar: bool = True, epoch_line: str | None = None) -> None:
    """A tqdm bar with live loss, and one line per epoch (only the lines when ``bar`` is off).

    ``epoch_line``: a format string over the epoch's info (default: the VAE's losses).
    """
    from tqdm.auto import tqdm

    state: dict[str, Any] = {}

    def on_start(t, info):
        for kind in ("notes", "warnings"):
            for line in info.get(kind, []):
                print(f"{prog_name()} train: {kind[:-1]}: {line}", file=sys.stderr, flush=True)
        if not bar:
            return
        total = info["epochs"] * info["steps_per_epoch"]
        done = info["start_epoch"] * info["steps_per_epoch"]
        state["bar"] = tqdm(total=total, initial=done, unit="batch", dynamic_ncols=True,
                            desc=f"train {info['device']}", file=sys.stderr)

    def on_batch(t, info):
        if "bar" not in state:
            return
        b = state["bar"]
        b.update(1)
        if info["step"] % 10 == 0:
            b.set_postfix(epoch=f"{info['epoch'] + 1}", loss=f"{info['loss']:.3g}",
                          img_s=f"{info['images_per_s']:.0f}", **({"kl": f"{info['kl']:.1f}"} if "kl" in info else {}))

    def on_epoch(t, info):
        write = state["bar"].write if "bar" in state else (lambda m: print(m, file=sys.stderr, flush=True))
        if epoch_line:
            write(epoch_line.format(**info))
            return
        write(
            f"epoch {info['epoch']:>3}/{info['epochs']}  train loss {info['train_loss']:.2f}  "
            f"test -ELBO {info['test_neg_elbo']:.2f} (recon {info['test_recon']:.2f} + "
            f"KL {info['test_kl']:.2f})  {info['seconds']:.0f}s"
        )

    def on_end(t, info):
        if "bar" in state:
            state["bar"].close()

    trainer.add_callback("on_start", on_start)
    trainer.add_callback("on_batch_end", on_batch)
    trainer.add_callback("on_epoch_end", on_epoch)
    trainer.add_callback("on_end", on_end)


def cmd_info(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint

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
        from .evaluate import dims_in_use

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


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint
    from .evaluate import EvalConfig, evaluate, format_report, store_report
    from .training.trainer import resolve_device

    ck = load_checkpoint(args.checkpoint, device=resolve_device(args.device))
    cfg = EvalConfig(limit=args.limit, iwae_k=args.iwae_k, iwae_images=args.iwae_images,
                     knn_train=args.knn_train, data_dir=args.data_dir)
    report = evaluate(ck, cfg)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    if not args.no_save:
        print(store_report(ck.path, report, replace=args.replace), file=sys.stderr)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from .checkpoint import load_checkpoint
    from .data.images import image_grid, save_png

    ck = load_checkpoint(args.checkpoint)
    gen = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, ck.config.latent_dim, generator=gen) * args.temperature
    imgs = ck.model.generate(z)
    save_png(image_grid(imgs, scale=args.scale), args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    import torch

    from .checkpoint import load_checkpoint
    from .data.images import image_grid, save_png

    ck = load_checkpoint(args.checkpoint)
    test = ck.load_data("test", data_dir=args.data_dir)
    n = min(args.n, len(test))
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(args.seed))[:n]
    x = test.images[idx]
    recon = ck.model.reconstruct(x)
    save_png(image_grid(torch.cat([x, recon]), ncol=n, scale=args.scale), args.out)
    print(f"wrote {n} originals (top row) over their reconstructions to {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint
    from .export.tables import export_csv, export_projector

    ck = load_checkpoint(args.checkpoint)
    if args.format == "onnx":  # the model only: no data set needed
        from .export.onnx_files import export_onnx

        files = export_onnx(ck.model, args.out).values()
        print(f"wrote {', '.join(str(f) for f in files)}")
        return 0
    data = ck.load_data(args.split, args.limit, args.data_dir)
    fn = export_csv if args.format == "csv" else export_projector
    files = fn(ck, data, args.out)
    print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint
    from .explore.projection import ProjectionConfig
    from .explore.sets import default_projection, ship_projection

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

    from .checkpoint import load_checkpoint
    from .data.cache import DEFAULT_CACHE_DIR
    from .explore.projection import LatentMap, ProjectionConfig
    from .explore.sets import (
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
        base, enc = explore_set(ck, parts[0], cache), explore_parts(ck, parts, cache)
    else:
        data = ck.load_data(args.split, 10_000 if args.split == "train" else None, args.data_dir)
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
            from .explore.projection import build_latent_map, fit_pca_map

            base_map = build_latent_map(enc.mu, coords, cfg.method,
                                        fit_pca_map(enc.mu, coords) if cfg.method == "pca" else None)
        try:
            sm = sample_map(ck, args.split, enc, base_map, args.samples, cfg, args.seed, cache)
        except ValueError as e:
            raise CliError(str(e)) from None
        print(f"{len(sm):,} codes ({args.samples} posterior samples of each image) placed in "
              f"{time.perf_counter() - t2:.1f} s")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .byo.importer import import_onnx

    names = [n.strip() for n in args.class_names.split(",")] if args.class_names else None
    declared = dict(input_range=args.input_range, output_range=args.output_range, likelihood=args.likelihood,
                    sigma=args.sigma, latent_dim=args.latent_dim, beta=args.beta,
                    decoder_outputs="logits" if args.logits else None)
    ck = import_onnx(args.encoder, args.decoder, args.dataset, args.out, class_names=names, source=args.source,
                     data_dir=args.data_dir, evaluate=not args.no_evaluate, iwae_k=args.iwae_k,
                     iwae_images=args.iwae_images, map_method=args.map, progress=True, **declared)
    print(f"imported {ck.path}: {ck.config.describe()}")
    if ck.metrics:
        from .evaluate import format_report

        print(format_report(ck.metrics))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from .data.datasets import IDX_DATASETS, check_dataset_name, dataset_available, find_idx, load_dataset

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
            ds = load_dataset(args.fetch, split, data_dir=args.data_dir, download=True)
            print(f"{args.fetch} {split}: {len(ds)} images in {ds.source}")
        return 0
    for name in [*IDX_DATASETS, "digits"]:
        where = []
        for split in ("train", "test"):
            if name == "digits":
                where.append(f"{split}: scikit-learn")
                continue
            found = find_idx(IDX_DATASETS[name], split, args.data_dir)
            where.append(f"{split}: {found[0].parent if found else 'not here (downloads on first use)'}")
        print(f"{name:<14} " + "; ".join(where))
    return 0


COMMANDS = {
    "train": cmd_train, "evaluate": cmd_evaluate, "info": cmd_info, "sample": cmd_sample,
    "reconstruct": cmd_reconstruct, "export": cmd_export, "data": cmd_data,
    "project": cmd_project, "map": cmd_map, "train-gan": cmd_train_model, "train-classifier": cmd_train_model,
    "compare": cmd_compare, "import": cmd_import,
}


def main(argv: list[str] | None = None) -> int:
    from .errors import CheckpointError, ConfigError, DataError
    from .training.distributed import PeerLostError
    from .training.trainer import NonFiniteLossError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CliError, ConfigError, DataError, CheckpointError, NonFiniteLossError) as e:
        one_line = " ".join(str(e).split())  # a message quoting another tool's may span lines
        print(f"{prog_name()} {args.command}: error: {one_line}", file=sys.stderr)
        return EXIT_USAGE
    except PeerLostError as e:  # a distributed run lost a process: this one stops, saying why
        print(f"{prog_name()} {args.command}: error: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(f"{prog_name()} {args.command}: interrupted; the last finished epoch's checkpoint is kept",
              file=sys.stderr)
        return 130
    except OSError as e:
        print(f"{prog_name()} {args.command}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_USAGE
