"""The Train page on the colour emoji data set in a real browser (a server of this module's own, whose
checkpoints/ holds a copy of digits, so that the run writes nothing into the real one):

- choosing **emoji** sets the conv architecture and the Gaussian likelihood, and shows a row of its test
  images in colour (the server's PNG);
- a one-epoch run started from the page finishes, and its reconstructions are RGB and in colour;
- another session, in Chinese, sees that run's reconstructions too.

Screenshots (tests/artifacts/): train-emoji-{en,zh}-{1280x800,1024x768}.png and train-emoji-phone.png.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, new_tab, serving, wait_app
from pagecheck import assert_page_ok
from PIL import Image
from test_colour_browser import COLOURED, coloured_share

from vae.data.datasets import dataset_available

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"1280x800": {"width": 1280, "height": 800}, "1024x768": {"width": 1024, "height": 768}}
PREVIEW = '[data-testid="stImage"]'

pytestmark = pytest.mark.skipif(
    not dataset_available("emoji", "train") or not (ROOT / "checkpoints" / "digits").is_dir(),
    reason="the emoji train split (make data) or checkpoints/digits is missing",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-emoji") / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "digits", root / "digits")
    with serving({"VAE_CHECKPOINTS": str(root)}) as server:
        yield server.url, root


def _shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _png(pg, img) -> Image.Image:
    """An <img>'s picture as the server sent it."""
    src = img.get_attribute("src")
    reply = pg.request.get(urljoin(pg.url, src))
    assert reply.ok, (src, reply.status)
    return Image.open(io.BytesIO(reply.body()))


def _choose_emoji(pg, label: str = "Data set") -> None:
    box = pg.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(has_text=label).first
    box.scroll_into_view_if_needed()
    box.locator("input").click()
    pg.locator('[role="option"]').filter(has_text="emoji").first.click()
    # chosen once the command line below trains on it (the same in either language)
    pg.locator('[data-testid="stCode"]').filter(has_text="--dataset emoji").first.wait_for()
    wait_app(pg)


def _checked(pg, label: str) -> bool:
    return pg.locator('[data-testid="stRadio"] label').filter(has_text=label).first.locator("input").is_checked()


def test_an_emoji_run_from_the_page_shows_colour_previews(browser, served):
    url, root = served
    ctx = browser.new_context(viewport=SIZES["1280x800"])
    try:
        pg = new_tab(ctx)
        pg.goto(f"{url}/train?ckpt=digits&lang=en")
        wait_app(pg)
        _choose_emoji(pg)
        assert _checked(pg, "Convolutional") and _checked(pg, "Gaussian per pixel")
        row = pg.locator(PREVIEW).filter(has_text="A few of its test images.").locator("img")
        picture = _png(pg, row)
        share = coloured_share(np.asarray(picture.convert("RGB")))
        assert picture.mode == "RGB" and share >= COLOURED, (picture.mode, f"{share:.1%} coloured")
        epochs = pg.get_by_role("spinbutton", name="Epochs", exact=True)
        epochs.fill("1")
        epochs.press("Enter")
        wait_app(pg)
        pg.get_by_role("textbox", name="Checkpoint name").fill("emoji-browser")
        pg.get_by_role("textbox", name="Checkpoint name").press("Enter")
        wait_app(pg)
        pg.get_by_role("button", name="Start training").click()
        pg.get_by_text("Finished 1 epoch").wait_for(timeout=300_000)
        wait_app(pg)
        assert (root / "emoji-browser" / "model.safetensors").is_file()
        heading = pg.get_by_text("Its reconstructions")
        heading.wait_for()
        images = pg.locator(PREVIEW).locator("img")
        assert images.count() == 2, images.count()  # the data set's row, the run's reconstructions
        recon = _png(pg, images.nth(1))
        share = coloured_share(np.asarray(recon.convert("RGB")))
        assert recon.mode == "RGB" and share >= COLOURED, (recon.mode, f"{share:.1%} coloured")
        assert recon.height > picture.height  # two rows: test images above their reconstructions
        assert_page_ok(pg)
        for size, viewport in SIZES.items():
            pg.set_viewport_size(viewport)
            heading.evaluate("e => e.scrollIntoView({block: 'start'})")
            pg.wait_for_timeout(300)  # the scroll's frame painted (the page is drawn: wait_app above)
            _shot(pg, f"train-emoji-en-{size}")

        for size, viewport in SIZES.items():  # another session, in Chinese: the settings and the last run
            zh = new_tab(ctx)
            zh.set_viewport_size(viewport)
            zh.goto(f"{url}/train?ckpt=digits&lang=zh")
            wait_app(zh)
            _choose_emoji(zh, "数据集")
            zh.get_by_text("上一次训练：emoji-browser").wait_for()
            assert zh.locator(PREVIEW).locator("img").count() == 2
            assert_page_ok(zh)
            _shot(zh, f"train-emoji-zh-{size}")
            zh.close()
    finally:
        ctx.close()

    phone_ctx = browser.new_context(**browser.devices["iPhone 13"])
    try:
        phone = new_tab(phone_ctx)
        phone.goto(f"{url}/train?ckpt=digits&lang=en")
        wait_app(phone)
        _choose_emoji(phone)
        phone.locator(PREVIEW).first.evaluate("e => e.scrollIntoView({block: 'center'})")
        phone.wait_for_timeout(300)
        _shot(phone, "train-emoji-phone")
        assert_page_ok(phone)
    finally:
        phone_ctx.close()
