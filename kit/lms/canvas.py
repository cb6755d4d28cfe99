"""Canvas: "Download Submissions" names, and the gradebook CSV that Canvas's "Import" accepts.

Download: every file at the zip's root, named
``<sortable name>_[LATE_]<user id>_<attachment id>_<file name as uploaded>``; with anonymous
grading ``anon_<anonymous id>_[LATE_]<attachment id>_<file name>``. A learner who uploads a file
whose name is already in their files gets it renamed ``name-1.ipynb``, ``name-2.ipynb``.

Gradebook CSV (Grades > Export > Export Entire Gradebook, then Grades > Import): the header row
names ``Student, ID, SIS User ID, SIS Login ID, Section`` and one column per assignment titled
``<title> (<assignment id>)``; a ``Points Possible`` row follows the header. On import Canvas
matches learners by ``ID`` and assignments by the id in parentheses, ignores read-only columns and
leaves a grade unchanged when its cell is empty.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path, PurePosixPath

from kit.grade.errors import GradeUsageError
from kit.lms.records import Entry, Learner, Parsed, Skipped

NAME = "canvas"
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "Points Possible"
_NAMED = re.compile(r"^(?P<name>[^/]*?)_(?P<late>late_)?(?P<uid>\d+)_(?P<fid>\d+)_(?P<file>.+)$", re.IGNORECASE)
_ANON = re.compile(r"^anon_(?P<uid>[A-Za-z0-9]+)_(?P<late>late_)?(?P<fid>\d+)_(?P<file>.+)$", re.IGNORECASE)
_ATTEMPT = re.compile(r"-(\d+)(\.[^.]+)$")
_COLUMN = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")


def parse_name(name: str) -> Entry | None:
    """One download entry as a Canvas record, or None when the name is not Canvas's."""
    base = PurePosixPath(name).name
    anon = _ANON.match(base)
    found = anon or _NAMED.match(base)
    if not found:
        return None
    learner = f"anon_{found['uid']}" if anon else found["uid"]
    display = learner if anon else found["name"]
    attempt = _ATTEMPT.search(found["file"])
    return Entry(member=name, learner_id=learner, display_name=display, file_name=found["file"],
                 late=bool(found["late"]), attempt=int(attempt.group(1)) if attempt else 0)


def matches(names: list[str]) -> bool:
    notebooks = [n for n in names if n.endswith(".ipynb")]
    return bool(notebooks) and sum(parse_name(n) is not None for n in notebooks) * 2 > len(notebooks)


def parse(names: list[str]) -> Parsed:
    entries, skipped = [], []
    for name in names:
        entry = parse_name(name)
        if entry is None:
            skipped.append(Skipped(name, "not named as Canvas names downloads "
                                         "(<name>_[LATE_]<user id>_<file id>_<file>)"))
        else:
            entries.append(entry)
    return Parsed(NAME, entries, skipped)


# --------------------------------------------------------------------------- the gradebook CSV


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV as spreadsheet programs save it: UTF-8 with or without a BOM, comma or semicolon."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GradeUsageError(f"roster {path}: cannot read it as UTF-8 text ({exc})") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [row for row in reader if any(c.strip() for c in row)]
    if not rows:
        raise GradeUsageError(f"roster {path} is empty")
    return [h.strip() for h in rows[0]], rows[1:]


def assignment_column(header: list[str], wanted: str | None, path: Path) -> str:
    """The header of the assignment to fill: ``Title (id)`` as exported. ``wanted`` is the full
    header, its title or its id; without it the export must hold exactly one assignment column."""
    columns = [h for h in header if _COLUMN.match(h) and h not in IDENTITY]
    if wanted:
        hits = [h for h in columns if wanted in (h, *_COLUMN.match(h).group("title", "id"))]  # type: ignore[union-attr]  # columns all match
        if len(hits) == 1:
            return hits[0]
        if _COLUMN.match(wanted):
            return wanted  # an assignment this export does not list yet
        raise GradeUsageError(f"--lms-assignment {wanted!r} is not one of the assignment columns of {path}: "
                              f"{', '.join(columns) or '(none)'}")
    if len(columns) != 1:
        raise GradeUsageError(f"{path} has {len(columns)} assignment columns ({', '.join(columns) or 'none'}); "
                              "name the one to fill with --lms-assignment 'Title (id)'")
    return columns[0]


def _fmt(value: float) -> str:
    return f"{round(value, 2):g}"


def write_gradebook(roster: Path, learners: dict[str, Learner], points: float, wanted: str | None,
                    out: Path) -> tuple[Path, list[str]]:
    """Canvas's import CSV from the instructor's export: the identity columns as exported, one
    assignment column; returns the file and the learners graded but absent from the export."""
    header, rows = read_table(roster)
    missing_cols = [c for c in ("Student", "ID") if c not in header]
    if missing_cols:
        raise GradeUsageError(f"roster {roster} lacks the column(s) {', '.join(missing_cols)}: pass the gradebook "
                              "export (Grades > Export > Export Entire Gradebook)")
    column = assignment_column(header, wanted, roster)
    keep = [c for c in IDENTITY if c in header]
    index = {name: header.index(name) for name in keep}
    seen: set[str] = set()
    lines = [[*keep, column]]
    for row in rows:
        cells = {name: (row[i] if i < len(row) else "") for name, i in index.items()}
        student_id = cells["ID"].strip()
        if cells["Student"].strip() == POINTS_ROW:
            lines.append([*(cells[c] for c in keep), _fmt(points)])
        elif student_id:
            learner = learners.get(student_id)
            seen.add(student_id)
            grade = "" if learner is None or learner.points is None else _fmt(learner.points)
            lines.append([*(cells[c] for c in keep), grade])
    path = out / f"canvas_import_{_slug(column)}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(lines)
    absent = sorted(lid for lid in learners if lid not in seen)
    return path, absent


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "_", text).strip("_") or "assignment"
