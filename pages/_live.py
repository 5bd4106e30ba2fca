"""The live decoder's texts in the session's language (components/live_decoder takes them from the page)."""

from __future__ import annotations

import streamlit as st

from components import live_decoder
from pages._i18n import _
from vae.checkpoint import Checkpoint


def model_urls(ck: Checkpoint) -> tuple[dict[str, str] | None, str | None]:
    """The checkpoint's decoder and encoder URLs for the page (exported once per checkpoint, under a
    spinner): (urls, None), or (None, why the page cannot have them)."""
    return live_decoder.model_urls(
        ck, preparing=_("Preparing the model for your browser (once per checkpoint, a few seconds)…"),
        failed=_("the model could not be exported for the browser ({error})"))


def off_line(reason: str, what: str) -> None:
    """The one line a page shows when it cannot even offer live decoding (no exported model)."""
    st.caption(_("Live decoding is off: {reason}. {what}").format(reason=reason, what=what))
