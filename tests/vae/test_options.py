"""Every training option is declared once (vae.options.option on its config field): the parser, the
resume rules, the Train page's command (vae.training.jobs.train_command) and the README's table are
derived from the declaration, and these tests fail when any of them gives an option another default.

The README's table is generated: ``.venv/bin/python tests/vae/test_options.py --write`` rewrites it.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from vae.archs import get_architecture
from vae.baselines.classifier import ClassifierConfig, ClassifierTrainConfig
from vae.baselines.gan import GanConfig, GanTrainConfig
from vae.cli import build_parser
from vae.cli.train import resolve_train_args
from vae.config import ModelConfig, TrainConfig, train_options
from vae.options import Option, options, show
from vae.training.jobs import train_command

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BEGIN = "<!-- train options: generated from their declarations (vae/config.py) by `python tests/vae/test_options.py --write` -->"
END = "<!-- end of train options -->"
RESUME = {"refuse": "the run's; another is refused", "keep": "the run's; another is used", "may change": "the default"}


# -- the README's table -----------------------------------------------------------------------------
def _usage(o: Option) -> str:
    values = o.values()
    if o.value_type is bool:
        return f"`{o.flag}`"
    if values is not None:
        return f"`{o.flag} {'|'.join(show(v) for v in values)}`".replace("|", "\\|")
    return f"`{o.flag} {o.metavar or o.flag.lstrip('-').replace('-', '_').upper()}`"


def options_table() -> str:
    """The README's table of `train`'s options: flag, default, and what --resume does when it is left out."""
    rows = [f"| {_usage(o)} | {o.default_label()} | {RESUME[o.resume]} |" for o in train_options()]
    return "\n".join([BEGIN, "| option | default | left out with `--resume` |", "| --- | --- | --- |", *rows, END])


def readme_table(text: str) -> str:
    if BEGIN not in text or END not in text:
        raise AssertionError(f"README.md has no table of train's options between {BEGIN!r} and {END!r}")
    return BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END


def readme_defaults(table: str) -> dict[str, str]:
    """flag -> the default column, read off the README's table."""
    rows = re.findall(r"^\| `(--[a-z-]+)[^`]*` \| ([^|]*) \|", table, flags=re.M)
    return {flag: default.strip() for flag, default in rows}


# -- the tests ----------------------------------------------------------------------------------------
def test_every_default_is_the_declared_one_everywhere():
    """The parser (with what resolve_train_args fills in), the dataclasses, the Train page's command
    and the README give every `train` option the declared default."""
    args = resolve_train_args(build_parser().parse_args(["train", "--out", "x"]))
    mc, tc = ModelConfig(), TrainConfig()
    readme = readme_defaults(readme_table(README.read_text(encoding="utf-8")))
    command = shlex.split(train_command(mc, tc))
    for o in train_options():
        dataclass_default = getattr(mc if o.config is ModelConfig else tc, o.name)
        parsed = getattr(args, o.name)
        assert parsed == (None if o.per_arch else dataclass_default), (
            f"{o.flag}: the parser's default is {parsed!r}, the dataclass's {dataclass_default!r}")
        assert readme.get(o.flag) == o.default_label(), (
            f"{o.flag}: the README says the default is {readme.get(o.flag)!r}, the declaration "
            f"{o.default_label()!r}; run `python tests/vae/test_options.py --write`")
        if o.command == "changed":  # named only when not the default: at the default, never
            assert o.flag not in command, f"{o.flag}: the command of default settings names it: {command}"
    # --hidden's default is the architecture's own: the dataclass holds the default architecture's
    assert mc.hidden_dims == get_architecture(mc.arch).default_hidden


@pytest.mark.parametrize("run_config, model_config", [(GanTrainConfig, GanConfig),
                                                      (ClassifierTrainConfig, ClassifierConfig)])
def test_the_comparison_models_commands_take_their_configs_defaults(run_config, model_config):
    command = {GanConfig: "train-gan", ClassifierConfig: "train-classifier"}[model_config]
    args = build_parser().parse_args([command, "--out", "x"])
    for cls in (run_config, model_config):
        declared = options(cls)
        assert declared
        for o in declared:
            assert getattr(args, o.name) == getattr(cls(), o.name), f"{command} {o.flag}"


def test_a_help_that_names_a_default_takes_it_from_the_declaration():
    declared = [*train_options(), *options(GanTrainConfig), *options(GanConfig), *options(ClassifierConfig)]
    for o in declared:
        if "default" in o.help:
            assert "{default}" in o.help, f"{o.flag}'s help writes its default by hand: {o.help!r}"
            assert o.default_label() in o.help_text()


@pytest.mark.parametrize("changes", [
    {},
    {"hidden_dims": (8, 16), "fc_dim": 64, "likelihood": "gaussian", "lr_schedule": "constant",
     "kl_warmup_epochs": 2.5, "seed": 7, "limit": 100, "arch": "conv", "beta": 0.5, "epochs": 3},
    {"arch": "mlp", "hidden_dims": (512, 256), "fc_dim": 64, "likelihood": "logistic", "latent_dim": 2},
])
def test_the_train_pages_command_gives_back_its_settings(changes):
    """Parsed by the real parser, the command gives back every setting it names (and the defaults it
    leaves out): train_command and the parser agree on each option's default."""
    mc = ModelConfig(**{k: v for k, v in changes.items() if k in ModelConfig.__dataclass_fields__})
    tc = TrainConfig(dataset="digits", out="x", **{k: v for k, v in changes.items()
                                                   if k in TrainConfig.__dataclass_fields__})
    args = resolve_train_args(build_parser().parse_args(shlex.split(train_command(mc, tc))[3:]))
    for o in train_options():
        if o.command == "never" and o.group is None:
            continue
        want = getattr(mc if o.config is ModelConfig else tc, o.name)
        got = getattr(args, o.name)
        if o.per_arch and got is None:
            got = get_architecture(args.arch).default_hidden
        if o.arch is not None and mc.arch != o.arch:
            continue  # --fc-dim of an mlp: not named, not used
        assert got == want, f"{o.flag}: {train_command(mc, tc)} parses to {got!r}, the config holds {want!r}"


def test_what_resume_does_is_declared_for_every_option():
    # the trainer refuses a resumed run whose model config differs in anything
    assert {o.resume for o in options(ModelConfig)} == {"refuse"}
    assert all(o.resume in RESUME for o in train_options())


def test_the_readme_table_is_the_declarations():
    assert readme_table(README.read_text(encoding="utf-8")) == options_table(), (
        "README.md's table of train's options differs from the declarations; run "
        "`python tests/vae/test_options.py --write`")


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    text = README.read_text(encoding="utf-8")
    README.write_text(text.replace(readme_table(text), options_table()), encoding="utf-8")
    print(f"rewrote the table of train's options in {README}")
