"""After a page's first run on this server: the heap it leaves, hidden from the cyclic garbage collector."""

from __future__ import annotations

import gc
import threading

_SETTLED: set[str] = set()
_HEAP_LOCK = threading.Lock()


def settle_heap(page: str) -> None:
    """After a page's first run on this server: hide what is loaded for good (torch, plotly,
    the checkpoint, the page's own modules) from Python's cyclic garbage collector (``gc.freeze``).

    Measured on the Sliders page: a full collection walked all those objects in 158 ms and ran
    on about every slider move, stalling the rerun mid-way (the last update reached the browser
    ~210 ms after the key press). Frozen after each page's first run: 0.2 ms median, and the last
    update at ~50 ms. Frozen objects are still freed by reference counting; only reference
    cycles among them are never collected (this runs once per page and server).
    """
    with _HEAP_LOCK:
        if page in _SETTLED:
            return
        _SETTLED.add(page)
    gc.collect()
    gc.freeze()
