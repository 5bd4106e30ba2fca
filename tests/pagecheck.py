"""Checks that say what they saw: the text of every exception a page shows.

A bare ``assert count == 0`` on Streamlit's exception element turns a failure into "1 != 0";
these helpers put the exception's message and the end of its traceback into the assertion,
so that a flaky failure in CI can be diagnosed from the log alone.

- AppTest: :func:`app_exceptions`, :func:`assert_app_ok`.
- A real browser (Playwright, sync or async): :func:`page_exceptions`, :func:`assert_page_ok`,
  :func:`page_exceptions_async`.
"""

from __future__ import annotations

from collections.abc import Callable

EXCEPTION_SELECTOR = '[data-testid="stException"]'
#: url -> a function returning the tail of that server's log; a failing test whose ``server``
#: fixture is one of these gets the log in its report (tests/conftest.py)
SERVER_LOGS: dict[str, Callable[[], str]] = {}
TRACE_LINES = 12  # the last lines of a traceback that go into a failure message


def _exception_text(e) -> str:
    trace = [line.rstrip() for line in getattr(e, "stack_trace", None) or [] if line.strip()]
    text = str(getattr(e, "message", None) or getattr(e, "value", "") or "").strip()
    if trace:
        text += "\n    " + "\n    ".join(trace[-TRACE_LINES:])
    return text


def app_exceptions(at) -> list[str]:
    """The message and traceback tail of every exception an AppTest run shows."""
    return [_exception_text(e) for e in at.exception]


def assert_app_ok(at, context: object = "", errors: bool = False) -> None:
    """No exception on the page (and, with ``errors``, no ``st.error`` either); a failure lists them."""
    problems = app_exceptions(at)
    if errors:
        problems += [f"st.error: {e.value}" for e in at.error]
    where = f" ({context})" if context != "" else ""
    assert not problems, f"the page{where} shows {len(problems)} problem(s):\n" + "\n---\n".join(problems)


def page_exceptions(page) -> list[str]:
    """The visible text (message and traceback) of every Streamlit exception in a browser page."""
    return [t.strip() for t in page.locator(EXCEPTION_SELECTOR).all_inner_texts()]


async def page_exceptions_async(page) -> list[str]:
    """:func:`page_exceptions` for Playwright's async API."""
    return [t.strip() for t in await page.locator(EXCEPTION_SELECTOR).all_inner_texts()]


def assert_page_ok(page, context: object = "") -> None:
    """No Streamlit exception in the browser page; a failure quotes each one and names the URL."""
    texts = page_exceptions(page)
    where = f" ({context})" if context != "" else ""
    assert not texts, (f"{page.url}{where} shows {len(texts)} exception(s):\n"
                       + "\n---\n".join(t[:3000] for t in texts))
