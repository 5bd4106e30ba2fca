"""What every benchmark is given: the run's settings, and how it says it cannot run here."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKPOINT = ROOT / "checkpoints" / "fashion-mnist"
T = TypeVar("T")


class Skip(Exception):
    """A benchmark cannot run on this machine (no browser, no train split, ...); says why."""


class WaitFailed(RuntimeError):
    """A benchmark waited in vain for what it needs (a busy machine, a page that changed): the message
    says, in one line, what it waited for, how long, and what it saw instead."""


def wait_for(page, condition_js: str, what: str, timeout_s: float, seen_js: str = "() => document.title",
              arg=None) -> None:
    """Wait until ``condition_js`` (a page function of ``arg``) is truthy; else :class:`WaitFailed` naming
    ``what``, the time waited and what ``seen_js`` reads off the page then."""
    try:
        page.wait_for_function(condition_js, arg=arg, timeout=timeout_s * 1000)
    except Exception as e:  # Playwright's TimeoutError (or the page went away)
        try:
            seen = page.evaluate(seen_js)
        except Exception as inner:  # noqa: BLE001 - what we saw is only for the message
            seen = f"nothing readable ({type(inner).__name__})"
        raise WaitFailed(f"waited {timeout_s:.0f} s for {what}; saw {seen}") from e


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Settings:
    """One run of ``python -m benchmarks``."""

    quick: bool = False  # fewer queries, moves and repeats: about 8 minutes on 2 cores
    checkpoint: Path = DEFAULT_CHECKPOINT  # the checkpoint the map, slider and app benchmarks use
    seed: int = 0  # seeds the query spots, codes and synthetic batches
    say: Callable[[str], None] = field(default=_stderr)  # progress lines (stderr)

    def pick(self, quick: T, full: T) -> T:
        """``quick`` in a --quick run, ``full`` otherwise."""
        return quick if self.quick else full

    @property
    def checkpoint_root(self) -> Path:
        """The folder the app lists checkpoints from (VAE_CHECKPOINTS for the server)."""
        return self.checkpoint.resolve().parent

    @property
    def checkpoint_name(self) -> str:
        return self.checkpoint.resolve().name


def cpu_count() -> int:
    """CPUs this process may use (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
