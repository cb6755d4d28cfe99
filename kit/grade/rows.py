"""Rows of grades.csv: one per submission and check, plus a total per submission.

Every report (CSV, summary, feedback, merge) is built from these rows alone, so that shards
graded on different machines can be merged without re-running anything.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

# Check-level statuses.
PASSED = "passed"  # output matched the solution's
FAILED = "failed"  # the check ran and printed something else (✗ lines)
ERROR = "error"  # the check cell raised
TIMEOUT = "timeout"  # a cell or the whole submission ran out of time
KERNEL_DIED = "kernel-died"  # sys.exit from C, os._exit, a crash or the memory limit
NOT_GRADED_QUICK = "not-graded-quick"  # depends on full training; skipped by --quick
GRADER_ERROR = "grader-error"  # the child process left no report (should not happen)
RESOURCE_LIMIT = "resource-limit"  # stopped by a per-submission limit (tasks, memory, disk, files); message names it
# Submission-level statuses (one row, check "(submission)").
NOT_JSON = "not-json"
TRUNCATED_JSON = "truncated-json"
UNSUPPORTED_NBFORMAT = "unsupported-nbformat"
INVALID_NOTEBOOK = "invalid-notebook"
TOO_LARGE = "too-large"
UNKNOWN_EXERCISE = "unknown-exercise"
DUPLICATE = "duplicate"
TOTAL = "total"

SUBMISSION_CHECK = "(submission)"
TOTAL_CHECK = "TOTAL"

COLUMNS = ("learner", "exercise", "submission", "check", "status", "passed", "points", "max_points",
           "restored", "message")


@dataclass(frozen=True)
class Row:
    """One line of grades.csv. ``restored`` is "missing" or "edited" when the learner's copy of a
    check cell was replaced by the instructor's (the check still ran, on the learner's code)."""

    learner: str
    exercise: str
    submission: str
    check: str
    status: str
    passed: int
    points: float
    max_points: float
    restored: str = ""
    message: str = ""

    @property
    def is_total(self) -> bool:
        return self.check == TOTAL_CHECK


def total_row(rows: list[Row], max_points: float | None = None, message: str = "") -> Row:
    """The per-submission total: checks passed, points earned, points available."""
    first = rows[0]
    checks = [r for r in rows if r.check not in (SUBMISSION_CHECK, TOTAL_CHECK)]
    available = sum(r.max_points for r in checks) if max_points is None else max_points
    return Row(
        learner=first.learner,
        exercise=first.exercise,
        submission=first.submission,
        check=TOTAL_CHECK,
        status=TOTAL,
        passed=sum(r.passed for r in checks),
        points=sum(r.points for r in checks),
        max_points=available,
        message=message,
    )


def _row(record: dict[str, str]) -> Row:
    """A grades.csv line back as a Row (the numbers parsed, the text as written)."""
    return Row(record["learner"], record["exercise"], record["submission"], record["check"], record["status"],
               int(record["passed"]), _number(record["points"]), _number(record["max_points"]),
               record["restored"], record["message"])


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def write_csv(rows: list[Row], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            record = asdict(row)
            for key in ("points", "max_points"):
                record[key] = _number(str(record[key]))
            writer.writerow(record)


def read_csv(path: Path) -> list[Row]:
    """Read a grades.csv written by :func:`write_csv`; a foreign file fails with its path."""
    from kit.grade.errors import GradeUsageError

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise GradeUsageError(f"{path} is not a grades.csv from this grader (columns {reader.fieldnames})")
            return [_row(record) for record in reader]
    except FileNotFoundError:
        raise GradeUsageError(f"{path} not found: pass output folders of earlier grading runs") from None
    except (ValueError, TypeError) as exc:
        raise GradeUsageError(f"{path} has a malformed row: {exc}") from None


assert tuple(f.name for f in fields(Row)) == COLUMNS
