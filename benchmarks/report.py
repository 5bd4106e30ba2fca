"""docs/benchmarks.md and its plots, regenerated from one run's records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import machine
from .records import Record, fmt, fmt_ratio, markdown_table

LATENCY_PNG = "benchmarks-latency.png"
PROJECTION_PNG = "benchmarks-projection.png"


def _md_doc(module) -> str:
    """A module docstring as Markdown paragraphs (``x`` -> `x`)."""
    text = (module.__doc__ or "").strip()
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r":\w+:`([^`]+)`", r"`\1`", text)  # :mod:`x` -> `x`
    paras = [" ".join(line.strip() for line in p.splitlines()) for p in re.split(r"\n\s*\n", text)]
    out = []
    for p in paras:
        if p.startswith("- "):  # a bullet list written on consecutive lines
            out.append("\n".join("- " + b.strip() for b in p[2:].split(" - ")))
        else:
            out.append(p)
    return "\n\n".join(out)


def _get(records: list[Record], name: str) -> Record | None:
    return next((r for r in records if r.name == name), None)


def plot_latency(records: list[Record], path: Path) -> Path | None:
    """Per-interaction latencies (log scale), the slider's distributions, time to first map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    maps = [r for r in (_get(records, "inverse_map"), _get(records, "forward_map")) if r and r.ours]
    slider = _get(records, "slider_roundtrip")
    first = _get(records, "first_map")
    panels = [p for p in ("maps", "slider", "first") if
              {"maps": maps, "slider": slider and slider.ours, "first": first and first.ours}[p]]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    ours_c, peer_c = "#1f77b4", "#bbbbbb"
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "maps":
            labels = [r.name.replace("_", " ") for r in maps]
            y = range(len(maps))
            ax.barh([i + 0.2 for i in y], [r.ours for r in maps], 0.4, color=ours_c, label="ours (LatentMap)")
            ax.barh([i - 0.2 for i in y], [r.peer or 0 for r in maps], 0.4, color=peer_c, label="umap-learn")
            for i, r in enumerate(maps):
                if r.extra.get("p95"):
                    ax.plot([r.extra["p95"]], [i + 0.2], "k|", ms=10)
                if r.extra.get("peer_p95"):
                    ax.plot([r.extra["peer_p95"]], [i - 0.2], "k|", ms=10)
                if r.ratio:
                    right = max(r.peer, r.extra.get("peer_p95") or 0)
                    ax.text(right * 1.4, i - 0.2, f"{r.ratio:,.0f}× faster", va="center", fontsize=8)
            ax.set_yticks(list(y), labels)
            ax.set_ylim(-0.7, len(maps) - 0.3)
            ax.set_xscale("log")
            ax.set_xlabel("ms per query (median; | = p95), log scale")
            ax.set_title("Map queries, one point per call")
            ax.legend(loc="lower right", fontsize=8)
            ax.set_xlim(right=max((r.peer or r.ours) for r in maps) * 30)
        elif panel == "slider":
            off = _get(records, "slider_roundtrip_fragment_off")
            data = [slider.extra.get("samples_ms") or [], slider.extra.get("peer_samples_ms") or []]
            names = ["ours:\nfragment", "naive app:\nwhole script"]
            if off and off.extra.get("peer_samples_ms"):
                data.insert(1, off.extra["peer_samples_ms"])
                names.insert(1, "ours,\nfragment off")
            ax.boxplot(data, vert=False, whis=(5, 95), showfliers=True)
            ax.set_yticks(list(range(1, len(data) + 1)), names)
            ax.axvline(150, color="tab:red", ls="--", lw=1)
            ax.text(150, len(data) + 0.35, " goal 150 ms", color="tab:red", fontsize=8)
            ax.set_xlabel("ms from key press to new image (whiskers p5–p95)")
            ax.set_title(f"Slider round trip in Chromium (n = {slider.n})")
        else:
            vals = [first.ours, first.peer or 0]
            ax.bar(["shipped\nprojection", "no caches\n(cold)"], vals, color=[ours_c, peer_c])
            for i, v in enumerate(vals):
                ax.text(i, v, f"{v:.1f} s", ha="center", va="bottom", fontsize=9)
            ax.axhline(5, color="tab:red", ls="--", lw=1)
            ax.set_ylabel("seconds from launching streamlit to map")
            ax.set_title("Time to first map")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_projection(records: list[Record], path: Path) -> Path | None:
    """Seconds (log) against trustworthiness for every projection measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in records if r.name.startswith("projection_") and r.ours and r.extra.get("trustworthiness")]
    if not rows:
        return None
    colors = {"umap": "#1f77b4", "umap_cold": "#9ecae1", "pca": "#2ca02c", "tsne": "#d62728"}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r in rows:
        method = r.name[len("projection_"):].rsplit("_", 1)[0]
        n = r.extra.get("points", 0)
        ax.scatter(r.ours, r.extra["trustworthiness"], s=30 + 60 * (n >= 50_000), color=colors.get(method, "k"))
        ax.annotate(f"{method} {n:,}", (r.ours, r.extra["trustworthiness"]), textcoords="offset points",
                    xytext=(5, -11) if n >= 50_000 else (5, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("seconds to project (log scale)")
    ax.set_ylabel("trustworthiness (k = 10)")
    ax.set_title("2-D maps of the latent codes: cost and quality")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def goal_lines(records: list[Record]) -> list[str]:
    """One bullet per goal of issue #4: the numbers of this run and whether it was reached."""
    out = []
    for r in records:
        if not r.goal:
            continue
        verdict = "not measured" if r.met is None else "**reached**" if r.met else "**not reached**"
        peer = f" vs {fmt(r.peer)} {r.unit} ({r.peer_label})" if r.peer is not None else ""
        out.append(f"- `{r.name}`: ours {fmt(r.ours)} {r.unit}{peer}, ratio {fmt_ratio(r.ratio)}; "
                   f"goal {r.goal}: {verdict}.")
    return out


def write_docs(folder: Path, records: list[Record], info: dict[str, Any], skipped: dict[str, str],
               failed: dict[str, str], json_path: Path | None = None) -> list[Path]:
    """Write benchmarks.md and its plots into ``folder``; returns the files written."""
    from . import cli

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plots = [p for p in (plot_latency(records, folder / LATENCY_PNG),
                         plot_projection(records, folder / PROJECTION_PNG)) if p is not None]
    written += plots
    mode = info.get("mode", "full")
    cmd = info.get("command") or "python -m benchmarks" + (" --quick" if mode == "quick" else "")
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{cmd}` (see `benchmarks/`); every number below comes from that one run. "
        "Regenerate with `make benchmark-docs` (`python -m benchmarks --update-docs`, the full run "
        "behind this page); `make benchmark` (quick) writes its report into runs/benchmarks/.",
        "",
        f"**Machine:** {machine.one_line(info)}. Python {info.get('python')}, torch {info.get('torch')}, "
        f"umap-learn {info.get('umap')}, scikit-learn {info.get('sklearn')}, streamlit {info.get('streamlit')}. "
        f"Load average at the end: {info.get('load_average_end')}. Run took {info.get('seconds', 0):.0f} s "
        f"({mode} run; checkpoint `{info.get('checkpoint')}`).",
        "",
        "## Goals of issue #4 in this run",
        "",
        *(goal_lines(records) or ["- (no benchmark with a stated goal ran)"]),
        "",
        "## Results",
        "",
        "Each row compares **ours** with a **peer** measured in the same run. **ratio > 1 means ours is "
        "better**: peer ÷ ours for times, errors and memory, ours ÷ peer for throughput and accuracy. "
        "A latency is the median over queries (p95 in the JSON); ✓/✗ say whether this run reached "
        "the goal stated in issue #4. A dash: no peer, or not measured.",
        "",
        markdown_table(records),
        "",
    ]
    if skipped or failed:
        lines += ["**Not measured in this run:**", ""]
        lines += [f"- `{k}` skipped: {v}" for k, v in skipped.items()]
        lines += [f"- `{k}` failed: {v}" for k, v in failed.items()]
        lines.append("")
    if json_path is not None:
        lines += [f"Every record, with p95s, spreads and raw samples: `{json_path.name}` beside this page.", ""]
    for p in plots:
        lines += [f"![{p.stem}]({p.name})", ""]
    lines += ["## How each number is measured", ""]
    for name, mod in cli.BENCHMARKS.items():
        lines += [f"### `{name}`", "", _md_doc(mod), ""]
    lines += [
        "## Reading these numbers",
        "",
        "- The machine is shared and noisy: compare the ratios (both sides measured in the same run, "
        "interleaved), not absolute times across runs.",
        "- `--quick` uses fewer queries, moves and repeats, 2,000 codes instead of 10,000 and 70,000 for "
        "the projection costs, and one repeat of the time to first map; its medians are noisier than a "
        "full run's.",
        "- Latencies of single calls depend on torch's thread count: with 2 threads on a machine whose "
        "cores are busy elsewhere, decoding one code took 64 ms (median) against 0.7 ms with 1 thread, "
        "in one check made while a model trained in the background (OpenMP threads waiting for each "
        "other). Run the benchmarks on an otherwise idle machine.",
        "- Nothing here is a pass/fail test: the smoke test (tests/benchmarks/test_benchmarks.py) only checks that "
        "the JSON is well formed.",
        "",
    ]
    md = folder / "benchmarks.md"
    md.write_text("\n".join(lines), encoding="utf-8")
    return [md, *written]
