"""What the numbers were measured on: CPUs, torch threads, GPU, versions, load, date."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any

from .settings import cpu_count


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict[str, Any]:
    """A JSON-ready description of this machine and software stack."""
    import numpy as np
    import torch

    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": cpu_count(),
        "cpu_model": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "load_average": load_average(),
    }
    for mod in ("umap", "sklearn", "streamlit", "playwright"):
        try:
            from importlib.metadata import version

            info[mod] = version({"umap": "umap-learn", "sklearn": "scikit-learn"}.get(mod, mod))
        except Exception:
            info[mod] = None
    try:
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        info["memory_gb"] = round(mem_kb / 1024**2, 1)
    except (OSError, StopIteration, ValueError):
        info["memory_gb"] = None
    return info


def one_line(info: dict[str, Any]) -> str:
    gpu = f", GPU {info['gpu']}" if info.get("gpu") else ", no GPU"
    return (f"{info['cpus']} CPU cores ({info['cpu_model']}), torch {info['torch_threads']} threads{gpu}, "
            f"{info.get('memory_gb')} GB RAM, load average {info.get('load_average')}, {info['date']}")
