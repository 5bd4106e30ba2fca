"""Sessions that start at once never meet a half-imported pandas (issue #14's flaky stException).

Plotly looks pandas up in ``sys.modules`` without importing it; while another thread imports
pandas for the first time, the entry is a half-initialised module. A bare module stands in for it.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import plotly.io
import plotly.tools
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _as_streamlit_sends_it(fig) -> str:
    """What st.plotly_chart does with a figure (streamlit/elements/plotly_chart.py)."""
    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return plotly.io.to_json(figure, validate=False)


def test_a_half_imported_pandas_breaks_any_plotly_chart(monkeypatch):
    """Why pandas must be whole before the first chart: even the empty warm-up chart fails."""
    from frame.warm_up import warm_up_figure

    assert '"height":10' in _as_streamlit_sends_it(warm_up_figure())
    monkeypatch.setitem(sys.modules, "pandas", types.ModuleType("pandas"))
    with pytest.raises(AttributeError, match="Series"):
        _as_streamlit_sends_it(warm_up_figure())


@pytest.mark.parametrize("module", ["frame.warm_up", "frame.first_map", "frame.navigation"])
def test_pandas_is_whole_before_the_first_chart(module):
    """The app's script (frame/main.py) draws its first chart through frame.first_map, imported before the
    frame and its pages (frame.navigation); frame.first_map imports pandas before Plotly. Each of these
    modules brings pandas in whole, under Python's import lock, where streamlit, plotly and torch alone do not."""
    script = (ROOT / "frame" / "main.py").read_text(encoding="utf-8")
    assert script.index("from frame import first_map") < script.index("first_map.draw(warm_up)")
    assert script.index("from frame import first_map") < script.index("from frame.navigation import")
    first_map = (ROOT / "frame" / "first_map.py").read_text(encoding="utf-8")
    assert first_map.index("import pandas") < first_map.index("import plotly") < first_map.index("plotly_chart(")
    code = ("import sys, streamlit, plotly.graph_objects, torch; before = 'pandas' in sys.modules; "
            f"import {module}; print(before, 'pandas' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "True"], proc.stdout
