"""The warmup quiz: its data file, hashed marking (choices and numbers with tolerance), bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.quiz import (
    DEFAULT_QUIZ,
    DIFFICULTIES,
    answer_hash,
    check_answers,
    evaluate_answers,
    load_quiz,
    main,
    mark_answer,
    normalise_number,
)

# The instructor key, kept here and in the solution notebook only (never in the JSON or starter).
KEY: dict[str, object] = {
    "q1": "B", "q2": "C", "q3": "D", "q4": 0.0, "q5": 0.03, "q6": "C", "q7": "B",
    "q8": "A", "q9": "D", "q10": 0.01, "q11": 0.01, "q12": 0.10022, "q13": "D", "q14": "A",
}


@pytest.fixture(scope="module")
def quiz():
    return load_quiz()


def test_quiz_has_enough_questions_across_difficulties(quiz) -> None:
    assert len(quiz.questions) >= 10
    assert {q.difficulty for q in quiz.questions} == set(DIFFICULTIES)
    for q in quiz.questions:
        assert q.explanation.strip() and q.prompt.strip() and q.difficulty in DIFFICULTIES


def test_every_listed_topic_is_covered(quiz) -> None:
    topics = " | ".join(q.topic for q in quiz.questions).lower()
    for topic in ("purpose", "custom function", "not a warmup", "zero lr", "given epoch", "right lambda",
                  "linear vs exponential", "scheduler.step()", "factor, not an lr"):
        assert topic in topics, topic


def test_every_choice_question_has_exactly_one_matching_option(quiz) -> None:
    for q in quiz.questions:
        if q.kind != "choice":
            continue
        matching = [letter for letter in q.letters if answer_hash(quiz.salt, q.id, letter) == q.answer_hash]
        assert len(matching) == 1, q.id


def test_answers_are_not_stored_as_plain_text(quiz) -> None:
    raw = json.loads(DEFAULT_QUIZ.read_text(encoding="utf-8"))
    for item in raw["questions"]:
        assert "answer" not in item and "solution" not in item
        assert len(item["answer_hash"]) == 64


def test_instructor_key_scores_full_marks(quiz) -> None:
    assert set(KEY) == set(quiz.ids)
    report = evaluate_answers(KEY, quiz)
    assert report.passed and len(report.criteria) == len(quiz.questions)
    assert "14/14 correct — well done" in report.text()


def test_wrong_answers_are_wrong_and_explained(quiz) -> None:
    wrong = {qid: ("A" if value != "A" else "B") if isinstance(value, str) else value + 1 for qid, value in KEY.items()}
    report = evaluate_answers(wrong, quiz)
    assert not any(c.passed for c in report.criteria)
    text = report.text()
    assert text.count("✗") == len(quiz.questions)
    assert quiz.question("q1").explanation in text  # explanation shown once answered


def test_choice_answers_ignore_case_and_spaces(quiz) -> None:
    assert mark_answer(quiz, "q2", " c ").correct


def test_number_tolerance(quiz) -> None:
    q12 = quiz.question("q12")  # 0.2 * 451 / 900 = 0.100222..., tolerance 1e-4
    assert q12.tolerance == pytest.approx(1e-4)
    assert mark_answer(quiz, "q12", 0.2 * 451 / 900).correct
    assert mark_answer(quiz, "q12", 0.10030).correct
    assert mark_answer(quiz, "q12", 0.10015).correct
    assert not mark_answer(quiz, "q12", 0.1).correct  # the off-by-one answer (step / 900)
    assert not mark_answer(quiz, "q12", 0.10040).correct
    assert mark_answer(quiz, "q5", "0.03").correct  # numeric text is accepted
    assert mark_answer(quiz, "q5", 3 / 100).correct
    assert mark_answer(quiz, "q4", 0).correct and mark_answer(quiz, "q4", -0.0).correct


def test_number_tolerance_on_a_custom_quiz(tmp_path: Path) -> None:
    salt = "s"
    data = {
        "title": "t", "salt": salt,
        "questions": [{
            "id": "n", "difficulty": "easy", "kind": "number", "prompt": "p", "explanation": "e",
            "decimals": 2, "tolerance": 0.05, "answer_hash": answer_hash(salt, "n", normalise_number(1.5, 2)),
        }],
    }
    path = tmp_path / "quiz.json"
    path.write_text(json.dumps(data))
    custom = load_quiz(path)
    for value, expected in ((1.5, True), (1.45, True), (1.55, True), (1.449, False), (1.56, False), (-1.5, False)):
        assert mark_answer(custom, "n", value).correct is expected, value


@pytest.mark.parametrize(
    ("qid", "value", "fragment"),
    [
        ("q1", 2, "multiple-choice question: answer with one letter (A, B, C, D), got 2"),
        ("q1", "E", "has options A, B, C, D: 'E' is not one of them"),
        ("q1", "B or C", "is not one of them"),
        ("q5", "abc", "asks for a number (e.g. 0.05), got 'abc'"),
        ("q5", True, "asks for a number"),
        ("q5", [0.03], "asks for a number"),
        ("q5", float("nan"), "asks for a number"),
    ],
)
def test_wrong_kinds_get_a_clear_message(quiz, qid: str, value: object, fragment: str) -> None:
    marking = mark_answer(quiz, qid, value)
    assert marking.status == "invalid"
    assert fragment in marking.message


def test_unknown_ids_and_missing_answers_are_reported_not_raised(quiz, capsys) -> None:
    check_answers({"q1": "B", "q99": "A", "Q2": "C"}, quiz)
    out = capsys.readouterr().out
    assert "answers['q99'] belongs to no question" in out
    assert "answers['Q2'] belongs to no question" in out
    assert "✓ q1 (easy): B is correct." in out
    assert "✗ q3 (easy) — not answered yet: set answers['q3'] to one letter (A, B, C, D)" in out
    assert "✗ q10 (hard) — not answered yet: set answers['q10'] to a number" in out
    assert "1/14 correct" in out


def test_an_unfilled_blank_marks_every_question_with_the_hint(quiz) -> None:
    def quiz_answers() -> dict:
        raise NotImplementedError("one line per question, e.g. answers[\"q1\"] = \"B\"")

    report = evaluate_answers(quiz_answers, quiz)
    assert len(report.failed()) == len(quiz.questions)
    assert all(h.startswith("blank not filled yet: one line per question") for h in report.hints())


def test_an_empty_answer_sheet_scores_zero(quiz) -> None:
    report = evaluate_answers(lambda: {}, quiz)
    assert len(report.failed()) == len(quiz.questions)
    assert "0/14 correct" in report.text()


def test_misuse_raises_type_error(quiz) -> None:
    with pytest.raises(TypeError, match="answers must be a dict"):
        evaluate_answers(["B", "C"], quiz)  # type: ignore[arg-type]


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "quiz.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _valid() -> dict:
    return {
        "title": "t", "salt": "s",
        "questions": [{"id": "c", "difficulty": "easy", "kind": "choice", "prompt": "p", "explanation": "e",
                       "options": ["x", "y"], "answer_hash": answer_hash("s", "c", "B")}],
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["questions"][0].update(difficulty="trivial"), "difficulty must be one of"),
        (lambda d: d["questions"][0].update(kind="essay"), "kind must be one of"),
        (lambda d: d["questions"][0].pop("explanation"), "needs a non-empty string 'explanation'"),
        (lambda d: d["questions"][0].update(options=["only one"]), "needs 2-26 options"),
        (lambda d: d["questions"][0].update(answer_hash=answer_hash("s", "c", "C")), "matches none of its options"),
        (lambda d: d["questions"].append(dict(d["questions"][0])), "ids must be unique"),
        (lambda d: d.update(salt=""), "needs a non-empty 'salt'"),
    ],
)
def test_broken_quiz_files_are_rejected_with_the_reason(tmp_path: Path, mutate, message: str) -> None:
    data = _valid()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        load_quiz(_write(tmp_path, data))


def test_unreadable_quiz_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        load_quiz(_write(tmp_path, "{"))
    with pytest.raises(FileNotFoundError, match="no quiz file"):
        load_quiz(tmp_path / "missing.json")


def test_instructor_cli_hash_and_validate(capsys) -> None:
    quiz = load_quiz()
    assert main(["hash", "q2", "c"]) == 0
    assert capsys.readouterr().out.strip() == quiz.question("q2").answer_hash
    assert main(["hash", "q5", "0.03", "--decimals", "4"]) == 0
    assert capsys.readouterr().out.strip() == quiz.question("q5").answer_hash
    assert main(["validate"]) == 0
    assert "14 questions OK" in capsys.readouterr().out


def test_the_starter_does_not_contain_the_key(repo: Path) -> None:
    starter = repo / "notebooks" / "00_warmup_strategies.ipynb"
    if not starter.exists():
        pytest.skip("starter not generated yet (python -m helpers.starters)")
    text = starter.read_text(encoding="utf-8")
    assert 'answers["q1"] = "B"' not in text and "0.10022" not in text
    solution = (repo / "solutions" / "00_warmup_strategies.ipynb").read_text(encoding="utf-8")
    assert 'answers[\\"q1\\"] = \\"B\\"' in solution  # the key lives in the solution's blank
