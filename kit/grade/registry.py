"""The exercise registry: every ``solutions/*.ipynb`` is an exercise, its check cells the rubric.

Data-driven on purpose: a new solution notebook is gradable without touching the grader, and
tests point ``--solutions`` at a folder of toy notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from kit.course import course
from kit.grade.errors import GradeUsageError
from kit.notebooks import AS_VERSION, KIT_METADATA, POINTS_KEY, is_nbval_marker, kit_metadata

CHECK_TAG = "check"
HIDDEN_CHECK_TAG = "hidden-check"  # instructor-only: dropped from starters, inserted back in grading
NEEDS_TRAINING_TAG = "needs-training"


def strip_nbval_markers(source: str) -> str:
    """``source`` without its nbval marker lines (instructions to the test runner, not part of a check's code)."""
    return "\n".join(line for line in source.splitlines() if not is_nbval_marker(line))


def default_solutions_dir() -> Path:
    """``solutions/`` of the course in use (:func:`kit.course.course`)."""
    return course().solutions


@dataclass(frozen=True)
class Check:
    """One graded check cell of a solution: id, rubric weight and the reference output."""

    id: str
    position: int  # index of the cell in the solution
    hidden: bool
    points: float
    needs_training: bool  # tagged ``needs-training``: never graded in quick mode
    cell: NotebookNode  # the solution's executed cell (source and outputs are the reference)


@dataclass(frozen=True)
class Exercise:
    name: str
    path: Path
    notebook: NotebookNode
    checks: tuple[Check, ...]

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)

    def check(self, check_id: str) -> Check:
        return next(c for c in self.checks if c.id == check_id)


def stdout_of(cell: NotebookNode) -> str:
    """What a cell printed to stdout: the only part of a check's output that is compared."""
    return "".join(
        "".join(o.get("text", "")) for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def _tags(cell: NotebookNode) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return tags if isinstance(tags, list) else []


def is_check_cell(cell: NotebookNode) -> bool:
    return cell.get("cell_type") == "code" and bool({CHECK_TAG, HIDDEN_CHECK_TAG} & set(_tags(cell)))


def load_exercise(path: Path) -> Exercise:
    """Read one solution and validate it as a rubric (misuse errors name the file and cell)."""
    try:
        nb = nbformat.read(path, as_version=AS_VERSION)
    except Exception as exc:  # noqa: BLE001 - any unreadable solution is a setup problem
        raise GradeUsageError(f"solution {path} cannot be read as a notebook: {exc}") from None
    cells = nb.cells
    ids = [c.get("id") for c in cells]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise GradeUsageError(f"solution {path} needs unique cell ids on every cell (nbformat 4.5)")
    checks = []
    for position, cell in enumerate(cells):
        if not is_check_cell(cell):
            continue
        if cell.get("execution_count") is None or not stdout_of(cell).strip():
            raise GradeUsageError(
                f"solution {path}: check cell {cell['id']!r} has no saved printed output; execute the "
                f"solution first (kit execute {path.name}) - a check must print its ✓ lines"
            )
        points = kit_metadata(cell).get(POINTS_KEY, 1)
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
            raise GradeUsageError(f"solution {path}: cell {cell['id']!r} has invalid {KIT_METADATA}.{POINTS_KEY} "
                                  f"{points!r}")
        checks.append(Check(
            id=cell["id"],
            position=position,
            hidden=HIDDEN_CHECK_TAG in _tags(cell),
            points=points,
            needs_training=NEEDS_TRAINING_TAG in _tags(cell),
            cell=cell,
        ))
    if not checks:
        raise GradeUsageError(f"solution {path} has no cell tagged {CHECK_TAG!r} or {HIDDEN_CHECK_TAG!r}")
    return Exercise(name=path.stem, path=path, notebook=nb, checks=tuple(checks))


def exercise_names(solutions_dir: Path) -> list[str]:
    """Names of every exercise: the stems of ``solutions_dir/*.ipynb``."""
    if not solutions_dir.is_dir():
        raise GradeUsageError(f"solutions folder {solutions_dir} does not exist")
    available = sorted(p.stem for p in solutions_dir.glob("*.ipynb"))
    if not available:
        raise GradeUsageError(f"solutions folder {solutions_dir} has no .ipynb files")
    return available


def load_exercises(solutions_dir: Path, only: list[str] | None = None) -> dict[str, Exercise]:
    """All exercises in ``solutions_dir`` (or just ``only``, which must exist there)."""
    available = exercise_names(solutions_dir)
    wanted = only if only else available
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise GradeUsageError(
            f"unknown exercise {', '.join(unknown)}; known exercises: {', '.join(available)}"
        )
    return {name: load_exercise(solutions_dir / f"{name}.ipynb") for name in wanted}
