"""What a session's first run shows before anything heavy is imported, and why pandas comes first.

frame/main.py hands the browser an empty Plotly chart first, so that it fetches and compiles plotly.js
(4.7 MB) while torch and the model load (~1.5 s): the map then appears about a second sooner.

Plotly looks pandas up in ``sys.modules`` without importing it (``get_module("pandas",
should_load=False)``) whenever it builds, validates or serialises a figure, even with validation
off. While another session's thread imports pandas for the first time, that entry is a
half-initialised module, and even this empty chart raises "partially initialized module 'pandas'
has no attribute 'Series'". So pandas is imported here, before any chart, by the first import of
every run: the first session of a server pays for it once (about 0.3 s), and any other session
that starts meanwhile waits on Python's import lock until pandas is whole.
"""

from __future__ import annotations

import pandas  # noqa: F401  (see the module docstring: imported whole before any Plotly figure)
import plotly.graph_objects as go


def warm_up_figure() -> go.Figure:
    """A 10-pixel-high empty scatter."""
    return go.Figure(data=[go.Scatter(x=[], y=[])],
                     layout={"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}})
