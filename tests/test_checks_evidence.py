"""Evidence without a kernel: collect -> files -> judge round trips, bad evidence, probes, masks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import helpers
from helpers.checks.context import JudgeContext, draw_probes, unfriendly
from helpers.evidence import EvidenceError, load_record, read_folder, record_cell
from helpers.quiz import answer_hash, load_quiz
from kit.grade import rows as R
from kit.grade import verdicts as V
from kit.grade.registry import Check

GOOD = '''
def make_warmup_scheduler(optimizer, num_epochs):
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=int(0.25 * num_epochs), max_epochs=num_epochs,
                                         warmup_start_lr=0.0)
'''


def _namespace(source: str) -> dict:
    namespace: dict = {}
    exec("from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR\n" + source, namespace)
    return namespace


def _check(source: str, check_id: str = "c1") -> Check:
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    return Check(id=check_id, position=0, hidden=False, points=1, needs_training=False, cell=cell)


def _record(tmp_path: Path, namespace: dict, source: str, seed: int = 7) -> dict[str, bytes]:
    record_cell("c1", source, namespace, V.collect_options(seed), fallback_dir=str(tmp_path))
    return read_folder(tmp_path)


CALL = "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs)"


@pytest.mark.parametrize("seed", range(40))
def test_probes_avoid_friendly_lengths_and_include_fractional_quarters(seed: int) -> None:
    probes = draw_probes(seed)
    assert len(set(probes)) == 3 and all(30 <= p <= 400 and unfriendly(p) for p in probes)
    assert sum(p % 4 != 0 for p in probes) == 2 and probes[0] < 100 < probes[1]
    assert draw_probes(seed) == probes  # seeded


def test_round_trip_judges_like_the_learner_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIT_EVIDENCE_DIR", raising=False)
    files = _record(tmp_path, {**_namespace(GOOD), "num_epochs": 4}, CALL)
    check = _check(CALL)
    verdict = V.judge_evidence(check, ["check_warmup_schedule"], files,
                               JudgeContext(draw_probes(7), grader=True, quick=4))
    assert verdict is not None and (verdict.status, verdict.fraction, verdict.learner_epochs) == (R.PASSED, 1.0, (4,))
    # The evidence holds the course length and the probes, whatever length the notebook used.
    data = load_record(files, "c1")[0]["data"]
    assert set(data["runs"]) == {str(n) for n in (4, 100, *draw_probes(7))}


def test_hard_coded_lengths_fail_at_a_probe(tmp_path: Path) -> None:
    source = GOOD.replace("int(0.25 * num_epochs)", "25 if num_epochs == 100 else 10")
    files = _record(tmp_path, {**_namespace(source), "num_epochs": 100}, CALL)
    verdict = V.judge_evidence(_check(CALL), ["check_warmup_schedule"], files,
                               JudgeContext(draw_probes(7), grader=True))
    assert verdict is not None and verdict.status == R.FAILED and "✗ lengths follow num_epochs" in verdict.message


def test_a_deleted_function_is_an_error_not_a_crash(tmp_path: Path) -> None:
    files = _record(tmp_path, {"num_epochs": 100, "check_warmup_schedule": None}, CALL)
    verdict = V.judge_evidence(_check(CALL), ["check_warmup_schedule"], files, JudgeContext(grader=True))
    assert verdict is not None and verdict.status == R.ERROR and "NameError" in verdict.message


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda files: {}, None),  # nothing written: the caller explains with the cell's result
        (lambda files: {**files, "c1.json": b"{not json"}, "not valid JSON"),
        (lambda files: {**files, "c1.json": b'{"check": "other", "calls": []}'}, "grader's format"),
        (lambda files: {**files, "c1.json": b"[" * 100_000 + b"]" * 100_000}, "not valid JSON"),
        (lambda files: {**files, "c1.json": b" " * 9_000_000}, "larger than"),
        (lambda files: {k: v for k, v in files.items() if not k.endswith(".npy")}, "is missing"),
        (lambda files: {k: (_pickled() if k.endswith(".npy") else v) for k, v in files.items()}, "not a numpy array"),
        (lambda files: {k: (b"\x00" * 64 if k.endswith(".npy") else v) for k, v in files.items()}, "not a numpy array"),
    ],
    ids=["missing", "garbled", "foreign", "deep", "oversized", "lost-array", "pickled-array", "garbage-array"],
)
def test_bad_evidence_fails_with_a_specific_message(tmp_path: Path, mangle,
                                                    expected) -> None:
    files = mangle(_record(tmp_path, {**_namespace(GOOD), "num_epochs": 100}, CALL))
    try:
        verdict = V.judge_evidence(_check(CALL), ["check_warmup_schedule"], files, JudgeContext(grader=True))
    except EvidenceError as exc:  # pragma: no cover - must not escape
        pytest.fail(f"escaped: {exc}")
    if expected is None:
        assert verdict is None
    else:
        assert verdict is not None and verdict.status == R.FAILED and expected in verdict.message, verdict


def _pickled() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def test_weights_load_only_tensors(tmp_path: Path) -> None:
    from helpers.evidence import _load_tensors

    good = io.BytesIO()
    torch.save({"model.w": torch.ones(2)}, good)
    assert set(_load_tensors({"w.pt": good.getvalue()}, "w.pt")) == {"model.w"}

    class Evil:
        def __reduce__(self):  # would run code when unpickled without weights_only
            return (print, ("pwned",))

    bad = io.BytesIO()
    torch.save({"x": Evil()}, bad)
    with pytest.raises(EvidenceError, match="not a weights file"):
        _load_tensors({"w.pt": bad.getvalue()}, "w.pt")


def test_quiz_masks_are_valid_decoys() -> None:
    real = load_quiz()
    masked = V.quiz_masks(seed=3)["helpers/quiz_data/warmup_quiz.json"]
    data = json.loads(masked)
    assert data["graded_by_instructor"] is True
    path = Path(helpers.__file__).parent / "quiz_data" / "warmup_quiz.json"
    by_id = {q["id"]: q for q in data["questions"]}
    numbers = [q for q in real.questions if q.kind == "number"]
    assert numbers and all(by_id[q.id]["answer_hash"] != q.answer_hash for q in numbers)
    # Every choice decoy is the hash of one of its own options, so the masked file still loads.
    for q in real.questions:
        if q.kind == "choice":
            assert any(answer_hash(real.salt, q.id, letter) == by_id[q.id]["answer_hash"] for letter in q.letters)
    tmp = path.parent / "_masked_test.json"
    try:
        tmp.write_bytes(masked)
        assert len(load_quiz(tmp).questions) == len(real.questions)
    finally:
        tmp.unlink()


def test_hint_masks_keep_only_the_first_level() -> None:
    masks = V.hint_masks()
    if not masks:
        pytest.skip("no hint data in this checkout")
    data = json.loads(masks["helpers/hint_data/hints.json"])
    assert data["blanks"] and all(len(levels) == 1 for levels in data["blanks"].values())


def test_quiz_judged_per_question_with_tolerance() -> None:
    from helpers.checks.quiz_answers import ANSWERS

    key = {"answers": {"q1": "B", "q12": 0.10022, "q5": 0.03}}
    data = ANSWERS.collect({"q1": " b ", "q12": "0,10030", "q5": np.float32(0.03)})
    report = ANSWERS.judge(data, JudgeContext(grader=True, key=key))
    lines = {c.name.split()[0]: c.passed for c in report.criteria}
    assert lines["q1"] and lines["q12"] and lines["q5"]  # case, decimal comma, numpy float
    assert lines["q2"] is False  # not answered
    wrong = ANSWERS.judge(ANSWERS.collect({"q12": 0.1004}), JudgeContext(grader=True, key=key))
    assert next(c for c in wrong.criteria if c.name.startswith("q12")).passed is False


def test_arguments_fixed_by_the_check_source_override_the_evidence(tmp_path: Path) -> None:
    # The evidence claims base_lr=0.05 for a schedule that peaks at 0.05; the check's source says 0.1.
    source = GOOD.replace("warmup_start_lr=0.0)", "warmup_start_lr=0.0)\n")
    namespace = {**_namespace(source), "num_epochs": 100}
    call = "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs, base_lr=0.05)"
    files = _record(tmp_path, namespace, call)
    honest = "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs, base_lr=0.1)"
    verdict = V.judge_evidence(_check(honest), ["check_warmup_schedule"], files,
                               JudgeContext(draw_probes(7), grader=True))
    assert verdict is not None and verdict.status == R.FAILED and "peak LR equals the base LR 0.1" in verdict.message
    assert V.trusted_arguments(_check("check_training_result(result, num_epochs)")) == [
        {"threshold": 0.885, "base_lr": 0.1}]
    # A None default is the collector's "find it in the notebook", not a bar: the recorded value stands.
    assert V.trusted_arguments(_check("check_weight_decay_choice(choose)")) == [{}]
    assert V.trusted_arguments(_check("check_configure_optimizers(Model)")) == [{}]
    assert V.trusted_arguments(_check("check_configure_optimizers(Model, num_epochs=None)")) == [{"num_epochs": None}]


def test_every_solution_check_cell_calls_registered_check_objects() -> None:
    """Registration is by object: the name a solution's check cell calls is, in the notebook's own
    namespace after its imports, the very object the grader judges with."""
    import importlib

    from helpers.checks.check import Check
    from helpers.checks.registry import JUDGED, all_checks
    from helpers.quiz import check_answers as learner_quiz_check
    from kit.grade.registry import load_exercise
    from kit.grade.verdicts import judged_calls

    checks = all_checks()
    assert len(JUDGED) == len(checks) and all(isinstance(check, Check) for check in checks)
    for path in sorted(Path("solutions").glob("*.ipynb")):
        exercise = load_exercise(path)
        for cell in exercise.checks:
            names = judged_calls(cell)
            assert names, f"{path.name}:{cell.id} is not judged from evidence"
            for name in names:
                check = JUDGED[name]
                module = importlib.import_module(check.collect.__module__)
                imported = getattr(module, name, learner_quiz_check)
                assert imported is check or (name == "check_answers" and imported is learner_quiz_check)


def test_looking_up_exercise_0s_checks_imports_no_torch() -> None:
    """An Exercise-0 kernel collects its evidence without importing torch (a graded kernel's
    address space is limited, and importing torch alone maps gigabytes)."""
    code = ("import sys\nfrom helpers.checks.registry import JUDGED\n"
            "JUDGED['check_linear_warmup'].collect\nprint('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_num_epochs_is_the_courses_is_one_rule_for_every_check() -> None:
    """Full mode wants COURSE_EPOCHS; the grader's quick mode wants what course_epochs gives (anything
    else was typed in by hand); a learner's own quick mode judges no length."""
    from helpers.checks.context import wrong_length
    from helpers.settings import COURSE_EPOCHS, QUICK_EPOCHS

    full, grader_quick = JudgeContext(), JudgeContext(grader=True, quick=QUICK_EPOCHS)
    assert wrong_length([("num_epochs", COURSE_EPOCHS)], full) is None
    assert wrong_length([("num_epochs", COURSE_EPOCHS), ("the model's num_epochs", 50)], full) == (
        "the model's num_epochs", 50)
    assert wrong_length([("num_epochs", QUICK_EPOCHS)], grader_quick) is None
    assert wrong_length([("num_epochs", COURSE_EPOCHS)], grader_quick) == ("num_epochs", COURSE_EPOCHS)
    assert wrong_length([("num_epochs", 50)], JudgeContext(quick=QUICK_EPOCHS)) is None
