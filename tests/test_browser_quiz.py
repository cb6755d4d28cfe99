"""The quiz widget in a real browser, in every view (JupyterLab Light and Dark, at a 1400 px window
and at an 800 px window with the file browser open): every option is one readable block with its own
visible radio button, the feedback of a right, a wrong and a missing answer is readable, and so is
what the kit prints besides widgets (a check report, a sweep-shaped table).

Measured in the page, for every choice question: the options' boxes do not intersect, each radio
button lies inside its own option's box and is the element actually under its centre (nothing drawn
over it), no option's text is clipped, and nothing sticks out of the quiz to the right. A made-up quiz
with very long options makes sure wrapping really happens at both widths, and clicking the third
line of a wrapped option selects that option. In every view, every text of the quizzes and of the
printed outputs has 4.5:1 contrast against what is behind it, and the verdicts start with their
symbol (✓, ✗, …), so colour is never the only sign. Screenshots and the measured contrasts go to
``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import itertools
import json

import pytest
from browser.lab import (
    ARTIFACTS,
    FIXTURES,
    SharedLab,
    boxes_intersect,
    contains,
    rendered_notebook,
    shared_lab,
    skip_without_chromium,
)
from browser.views import MIN_CONTRAST, VIEWS, View, clipping, contrasts, screenshot, show_view

from helpers.quiz import DEFAULT_QUIZ, load_quiz, mark_answer

pytestmark = pytest.mark.browser
skip_without_chromium()

FIXTURE = FIXTURES / "quiz_demo.ipynb"
VERDICTS = {"q1": ("correct", "✓"), "q2": ("wrong", "✗"), "q3": ("unanswered", "…")}

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


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SharedLab:
    return shared_lab(request, tmp_path_factory)


def _answer(page, quiz) -> None:
    """q1 answered right, q2 wrong, q3 checked without an answer (the letters from the quiz file)."""
    data = load_quiz(DEFAULT_QUIZ)
    for qid, (status, symbol) in VERDICTS.items():
        box = quiz.locator(".widget-vbox", has=page.locator(f"button[title='check {qid}']")).last
        box.scroll_into_view_if_needed()
        if status != "unanswered":
            question = next(q for q in data.questions if q.id == qid)
            index = next(i for i, letter in enumerate(question.letters)
                         if mark_answer(data, qid, letter).status == status)
            box.locator(".widget-radio-box input").nth(index).check()
        box.locator("button", has_text="Check").click()
        box.locator(".widget-html", has_text=symbol).last.wait_for()


def _check_view(page, view: View, measured: dict) -> None:
    show_view(page, view)
    counts = _check_layout(page.evaluate(_MEASURE), view.width)
    assert counts["options"] == 9 * 4 + 4  # the warmup quiz's 9 choice questions, and the long one
    assert counts["wrapped"] >= 4, f"the long options should wrap at {view.name} (wrapped: {counts})"
    printed = page.locator(".jp-Cell", has_text="Check: a made-up report").locator(".jp-OutputArea")
    outputs = printed.locator(".jp-OutputArea-output")  # the report (a stream) and the table, not the prompts
    assert outputs.count() == 2
    roots = [*(page.locator(".jp-OutputArea .kit-quiz").nth(i) for i in range(2)), outputs.nth(0), outputs.nth(1)]
    texts = []
    for index, root in enumerate(roots):
        problems = clipping(root, allow_scroll=index == len(roots) - 1)  # the table scrolls sideways
        assert problems == [], f"{view.name}: cut off or sticking out: {problems}"
        texts += [t for t in contrasts(root) if not t["disabled"]]
    low = [t for t in texts if t["ratio"] < MIN_CONTRAST]
    assert not low, f"{view.name}: contrast below {MIN_CONTRAST}: {low}"
    verdicts = [t for t in texts if "kit-tone" in t["classes"]]
    expected = [symbol for _, symbol in VERDICTS.values()] + ["✓"]  # and the long quiz, answered right
    assert sorted(t["text"][0] for t in verdicts) == sorted(expected)
    measured[view.name] = {"lowest": min(texts, key=lambda t: t["ratio"]), "verdicts": verdicts,
                           "printed": [t for t in texts if "made-up" in t["text"] or "weight_decay" in t["text"]]}
    quiz = roots[0]
    for qid in VERDICTS:
        box = quiz.locator(".widget-vbox", has=page.locator(f"button[title='check {qid}']")).last
        box.scroll_into_view_if_needed()
        screenshot(box, f"browser_quiz_{view.name}_{qid}")
    printed.scroll_into_view_if_needed()
    screenshot(printed, f"browser_printed_{view.name}")


def test_quiz_in_every_view(lab: SharedLab) -> None:
    options = ".jp-OutputArea .kit-quiz >> nth=1 >> .kit-quiz-options"
    measured: dict[str, dict] = {}
    with rendered_notebook(lab, FIXTURE, rendered=options, what="the quiz",
                           failure_png="browser_quiz_failure.png") as page:
        page.locator(".jp-OutputArea-output").get_by_text("Check: a made-up report").wait_for()  # not the source
        _answer(page, page.locator(".jp-OutputArea .kit-quiz").first)
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
        for view in VIEWS:
            _check_view(page, view, measured)
            long_quiz.scroll_into_view_if_needed()
            screenshot(long_quiz, f"browser_quiz_{view.name}_long")
    (ARTIFACTS / "browser_quiz_contrast.json").write_text(json.dumps(measured, indent=1))
