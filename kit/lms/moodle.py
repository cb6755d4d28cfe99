"""Moodle assignment: "Download all submissions", the offline grading worksheet and feedback files.

Download (mod/assign): one folder per participant, ``<Full name>_<participant id>_assignsubmission_file``
(Moodle 4.1 and later) or ``..._assignsubmission_file_`` (earlier), the learner's files inside;
or, with "Download submissions in folders" off, flat files
``<Full name>_<participant id>_assignsubmission_file_<file name>``. With blind marking the full
name is ``Participant``. The participant id is the number in the worksheet's ``Participant <id>``.

Worksheet ("Download grading worksheet" / "Upload grading worksheet"): Moodle's importer finds its
columns by header: ``Identifier`` (``Participant <id>``), ``Grade``, ``Last modified (grade)``
(all three required) and the feedback plugins' columns such as ``Feedback comments``. A row is
skipped when the grade in Moodle was modified after the worksheet's ``Last modified (grade)``, so
that value is kept exactly as downloaded.

Feedback files ("Upload multiple feedback files in a zip"): each path component is split at ``_``
into at most five parts, ``fullname_participantid_plugintype_pluginname[_rest]``; the second must
be the participant id. A full name containing ``_`` would break that split, so it is replaced.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path, PurePosixPath

from kit.grade.errors import GradeUsageError
from kit.lms.canvas import read_table
from kit.lms.records import Entry, Learner, Parsed, Skipped

NAME = "moodle"
BLIND = "Participant"
IDENTIFIER, FULL_NAME, GRADE, MAX_GRADE, MODIFIED, FEEDBACK = (
    "Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments")
_FOLDER = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
_FLAT = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$")
_PARTICIPANT = re.compile(r"^Participant\s*(?P<id>\d+)$")


def parse_name(name: str) -> Entry | None:
    parts = PurePosixPath(name).parts
    for i, part in enumerate(parts):
        folder = _FOLDER.match(part)
        if folder and i < len(parts) - 1:
            return _entry(name, folder["name"], folder["id"], "/".join(parts[i + 1:]))
        flat = _FLAT.match(part)
        if flat and i == len(parts) - 1:
            return _entry(name, flat["name"], flat["id"], flat["file"])
    return None


def _entry(member: str, name: str, participant: str, file_name: str) -> Entry:
    display = f"{BLIND} {participant}" if name == BLIND else name
    return Entry(member=member, learner_id=participant, display_name=display, file_name=file_name)


def matches(names: list[str]) -> bool:
    return any("_assignsubmission_" in n for n in names)


def parse(names: list[str]) -> Parsed:
    entries, skipped = [], []
    for name in names:
        entry = parse_name(name)
        if entry is None:
            skipped.append(Skipped(name, "not in a Moodle submission folder (<Full name>_<id>_assignsubmission_file)"))
        else:
            entries.append(entry)
    return Parsed(NAME, entries, skipped)


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def write_worksheet(roster: Path | None, learners: dict[str, Learner], points: float,
                    out: Path) -> tuple[Path, list[str]]:
    """The grading worksheet with ``Grade`` and ``Feedback comments`` filled in; every other
    column (``Last modified (grade)`` above all) as downloaded. Without a downloaded worksheet a
    minimal one is written (Moodle then skips learners who already have a grade)."""
    if roster is None:
        header = [IDENTIFIER, FULL_NAME, GRADE, MAX_GRADE, MODIFIED, FEEDBACK]
        rows = [[f"{BLIND} {lid}", lr.display_name, "", _fmt(points), "-", ""] for lid, lr in sorted(learners.items())]
    else:
        header, rows = read_table(roster)
        missing = [c for c in (IDENTIFIER, GRADE, MODIFIED) if c not in header]
        if missing:
            raise GradeUsageError(f"roster {roster} lacks {', '.join(missing)}: pass the worksheet from the "
                                  "assignment's 'Download grading worksheet'")
        if FEEDBACK not in header:
            header.append(FEEDBACK)  # Moodle reads it when the "Feedback comments" plugin is on
    col = {name: header.index(name) for name in header}
    seen = set()
    for row in rows:
        row.extend([""] * (len(header) - len(row)))
        found = _PARTICIPANT.match(row[col[IDENTIFIER]].strip())
        learner = learners.get(found["id"]) if found else None
        if learner is None:
            continue
        seen.add(learner.learner_id)
        if learner.points is not None:
            row[col[GRADE]] = _fmt(learner.points)
            row[col[FEEDBACK]] = _comment(learner)
    path = out / "moodle_grading_worksheet.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path, sorted(lid for lid in learners if lid not in seen)


def _comment(learner: Learner) -> str:
    late = " (submitted late)" if learner.late else ""
    return f"Autograded: {_fmt(learner.points or 0)} / {_fmt(learner.max_points)}{late}. Details in the feedback file."


def feedback_folder(learner: Learner) -> str:
    """The folder name Moodle's feedback-zip importer maps to the participant id."""
    name = re.sub(r"[_/\\]+", " ", learner.display_name).strip() or BLIND
    return f"{name}_{learner.learner_id}_assignsubmission_file"


def write_feedback_zip(learners: dict[str, Learner], out: Path) -> Path:
    path = out / "moodle_feedback_files.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for _, learner in sorted(learners.items()):
            if learner.feedback:
                archive.writestr(f"{feedback_folder(learner)}/feedback.md", learner.feedback)
    return path
