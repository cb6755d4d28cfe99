"""The quiz widgets, driven headlessly: set an answer, press Check, read the feedback."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from helpers.quiz import load_quiz
from helpers.quiz_widgets import QuizWidget, quiz_widget


@pytest.fixture
def panel() -> QuizWidget:
    return quiz_widget()


def _choose(panel: QuizWidget, qid: str, letter: str) -> str:
    item = panel.item(qid)
    item.answer.index = item.question.letters.index(letter)
    item.button.click()
    return item.feedback.value


def test_one_box_per_question_with_core_widgets(panel: QuizWidget) -> None:
    quiz = load_quiz()
    assert len(panel.items) == len(quiz.questions)
    assert len(panel.children) == len(quiz.questions) + 1  # header + questions
    for item in panel.items:
        expected = widgets.RadioButtons if item.question.kind == "choice" else widgets.FloatText
        assert isinstance(item.answer, expected)
        assert item.feedback.value == ""  # nothing revealed before answering
        assert item.question.explanation not in item.box.children[0].value


def test_right_choice_shows_tick_and_explanation(panel: QuizWidget) -> None:
    text = _choose(panel, "q2", "C")
    assert "✓ C is correct." in text
    assert "<code>LambdaLR(optimizer, lr_lambda)</code>" in text  # explanation revealed, code formatted
    last = panel.item("q2").last
    assert last is not None and last.correct


def test_wrong_choice_shows_cross_and_explanation(panel: QuizWidget) -> None:
    text = _choose(panel, "q2", "A")
    assert "✗ A is not right." in text and "<code>StepLR</code>" in text


def test_check_without_choice_asks_for_one(panel: QuizWidget) -> None:
    item = panel.item("q1")
    item.button.click()
    assert "Pick one of the options first." in item.feedback.value
    assert item.question.explanation[:30] not in item.feedback.value


def test_number_box_uses_the_tolerance(panel: QuizWidget) -> None:
    item = panel.item("q12")
    item.answer.value = 0.1002
    item.button.click()
    assert "✓ 0.1002 is correct." in item.feedback.value
    item.answer.value = 0.1
    item.button.click()
    assert "✗ 0.1 is not right." in item.feedback.value


def test_changing_the_answer_updates_the_feedback(panel: QuizWidget) -> None:
    assert "✗" in _choose(panel, "q14", "B")
    assert "✓" in _choose(panel, "q14", "A")


def test_unknown_item_is_a_clear_key_error(panel: QuizWidget) -> None:
    with pytest.raises(KeyError, match="no question 'q99'"):
        panel.item("q99")


def test_widget_and_check_answers_agree(panel: QuizWidget) -> None:
    """Every option of every choice question gets the same verdict in the widget as in mark_answer."""
    from helpers.quiz import mark_answer

    quiz = panel.quiz
    for item in panel.items:
        if item.question.kind != "choice":
            continue
        for letter in item.question.letters:
            _choose(panel, item.question.id, letter)
            assert item.last is not None and item.last.correct is mark_answer(quiz, item.question.id, letter).correct
