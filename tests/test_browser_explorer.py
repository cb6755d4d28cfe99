"""The LR explorer's three modes in a real browser (issue 15 item 3), with screenshots:

- per epoch, Exercise 1's scheduler counted in epochs: the curves agree, no message;
- switched to per step in the page (the dropdown): one sentence says the lengths are counted in
  epochs, and the plot becomes two panels (sampled once per epoch, epoch 0 batch by batch);
- per step with the scheduler counted in optimizer steps: the curves agree, no message.

In each mode the explorer's controls are measured: no two controls' boxes intersect, the plot
fits the output area (nothing cut off at the right), and a value typed into a slider's box
reaches the kernel and redraws. Screenshots go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser.lab import (
    ARTIFACTS,
    FIXTURES,
    REDRAW_MS,
    boxes_intersect,
    rendered_notebook,
    skip_without_chromium,
)

pytestmark = pytest.mark.browser
skip_without_chromium()

FIXTURE = FIXTURES / "lr_explorer_modes.ipynb"
EXPLORERS = ".jp-OutputArea .lr-explorer"
MISMATCH = "make_warmup_scheduler counts its lengths in epochs but is stepped after every batch here"

# Leaf controls (sliders, typed boxes, dropdowns, number boxes, labels) and the plot of one explorer.
_MEASURE = """
explorer => {
  const leaf = '.widget-slider, .widget-dropdown, .widget-text, .widget-label, .widget-readout, .widget-html';
  const controls = Array.from(explorer.querySelectorAll(leaf))  // outermost controls (a slider holds its label)
    .filter(el => el.offsetParent !== null && !el.closest('.lr-explorer-message') && !el.parentElement.closest(leaf))
    .map(el => ({name: (el.innerText || el.className).trim().slice(0, 40), box: el.getBoundingClientRect().toJSON(),
                 cut: Array.from(el.querySelectorAll('.widget-label')).some(l => l.scrollWidth > l.clientWidth + 1)}))
    .filter(c => c.box.width > 0 && c.box.height > 0);
  const img = explorer.querySelector('.jp-OutputArea-output img');
  const area = explorer.closest('.jp-OutputArea-child') || explorer;
  return {controls, img: img ? img.getBoundingClientRect().toJSON() : null,
          natural: img ? [img.naturalWidth, img.naturalHeight] : null,
          area: area.getBoundingClientRect().toJSON()};
}
"""


def _check_layout(page, explorer, mode: str) -> None:
    explorer.scroll_into_view_if_needed()
    measured = explorer.evaluate(_MEASURE)
    controls = measured["controls"]
    assert len(controls) >= 10, controls
    assert not [c["name"] for c in controls if c["cut"]], f"{mode}: a control's label is cut off"
    for i, a in enumerate(controls):
        for b in controls[i + 1 :]:
            assert not boxes_intersect(a["box"], b["box"], slack=1.0), f"{mode}: {a['name']!r} overlaps {b['name']!r}"
    img, area = measured["img"], measured["area"]
    assert img is not None, f"{mode}: no plot"
    assert img["x"] + img["width"] <= area["x"] + area["width"] + 1, f"{mode}: the plot is cut off at the right"
    assert abs(img["width"] - measured["natural"][0]) <= 1, f"{mode}: the plot is scaled ({img['width']} px)"
    explorer.screenshot(path=str(ARTIFACTS / f"browser_explorer_{mode}.png"))


def _message(explorer) -> str:
    return explorer.locator(".lr-explorer-message").inner_text().strip()


def _wait_new_plot(page, explorer, old: str) -> str:
    img = explorer.locator(".jp-OutputArea-output img")
    page.wait_for_function(
        "([el, old]) => { const img = el.querySelector('.jp-OutputArea-output img'); return img && img.src !== old; }",
        arg=[explorer.element_handle(), old], timeout=REDRAW_MS,
    )
    return img.get_attribute("src")


def test_explorer_modes_in_jupyterlab(tmp_path: Path) -> None:
    second_plot = f"{EXPLORERS} >> nth=1 >> .jp-OutputArea-output img"
    with rendered_notebook(tmp_path, FIXTURE, width=1400, height=1100, rendered=second_plot, what="the explorers",
                           failure_png="browser_explorer_failure.png") as page:
        in_epochs, in_steps = page.locator(EXPLORERS).nth(0), page.locator(EXPLORERS).nth(1)

        # 1. per epoch: no message, the learner's curve on the reference
        readout = in_epochs.locator(".lr-explorer-readout")
        assert readout.inner_text() == "LR at epoch 25: 0.1 · make_warmup_scheduler: 0.1"
        assert _message(in_epochs) == ""
        _check_layout(page, in_epochs, "per_epoch")

        # 2. switch the stepping to per batch in the page: one sentence, two readable panels
        before = in_epochs.locator(".jp-OutputArea-output img").get_attribute("src")
        in_epochs.locator(".widget-dropdown", has_text="step the scheduler").locator("select").select_option(
            label="per step (batch)"
        )
        message = in_epochs.locator(".lr-explorer-message")
        message.get_by_text("counts its lengths in epochs").wait_for(timeout=REDRAW_MS)
        _wait_new_plot(page, in_epochs, before)
        text = _message(in_epochs)
        assert text.startswith(f"⚠ {MISMATCH}") and "the first 100 of 45,000 steps" in text
        assert text.count(". ") == 0  # one sentence
        _check_layout(page, in_epochs, "per_step_mismatch")

        # 3. counted in optimizer steps and stepped per batch: it fits, no message
        assert _message(in_steps) == ""
        assert in_steps.locator(".lr-explorer-readout").inner_text() == (
            "LR at epoch 25: 0.1 · make_warmup_scheduler (in steps): 0.1"
        )
        _check_layout(page, in_steps, "per_step_correct")

        # A value typed into the box beside the total-epochs slider reaches the kernel and redraws.
        before = in_steps.locator(".jp-OutputArea-output img").get_attribute("src")
        box = in_steps.locator(".lr-explorer-total-epochs-box input")
        box.fill("60")
        box.press("Enter")
        _wait_new_plot(page, in_steps, before)
        in_steps.locator(".lr-explorer-readout").get_by_text("LR at epoch 25:").wait_for()
        slider_max = in_steps.locator(".lr-explorer-warmup-epochs-box input").get_attribute("max")
        assert slider_max == "60"  # the warmup stays within the new total
        assert _message(in_steps) == ""
