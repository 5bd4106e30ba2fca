"""The Map page's structure (issue #34): density contours under the points and automatic clusters with
labels at their typical members, and the clusters as one more "colour by".

The maths is vae.explore.clusters and vae.explore.density, cached here per explore set and projection
(shared by the sessions, never mutated). Zoomed out, the number of labels is a control (the largest
clusters', as many as asked for); zoomed in, smaller clusters' labels appear: on the canvas map (drawn by
components/big_map) as many as fit, on the Plotly map by components/plotly_labels, which reveals in the page
the labels the figure carries hidden (Plotly has no annotation shown only past a zoom level). The canvas map
gets the Plotly map's contour levels as polylines (vae.explore.contours).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from components import plotly_labels
from pages import _presenter as presenter
from pages._context import Ctx
from pages._i18n import N_, _
from pages._link import LinkError, Param, integer, one_of
from pages._loaders import MapBundle
from vae.explore.clusters import NOISE, ClusterConfig, Clusters, find_clusters, min_zoom
from vae.explore.contours import contours, encode
from vae.explore.density import SHARES, Density, density
from vae.explore.figures import class_color, png_data_uri
from vae.explore.projection import ProjectionConfig

CHOICES = {"none": N_("None"), "contours": N_("Contours"), "clusters": N_("Clusters"), "both": N_("Both")}
SPACES = {"map": N_("map positions"), "latent": N_("latent codes μ")}
LABELS_MIN, LABELS_MAX, LABELS_DEFAULT = 1, 30, 8  # cluster labels on the map: the largest ones
COLOUR = "cluster"  # the "colour by" choice
TYPICAL_PX = 0.09  # a label-free cluster's typical image on the map: this share of the map's width
ZOOM_META = "vaeClusterLabels"  # the figure's layout.meta entry components/plotly_labels reads
PLOT_PX = 280  # a label that would overlap a larger cluster's on a plot this wide is left out (the map beside
# its legend is about 300 px wide on a phone and at 1024×768)


def _structure_param() -> Param:
    p = one_of("structure", "map_structure", N_("structure"), list(CHOICES))
    return dataclasses.replace(p, dump=lambda ctx: None if st.session_state.get("map_structure") in (None, "none")
                               else str(st.session_state["map_structure"]))


def _space_parse(text: str, ctx) -> dict:
    if text not in SPACES:
        raise LinkError(_("it is not one of {values}").format(values=", ".join(SPACES)))
    return {"map_cluster_space": text}


#: The Map page's keys for the structure (pages/map.py declares them with its own).
PARAMS = [
    _structure_param(),
    integer("labels", "map_cluster_labels", N_("number of cluster labels"), LABELS_MIN, LABELS_MAX),
    Param("cluster_on", N_("what is clustered"), _space_parse,
          lambda ctx: None if st.session_state.get("map_cluster_space") in (None, "map")
          else st.session_state["map_cluster_space"], states=("map_cluster_space",)),
]


@dataclass
class Structure:
    """What the structure control asks for."""

    contours: bool
    clusters: bool
    labels: int  # the largest clusters labelled
    space: str  # "map" or "latent"

    @property
    def key(self) -> tuple:
        return self.contours, self.clusters, self.labels, self.space


# -- the computations (cached per explore set and projection) -----------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def _clusters(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig, space: str,
              n: int, labelled: bool, _points, _coords, _labels) -> Clusters:
    # labelled: in the key, so that clusters named by class and those named by number are kept apart
    return find_clusters(_points, _coords, _labels, ClusterConfig(space=space))


@st.cache_resource(max_entries=8, show_spinner=False)
def _density(name: str, content_hash: str, split: str, limit: int | None, cfg: ProjectionConfig, n: int,
             _coords) -> Density:
    return density(_coords)


def has_labels(ctx: Ctx) -> bool:
    """Whether the explore set's images have classes to name a cluster by (a folder of images without
    sub-folders has one)."""
    return len(ctx.class_names) > 1


def clusters(ctx: Ctx, bundle: MapBundle, space: str = "map") -> Clusters:
    """The explore set's clusters on this map (HDBSCAN on the map positions or on μ), cached."""
    points = bundle.coords if space == "map" else ctx.enc.mu
    with st.spinner(_("Finding clusters among {n:,} points (once per map)…").format(n=len(bundle.coords))):
        labelled = has_labels(ctx)
        return _clusters(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, bundle.cfg, space, len(bundle.coords),
                         labelled, points, bundle.coords, ctx.enc.labels if labelled else None)


def map_density(ctx: Ctx, bundle: MapBundle) -> Density:
    return _density(ctx.name, ctx.ck.content_hash, ctx.split, ctx.limit, bundle.cfg, len(bundle.coords),
                    bundle.coords)


def names(ctx: Ctx, found: Clusters) -> list[str]:
    """Each cluster's label: its majority class and that class's share, else its number and size."""
    if has_labels(ctx):
        return [f"{ctx.class_names[c.majority]} {100 * c.share:.0f}%" for c in found.clusters]
    return [_("cluster {k} · {n:,}").format(k=c.id + 1, n=c.size) for c in found.clusters]


def categories(ctx: Ctx, bundle: MapBundle, space: str) -> tuple[np.ndarray, list[str]]:
    """The clusters as categories for "colour by": (N,) each image's cluster (noise last), and their names."""
    found = clusters(ctx, bundle, space)
    k = len(found.clusters)
    codes = np.where(found.labels == NOISE, k, found.labels).astype(np.int64)
    return codes, [f"{i + 1}: {n}" for i, n in enumerate(names(ctx, found))] + [_("no cluster")]


# -- the widgets ----------------------------------------------------------------------------------
def choice(column) -> str:
    """The structure control (none, contours, clusters, both), in ``column`` of the Map's row of controls."""
    if st.session_state.get("map_structure") not in CHOICES:
        st.session_state["map_structure"] = "none"
    return column.selectbox(
        _("Structure"), list(CHOICES), key="map_structure", format_func={k: _(v) for k, v in CHOICES.items()}.get,
        help=_("Contours: lines around the densest regions holding {a}, {b}, {c} and {d} of the images. "
               "Clusters: groups found automatically (HDBSCAN), each labelled at its most typical image by "
               "its most frequent class and that class's share.").format(**_shares()))


def controls(ctx: Ctx, choice: str) -> Structure:
    """With clusters on: how many labels and what is clustered (a row under the controls)."""
    st.session_state.setdefault("map_cluster_labels", LABELS_DEFAULT)  # a link's value, else the default
    if st.session_state.get("map_cluster_space") not in SPACES:
        st.session_state["map_cluster_space"] = "map"
    labels, space = st.session_state["map_cluster_labels"], st.session_state["map_cluster_space"]
    if choice in ("clusters", "both"):
        a, b = st.columns(2)
        labels = a.slider(_("Cluster labels"), LABELS_MIN, LABELS_MAX, key="map_cluster_labels",
                          help=_("Zoomed out, at most this many labels, the largest clusters first; a label that "
                                 "would cover a larger cluster's is left out. Zoom in and smaller clusters' labels "
                                 "appear; with few, the labels stay readable on a phone."))
        space = b.radio(_("Clusters of"), list(SPACES), key="map_cluster_space", horizontal=True,
                        format_func={k: _(v) for k, v in SPACES.items()}.get,  # translated in this run
                        help=_("The map positions: the groups you see. The latent codes μ: groups in the model's "
                               "own space, which the 2-D map may have pulled apart or pushed together."))
    return Structure(choice in ("contours", "both"), choice in ("clusters", "both"), int(labels), space)


def _shares() -> dict[str, str]:
    """The contours' shares as the placeholders a, b, c, d ("20%", ...): no "%" in a message."""
    return dict(zip("abcd", (f"{100 * v:.0f}%" for v in SHARES), strict=True))


def decorate(fig: go.Figure, ctx: Ctx, bundle: MapBundle, s: Structure) -> Clusters | None:
    """Contours under the points and cluster labels over them, on the Plotly map ``fig``."""
    if s.contours:
        d = map_density(ctx, bundle)
        fig.add_trace(go.Contour(
            x=d.x, y=d.y, z=d.enclosed, name=N_("density"), showscale=False, hoverinfo="skip", showlegend=False,
            contours=dict(coloring="lines", start=SHARES[0], end=SHARES[-1], size=SHARES[1] - SHARES[0],
                          showlabels=True, labelfont=dict(size=presenter.font(10), color="#555")),
            line=dict(width=1.6, color="rgba(20,20,20,0.85)"),
        ))
        # the contours under the data: first among the traces (the WebGL points are drawn over them anyway)
        fig.data = (fig.data[-1], *fig.data[:-1])
    if not s.clusters:
        return None
    found = clusters(ctx, bundle, s.space)
    _labels(fig, ctx, bundle, s, found)
    return found


def _labels(fig: go.Figure, ctx: Ctx, bundle: MapBundle, s: Structure, found: Clusters) -> None:
    """The clusters' labels on ``fig``: the home view's (at most ``s.labels``, apart on a narrow plot) shown,
    up to LABELS_MAX in all, the rest at opacity 0 with the zoom from which they may show in layout.meta
    (components/plotly_labels reveals them in the page)."""
    texts = names(ctx, found)
    size = presenter.font(13)
    x0, x1 = fig.layout.xaxis.range or (bundle.coords[:, 0].min(), bundle.coords[:, 0].max())
    y0, y1 = fig.layout.yaxis.range or (bundle.coords[:, 1].min(), bundle.coords[:, 1].max())
    unit = max(x1 - x0, y1 - y0) / PLOT_PX  # data units per pixel on a narrow plot
    home = placed(found, texts, s.labels, size, (x1 - x0, y1 - y0))
    shown = {c.id for c in home}
    zooms = min_zoom([c.size for c in found.clusters], s.labels) if found.clusters else []
    # the home view's labels, then the smaller clusters' (invisible until zoomed in: components/plotly_labels)
    more = [c for c in found.clusters[:max(LABELS_MAX, s.labels)] if c.id not in shown]
    for c in [*home, *more]:
        colour = class_color(c.majority) if c.majority is not None else "#333"
        half = min(_half_width(texts[c.id], size) * unit, (x1 - x0) / 2)
        x = min(max(c.centre[0], x0 + half), x1 - half)  # the whole label inside the map's edges
        fig.add_annotation(x=x, y=c.centre[1], text=f"<b>{texts[c.id]}</b>", showarrow=False,
                           font=dict(size=size, color="#111"), bgcolor="rgba(255,255,255,0.82)",
                           bordercolor=colour, borderwidth=2, borderpad=3, name=f"cluster-{c.id}",
                           opacity=1.0 if c.id in shown else 0.0)
    fig.update_layout(meta={ZOOM_META: {"home": [float(x0), float(x1), float(y0), float(y1)],
                                        "zoom": {f"cluster-{c.id}": 0.0 if c.id in shown else float(zooms[c.id])
                                                 for c in [*home, *more]}}})
    for c in home:
        if c.majority is None:  # no classes: the cluster's typical image beside its label
            side = TYPICAL_PX * (x1 - x0)
            fig.add_layout_image(dict(source=png_data_uri(_png(ctx, c.typical)), xref="x", yref="y",
                                      x=c.centre[0] - side / 2, y=c.centre[1] - 0.02 * (x1 - x0), sizex=side,
                                      sizey=side, sizing="contain", layer="above", opacity=1.0))


def placed(found: Clusters, texts: list[str], k: int, font: int, span: tuple[float, float]) -> list:
    """The ``k`` largest clusters whose labels do not overlap a larger one's on a plot PLOT_PX wide (the
    axes keep one scale, so a unit is max(span) / PLOT_PX pixels at most)."""
    unit = max(span) / PLOT_PX  # data units per pixel
    boxes, out = [], []
    for c in found.clusters:
        if len(out) >= k:
            break
        w, h = _half_width(texts[c.id], font) * unit, (1.4 * font + 10) * unit / 2
        box = (c.centre[0] - w, c.centre[0] + w, c.centre[1] - h, c.centre[1] + h)
        if any(box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in boxes):
            continue
        boxes.append(box)
        out.append(c)
    return out


def _half_width(text: str, font: int) -> float:
    """Half a label's width in pixels, bold text of ``font`` pixels in its box (a CJK character counts double)."""
    chars = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return (0.62 * font * chars + 14) / 2


def _png(ctx: Ctx, i: int) -> bytes:
    import io

    from vae.data.images import to_pil

    buf = io.BytesIO()
    to_pil(ctx.data.images[i], scale=2).save(buf, format="PNG")
    return buf.getvalue()


def caption(ctx: Ctx, s: Structure, found: Clusters | None, plotly: bool = True) -> None:
    """One line under the map: what the structure shows; on the Plotly map (``plotly``), its labels follow
    the zoom from here on (components/plotly_labels)."""
    if found is not None and plotly:
        plotly_labels.mount(ZOOM_META, key="map_cluster_zoom")
    parts = []
    if s.contours:
        parts.append(_("Contours enclose the densest {a}, {b}, {c} and {d} of the images.").format(**_shares()))
    if found is not None:
        shown = min(s.labels, len(found.clusters))
        labelled = (_("{k} clusters (HDBSCAN on the {space}), {noise:,} images in none; up to {shown} of the largest "
                      "labelled by their most frequent class and its share (a label that would cover a larger "
                      "cluster's is left out).") if has_labels(ctx) else
                    _("{k} clusters (HDBSCAN on the {space}), {noise:,} images in none; up to {shown} of the largest "
                      "labelled by number and size, with their most typical image (a label that would cover a "
                      "larger cluster's is left out)."))
        parts.append(labelled.format(k=len(found.clusters), space=_(SPACES[s.space]), noise=found.noise, shown=shown))
        if not found.exact:
            parts.append(_("Found on a sample of {m:,} images; every other image joins the cluster of its "
                           "nearest sampled image.").format(m=found.fitted))
    if found is not None:
        parts.append(_("The labels follow the zoom: zoomed out, the largest clusters' labels that fit; zoom in "
                       "and smaller clusters' labels appear."))
    if parts:
        st.caption(" ".join(parts))


def canvas_labels(ctx: Ctx, bundle: MapBundle, s: Structure) -> list[dict] | None:
    """The canvas map's cluster labels, largest first, up to LABELS_MAX, each with the zoom from which it may
    show ("least": min_zoom, 1 for the ``s.labels`` largest): it draws as many as fit at its zoom (None: none)."""
    if not s.clusters:
        return None
    found = clusters(ctx, bundle, s.space)
    texts = names(ctx, found)
    least = min_zoom([c.size for c in found.clusters], s.labels) if found.clusters else []
    return [{"x": c.centre[0], "y": c.centre[1], "text": texts[c.id], "least": round(float(least[c.id]), 4),
             "colour": class_color(c.majority) if c.majority is not None else "#333"}
            for c in found.largest(max(LABELS_MAX, s.labels))]


def canvas_contours(ctx: Ctx, bundle: MapBundle, s: Structure) -> dict | None:
    """The canvas map's density contours: the Plotly map's levels as polylines (vae.explore.contours.encode;
    None: none asked for)."""
    if not s.contours:
        return None
    d = map_density(ctx, bundle)
    return encode(contours(d), d)


def listed(ctx: Ctx, bundle: MapBundle, s: Structure) -> None:
    """Under the canvas map: what its structure shows."""
    found = clusters(ctx, bundle, s.space) if s.clusters else None
    caption(ctx, s, found, plotly=False)
