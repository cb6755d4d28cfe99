"""Learner notebook -> graded copy transforms, one job each, composed by :mod:`kit.grade.assemble`.

The learner's cells are first matched to the solution's (:func:`match_cells`: by id, else by a
unique source, else by position), giving a list of :class:`Slot`; each transform then takes and
returns that list: restore the instructor's checks, insert the missing and hidden ones, clean the
learner's cells, and render each check as nbval runs it (or as an evidence cell).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from kit.grade.capture import META_KEY
from kit.grade.registry import Exercise, stdout_of, strip_nbval_markers
from kit.notebooks import CHECK_OUTPUT, NBVAL_TAGS, SKIP, marker_line

CHECK_MARKER = marker_line(CHECK_OUTPUT)
SKIP_MARKER = marker_line(SKIP)


@dataclass
class Slot:
    """One cell of the graded copy in the making: the id it is graded under, the cell, and
    whether it is an instructor check (its ``cell`` is then the solution's check cell)."""

    id: str
    cell: NotebookNode
    check: bool = False


@dataclass
class GradedContext:
    """What the graded-copy transforms share: the exercise, the grading options, and what was restored."""

    exercise: Exercise
    skip: frozenset[str] = frozenset()
    references: dict[str, str] = field(default_factory=dict)  # check id -> expected stdout
    evidence: dict[str, str] = field(default_factory=dict)  # check id -> evidence cell source
    restored: dict[str, str] = field(default_factory=dict)  # check id -> "missing" | "edited"

    @property
    def checks(self) -> dict[str, NotebookNode]:
        return {c.id: c.cell for c in self.exercise.checks}


GradedTransform = Callable[[list[Slot], GradedContext], list[Slot]]


# --------------------------------------------------------------------------- cells


def graded_check_cell(check_cell: NotebookNode, check_id: str, skip: bool,
                      reference: str | None = None) -> NotebookNode:
    """The instructor's check as nbval runs it: output compared on stdout only.

    The body runs through IPython's ``%%capture --no-stdout`` so that warnings (stderr) and rich
    displays caused by the learner's code cannot fail a check whose printed ✓ lines are right.
    """
    body = strip_nbval_markers("".join(check_cell.source))
    marker = SKIP_MARKER if skip else CHECK_MARKER
    source = f'{marker}\nget_ipython().run_cell_magic("capture", "--no-stdout", {body!r})\n'
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = check_id
    cell.metadata = nbformat.from_dict({META_KEY: {"check": check_id}})
    reference = stdout_of(check_cell) if reference is None else reference
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=reference)]
    cell.execution_count = check_cell.get("execution_count") or 1
    return cell


def evidence_cell(source: str, check_id: str) -> NotebookNode:
    """A judged check's place in the graded copy: a cell that only collects evidence (its
    output is ignored; the grader judges the evidence it writes)."""
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = check_id
    cell.metadata = nbformat.from_dict({META_KEY: {"check": check_id, "evidence": True}})
    return cell


def same_source(a: str, b: str) -> bool:
    """Equal up to surrounding blank lines and trailing spaces (what an editor may change)."""
    return [line.rstrip() for line in a.strip().splitlines()] == [line.rstrip() for line in b.strip().splitlines()]


# --------------------------------------------------------------------------- matching


def _key(cell: NotebookNode) -> tuple[str, str]:
    source = "".join(cell.get("source", ""))
    return (str(cell.get("cell_type")), "\n".join(line.rstrip() for line in source.strip().splitlines()))


def _solution_ids_by_source(exercise: Exercise) -> dict[tuple[str, str], str]:
    """Solution cells whose source is unique, by source: how cells without an id are matched."""
    keys: dict[tuple[str, str], list[str]] = {}
    for cell in exercise.notebook.cells:
        keys.setdefault(_key(cell), []).append(cell["id"])
    return {key: ids[0] for key, ids in keys.items() if len(ids) == 1 and key[1]}


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
    if len(mine) != len(theirs) or any(
        a.get("cell_type") != b.get("cell_type") for a, b in zip(mine, theirs, strict=True)
    ):
        return {}
    return {i: c["id"] for i, c in enumerate(theirs)}


def learner_ids(learner_nb: NotebookNode, exercise: Exercise) -> list[str]:
    """The id each learner cell is graded under.

    A cell keeps its id when the solution has it — except a hidden check's id on a cell that is
    not that check (a learner's notebook never holds one: it is the learner's own cell). A cell
    without an id, or with one the solution lacks (regenerated by some tool), first gets the id of
    the unique solution cell with its source; only then, if the notebook has the solution's shape,
    the id at its position — never a check's id, so a cell of the learner's is never replaced by
    a check on its position alone.
    """
    solution_ids = {c["id"] for c in exercise.notebook.cells}
    checks = {c.id: c for c in exercise.checks}
    by_source = _solution_ids_by_source(exercise)
    positional = _positional_ids(learner_nb, exercise)
    given: list[str | None] = []
    for cell in learner_nb.cells:
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) and cell.get("id") else None
        check = checks.get(cell_id) if cell_id is not None else None
        if check is not None and check.hidden and not same_source(
            "".join(cell.get("source", "")), "".join(check.cell.source)
        ):
            cell_id = ""  # the learner's own cell under a hidden check's id: graded as theirs
        given.append(cell_id)
    present = {i for i in given if i in solution_ids}
    ids: list[str | None] = list(given)
    unmatched = [i for i, cell_id in enumerate(given) if cell_id not in solution_ids]
    for index in unmatched:  # by source first, for every cell, so position cannot take a source match
        match = by_source.get(_key(learner_nb.cells[index]))
        if match is not None and match not in present:
            present.add(match)
            ids[index] = match
    for index in unmatched:
        match = positional.get(index)
        if ids[index] in solution_ids or match is None or match in present or match in checks:
            continue
        present.add(match)
        ids[index] = match
    return [cell_id or f"learner-{index}" for index, cell_id in enumerate(ids)]


def match_cells(learner_nb: NotebookNode, ctx: GradedContext) -> list[Slot]:
    """The learner's cells in order, each under its graded id; a second copy of a check is
    dropped (it would only run the same check twice), other repeated ids are made unique."""
    checks = ctx.checks
    slots: list[Slot] = []
    seen: set[str] = set()
    for index, (cell, cell_id) in enumerate(zip(learner_nb.cells, learner_ids(learner_nb, ctx.exercise), strict=True)):
        if cell_id in seen:
            if cell_id in checks:
                continue
            cell_id = f"{cell_id}-copy{index}"
        seen.add(cell_id)
        slots.append(Slot(cell_id, cell, cell_id in checks))
    return slots


# --------------------------------------------------------------------------- transforms


def restore_checks(slots: list[Slot], ctx: GradedContext) -> list[Slot]:
    """A learner's copy of a check becomes the solution's check (an edit cannot change a
    verdict); an edited one is recorded as ``edited``."""
    checks = ctx.checks
    out = []
    for slot in slots:
        if slot.check:
            original = checks[slot.id]
            mine = slot.cell
            if mine.get("cell_type") != "code" or not same_source("".join(mine.get("source", "")),
                                                                  "".join(original.source)):
                ctx.restored[slot.id] = "edited"
            slot = Slot(slot.id, original, True)
        out.append(slot)
    return out


def insert_missing_checks(slots: list[Slot], ctx: GradedContext) -> list[Slot]:
    """Deleted (``missing``) and hidden checks go back after the nearest solution cell that
    precedes them in the solution and is present in the learner's notebook."""
    out = list(slots)
    solution_ids = [c["id"] for c in ctx.exercise.notebook.cells]
    for check in ctx.exercise.checks:
        present = [slot.id for slot in out]
        if check.id in present:
            continue
        if not check.hidden:
            ctx.restored[check.id] = "missing"
        anchors = [i for i in solution_ids[: check.position] if i in present]
        at = present.index(anchors[-1]) + 1 if anchors else len(out)
        out.insert(at, Slot(check.id, check.cell, True))
    return out


def learner_cell(cell: NotebookNode, cell_id: str) -> NotebookNode:
    """A learner's cell as graded: its saved outputs are never trusted, its nbval tags and
    grader metadata (which would change how nbval treats it) removed."""
    cell = copy.deepcopy(cell)
    cell["id"] = cell_id
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
        tags = cell.metadata.get("tags")
        if isinstance(tags, list):
            cell.metadata["tags"] = [t for t in tags if t not in NBVAL_TAGS]
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    cell.metadata.pop(META_KEY, None)
    return cell


def clean_learner_cells(slots: list[Slot], ctx: GradedContext) -> list[Slot]:
    """Every learner cell through :func:`learner_cell` (a copy: the learner's notebook is untouched)."""
    return [slot if slot.check else Slot(slot.id, learner_cell(slot.cell, slot.id)) for slot in slots]


def render_checks(slots: list[Slot], ctx: GradedContext) -> list[Slot]:
    """Each check as nbval runs it (:func:`graded_check_cell`, ``# NBVAL_SKIP`` if skipped), or
    replaced by its evidence cell when the grader judges it from evidence."""
    out = []
    for slot in slots:
        if slot.check:
            if slot.id in ctx.evidence:
                cell = evidence_cell(ctx.evidence[slot.id], slot.id)
            else:
                cell = graded_check_cell(slot.cell, slot.id, slot.id in ctx.skip, ctx.references.get(slot.id))
            slot = Slot(slot.id, cell, True)
        out.append(slot)
    return out


GRADED_TRANSFORMS: tuple[GradedTransform, ...] = (
    restore_checks,
    insert_missing_checks,
    clean_learner_cells,
    render_checks,
)


def apply(slots: list[Slot], ctx: GradedContext,
          transforms: Sequence[GradedTransform] = GRADED_TRANSFORMS) -> list[Slot]:
    """Run ``transforms`` in order, each on the previous one's slots."""
    for transform in transforms:
        slots = transform(slots, ctx)
    return slots
