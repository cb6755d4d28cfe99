"""The LR explorer's three modes in a real browser, in every view (JupyterLab Light and Dark, at a
1400 px window and at an 800 px window with the file browser open), with screenshots:

- per epoch, Exercise 1's scheduler counted in epochs: the curves agree, no message;
- switched to per step in the page (the dropdown): one sentence says the lengths are counted in
  epochs, and the plot becomes two panels (sampled once per epoch, epoch 0 batch by batch);
- per step with the scheduler counted in optimizer steps: the curves agree, no message.

In each mode and view the explorer is measured (see ``browser/views.py``): no control, label or
readout is cut or sticks out, no two controls overlap, every slider keeps a usable track, exactly one
drawing of the plot is shown, inside the output area, with its smallest text at 9 px or more as
rendered, the plot's foreground reaches 4.5:1 against the plot's background as shown and that
background matches the theme (no white block in the dark theme), and every text has 4.5:1 contrast
against what is behind it. A value typed into a slider's box reaches the kernel and redraws.
Screenshots and the measured contrasts go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json

import pytest
from browser.lab import (
    ARTIFACTS,
    FIXTURES,
    REDRAW_MS,
    SharedLab,
    boxes_intersect,
    rendered_notebook,
    shared_lab,
    skip_without_chromium,
)
from browser.views import (
    MIN_CONTRAST,
    MIN_TEXT_PX,
    VIEWS,
    View,
    clipping,
    contrast,
    contrasts,
    luminance,
    page_background,
    plot_colours,
    plots,
    screenshot,
    show_view,
)

pytestmark = pytest.mark.browser
skip_without_chromium()

FIXTURE = FIXTURES / "lr_explorer_modes.ipynb"
EXPLORERS = ".jp-OutputArea .lr-explorer"
MISMATCH = "make_warmup_scheduler counts its lengths in epochs but is stepped after every batch here"
MIN_TRACK_PX = 120  # a slider's track: enough to pick an epoch of 100 by dragging to within ~1 %

# Leaf controls (sliders, typed boxes, dropdowns, number boxes, labels) of one explorer, and its tracks.
_MEASURE = """
explorer => {
  const leaf = '.widget-slider, .widget-dropdown, .widget-text, .widget-label, .widget-readout, .widget-html';
  const controls = Array.from(explorer.querySelectorAll(leaf))  // outermost controls (a slider holds its label)
    .filter(el => el.offsetParent !== null && !el.closest('.lr-explorer-message, .lr-explorer-plot-box')
                  && !el.parentElement.closest(leaf))
    .map(el => ({name: (el.innerText || el.className).trim().slice(0, 40), box: el.getBoundingClientRect().toJSON()}))
    .filter(c => c.box.width > 0 && c.box.height > 0);
  const tracks = Array.from(explorer.querySelectorAll('.widget-slider .noUi-target, .widget-slider .slider'))
    .filter(el => el.offsetParent !== null).map(el => el.getBoundingClientRect().width);
  return {controls, tracks};
}
"""


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SharedLab:
    return shared_lab(request, tmp_path_factory)


def _check_view(page, explorer, mode: str, view: View, measured: dict) -> None:
    where = f"{mode}, {view.name}"
    explorer.scroll_into_view_if_needed()
    problems = clipping(explorer)
    assert problems == [], f"{where}: something is cut off or sticks out: {problems}"
    layout = explorer.evaluate(_MEASURE)
    controls = layout["controls"]
    assert len(controls) >= 10, controls
    for i, a in enumerate(controls):
        for b in controls[i + 1 :]:
            assert not boxes_intersect(a["box"], b["box"], slack=1.0), f"{where}: {a['name']!r} overlaps {b['name']!r}"
    assert len(layout["tracks"]) == 3 and min(layout["tracks"]) >= MIN_TRACK_PX, f"{where}: tracks {layout['tracks']}"

    (image,) = plots(explorer)  # exactly one drawing shown
    box, natural = image["box"], image["natural"]
    outer = explorer.bounding_box()
    assert outer is not None and box["x"] + box["width"] <= outer["x"] + outer["width"] + 1, f"{where}: plot cut"
    text_px = image["minTextPx"] * box["width"] / natural[0]
    assert text_px >= MIN_TEXT_PX, f"{where}: plot text {text_px:.1f} px ({box['width']:.0f} of {natural[0]} px)"
    shown = explorer.locator(".kit-plot img:visible")
    colours = plot_colours(shown, page_background(explorer))
    assert colours.foreground_contrast >= MIN_CONTRAST, f"{where}: plot foreground {colours}"
    dark_page = luminance(colours.page) < 0.2
    assert (luminance(colours.background) < 0.2) == dark_page, f"{where}: plot background {colours.background}"
    assert contrast(colours.background, colours.page) < 1.5, f"{where}: the plot is a block of its own colour"

    texts = [t for t in contrasts(explorer) if not t["disabled"]]
    low = [t for t in texts if t["ratio"] < MIN_CONTRAST]
    assert not low, f"{where}: contrast below {MIN_CONTRAST}: {low}"
    measured[where] = {"plot_text_px": round(text_px, 1), "plot_foreground": colours.foreground_contrast,
                       "lowest_text": min(texts, key=lambda t: t["ratio"]),
                       "kit_tones": [t for t in texts if "kit-tone" in t["classes"]]}
    screenshot(explorer, f"browser_explorer_{mode}_{view.name}")


def _message(explorer) -> str:
    return explorer.locator(".lr-explorer-message").inner_text().strip()


def _wait_new_plot(page, explorer, old: str) -> str:
    img = explorer.locator(".kit-plot img.kit-plot-wide")
    page.wait_for_function(
        "([el, old]) => { const img = el.querySelector('.kit-plot img.kit-plot-wide');"
        " return img && img.src !== old; }",
        arg=[explorer.element_handle(), old], timeout=REDRAW_MS,
    )
    return img.get_attribute("src")


def test_explorer_modes_in_every_view(lab: SharedLab) -> None:
    second_plot = f"{EXPLORERS} >> nth=1 >> .kit-plot img"
    measured: dict[str, dict] = {}
    with rendered_notebook(lab, FIXTURE, rendered=second_plot, what="the explorers",
                           failure_png="browser_explorer_failure.png") as page:
        in_epochs, in_steps = page.locator(EXPLORERS).nth(0), page.locator(EXPLORERS).nth(1)

        # 1. per epoch: no message, the learner's curve on the reference
        readout = in_epochs.locator(".lr-explorer-readout")
        assert readout.inner_text() == "LR at epoch 25: 0.1 · make_warmup_scheduler: 0.1"
        assert _message(in_epochs) == ""
        # 3. counted in optimizer steps and stepped per batch: it fits, no message
        assert _message(in_steps) == ""
        assert in_steps.locator(".lr-explorer-readout").inner_text() == (
            "LR at epoch 25: 0.1 · make_warmup_scheduler (in steps): 0.1"
        )
        for view in VIEWS:
            show_view(page, view)
            _check_view(page, in_epochs, "per_epoch", view, measured)
            _check_view(page, in_steps, "per_step_correct", view, measured)

        # 2. switch the stepping to per batch in the page: one sentence, two readable panels
        before = in_epochs.locator(".kit-plot img.kit-plot-wide").get_attribute("src")
        in_epochs.locator(".widget-dropdown", has_text="step the scheduler").locator("select").select_option(
            label="per step (batch)"
        )
        message = in_epochs.locator(".lr-explorer-message")
        message.get_by_text("counts its lengths in epochs").wait_for(timeout=REDRAW_MS)
        _wait_new_plot(page, in_epochs, before or "")
        text = _message(in_epochs)
        assert text.startswith(f"⚠ {MISMATCH}") and "the first 100 of 45,000 steps" in text
        assert text.count(". ") == 0  # one sentence
        for view in VIEWS:
            show_view(page, view)
            _check_view(page, in_epochs, "per_step_mismatch", view, measured)

        # A value typed into the box beside the total-epochs slider reaches the kernel and redraws.
        before = in_steps.locator(".kit-plot img.kit-plot-wide").get_attribute("src")
        box = in_steps.locator(".lr-explorer-total-epochs-box input")
        box.fill("60")
        box.press("Enter")
        _wait_new_plot(page, in_steps, before or "")
        in_steps.locator(".lr-explorer-readout").get_by_text("LR at epoch 25:").wait_for()
        slider_max = in_steps.locator(".lr-explorer-warmup-epochs-box input").get_attribute("max")
        assert slider_max == "60"  # the warmup stays within the new total
        assert _message(in_steps) == ""
    (ARTIFACTS / "browser_explorer_contrast.json").write_text(json.dumps(measured, indent=1))

