"""The LR explorer in a real browser: JupyterLab from the project venv, headless Chromium, a slider move
and an impossible setting typed into a slider's value box.

Why: the headless tests prove what the widget computes; only a browser proves that the widget
manager renders it, that a slider move reaches the kernel and that the new plot reaches the page.
Skipped (with the install command) when Chromium is missing; never skipped when it is present.
Screenshots go to ``artifacts/`` (git-ignored). The machinery is in ``tests/browser/lab.py``.
"""

from __future__ import annotations

import json

import pytest
from browser.lab import (
    ARTIFACTS,
    FIXTURES,
    REDRAW_MS,
    SharedLab,
    rendered_notebook,
    shared_lab,
    skip_without_chromium,
)
from browser.views import MIN_CONTRAST, VIEWS, contrasts, screenshot, show_view

from helpers.schedule_families import ScheduleConfig, closed_form_values

pytestmark = pytest.mark.browser
skip_without_chromium()

FIXTURE = FIXTURES / "lr_explorer_demo.ipynb"
IMAGE_SELECTOR = ".jp-OutputArea .lr-explorer .kit-plot img.kit-plot-wide"
READOUT_SELECTOR = ".jp-OutputArea .lr-explorer .lr-explorer-readout"


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SharedLab:
    return shared_lab(request, tmp_path_factory)


def test_slider_move_redraws_the_plot_in_jupyterlab(lab: SharedLab) -> None:
    with rendered_notebook(lab, FIXTURE, rendered=IMAGE_SELECTOR, what="the widget's plot",
                           failure_png="browser_widget_failure.png") as page:
        show_view(page, VIEWS[0])
        _drive_the_widget(page)


def _drive_the_widget(page) -> None:
    explorer = page.locator(".jp-OutputArea .lr-explorer")
    image = page.locator(IMAGE_SELECTOR)
    readout = page.locator(READOUT_SELECTOR)
    before_src, before_readout = image.get_attribute("src"), readout.inner_text()
    assert before_src and before_src.startswith("data:image/png;base64,")
    assert before_readout == "LR at epoch 10: 0.1"  # warmup end: pl_bolts' peak
    page.screenshot(path=str(ARTIFACTS / "browser_widget_before.png"))

    # Move the warmup slider five steps right with the keyboard on its handle: 10 -> 15 epochs.
    warmup = explorer.locator(".widget-slider", has_text="warmup epochs")
    warmup.locator(".noUi-handle").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # A redraw replaces the <img> element, so query it afresh instead of holding a handle.
    page.wait_for_function(
        "([selector, old]) => { const img = document.querySelector(selector); return img && img.src !== old; }",
        arg=[IMAGE_SELECTOR, before_src],
        timeout=REDRAW_MS,
    )
    expected = closed_form_values(ScheduleConfig(warmup_epochs=15, total_epochs=100))[10]
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.innerText === text",
        arg=[READOUT_SELECTOR, f"LR at epoch 10: {expected:.6g}"],
        timeout=REDRAW_MS,
    )
    after_src, after_readout = image.get_attribute("src"), readout.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser_widget_after.png"))

    warmup_box = explorer.locator(".lr-explorer-warmup-epochs-box input")
    assert warmup_box.input_value() == "15"  # the typed-value box follows the slider
    assert after_src != before_src and after_src.startswith("data:image/png;base64,")
    assert after_readout == f"LR at epoch 10: {expected:.6g}" != before_readout
    assert explorer.locator(".kit-plot img").count() == 2  # replaced (one wide, one narrow drawing), not stacked
    assert explorer.locator(".lr-explorer-message").inner_text() == ""

    # Type a total shorter than the warmup (12 epochs < 15) into the total-epochs box: the warmup is
    # kept within the run (clamped to 12), and the widget says why there is no curve.
    total = explorer.locator(".lr-explorer-total-epochs-box input")
    total.fill("12")
    total.press("Enter")
    message = explorer.locator(".lr-explorer-message")
    message.get_by_text("must end before training does").wait_for(timeout=REDRAW_MS)
    page.screenshot(path=str(ARTIFACTS / "browser_widget_message.png"))
    assert "The warmup (12 epochs) must end before training does (12 epochs)" in message.inner_text()
    assert warmup_box.input_value() == "12"
    assert page.locator(IMAGE_SELECTOR).count() == 0
    # the error's tone is readable in both themes (the warning's is measured in test_browser_explorer)
    measured = {}
    for view in (VIEWS[0], VIEWS[1]):
        show_view(page, view)
        (error,) = [t for t in contrasts(message) if "kit-tone-error" in t["classes"]]
        assert error["ratio"] >= MIN_CONTRAST, (view.name, error)
        measured[view.name] = error
        screenshot(message, f"browser_widget_error_{view.name}")
    (ARTIFACTS / "browser_widget_contrast.json").write_text(json.dumps(measured, indent=1))
