"""Settings declared once: a config dataclass field that is also a command-line option.

    lr: float = option(1e-3, "--lr", "Adam's learning rate (default {default})", minimum=0.0, strict=True,
                       resume="refuse", command="always")

The field's default is the option's; its metadata holds the flag, the help (``{default}`` stands for
the default, so that no help repeats it by hand), the values it accepts, and what ``--resume``
does with it. Everything else is derived from the declaration (:func:`options` lists them): the
command line's parser (vae.cli), the resume check (vae.training.trainer), the Train page's
equivalent command (vae.training.jobs.train_command) and the README's table of `train`'s options.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

#: What ``train --resume`` does with an option: "refuse" (left out, the run's value; a different one is
#: refused, naming both), "keep" (left out, the run's value; a different one is taken), "may change"
#: (not read from the run: left out, the default).
Resume = Literal["refuse", "keep", "may change"]
#: When the Train page's equivalent command names an option: "always", "changed" (when its value is
#: not the default), "never".
InCommand = Literal["always", "changed", "never"]


def option(default: Any, flag: str, help: str, *, resume: Resume = "may change", command: InCommand = "never",
           minimum: float | None = None, strict: bool = False,
           choices: Sequence[Any] | Callable[[], Sequence[Any]] | None = None, metavar: str | None = None,
           default_text: str | None = None, arch: str | None = None, group: str | None = None,
           per_arch: bool = False) -> Any:
    """A dataclass field with ``default`` that is also the command-line option ``flag``.

    ``help``: what it does (``{default}`` is replaced by the default). ``minimum``: the least value a
    number takes (more than it when ``strict``). ``choices``: the values it takes, or a function
    returning them (a registry); a ``Literal`` annotation gives them too. ``default_text``: the
    default in words, where the value says too little (None: inferred). ``arch``: it applies to this
    architecture only. ``group``: the equivalent command names it whenever it names that option.
    ``per_arch``: the default is the architecture's own (``Architecture.default_hidden``).
    """
    return dataclasses.field(default=default, metadata={
        "flag": flag, "help": help, "resume": resume, "command": command, "minimum": minimum,
        "strict": strict, "choices": choices, "metavar": metavar, "default_text": default_text,
        "arch": arch, "group": group, "per_arch": per_arch,
    })


@dataclass(frozen=True)
class Option:
    """One option as declared with :func:`option` on a field of ``config``."""

    config: type  # the dataclass whose field it is
    name: str  # the field's name (the parsed arguments' attribute)
    default: Any
    type: Any  # the field's annotation, resolved (int | None, Literal[...], tuple[int, ...], ...)
    flag: str
    help: str
    resume: Resume
    command: InCommand
    minimum: float | None
    strict: bool
    choices: Sequence[Any] | Callable[[], Sequence[Any]] | None
    metavar: str | None
    default_text: str | None
    arch: str | None
    group: str | None
    per_arch: bool

    @property
    def value_type(self) -> Any:
        """The type of the option's value, without ``None``: int, float, str, bool, tuple or a Literal."""
        args = [a for a in typing.get_args(self.type) if a is not type(None)]
        return args[0] if typing.get_origin(self.type) in (typing.Union, types.UnionType) and len(args) == 1 else self.type

    def values(self) -> list[Any] | None:
        """The values it takes, when they are a fixed set (its choices, or its Literal's)."""
        if self.choices is not None:
            return list(self.choices() if callable(self.choices) else self.choices)
        t = self.value_type
        return list(typing.get_args(t)) if typing.get_origin(t) is Literal else None

    def default_for(self, arch: str) -> Any:
        """The default a model of architecture ``arch`` gets."""
        if self.per_arch:
            from .archs import get_architecture

            return tuple(get_architecture(arch).default_hidden)
        return self.default

    def default_label(self) -> str:
        """The default as help and the README say it."""
        if self.per_arch:
            from .archs import ARCHITECTURES

            return "the architecture's own (" + "; ".join(f"{name} {show(a.default_hidden)}"
                                                         for name, a in ARCHITECTURES.items()) + ")"
        return self.default_text if self.default_text is not None else show(self.default)

    def help_text(self) -> str:
        return self.help.replace("{default}", self.default_label())

    def named_in_command(self, value: Any, arch: str, named: set[str]) -> bool:
        """Whether the equivalent command names this option, given its value, the model's architecture
        and the options named before it."""
        if self.arch is not None and arch != self.arch:
            return False
        if self.group is not None:
            return self.group in named
        return self.command == "always" or (self.command == "changed" and value != self.default_for(arch))



def options(cls: type) -> list[Option]:
    """The options declared on ``cls``'s fields, in field order. A subclass that gives a field a new
    default (``epochs: int = 15``) keeps the base class's declaration of it."""
    declared: dict[str, dict[str, Any]] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            declared.update({f.name: dict(f.metadata) for f in dataclasses.fields(base) if "flag" in f.metadata})
    hints = typing.get_type_hints(cls)
    return [Option(cls, f.name, f.default, hints[f.name], **declared[f.name])
            for f in dataclasses.fields(cls) if f.name in declared]


def show(value: Any) -> str:
    """A value as a command line writes it: ``1e-3`` -> ``0.001``, ``(32, 64)`` -> ``32,64``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)
