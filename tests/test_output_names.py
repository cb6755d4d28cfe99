"""run.json is read in one place: a damaged record is a clear error (kit merge) or a named gap (the
Slurm merge), not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.grade import rows as R
from kit.grade import run_record as RR
from kit.grade.__main__ import main
from kit.grade.report import GRADES_CSV
from kit.slurm import plan as P
from kit.slurm.parts import missing

DAMAGED = {"not JSON": "{mode: quick", "not an object": '["quick"]'}


def _part(folder: Path, learner: str, record: str) -> Path:
    folder.mkdir(parents=True)
    check = R.Row(learner, "00_toy", f"{learner}/00_toy.ipynb", "toy-check", R.PASSED, 1, 1, 1)
    R.write_csv([check, R.total_row([check])], folder / GRADES_CSV)
    (folder / RR.RUN_FILE).write_text(record)
    return folder


@pytest.mark.parametrize("record", DAMAGED.values(), ids=DAMAGED.keys())
def test_merge_names_a_damaged_run_record(tmp_path: Path, record: str, capsys: pytest.CaptureFixture[str]) -> None:
    good = _part(tmp_path / "s1", "a", '{"mode": "full"}')
    bad = _part(tmp_path / "s2", "b", record)
    assert main(["merge", str(good), str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"error: {bad / RR.RUN_FILE} is not a {RR.RUN_FILE} of this grader" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("record", DAMAGED.values(), ids=DAMAGED.keys())
def test_slurm_merge_reports_a_part_with_a_damaged_run_record(tmp_path: Path, record: str) -> None:
    shard = P.Shard(1, ["a/00_toy.ipynb"], ["a"], ["00_toy"])
    plan = P.Plan(str(tmp_path), str(tmp_path / "in"), 1, [], "python", P.JobOptions(), [shard], 1.0)
    _part(plan.part(1), "a", record)
    [gap] = missing(plan)
    assert gap.reason.startswith(f"its part is unreadable: {plan.part(1) / RR.RUN_FILE} is not a {RR.RUN_FILE}")
    (plan.part(1) / RR.RUN_FILE).write_text('{"shard": "1/1"}')
    assert missing(plan) == []
