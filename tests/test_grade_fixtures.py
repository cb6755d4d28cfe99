"""The fixture class graded end to end (toy exercise, 2 jobs): the exact status of every row.

Each submission is one typical mistake or one bad input (see tests/grade_fixtures.py); none may
stop the batch, submissions stay byte-identical, and no temp folder or process is left behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import TOY, build_class, build_toy_solutions, statuses_by_learner, watched_grading

from kit.grade import rows as R
from kit.grade import run as run_module
from kit.grade.__main__ import main

P, F, E, T, K = R.PASSED, R.FAILED, R.ERROR, R.TIMEOUT, R.KERNEL_DIED
CHECKS = ("toy-check-double", "toy-hidden-double", "toy-check-answer", "toy-check-train", "toy-check-target")
# learner -> statuses of the five checks in solution order (hidden check second).
EXPECTED = {
    "alice": (P, P, P, P, P),  # correct
    "tina": (P, P, P, P, P),  # correct, flat layout "00_toy - tina.ipynb"
    "bob": (F, F, F, P, P),  # untouched starter (the toy's training cell is not a blank)
    "carol": (F, F, P, P, P),  # wrong formula
    "dan": (P, F, P, P, P),  # passes the visible check, fails the hidden one
    "erin": (F, F, P, P, P),  # wrong formula and a check cell edited to print ✓
    "frank": (P, P, P, P, P),  # deleted every visible check cell: restored and run
    "grace": (P, P, P, P, P),  # an extra cell raises ZeroDivisionError
    "heidi": (T, T, P, P, P),  # infinite loop inside double(): per-cell timeout
    "ivan": (P, P, P, K, K),  # os._exit() after the third check
    "judy": (P, P, P, P, P),  # sys.exit(): IPython catches SystemExit, the kernel lives on
    "ken": (P, P, K, K, K),  # the kernel kills itself (SIGKILL) after the first check
    "leo": (F, F, P, P, P),  # double() prints 3 MB inside the checks
    "mia": (P, P, P, P, P),  # a cell prints 5 MB
    "nick": (P, P, P, P, P),  # a cell deletes and writes files in its working folder
    "uma": (E, E, P, P, P),  # double() allocates 4 GB: MemoryError under the 2 GB limit
}
UNGRADABLE = {
    "olga/00_toy.ipynb": R.NOT_JSON,
    "pat/00_toy.ipynb": R.TRUNCATED_JSON,
    "quinn/00_toy.ipynb": R.UNSUPPORTED_NBFORMAT,
    "rita/homework.ipynb": R.UNKNOWN_EXERCISE,
    "sam/00_toy.ipynb": R.DUPLICATE,
    "sam/00_toy (1).ipynb": R.DUPLICATE,
}
RESTORED = {("erin", "toy-check-double"): "edited", ("frank", "toy-check-double"): "missing",
            ("frank", "toy-check-answer"): "missing", ("frank", "toy-check-train"): "missing",
            ("frank", "toy-check-target"): "missing"}


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("grade")
    solution = build_toy_solutions(base / "solutions")
    build_class(base / "class", nbformat.read(solution, as_version=4))
    before = _hashes(base / "class")
    temp = base / "tmp"
    temp.mkdir()
    with watched_grading(temp) as tokens:
        status = main([str(base / "class"), "--out", str(base / "out"), "--solutions", str(base / "solutions"),
                       "--jobs", "2", "--cell-timeout", "10", "--timeout", "120", "--memory-mb", "2048"])
    return {"status": status, "base": base, "before": before, "temp": temp, "tokens": set(tokens),
            "rows": R.read_csv(base / "out" / "grades.csv")}


def test_batch_exits_0(graded) -> None:
    assert graded["status"] == 0


def test_every_check_row_has_its_expected_status(graded) -> None:
    rows = [r for r in graded["rows"] if r.exercise == TOY and r.check in CHECKS]
    assert statuses_by_learner(rows) == EXPECTED
    for row in rows:
        assert row.passed == (row.status == R.PASSED) and row.points == row.passed and row.max_points == 1
        assert row.restored == RESTORED.get((row.learner, row.check), "")


def test_totals_add_up(graded) -> None:
    totals = {r.submission: r for r in graded["rows"] if r.is_total}
    assert len(totals) == len(EXPECTED) + len(UNGRADABLE)  # one total per file found
    for learner, statuses in EXPECTED.items():
        total = next(t for t in totals.values() if t.learner == learner)
        assert (total.points, total.max_points) == (statuses.count(P), len(CHECKS))


def test_ungradable_files_get_one_status_row_each(graded) -> None:
    rows = [r for r in graded["rows"] if r.check == R.SUBMISSION_CHECK]
    assert {r.submission: r.status for r in rows} == UNGRADABLE
    assert all(r.message for r in rows)


def test_messages_carry_the_hint_and_the_cause(graded) -> None:
    rows = {(r.learner, r.check): r for r in graded["rows"]}
    assert rows["carol", "toy-check-double"].message == "✗ double(3) == 6 — double(3) should be 6"
    assert "not finished yet: return twice the input" in rows["bob", "toy-check-double"].message
    assert rows["erin", "toy-check-double"].message.startswith("check cell was edited; the original check was run")
    assert "ran longer than 10 s" in rows["heidi", "toy-check-double"].message
    assert "cell 'bye'" in rows["ivan", "toy-check-train"].message
    assert "MemoryError" in rows["uma", "toy-check-double"].message
    assert len(rows["leo", "toy-check-double"].message) < 700  # 3 MB of output, a short message
    assert "oops (ZeroDivisionError)" in rows["grace", "TOTAL"].message
    assert "leave (SystemExit)" in rows["judy", "TOTAL"].message


def test_submissions_unchanged_and_nothing_left_behind(graded) -> None:
    assert _hashes(graded["base"] / "class") == graded["before"]
    assert list(graded["temp"].iterdir()) == []
    assert graded["tokens"] and all(run_module.processes_with_token(t) == [] for t in graded["tokens"])


def test_reports_written(graded) -> None:
    out = graded["base"] / "out"
    summary = (out / "summary.md").read_text()
    passed = sum(statuses[0] == P for statuses in EXPECTED.values())
    assert f"| `toy-check-double` | {passed} | {len(EXPECTED)} |" in summary
    feedback = (out / "feedback" / "carol.md").read_text()
    assert "- ✗ Toy exercise (`toy-check-double`) (0/1) — failed: ✗ double(3) == 6 — double(3) should be 6" in feedback
    assert "**Total: 3 / 5 points**" in feedback
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        f"{learner}.md" for learner in {*EXPECTED, "olga", "pat", "quinn", "rita", "sam"}
    )
