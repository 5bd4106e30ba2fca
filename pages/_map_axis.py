"""The Map along a direction (issue #35): the explore set drawn with one direction as its x axis, as Latent
Space Cartography draws an attribute vector; y is the widest spread left (vae.explore.projection.axis_map).

A direction arrives by the link (``?axis=pca:0``, ``sefa:1``, ``class:7:9``, ``latent:3``: the keys of the
Directions page, which opens it here). The map is linear both ways, so clicking empty space and the hover
preview decode exactly the code under the mouse; a button goes back to the map chosen above.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from pages._context import Ctx
from pages._directions import linked_key, resolve
from pages._i18n import N_, _
from pages._link import Param
from pages._loaders import MapBundle
from vae.explore.direction_sets import DirectionKey
from vae.explore.directions import Direction
from vae.explore.projection import LatentMap, ProjectionConfig, axis_map

KEY = "map_axis"  # session state: the direction's key, as the link writes it


def _parse(text: str, ctx: Ctx) -> dict:
    return {KEY: linked_key(text, ctx, _("it is not a direction such as pca:0, sefa:1, latent:3 or class:7:9"))}


PARAM = Param("axis", N_("direction axis"), _parse, lambda ctx: st.session_state.get(KEY) or None,
              N_("The map is drawn by the projection chosen on the page instead."), states=(KEY,))


@dataclasses.dataclass(frozen=True)
class AxisConfig(ProjectionConfig):
    """The map's settings when drawn along a direction: its own key (caches, chart names, static files)."""

    axis: str = ""  # the direction's key, e.g. "class:7:9"

    def key(self) -> str:
        return "axis-" + self.axis.replace(":", "_")


@dataclasses.dataclass
class AxisBundle(MapBundle):
    """A map along a direction; its label names the direction."""

    title: str = ""
    x_title: str = ""

    @property
    def label(self) -> str:
        return self.title


def direction_title(ctx: Ctx, d: Direction) -> str:
    """"Sneaker → Ankle boot" for a class direction, else the direction's own label ("PC1", "SeFa 2", "z3")."""
    if d.kind == "class":
        a, b = d.index
        return _("{a} → {b}").format(a=_(ctx.class_names[a]), b=_(ctx.class_names[b]))
    return d.label


def apply(ctx: Ctx, base: MapBundle) -> MapBundle:
    """``base``, or the explore set along the link's direction when one is chosen (and this model has it)."""
    text = st.session_state.get(KEY)
    if not text:
        return base
    try:
        found = resolve(ctx, DirectionKey.parse(text))
    except ValueError:
        found = None
    if not isinstance(found, Direction):
        st.session_state[KEY] = None  # another model's direction: the chosen map again
        return base
    am = _axis(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, text, found.vector)
    coords = am.transform(ctx.enc.mu).astype(np.float32)
    title = _("along {direction}").format(direction=direction_title(ctx, found))
    return AxisBundle(AxisConfig(method=base.cfg.method, axis=text), coords, LatentMap(ctx.enc.mu, coords, linear=am),
                      None, title, title)


@st.cache_resource(show_spinner=False, max_entries=16)
def _axis(name: str, content_hash: str, split: str, limit: int | None, key: str, _vector: np.ndarray):
    from pages._loaders import load_encoding

    return axis_map(load_encoding(name, content_hash, split, limit, "cpu").mu, _vector)


def titles(bundle: MapBundle) -> tuple[str, str] | None:
    """The axes' titles of a map along a direction, else None."""
    return (bundle.x_title, _("widest spread left")) if isinstance(bundle, AxisBundle) else None


def notice(bundle: MapBundle, method_label: str) -> None:
    """Under the controls: which direction the map is drawn along, and the way back."""
    if not isinstance(bundle, AxisBundle):
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.info(_("The map is drawn **{along}**: x is each image's coordinate along the direction, y the widest "
                "spread left once that is taken out. Clicks and the hover preview decode the exact code there.")
              .format(along=bundle.title), icon=":material/arrow_right_alt:")
    if right.button(_("Back to the {map} map").format(map=method_label), key="map_axis_off", width="stretch"):
        st.session_state[KEY] = None
        st.rerun()
