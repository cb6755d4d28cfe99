"""``run.json``: how a grading run (or a merge of runs) was made, written beside its grades.csv.

``kit grade`` writes it, ``kit merge`` and the Slurm merge combine the parts' records into one,
and the summary, the class report, the Slurm merge and the Gradescope runner read it: its name and
keys are defined here only.
"""

from __future__ import annotations

import json
from pathlib import Path

from kit.grade.errors import GradeUsageError

RUN_FILE = "run.json"

# Keys of a record. Written by every run:
MODE = "mode"  # "quick" or "full" (a merge: the parts' common mode, or "unknown")
SANDBOX = "sandbox"  # True, False, or MIXED in a merge of runs that differ
LIMITS = "limits"  # the per-submission limits: LIMITS_MODE, the budget's figures, NOT_ENFORCED
# ... by a grading run:
SHARD = "shard"  # "i/n" or None
JOBS = "jobs"
SUBMISSIONS = "submissions"
SECONDS = "seconds"
EXERCISES = "exercises"
NOT_GRADED_IN_QUICK_MODE = "not_graded_in_quick_mode"
PROBE_SEEDS = "probe_seeds"
QUICK_CALIBRATION_SECONDS = "quick_calibration_seconds"
# ... by a merge:
MERGED = "merged"  # the merged folders
UNTITLED = "untitled"  # the merged folders without check titles
SHARDS = "shards"  # the Slurm merge: the number of shards
# Keys of the LIMITS record (beside the budget's own fields, kit.grade.limits.budget.Budget):
LIMITS_MODE = "mode"
NOT_ENFORCED = "not_enforced"

MIXED = "mixed"  # SANDBOX of a merge whose parts ran with and without the sandbox


def read(folder: Path) -> dict[str, object] | None:
    """The record in ``folder`` (None: there is none); a file that is not a JSON object is a
    usage error naming it."""
    path = folder / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GradeUsageError(f"{path} is not a {RUN_FILE} of this grader ({exc})") from None
    if not isinstance(record, dict):
        raise GradeUsageError(f"{path} is not a {RUN_FILE} of this grader (a JSON object is expected)")
    return record


def write(folder: Path, record: dict[str, object]) -> None:
    (folder / RUN_FILE).write_text(json.dumps(record, indent=1) + "\n")
