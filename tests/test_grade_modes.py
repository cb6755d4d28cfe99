"""Quick mode, the whole-submission timeout, shards + merge, and the learner's `check` command (toy exercise)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import build_class, build_toy_solutions

from kit.grade import rows as R
from kit.grade.__main__ import main


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("modes")
    solution = build_toy_solutions(base / "solutions")
    build_class(base / "all", nbformat.read(solution, as_version=4))
    return {"base": base, "solutions": base / "solutions", "all": base / "all"}


def _class(toy: dict[str, Path], name: str, learners: list[str]) -> Path:
    folder = toy["base"] / name
    for learner in learners:
        shutil.copytree(toy["all"] / learner, folder / learner)
    return folder


def _statuses(out: Path) -> dict[tuple[str, str], str]:
    return {(r.learner, r.check): r.status for r in R.read_csv(out / "grades.csv") if not r.is_total}


def test_quick_mode_reports_training_checks_as_not_graded(toy) -> None:
    folder = _class(toy, "quick", ["alice", "carol"])
    out = toy["base"] / "quick-out"
    assert main([str(folder), "--out", str(out), "--solutions", str(toy["solutions"]), "--quick", "--jobs", "2"]) == 0
    rows = R.read_csv(out / "grades.csv")
    status = {(r.learner, r.check): (r.status, r.points, r.max_points) for r in rows}
    # Graded against the solution's quick output ("trained for all 2 epochs"), not the saved full one.
    assert status["alice", "toy-check-train"] == (R.PASSED, 1, 1)
    # Found by running the solution itself in quick mode: its target check prints ✗ after 2 epochs.
    assert status["alice", "toy-check-target"] == status["carol", "toy-check-target"] == (R.NOT_GRADED_QUICK, 0, 0)
    totals = {r.learner: (r.points, r.max_points) for r in rows if r.is_total}
    assert totals == {"alice": (4, 4), "carol": (2, 4)}
    assert "1 check(s) not graded in quick mode" in next(r for r in rows if r.is_total).message
    settings = json.loads((out / "run.json").read_text())
    assert settings["not_graded_in_quick_mode"] == {"00_toy": {"toy-check-target": "the solution itself fails it in "
                                                               "quick mode"}}
    assert status["alice", "toy-check-target"][0] == R.NOT_GRADED_QUICK
    target = next(r for r in rows if r.check == "toy-check-target")
    assert target.message.startswith("not graded in quick mode: the solution itself fails it in quick mode")


def test_whole_submission_timeout_kills_the_run(toy) -> None:
    folder = _class(toy, "slow", ["heidi"])  # double() loops forever; the cell limit is too long to help
    out = toy["base"] / "slow-out"
    assert main([str(folder), "--out", str(out), "--solutions", str(toy["solutions"]),
                 "--cell-timeout", "300", "--timeout", "8"]) == 0
    rows = [r for r in R.read_csv(out / "grades.csv") if not r.is_total]
    assert {r.status for r in rows} == {R.TIMEOUT} and len(rows) == 5
    assert "stopped after the 8 s limit per submission" in rows[0].message


def test_shards_merge_to_the_whole_class(toy) -> None:
    folder = _class(toy, "sharded", ["alice", "carol", "olga"])
    outs = [toy["base"] / f"shard{i}" for i in (1, 2)]
    for i, out in enumerate(outs, start=1):
        assert main([str(folder), "--out", str(out), "--solutions", str(toy["solutions"]), "--shard", f"{i}/2"]) == 0
    merged = toy["base"] / "merged"
    assert main(["merge", *map(str, outs), "--out", str(merged)]) == 0
    parts = [set(_statuses(out)) for out in outs]
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert _statuses(merged) == {**_statuses(outs[0]), **_statuses(outs[1])}
    assert {learner for learner, _ in _statuses(merged)} == {"alice", "carol", "olga"}
    assert (merged / "summary.md").is_file() and (merged / "feedback" / "carol.md").is_file()


def test_check_command_prints_one_learners_feedback(toy, capsys) -> None:
    notebook = toy["all"] / "dan" / "00_toy.ipynb"
    before = notebook.read_bytes()
    assert main(["check", str(notebook), "--solutions", str(toy["solutions"]), "--quick"]) == 0
    printed = capsys.readouterr().out
    # Visible checks are named by what the learner sees above them, hidden ones by id.
    assert "- ✓ Toy exercise (`toy-check-double`) (1/1)" in printed
    assert "- ✗ `toy-hidden-double` (0/1) — failed: ✗ double(-4) == -8 — negative inputs too" in printed
    assert "- – `toy-check-target`" in printed  # no markdown right above it: named by id
    assert "**Total: 3 / 4 points**" in printed
    assert notebook.read_bytes() == before


def test_check_command_on_a_missing_notebook_is_misuse(toy, capsys) -> None:
    assert main(["check", str(toy["base"] / "nope.ipynb"), "--solutions", str(toy["solutions"])]) == 2
    assert "does not exist" in capsys.readouterr().err
