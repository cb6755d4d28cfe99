"""A self-marking quiz whose questions are data and whose answers are stored only as hashes.

Questions live in a JSON file (``helpers/quiz_data/*.json``) so instructors can add or edit them
without touching code. A question's correct answer is kept as ``sha256(salt|id|normalised answer)``:
the learner's notebook and the JSON never show it as text, yet any answer can be marked. The hashes
are **not a secret**: with four options (or a grid of numbers) anyone can hash every candidate and
find the match in seconds. They only keep the key from being read at a glance while a learner
thinks; marks that count come from the instructor's key (the grader), not from this file.

Numbers are marked with a tolerance without storing the number: the answer is a multiple of
``10**-decimals``, so every grid value within the tolerance of the learner's number is hashed and
compared (at most a few thousand hashes).

Instructors: ``kit quiz hash QUESTION_ID ANSWER`` prints the hash for a new answer,
``kit quiz validate [FILE]`` checks a quiz file (:mod:`kit.quiz_keys`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.checks.report import FAIL, PASS, CheckReport, Criterion
from helpers.validate import is_int, is_number

QUIZ_DIR = Path(__file__).with_name("quiz_data")
DEFAULT_QUIZ = QUIZ_DIR / "warmup_quiz.json"
DIFFICULTIES = ("easy", "medium", "hard")
CHOICE, NUMBER = "choice", "number"
KINDS = (CHOICE, NUMBER)
# The keys of a quiz file (kit.grade.verdicts masks it for grading, kit.release for publishing), then of a question.
TITLE_KEY, SALT_KEY, QUESTIONS_KEY = "title", "salt", "questions"
GRADED_BY_INSTRUCTOR_KEY = "graded_by_instructor"
ABOUT_KEY = "about"  # a note to whoever opens the file; no code reads it
ID_KEY, DIFFICULTY_KEY, KIND_KEY, PROMPT_KEY, EXPLANATION_KEY = "id", "difficulty", "kind", "prompt", "explanation"
ANSWER_HASH_KEY, OPTIONS_KEY = "answer_hash", "options"
TOLERANCE_KEY, DECIMALS_KEY, TOPIC_KEY = "tolerance", "decimals", "topic"
MAX_GRID_POINTS = 100_000  # tolerance / 10**-decimals must stay below this (hashing cost)


@dataclass(frozen=True)
class Question:
    """One question as stored in the quiz file."""

    id: str
    difficulty: str
    kind: str
    prompt: str
    explanation: str
    answer_hash: str
    options: tuple[str, ...] = ()
    tolerance: float = 0.0
    decimals: int = 0
    topic: str = ""

    @property
    def letters(self) -> tuple[str, ...]:
        """Option letters ``A``, ``B``, ... in the order of ``options``."""
        return tuple(string.ascii_uppercase[: len(self.options)])


@dataclass(frozen=True)
class Quiz:
    """A titled list of questions and the salt their answers were hashed with."""

    title: str
    salt: str
    questions: tuple[Question, ...]
    # Set in the grader's copy of the quiz file, whose hashes are decoys: marking here would mislead.
    graded_by_instructor: bool = False

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"no question {question_id!r} in this quiz (ids: {', '.join(self.ids)})")


# ---------------------------------------------------------------------------------------------
# Hashing


def answer_hash(salt: str, question_id: str, normalised: str) -> str:
    """The stored form of an answer: hex sha256 of ``salt|question_id|normalised``."""
    return hashlib.sha256(f"{salt}|{question_id}|{normalised}".encode()).hexdigest()


def _grid_text(k: int, decimals: int) -> str:
    """Canonical text of the grid value ``k * 10**-decimals`` (``-0.050`` style, never ``-0``)."""
    if decimals == 0:
        return str(k)
    sign = "-" if k < 0 else ""
    digits = str(abs(k)).rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def normalise_number(value: float, decimals: int) -> str:
    """The text a numeric answer is hashed as: rounded to ``decimals`` places."""
    return _grid_text(round(value * 10**decimals), decimals)


def normalise_choice(value: str) -> str:
    return value.strip().upper()


def plain(text: str) -> str:
    """Quiz texts mark code with Markdown backticks for the widget; printed output shows plain text."""
    return text.replace("`", "")


# ---------------------------------------------------------------------------------------------
# Loading and validating


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{where}: {message}")


def _parse_question(raw: Any, where: str) -> Question:
    _require(isinstance(raw, dict), where, "each question must be a JSON object")
    for key in (ID_KEY, DIFFICULTY_KEY, KIND_KEY, PROMPT_KEY, EXPLANATION_KEY, ANSWER_HASH_KEY):
        _require(isinstance(raw.get(key), str) and raw[key].strip() != "", where, f"needs a non-empty string {key!r}")
    where = f"{where} ({raw[ID_KEY]})"
    _require(raw[DIFFICULTY_KEY] in DIFFICULTIES, where, f"{DIFFICULTY_KEY} must be one of {DIFFICULTIES}")
    _require(raw[KIND_KEY] in KINDS, where, f"{KIND_KEY} must be one of {KINDS}")
    _require(len(raw[ANSWER_HASH_KEY]) == 64, where, f"{ANSWER_HASH_KEY} must be a hex sha256 (64 characters)")
    options: tuple[str, ...] = ()
    tolerance, decimals = 0.0, 0
    if raw[KIND_KEY] == CHOICE:
        opts = raw.get(OPTIONS_KEY)
        _require(isinstance(opts, list) and 2 <= len(opts) <= 26, where,
                 f"a {CHOICE} question needs 2-26 {OPTIONS_KEY}")
        _require(all(isinstance(o, str) and o.strip() for o in opts), where, f"{OPTIONS_KEY} must be non-empty strings")
        options = tuple(opts)
    else:
        _require(OPTIONS_KEY not in raw, where, f"a {NUMBER} question has no {OPTIONS_KEY}")
        tolerance, decimals = raw.get(TOLERANCE_KEY), raw.get(DECIMALS_KEY)
        _require(
            is_number(tolerance) and tolerance >= 0,
            where,
            f"a {NUMBER} question needs a {TOLERANCE_KEY} >= 0",
        )
        _require(
            is_int(decimals) and 0 <= decimals <= 9,
            where,
            f"a {NUMBER} question needs {DECIMALS_KEY}, a whole number 0-9",
        )
        _require(tolerance * 10**decimals < MAX_GRID_POINTS / 2, where, "tolerance too wide for its decimals")
    return Question(
        id=raw[ID_KEY],
        difficulty=raw[DIFFICULTY_KEY],
        kind=raw[KIND_KEY],
        prompt=raw[PROMPT_KEY],
        explanation=raw[EXPLANATION_KEY],
        answer_hash=raw[ANSWER_HASH_KEY].lower(),
        options=options,
        tolerance=float(tolerance),
        decimals=int(decimals),
        topic=str(raw.get(TOPIC_KEY, "")),
    )


def load_quiz(path: str | os.PathLike = DEFAULT_QUIZ) -> Quiz:
    """Read and validate a quiz file; a broken file gets an error naming the question and field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no quiz file at {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: not valid JSON: {exc}") from exc
    _require(isinstance(data, dict), path.name,
             f"the top level must be an object with {TITLE_KEY!r}, {SALT_KEY!r}, {QUESTIONS_KEY!r}")
    _require(isinstance(data.get(SALT_KEY), str) and data[SALT_KEY] != "", path.name, f"needs a non-empty {SALT_KEY!r}")
    raw_questions = data.get(QUESTIONS_KEY)
    _require(isinstance(raw_questions, list) and bool(raw_questions), path.name,
             f"needs a non-empty {QUESTIONS_KEY!r} list")
    questions = tuple(_parse_question(raw, f"{path.name} question {i + 1}") for i, raw in enumerate(raw_questions))
    ids = [q.id for q in questions]
    _require(len(set(ids)) == len(ids), path.name, "question ids must be unique")
    quiz = Quiz(title=str(data.get(TITLE_KEY, path.stem)), salt=data[SALT_KEY], questions=questions,
                graded_by_instructor=data.get(GRADED_BY_INSTRUCTOR_KEY) is True)
    for q in questions:
        if q.kind == CHOICE:
            matches = [letter for letter in q.letters if answer_hash(quiz.salt, q.id, letter) == q.answer_hash]
            _require(len(matches) == 1, f"{path.name} ({q.id})", "the answer hash matches none of its options")
    return quiz


# ---------------------------------------------------------------------------------------------
# Marking one answer


@dataclass(frozen=True)
class Marking:
    """The verdict on one answer: ``status`` is correct, wrong, invalid or unanswered."""

    question: Question
    status: str
    message: str
    given: object = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def feedback(self) -> str:
        """What the learner reads: the verdict and, once an answer was marked, the explanation."""
        if self.status in ("correct", "wrong"):
            return f"{self.message} {plain(self.question.explanation)}"
        return self.message


def answer_number(value: object) -> float | None:
    """A numeric answer as a float (text with a decimal comma too); None if it is no number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    try:  # numpy scalars, 0-d tensors
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _number_matches(quiz_salt: str, q: Question, x: float) -> bool:
    unit = 10.0**-q.decimals
    slack = 1e-9 * max(1.0, abs(x))  # float rounding at the tolerance boundary
    low = math.ceil((x - q.tolerance - slack) / unit)
    high = math.floor((x + q.tolerance + slack) / unit)
    if high - low > MAX_GRID_POINTS:
        return False
    for k in range(low, high + 1):
        if abs(k * unit - x) <= q.tolerance + slack and answer_hash(quiz_salt, q.id,
                                                                    _grid_text(k, q.decimals)) == q.answer_hash:
            return True
    return False


def mark_answer(quiz: Quiz, question_id: str, value: object) -> Marking:
    """Mark one answer; a value of the wrong kind is ``invalid`` with a message, never an exception."""
    q = quiz.question(question_id)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return Marking(q, "unanswered", f"not answered yet: set answers[{q.id!r}] to {_example(q)}")
    if q.kind == CHOICE:
        letters = ", ".join(q.letters)
        if not isinstance(value, str):
            return Marking(
                q, "invalid",
                    f"{q.id} is a multiple-choice question: answer with one letter ({letters}), got {value!r}", value
            )
        letter = normalise_choice(value)
        if letter not in q.letters:
            return Marking(q, "invalid", f"{q.id} has options {letters}: {value!r} is not one of them", value)
        if answer_hash(quiz.salt, q.id, letter) == q.answer_hash:
            return Marking(q, "correct", f"{letter} is correct.", value)
        return Marking(q, "wrong", f"{letter} is not right.", value)
    number = answer_number(value)
    if number is None or not math.isfinite(number):
        return Marking(q, "invalid", f"{q.id} asks for a number (e.g. 0.05), got {value!r}", value)
    shown = f"{number:g}"
    if _number_matches(quiz.salt, q, number):
        return Marking(q, "correct", f"{shown} is correct.", value)
    return Marking(q, "wrong", f"{shown} is not right.", value)


def _example(q: Question) -> str:
    """What kind of value to give, without suggesting any particular one."""
    return f"one letter ({', '.join(q.letters)})" if q.kind == CHOICE else "a number"


# ---------------------------------------------------------------------------------------------
# Marking a whole answer sheet


@dataclass
class QuizReport(CheckReport):
    """A :class:`CheckReport` with one criterion per question, plus each question's explanation
    and notes about answers that belong to no question."""

    markings: list[Marking] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # the answer function itself failed: one line instead of one per question

    def text(self) -> str:
        lines = [self.title, *(f"  ! {note}" for note in self.notes)]
        if not self.markings and self.notes:  # not marked here (the grader's copy of the quiz)
            return "\n".join(lines)
        if self.problem is not None:
            lines.append(f"  {FAIL} all {len(self.markings)} questions — {self.problem}")
            lines.append(f"  0/{len(self.markings)} correct")
            return "\n".join(lines)
        for marking in self.markings:
            q = marking.question
            head = f"{q.id} ({q.difficulty})"
            if marking.correct:
                lines.append(f"  {PASS} {head}: {marking.message}")
            else:
                lines.append(f"  {FAIL} {head} — {marking.message}")
            if marking.status in ("correct", "wrong"):
                lines.append(f"      {plain(q.explanation)}")
        right = sum(m.correct for m in self.markings)
        total = len(self.markings)
        lines.append(f"  {right}/{total} correct" + (" — well done" if right == total else ""))
        return "\n".join(lines)


AnswerSheet = Mapping[str, object] | Callable[[], Mapping[str, object]]


def _call_answers(function: Callable[[], Any]) -> tuple[Any, str | None]:
    """Call the learner's answers function: (its dict, None), or ({}, why every question is ✗)."""
    name = getattr(function, "__name__", "") if getattr(function, "__name__", "").isidentifier() else "your function"
    try:
        answers = function()
    except NotImplementedError as exc:
        return {}, plain(f"blank not filled yet: {exc}" if str(exc) else "blank not filled yet: fill in the answers")
    except Exception as exc:  # noqa: BLE001 - learner code: report, never a traceback from here
        return {}, plain(f"{name}() raised {type(exc).__name__}: {exc}")
    if answers is None:
        return {}, plain(f"{name}() returned None, not a dict: is its last line, return answers, missing?")
    if not isinstance(answers, Mapping):
        return {}, plain(f"{name}() returned a {type(answers).__name__}, not a dict of answers by question id")
    return answers, None


def evaluate_answers(answers: AnswerSheet, quiz: Quiz | None = None) -> QuizReport:
    """Mark every question of ``quiz`` (the warmup quiz by default) against ``answers``.

    ``answers`` is a dict ``{"q1": "<letter>", "q4": <number>, ...}`` or a function returning
    one. The function is learner code: if it still raises ``NotImplementedError`` (an unfilled
    blank), raises anything else, or returns something other than a dict (``None`` when the
    ``return`` is missing), every question is marked ✗ with that reason instead of raising.
    """
    quiz = quiz if quiz is not None else load_quiz()
    report = QuizReport(title=f"{quiz.title}: {len(quiz.questions)} questions")
    if quiz.graded_by_instructor:
        report.notes.append("not marked here: while grading, the quiz file's hashes are decoys and the "
                            "instructor's grader marks your answers against its own key")
        return report
    problem: str | None = None
    if callable(answers) and not isinstance(answers, Mapping):
        answers, problem = _call_answers(answers)
        if problem is not None:
            report.problem = problem
    if not isinstance(answers, Mapping):
        raise TypeError(
            "answers must be a dict like {'q1': '<letter>', 'q4': <number>} (or a function returning one), "
            f"got {type(answers).__name__}"
        )
    known = set(quiz.ids)
    for key in answers:
        if key not in known:
            report.notes.append(
                f"answers[{key!r}] belongs to no question: this quiz has ids {', '.join(quiz.ids)}"
            )
    for q in quiz.questions:
        if problem is not None:
            marking = Marking(q, "unanswered", problem)
        else:
            marking = mark_answer(quiz, q.id, answers.get(q.id))
        report.markings.append(marking)
        report.criteria.append(_criterion(marking))
    return report


def _criterion(marking: Marking) -> Criterion:
    """The question as a criterion of the shared report (what the grader counts)."""
    return Criterion(f"{marking.question.id} ({marking.question.difficulty})", marking.correct, marking.message)


def check_answers(answers: AnswerSheet, quiz: Quiz | None = None) -> None:
    """Print one ✓/✗ line per question, with its explanation once answered."""
    evaluate_answers(answers, quiz).show()
