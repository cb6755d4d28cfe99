"""The one exception type for misuse of the grader (exit status 2 with its message)."""

from __future__ import annotations


class GradeUsageError(Exception):
    """The grader was called wrongly (missing folder, unknown exercise, bad --shard, ...).

    A learner's broken notebook is never a usage error: it becomes a row in grades.csv.
    """
