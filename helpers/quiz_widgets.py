"""The warmup quiz as clickable widgets: radio buttons or a number box, a Check button, feedback.

Only core controls common to ipywidgets 7.7.1 (Colab's) and 8.x are used, which JupyterLab,
Notebook 7, Colab and Lightning Studio render without installing anything; anything that differs
between the two versions goes through :mod:`helpers.widgets_compat`. Marking goes through
:func:`helpers.quiz.mark_answer`,
so the widgets and the gradeable ``check_answers`` cell always agree.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass

import ipywidgets as widgets

from helpers.quiz import DEFAULT_QUIZ, Marking, Question, Quiz, load_quiz, mark_answer
from helpers.theme import stylesheet, tone_class

HONEST_NOTE = (
    "The answers are checked against salted hashes in the quiz file. They are not a secret (hashing each "
    "option finds the match), only out of sight: the quiz helps if you think before you check."
)

# Colours come from the theme (helpers.theme); the symbols alone tell the statuses apart.
_TONES = {"correct": "success", "wrong": "error", "invalid": "warn", "unanswered": "muted"}
_ICONS = {"correct": "✓", "wrong": "✗", "invalid": "!", "unanswered": "…"}


def _rich(text: str) -> str:
    """Escape text for HTML and show `backticked` spans as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _plain(text: str) -> str:
    """Option labels are plain text in a RadioButtons: just drop the backticks."""
    return text.replace("`", "")


@dataclass
class QuestionWidget:
    """The controls of one question; tests set ``answer.value`` and call ``button.click()``."""

    question: Question
    answer: widgets.RadioButtons | widgets.FloatText
    button: widgets.Button
    feedback: widgets.HTML
    box: widgets.VBox
    last: Marking | None = None

    def value(self) -> object:
        """The learner's current answer: an option letter (or None) or the number typed."""
        if isinstance(self.answer, widgets.RadioButtons):
            index = self.answer.index
            return None if index is None else self.question.letters[index]
        return self.answer.value


def _show(feedback: widgets.HTML, marking: Marking) -> None:
    """The verdict in its tone (symbol first), the explanation below it in the normal text colour."""
    tone = tone_class(_TONES[marking.status])
    explanation = (
        f'<div style="margin-top:4px">{_rich(marking.question.explanation)}</div>'
        if marking.status in ("correct", "wrong")
        else ""
    )
    feedback.value = f'<div><b class="{tone}">{_ICONS[marking.status]} {_rich(marking.message)}</b>{explanation}</div>'


def question_widget(quiz: Quiz, question: Question, number: int | None = None) -> QuestionWidget:
    """Build the widgets of one question; the explanation appears only after Check is pressed."""
    title = f"Question {number if number is not None else question.id} · {question.difficulty}"
    prompt = widgets.HTML(f"<b>{html.escape(title)}</b><br>{_rich(question.prompt)}")
    if question.kind == "choice":
        labels = [f"{letter}. {_plain(text)}" for letter, text in zip(question.letters, question.options, strict=True)]
        answer: widgets.RadioButtons | widgets.FloatText = widgets.RadioButtons(
            options=labels, value=None, layout=widgets.Layout(width="100%")
        )
        answer.add_class("kit-quiz-options")
    else:
        answer = widgets.FloatText(value=0.0, description="answer", step=None)
    button = widgets.Button(description="Check", button_style="primary", tooltip=f"check {question.id}")
    feedback = widgets.HTML("")
    box = widgets.VBox([prompt, answer, button, feedback], layout=widgets.Layout(margin="0 0 16px 0"))
    item = QuestionWidget(question, answer, button, feedback, box)

    def on_check(_: widgets.Button) -> None:
        value = item.value()
        if value is None:
            item.last = Marking(question, "unanswered", "Pick one of the options first.")
        else:
            item.last = mark_answer(quiz, question.id, value)
        _show(feedback, item.last)

    button.on_click(on_check)
    return item


class QuizWidget(widgets.VBox):
    """All questions in one scrollable column; ``items`` holds each question's controls."""

    def __init__(self, quiz: Quiz) -> None:
        self.quiz = quiz
        self.items = [question_widget(quiz, q, i + 1) for i, q in enumerate(quiz.questions)]
        header = widgets.HTML(
            f"{stylesheet()}<h4>{html.escape(quiz.title)}</h4>Pick an answer and press <b>Check</b>; "
            f"the explanation appears once you have answered.<br><small>{html.escape(HONEST_NOTE)}</small>"
        )
        super().__init__([header, *(item.box for item in self.items)], layout=widgets.Layout(width="100%"))
        self.add_class("kit-quiz")

    def item(self, question_id: str) -> QuestionWidget:
        for item in self.items:
            if item.question.id == question_id:
                return item
        raise KeyError(f"no question {question_id!r} (ids: {', '.join(self.quiz.ids)})")


def quiz_widget(path: str | os.PathLike = DEFAULT_QUIZ) -> QuizWidget:
    """Show the quiz in ``path`` (the warmup quiz by default) as interactive widgets."""
    return QuizWidget(load_quiz(path))
