"""The quiz as a judged check: one criterion per question, so the grader can give partial points.

In the notebook :func:`helpers.quiz.check_answers` marks answers against the quiz file's hashes
(instant feedback; they are no secret). In grading those hashes are masked, and each answer is
judged against the instructor's key: the answers in the solution's own evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from helpers.checks.check import Check
from helpers.checks.context import JudgeContext
from helpers.checks.report import CheckReport
from helpers.evidence_codec import Evidence
from helpers.quiz import Question, answer_number, load_quiz, mark_answer, normalise_choice

MAX_ANSWERS = 200


@dataclass(frozen=True)
class Unmarkable:
    """An answer that is neither text nor a finite number (a bool, a list, nan), as its repr."""

    repr: str


Answer = str | float | Unmarkable | None  # str first: the text "nan" stays text


@dataclass(frozen=True)
class QuizEvidence(Evidence):
    """The answers by question id; ``blank``: why there are none (the answers function still raises)."""

    KIND = "quiz-answers"
    VERSION = 1
    answers: dict[str, Answer]
    blank: str = ""


def _plain(value: object) -> Answer:
    if value is None or isinstance(value, str):
        return value[:100] if isinstance(value, str) else None
    number = answer_number(value)
    return number if number is not None and math.isfinite(number) else Unmarkable(repr(value)[:100])


def _collect(answers: Mapping[str, object] | Callable[[], Mapping[str, object]], quiz: object = None) -> QuizEvidence:
    """The learner's answers (``quiz``, which the notebook's check_answers takes, is not recorded:
    the grader judges against its own quiz file)."""
    if callable(answers) and not isinstance(answers, Mapping):
        try:
            answers = answers()
        except NotImplementedError as exc:
            return QuizEvidence({}, str(exc)[:300] or "fill in the answers")
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a dict like {{'q1': '<letter>', 'q5': <number>}} (or a function returning "
                        f"one), got {type(answers).__name__}")
    return QuizEvidence({str(k)[:40]: _plain(v) for k, v in list(answers.items())[:MAX_ANSWERS]})


def _matches(q: Question, given: Answer, expected: object) -> bool:
    """One answer against the key, with the question's tolerance for numbers."""
    if q.kind == "choice":
        return (isinstance(given, str) and isinstance(expected, str)
                and normalise_choice(given) == normalise_choice(expected))
    number = answer_number(given)
    if number is None or not isinstance(expected, (int, float)):
        return False
    return math.isfinite(number) and abs(number - expected) <= q.tolerance + 1e-9 * max(1.0, abs(expected))


def _judge(evidence: QuizEvidence, context: JudgeContext | None = None) -> CheckReport:
    """Against the instructor's key (``context.key['answers']``) in grading, else the quiz file's hashes."""
    quiz = load_quiz()
    key = context.key.get("answers") if context is not None else None
    report = CheckReport(f"{quiz.title}: {len(quiz.questions)} questions, judged one by one")
    for q in quiz.questions:
        name, given = f"{q.id} ({q.difficulty})", evidence.answers.get(q.id)
        shown = given.repr if isinstance(given, Unmarkable) else given
        if evidence.blank:
            report.add(name, False, f"blank not filled yet: {evidence.blank}")
        elif given is None or (isinstance(given, str) and not given.strip()):
            report.add(name, False, "not answered")
        elif not isinstance(key, Mapping):
            marking = mark_answer(quiz, q.id, shown)
            report.add(name, marking.correct, marking.message)
        elif key.get(q.id) is None:
            report.skip(name, "the instructor's key has no answer for it")
        else:
            report.add(name, _matches(q, given, key[q.id]), f"{shown!r} is not right")
    return report


def key_from(evidence: object) -> dict[str, dict[str, Answer]]:
    """The instructor's key: the answers in the solution's own evidence."""
    if not isinstance(evidence, QuizEvidence) or evidence.blank:
        raise ValueError("the solution's quiz evidence holds no answers")
    return {"answers": dict(evidence.answers)}


# The grader's side of the notebook's check_answers (helpers.quiz prints the learner's own report,
# with each question's explanation): judged per question against the solution's answers.
ANSWERS = Check("check_answers", _collect, _judge, evidence=QuizEvidence, partial=True, needs_key=True)
