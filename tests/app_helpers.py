"""Helpers of the AppTest tests (tests/app/, and the other folders' AppTests): a session of the whole
app, a page opened in it, a session opened from a link, its URL, the notices of a link's ignored
values, a checkpoint a test needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pagecheck import assert_app_ok

ROOT = Path(__file__).resolve().parent.parent
AppTest = pytest.importorskip("streamlit.testing.v1").AppTest
#: The script Streamlit runs for every session (app.py serves it): the frame, then the page.
SCRIPT = ROOT / "frame" / "main.py"


def app_test(timeout: float = 300) -> AppTest:
    """A new session of the whole app (the frame around the landing page until :func:`switch`)."""
    return AppTest.from_file(str(SCRIPT), default_timeout=timeout)


def switch(at: AppTest, page: str) -> AppTest:
    """Open ``page`` on ``at``'s next run, as a browser opening its link (/<name>) does. ``page``: its name
    in pages/_nav.py ("sliders") or its module's file ("pages/sliders.py").

    ``AppTest.switch_page`` finds pages by their script's file; the app's pages are functions
    (``st.Page(main, url_path=name)``), whose page hash is Streamlit's hash of the URL path, the one a
    browser's /<name> resolves to. AppTest keeps the page it asks for in ``_page_hash``."""
    from streamlit.util import calc_hash

    at._page_hash = calc_hash(Path(page).stem)
    return at


def need(name: str) -> None:
    if not (ROOT / "checkpoints" / name / "model.safetensors").is_file():
        pytest.skip(f"checkpoints/{name} is not there")


def url(at) -> dict[str, str]:
    """The session's URL query as plain strings."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def open_link(page: str, params: dict[str, str], state: dict | None = None) -> AppTest:
    """A new session opened on ``page`` from a link with ``params``."""
    at = app_test()
    for k, v in params.items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    # switch even for the Map: AppTest running the default page drops the widget values of the
    # session's first run on its second (a real browser keeps them; checked in tests/browser/test_browser.py)
    switch(at, page)
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


def fashion_test_set():
    """The shipped fashion-mnist model's test-split encoding and images, as the page encodes them: (Encoding,
    ImageDataset); the test is skipped without the checkpoint."""
    need("fashion-mnist")
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import explore_set

    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    data = ck.load_data("test")
    return explore_set(ck, data), data
