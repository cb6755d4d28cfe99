"""Shards merged equal a whole run: grades.csv, every feedback file and the summary (time fields
aside). The merge runs in a fresh process, as on a cluster, where nothing a shard held in memory
(the check titles) is there unless the shard's output folder carries it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import build_class, build_toy_solutions
from slurm_compare import assert_same_reports

from kit.grade.__main__ import main
from kit.grade.report import TITLES_FILE

REPO = Path(__file__).resolve().parents[1]
# One correct, one wrong, one that breaks its kernel, one that is not a notebook.
FOUR = ["alice", "carol", "ivan", "olga"]


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("merge")
    solution = build_toy_solutions(base / "solutions")
    build_class(base / "all", nbformat.read(solution, as_version=4))
    inbox = base / "inbox"
    for learner in FOUR:
        shutil.copytree(base / "all" / learner, inbox / learner)
    return {"base": base, "solutions": base / "solutions", "inbox": inbox}


def _kit_merge(parts: list[Path], out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "kit.grade", "merge", *map(str, parts), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_two_shards_merged_in_another_process_equal_the_whole_run(four: dict[str, Path]) -> None:
    base, common = four["base"], ["--solutions", str(four["solutions"]), "--quick", "--no-sandbox"]
    assert main([str(four["inbox"]), "--out", str(base / "whole"), *common]) == 0
    parts = [base / "shard1", base / "shard2"]
    for i, part in enumerate(parts, start=1):
        assert main([str(four["inbox"]), "--out", str(part), "--shard", f"{i}/2", *common]) == 0
    done = _kit_merge(parts, base / "merged")
    assert done.returncode == 0, done.stderr
    assert "no check titles" not in done.stderr
    assert_same_reports(base / "whole", base / "merged")
    # The titles really came from the parts: the feedback names a check by its sentence.
    alice = (base / "merged" / "feedback" / "alice.md").read_text()
    assert "Toy exercise (`toy-check-double`)" in alice
    # A part from a kit that saved no titles still merges, names its checks by id, and says so.
    (parts[0] / TITLES_FILE).unlink()
    (parts[1] / TITLES_FILE).unlink()
    old = _kit_merge(parts, base / "merged-old")
    assert old.returncode == 0 and old.stderr.count("no check titles") == 2
    assert "Toy exercise (`toy-check-double`)" not in (base / "merged-old" / "feedback" / "alice.md").read_text()
    assert json.loads((base / "merged-old" / "run.json").read_text())["untitled"] == list(map(str, parts))


def test_a_damaged_titles_file_is_a_clear_error(four: dict[str, Path], tmp_path: Path) -> None:
    part = tmp_path / "part"
    part.mkdir()
    (part / "grades.csv").write_text("learner,exercise,submission,check,status,passed,points,max_points,"
                                     "restored,message\n")
    (part / TITLES_FILE).write_text('["not", "a", "mapping"]')
    done = _kit_merge([part], tmp_path / "out")
    assert done.returncode == 2 and "unreadable check titles" in done.stderr
    assert not (tmp_path / "out").exists()
