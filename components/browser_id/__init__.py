"""The browser's id: a random token that a session shares with the later sessions of the same browser.

Streamlit starts a new session, with empty session state, on every reload or new tab; what a session
owns (a training run) would be lost with it. :func:`token` is this browser's id: the one its cookie
``COOKIE`` holds (sent with a session's first request, read through ``st.context.cookies``), else a
fresh random one for this session; :func:`keep` writes it into that cookie (a components-v2 component,
``browser_id.js``, that draws nothing), so that a reload or another tab of this browser has the same
id. Another browser (a student's phone) never has it: the server only sends it to the session it
belongs to. Where there is no cookie (AppTest, a browser that refuses them), the id lasts as long as
the session.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
COOKIE = "vae_browser_id"
DAYS = 365  # how long the browser keeps its id
TOKEN_RE = re.compile(r"[0-9a-f]{32}")  # secrets.token_hex(16); used with fullmatch
STATE = "browser_id"  # session state: the id, and whether the cookie already holds it

_component = st.components.v2.component("vae_browser_id", js=(HERE / "browser_id.js").read_text(encoding="utf-8"))


def token() -> str:
    """This browser's id (32 hex digits), made once per session."""
    if STATE not in st.session_state:
        try:
            sent = st.context.cookies.get(COOKIE)
        except Exception:  # no browser context (a bare script run)
            sent = None
        ok = isinstance(sent, str) and bool(TOKEN_RE.fullmatch(sent))  # (AppTest's context is a mock)
        st.session_state[STATE] = {"token": sent if ok else secrets.token_hex(16), "in_cookie": ok}
    return st.session_state[STATE]["token"]


def keep() -> None:
    """Write :func:`token` into the browser's cookie (an invisible element; nothing when the cookie
    already held it when this session began)."""
    tok = token()
    if st.session_state[STATE]["in_cookie"]:
        return
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    _component(key="browser_id", data={"cookie": COOKIE, "token": tok, "path": f"/{base}" if base else "/",
                                       "days": DAYS}, height="content")
