"""Solution -> starter transforms, one job each, composed by :mod:`kit.starters`.

In the style of nbgrader's preprocessors: every transform takes the notebook (already a copy of
the solution, changed in place) and a :class:`StarterContext` that carries the notebook's name,
the solution's cell positions (for error messages) and the counts the generator reports. The
marker syntax (``### BEGIN SOLUTION: hint`` ... ``### END SOLUTION``) is handled here too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from helpers.hints import BEGIN, BEGIN_MARKER, END, END_MARKER, blank_key
from helpers.hints import METADATA_KEY as HINTS_KEY
from kit.course import SOLUTIONS_DIR, STARTERS_DIR
from kit.execute import TIMING_KEY
from kit.grade.limits.budget import PEAKS_KEY
from kit.grade.registry import HIDDEN_CHECK_TAG
from kit.launch import BADGE_CELL_ID, badge_markdown  # defined once, beside the code that writes that cell
from kit.notebooks import EXERCISE_KEY, KIT_METADATA, ROLE_KEY, STARTER_ROLE, kit_metadata

HIDDEN_TAG = HIDDEN_CHECK_TAG
DEFAULT_HINT = "Write this part yourself: the markdown above says what it should do."
# Notebook metadata that belongs to the executed solution only: the widget state of its outputs
# and the cell times ``kit execute`` recorded (the grader reads them from the solution).
SOLUTION_ONLY_METADATA = ("widgets", TIMING_KEY, PEAKS_KEY)

# Anything that looks like a marker but is not exactly one (typos would otherwise leak solutions).
_MARKER_LIKE = re.compile(r"^[ \t]*#.*\b(BEGIN|END)[ _]SOLUTION", re.IGNORECASE)


class StarterError(ValueError):
    """A solution cannot be turned into a starter; the message names the notebook and the cell."""


@dataclass
class StarterContext:
    """What the transforms share: the notebook's file name, where each cell sat in the solution,
    and the counts reported by ``kit assign``."""

    name: str
    positions: dict[str, int] = field(default_factory=dict)  # cell id -> index in the solution
    blanks: int = 0
    dropped_cells: int = 0

    def where(self, cell: NotebookNode) -> str:
        cell_id = cell.get("id", "(no id)")
        return f"{SOLUTIONS_DIR}/{self.name}: cell {self.positions.get(cell_id, '?')} (id {cell_id!r})"


StarterTransform = Callable[[NotebookNode, StarterContext], None]


# --------------------------------------------------------------------------- marker syntax


def _literal(hint: str) -> str:
    """``hint`` as a double-quoted Python string literal (backslashes and quotes escaped)."""
    return '"' + hint.replace("\\", "\\\\").replace('"', '\\"') + '"'


def blank_source(source: str, where: str = "cell", hint_key: str | None = None) -> tuple[str, int]:
    """Replace each marked solution region of one code cell's ``source``; return it and the count.

    ``where`` names the cell in error messages (unbalanced, nested or malformed markers);
    ``hint_key`` (a :func:`helpers.hints.blank_key`) adds how to ask for a stronger hint.
    """
    out: list[str] = []
    blanks = 0
    open_line: int | None = None
    indent = hint = ""
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        text = line.rstrip("\r\n")
        begin, end = BEGIN.match(text), END.match(text)
        if begin:
            if open_line is not None:
                raise StarterError(
                    f"{where}: line {number} opens a solution region inside the one opened on line "
                    f"{open_line} (nested BEGIN SOLUTION; close the first with {END_MARKER})"
                )
            open_line = number
            indent = begin.group("indent")
            hint = (begin.group("hint") or "").strip() or DEFAULT_HINT
            if hint_key is not None:
                hint += f" (stronger hint: hint('{hint_key if blanks == 0 else f'{hint_key}-{blanks + 1}'}'))"
        elif end:
            if open_line is None:
                raise StarterError(
                    f"{where}: line {number} has {END_MARKER} without a {BEGIN_MARKER} before it"
                )
            newline = line[len(text) :]
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(f"{indent}raise NotImplementedError({_literal(hint)}){newline}")
            blanks += 1
            open_line = None
        elif _MARKER_LIKE.match(text):
            raise StarterError(
                f"{where}: line {number} looks like a solution marker but is not one: {text.strip()!r} "
                f"(write exactly '{BEGIN_MARKER}: <hint>' or '{END_MARKER}')"
            )
        elif open_line is None:
            out.append(line)
    if open_line is not None:
        raise StarterError(
            f"{where}: the solution region opened on line {open_line} is never closed ({END_MARKER})"
        )
    return "".join(out), blanks


def check_python(source: str, where: str = "cell") -> None:
    """Raise :class:`StarterError` unless ``source`` is valid Python once IPython syntax
    (``%magic``, ``!shell``) is translated the way the kernel translates it."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError as exc:
        raise StarterError(f"{where}: the starter code is not valid Python (line {exc.lineno}: {exc.msg})") from None


def _tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


# --------------------------------------------------------------------------- transforms


def require_solution(nb: NotebookNode, ctx: StarterContext) -> None:
    """Refuse a starter as input, and a notebook whose cells lack unique ids (the grader maps
    starter and solution cells by id); record each cell's position for later messages."""
    where = f"{SOLUTIONS_DIR}/{ctx.name}"
    if kit_metadata(nb).get(ROLE_KEY) == STARTER_ROLE:
        raise StarterError(f"{where}: metadata {KIT_METADATA}.{ROLE_KEY} is '{STARTER_ROLE}'; generate from a solution")
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not cell_id:
            raise StarterError(f"{where}: cell {index} has no id (save the notebook as nbformat 4.5)")
        if cell_id in ctx.positions:
            raise StarterError(f"{where}: cell {index} repeats the id {cell_id!r}; cell ids must be unique")
        ctx.positions[cell_id] = index


def drop_hidden_checks(nb: NotebookNode, ctx: StarterContext) -> None:
    """Remove the instructor-only ``hidden-check`` cells (the grader inserts them back)."""
    kept = [cell for cell in nb.cells if HIDDEN_TAG not in _tags(cell)]
    ctx.dropped_cells += len(nb.cells) - len(kept)
    nb.cells = kept


def clear_solutions(nb: NotebookNode, ctx: StarterContext) -> None:
    """Replace every marked region by ``# YOUR CODE HERE`` + ``raise NotImplementedError(hint)``;
    a blank with authored hint levels says how to ask for them. The result must be valid Python."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        hint_key = blank_key(cell.get("id", "")) if HINTS_KEY in kit_metadata(cell) else None
        where = ctx.where(cell)
        cell.source, count = blank_source(cell.source, where, hint_key)
        check_python(cell.source, where)
        ctx.blanks += count


def strip_hint_levels(nb: NotebookNode, ctx: StarterContext) -> None:
    """Drop the authored hint levels (``metadata.kit.hints``): they live in the hint data."""
    for cell in nb.cells:
        meta = kit_metadata(cell)
        if cell.cell_type != "code" or HINTS_KEY not in meta:
            continue
        rest = {k: v for k, v in meta.items() if k != HINTS_KEY}
        if rest:
            cell.metadata[KIT_METADATA] = rest
        else:
            del cell.metadata[KIT_METADATA]


def clear_outputs(nb: NotebookNode, ctx: StarterContext) -> None:
    """The starter has never run: no outputs, no execution counts."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def set_badges(nb: NotebookNode, ctx: StarterContext) -> None:
    """Point the ``launch-badges`` cell at the starter (``notebooks/NN.ipynb``), not the solution."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.get("id") == BADGE_CELL_ID:
            cell.source = badge_markdown(f"{STARTERS_DIR}/{ctx.name}")


def set_role(nb: NotebookNode, ctx: StarterContext) -> None:
    """``metadata.kit``: the exercise name (kept, or the file stem) and ``role: starter``."""
    kit = kit_metadata(nb)
    exercise = kit.get(EXERCISE_KEY, Path(ctx.name).stem)
    nb.metadata[KIT_METADATA] = {**kit, EXERCISE_KEY: exercise, ROLE_KEY: STARTER_ROLE}


def strip_solution_metadata(nb: NotebookNode, ctx: StarterContext) -> None:
    """Drop notebook metadata that describes the executed solution (:data:`SOLUTION_ONLY_METADATA`)."""
    for key in SOLUTION_ONLY_METADATA:
        nb.metadata.pop(key, None)


STARTER_TRANSFORMS: tuple[StarterTransform, ...] = (
    require_solution,
    drop_hidden_checks,
    clear_solutions,
    strip_hint_levels,
    clear_outputs,
    set_badges,
    set_role,
    strip_solution_metadata,
)


def apply(nb: NotebookNode, ctx: StarterContext, transforms: Sequence[StarterTransform] = STARTER_TRANSFORMS) -> None:
    """Run ``transforms`` in order on ``nb`` (in place)."""
    for transform in transforms:
        transform(nb, ctx)
