"""The quiz widget in a real browser (issue 15 item 2): at a narrow (800 px) and a wide (1600 px)
viewport every option is one readable block with its own visible radio button.

Measured in the page, for every choice question: the options' boxes do not intersect, each radio
button lies inside its own option's box and is the element actually under its centre (nothing drawn
over it), no option's text is clipped, and nothing sticks out of the quiz to the right. A made-up quiz
with very long options makes sure wrapping really happens at both widths, and clicking the third
line of a wrapped option selects that option. Screenshots go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from browser.lab import (
    ARTIFACTS,
    FIXTURES,
    boxes_intersect,
    contains,
    rendered_notebook,
    skip_without_chromium,
)

pytestmark = pytest.mark.browser
skip_without_chromium()

FIXTURE = FIXTURES / "quiz_demo.ipynb"
WIDTHS = {"narrow": 800, "wide": 1600}

# Per option: its label box, its radio button box, whether the button is what is under its centre,
# and whether the label's text fits its box; per quiz: its own box.
_MEASURE = """
() => Array.from(document.querySelectorAll('.jp-OutputArea .kit-quiz')).map(quiz => ({
  questions: Array.from(quiz.querySelectorAll('.kit-quiz-options')).map(group => {
    group.scrollIntoView({block: 'center'});  // hit-testing needs the question on screen
    const labels = Array.from(group.querySelectorAll('.widget-radio-box label'));
    return {quiz: quiz.getBoundingClientRect().toJSON(), options: labels.map(label => {
      const input = label.querySelector('input');
      const l = label.getBoundingClientRect(), i = input.getBoundingClientRect();
      const hit = document.elementFromPoint(i.x + i.width / 2, i.y + i.height / 2);
      return {text: label.innerText.trim(), label: l.toJSON(), input: i.toJSON(),
              inputOnTop: hit === input,
              visible: i.width > 4 && i.height > 4 && getComputedStyle(input).visibility !== 'hidden',
              clipped: label.scrollHeight > label.clientHeight + 1 || label.scrollWidth > label.clientWidth + 1,
              lineHeight: parseFloat(getComputedStyle(label).lineHeight) || 16};
    })};
  }),
}))
"""


def _check_layout(quizzes: list[dict], width: int) -> dict[str, int]:
    assert len(quizzes) == 2, "both quizzes should be on the page"
    counts = {"options": 0, "wrapped": 0}
    for quiz in quizzes:
        assert quiz["questions"], "no choice question rendered"
        for question in quiz["questions"]:
            options = question["options"]
            for a, b in itertools.pairwise(options):
                assert not boxes_intersect(a["label"],
                                           b["label"]), f"{width}px: {a['text'][:30]!r} overlaps {b['text'][:30]!r}"
                assert not boxes_intersect(a["input"], b["input"])
                assert a["label"]["y"] + a["label"]["height"] <= b["label"]["y"] + 0.5  # stacked in order
            for option in options:
                counts["options"] += 1
                where = f"{width}px, option {option['text'][:40]!r}"
                assert option["visible"] and option["inputOnTop"], f"{where}: its radio button is hidden or covered"
                assert contains(option["label"], option["input"]), f"{where}: the radio button is outside its option"
                # ... at the option's left edge, beside its first line
                assert option["input"]["x"] <= option["label"]["x"] + 8, f"{where}: the radio button is not at the left"
                first_line = option["label"]["y"] + option["lineHeight"]
                assert option["input"]["y"] <= first_line, f"{where}: not on the first line"
                assert not option["clipped"], f"{where}: the text does not fit its box"
                right = option["label"]["x"] + option["label"]["width"]
                quiz_right = question["quiz"]["x"] + question["quiz"]["width"]
                assert right <= quiz_right + 1 and right <= width, f"{where}: sticks out"
                if option["label"]["height"] > 1.8 * option["lineHeight"]:
                    counts["wrapped"] += 1
    return counts


@pytest.mark.parametrize("size", list(WIDTHS))
def test_quiz_options_are_separate_readable_blocks(tmp_path: Path, size: str) -> None:
    width = WIDTHS[size]
    options = ".jp-OutputArea .kit-quiz >> nth=1 >> .kit-quiz-options"
    with rendered_notebook(tmp_path, FIXTURE, width=width, rendered=options, what="the quiz",
                           failure_png=f"browser_quiz_{size}_failure.png") as page:
        quizzes = page.evaluate(_MEASURE)
        counts = _check_layout(quizzes, width)
        assert counts["options"] == 9 * 4 + 4  # the warmup quiz's 9 choice questions, and the long one
        assert counts["wrapped"] >= 4, f"the long options should wrap at {width}px (wrapped: {counts})"

        quiz = page.locator(".jp-OutputArea .kit-quiz").first
        for qid in ("q1", "q8"):
            box = quiz.locator(".widget-vbox", has=page.locator(f"button[title='check {qid}']")).last
            box.scroll_into_view_if_needed()
            box.screenshot(path=str(ARTIFACTS / f"browser_quiz_{size}_{qid}.png"))

        # Click the third line of a wrapped option: that option, and only it, is selected.
        long_quiz = page.locator(".jp-OutputArea .kit-quiz").nth(1)
        long_quiz.scroll_into_view_if_needed()
        label = long_quiz.locator(".widget-radio-box label").nth(2)
        bounds = label.bounding_box()
        assert bounds is not None
        label.click(position={"x": bounds["width"] / 2, "y": bounds["height"] - 6})
        checked = long_quiz.locator(".widget-radio-box input").evaluate_all("els => els.map(e => e.checked)")
        assert checked == [False, False, True, False]
        long_quiz.locator("button", has_text="Check").click()
        long_quiz.get_by_text("C is correct.").wait_for()
        long_quiz.screenshot(path=str(ARTIFACTS / f"browser_quiz_{size}_long.png"))
