"""``python -m benchmarks``: run the benchmarks, print the table, write JSON and the docs page.

    python -m benchmarks --quick                      # about 8 minutes on 2 cores
    python -m benchmarks --only inverse_map,forward_map --checkpoint checkpoints/digits
    python -m benchmarks --json results.json --no-docs
    python -m benchmarks --update-docs                # a full run that rewrites docs/benchmarks.*

A run writes its report (benchmarks.md, plots, benchmarks.json) into runs/benchmarks/, which
git ignores; only ``--update-docs`` (a full run of every benchmark) rewrites what docs/ holds.

Each benchmark measures ours and its peer in the same run. A benchmark that cannot run
here (no Chromium, no train split) is skipped with the reason; one that fails prints its
traceback and the others still run (the exit status is then 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from . import (
    class_load,
    classroom,
    drag_decode,
    first_map,
    forward_map,
    hover_decode,
    inverse_map,
    live_ready,
    machine,
    map_scale,
    map_tools,
    projection_cost,
    quality,
    server_memory,
    slider_roundtrip,
    spaces,
    strips,
    train_ddp,
    train_throughput,
)
from .records import Record, text_table
from .settings import DEFAULT_CHECKPOINT, ROOT, Settings, Skip, WaitFailed

#: Where a run's report goes unless told otherwise (ignored by git: tests and quick runs
#: never rewrite the tracked docs/).
RUNS_DIR = ROOT / "runs" / "benchmarks"
DOCS_DIR = ROOT / "docs"

#: Every benchmark, in the order they run (the order of issue #4).
BENCHMARKS: dict[str, ModuleType] = {m.NAME: m for m in (
    inverse_map, forward_map, slider_roundtrip, first_map, projection_cost, train_throughput,
    quality, server_memory, drag_decode, hover_decode, live_ready, train_ddp, map_scale, classroom, class_load,
    map_tools, spaces, strips,
)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description="Run the benchmarks of issue #4: print the table, write JSON and "
                                "docs/benchmarks.md.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer queries and repeats (about 8 minutes on 2 cores)")
    p.add_argument("--only", metavar="NAME[,NAME]",
                   help="run only these benchmarks: " + ", ".join(BENCHMARKS))
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                   help="the checkpoint folder the map and app benchmarks use (default: checkpoints/fashion-mnist)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the records as a JSON list")
    p.add_argument("--docs", type=Path, metavar="DIR",
                   help=f"write benchmarks.md, its plots and benchmarks.json here (default: {RUNS_DIR.relative_to(ROOT)}/)")
    p.add_argument("--update-docs", action="store_true",
                   help="a full run of every benchmark only: write the report into docs/ (tracked by git)")
    p.add_argument("--no-docs", action="store_true", help="write no report, only print the table")
    p.add_argument("--seed", type=int, default=0, help="seed of the query spots and codes (default 0)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return p.parse_args(argv)


def select(only: str | None) -> list[str]:
    """Benchmark names from ``--only`` (a benchmark name, or a record name that starts with one)."""
    if not only:
        return list(BENCHMARKS)
    chosen: list[str] = []
    for raw in only.split(","):
        want = raw.strip()
        if not want:
            continue
        match = want if want in BENCHMARKS else next(
            (b for b, m in BENCHMARKS.items() if want.startswith(getattr(m, "PREFIXES", (b,)))), None)
        if match is None:
            raise SystemExit(f"error: unknown benchmark {want!r}; choose from {', '.join(BENCHMARKS)}")
        if match not in chosen:
            chosen.append(match)
    return [b for b in BENCHMARKS if b in chosen]


def run_all(names: list[str], settings: Settings) -> tuple[list[Record], dict[str, str], dict[str, str]]:
    """Run the benchmarks; returns the records, the skipped ones and the failed ones (with why)."""
    records: list[Record] = []
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name in names:
        t0 = time.perf_counter()
        settings.say(f"== {name}")
        try:
            recs = BENCHMARKS[name].run(settings)
        except Skip as e:
            skipped[name] = str(e)
            settings.say(f"   skipped: {e}")
            continue
        except WaitFailed as e:  # what it needed never came: one line, and the others still run
            failed[name] = str(e)
            settings.say(f"   failed: {e}")
            continue
        except Exception as e:  # one broken benchmark must not lose the others' numbers
            traceback.print_exc(file=sys.stderr)
            failed[name] = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            continue
        for r in recs:
            r.extra.setdefault("benchmark", name)
        records += recs
        settings.say(f"   {name}: {len(recs)} record(s) in {time.perf_counter() - t0:.0f} s")
    return records, skipped, failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, mod in BENCHMARKS.items():
            print(f"{name:18s} {(mod.__doc__ or '').strip().splitlines()[0].replace('``', '')}")
        return 0
    names = select(args.only)
    if args.update_docs and (args.quick or args.only or args.docs or args.no_docs):
        print("error: --update-docs rewrites docs/ from a full run of every benchmark; drop --quick, "
              "--only, --docs and --no-docs (or write elsewhere with --docs DIR)", file=sys.stderr)
        return 2
    checkpoint = args.checkpoint if args.checkpoint.is_absolute() else (Path.cwd() / args.checkpoint)
    if not (checkpoint / "config.json").is_file():
        print(f"error: {args.checkpoint} is not a checkpoint folder (no config.json); "
              "pass --checkpoint checkpoints/NAME", file=sys.stderr)
        return 2
    settings = Settings(quick=args.quick, checkpoint=checkpoint, seed=args.seed)
    info = machine.describe()
    settings.say(f"benchmarks ({'quick' if args.quick else 'full'}): {', '.join(names)}")
    settings.say(f"machine: {machine.one_line(info)}")
    t0 = time.perf_counter()
    records, skipped, failed = run_all(names, settings)
    info["load_average_end"] = machine.load_average()
    info["seconds"] = round(time.perf_counter() - t0, 1)
    info["mode"] = "quick" if args.quick else "full"
    info["checkpoint"] = str(args.checkpoint)
    info["command"] = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    info["only"] = names if args.only else None

    print(text_table(records))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    for name, why in failed.items():
        print(f"FAILED {name}: {why}")
    print(f"{len(records)} records in {info['seconds']:.0f} s ({info['mode']} run)")
    docs = None if args.no_docs else DOCS_DIR if args.update_docs else (args.docs or RUNS_DIR)
    json_paths = [p for p in (args.json, docs / "benchmarks.json" if docs is not None else None) if p is not None]
    for path in json_paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([r.to_json() for r in records], indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        print(f"wrote {path}")
    if docs is not None:
        from .report import write_docs

        for path in write_docs(docs, records, info, skipped, failed, json_path=docs / "benchmarks.json"):
            print(f"wrote {path}")
    return 1 if failed else 0
