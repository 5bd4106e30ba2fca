"""An imported model (tests/byo_model.py's VAE, not ours) in a real browser: the page runs its graphs,
wrapped to our conventions, with onnxruntime-web, and its pixels equal the server's decode within 2/255;
every explorer page opens without an exception. Screenshots go to tests/artifacts/ only."""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import goto, serving, shot, wait_app
from pagecheck import assert_page_ok
from test_live_decode import runtime_urls, wait_live

playwright_api = pytest.importorskip("playwright.sync_api")
PAGES = ["map", "sliders", "reconstructions", "interpolate", "generate", "your_image", "how_it_works"]


@pytest.fixture(scope="module")
def server(imported_root, tmp_path_factory):
    """`streamlit run app.py` over the imported model and our fashion-mnist."""
    with serving({"VAE_CHECKPOINTS": str(imported_root),
                  "VAE_EXPLORER_CACHE": str(tmp_path_factory.mktemp("byo-cache"))}) as served:
        yield served.url


def test_page_pixels_equal_the_server_decode_on_an_imported_model(page, server, imported_root):
    import torch

    from components.live_decoder import MODELS_DIR, static_url
    from vae.checkpoint import load_checkpoint
    from vae.data.images import upscale
    from vae.export.onnx_files import export_cached

    ck = load_checkpoint(imported_root / "theirs")
    files = export_cached(ck.model, ck.content_hash, MODELS_DIR)
    goto(page, server, "sliders?ckpt=theirs")
    wait_live(page, "sliders")
    assert_page_ok(page, "sliders, imported model")
    shot(page, "byo-sliders")
    zs = torch.randn(6, ck.config.latent_dim, generator=torch.Generator().manual_seed(0)) * 2.0
    zs[0] = 0.0
    want = [upscale(img, 0) for img in ck.model.generate(zs)]  # (H, W) uint8, the server's rounding
    for z, ref in zip(zs, want, strict=True):
        got = page.evaluate("([rt, url, z]) => window.__vaeLive.api.decodeBytes(rt, url, z)",
                            [runtime_urls(), static_url(files["decoder"]), [float(v) for v in z]])
        got = np.asarray(got, dtype=np.int16).reshape(ref.shape)
        diff = int(np.abs(got - ref.astype(np.int16)).max())
        assert diff <= 2, f"the page's pixels differ from the server's by {diff}/255 for z={z.tolist()}"


def test_every_explorer_page_opens_an_imported_model(page, server):
    """From the Map by the sidebar, as a user goes: the imported model stays chosen on every page.
    (A click in the sidebar runs the next page in the loaded app: about a third of the browser's
    CPU time of opening its address.)"""
    goto(page, server, "?ckpt=theirs")  # the map is the main page
    for name in PAGES:
        if name != "map":
            page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').click()
            page.wait_for_function("(p) => location.pathname.endsWith(p)", arg=f"/{name}")
            wait_app(page)
        assert_page_ok(page, name)
        assert "ckpt=theirs" in page.evaluate("() => location.search"), (name, page.evaluate("() => location.href"))
        shot(page, f"byo-{name}")
