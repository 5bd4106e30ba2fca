"""The classroom's address: in presenter mode, the address students type on their phones and a QR code
of it, drawn here (segno, no network), when the app serves the local network (``make class``).

The frame's sidebar shows it (:func:`panel`); *Show to the class* opens it large for the projector.
"""

from __future__ import annotations

import io

import streamlit as st

from pages import _presenter as presenter
from pages._i18n import _, current_language
from vae.lan import lan_address, serves_the_network, student_url


def qr_png(text: str, scale: int) -> bytes:
    """A QR code of ``text`` as PNG bytes (error correction M, the standard quiet zone of 4 modules)."""
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def address() -> tuple[str | None, str | None]:
    """(what students type, None), or (None, why they cannot reach this app)."""
    if not serves_the_network(st.get_option("server.address")):
        return None, _("Students cannot reach this app: it serves this computer only. Start it with "
                       "`make class` to serve the classroom's network.")
    named = str(st.get_option("browser.serverAddress") or "").strip()
    host = named if named and named not in ("localhost", "127.0.0.1", "0.0.0.0") else lan_address()
    if host is None:
        return None, _("This computer is on no network that students could reach: connect it to the "
                       "classroom's Wi-Fi or network, then reload this page.")
    url = student_url(host, st.get_option("server.port"), current_language(),
                      str(st.get_option("server.baseUrlPath") or ""))
    return url, None


@st.dialog(" ", width="large")
def _show_large(url: str) -> None:
    st.markdown("## " + _("Open on your phone"))
    st.markdown(f"# `{url}`")
    st.image(qr_png(url, 12), width=420, output_format="PNG")
    st.caption(_("Scan the code with the phone's camera, or type the address; the phone must be on the same "
                 "network as this computer."))


def panel() -> None:
    """In presenter mode: the students' address and its QR code (or why there is none)."""
    if not presenter.on():
        return
    url, problem = address()
    with st.container(key="class_address"):
        st.markdown("**" + _("For students") + "**")
        if url is None:
            st.caption(problem)
            return
        st.code(url, language=None, wrap_lines=True)
        st.image(qr_png(url, 6), caption=_("Scan to open the explorer"), width=220, output_format="PNG")
        if st.button(_("Show to the class"), key="class_show", icon=":material/qr_code_2:", width="stretch",
                     help=_("The address and its QR code, large, for the projector")):
            _show_large(url)
