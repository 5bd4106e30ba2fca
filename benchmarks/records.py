"""One measurement as a record, the statistics behind it, and the printed table.

A :class:`Record` compares *ours* with a *peer* measured in the same run. ``ratio`` is
always oriented so that > 1 means ours is better: ``peer / ours`` when lower is better
(times, errors, memory), ``ours / peer`` when higher is better (throughput, accuracy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Better = Literal["lower", "higher"]
REQUIRED_KEYS = ("name", "ours", "peer", "unit", "ratio", "n")


@dataclass
class Record:
    """One row of the results table (and one JSON object in ``--json``)."""

    name: str  # e.g. "inverse_map"; a benchmark may write several records
    ours: float | None  # for a latency: the median
    peer: float | None  # the same quantity for the peer, measured in the same run (None: no peer)
    unit: str  # "ms", "s", "map units", "images/s", "MB", ...
    n: int  # how many measurements ``ours`` summarises (queries, moves, repeats, images)
    better: Better = "lower"  # which direction is better, for ``ratio``
    ours_label: str = ""  # what "ours" is
    peer_label: str = ""  # what the peer is
    goal: str = ""  # the goal stated in the issue, in words ("ratio >= 100")
    met: bool | None = None  # whether this run reached the goal (None: no goal)
    note: str = ""  # one short line shown in the table
    extra: dict[str, Any] = field(default_factory=dict)  # p95, per-variant details, ...

    @property
    def ratio(self) -> float | None:
        """> 1 means ours is better; None without a peer or with a zero."""
        return ratio(self.ours, self.peer, self.better)

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "ours": _num(self.ours), "peer": _num(self.peer), "unit": self.unit,
               "ratio": _num(self.ratio), "n": int(self.n), "better": self.better,
               "ours_label": self.ours_label, "peer_label": self.peer_label, "goal": self.goal,
               "met": self.met, "note": self.note}
        for k, v in self.extra.items():
            out.setdefault(k, _jsonable(v))
        return out


def ratio(ours: float | None, peer: float | None, better: Better) -> float | None:
    """peer / ours (lower is better) or ours / peer (higher is better)."""
    if ours is None or peer is None or not (math.isfinite(ours) and math.isfinite(peer)):
        return None
    if ours == 0 or peer == 0:
        return None
    return peer / ours if better == "lower" else ours / peer


def _num(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return _num(float(v))
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# -- statistics ---------------------------------------------------------------------------------
def median(samples) -> float | None:
    a = np.asarray(list(samples), dtype=np.float64)
    return float(np.median(a)) if len(a) else None


def p95(samples) -> float | None:
    a = np.asarray(list(samples), dtype=np.float64)
    return float(np.percentile(a, 95)) if len(a) else None


def spread(samples) -> dict[str, float | None]:
    """Median, p95, min and max of repeated measurements (the extra keys of a latency record)."""
    a = np.asarray(list(samples), dtype=np.float64)
    if not len(a):
        return {"median": None, "p95": None, "min": None, "max": None}
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)),
            "min": float(a.min()), "max": float(a.max())}


# -- the table ----------------------------------------------------------------------------------
def fmt(v: float | None) -> str:
    """A number with three significant digits, without scientific notation for usual sizes."""
    if v is None:
        return "–"
    v = float(v)
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a >= 0.001:
        return f"{v:.3g}"
    return f"{v:.2e}"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "–"
    return f"{r:,.0f}×" if r >= 100 else f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def goal_cell(rec: Record) -> str:
    if not rec.goal:
        return ""
    mark = "" if rec.met is None else (" ✓" if rec.met else " ✗")
    return rec.goal + mark


TABLE_HEAD = ("name", "ours", "peer", "unit", "ratio", "n", "goal", "note")


def table_rows(records: list[Record]) -> list[tuple[str, ...]]:
    return [(r.name, fmt(r.ours), fmt(r.peer), r.unit, fmt_ratio(r.ratio), str(r.n), goal_cell(r), r.note)
            for r in records]


def text_table(records: list[Record]) -> str:
    """The results as a fixed-width text table (what the CLI prints)."""
    rows = [TABLE_HEAD, *table_rows(records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEAD) - 1)]
    lines = []
    for k, row in enumerate(rows):
        cells = [c.ljust(w) if i in (0, 3, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))]
        lines.append("  ".join(cells) + "  " + row[-1])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def markdown_table(records: list[Record]) -> str:
    """The results as a Markdown table (for docs/benchmarks.md)."""
    rows = table_rows(records)
    head = "| " + " | ".join(TABLE_HEAD) + " |"
    align = "|" + "|".join(["---", "---:", "---:", "---", "---:", "---:", "---", "---"]) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join([head, align, *body])
