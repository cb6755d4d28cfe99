"""Typed records passed between the LMS readers, the grader hook and the LMS writers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One file of a download as the LMS named it: whose it is, and what the learner called it.

    ``learner_id`` is the LMS's own id (Canvas user id or ``anon_<id>``, Moodle participant id,
    Gradescope submitter); the display name collides between learners and is only shown.
    """

    member: str  # the entry's name inside the download (zip member or relative path), as found
    learner_id: str
    display_name: str
    file_name: str  # the learner's own file name, with the LMS's prefix removed
    late: bool = False
    attempt: int = 0  # Canvas renames a repeated upload name-1.ipynb, name-2.ipynb: 1, 2
    email: str = ""


@dataclass(frozen=True)
class Skipped:
    """A download entry that is not graded, and why (reported by name, never silently dropped)."""

    member: str
    reason: str


@dataclass(frozen=True)
class Parsed:
    """What an LMS reader made of a download's file list."""

    lms: str
    entries: list[Entry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Learner:
    """A learner as the LMS outputs need them: id, name, late flag and the grade to write."""

    learner_id: str
    display_name: str
    late: bool
    points: float | None  # None: not graded (the LMS cell stays empty, never 0)
    max_points: float
    feedback: str  # the learner's feedback text (markdown)
    problem: str = ""  # why the learner has no grade, when points is None
