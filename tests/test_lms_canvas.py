"""Canvas: download names, and the gradebook CSV read back the way Canvas's importer reads it
(header row; learners matched by ``ID``; the assignment by the id in ``Title (id)``; the
``Points Possible`` row; an empty cell leaves the grade alone, so "not graded" is empty, never 0)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from kit.grade.errors import GradeUsageError
from kit.lms import canvas
from kit.lms.records import Learner

EXPORT_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Toy notebook (777)", "Quiz 1 (778)",
                 "Current Score", "Unposted Current Score", "Final Score"]


@pytest.mark.parametrize("name, learner, display, late, attempt, file_name", [
    ("lovelaceada_1001_5001_00_toy.ipynb", "1001", "lovelaceada", False, 0, "00_toy.ipynb"),
    ("hoppergrace_LATE_1002_5002_00_toy.ipynb", "1002", "hoppergrace", True, 0, "00_toy.ipynb"),
    ("hoppergrace_late_1002_5002_00_toy.ipynb", "1002", "hoppergrace", True, 0, "00_toy.ipynb"),
    ("turingalan_1003_5013_00_toy-1.ipynb", "1003", "turingalan", False, 1, "00_toy-1.ipynb"),
    ("turingalan_1003_5014_my_notebook_v2-12.ipynb", "1003", "turingalan", False, 12, "my_notebook_v2-12.ipynb"),
    ("anon_x3Fg1_5004_00_toy.ipynb", "anon_x3Fg1", "anon_x3Fg1", False, 0, "00_toy.ipynb"),
    ("ströminger_1005_5006_übung 1.ipynb", "1005", "ströminger", False, 0, "übung 1.ipynb"),
])
def test_download_names(name: str, learner: str, display: str, late: bool, attempt: int, file_name: str) -> None:
    entry = canvas.parse_name(name)
    assert entry is not None
    assert (entry.learner_id, entry.display_name, entry.late, entry.attempt, entry.file_name) == (
        learner, display, late, attempt, file_name)


@pytest.mark.parametrize("name", ["00_toy.ipynb", "alice/00_toy.ipynb", "lovelace_ada_00_toy.ipynb"])
def test_other_names_are_not_canvas(name: str) -> None:
    assert canvas.parse_name(name) is None


def _export(path: Path, *, bom: bool, delimiter: str) -> Path:
    rows = [EXPORT_HEADER,
            ["    Points Possible", "", "", "", "", "10", "5", "(read only)", "(read only)", "(read only)"],
            ["Lovelace, Ada", "1001", "S1", "ada", "Sec A", "", "4", "80", "80", "40"],
            ["Hopper, Grace", "1002", "S2", "grace", "Sec A", "7", "", "70", "70", "35"],
            ["Zero, Zed", "1005", "S5", "zed", "Sec B", "", "", "", "", ""],
            ["Absent, Ann", "1004", "S4", "ann", "Sec B", "", "", "", "", ""]]
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def _learner(lid: str, points: float | None) -> Learner:
    return Learner(lid, lid, False, points, 10.0, "feedback", "" if points is not None else "not-json")


def _read_like_canvas(path: Path) -> tuple[list[str], dict[str, dict[str, str]], dict[str, str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    points = next(dict(zip(header, r, strict=True)) for r in rows[1:] if r[0].strip() == "Points Possible")
    students = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:] if r[0].strip() != "Points Possible"}
    return header, students, points


@pytest.mark.parametrize("bom, delimiter", [(True, ";"), (False, ","), (True, ",")])
def test_gradebook_csv_read_back_by_canvas_rules(tmp_path: Path, bom: bool, delimiter: str) -> None:
    roster = _export(tmp_path / "export.csv", bom=bom, delimiter=delimiter)
    learners = {"1001": _learner("1001", 8.5), "1002": _learner("1002", None), "1005": _learner("1005", 0.0),
                "1003": _learner("1003", 10.0)}
    path, absent = canvas.write_gradebook(roster, learners, 10.0, "777", tmp_path)
    header, students, points = _read_like_canvas(path)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Toy notebook (777)"]
    assert re.fullmatch(r".+ \((\d+)\)", header[-1])
    assert points["Toy notebook (777)"] == "10"
    assert students["1001"]["Toy notebook (777)"] == "8.5"
    assert students["1002"]["Toy notebook (777)"] == ""  # could not be graded: left for a person, not 0
    assert students["1005"]["Toy notebook (777)"] == "0"  # graded, scored nothing: 0, not empty
    assert students["1004"]["Toy notebook (777)"] == ""  # no submission: unchanged
    assert students["1001"]["Student"] == "Lovelace, Ada" and students["1001"]["SIS Login ID"] == "ada"
    assert absent == ["1003"]


def test_assignment_column_choice(tmp_path: Path) -> None:
    roster = _export(tmp_path / "export.csv", bom=False, delimiter=",")
    header, _ = canvas.read_table(roster)
    assert canvas.assignment_column(header, "Quiz 1", roster) == "Quiz 1 (778)"
    assert canvas.assignment_column(header, "Toy notebook (777)", roster) == "Toy notebook (777)"
    assert canvas.assignment_column(header, "New one (990)", roster) == "New one (990)"
    with pytest.raises(GradeUsageError, match="2 assignment columns"):
        canvas.assignment_column(header, None, roster)
    with pytest.raises(GradeUsageError, match="not one of the assignment columns"):
        canvas.assignment_column(header, "Quiz 9", roster)


def test_roster_that_is_not_a_gradebook_export(tmp_path: Path) -> None:
    roster = tmp_path / "people.csv"
    roster.write_text("name,email\nAda,ada@example.edu\n")
    with pytest.raises(GradeUsageError, match="lacks the column"):
        canvas.write_gradebook(roster, {}, 10.0, None, tmp_path)
