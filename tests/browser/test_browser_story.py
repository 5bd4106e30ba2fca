"""The story pages in a real browser (Chromium via Playwright), on the default checkpoint. (That each
renders with its images and no error is test_layout's walk through every page.)

Screenshots go to tests/artifacts/story-*.png. Skipped, with the reason, where no Chromium can be found.
"""

from __future__ import annotations

import pytest
from browser_helpers import ARTIFACTS, goto, wait_app
from pagecheck import assert_page_ok

playwright_api = pytest.importorskip("playwright.sync_api")

#: Each page and a text its last section shows once the script has run to the end.
STORY_PAGES = {"training_step": "Batch: images", "ae_vs_vae": "Nothing pins the autoencoder", "vae_vs_gan": "was trained with",
               "uses": "5 · Beyond images: text and speech", "weaknesses": "6 · Training cost"}


def story_shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:  # widgets whose code is still loading are drawn as grey skeletons: wait for the real ones
        pg.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=20_000)
    except playwright_api.Error:
        pass
    pg.screenshot(path=str(ARTIFACTS / f"story-{name}.png"), full_page=True)


def open_story(pg, server, name: str) -> None:  # noqa: F811
    """Open a story page and wait until its script has run to the end (its last text is there)."""
    goto(pg, server, name)
    wait_story_end(pg, name)


def wait_story_end(pg, name: str) -> None:
    """Wait until the story page's script has run to the end (its last text is there)."""
    assert_page_ok(pg, name)  # a page that failed never shows its last text: say why at once
    pg.get_by_text(STORY_PAGES[name]).first.wait_for(timeout=240_000)
    wait_app(pg)


def test_training_step_next_shows_the_encoder_and_its_code(page, server):  # noqa: F811
    open_story(page, server, "training_step")
    page.get_by_role("button", name="Next stage").click()
    page.get_by_text("2 / 9 · Encoder: μ and σ").wait_for(timeout=60_000)
    wait_app(page)
    assert page.locator('[data-testid="stCode"]').filter(has_text="def encode(self").count() == 1
    assert page.get_by_text("vae/model.py, lines").count() >= 1
    page.get_by_role("button", name="Previous stage").click()
    page.get_by_text("1 / 9 · A batch of images x").wait_for(timeout=60_000)
    wait_app(page)
    assert_page_ok(page, "training_step")
    story_shot(page, "training_step-back")
