"""Moodle: download names (4.1+ folders, older trailing ``_``, flat files, blind marking), the
grading worksheet read back as mod/assign/feedback/offline reads it (columns found by header;
``Participant <id>``; ``Last modified (grade)`` kept as downloaded), and the feedback-files zip
mapped to participants with the importer's own rule (each path part split at ``_`` into at most
five, the second part numeric)."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from lms_fixtures import MOODLE_HEADER

from kit.lms import moodle
from kit.lms.records import Learner


@pytest.mark.parametrize("name, learner, display, file_name", [
    ("Ada Lovelace_123456_assignsubmission_file/00_toy.ipynb", "123456", "Ada Lovelace", "00_toy.ipynb"),
    ("Ada Lovelace_123456_assignsubmission_file_/00_toy.ipynb", "123456", "Ada Lovelace", "00_toy.ipynb"),
    ("Ada Lovelace_123456_assignsubmission_file_00_toy.ipynb", "123456", "Ada Lovelace", "00_toy.ipynb"),
    ("Participant_123459_assignsubmission_file/a b.ipynb", "123459", "Participant 123459", "a b.ipynb"),
    ("Mary_Jane Doe_77_assignsubmission_file/sub/x.ipynb", "77", "Mary_Jane Doe", "sub/x.ipynb"),
    ("course-Assignment 1-42/Ada_5_assignsubmission_file/x.ipynb", "5", "Ada", "x.ipynb"),
])
def test_download_names(name: str, learner: str, display: str, file_name: str) -> None:
    entry = moodle.parse_name(name)
    assert entry is not None
    assert (entry.learner_id, entry.display_name, entry.file_name) == (learner, display, file_name)


def test_other_names_are_not_moodle() -> None:
    assert moodle.parse_name("lovelaceada_1001_5001_00_toy.ipynb") is None
    assert moodle.parse_name("Ada_x_assignsubmission_file/00_toy.ipynb") is None


def _worksheet(path: Path) -> Path:
    rows = [MOODLE_HEADER,
            ["Participant 123456", "Ada Lovelace", "ada@example.edu", "Submitted for grading", "", "10.00", "Yes",
             "Monday, 2 March 2026, 10:00 AM", "", "-", ""],
            ["Participant 123457", "Zoë Ångström", "zoe@example.edu", "Submitted for grading - Graded", "6.00",
             "10.00", "Yes", "Monday, 2 March 2026, 11:00 AM", "", "Tuesday, 3 March 2026, 9:15 AM", "ok"],
            ["Participant 123499", "No Submission", "none@example.edu", "No submission", "", "10.00", "Yes", "-", "",
             "-", ""]]
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _learners() -> dict[str, Learner]:
    return {"123456": Learner("123456", "Ada Lovelace", True, 8.5, 10.0, "# Feedback\n- ✓ a\n"),
            "123457": Learner("123457", "Zoë Ångström", False, 0.0, 10.0, "# Feedback\n- ✗ b\n"),
            "123458": Learner("123458", "Not_In Roster", False, None, 10.0, "# F\n", "not-json")}


def _read_like_moodle(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    ids, grade, modified = header.index("Identifier"), header.index("Grade"), header.index("Last modified (grade)")
    assert min(ids, grade, modified) >= 0
    prefix = "Participant "
    return {r[ids][len(prefix):]: dict(zip(header, r, strict=True)) for r in rows[1:]}


def test_worksheet_read_back_by_moodle_rules(tmp_path: Path) -> None:
    path, absent = moodle.write_worksheet(_worksheet(tmp_path / "Grades.csv"), _learners(), 10.0, tmp_path)
    rows = _read_like_moodle(path)
    assert rows["123456"]["Grade"] == "8.50" and "submitted late" in rows["123456"]["Feedback comments"]
    assert rows["123456"]["Last modified (grade)"] == "-"
    assert rows["123457"]["Grade"] == "0.00"  # graded: 0, not empty
    assert rows["123457"]["Last modified (grade)"] == "Tuesday, 3 March 2026, 9:15 AM"  # as downloaded
    assert rows["123499"]["Grade"] == "" and rows["123499"]["Feedback comments"] == ""
    assert rows["123457"]["Email address"] == "zoe@example.edu"
    assert absent == ["123458"]


def test_worksheet_without_a_download(tmp_path: Path) -> None:
    path, absent = moodle.write_worksheet(None, _learners(), 10.0, tmp_path)
    rows = _read_like_moodle(path)
    assert set(rows) == {"123456", "123457", "123458"} and absent == []
    assert rows["123458"]["Grade"] == "" and rows["123456"]["Grade"] == "8.50"


def _moodle_zip_user(path: str, participants: set[str]) -> str | None:
    """mod/assign/feedback/file/importziplib.php is_valid_filename_for_import, in Python."""
    for part in path.split("/"):
        info = part.split("_", 4)
        if len(info) < 4 or not info[1].isdigit() or info[1] not in participants:
            continue
        return info[1]
    return None


def test_feedback_zip_maps_to_participants(tmp_path: Path) -> None:
    learners = _learners()
    path = moodle.write_feedback_zip(learners, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == 3
        for name in names:
            lid = _moodle_zip_user(name, set(learners))
            assert lid is not None, name
            assert archive.read(name).decode() == learners[lid].feedback
    assert "Not In Roster_123458_assignsubmission_file/feedback.md" in names
