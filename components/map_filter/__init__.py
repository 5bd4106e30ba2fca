"""The Map page's linked charts, drawn and brushed in the page (issue #34).

A Streamlit components-v2 component: ``crossfilter.js`` (the twin of vae.explore.crossfilter: the masks, the
histograms on the server's edges, a brush's rounding) and ``map_filter.js`` (the charts, the gestures, the map's
highlight while a gesture goes on). The per-image values are one static file of float64 columns (written once per
content, content-addressed), fetched once by the page; a brush or a click filters the charts and the map in the
page at once, and the terms reach the server when the gesture ends (the state value ``filters``), which reruns
the page: the link, the count and the server's own highlight follow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from components import static_files
from components.live_decoder import MODELS_DIR, bundle_js, static_url
from vae.explore.crossfilter import Filters, Table, histogram, to_json

HERE = Path(__file__).resolve().parent
JS_MODULES = ("crossfilter.js", "search.js", "map_follow.js", "map_filter.js")

_component = st.components.v2.component(
    "vae_map_filter",
    js=bundle_js(HERE, JS_MODULES),
    css=(HERE / "map_filter.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # the veil goes inside the Plotly chart, another element of the page
)


def values_file(content_hash: str, table: Table) -> Path:
    """The table's columns, float64, one after another in the table's order (a categorical column: its codes),
    in a file named by its content under the model's static folder (written once)."""
    raw = np.stack([np.asarray(c.values, "<f8") for c in table.columns.values()]).tobytes()
    path = MODELS_DIR / content_hash / f"filter-{hashlib.blake2b(raw, digest_size=10).hexdigest()}.f64"
    if not path.is_file():
        from vae.data.cache import write_atomic

        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, raw)
        static_files.precompress_later([path])  # served as it is until the compressed copies exist
    return path


def spec(
    content_hash: str,
    table: Table,
    titles: dict[str, str],
    colours: dict[str, Sequence[str]],
    class_column: str,
    class_colours: Sequence[str],
) -> dict[str, Any]:
    """What the page's charts need of ``table``: its values' URL, each column's title, kind, histogram edges
    (numeric) or categories and their colours (``colours``: by column, where its bars have their own)."""
    columns = []
    for name, col in table.columns.items():
        entry: dict[str, Any] = {"name": name, "title": titles.get(name, name)}
        if col.numeric:
            entry.update(
                kind="num",
                edges=histogram(np.asarray(col.values, np.float64), np.ones(table.n, bool)).edges.tolist(),
            )
        else:
            entry.update(kind="cat", categories=list(col.categories), colours=colours.get(name))
        columns.append(entry)
    return {
        "values": static_url(values_file(content_hash, table)),
        "n": table.n,
        "columns": columns,
        "classColumn": class_column,
        "classColours": list(class_colours),
    }


def mount(
    key: str,
    table_spec: dict[str, Any],
    filters: Filters,
    within: np.ndarray | None,
    text: dict[str, str],
    scale: float,
    on_change: Callable[[], None],
) -> None:
    """Draw the charts (``within``: the map's selection or a kept one, coloured in the charts). ``on_change``
    runs when the user's terms reach the server (read them with :func:`terms`)."""
    _component(
        key=key,
        height="content",
        on_filters_change=on_change,
        data={
            **table_spec,
            "mode": "charts",
            "key": table_spec["values"],
            "filters": to_json(filters),
            "within": None if within is None else np.flatnonzero(within).tolist(),
            "text": text,
            "scale": scale,
        },
    )


def follow(
    key: str,
    table_spec: dict[str, Any],
    filters: Filters,
    search: np.ndarray | None,
    map_kind: str,
    chart: str | None,
    search_text: str = "",
    search_classes: list[str] | None = None,
) -> None:
    """Mount, beside the map, what fades it in the page while the charts' terms or a search typed into the box are
    newer than what the server drew (``filters``, and ``search``: the search's matches, ``search_text`` its text).
    ``map_kind``: "plotly" (``chart``: its key) or "canvas"; ``search_classes``: each class's names, case-folded,
    for the page to answer the box itself on Enter (None: the server answers it alone)."""
    _component(
        key=key,
        height="content",
        data={
            **table_spec,
            "mode": "map",
            "key": table_spec["values"],
            "filters": to_json(filters),
            "search": None if search is None else np.asarray(search, np.int64).tolist(),
            "searchText": search_text,
            "searchClasses": search_classes,
            "map": {"kind": map_kind, "chart": chart},
        },
    )


def terms(key: str) -> Any:
    """The terms the user's last gesture sent (None before one), in vae.explore.crossfilter.to_json's form."""
    state = st.session_state.get(key)
    value = state.get("filters") if isinstance(state, dict) else getattr(state, "filters", None)
    return value.get("terms") if isinstance(value, dict) else None
