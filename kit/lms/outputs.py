"""After grading: each learner's grade scaled to the LMS assignment's points, the LMS's import
files, and a plain report of everything the LMS side needs a person to look at."""

from __future__ import annotations

import csv
import dataclasses
from collections import defaultdict
from pathlib import Path

from kit.grade import rows as R
from kit.grade.report import feedback_text
from kit.lms import canvas, moodle
from kit.lms.ingest import Staged
from kit.lms.records import Learner

LATE_NOTE = "late submission (per the LMS download)"


def scaled(points: float, max_points: float, scale: float | None) -> float:
    """``points`` out of ``max_points`` on the LMS's scale (unchanged without ``--points``)."""
    if scale is None:
        return points
    return points * scale / max_points if max_points else 0.0


def mark_late(rows: list[R.Row], staged: Staged) -> list[R.Row]:
    """The LMS's late flag carried into grades.csv: on each TOTAL row of a late learner."""
    late = {lid for lid, entry in staged.learners().items() if entry.late}
    return [dataclasses.replace(r, message=f"{LATE_NOTE}; {r.message}" if r.message else LATE_NOTE)
            if r.is_total and r.learner in late else r for r in rows]


def learners(rows: list[R.Row], staged: Staged, scale: float | None) -> dict[str, Learner]:
    """One record per learner of the download: the grade, or None with the reason when any of
    their files could not be graded (the LMS cell then stays empty for a person to decide)."""
    by_learner: dict[str, list[R.Row]] = defaultdict(list)
    for row in rows:
        by_learner[row.learner].append(row)
    found = {}
    for lid, entry in staged.learners().items():
        mine = by_learner.get(lid, [])
        totals = [r for r in mine if r.is_total]
        problems = [f"{r.submission}: {r.status}" for r in mine if r.check == R.SUBMISSION_CHECK]
        got, top = sum(t.points for t in totals), sum(t.max_points for t in totals)
        points = None if problems or not totals else scaled(got, top, scale)
        found[lid] = Learner(lid, entry.display_name, entry.late, points,
                             scale if scale is not None else top, feedback_text(mine) if mine else "",
                             "; ".join(problems) or ("" if totals else "no notebook graded"))
    return found


def write_lms_files(staged: Staged, people: dict[str, Learner], out: Path, roster: Path | None,
                    scale: float | None, assignment: str | None) -> list[str]:
    """The import files of the download's LMS; returns notes for the report (learners absent from
    the roster, files written)."""
    notes = []
    points = scale if scale is not None else max((p.max_points for p in people.values()), default=0.0)
    if staged.lms == canvas.NAME:
        if roster is None:
            notes.append("No Canvas CSV: pass the gradebook export with --roster (Grades > Export).")
        else:
            path, absent = canvas.write_gradebook(roster, people, points, assignment, out)
            notes.append(f"Canvas import file: {path.name}")
            notes += [f"NOT IN ROSTER: {people[a].display_name} (Canvas id {a}): graded, not written" for a in absent]
    elif staged.lms == moodle.NAME:
        path, absent = moodle.write_worksheet(roster, people, points, out)
        notes.append(f"Moodle grading worksheet: {path.name}; feedback files: "
                     f"{moodle.write_feedback_zip(people, out).name}")
        notes += [f"NOT IN ROSTER: {people[a].display_name} (participant {a}): graded, not written" for a in absent]
    return notes


def write_learners_csv(people: dict[str, Learner], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_id", "display_name", "late", "points", "max_points", "problem"])
        for lid, p in sorted(people.items()):
            writer.writerow([lid, p.display_name, "yes" if p.late else "", "" if p.points is None else
                             f"{p.points:g}", f"{p.max_points:g}", p.problem])


def report_text(staged: Staged, people: dict[str, Learner], notes: list[str]) -> str:
    """What needs a person: skipped entries, shared display names, roster gaps, missing grades."""
    lines = [f"# LMS download ({staged.lms})", "", f"{len(people)} learner(s), {len(staged.entries)} notebook(s).", ""]
    lines += [f"- {note}" for note in notes]
    names: dict[str, list[str]] = defaultdict(list)
    for lid, p in people.items():
        names[p.display_name].append(lid)
    shared = {n: ids for n, ids in names.items() if len(ids) > 1}
    if shared:
        lines += ["", "## Same display name, different learners (told apart by id)", ""]
        lines += [f"- {n}: {', '.join(sorted(ids))}" for n, ids in sorted(shared.items())]
    ungraded = [p for p in people.values() if p.points is None]
    if ungraded:
        lines += ["", "## No grade written (the LMS cell stays empty)", ""]
        lines += [f"- {p.display_name} ({p.learner_id}): {p.problem}" for p in ungraded]
    if staged.skipped:
        lines += ["", "## Entries of the download not graded", ""]
        lines += [f"- `{s.member}`: {s.reason}" for s in staged.skipped]
    return "\n".join(lines) + "\n"
