"""The Map's selection, sent to the notebook that opened this page (``vae.explore``).

Only where the server was started by ``vae.explore`` (it names an exchange folder) and the link
carried a notebook session's token (``?nb=``, restored by pages/_link.py into ``TOKEN``): then the
page rewrites that session's file whenever what its panel shows changes. The file's form and the
rules of who may write it are vae/notebook/exchange.py's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from vae.notebook import exchange

if TYPE_CHECKING:
    from pages._canvas_map import Picked

TOKEN = "nb_token"  # session key: this browser session's notebook token
_SENT = "_nb_sent"  # session key: the fingerprint of the selection last written


def publish(ctx, picked: Picked, chosen: int | None) -> None:
    """Hand the notebook what the Map's panel shows now: a box's or lasso's images, a clicked image, or
    the image chosen earlier (nothing for a decoded spot or a prior sample)."""
    token, folder = st.session_state.get(TOKEN), exchange.exchange_folder()
    if not token or folder is None:
        return
    other = picked.spot is not None or bool(picked.prior_idx)
    indices, point = exchange.shown_selection(picked.data_idx, picked.many, other, chosen)
    sent = exchange.digest(ctx.name, ctx.split, indices, point)
    if st.session_state.get(_SENT) == (token, sent):
        return
    if exchange.publish(folder, token, ctx.name, ctx.split, indices, point):
        st.session_state[_SENT] = (token, sent)
