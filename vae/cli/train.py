"""``train``, ``train-gan`` and ``train-classifier``: a VAE (on one process, on several with
``--nproc-per-node N``, or under torchrun), and the comparison models.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from .args import CliError, Command, add_option, positive_int, prog_name


def add_train(sub) -> argparse.ArgumentParser:
    """train: a VAE, saved as a checkpoint folder after every epoch. Its settings are the options
    declared on ModelConfig and TrainConfig (vae.config.train_options); those --resume reads from the
    run are left None here and filled by :func:`resolve_train_args`."""
    from ..config import train_options

    t = sub.add_parser("train", help="train a VAE and save a checkpoint folder")
    for o in train_options():
        add_option(t, o, left_out=o.default if o.resume == "may change" else None)
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
    from ..baselines.gan import GanConfig, GanTrainConfig

    return _model_train_parser(sub, "train-gan", "train a small DCGAN on the same data (for the VAE-vs-GAN page)",
                               GanTrainConfig, GanConfig)


def add_train_classifier(sub) -> argparse.ArgumentParser:
    """train-classifier: the classifier that judges generated images."""
    from ..baselines.classifier import ClassifierConfig, ClassifierTrainConfig

    return _model_train_parser(sub, "train-classifier", "train the small classifier that judges generated images",
                               ClassifierTrainConfig, ClassifierConfig)


def _model_train_parser(sub, name: str, help: str, run_config: type, model_config: type) -> argparse.ArgumentParser:
    """A comparison model's training command: the options declared on its run's config, --out, then
    those declared on its model's config."""
    from ..options import options

    t = sub.add_parser(name, help=help)
    for o in options(run_config):
        add_option(t, o, left_out=o.default)
    t.add_argument("--out", required=True, help="folder to write (models/NAME)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    for o in options(model_config):
        add_option(t, o, left_out=o.default)
    return t


def _saved_settings(out: Path) -> dict[str, Any]:
    """The `train` options a saved run used (those --resume reads), from its config.json and meta.json."""
    from ..config import ModelConfig, train_options
    from ..errors import CheckpointError
    from ..folders import CONFIG, META, read_json

    try:
        cfg, meta = read_json(out / CONFIG), read_json(out / META)
    except CheckpointError:
        return {}  # the run's own loading says what is wrong with it
    tc = meta.get("train_config") or {}
    saved = {o.name: (cfg if o.config is ModelConfig else tc).get(o.name)
             for o in train_options() if o.resume != "may change"}
    hidden = saved["hidden_dims"]
    saved["hidden_dims"] = tuple(hidden) if isinstance(hidden, list) else None
    # the data set as the run resolved it (a folder: its absolute path), and a folder's image size and
    # channels as read off its images (the run's own may have been left to be inferred)
    saved.update(dataset=meta.get("dataset"), image_size=None, channels=None)
    shape = cfg.get("image_shape")
    if str(saved["dataset"]).startswith("folder:") and isinstance(shape, list) and len(shape) == 3:
        saved.update(channels=shape[0], image_size=shape[1])
    return {k: v for k, v in saved.items() if v is not None}


def resolve_train_args(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the `train` options left out: with --resume from the saved run, else their declared defaults
    (``hidden_dims`` stays None: the architecture's own)."""
    from ..config import train_options

    saved = _saved_settings(Path(args.out)) if args.resume else {}
    for o in train_options():
        if o.resume != "may change" and getattr(args, o.name) is None:
            setattr(args, o.name, saved.get(o.name, None if o.per_arch else o.default))
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
    tc = TrainConfig(**_settings(args, TrainConfig), out=args.out, resume=args.resume).validate()
    train_data, test_data = load_training_data(tc.dataset, tc.data_dir, tc.image_size, tc.channels)
    model = _settings(args, ModelConfig)
    model["hidden_dims"] = args.hidden_dims or get_architecture(args.arch).default_hidden
    mc = ModelConfig(**model, image_shape=tuple(train_data.image_shape)).validate()
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


def _settings(args: argparse.Namespace, config: type) -> dict[str, Any]:
    """The parsed values of the options declared on ``config``'s fields, by field name."""
    from ..options import options

    return {o.name: getattr(args, o.name) for o in options(config)}


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
    command = "python -m vae " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    shape = tuple(train_data.image_shape)
    if args.command == "train-gan":
        from ..baselines.gan import GanConfig, GanTrainConfig, GanTrainer

        trainer = GanTrainer(GanConfig(image_shape=shape, **_settings(args, GanConfig)),
                             GanTrainConfig(**_settings(args, GanTrainConfig), out=args.out), train_data,
                             command=command)
        line = ("epoch {epoch:>3}/{epochs}  D loss {d_loss:.3f}  G loss {g_loss:.3f}  D(real) {d_real:.2f}  "
                "D(fake) {d_fake:.2f}  {seconds:.0f}s")
    else:
        from ..baselines.classifier import ClassifierConfig, ClassifierTrainConfig, ClassifierTrainer

        test_data = load_dataset(args.dataset, "test", data_dir=args.data_dir)
        cfg = ClassifierConfig(image_shape=shape, n_classes=len(train_data.class_names),
                               **_settings(args, ClassifierConfig))
        tc = ClassifierTrainConfig(**_settings(args, ClassifierTrainConfig), out=args.out)
        trainer = ClassifierTrainer(cfg, tc, train_data, test_data, command=command)
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
