"""Command-line interface: ``vae {train,evaluate,info,sample,reconstruct,export,project,map,import,data,
compare,train-gan,train-classifier}`` (``python -m vae ...`` in a checkout; ``vae ...`` where the
package is installed).

One module per group of commands, each declaring its commands' options and running them:
:mod:`~vae.cli.train` (train, train-gan, train-classifier), :mod:`~vae.cli.evaluate` (evaluate,
compare), :mod:`~vae.cli.inspect` (info, sample, reconstruct), :mod:`~vae.cli.export` (export,
project, map), :mod:`~vae.cli.byo` (import), :mod:`~vae.cli.data` (data); :mod:`~vae.cli.args` holds
what they share. Bad arguments or inputs print one line on stderr and exit with code 2 (no traceback).
"""

from __future__ import annotations

import argparse
import sys

from . import byo, data, evaluate, export, inspect, train
from .args import EXIT_USAGE, CliError, Command, Parser, prog_name

#: Every command, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {
    name: group.COMMANDS[name] for name, group in (
        ("train", train), ("evaluate", evaluate), ("info", inspect), ("sample", inspect),
        ("reconstruct", inspect), ("export", export), ("project", export), ("map", export), ("import", byo),
        ("data", data), ("compare", evaluate), ("train-gan", train), ("train-classifier", train),
    )
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (each group module declares its commands' options)."""
    p = Parser(prog=prog_name(), description="Train, evaluate and inspect VAEs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS.values():
        command.add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (``python -m vae`` and the ``vae`` command exit with it)."""
    from ..errors import AttributesError, CheckpointError, ConfigError, DataError
    from ..training.distributed import PeerLostError
    from ..training.trainer import NonFiniteLossError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except (CliError, ConfigError, DataError, CheckpointError, AttributesError, NonFiniteLossError) as e:
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
