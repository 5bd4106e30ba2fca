"""Your image: upload a picture (or try a sample), see what the model makes of it, where it
lands in latent space, and its nearest neighbours among the explore set."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image, ImageDraw, ImageOps

from components import live_decoder
from pages import _link as link
from pages import _live as live
from pages import _map_like as map_like
from pages import _nav as nav
from pages import _presenter as presenter
from pages._context import Ctx, get_ctx, selected_index
from pages._i18n import N_, _, tr, tr_fig
from pages._link import LinkError, Param, integer, one_of
from pages._widgets import class_legend, elbo_help, fmt_code, uploader_texts
from vae.data.drawings import MAX_TEXT, DrawingError, decode_drawing, encode_drawing
from vae.data.images import (
    DataBackground,
    ImageError,
    PreparedImage,
    invert_lightness,
    prepare_image,
    to_pil,
    upscale,
)
from vae.data.pad import BACKGROUND, INK, PALETTE
from vae.explore.figures import latent_code_bars, latent_map
from vae.explore.latent import ElboEstimate, dims_by_kl
from vae.explore.projection import ProjectionConfig
from vae.explore.sets import default_projection
from vae.model import ELBO_SAMPLES, VAE

SIZE = 196  # display size of the three main images, pixels
K_NEAREST = 8
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
INVERT = {"auto": None, "yes": True, "no": False}
DRAWINGS = {  # shown translated
    "ring": N_("a ring (like a 0)"),
    "bar": N_("a vertical bar (like a 1)"),
    "seven": N_("a seven"),
    "tshirt": N_("a T-shirt"),
    "trousers": N_("trousers"),
}
INVERT_LABELS = {"auto": N_("auto"), "yes": N_("yes"), "no": N_("no")}



def _parse_drawn(text: str, ctx) -> dict:
    """A drawing's text from the link (vae.data.drawings), checked against the model's image size."""
    try:
        decode_drawing(text, tuple(ctx.ck.config.image_shape))
    except DrawingError as e:
        raise LinkError(tr(e.args[0])) from None
    return {"img_drawn": text.strip()}


def _dump_drawn(ctx) -> str | None:
    """The drawing's text while the pad is shown (a text too long for a link stays out of it)."""
    text = st.session_state.get("img_drawn")
    return text if st.session_state.get("img_sample_kind") == "draw" and text and len(text) <= MAX_TEXT else None


PARAMS = link.declare("your_image", [
    one_of("sample", "img_sample_kind", N_("sample"), ["data", "drawing", "draw"]),
    integer("image", "img_sample_index", N_("image index"), 0, lambda ctx: len(ctx.enc) - 1),
    one_of("drawing", "img_drawing", N_("drawing"), list(DRAWINGS)),
    Param("drawn", N_("your drawing"), _parse_drawn, _dump_drawn, N_("The drawing pad starts empty instead."),
          states=("img_drawn",)),
    one_of("invert", "img_invert", N_("inversion"), list(INVERT)),
])


# -- helpers (plain functions, tested directly) --------------------------------------------------
def convert(data: bytes, image_shape: tuple[int, int, int], invert: bool | None,
            background: DataBackground | None = None) -> tuple[PreparedImage | None, str | None]:
    """(prepared image, None), or (None, one sentence saying why the bytes cannot be used).

    ``invert=None``: swap light and dark when the picture's border is unlike the borders of the
    model's training images (``background``), never otherwise."""
    try:
        return prepare_image(data, tuple(image_shape), invert=invert, background=background), None
    except ImageError as e:
        return None, _("Cannot use this upload: {reason}. Choose another file, or remove it to try a sample.").format(
            reason=tr(e.args[0]) if e.args else str(e))
    except Exception as e:  # anything the image decoders throw that prepare_image did not foresee
        return None, _("Cannot use this upload: it could not be read ({error}). "
                       "Save it as a PNG or JPEG and upload it again.").format(error=type(e).__name__)


@torch.inference_mode()  # a shared cached model: no graph, no version counters
def encode_image(model: VAE, x: torch.Tensor) -> dict[str, np.ndarray | float]:
    """One image (C, H, W) -> its posterior (mu, logvar), reconstruction and -ELBO terms (the explore set's
    estimate: an image of the data set gets the figure the Map shows for it)."""
    t = model.per_image_terms(x[None], samples=ELBO_SAMPLES)
    mu = t["mu"][0].numpy()
    recon_img = model.generate(t["mu"])[0]  # (C, H, W): decoded posterior mean
    est = ElboEstimate(float(t["recon"][0]), float(t["kl"][0]), float(t["recon_se"][0]))
    return {
        "mu": mu, "logvar": t["logvar"][0].numpy(), "recon_img": recon_img, "elbo": est,
        "recon": est.recon, "kl": est.kl, "mse": float(t["mse"][0]), "neg_elbo": est.neg_elbo,
    }


def nearest_codes(codes: np.ndarray, z: np.ndarray, k: int = K_NEAREST) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` codes (N, D) nearest to z (D,), nearest first."""
    d = np.linalg.norm(codes - z[None], axis=1)
    idx = np.argsort(d, kind="stable")[: min(k, len(d))]
    return d[idx], idx


def typical_nn_distance(codes: np.ndarray, n: int = 500, seed: int = 0) -> float:
    """Median distance from ``n`` random codes (N, D) to their nearest other code."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(codes), min(n, len(codes)), replace=False)
    a, b = codes[pick].astype(np.float64), codes.astype(np.float64)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2.0 * a @ b.T  # (n, N)
    d2[np.arange(len(pick)), pick] = np.inf  # not itself
    return float(np.median(np.sqrt(np.maximum(d2.min(1), 0.0))))


def png_of(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def sample_from_data(img: torch.Tensor, swap: bool = True) -> bytes:
    """A data-set image (C, H, W) saved as a PNG, light and dark swapped (hues kept) when ``swap``:
    for a model of light shapes on black, the way a scan looks (dark ink on white paper).

    Kept at its own size, so that "auto" inversion gives back the data image exactly."""
    a = img.numpy()
    return png_of(to_pil(invert_lightness(a) if swap else a))


def background_text(bg: DataBackground | None) -> str:
    """One sentence on the training images' background, for the inversion control's help."""
    if bg is None:
        return _("This model's training images are not here to look at, so 'auto' leaves pictures as they are.")
    if bg.kind == "mixed":
        return _("This model's training images have no common background ({pct:.0f}% have a "
                 "dark border), so 'auto' leaves pictures as they are.").format(pct=100 * bg.dark_fraction)
    pct = f"{100 * max(bg.dark_fraction, 1 - bg.dark_fraction):.0f}%"  # the sign in the value: "% o" reads as %o
    if bg.kind == "dark":
        return _("{pct} of this model's training images have a dark border, so 'auto' swaps light and dark "
                 "in pictures whose border is light. Colours keep their hue: only lightness is swapped.").format(pct=pct)
    return _("{pct} of this model's training images have a light border, so 'auto' swaps light and dark "
             "in pictures whose border is dark. Colours keep their hue: only lightness is swapped.").format(pct=pct)


def drawing(shape: str, size: int = 280) -> bytes:
    """A synthetic black-on-white drawing as PNG bytes."""
    im = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(im)
    s, wd = size / 280, int(26 * size / 280)

    def pts(*xy):
        return [(x * s, y * s) for x, y in xy]

    if shape == "ring":
        d.ellipse(pts((80, 40), (200, 240)), outline=0, width=wd)
    elif shape == "bar":
        d.line(pts((150, 40), (130, 240)), fill=0, width=wd)
    elif shape == "seven":
        d.line(pts((70, 50), (210, 50), (120, 240)), fill=0, width=wd, joint="curve")
    elif shape == "tshirt":
        d.polygon(pts((95, 40), (185, 40), (250, 90), (220, 130), (195, 110), (195, 250), (85, 250),
                      (85, 110), (60, 130), (30, 90)), fill=0)
    elif shape == "trousers":
        d.polygon(pts((90, 30), (190, 30), (210, 260), (160, 260), (140, 110), (120, 260), (70, 260)), fill=0)
    else:
        raise ValueError(f"unknown drawing {shape!r}; choose one of {', '.join(DRAWINGS)}")
    return png_of(im)


def preview(im: Image.Image, size: int = SIZE) -> Image.Image:
    """The original picture at about ``size`` pixels: small ones enlarged crisply, big ones reduced."""
    if max(im.size) < size:
        k = max(1, round(size / max(im.size)))
        im = im.resize((im.width * k, im.height * k), Image.Resampling.NEAREST)
    else:
        im = ImageOps.contain(im, (size, size), Image.Resampling.LANCZOS)
    return ImageOps.expand(im, border=1, fill="#bbbbbb" if im.mode == "RGB" else 187)  # white paper shows


def show(img: torch.Tensor | Image.Image, caption: str, size: int = SIZE) -> None:
    """A tensor image upscaled with nearest-neighbour (or a PIL preview), sent as PNG, not JPEG."""
    if not isinstance(img, Image.Image):
        img = Image.fromarray(upscale(img, presenter.px(size)))
    st.image(img, caption=caption, output_format="PNG", width=img.width)  # a long caption must not widen it


def drawn_image(pixels: list, image_shape: tuple[int, int, int]) -> tuple[PreparedImage | None, str | None]:
    """The page's drawing (C*H*W values in [0, 1], already like the data: a grey model's white on black, a
    colour model's colours on white) as the model's input: (prepared image, None), or (None, why it cannot be
    used)."""
    c, h, w = image_shape
    a = np.asarray(pixels, dtype=np.float32) if isinstance(pixels, list) else np.zeros(0, np.float32)
    if a.size != c * h * w or not np.all(np.isfinite(a)):
        return None, _("Cannot use this drawing: it has {n} values for a {w}×{h} model. Clear it and "
                       "draw again.").format(n=a.size, w=w, h=h)
    a = np.clip(a, 0.0, 1.0).reshape(c, h, w)
    # as a scan would look: dark ink on white paper (a colour drawing is on white already)
    original = to_pil(torch.from_numpy(a if c == 3 else 1.0 - a))
    return PreparedImage(torch.from_numpy(a), original, False, [_("drawn in the page")]), None


def drawing_text(value: object, image_shape: tuple[int, int, int]) -> str | None:
    """The pad's drawing (``{"pixels": C*H*W values}``, as the component sends it when the pen lifts) as
    its link text, quantised (vae.data.drawings: a grey model's one plane, a colour model's three); None for
    no drawing or one of another size."""
    pixels = value.get("pixels") if isinstance(value, dict) else None
    c, h, w = image_shape
    a = np.asarray(pixels, dtype=np.float32) if isinstance(pixels, list) else np.zeros(0, np.float32)
    if a.size != c * h * w:
        return None
    a = a.reshape(c, h, w)
    return encode_drawing(a if c == 3 else a.mean(0))


def drawn_pixels(text: str | None, image_shape: tuple[int, int, int]) -> list | None:
    """The drawing a text holds as the model's input values (C*H*W), or None (no text, another model's)."""
    if not text:
        return None
    try:
        return decode_drawing(text, image_shape).ravel().tolist()
    except DrawingError:
        return None


def _drawing_changed(image_shape: tuple[int, int, int]) -> None:
    """The pen lifted (or Clear): the drawing becomes the session's, in the form the link carries."""
    value = st.session_state.get("img_draw_view") or {}
    st.session_state["img_drawn"] = drawing_text(value.get("drawing"), image_shape)


def draw_pad(ctx, method: str, initial: list | None) -> None:
    """The drawing canvas, showing ``initial`` (the session's drawing, C*H*W values) when it opens: the page
    encodes, reconstructs and places the drawing while the pen moves; when the pen lifts, the drawing
    becomes the session's (``img_drawn``)."""
    urls, problem = live.model_urls(ctx.ck)
    if urls is None:
        urls = {"decoder": "", "encoder": ""}  # the pad still draws; the page says why nothing is live
    c, h, w = ctx.ck.config.image_shape
    bundle = ctx.map(ProjectionConfig(method=method))
    tag = f"{ctx.split}-{len(ctx.enc)}"
    live_decoder.mount("draw", {
        **urls, "image": live_decoder.image_spec(ctx.ck, presenter.px(SIZE)), "pen": max(16, round(2.2 * 280 / w)),
        "initial": initial, "paper": BACKGROUND[c], "ink": INK[c],
        "palette": [{"colour": s.colour, "name": _(s.name)} for s in PALETTE] if c == 3 else [],
        "map": live_decoder.map_spec(ctx.ck, bundle.latent_map, tag, f"{tag}-{bundle.cfg.key()}"),
        "minimap": live_decoder.minimap_spec(ctx.ck, ctx.minimap(bundle.cfg), f"{tag}-{bundle.cfg.key()}"),
        "text": {"pad": _("Draw here, light on dark like the data.") if c == 1 else
                 _("Draw here, in the colour you pick, on white like the data."), "clear": _("Clear"),
                 "caption": _("reconstruction, live (in your browser)"),
                 "map_caption": _("where its μ lands on the {map} map (★)").format(map=bundle.label),
                 "off": _("Live reconstruction is off: {reason}. The model runs on the server when you lift the pen.")
                 .replace("{reason}", "{reason}" if problem is None else problem)},
    }, key="img_draw_view", on_drawing_change=functools.partial(_drawing_changed, (c, h, w)))


def map_method(latent_dim: int, default: str) -> str:
    """The projection the Map page uses in this session (if valid for this model), else the default."""
    m = st.session_state.get("map_method")
    valid = (["latent"] if latent_dim == 2 else []) + ["umap", "pca", "tsne"]
    return m if m in valid else default


# -- the page ------------------------------------------------------------------------------------
@nav.page("your_image")
def main() -> None:
    """The page: the picture (uploaded, a sample, or drawn), what the model sees, how likely it finds it,
    its nearest neighbours, its code and its place on the map."""
    ctx = get_ctx()
    link.restore("your_image", ctx)
    c, h, w = ctx.ck.config.image_shape
    st.title(_("Your image"))
    st.caption(
        (_("Upload a picture and see what **{name}** makes of it: it is converted to a {w}×{h} grayscale "
           "image like the {dataset} data, encoded to a latent code, reconstructed, and placed among the "
           "explore set's images.") if c == 1 else
         _("Upload a picture and see what **{name}** makes of it: it is converted to a {w}×{h} colour "
           "image like the {dataset} data, encoded to a latent code, reconstructed, and placed among the "
           "explore set's images.")).format(name=ctx.name, w=w, h=h, dataset=ctx.ck.dataset)
    )
    picture = _the_picture(ctx)
    if picture is None:
        return
    res = encode_image(ctx.model, picture.prep.tensor)
    _what_the_model_sees(ctx, picture, res)
    pct = _how_likely(ctx, res)
    nn = _nearest_neighbours(ctx, res, pct)
    _its_code(ctx, res)
    _its_place_on_the_map(ctx, res, nn)


@dataclass
class Picture:
    """The picture the page shows, as the model's input."""

    prep: PreparedImage
    source: str  # where it came from ("your file x.png", "a drawing of a ring", ...)
    label_note: str  # its true class, for a data-set image ("" otherwise)


def _the_picture(ctx: Ctx) -> Picture | None:
    """An upload, else a sample (a data-set image, a synthetic drawing) or the drawing pad; converted the
    way the training data was. None: nothing to show yet (the pen is down) or the picture cannot be used."""
    c, h, w = ctx.ck.config.image_shape
    u1, u2 = st.columns([2, 1])
    upload = u1.file_uploader(_("Your image (PNG, JPEG, GIF, BMP or WebP)"), type=UPLOAD_TYPES, key="img_upload")
    uploader_texts("img_upload", [t for t in UPLOAD_TYPES if t != "jpeg"])
    background = ctx.ck.data_background(ctx.data.images)
    invert_choice = u2.radio(_("Invert colours"), list(INVERT), key="img_invert", horizontal=True,
                             format_func={k: _(v) for k, v in INVERT_LABELS.items()}.get,
                             help=background_text(background))
    label_note, drawn = "", None
    if upload is not None:
        raw, source = upload.getvalue(), _("your file {name}").format(name=upload.name)
    else:
        # a sample looks like a scan (dark on white paper): swapped for a model of light shapes on black only
        raw, source, label_note, drawn = _sample(ctx, swap=background is not None and background.kind == "dark")
        if raw is None and drawn is None:
            return None
    link.sync("your_image", ctx)
    if raw is None:
        prep, error = drawn_image(drawn.get("pixels") if isinstance(drawn, dict) else None, (c, h, w))
    else:
        prep, error = convert(raw, (c, h, w), INVERT[invert_choice], background)
    if error:
        st.error(error)
        return None
    return Picture(prep, source, label_note)


def _sample(ctx: Ctx, swap: bool) -> tuple[bytes | None, str, str, dict | None]:
    """(PNG bytes, where from, a note on its class, None) of a sample, or (None, "your drawing", "", the
    drawing once the pen has lifted, else None) for the drawing pad."""
    s1, s2 = st.columns([2, 1])
    labels = {"data": _("a data-set image, saved as a PNG (light and dark swapped)") if swap
              else _("a data-set image, saved as a PNG"),
              "drawing": _("a synthetic drawing"), "draw": _("draw your own")}
    kind = s1.radio(_("No file yet? Try a sample"), list(labels), key="img_sample_kind", horizontal=True,
                    format_func=labels.get)
    if kind == "data":
        start = selected_index(ctx) or 0
        if int(st.session_state.get("img_sample_index", 0)) > len(ctx.enc) - 1:  # smaller explore set
            st.session_state["img_sample_index"] = 0
        i_sample = int(s2.number_input(_("Image index"), 0, len(ctx.enc) - 1, start, key="img_sample_index"))
        return (sample_from_data(ctx.data.images[i_sample], swap),
                _("{split}-split image #{i}").format(split=ctx.split_label, i=i_sample),
                " " + _("Its true class: **{cls}**.").format(cls=ctx.class_name(i_sample)), None)
    if kind == "drawing":
        shape = s2.selectbox(_("Drawing"), list(DRAWINGS), format_func={k: _(v) for k, v in DRAWINGS.items()}.get,
                             key="img_drawing")
        return drawing(shape), _("a drawing of {what}").format(what=_(DRAWINGS[shape])), "", None
    shape = tuple(int(v) for v in ctx.ck.config.image_shape)
    drawn = drawn_pixels(st.session_state.get("img_drawn"), shape)
    if drawn is None:
        st.session_state.pop("img_drawn", None)  # another model's drawing: the pad starts empty
    draw_pad(ctx, map_method(ctx.latent_dim, default_projection(ctx.ck).method), drawn)
    class_legend(ctx.class_names, sorted({int(k) for k in np.unique(ctx.enc.labels)}))
    link.sync("your_image", ctx)
    if drawn is None:
        st.caption(_("Draw with the mouse, a finger or a pen: the reconstruction and the spot on the map "
                     "follow every stroke. When you lift the pen, the rest of the page shows the drawing."))
    return None, _("your drawing"), "", {"pixels": drawn} if drawn is not None else None


def _what_the_model_sees(ctx: Ctx, picture: Picture, res: dict) -> None:
    """The original, the model's input, the reconstruction, and how the picture was converted."""
    prep = picture.prep
    c, h, w = ctx.ck.config.image_shape
    st.subheader(_("What the model sees"))
    a, b, r = st.container(key="img_sees").columns(3)  # the tour's focus on an image from outside
    with a:
        show(preview(prep.original), _("original: {source}").format(source=picture.source[:60]))
    with b:
        show(prep.tensor, (_("model input: {w}×{h}, inverted") if prep.inverted
                           else _("model input: {w}×{h}")).format(w=w, h=h))
    with r:
        show(res["recon_img"], _("reconstruction (decoded μ)"))
    st.caption(_("Conversion: {steps}.").format(steps="; ".join(tr(n) for n in prep.notes) if prep.notes
                                                else _("none needed")) + picture.label_note)


def _how_likely(ctx: Ctx, res: dict) -> float:
    """Its −ELBO and parts against the explore set's; returns the share of explore-set images it beats, in %."""
    m = st.columns(4)
    m[0].metric(_("−ELBO (nats)"), f"{res['neg_elbo']:.1f}", help=elbo_help(res["elbo"]))
    m[1].metric(_("Reconstruction"), f"{res['recon']:.1f}", help=_("−log p(x|z), nats"))
    m[2].metric("KL", f"{res['kl']:.1f}", help=_("KL(q(z|x) ‖ N(0, I)), nats"))
    m[3].metric("MSE", f"{res['mse']:.4f}", help=_("mean squared error per pixel of the reconstruction"))
    pct = 100.0 * float((ctx.enc.neg_elbo < res["neg_elbo"]).mean())
    msg = _("Its −ELBO is higher than that of {pct} of the {n:,} {split}-split images "
            "(their median: {median:.1f} nats).").format(pct=f"{pct:.0f}%", n=len(ctx.enc), split=ctx.split_label,
                                                         median=np.median(ctx.enc.neg_elbo))
    if pct >= 99:
        st.warning(msg + " " + _("The model finds it very unusual: it does not look like {dataset} data, "
                                 "so the reconstruction and the neighbours below say little about it.").format(
            dataset=ctx.ck.dataset))
    else:
        st.caption(msg)
    st.caption(_("A typical −ELBO does not make an image typical: likelihood is a weak test for inputs unlike the "
                 "data. VAEs and other likelihood models often score simple, plain images (a drawn outline, a "
                 "blank page) as well as real ones or better (Nalisnick et al., 2019, *Do deep generative "
                 "models know what they don't know?*). The nearest neighbours below say more."))
    return pct


def _nearest_neighbours(ctx: Ctx, res: dict, pct: float) -> np.ndarray:
    """Its nearest codes among the explore set's, and whether even the nearest is far; returns their indices."""
    st.subheader(_("Its {k} nearest neighbours in latent space").format(k=K_NEAREST))
    dist, nn = nearest_codes(ctx.enc.mu, res["mu"])
    cols = st.columns(len(nn))
    for col, d, j in zip(cols, dist, nn, strict=True):
        with col:
            show(ctx.data.images[int(j)], f"{ctx.class_name(int(j))} · d {d:.2f}", size=96)
    names, votes = np.unique(ctx.enc.labels[nn], return_counts=True)
    top = int(names[np.argmax(votes)])
    top_name = ctx.class_names[top] if 0 <= top < len(ctx.class_names) else str(top)
    typical = typical_nn_distance(ctx.enc.mu)
    st.caption(_("d: Euclidean distance between posterior means μ; an explore-set image's nearest neighbour is "
                 "typically {typical:.2f} away. Most common class among these: **{cls}** ({votes} of {n}).").format(
        typical=typical, cls=top_name, votes=votes.max(), n=len(nn)))
    if dist[0] > 2 * typical:
        note = (" " + _("Its −ELBO did not show it: the likelihood test above missed this one.") if pct < 90 else "")
        st.info(_("Even its nearest neighbour is {x:.1f}× farther away than usual: the model "
                  "has seen nothing quite like it.").format(x=dist[0] / typical) + note)
    if st.button(_("Find images like this one on the Map"), key="img_like", icon=":material/travel_explore:",
                 help=_("Open the Map with this image's code μ marked ★ among the explore set's images, its "
                        "nearest ones highlighted and listed beside the map. The link keeps it.")):
        map_like.open_map(res["mu"])
    return nn


def _its_code(ctx: Ctx, res: dict) -> None:
    """Its code, μ ± σ per dimension, and Steer."""
    st.subheader(_("Its latent code"))
    sigma = np.exp(0.5 * res["logvar"])
    st.plotly_chart(tr_fig(latent_code_bars(res["mu"], sigma, dims_by_kl(ctx.kl_per_dim), font=presenter.font(12))),
                    key="img_code_bars",
                    config={"displayModeBar": False})
    st.caption(_("Posterior mean μ ± σ per dimension, most informative dimensions first; the green band "
                 "is ±1 under the prior."))
    st.code(fmt_code(res["mu"]), language=None, wrap_lines=True)
    if st.button(_("Steer this image"), key="img_steer", icon=":material/tune:",
                 help=_("Open Sliders starting from this image's latent code")):
        st.session_state["sliders_start_request"] = {"kind": "code", "code": [float(v) for v in res["mu"]]}
        nav.switch("sliders")


def _its_place_on_the_map(ctx: Ctx, res: dict, nn: np.ndarray) -> None:
    """The map, with the picture placed on it and its nearest neighbours ringed."""
    st.subheader(_("Its place on the map"))
    method = map_method(ctx.latent_dim, default_projection(ctx.ck, len(ctx.enc)).method)
    bundle = ctx.map(ProjectionConfig(method=method))
    xy = bundle.latent_map.to_map(res["mu"][None])[0]
    fig = latent_map(bundle.coords, ctx.enc.labels, ctx.class_names, height=520,
                     axis_titles=("z0", "z1") if method == "latent" else None, font=presenter.font(12))
    # WebGL traces, like the points: SVG ones (go.Scatter) are drawn underneath them
    star = dict(size=24, symbol="star", color="black", line=dict(width=2, color="white"))
    fig.add_trace(go.Scattergl(x=[xy[0]], y=[xy[1]], mode="markers", name=_("your image"), marker=star,
                               hovertemplate=_("your image") + "<extra></extra>"))
    near = bundle.coords[nn]
    ring = dict(size=16, symbol="circle", color="rgba(0,0,0,0)", line=dict(width=2, color="black"))
    fig.add_trace(go.Scattergl(x=near[:, 0], y=near[:, 1], mode="markers", name=_("{n} nearest").format(n=len(nn)),
                               marker=ring, hoverinfo="skip"))
    st.plotly_chart(tr_fig(fig), key="img_map", config={"scrollZoom": True, "displaylogo": False})
    how = {"latent": _("at its code itself (this model's latent space is 2-D)"),
           "pca": _("by the same linear projection as the data")}.get(
        method, _("at the weighted average of the map positions of its {k} nearest codes").format(k=bundle.latent_map.k))
    apart = "" if method == "latent" else " " + _("They can lie apart on the map: 2-D cannot keep every distance.")
    st.caption(_("{map}. The ★ is your image, placed {how}; circles mark its {n} nearest "
                 "neighbours in latent space.").format(map=bundle.label, how=how, n=len(nn)) + apart)
