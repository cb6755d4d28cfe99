"""Gradescope: the export (``submission_metadata.yml`` + ``submission_<id>/``), the autograder zip
as the autograder specification describes it, and one real run of ``run_autograder`` in a local
``/autograder`` bound in a bubblewrap sandbox (notebook 00, quick mode), its results.json
validated field by field against the specification."""

from __future__ import annotations

import json
import stat
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lms_fixtures import gradescope_entries, notebook, write_zip

from kit.course import course
from kit.grade import rows as R
from kit.grade.sandbox import bwrap_path
from kit.lms import autograder, autograder_harness, ingest
from kit.lms.gradescope import VISIBILITIES, read_metadata
from kit.lms.gradescope_run import results

REAL = "00_warmup_strategies"


def test_export_is_read_by_its_metadata(tmp_path: Path) -> None:
    download = write_zip(tmp_path / "export.zip", gradescope_entries(notebook()))
    staged = ingest.stage(download, "auto", tmp_path / "out")
    assert staged.lms == "gradescope"
    learners = {e.learner_id: e.display_name for e in staged.entries.values()}
    assert learners == {"ada@example.edu": "Ada Lovelace", "grace@example.edu": "Grace Hopper & Alan Turing"}
    reasons = {s.member: s.reason for s in staged.skipped}
    assert "not inside a submission folder listed" in reasons["assignment_9100_export/submission_999/00_toy.ipynb"]
    assert "not a notebook (.txt)" in reasons["assignment_9100_export/submission_202/notes.txt"]


def test_metadata_tags_are_not_acted_on() -> None:
    hostile = "submission_1: !!python/object/apply:os.system ['touch /tmp/kit-pwned']\n"
    assert read_metadata(hostile) == {"submission_1": []}
    assert not Path("/tmp/kit-pwned").exists()


def _check_results(data: dict[str, Any], visibility: str) -> None:
    """The autograder specification's fields and types."""
    assert isinstance(data["score"], (int, float)) and data["visibility"] == visibility
    assert data["stdout_visibility"] in VISIBILITIES and isinstance(data["output"], str)
    assert data["tests"]
    for test in data["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "number", "output", "tags", "visibility",
                             "extra_data", "name_format", "output_format"}
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"] and test["visibility"] in VISIBILITIES
        assert test["status"] in ("passed", "failed") and isinstance(test["output"], str)
    assert abs(data["score"] - sum(t["score"] for t in data["tests"])) < 1e-3


def test_results_scale_each_check_to_the_points() -> None:
    rows = [R.Row("l", "ex", "s", "c1", R.PASSED, 1, 2.0, 2.0), R.Row("l", "ex", "s", "c2", R.FAILED, 0, 0.0, 2.0,
                                                                         message="✗ wrong — hint"),
            R.Row("l", "ex", "s", R.TOTAL_CHECK, R.TOTAL, 1, 2.0, 4.0)]
    data = results(rows, {("ex", "c1"): "First check"}, {"visibility": "hidden", "points": 10.0}, 3.2, "note")
    _check_results(data, "hidden")
    thirds = results([R.Row("l", "ex", "s", f"c{i}", R.PASSED, 1, 1.0, 1.0) for i in range(3)]
                     + [R.Row("l", "ex", "s", R.TOTAL_CHECK, R.TOTAL, 3, 3.0, 3.0)], {}, {"visibility": "visible",
                                                                                       "points": 100.0}, 1.0, "")
    assert thirds["score"] == 100.0 and thirds["tests"][0]["score"] == 33.3333
    assert [(t["name"], t["score"], t["max_score"]) for t in data["tests"]] == [
        ("ex: First check (c1)", 5.0, 5.0), ("ex: c2", 0.0, 5.0)]
    assert data["tests"][1]["output"] == "✗ wrong — hint" and data["score"] == 5.0


def test_autograder_zip_layout(tmp_path: Path) -> None:
    path = autograder.build(tmp_path / "ag.zip", course().solutions, [REAL], True, "after_due_date", None)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", autograder.CONFIG, autograder.REQUIREMENTS,
                f"solutions/{REAL}.ipynb", "kit/lms/gradescope_run.py", "helpers/__init__.py"} <= names
        assert not any("__pycache__" in n for n in names)
        for name in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(archive.getinfo(name).external_attr >> 16) & 0o111
        setup = archive.read("setup.sh").decode()
        requirements = archive.read(autograder.REQUIREMENTS).decode().splitlines()
    assert autograder.TORCH_CPU_INDEX in setup and "bubblewrap" in setup
    assert any(line.startswith("torch==") for line in requirements) and "nbval>=0.11" in requirements
    assert not any(line.startswith(("playwright", "ruff", "mypy")) for line in requirements)


@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed: the local /autograder "
                                                  "harness binds a folder at /autograder with it")
def test_run_autograder_in_a_local_autograder_folder(tmp_path: Path) -> None:
    zip_path = autograder.build(tmp_path / "ag.zip", course().solutions, [REAL], True, "visible", 100.0)
    submission = course().solutions / f"{REAL}.ipynb"
    before = submission.read_bytes()
    root = autograder_harness.lay_out(zip_path, [submission], tmp_path / "autograder")
    run = autograder_harness.run(root, sys.executable, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.results is not None
    _check_results(run.results, "visible")
    assert run.results["score"] == 100.0  # the solution passes every check, scaled to 100
    assert all(t["status"] == "passed" for t in run.results["tests"])
    assert (root / "submission" / f"{REAL}.ipynb").read_bytes() == before
    assert json.loads((root / "results" / "results.json").read_text()) == run.results
