"""The warmup quiz: its data file, hashed marking (choices and numbers with tolerance), bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.checks.quiz_answers import QuizEvidence
from helpers.evidence_codec import EvidenceError, from_plain, to_plain
from helpers.quiz import (
    DEFAULT_QUIZ,
    DIFFICULTIES,
    answer_hash,
    check_answers,
    evaluate_answers,
    load_quiz,
    mark_answer,
    normalise_number,
)
from kit.quiz_keys import main

# The instructor key, kept here and in the solution notebook only (never in the JSON or starter).
KEY: dict[str, str | float] = {
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
    report = evaluate_answers(dict, quiz)
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
        pytest.skip("starter not generated yet (kit assign)")
    text = starter.read_text(encoding="utf-8")
    assert 'answers["q1"] = "B"' not in text and "0.10022" not in text
    solution = (repo / "solutions" / "00_warmup_strategies.ipynb").read_text(encoding="utf-8")
    assert 'answers[\\"q1\\"] = \\"B\\"' in solution  # the key lives in the solution's blank


# --- the key in the solution, option lengths, honest wording, learner-code failures ------------------


def _solution_key(repo: Path) -> dict[str, object]:
    """The plain answers of solutions/00's ``quiz_answers()``, by running that function's cell alone."""
    import nbformat

    nb = nbformat.read(repo / "solutions" / "00_warmup_strategies.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.get("id") == "ex0-blank-quiz"]
    namespace: dict[str, object] = {}
    exec(compile(cell.source, "ex0-blank-quiz", "exec"), namespace)
    return dict(namespace["quiz_answers"]())  # type: ignore[operator]


def test_solution_key_matches_the_hashes_and_this_test(quiz, repo: Path) -> None:
    key = _solution_key(repo)
    assert key == KEY  # one key, in the solution and here
    report = evaluate_answers(key, quiz)
    assert report.passed, report.text()


def _choice_lengths(quiz) -> list[tuple[str, list[int], int]]:
    rows = []
    for q in quiz.questions:
        if q.kind == "choice":
            lengths = [len(option.replace("`", "")) for option in q.options]
            rows.append((q.id, lengths, q.letters.index(str(KEY[q.id]))))
    return rows


def clear_longest(lengths: list[int], right: int, ratio: float = 1.2) -> bool:
    """The right option is the *clear* longest: more than ``ratio`` times every other option."""
    others = [n for i, n in enumerate(lengths) if i != right]
    return lengths[right] > ratio * max(others)


def test_clear_longest_definition() -> None:
    assert clear_longest([10, 30, 12, 11], 1)
    assert not clear_longest([10, 30, 26, 11], 1)  # 30 < 1.2 x 26
    assert not clear_longest([40, 30, 12, 11], 1)


def test_the_right_option_is_rarely_the_clear_longest(quiz) -> None:
    rows = _choice_lengths(quiz)
    giveaways = [qid for qid, lengths, right in rows if clear_longest(lengths, right)]
    assert len(giveaways) <= len(rows) / 4, f"right option is > 1.2x the next longest in {giveaways}"
    # and length is not a tell in the weaker sense either: right is the strict longest in at most a quarter
    strict = [qid for qid, lengths,
              right in rows if lengths[right] > max(n for i, n in enumerate(lengths) if i != right)]
    assert len(strict) <= len(rows) / 4, strict


def test_readme_and_notebook_say_the_hashes_are_no_secret(repo: Path) -> None:
    import nbformat

    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert "won't give them away" not in readme and "not a secret" in readme
    nb = nbformat.read(repo / "solutions" / "00_warmup_strategies.ipynb", as_version=4)
    (intro,) = [c for c in nb.cells if c.get("id") == "ex0-quiz-md"]
    assert "won't give them away" not in intro.source and "not a secret" in intro.source
    assert "not a secret" in json.loads(DEFAULT_QUIZ.read_text(encoding="utf-8"))["about"]


def test_error_examples_hold_no_real_answer(quiz) -> None:
    """Every example value in quiz messages and docstrings is marked, and none is right."""
    import re

    import helpers.quiz as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    messages = [
        mark_answer(quiz, q.id, bad).message for q in quiz.questions for bad in ("zz", None, [1])
    ]
    try:
        evaluate_answers(["B"], quiz)  # type: ignore[arg-type]
    except TypeError as exc:
        messages.append(str(exc))
    text = source + "\n".join(messages)
    pairs = re.findall(r"""['"](q\d+)['"]\]?\s*[:=]\s*([^,}\s)]+)""", text)
    assert pairs, "the examples should still show the shape of an answer"
    for qid, raw in pairs:
        value = raw.strip("'\"")
        if qid in quiz.ids:
            assert not mark_answer(quiz, qid, value).correct, f"example {qid} = {raw} is a real answer"
    for example in re.findall(r"e\.g\. (-?\d+\.\d+)", text):  # numbers suggested in messages
        assert not any(mark_answer(quiz, q.id, float(example)).correct for q in quiz.questions if q.kind == "number")


@pytest.mark.parametrize(
    ("returned", "fragment"),
    [(None, "quiz_answers() returned None, not a dict: is its last line, return answers, missing?"),
     (["B"], "quiz_answers() returned a list, not a dict")],
)
def test_an_answer_function_that_returns_no_dict_is_a_cross_line(quiz, returned, fragment, capsys) -> None:
    def quiz_answers():
        answers = {"q1": "B"}
        answers["q2"] = "C"
        return returned

    check_answers(quiz_answers, quiz)  # never raises
    out = capsys.readouterr().out
    assert f"✗ all 14 questions — {fragment}" in out and "0/14 correct" in out
    assert "`" not in out and "Traceback" not in out
    report = evaluate_answers(quiz_answers, quiz)
    assert len(report.failed()) == len(quiz.questions)  # the grader still counts every question


def test_an_answer_function_that_raises_is_a_cross_line(quiz, capsys) -> None:
    def quiz_answers():
        return {"q1": undefined_name}  # type: ignore[name-defined]  # noqa: F821

    check_answers(quiz_answers, quiz)
    assert "quiz_answers() raised NameError" in capsys.readouterr().out


def test_printed_explanations_have_no_markdown_backticks(quiz, capsys) -> None:
    check_answers(KEY, quiz)
    out = capsys.readouterr().out
    assert "`" not in out and "LambdaLR(optimizer, lr_lambda)" in out


def test_the_graders_decoy_quiz_file_is_not_marked_in_the_kernel(tmp_path: Path) -> None:
    """In grading the quiz file's hashes are decoys: the notebook's check says so instead of
    marking answers against them (which would show ✗ for right answers)."""
    from helpers.quiz import QUIZ_DIR
    from kit.grade.verdicts import quiz_masks

    masked = quiz_masks(seed=1)[f"helpers/quiz_data/{DEFAULT_QUIZ.name}"]
    (tmp_path / DEFAULT_QUIZ.name).write_bytes(masked)
    decoy = load_quiz(tmp_path / DEFAULT_QUIZ.name)
    assert decoy.graded_by_instructor and not load_quiz().graded_by_instructor
    assert DEFAULT_QUIZ.parent == QUIZ_DIR
    report = evaluate_answers({q.id: "A" for q in decoy.questions}, decoy)
    text = report.text()
    assert "not marked here" in text and "instructor's grader" in text
    assert report.criteria == [] and "✓" not in text and "✗" not in text


# --------------------------------------------------------------------------- the graded check's evidence

def _reloaded(evidence: QuizEvidence) -> QuizEvidence:
    """The evidence as the grader reads it: written as JSON, loaded back through the codec."""

    plain = json.loads(json.dumps(to_plain(evidence, lambda value: None)))
    return from_plain(QuizEvidence, plain, lambda kind, reference: None)


def test_quiz_evidence_survives_json_and_keeps_what_each_answer_is() -> None:
    """Text stays text (even "nan"), numbers are floats, anything else is shown as its repr."""
    import numpy as np

    from helpers.checks.quiz_answers import ANSWERS, Unmarkable, key_from

    evidence = ANSWERS.collect({"q1": " b ", "q2": True, "q3": ["B"], "q4": float("nan"), "q5": np.float32(0.5),
                                "q6": "nan", "q7": None, "q8": 3})
    assert evidence.answers == {"q1": " b ", "q2": Unmarkable("True"), "q3": Unmarkable("['B']"),
                                "q4": Unmarkable("nan"), "q5": 0.5, "q6": "nan", "q7": None, "q8": 3.0}
    assert _reloaded(evidence) == evidence
    assert key_from(_reloaded(evidence)) == {"answers": evidence.answers}
    for no_key in (QuizEvidence({}, "fill in the answers"), {"answers": {"q1": "B"}}, None):
        with pytest.raises(ValueError, match="holds no answers"):
            key_from(no_key)


@pytest.mark.parametrize("forged", [
    {"answers": {"q1": ["B"]}},  # a list where an answer belongs
    {"answers": {"q1": {"repr": "B", "correct": True}}},  # an unknown field
    {"answers": "B"},
    {"answers": {}, "blank": 3},
    {"answers": {}, "score": 14},
])
def test_forged_quiz_evidence_is_refused_on_load(forged: dict) -> None:
    with pytest.raises(EvidenceError):
        from_plain(QuizEvidence, forged, lambda kind, reference: None)


def test_the_grader_judges_each_question_against_the_key(quiz) -> None:
    from helpers.checks.context import JudgeContext
    from helpers.checks.quiz_answers import ANSWERS, key_from

    key = key_from(_reloaded(ANSWERS.collect(KEY)))
    right = ANSWERS.judge(_reloaded(ANSWERS.collect(dict(KEY, q12="0,10025"))), JudgeContext(grader=True, key=key))
    assert right.passed and len(right.criteria) == len(quiz.questions)
    wrong = ANSWERS.judge(_reloaded(ANSWERS.collect(dict(KEY, q1=True, q4="nan"))), JudgeContext(grader=True, key=key))
    assert {c.name: c.hint for c in wrong.failed()} == {"q1 (easy)": "'True' is not right",
                                                       "q4 (easy)": "'nan' is not right"}
