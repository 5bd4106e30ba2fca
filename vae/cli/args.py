"""What every command of the command line shares: the parser that reports a bad argument in one line
(exit code 2, no traceback), the typed values options take, the one-line error a command raises,
and how the user called us.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..options import Option

EXIT_USAGE = 2
DATA_DIR_HELP = ("where the dataset's files are searched first; for a folder: checkpoint, the image folder "
                 "itself when it has moved")


class CliError(Exception):
    """An error to report in one line on stderr, exiting with code 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str):  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


@dataclass(frozen=True)
class Command:
    """One command: ``add`` declares its options on the subparsers, ``run`` runs it (returns the exit code)."""

    add: Callable[[argparse._SubParsersAction], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], int]


def prog_name() -> str:
    """How the user called us: ``vae`` (the installed command) or ``python -m vae``."""
    return "vae" if Path(sys.argv[0]).name == "vae" else "python -m vae"


# -- typed values: each refusal names the option and the value -----------------------------------
def positive_int(name: str) -> Callable[[str], int]:
    """A whole number >= 1, for the option ``name``."""

    def _positive_int(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {s!r}") from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{name} must be >= 1, got {v}")
        return v

    return _positive_int


def number(name: str, minimum: float | None = None, strict: bool = False) -> Callable[[str], float]:
    """A finite number, for the option ``name``: at least ``minimum`` (above it when ``strict``)."""

    def _float(s: str) -> float:
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

    return _float


def sizes(s: str) -> tuple[int, ...]:
    """Comma-separated positive sizes: ``32,64`` -> (32, 64)."""
    try:
        vals = tuple(int(v) for v in s.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes like 32,64, got {s!r}") from None
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError(f"sizes must be positive whole numbers, got {s!r}")
    return vals


def pixel_range(s: str) -> tuple[int, int]:
    """``0,1`` or ``-1,1`` (brackets allowed) -> (0, 1) or (-1, 1)."""
    key = s.replace(" ", "").strip("[]()")
    ranges = {"0,1": (0, 1), "-1,1": (-1, 1)}
    if key not in ranges:
        raise argparse.ArgumentTypeError(f"a pixel range is 0,1 or -1,1, got {s!r}")
    return ranges[key]


def add_option(parser: argparse.ArgumentParser, option: Option, left_out: Any = None) -> None:
    """A declared option (:func:`vae.options.option`) as an argument of ``parser``, parsed into the
    attribute of its field's name; ``left_out``: its value when the command line leaves it out."""
    kind = option.value_type
    if kind is bool:  # a flag: --half sets True, --no-optimizer-state sets False
        parser.add_argument(option.flag, dest=option.name, help=option.help_text(),
                            action="store_false" if option.default else "store_true")
        return
    kw: dict[str, Any] = {"dest": option.name, "default": left_out, "help": option.help_text()}
    values = option.values()
    if values is not None:
        kw.update(choices=values, type=int if all(isinstance(v, int) for v in values) else None)
    else:
        kw["metavar"] = option.metavar or option.flag.lstrip("-").replace("-", "_").upper()
        if typing.get_origin(kind) is tuple:
            kw["type"] = sizes
        elif kind is int:
            kw["type"] = positive_int(option.flag) if option.minimum == 1 else int
        elif kind is float:
            kw["type"] = number(option.flag, option.minimum, option.strict)
    parser.add_argument(option.flag, **kw)
