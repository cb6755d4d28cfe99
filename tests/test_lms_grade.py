"""``kit grade`` on LMS downloads: a Canvas zip graded end to end (toy exercise: on time, late,
a repeated upload beside the original, anonymous, a PDF), and Moodle / Gradescope downloads
turned into the grader's submissions (learner = the LMS's id, file = the entry's name)."""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import TOY, _solved, build_toy_solutions, toy_starter
from lms_fixtures import canvas_entries, gradescope_entries, moodle_entries, notebook, tree_hashes, write_zip

from kit.grade import rows as R
from kit.grade.__main__ import main
from kit.lms import cli as lms_cli
from kit.lms import ingest, outputs
from kit.lms.outputs import LATE_NOTE


def _roster(path: Path) -> Path:
    text = ("\ufeffStudent;ID;SIS User ID;SIS Login ID;Section;Toy (777);Current Score\n"
            "    Points Possible;;;;;20;(read only)\n"
            '"Lovelace, Ada";1001;s1;ada;A;;\n"Hopper, Grace";1002;s2;grace;A;5;\n'
            '"Turing, Alan";1003;s3;alan;A;;\n"Nobody, Zed";1009;s9;zed;A;;\n')
    path.write_bytes(text.encode())
    return path


@dataclass(frozen=True)
class CanvasRun:
    status: int
    base: Path
    before: dict[str, str]  # the download's files
    before_all: dict[str, str]  # every file under the test's folder
    rows: list[R.Row]


@pytest.fixture(scope="module")
def canvas_run(tmp_path_factory: pytest.TempPathFactory) -> CanvasRun:
    base = tmp_path_factory.mktemp("canvas")
    solution = nbformat.read(build_toy_solutions(base / "solutions"), as_version=4)
    starter = toy_starter(solution)
    (base / "dl").mkdir()
    download = write_zip(base / "dl" / "submissions.zip", canvas_entries(_solved(starter, solution), starter))
    roster = _roster(base / "dl" / "export.csv")
    before, before_all = tree_hashes(base / "dl"), tree_hashes(base)
    status = main([str(download), "--out", str(base / "out"), "--solutions", str(base / "solutions"), "--roster",
                   str(roster), "--points", "20", "--jobs", "2", "--cell-timeout", "20", "--timeout", "120"])
    return CanvasRun(status, base, before, before_all, R.read_csv(base / "out" / "grades.csv"))


def test_learners_are_canvas_ids_and_the_late_flag_is_kept(canvas_run: CanvasRun) -> None:
    assert canvas_run.status == 0
    rows = canvas_run.rows
    totals = {(r.learner, r.submission): r for r in rows if r.is_total}
    assert set(totals) == {("1001", "lovelaceada_1001_5001_00_toy.ipynb"),
                           ("1002", "hoppergrace_LATE_1002_5002_00_toy.ipynb"),
                           ("1003", "turingalan_1003_5003_00_toy.ipynb"),
                           ("1003", "turingalan_1003_5013_00_toy-1.ipynb"),
                           ("anon_x3Fg1", "anon_x3Fg1_5004_00_toy.ipynb")}
    assert totals["1002", "hoppergrace_LATE_1002_5002_00_toy.ipynb"].message.startswith(LATE_NOTE)
    assert not any(t.message.startswith(LATE_NOTE) for k, t in totals.items() if k[0] != "1002")
    assert (totals["1001", "lovelaceada_1001_5001_00_toy.ipynb"].points, totals[
        "1002", "hoppergrace_LATE_1002_5002_00_toy.ipynb"].points) == (5, 2)


def test_an_older_upload_beside_a_newer_one_is_reported_not_picked(canvas_run: CanvasRun) -> None:
    rows = canvas_run.rows
    dup = [r for r in rows if r.learner == "1003" and r.check == R.SUBMISSION_CHECK]
    assert [r.status for r in dup] == [R.DUPLICATE, R.DUPLICATE]
    assert "turingalan_1003_5003_00_toy.ipynb" in dup[0].message and "00_toy-1.ipynb" in dup[0].message


def test_canvas_csv_and_reports(canvas_run: CanvasRun) -> None:
    out = canvas_run.base / "out"
    with open(out / "lms" / "canvas_import_Toy_777.csv", newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Toy (777)"]
    grades = {line[1]: line[-1] for line in lines[2:]}
    assert lines[1][0].strip() == "Points Possible" and lines[1][-1] == "20"
    assert grades == {"1001": "20", "1002": "8", "1003": "", "1009": ""}
    report = (out / "lms" / "lms_report.md").read_text()
    assert "NOT IN ROSTER: anon_x3Fg1" in report
    assert "`lovelaceada_1001_5005_report.pdf`: not a notebook (.pdf)" in report
    assert "turingalan (1003): " in report and "duplicate" in report
    html = (out / "class_report.html").read_text()
    assert "lovelaceada_1001_5005_report.pdf" in html and "hoppergrace" in html


def test_download_unchanged_and_nothing_written_outside_out(canvas_run: CanvasRun) -> None:
    base = canvas_run.base
    assert tree_hashes(base / "dl") == canvas_run.before
    new = set(tree_hashes(base)) - set(canvas_run.before_all)
    assert new and all(name.startswith("out/") for name in new)


def test_moodle_download_becomes_submissions(tmp_path: Path) -> None:
    download = write_zip(tmp_path / "moodle.zip", moodle_entries(notebook(TOY)))
    staged = ingest.stage(download, "moodle", tmp_path / "out")
    subs = ingest.submissions(staged, [TOY])
    assert sorted((s.learner, s.exercise) for s in subs) == [(lid, TOY) for lid in
                                                             ("123456", "123457", "123458", "123459", "123460",
                                                              "123461")]
    assert all(s.problem is None for s in subs)
    by_id = {s.learner: s.rel for s in subs}
    assert by_id["123457"] == "Zoë Ångström_123457_assignsubmission_file_/00_toy.ipynb"
    reasons = {s.member: s.reason for s in staged.skipped}
    assert "not a notebook (.py)" in reasons["Ada Lovelace_123456_assignsubmission_file/helper.py"]


def test_two_notebooks_of_one_learner_go_to_their_exercises_by_metadata(tmp_path: Path) -> None:
    entries = {"Ada_5_assignsubmission_file/first.ipynb": notebook("00_toy"),
               "Ada_5_assignsubmission_file/second.ipynb": notebook("00_other"),
               "Ada_5_assignsubmission_file/third.ipynb": notebook("00_toy")}
    staged = ingest.stage(write_zip(tmp_path / "m.zip", entries), "moodle", tmp_path / "out")
    subs = {s.rel.split("/")[-1]: s for s in ingest.submissions(staged, ["00_toy", "00_other"])}
    assert subs["second.ipynb"].exercise == "00_other" and subs["second.ipynb"].problem is None
    assert subs["first.ipynb"].problem is not None and subs["first.ipynb"].problem[0] == R.DUPLICATE


def test_gradescope_export_becomes_submissions(tmp_path: Path) -> None:
    download = write_zip(tmp_path / "export.zip", gradescope_entries(notebook(TOY)))
    subs = ingest.submissions(ingest.stage(download, "auto", tmp_path / "out"), [TOY])
    assert sorted(s.learner for s in subs) == ["ada@example.edu", "grace@example.edu"]


def test_an_unrecognised_zip_is_refused(tmp_path: Path) -> None:
    download = write_zip(tmp_path / "odd.zip", {"alice/00_toy.ipynb": notebook(TOY)})
    status = main([str(download), "--out", str(tmp_path / "out"), "--no-sandbox"])
    assert status == 2 and not (tmp_path / "out").exists()


def test_shared_display_names_and_missing_grades_are_reported(tmp_path: Path) -> None:
    download = write_zip(tmp_path / "moodle.zip", moodle_entries(notebook(TOY)))
    staged = ingest.stage(download, "moodle", tmp_path / "out")
    total = R.Row("123456", TOY, "a.ipynb", R.TOTAL_CHECK, R.TOTAL, 2, 2, 4)
    bad = R.Row("123457", TOY, "b.ipynb", R.SUBMISSION_CHECK, R.NOT_JSON, 0, 0, 4, message="not a notebook")
    people = outputs.learners([total, bad, R.total_row([bad], max_points=4)], staged, 10.0)
    assert people["123456"].points == 5.0 and people["123457"].points is None and people["123458"].points is None
    assert "no notebook graded" in people["123458"].problem and "not-json" in people["123457"].problem
    report = outputs.report_text(staged, people, ["NOT IN ROSTER: x"])
    assert "- Ada Lovelace: 123456, 123460" in report
    assert "- Zoë Ångström (123457): b.ipynb: not-json" in report and "- NOT IN ROSTER: x" in report


def test_a_folder_is_read_as_an_lms_download_only_when_its_names_say_so(tmp_path: Path) -> None:
    moodle_dir, plain = tmp_path / "unpacked", tmp_path / "plain"
    for rel, data in moodle_entries(notebook(TOY)).items():
        (moodle_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (moodle_dir / rel).write_bytes(data)
    (plain / "alice").mkdir(parents=True)
    (plain / "alice" / "00_toy.ipynb").write_bytes(notebook(TOY))

    def args(folder: Path) -> argparse.Namespace:
        return argparse.Namespace(submissions=folder, lms=None, roster=None, out=tmp_path / f"out-{folder.name}",
                                  lms_out=None)

    staged = lms_cli.stage_download(args(moodle_dir))
    assert staged is not None and staged.lms == "moodle" and len(staged.entries) == 6
    assert lms_cli.stage_download(args(plain)) is None
    assert not (tmp_path / "out-plain").exists()
