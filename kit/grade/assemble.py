"""Building the graded copy: the learner's cells with the instructor's checks put back.

Check cells are matched by cell id. A learner's copy of a check cell is always replaced by the
solution's (so editing a check cannot change its verdict); a deleted check is re-inserted after
the nearest solution cell that precedes it; hidden checks are inserted the same way. Learner
cells lose their saved outputs: grading re-executes everything and never trusts them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from kit.grade.registry import Exercise, stdout_of

CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
SKIP_MARKER = "# NBVAL_SKIP"
META_KEY = "kit_grade"
_NBVAL_TAGS = {"nbval-check-output", "nbval-ignore-output", "nbval-skip", "nbval-raises-exception",
               "raises-exception"}


@dataclass
class GradedCopy:
    """The notebook to execute plus what the grader needs to read its results back."""

    notebook: NotebookNode
    restored: dict[str, str] = field(default_factory=dict)  # check id -> "missing" | "edited"
    skipped: set[str] = field(default_factory=set)  # check ids not graded (quick mode)

    def code_cell_ids(self) -> list[str]:
        """Cell ids in nbval's numbering: its ``Cell N`` is the N-th code cell."""
        return [c["id"] for c in self.notebook.cells if c.cell_type == "code"]


def _strip_markers(source: str) -> str:
    return "\n".join(
        line for line in source.splitlines() if line.strip().lstrip("#").strip() not in
        {"NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION"}
    )


def graded_check_cell(check_cell: NotebookNode, check_id: str, skip: bool,
                      reference: str | None = None) -> NotebookNode:
    """The instructor's check as nbval runs it: output compared on stdout only.

    The body runs through IPython's ``%%capture --no-stdout`` so that warnings (stderr) and rich
    displays caused by the learner's code cannot fail a check whose printed ✓ lines are right.
    """
    body = _strip_markers("".join(check_cell.source))
    marker = SKIP_MARKER if skip else CHECK_MARKER
    source = f'{marker}\nget_ipython().run_cell_magic("capture", "--no-stdout", {body!r})\n'
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = check_id
    cell.metadata = nbformat.from_dict({META_KEY: {"check": check_id}})
    reference = stdout_of(check_cell) if reference is None else reference
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=reference)]
    cell.execution_count = check_cell.get("execution_count") or 1
    return cell


def _learner_cell(cell: NotebookNode, cell_id: str) -> NotebookNode:
    cell = copy.deepcopy(cell)
    cell["id"] = cell_id
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
        tags = cell.metadata.get("tags")
        if isinstance(tags, list):
            cell.metadata["tags"] = [t for t in tags if t not in _NBVAL_TAGS]
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    cell.metadata.pop(META_KEY, None)
    return cell


def _same(a: str, b: str) -> bool:
    return [line.rstrip() for line in a.strip().splitlines()] == [line.rstrip() for line in b.strip().splitlines()]


def _key(cell: NotebookNode) -> tuple[str, str]:
    source = "".join(cell.get("source", ""))
    return (str(cell.get("cell_type")), "\n".join(line.rstrip() for line in source.strip().splitlines()))


def _solution_ids_by_source(exercise: Exercise) -> dict[tuple[str, str], str]:
    """Solution cells whose source is unique, by source: how cells without an id are matched."""
    keys: dict[tuple[str, str], list[str]] = {}
    for cell in exercise.notebook.cells:
        keys.setdefault(_key(cell), []).append(cell["id"])
    return {key: ids[0] for key, ids in keys.items() if len(ids) == 1 and key[1]}


def evidence_cell(source: str, check_id: str) -> NotebookNode:
    """A judged check's place in the graded copy: a cell that only collects evidence (its
    output is ignored; the grader judges the evidence it writes)."""
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = check_id
    cell.metadata = nbformat.from_dict({META_KEY: {"check": check_id, "evidence": True}})
    return cell


def _positional_ids(learner_nb: NotebookNode, exercise: Exercise) -> dict[int, str]:
    """Solution ids by position, for a notebook whose ids were *all* regenerated and that has
    the solution's or the starter's shape (same number of cells, same kinds). Hidden checks,
    which a learner's notebook never has, are left out of the solution for this."""
    hidden = {c.id for c in exercise.checks if c.hidden}
    theirs = [c for c in exercise.notebook.cells if c["id"] not in hidden]
    mine = learner_nb.cells
    solution_ids = {c["id"] for c in exercise.notebook.cells}
    if any(c.get("id") in solution_ids for c in mine):
        return {}  # some ids are the solution's: the others are the learner's own cells
    if len(mine) != len(theirs) or any(a.get("cell_type") != b.get("cell_type") for a, b in zip(mine, theirs)):
        return {}
    return {i: c["id"] for i, c in enumerate(theirs)}


def _learner_ids(learner_nb: NotebookNode, exercise: Exercise) -> list[str]:
    """The id each learner cell is graded under. A cell without an id, or with one the solution
    does not have (regenerated by some tool), gets the solution's id when its source is that of
    a unique solution cell, or when the notebook has the solution's shape, by position."""
    solution_ids = {c["id"] for c in exercise.notebook.cells}
    by_source = _solution_ids_by_source(exercise)
    positional = _positional_ids(learner_nb, exercise)
    given = [c.get("id") if isinstance(c.get("id"), str) and c.get("id") else None for c in learner_nb.cells]
    present = {i for i in given if i in solution_ids}
    ids = []
    for index, (cell, cell_id) in enumerate(zip(learner_nb.cells, given)):
        if cell_id is None or cell_id not in solution_ids:
            match = by_source.get(_key(cell)) or positional.get(index)
            if match is not None and match not in present:
                present.add(match)
                cell_id = match
        ids.append(cell_id or f"learner-{index}")
    return ids


def build_graded_copy(learner_nb: NotebookNode, exercise: Exercise, skip: frozenset[str] = frozenset(),
                      references: dict[str, str] | None = None,
                      evidence: dict[str, str] | None = None) -> GradedCopy:
    """Assemble the notebook to execute; ``learner_nb`` itself is not modified.

    Checks in ``skip`` run as ``# NBVAL_SKIP``; ``references`` replaces the solution's saved
    outputs (quick mode compares with the solution's own quick-mode output); checks in
    ``evidence`` (check id -> evidence cell source) are replaced by their evidence cell."""
    references = references or {}
    evidence = evidence or {}
    checks = {c.id: c for c in exercise.checks}
    solution_ids = [c["id"] for c in exercise.notebook.cells]
    graded = GradedCopy(notebook=nbformat.v4.new_notebook(metadata=copy.deepcopy(exercise.notebook.metadata)))
    cells: list[NotebookNode] = []
    seen: set[str] = set()

    def check_cell(check_id: str) -> NotebookNode:
        if check_id in evidence:
            return evidence_cell(evidence[check_id], check_id)
        return graded_check_cell(checks[check_id].cell, check_id, check_id in skip, references.get(check_id))

    for index, (cell, cell_id) in enumerate(zip(learner_nb.cells, _learner_ids(learner_nb, exercise))):
        if cell_id in seen:
            if cell_id in checks:
                continue  # a duplicated check would only run the same check twice
            cell_id = f"{cell_id}-copy{index}"
        seen.add(cell_id)
        if cell_id in checks:
            check = checks[cell_id]
            if cell.get("cell_type") != "code" or not _same(
                "".join(cell.get("source", "")), "".join(check.cell.source)
            ):
                graded.restored[cell_id] = "edited"
            cells.append(check_cell(cell_id))
        else:
            cells.append(_learner_cell(cell, cell_id))
    for check in exercise.checks:  # missing and hidden checks, at their solution position
        if check.id in seen:
            continue
        if not check.hidden:
            graded.restored[check.id] = "missing"
        present = [c["id"] for c in cells]
        anchors = [i for i in solution_ids[: check.position] if i in present]
        at = present.index(anchors[-1]) + 1 if anchors else len(cells)
        cells.insert(at, check_cell(check.id))
        seen.add(check.id)
    graded.skipped = {c.id for c in exercise.checks if c.id in skip}
    graded.notebook.cells = cells
    return graded
