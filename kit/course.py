"""Where a course lives on disk: the one place that knows the folders of a course checkout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import helpers
from helpers.hints import DATA_IN_COURSE

SOLUTIONS_DIR = "solutions"  # executed notebooks with outputs: the source of everything else
STARTERS_DIR = "notebooks"  # generated from the solutions by `kit assign`
# Beside helpers.cloud.REQUIREMENTS_FILE (the learner runtime's): the developers' list, which adds the grader's and the
# tests' packages to it (`-r`), and the lock pinning both at the versions the solutions were executed with.
DEV_REQUIREMENTS_FILE = "requirements-dev.txt"
LOCK_FILE = "constraints.txt"

ENV_VAR = "KIT_COURSE"


@dataclass(frozen=True)
class Course:
    """A course checkout: ``solutions/`` (the source), ``notebooks/`` (generated starters), ``helpers/``."""

    root: Path

    @property
    def solutions(self) -> Path:
        return self.root / SOLUTIONS_DIR

    @property
    def starters(self) -> Path:
        return self.root / STARTERS_DIR

    @property
    def readme(self) -> Path:
        return self.root / "README.md"

    @property
    def hint_data(self) -> Path:
        """The hint levels file the course's ``helpers.hints`` reads."""
        return self.root / DATA_IN_COURSE


def helpers_dir() -> Path:
    """The learner-facing package in use (what a graded kernel may see)."""
    return Path(helpers.__file__).resolve().parent


def course(root: str | os.PathLike[str] | None = None) -> Course:
    """The course at ``root``, else ``$KIT_COURSE``, else the checkout the ``helpers`` in use came from."""
    chosen = root if root is not None else os.environ.get(ENV_VAR)
    return Course(Path(chosen).resolve() if chosen else helpers_dir().parent)
