"""Helpers of the AppTest tests (tests/app/): a session opened from a link, its URL, the notices of a
link's ignored values, a checkpoint a test needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pagecheck import assert_app_ok

ROOT = Path(__file__).resolve().parent.parent
AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def need(name: str) -> None:
    if not (ROOT / "checkpoints" / name / "model.safetensors").is_file():
        pytest.skip(f"checkpoints/{name} is not there")


def url(at) -> dict[str, str]:
    """The session's URL query as plain strings."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def open_link(page: str, params: dict[str, str], state: dict | None = None) -> AppTest:
    """A new session opened on ``page`` from a link with ``params``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    # switch_page even for the Map: AppTest running app.py's default page drops the widget values of
    # the session's first run on its second (a real browser keeps them; checked in tests/browser/test_browser.py)
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert_app_ok(at, page)
    at.link_notices = notices(at)
    return at


def notices(at) -> list[str]:
    return [w.value for w in at.warning if "Ignored the link's" in w.value]


def reopened(at, page: str) -> AppTest:
    """The same page opened in a fresh session from the URL ``at`` left; no notice."""
    again = open_link(page, url(at))
    assert not again.link_notices, again.link_notices
    return again


def same(a, b, keys) -> None:
    for k in keys:
        assert a.session_state[k] == b.session_state[k], (k, a.session_state[k], b.session_state[k])
