"""Plotly figures, built by plain functions (no Streamlit): the app only displays them.

Points of the map carry ``customdata`` = [kind, index], where kind is 0 for a data
point, 1 for an empty-spot grid point and 2 for a prior sample, so a selection
event can tell them apart.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..i18n import N_

KIND_DATA, KIND_GRID, KIND_PRIOR = 0, 1, 2

#: Ten distinguishable colours (Plotly's "D3" / Tableau-10), one per class.
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
COLOR_BY = {
    "class": N_("class"),
    "recon": N_("reconstruction error (−log p(x|z), nats)"),
    "kl": N_("KL(q(z|x) ‖ p(z)), nats"),
    "sigma": N_("mean posterior σ"),
}
#: The colour bar's short title, where it differs from COLOR_BY's.
COLORBAR_TITLES = {"recon": N_("reconstruction error")}


def _custom(columns: list) -> list:
    """customdata rows [kind, index] as plain lists (numpy arrays would travel as typed arrays,
    which reach the selection event as {"0": .., "1": ..} objects)."""
    return np.stack(columns, 1).astype(int).tolist()


def point_ref(point: dict) -> tuple[int, int] | None:
    """(kind, index) from a point of a Plotly selection event (its ``customdata``), None without one.
    plotly.js hands NumPy-backed customdata over as a typed array, which reaches Python as
    {"0": kind, "1": index}, not as a list."""
    cd = point.get("customdata") if isinstance(point, dict) else None
    if isinstance(cd, dict):
        cd = [cd.get("0"), cd.get("1")]
    if not isinstance(cd, (list, tuple)) or len(cd) < 2 or cd[0] is None or cd[1] is None:
        return None
    return int(cd[0]), int(cd[1])


def class_color(i: int) -> str:
    return CLASS_COLORS[i % len(CLASS_COLORS)]


def _layout(fig: go.Figure, height: int, title: str | None = None, equal: bool = True,
            font: int | None = None) -> go.Figure:
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title) if title else None, dragmode="select", hovermode="closest",
        legend=dict(itemsizing="constant", title=None), plot_bgcolor="white",
    )
    if font:
        fig.update_layout(font=dict(size=font), legend=dict(font=dict(size=font)))
    fig.update_xaxes(showgrid=False, zeroline=False, showticklabels=False)
    fig.update_yaxes(showgrid=False, zeroline=False, showticklabels=False)
    if equal:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def padded_bounds(coords: np.ndarray, pad: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = coords.min(0), coords.max(0)
    span = np.maximum(hi - lo, 1e-6)
    return lo - pad * span, hi + pad * span


def spot_grid(coords: np.ndarray, n: int = 70) -> np.ndarray:
    """A regular n x n grid of spots covering the map (and a margin): (n*n, 2)."""
    lo, hi = padded_bounds(coords)
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def latent_map(
    coords: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    color_by: str = "class",
    values: np.ndarray | None = None,
    grid: np.ndarray | None = None,
    prior: np.ndarray | None = None,
    highlight: Sequence[int] = (),
    path: np.ndarray | None = None,
    background: tuple[bytes, tuple[float, float, float, float]] | None = None,
    height: int = 640,
    marker_size: int = 4,
    axis_titles: tuple[str, str] | None = None,
    selected: int | None = None,
    points: bool = True,
    font: int | None = None,
    found: Sequence[int] | None = None,
) -> go.Figure:
    """The map: every data point as WebGL markers.

    coords (N, 2); labels (N,); ``color_by`` "class" draws one trace per class (the
    legend toggles them), anything else colours by ``values`` (N,) with a colour bar.
    ``grid`` (G, 2): invisible, selectable spots for clicking empty space. ``prior``
    (P, 2): prior samples placed on the map. ``highlight``: indices drawn large.
    ``path`` (S, 2): a polyline (interpolations, slider trails). ``background``:
    (png bytes, (x0, y0, x1, y1)) image laid under the points (shown stronger when
    ``points`` is False: the data traces are then hidden, their legend entries kept). ``found``:
    indices drawn in their colours over the other points, which fade (a search's matches).

    Selection is drawn by plotly.js itself, in the browser, the moment a point is clicked or a
    box or lasso drawn: selected points grow, the others fade (empty-space spots stay invisible).
    ``selected`` (an index) starts the figure with that point selected, for a point
    chosen elsewhere (a link, another page). The figure stays the same object while the user
    selects, so the chart keeps its tool and its selection across the reruns a selection causes.
    """
    fig = go.Figure()
    pick = None if selected is None or not 0 <= int(selected) < len(coords) else int(selected)
    chosen = {} if pick is None else {"selectedpoints": []}  # every trace: nothing else selected
    if grid is not None and len(grid):
        fig.add_trace(go.Scattergl(
            x=grid[:, 0], y=grid[:, 1], mode="markers", name=N_("empty space"),
            marker=dict(size=9, color="rgba(0,0,0,0)", opacity=0.0),
            customdata=_custom([np.full(len(grid), KIND_GRID), np.arange(len(grid))]),
            hovertemplate=N_("decode this spot<extra></extra>"), showlegend=False, _validate=False, **chosen,
        ))
    big = max(2 * marker_size + 3, 10)
    style = dict(selected=dict(marker=dict(size=big, opacity=1.0)), unselected=dict(marker=dict(opacity=0.3)),
                 visible=True if points else "legendonly")
    if color_by == "class" or values is None:
        _add_class_traces(fig, coords, labels, class_names, marker_size, style, pick, chosen)
    else:
        _add_value_trace(fig, coords, labels, class_names, color_by, values, marker_size, style, pick)
    if found is not None:
        _add_found(fig, coords, labels, found, marker_size)
    _add_overlays(fig, coords, prior, path, highlight, chosen)
    if background is not None:
        png, (x0, y0, x1, y1) = background
        fig.add_layout_image(dict(
            source=png_data_uri(png), xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
            sizing="stretch", opacity=0.6 if points else 1.0, layer="below",
        ))
    fig = _layout(fig, height, font=font)
    lo, hi = padded_bounds(coords)
    fig.update_xaxes(range=[lo[0], hi[0]])
    fig.update_yaxes(range=[lo[1], hi[1]])
    if axis_titles:
        fig.update_xaxes(title=axis_titles[0], showticklabels=True)
        fig.update_yaxes(title=axis_titles[1], showticklabels=True)
    return fig


# The traces with one entry per point skip Plotly's property validation (_validate=False): it walks
# every customdata row in Python, a large share of the first map's time on the server
# (docs/measurements.md). Their properties are fixed here and checked by the tests that render the map.
def _add_class_traces(fig: go.Figure, coords: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                      marker_size: int, style: dict, pick: int | None, chosen: dict) -> None:
    """One trace of data points per class (the legend toggles them); ``pick`` starts selected."""
    idx_all = np.arange(len(coords))
    for c, name in enumerate(class_names):
        sel = labels == c
        if not sel.any():
            continue
        here = {"selectedpoints": [int(np.searchsorted(idx_all[sel], pick))]} \
            if pick is not None and labels[pick] == c else chosen
        fig.add_trace(go.Scattergl(
            x=coords[sel, 0], y=coords[sel, 1], mode="markers", name=str(name),
            marker=dict(size=marker_size, color=class_color(c), opacity=0.75),
            customdata=_custom([np.full(int(sel.sum()), KIND_DATA), idx_all[sel]]),
            hovertemplate=f"<b>{name}</b> #%{{customdata[1]}}<extra></extra>", _validate=False,
            **style, **here,
        ))


def _add_value_trace(fig: go.Figure, coords: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                     color_by: str, values: np.ndarray, marker_size: int, style: dict, pick: int | None) -> None:
    """All data points in one trace, coloured by ``values`` (N,) with a colour bar titled by ``color_by``."""
    title = COLOR_BY.get(color_by, color_by)
    names = np.asarray(class_names, dtype=object)[labels] if len(class_names) else labels
    fig.add_trace(go.Scattergl(
        x=coords[:, 0], y=coords[:, 1], mode="markers", name=title, showlegend=False,
        marker=dict(size=marker_size, color=values, colorscale="Viridis", opacity=0.8,
                    colorbar=dict(title=dict(text=COLORBAR_TITLES.get(color_by, title), side="right"), thickness=12)),
        customdata=_custom([np.full(len(coords), KIND_DATA), np.arange(len(coords))]),
        text=names,
        hovertemplate="<b>%{text}</b> #%{customdata[1]}<br>%{marker.color:.3g}<extra></extra>",
        _validate=False, **style, **({"selectedpoints": [pick]} if pick is not None else {}),
    ))


def _add_found(fig: go.Figure, coords: np.ndarray, labels: np.ndarray, found: Sequence[int], marker_size: int) -> None:
    """Fade the data traces drawn so far and draw the ``found`` points over them, in their class colours."""
    for trace in fig.data:
        if trace.customdata is not None and len(trace.customdata) and trace.customdata[0][0] == KIND_DATA:
            trace.marker.opacity = 0.12
    idx = np.asarray(found, dtype=np.int64)
    idx = idx[(idx >= 0) & (idx < len(coords))]
    fig.add_trace(go.Scattergl(
        x=coords[idx, 0], y=coords[idx, 1], mode="markers", name=N_("search matches"), showlegend=False,
        marker=dict(size=marker_size + 2, color=[class_color(int(c)) for c in labels[idx]], opacity=0.95,
                    line=dict(width=0.5, color="black")),
        hoverinfo="skip", _validate=False,
    ))


def _add_overlays(fig: go.Figure, coords: np.ndarray, prior: np.ndarray | None, path: np.ndarray | None,
                  highlight: Sequence[int], chosen: dict) -> None:
    """Prior samples, a path and the highlighted points, over the data."""
    if prior is not None and len(prior):
        fig.add_trace(go.Scattergl(
            x=prior[:, 0], y=prior[:, 1], mode="markers", name=N_("prior samples z ~ N(0, I)"),
            marker=dict(size=7, color="black", symbol="x-thin", line=dict(width=1.5, color="black")),
            selected=dict(marker=dict(size=16)),
            customdata=_custom([np.full(len(prior), KIND_PRIOR), np.arange(len(prior))]),
            hovertemplate=N_("prior sample %{customdata[1]}<extra></extra>"), **chosen,
        ))
    # overlays are WebGL too: SVG traces are drawn beneath the WebGL layer and would be hidden
    if path is not None and len(path):
        fig.add_trace(go.Scattergl(
            x=path[:, 0], y=path[:, 1], mode="lines+markers", name=N_("path"),
            line=dict(color="black", width=2), marker=dict(size=6, color="black"),
            hoverinfo="skip",
        ))
    hl = [int(i) for i in highlight if 0 <= int(i) < len(coords)]
    if hl:
        fig.add_trace(go.Scattergl(
            x=coords[hl, 0], y=coords[hl, 1], mode="markers", name=N_("selected"),
            marker=dict(size=18, symbol="circle-open", color="black", line=dict(width=3, color="black")),
            hoverinfo="skip", showlegend=False,
        ))


#: Unselected data points while a selection is shown (:func:`select_points`): grey, still visible.
UNSELECTED_GREY = "#c4c4c4"


def select_points(fig: go.Figure, indices: Sequence[int] | None, grey: bool = True) -> go.Figure:
    """Start a :func:`latent_map` figure with the data points ``indices`` selected, as plotly.js draws a
    selection made in the browser (selected points large, the others faded); None leaves the selection to
    the browser. With ``grey``, unselected points turn grey too (also those of a selection made in the
    browser). In place; returns the figure."""
    chosen = None if indices is None else np.asarray(indices, dtype=np.int64)
    for trace in fig.data:
        cd = trace.customdata
        if cd is None or not len(cd) or cd[0][0] != KIND_DATA:
            continue
        if grey:
            trace.unselected = dict(marker=dict(opacity=0.35, color=UNSELECTED_GREY))
        if chosen is not None:
            idx = np.fromiter((row[1] for row in cd), dtype=np.int64, count=len(cd))
            trace.selectedpoints = np.flatnonzero(np.isin(idx, chosen)).tolist()
    return fig


def mini_map(coords: np.ndarray, labels: np.ndarray, current: np.ndarray,
             trail: np.ndarray | None = None, start: np.ndarray | None = None,
             max_points: int = 3000, height: int = 300, class_names: Sequence[str] | None = None,
             font: int | None = None) -> go.Figure:
    """A small, light map: a subsample of the data, the current code and its trail; with
    ``class_names``, a legend of the classes' colours beside it."""
    rng = np.random.default_rng(0)
    sub = rng.choice(len(coords), min(max_points, len(coords)), replace=False)
    fig = go.Figure(go.Scattergl(
        x=coords[sub, 0], y=coords[sub, 1], mode="markers", hoverinfo="skip", showlegend=False,
        marker=dict(size=3, color=[class_color(int(c)) for c in labels[sub]], opacity=0.35),
    ))
    for c in sorted({int(c) for c in labels[sub]}) if class_names is not None else []:
        name = class_names[c] if 0 <= c < len(class_names) else str(c)  # legend entries only: no points
        fig.add_trace(go.Scattergl(x=[None], y=[None], mode="markers", name=str(name), hoverinfo="skip",
                                   marker=dict(size=8, color=class_color(c))))
    if trail is not None and len(trail) > 1:
        fig.add_trace(go.Scattergl(x=trail[:, 0], y=trail[:, 1], mode="lines+markers", name=N_("trail"),
                                 line=dict(color="black", width=1.5), marker=dict(size=4, color="black"),
                                 hoverinfo="skip", showlegend=False))
    if start is not None:
        fig.add_trace(go.Scattergl(x=[start[0]], y=[start[1]], mode="markers", name=N_("start"),
                                 marker=dict(size=11, symbol="circle-open", color="black", line=dict(width=2)),
                                 hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scattergl(x=[current[0]], y=[current[1]], mode="markers", name=N_("current"),
                             marker=dict(size=16, symbol="star", color="#d62728", line=dict(width=1, color="black")),
                             hoverinfo="skip", showlegend=False))
    fig = _layout(fig, height, font=font)
    lo, hi = padded_bounds(coords)
    fig.update_xaxes(range=[lo[0], hi[0]])
    fig.update_yaxes(range=[lo[1], hi[1]])
    fig.update_layout(dragmode=False, legend=dict(itemclick=False, itemdoubleclick=False))
    return fig


def codes_map(codes: np.ndarray, labels: np.ndarray, class_names: Sequence[str], height: int = 300,
              font: int | None = None) -> go.Figure:
    """A small scatter of codes (M, 2) coloured by class, with a legend: the Train page's live map."""
    fig = go.Figure()
    for c in sorted({int(v) for v in labels}):
        sel = labels == c
        name = class_names[c] if 0 <= c < len(class_names) else str(c)
        fig.add_trace(go.Scattergl(x=codes[sel, 0], y=codes[sel, 1], mode="markers", name=str(name),
                                   marker=dict(size=5, color=class_color(c), opacity=0.8), hoverinfo="skip"))
    fig = _layout(fig, height, font=font)
    fig.update_xaxes(showticklabels=True, zeroline=True, zerolinecolor="#ddd")
    fig.update_yaxes(showticklabels=True, zeroline=True, zerolinecolor="#ddd")
    fig.update_layout(dragmode=False, legend=dict(itemclick=False, itemdoubleclick=False))
    return fig


def kl_bars(kl_per_dim: Sequence[float], active: Sequence[bool] | None = None,
            height: int = 300, title: str | None = None, font: int | None = None) -> go.Figure:
    """KL per latent dimension, sorted high to low; inactive (collapsed) dims in grey."""
    kl = np.asarray(kl_per_dim, dtype=float)
    order = np.argsort(-kl, kind="stable")
    act = np.ones(len(kl), bool) if active is None else np.asarray(active, bool)
    colors = ["#1f77b4" if act[i] else "#bbbbbb" for i in order]
    fig = go.Figure(go.Bar(
        x=[f"z{i}" for i in order], y=kl[order], marker_color=colors,
        hovertemplate="%{x}: %{y:.2f} nats<extra></extra>",
    ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      title=title, yaxis_title=N_("KL (nats)"), plot_bgcolor="white", bargap=0.15)
    if font:
        fig.update_layout(font=dict(size=font))
    fig.update_yaxes(gridcolor="#eee")
    return fig


def loss_curves(history: Sequence[dict], height: int = 320) -> go.Figure:
    """Per-epoch train loss and test -ELBO (and its KL part) from a checkpoint's history."""
    fig = go.Figure()
    if history:
        ep = [h["epoch"] for h in history]
        for key, name, dash in (("train_loss", N_("train loss (β-weighted)"), "dot"),
                                ("test_neg_elbo", N_("test −ELBO"), "solid"),
                                ("test_recon", N_("test reconstruction"), "dash")):
            if key in history[0]:
                fig.add_trace(go.Scatter(x=ep, y=[h[key] for h in history], name=name,
                                         mode="lines+markers", line=dict(dash=dash)))
        if "test_kl" in history[0]:
            fig.add_trace(go.Scatter(x=ep, y=[h["test_kl"] for h in history], name=N_("test KL"),
                                     mode="lines+markers", yaxis="y2"))
            fig.update_layout(yaxis2=dict(title=N_("KL (nats)"), overlaying="y", side="right", showgrid=False))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=N_("epoch"),
                      yaxis_title=N_("nats / image"), plot_bgcolor="white",
                      legend=dict(orientation="h", y=1.12))
    fig.update_yaxes(gridcolor="#eee")
    return fig


def batch_loss_curve(steps: Sequence[float], losses: Sequence[float], height: int = 280) -> go.Figure:
    """Live training loss per batch."""
    fig = go.Figure(go.Scatter(x=list(steps), y=list(losses), mode="lines", name=N_("loss")))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=N_("epoch"),
                      yaxis_title=N_("loss (nats / image)"), plot_bgcolor="white")
    fig.update_yaxes(gridcolor="#eee")
    return fig


def histogram_compare(a: np.ndarray, b: np.ndarray, names: tuple[str, str], title: str,
                      height: int = 260) -> go.Figure:
    """Two overlaid histograms (e.g. a latent dimension under the prior and the data)."""
    return histograms([a, b], names, title, height)


def histograms(values: Sequence[np.ndarray], names: Sequence[str], title: str, height: int = 260,
               x_title: str | None = None, nbins: int = 50) -> go.Figure:
    """Overlaid density histograms of several samples, on shared bins."""
    lo = min(float(np.min(v)) for v in values if len(v))
    hi = max(float(np.max(v)) for v in values if len(v))
    size = (hi - lo) / nbins if hi > lo else 1.0
    fig = go.Figure()
    for v, n in zip(values, names, strict=True):
        fig.add_trace(go.Histogram(x=v, name=n, opacity=0.55, histnorm="probability density",
                                   xbins=dict(start=lo, end=hi + size, size=size)))
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=50, r=10, t=50, b=10),
                      title=dict(text=title, y=0.98, yanchor="top"), plot_bgcolor="white",
                      legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1.0, xanchor="right"),
                      xaxis_title=x_title, yaxis_title=N_("density"))
    return fig


def grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], title: str | None = None,
                 height: int = 300, y_title: str | None = None) -> go.Figure:
    """One bar per category and series, side by side (e.g. predicted classes of several models)."""
    fig = go.Figure([go.Bar(x=list(categories), y=list(v), name=n) for n, v in series.items()])
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      title=title, plot_bgcolor="white", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.15, yanchor="top"))
    fig.update_yaxes(gridcolor="#eee")
    return fig


def lines(x: Sequence[float], series: dict[str, Sequence[float]], x_title: str, y_title: str,
          height: int = 260, title: str | None = None) -> go.Figure:
    """A few lines over the same x (losses over steps, distances along a path)."""
    fig = go.Figure([go.Scatter(x=list(x), y=list(v), name=n, mode="lines+markers") for n, v in series.items()])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=title,
                      xaxis_title=x_title, yaxis_title=y_title, plot_bgcolor="white",
                      legend=dict(orientation="h", y=1.15))
    fig.update_yaxes(gridcolor="#eee")
    return fig


def image_to_png_bytes(img) -> bytes:
    """A PIL image -> PNG bytes (for backgrounds and downloads)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def latent_code_bars(mu: np.ndarray, sigma: np.ndarray | None = None, order: Sequence[int] | None = None,
                     height: int = 220, prior_band: bool = True, font: int | None = None) -> go.Figure:
    """A latent code as bars (posterior means, ±σ error bars), dimensions in ``order``."""
    mu = np.asarray(mu, dtype=float)
    order = list(order) if order is not None else list(range(len(mu)))
    fig = go.Figure(go.Bar(
        x=[f"z{i}" for i in order], y=mu[order], marker_color="#1f77b4",
        error_y=dict(type="data", array=np.asarray(sigma, float)[order], visible=True, color="#888")
        if sigma is not None else None,
        hovertemplate="%{x} = %{y:.2f}<extra></extra>",
    ))
    if prior_band:
        fig.add_hrect(y0=-1, y1=1, fillcolor="#2ca02c", opacity=0.08, line_width=0)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      yaxis_title=N_("value"), showlegend=False)
    if font:
        fig.update_layout(font=dict(size=font))
    fig.update_yaxes(gridcolor="#eee", zeroline=True, zerolinecolor="#999")
    return fig


def decoded_grid_background(model_generate, lo: np.ndarray, hi: np.ndarray, n: int = 20) -> tuple[bytes, tuple]:
    """For a 2-D latent space: decode an n x n grid spanning [lo, hi] as one background PNG.

    ``model_generate`` maps codes (M, 2) (NumPy) to images (M, C, H, W). Returns
    (png bytes, (x0, y0, x1, y1)) for :func:`latent_map`'s ``background``.
    """
    from ..data.images import image_grid

    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(hi[1], lo[1], n)  # top row = largest y
    z = np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    imgs = model_generate(z)
    png = image_to_png_bytes(image_grid(imgs, ncol=n, pad=0))
    dx, dy = (hi[0] - lo[0]) / (n - 1), (hi[1] - lo[1]) / (n - 1)
    return png, (lo[0] - dx / 2, lo[1] - dy / 2, hi[0] + dx / 2, hi[1] + dy / 2)
