"""``train``, ``train-gan`` and ``train-classifier``: a VAE (on one process, on several with
``--nproc-per-node N``, or under torchrun), and the comparison models.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from .args import CliError, Command, number, positive_int, prog_name, sizes


def add_train(sub) -> argparse.ArgumentParser:
    """train: a VAE, saved as a checkpoint folder after every epoch."""
    from ..archs import ARCHITECTURES
    from ..config import DEVICES, VARIANCES
    from ..likelihoods import LIKELIHOODS

    t = sub.add_parser("train", help="train a VAE and save a checkpoint folder")
    # Options whose default is None here take TRAIN_DEFAULTS, or with --resume the run's own values.
    t.add_argument("--dataset", default=None,
                   help="fashion-mnist (default), mnist, kmnist, digits, or folder:PATH")
    t.add_argument("--arch", choices=list(ARCHITECTURES), default=None, help="conv (default) or mlp")
    t.add_argument("--latent-dim", type=positive_int("--latent-dim"), default=None, help="default 16")
    t.add_argument("--hidden", type=sizes, default=None,
                   help="mlp: hidden widths (default 512,256); conv: channels per stage (default 32,64); "
                        "other architectures: their default_hidden")
    t.add_argument("--fc-dim", type=positive_int("--fc-dim"), default=None,
                   help="conv: width of the dense layer (default 256)")
    t.add_argument("--beta", type=number("--beta", 0.0), default=None, help="KL weight (default 1)")
    t.add_argument("--likelihood", choices=list(LIKELIHOODS), default=None,
                   help="p(x|z): bernoulli (default), gaussian (one sigma), or logistic (discretised, "
                        "per pixel: suits colour and natural images)")
    t.add_argument("--variance", choices=VARIANCES, default=None,
                   help="gaussian likelihood: learned (default) or fixed sigma")
    t.add_argument("--sigma", type=number("--sigma", 0.0, strict=True), default=None,
                   help="gaussian likelihood: the (initial) sigma, default 0.1")
    t.add_argument("--epochs", type=positive_int("--epochs"), default=None,
                   help="default 20; with --resume, the number the run was started with")
    t.add_argument("--batch-size", type=positive_int("--batch-size"), default=None, help="default 128")
    t.add_argument("--lr", type=number("--lr", 0.0, strict=True), default=None, help="default 1e-3")
    t.add_argument("--lr-schedule", choices=("constant", "cosine"), default=None, help="default cosine")
    t.add_argument("--kl-warmup", type=number("--kl-warmup", 0.0), default=None, metavar="EPOCHS",
                   help="ramp the KL weight from 0 to beta over this many epochs (default 0)")
    t.add_argument("--seed", type=int, default=None, help="default 0")
    t.add_argument("--device", choices=DEVICES, default="auto")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--image-size", type=positive_int("--image-size"), default=None,
                   help="folder datasets: square size to resize to (default: the images' own size "
                        "when they share one, else 28)")
    t.add_argument("--channels", type=int, choices=(1, 3), default=None,
                   help="folder datasets: 1 = grayscale, 3 = RGB (default: RGB when any image is in colour)")
    t.add_argument("--limit", type=positive_int("--limit"), default=None,
                   help="train on the first N images only")
    t.add_argument("--threads", type=positive_int("--threads"), default=None)
    t.add_argument("--half", action="store_true", help="store the final weights as float16")
    t.add_argument("--no-optimizer-state", action="store_true",
                   help="drop Adam's state from the final checkpoint (smaller; --resume restarts Adam)")
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out; options left out take the run's values")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--nproc-per-node", type=positive_int("--nproc-per-node"), default=1, metavar="N",
                   help="train on N processes of this machine (one per GPU, or CPU processes), as torchrun "
                        "--standalone --nproc-per-node N would; several machines: torchrun")
    return t


def add_train_gan(sub) -> argparse.ArgumentParser:
    """train-gan: a small DCGAN on the same data (for the VAE-vs-GAN page)."""
    g = _model_train_parser(sub, "train-gan", "train a small DCGAN on the same data (for the VAE-vs-GAN page)",
                            epochs=15, lr=2e-4)
    g.add_argument("--noise-dim", type=positive_int("--noise-dim"), default=64)
    g.add_argument("--channels", type=sizes, default=(32, 64), help="per stride-2 stage (default 32,64)")
    return g


def add_train_classifier(sub) -> argparse.ArgumentParser:
    """train-classifier: the classifier that judges generated images."""
    c = _model_train_parser(sub, "train-classifier", "train the small classifier that judges generated images",
                            epochs=6, lr=1e-3)
    c.add_argument("--channels", type=sizes, default=(32, 64), help="per conv + pool stage (default 32,64)")
    c.add_argument("--feature-dim", type=positive_int("--feature-dim"), default=128)
    return c


def _model_train_parser(sub, name: str, help: str, epochs: int, lr: float) -> argparse.ArgumentParser:
    """The options the comparison models' training commands share."""
    from ..config import DEVICES

    t = sub.add_parser(name, help=help)
    t.add_argument("--dataset", default="fashion-mnist", help="fashion-mnist (default), mnist, kmnist, digits")
    t.add_argument("--epochs", type=positive_int("--epochs"), default=epochs)
    t.add_argument("--batch-size", type=positive_int("--batch-size"), default=128)
    t.add_argument("--lr", type=number("--lr", 0.0, strict=True), default=lr)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", choices=DEVICES, default="auto")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--limit", type=positive_int("--limit"), default=None, help="train on the first N images only")
    t.add_argument("--threads", type=positive_int("--threads"), default=None)
    t.add_argument("--half", action="store_true", help="store the final weights as float16")
    t.add_argument("--out", required=True, help="folder to write (models/NAME)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    return t


#: `train` options and their defaults, for those left out (with --resume: left out and not saved).
TRAIN_DEFAULTS: dict[str, Any] = {
    "dataset": "fashion-mnist", "arch": "conv", "latent_dim": 16, "hidden": None, "fc_dim": 256, "beta": 1.0,
    "likelihood": "bernoulli", "variance": "learned", "sigma": 0.1, "epochs": 20, "batch_size": 128,
    "lr": 1e-3, "lr_schedule": "cosine", "kl_warmup": 0.0, "seed": 0,
}


def _saved_settings(out: Path) -> dict[str, Any]:
    """The `train` options a saved run used, read from its config.json and meta.json."""
    from ..errors import CheckpointError
    from ..folders import CONFIG, META, read_json

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
    from ..training import distributed

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
    from ..archs import get_architecture
    from ..checkpoint import check_trainable
    from ..config import ModelConfig, TrainConfig
    from ..data.datasets import check_dataset_name, load_training_data
    from ..training import distributed
    from ..training.trainer import Trainer

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
        from ..training.distributed import Termination

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
    from ..data.datasets import check_dataset_name, load_dataset

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
        from ..baselines.gan import GanConfig, GanTrainConfig, GanTrainer

        trainer = GanTrainer(GanConfig(image_shape=shape, noise_dim=args.noise_dim, channels=args.channels),
                             GanTrainConfig(**common), train_data, command=command)
        line = ("epoch {epoch:>3}/{epochs}  D loss {d_loss:.3f}  G loss {g_loss:.3f}  D(real) {d_real:.2f}  "
                "D(fake) {d_fake:.2f}  {seconds:.0f}s")
    else:
        from ..baselines.classifier import ClassifierConfig, ClassifierTrainConfig, ClassifierTrainer

        test_data = load_dataset(args.dataset, "test", data_dir=args.data_dir)
        cfg = ClassifierConfig(image_shape=shape, n_classes=len(train_data.class_names), channels=args.channels,
                               feature_dim=args.feature_dim)
        trainer = ClassifierTrainer(cfg, ClassifierTrainConfig(**common), train_data, test_data, command=command)
        line = "epoch {epoch:>3}/{epochs}  train loss {train_loss:.4f}  test accuracy {test_acc:.4f}  {seconds:.0f}s"
    _attach_progress(trainer, bar=not args.no_progress, epoch_line=line)
    result = trainer.run()
    print(f"{result.status}: {result.path}  ({len(result.history)} epochs, {result.seconds / 60:.1f} min)")
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


COMMANDS = {
    "train": Command(add_train, cmd_train),
    "train-gan": Command(add_train_gan, cmd_train_model),
    "train-classifier": Command(add_train_classifier, cmd_train_model),
}
