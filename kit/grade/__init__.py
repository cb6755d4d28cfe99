"""Instructor grading: re-execute learner notebooks under nbval with the instructor's checks.

``kit grade SUBMISSIONS --out DIR`` grades a folder; ``kit check NB``
prints one learner's feedback; ``kit merge OUT1 OUT2 --out DIR`` combines shards.
See docs/GRADING.md.
"""

from kit.grade.errors import GradeUsageError

__all__ = ["GradeUsageError"]
