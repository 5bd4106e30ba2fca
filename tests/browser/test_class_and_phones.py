"""The live lecture, round two, in a real browser: a class that cannot stop the teacher's run, and
phones that work.

One server of its own (a throw-away checkpoints folder holding the shipped digits model, so that a
run started here never lands in checkpoints/; the canvas map above 1,000 images, so that digits'
test split is drawn by Plotly and its 1,797 images by the canvas map), shared by every test here.

- The teacher (a laptop) starts the classroom preset; a student (a phone, in Chinese) sees the run
  and its progress in Chinese but has no Stop; the teacher, after a reload, still has it and stops
  the run.
- Phones (Playwright's iPhone 13 and an 820×1180 tablet, touch): see the tests below.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, VIEWPORT, new_tab, serving, wait_app
from pagecheck import assert_page_ok

playwright_api = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parents[2]
SHIPPED_DIGITS = ROOT / "checkpoints" / "digits"
CANVAS_ABOVE = 1000  # digits: the test split (360) stays Plotly, all 1,797 images take the canvas


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(URL, checkpoints folder) of a server of this module's own."""
    if not (SHIPPED_DIGITS / "model.safetensors").is_file():
        pytest.skip("the shipped checkpoints/digits is missing")
    root = tmp_path_factory.mktemp("class") / "checkpoints"
    shutil.copytree(SHIPPED_DIGITS, root / "digits")
    with serving({"VAE_CHECKPOINTS": str(root), "VAE_MAP_CANVAS_ABOVE": str(CANVAS_ABOVE)}) as server:
        yield server.url, root


def _shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# -- a class cannot stop the teacher's run ----------------------------------------------------------
def test_a_student_sees_the_teachers_run_in_chinese_but_only_the_teacher_can_stop_it(browser, served):
    url, root = served
    teacher_ctx = browser.new_context(viewport=VIEWPORT)
    student_ctx = browser.new_context(**browser.devices["iPhone 13"])
    try:
        teacher = new_tab(teacher_ctx)
        teacher.goto(f"{url}/train?ckpt=digits&preset=classroom&lang=en")
        wait_app(teacher)
        teacher.get_by_role("button", name="Start training").click()
        stop = teacher.locator('[class*="st-key-train_stop_"]').get_by_role("button", name="Stop")
        stop.wait_for()
        name = teacher.locator("h3").filter(has_text="Training: ").first.inner_text().split(": ", 1)[1]

        student = new_tab(student_ctx)
        student.goto(f"{url}/train?ckpt=digits&lang=zh")
        wait_app(student)
        student.get_by_text(f"正在训练：{name}").wait_for()
        # its progress, in Chinese: the bar (epoch, batch) and what the run is doing
        student.wait_for_function("() => { const p = document.querySelector('[data-testid=stProgress]');"
                                  " return p && /第 \\d+ \\/ 150 轮/.test(p.innerText); }")
        shown = "\n".join(student.locator(", ".join(f'[data-testid="stMain"] [data-testid="{t}"]' for t in (
            "stProgress", "stCaptionContainer", "stHeading", "stAlert"))).all_inner_texts())  # not the command
        english = [w for w in ("Evaluating", "epoch", "Epoch", "Loading", "Training", "batch", "session") if w in shown]
        assert not english, f"English progress texts in a Chinese session: {english}\n{shown}"
        assert student.locator('[class*="st-key-train_stop_"]').count() == 0, "a student has no Stop"
        student.get_by_text(f"正在训练：{name}").scroll_into_view_if_needed()
        _shot(student, "class-student-phone-zh")
        assert_page_ok(student)

        # the teacher reloads (a new Streamlit session of the same browser): the run is still theirs
        teacher.reload()
        wait_app(teacher)
        stop.wait_for()
        _shot(teacher, "class-teacher-running")
        stop.click()
        teacher.get_by_text(re.compile(r"Stopped after \d+ of 150 epochs")).wait_for()
        assert (root / name / "model.safetensors").is_file()
        student.get_by_text(f"上一次训练：{name}").wait_for()  # the student's page follows the end
        assert_page_ok(teacher)
        assert_page_ok(student)
    finally:
        teacher_ctx.close()
        student_ctx.close()

