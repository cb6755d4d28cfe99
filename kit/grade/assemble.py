"""Building the graded copy: the learner's cells with the instructor's checks put back.

Check cells are matched by cell id. A learner's copy of a check cell is always replaced by the
solution's (so editing a check cannot change its verdict); a deleted check is re-inserted after
the nearest solution cell that precedes it; hidden checks are inserted the same way. Learner
cells lose their saved outputs: grading re-executes everything and never trusts them. Each of
these jobs is one transform of :mod:`kit.transforms.graded`; this module composes them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from kit.grade.registry import Exercise
from kit.transforms import graded as transforms
from kit.transforms.graded import (  # re-exported: the grader's engine and tests use them from here
    CHECK_MARKER,
    META_KEY,
    SKIP_MARKER,
    GradedContext,
    evidence_cell,
    graded_check_cell,
    match_cells,
)

__all__ = ["CHECK_MARKER", "META_KEY", "SKIP_MARKER", "GradedCopy", "build_graded_copy", "evidence_cell",
           "graded_check_cell"]


@dataclass
class GradedCopy:
    """The notebook to execute plus what the grader needs to read its results back."""

    notebook: NotebookNode
    restored: dict[str, str] = field(default_factory=dict)  # check id -> "missing" | "edited"
    skipped: set[str] = field(default_factory=set)  # check ids not graded (quick mode)

    def code_cell_ids(self) -> list[str]:
        """Cell ids in nbval's numbering: its ``Cell N`` is the N-th code cell."""
        return [c["id"] for c in self.notebook.cells if c.cell_type == "code"]


def build_graded_copy(learner_nb: NotebookNode, exercise: Exercise, skip: frozenset[str] = frozenset(),
                      references: dict[str, str] | None = None,
                      evidence: dict[str, str] | None = None) -> GradedCopy:
    """Assemble the notebook to execute; ``learner_nb`` itself is not modified.

    Checks in ``skip`` run as ``# NBVAL_SKIP``; ``references`` replaces the solution's saved
    outputs (quick mode compares with the solution's own quick-mode output); checks in
    ``evidence`` (check id -> evidence cell source) are replaced by their evidence cell."""
    ctx = GradedContext(exercise, skip, dict(references or {}), dict(evidence or {}))
    slots = transforms.apply(match_cells(learner_nb, ctx), ctx)
    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(exercise.notebook.metadata))
    notebook.cells = [slot.cell for slot in slots]
    return GradedCopy(notebook, ctx.restored, {c.id for c in exercise.checks if c.id in skip})
