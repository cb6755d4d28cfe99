"""Instructor grading: re-execute learner notebooks under nbval with the instructor's checks.

``python -m helpers.grade SUBMISSIONS --out DIR`` grades a folder; ``python -m helpers.grade check NB``
prints one learner's feedback; ``python -m helpers.grade merge OUT1 OUT2 --out DIR`` combines shards.
See docs/GRADING.md.
"""

from helpers.grade.errors import GradeUsageError

__all__ = ["GradeUsageError"]
