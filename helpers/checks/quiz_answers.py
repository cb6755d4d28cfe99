"""The quiz as a judged check: answers collected in the notebook, judged per question.

In the notebook :func:`helpers.quiz.check_answers` marks answers against the stored hashes
(instant feedback; the hashes are no secret). In grading the quiz file's hashes are masked, and
the grader judges each question against the instructor's key: the answers the solution itself
gives, taken from the solution's own evidence. Each question is one criterion, so the grader can
give partial points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from helpers.checks.check import Check
from helpers.checks.context import JudgeContext
from helpers.checks.report import CheckReport

MAX_ANSWERS = 200


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value[:100] if isinstance(value, str) else None
    if isinstance(value, bool):
        return {"repr": repr(value)}
    try:
        number = float(value)  # int, float, numpy scalar, 0-d tensor
    except (TypeError, ValueError):
        return {"repr": repr(value)[:100]}
    return number if math.isfinite(number) else {"repr": repr(value)[:100]}


def collect_answers(answers: Mapping[str, object] | Callable[[], Mapping[str, object]], quiz: Any = None,
                    **_: Any) -> dict[str, Any]:
    """The learner's answers as plain data (a blank still raising NotImplementedError noted)."""
    if callable(answers) and not isinstance(answers, Mapping):
        try:
            answers = answers()
        except NotImplementedError as exc:
            return {"blank": str(exc)[:300] or "fill in the answers", "answers": {}}
    if not isinstance(answers, Mapping):
        raise TypeError(
            f"answers must be a dict like {{'q1': '<letter>', 'q5': <number>}} (or a function returning one), "
            f"got {type(answers).__name__}"
        )
    items = list(answers.items())[:MAX_ANSWERS]
    return {"answers": {str(k)[:40]: _plain(v) for k, v in items}, "quiz": getattr(quiz, "title", None)}


def _matches(question: Any, given: Any, expected: Any) -> bool:
    """One answer against the key, with the question's tolerance for numbers."""
    if question.kind == "choice":
        both_text = isinstance(given, str) and isinstance(expected, str)
        return both_text and given.strip().upper() == expected.strip().upper()
    if isinstance(given, str):
        try:
            given = float(given.strip().replace(",", "."))
        except ValueError:
            return False
    if not isinstance(given, (int, float)) or isinstance(given, bool) or not isinstance(expected, (int, float)):
        return False
    slack = 1e-9 * max(1.0, abs(float(expected)))
    return math.isfinite(given) and abs(float(given) - float(expected)) <= question.tolerance + slack


def judge_answers(data: Mapping[str, Any], context: JudgeContext | None = None) -> CheckReport:
    """One criterion per question: against the instructor's key (``context.key['answers']``) in
    grading, against the quiz file's hashes otherwise."""
    from helpers.quiz import load_quiz, mark_answer

    quiz = load_quiz()
    key = (context.key or {}).get("answers") if context is not None else None
    given_answers = data.get("answers")
    answers: Mapping[str, Any] = given_answers if isinstance(given_answers, Mapping) else {}
    report = CheckReport(f"{quiz.title}: {len(quiz.questions)} questions, judged one by one")
    for q in quiz.questions:
        name = f"{q.id} ({q.difficulty})"
        given = answers.get(q.id)
        if data.get("blank"):
            report.add(name, False, f"blank not filled yet: {data['blank']}")
        elif given is None or (isinstance(given, str) and not given.strip()):
            report.add(name, False, "not answered")
        elif isinstance(key, Mapping):
            expected = key.get(q.id)
            if expected is None:
                report.skip(name, "the instructor's key has no answer for it")
            else:
                shown = given if not isinstance(given, Mapping) else given.get("repr")
                report.add(name, _matches(q, given, expected), f"{shown!r} is not right")
        else:
            marking = mark_answer(quiz, q.id, given if not isinstance(given, Mapping) else given.get("repr"))
            report.add(name, marking.correct, marking.message)
    return report


def key_from(data: Mapping[str, Any]) -> dict[str, Any]:
    """The instructor's key: the answers in the solution's own evidence."""
    answers = data.get("answers")
    if data.get("blank") or not isinstance(answers, Mapping):
        raise ValueError("the solution's quiz evidence holds no answers")
    return {"answers": dict(answers)}


# The grader's side of the notebook's check_answers (helpers.quiz prints the learner's own report,
# with each question's explanation): judged per question against the solution's answers.
ANSWERS = Check("check_answers", collect_answers, judge_answers, partial=True, needs_key=True)
