"""Live decoding in the browser: the loaded checkpoint's decoder (and encoder) run in the page.

A Streamlit custom component (``st.components.v2``) whose JavaScript lives in the ``.js`` files
beside this one; it runs the model with onnxruntime-web (wasm backend, one thread), decodes on
every input event (at most one run in flight, at most one frame drawn per animation frame), and
draws with the same nearest-neighbour scaling as the server's images. Its modes:

- ``sliders``: the Sliders page's own ``st.slider`` widgets decode live while they are dragged
  (mouse, touch or keyboard); Python still hears a value only when the drag ends;
- ``hover``: the Map page's spot under the mouse, decoded in a preview beside the map;
- ``scrub``: Interpolate's scrub slider along the path from A to B;
- ``draw``: Your image's drawing canvas (encoder, decoder and map placement in the page);
- ``warm``: nothing on screen: the runtime started and the decoder loaded ahead of the page's own mount
  (a session's first run mounts it before torch is imported: :func:`mount_warm`).

Progressive enhancement: each page still draws its server-side view (the decoded image, the mini
map) in ``st.container``s whose keys it passes as ``hide``; the component hides them once its first
live frame is on screen. Where the page cannot decode (WebAssembly or SIMD missing, runtime files
absent, the model failing to load), it says so in one line and the server's view stays.

Every text the component shows comes from the page, already in the session's language (``text`` in
the data of :func:`mount`; ``preparing`` and ``failed`` of :func:`model_urls`).

Files the page fetches, all from the app itself (``static/``, served by app.py under ``/app/static/``;
nothing else is in ``static/``):

- ``static/ort/``: onnxruntime-web's wasm-only ES module and its WebAssembly binary, vendored
  with licence, version and SHA-256 (``make ort-web`` refreshes them from npm);
- ``static/models/<content hash>/``: the checkpoint's ``decoder.onnx`` / ``encoder.onnx``
  (exported once per content hash), and for the map twin the explore set's codes and 2-D
  positions (float32) and the mini map's background picture. Generated, never in git.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from components import static_files
from vae.explore.projection import LatentMap
from vae.export.layout import DECODER_FILE, ENCODER_FILE, cached_folder
from vae.folders import content_hash

if TYPE_CHECKING:  # importing this module imports no torch: a first run mounts "warm" before torch loads
    from vae.checkpoint import Checkpoint
    from vae.explore.minimap import MiniMap

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STATIC_DIR = ROOT / "static"
RUNTIME_DIR = STATIC_DIR / "ort"
MODELS_DIR = STATIC_DIR / "models"
RUNTIME_MODULE = "ort.wasm.bundle.min.mjs"
RUNTIME_WASM = "ort-wasm-simd-threaded.wasm"
#: The component's ES modules, each after the ones it imports; the last holds the default export.
JS_MODULES = ("runtime.js", "pixels.js", "runner.js", "view.js", "latent_map.js", "strips.js", "sliders.js", "scrub.js",
              "touch.js", "hover.js", "draw.js", "live_decoder.js")

#: The early start's modules (frame/early_start.py: put into the HTML of the pages that decode live).
EARLY_MODULES = ("runtime.js", "early.js")

_IMPORT = re.compile(r'^import \{[^}]*\} from "\.\.?/[a-z_/]+\.js";\n', re.M)
_EXPORT = re.compile(r"^export (?=(?:async )?function |const |class |let )", re.M)


def bundle_js(folder: Path = HERE, modules: tuple[str, ...] = JS_MODULES) -> str:
    """A component's modules (``modules`` in ``folder``, this one's by default) as the one ES module
    that ``st.components.v2`` takes.

    Each file is a real module (an editor or ``node --check`` reads it as one); here they are
    joined in dependency order, their imports of one another dropped and their named exports
    made plain declarations. A name may reach into a sibling component's folder
    (``"../live_decoder/touch.js"``), imported by that path. No build tool and no Node: this is all
    the "build" there is.
    """
    parts = []
    for name in modules:
        src = _IMPORT.sub("", (folder / name).read_text(encoding="utf-8"))
        if name != modules[-1]:
            src = _EXPORT.sub("", src)
        parts.append(f"// ---- components/{folder.name}/{name}\n{src}")
    return "\n".join(parts)


_component = st.components.v2.component(
    "vae_live_decoder", js=bundle_js(), css=(HERE / "live_decoder.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # it reads the page's sliders and map, and hides the server's view
)


# -- what the page fetches ---------------------------------------------------------------------
def static_url(path: Path) -> str:
    """The content-addressed URL at which app.py serves a file under static/ (``?v=`` its digest)."""
    return static_files.url(path, str(st.get_option("server.baseUrlPath") or ""))


def runtime_urls() -> dict[str, str]:
    """onnxruntime-web's module and WebAssembly binary (vendored in static/ort/)."""
    return {"module": static_url(RUNTIME_DIR / RUNTIME_MODULE), "wasm": static_url(RUNTIME_DIR / RUNTIME_WASM)}


def _export(ck: Checkpoint) -> dict[str, Path]:
    from vae.export.onnx_files import export_cached

    return export_cached(ck.model, ck.content_hash, MODELS_DIR)


def model_urls(ck: Checkpoint, preparing: str, failed: str) -> tuple[dict[str, str] | None, str | None]:
    """URLs of the checkpoint's decoder and encoder, exported now if needed: (urls, None), or
    (None, why they cannot be had). ``preparing``: the spinner's text while it exports; ``failed``:
    the reason, with ``{error}`` where the exporter's error goes."""
    folder = cached_folder(MODELS_DIR, ck.content_hash)
    try:
        if all((folder / f).is_file() for f in (DECODER_FILE, ENCODER_FILE)):
            files = {"decoder": folder / DECODER_FILE, "encoder": folder / ENCODER_FILE}
        else:
            with st.spinner(preparing):
                files = _export(ck)
    except Exception as e:  # no exporter, a full disk, a read-only folder: the server path stays
        return None, failed.format(error=f"{type(e).__name__}: {str(e)[:120]}")
    for path in files.values():
        static_files.precompress(path)  # once per file: 0.1 s for 3 MB, before the first page fetches it
    return {part: static_url(path) for part, path in files.items()}, None


def static_asset(path: Path, make: Callable[[], bytes]) -> str:
    """A generated file under static/models/ (written once, atomically); returns its URL."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        from vae.data.cache import write_atomic

        write_atomic(path, make())
        static_files.precompress(path)
    return static_url(path)


def file_tag(text: str) -> str:
    """``text`` as a part of a file name (letters, digits, ``_.=-``; at most 120 characters)."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)[:120]


#: The dtype of the codes the page's k-NN map downloads: float16, half the bytes of float32 (0.29 MB instead
#: of 0.59 MB for 10,000 codes of 16 numbers, Brotli'd). The page's map computes with these values
#: (:func:`as_sent`); tests/vae/test_page_map_precision.py measures what the rounding moves. The map
#: positions stay float32: rounded to float16 they reorder a spot's nearest points in a dense cluster
#: (codes found for a spot moved by up to 0.28, pixels by up to 123/255 on the shipped model).
WIRE_DTYPE = "<f2"


def as_sent(lm: LatentMap) -> LatentMap:
    """``lm`` as the page has it: a k-NN map's codes rounded to :data:`WIRE_DTYPE` (exact maps, linear or the
    identity, send parameters, not points: returned as they are)."""
    if lm.identity or lm.linear is not None:
        return lm
    return LatentMap(lm.codes.astype(WIRE_DTYPE), lm.coords, k=lm.k, power=lm.power)


def map_spec(ck: Checkpoint, lm: LatentMap, codes_tag: str, map_tag: str) -> dict[str, Any]:
    """What the page's twin of ``lm`` needs: the exact maps' parameters, or for the k-NN maps the
    URLs of the codes (N, D, float16: :func:`as_sent`) and positions (N, 2, float32). ``codes_tag`` names the
    explore set ("test-10000"), ``map_tag`` the explore set and projection ("test-10000-umap-nn15-md0.1-s42")."""
    if lm.identity:
        return {"kind": "identity"}
    if lm.linear is not None:
        return {"kind": "linear", "mean": lm.linear.mean_.astype(float).tolist(),
                "components": lm.linear.components_.astype(float).tolist()}
    folder = MODELS_DIR / ck.content_hash
    codes = static_asset(folder / f"codes-{file_tag(codes_tag)}.f16",
                         lambda: np.ascontiguousarray(lm.codes, WIRE_DTYPE).tobytes())
    coords = static_asset(folder / f"coords-{file_tag(map_tag)}.f32",
                          lambda: np.ascontiguousarray(lm.coords, "<f4").tobytes())
    return {"kind": "knn", "k": int(lm.k), "power": float(lm.power), "d": int(lm.latent_dim),
            "codes": codes, "codes_dtype": "f16", "coords": coords}


def minimap_spec(ck: Checkpoint, mm: MiniMap, tag: str) -> dict[str, Any]:
    """The mini map's background picture (URL) and the geometry the page draws the marker with."""
    png = static_asset(MODELS_DIR / ck.content_hash / f"minimap-{file_tag(tag)}-{mm.size}.png",
                       lambda: _png(mm.background))
    return {"background": png, **mm.geometry()}


def _png(image) -> bytes:
    from vae.data.images import png_bytes

    return png_bytes(image)


def image_spec(ck: Checkpoint, size: int) -> dict[str, Any]:
    """The image's shape and the nearest-neighbour factor that ``vae.data.images.upscale(img, size)`` uses."""
    c, h, w = (int(v) for v in ck.config.image_shape)
    return {"shape": [c, h, w], "factor": max(1, round(size / max(h, w)))}


def exported_decoder(folder: Path, folder_hash: str | None = None) -> Path | None:
    """The checkpoint folder's decoder as exported for the page by an earlier run, or None (read without torch);
    ``folder_hash``: the folder's content hash where the caller knows it already."""
    try:
        path = cached_folder(MODELS_DIR, folder_hash or content_hash(folder)) / DECODER_FILE
    except OSError:
        return None
    return path if path.is_file() else None


def mount_warm(folder: Path, key: str = "live_warm") -> bool:
    """Start the page's runtime and load ``folder``'s decoder in it now, drawing nothing: a session's first run
    mounts this before torch and the page load (frame/first_map.py), so that the page's own mount finds both
    ready. False where the decoder was never exported (the page exports it, then loads it itself)."""
    decoder = exported_decoder(folder)
    if decoder is None:
        return False
    mount("warm", {"decoder": static_url(decoder)}, key=key)
    return True


def mount(mode: str, data: dict[str, Any], key: str, **callbacks):
    """Mount the component in ``mode`` with ``data`` (URLs and small vectors only: reruns resend it)."""
    return _component(key=key, data={"mode": mode, "runtime": runtime_urls(), **data}, height="content",
                      **callbacks)
