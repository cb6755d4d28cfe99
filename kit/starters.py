"""Generate each learner starter ``notebooks/NN.ipynb`` from its solution ``solutions/NN.ipynb``.

Usage: ``kit assign [--check] [NB ...]``.

Solutions are authored and starters are generated, never edited by hand (docs/CONVENTIONS.md),
so the two cannot drift apart. In the starter every ``### BEGIN SOLUTION: hint`` ...
``### END SOLUTION`` region becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError("hint")``
at the marker's indentation; ``hidden-check`` cells are dropped; code outputs are cleared; every
other cell keeps its source, id and metadata, so starter and solution cells map one to one.
A blank cell with stronger hints (``metadata.kit.hints``, see :mod:`helpers.hints`) gets
``(stronger hint: hint('key'))`` after its message, and those hints are removed from the starter.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from kit import hint_data, notebooks
from kit.course import course
from helpers.hints import METADATA_KEY as HINTS_KEY
from helpers.hints import blank_key

SOLUTIONS_DIR = "solutions"
STARTERS_DIR = "notebooks"
HIDDEN_TAG = "hidden-check"
BADGE_CELL_ID = "launch-badges"
DEFAULT_HINT = "Write this part yourself: the markdown above says what it should do."

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<hint>.*?))?[ \t]*$")
_END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
# Anything that looks like a marker but is not exactly one (typos would otherwise leak solutions).
_MARKER_LIKE = re.compile(r"^[ \t]*#.*\b(BEGIN|END)[ _]SOLUTION", re.IGNORECASE)


class StarterError(ValueError):
    """A solution cannot be turned into a starter; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Starter:
    """A generated starter and what the generator did to its solution."""

    notebook: NotebookNode
    blanks: int
    dropped_cells: int


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
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        text = line.rstrip("\r\n")
        begin, end = _BEGIN.match(text), _END.match(text)
        if begin:
            if open_line is not None:
                raise StarterError(
                    f"{where}: line {number} opens a solution region inside the one opened on line "
                    f"{open_line} (nested BEGIN SOLUTION; close the first with ### END SOLUTION)"
                )
            open_line = number
            indent = begin.group("indent")
            hint = (begin.group("hint") or "").strip() or DEFAULT_HINT
            if hint_key is not None:
                hint += f" (stronger hint: hint('{hint_key if blanks == 0 else f'{hint_key}-{blanks + 1}'}'))"
        elif end:
            if open_line is None:
                raise StarterError(f"{where}: line {number} has ### END SOLUTION without a ### BEGIN SOLUTION before it")
            newline = line[len(text) :]
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(f"{indent}raise NotImplementedError({_literal(hint)}){newline}")
            blanks += 1
            open_line = None
        elif _MARKER_LIKE.match(text):
            raise StarterError(
                f"{where}: line {number} looks like a solution marker but is not one: {text.strip()!r} "
                "(write exactly '### BEGIN SOLUTION: <hint>' or '### END SOLUTION')"
            )
        elif open_line is None:
            out.append(line)
    if open_line is not None:
        raise StarterError(f"{where}: the solution region opened on line {open_line} is never closed (### END SOLUTION)")
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


def _badge_source(starter_path: str) -> str | None:
    """The launch badges for the starter's own path, if ``kit.launch`` provides them."""
    try:
        from kit.launch import badge_markdown
    except ImportError:
        return None
    return badge_markdown(starter_path)


def _require_ids(nb: NotebookNode, where: str) -> None:
    """The grader maps starter and solution cells by id, so every cell needs its own id."""
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not cell_id:
            raise StarterError(f"{where}: cell {index} has no id (save the notebook as nbformat 4.5)")
        if cell_id in seen:
            raise StarterError(f"{where}: cell {index} repeats the id {cell_id!r}; cell ids must be unique")
        seen.add(cell_id)


def make_starter(solution: NotebookNode, name: str) -> Starter:
    """Build the starter of ``solution`` (a notebook file name such as ``01_warmup_cosine.ipynb``,
    used in error messages and launch links). The solution itself is not modified."""
    nb = copy.deepcopy(solution)
    kit = nb.metadata.get("kit", {})
    if kit.get("role") == "starter":
        raise StarterError(f"{SOLUTIONS_DIR}/{name}: metadata kit.role is 'starter'; generate from a solution")
    _require_ids(nb, f"{SOLUTIONS_DIR}/{name}")
    cells = []
    blanks = dropped = 0
    for index, cell in enumerate(nb.cells):
        where = f"{SOLUTIONS_DIR}/{name}: cell {index} (id {cell.get('id', '(no id)')!r})"
        if HIDDEN_TAG in _tags(cell):
            dropped += 1
            continue
        if cell.cell_type == "code":
            kit_meta = cell.get("metadata", {}).get("kit", {})
            hint_key = blank_key(cell.get("id", "")) if HINTS_KEY in kit_meta else None
            if hint_key is not None:  # the stronger hints live in helpers/hint_data, not in the starter
                rest = {k: v for k, v in kit_meta.items() if k != HINTS_KEY}
                if rest:
                    cell.metadata["kit"] = rest
                else:
                    del cell.metadata["kit"]
            cell.source, count = blank_source(cell.source, where, hint_key)
            check_python(cell.source, where)
            blanks += count
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown" and cell.get("id") == BADGE_CELL_ID:
            badges = _badge_source(f"{STARTERS_DIR}/{name}")
            if badges is not None:
                cell.source = badges
        cells.append(cell)
    nb.cells = cells
    nb.metadata["kit"] = {**kit, "exercise": kit.get("exercise", Path(name).stem), "role": "starter"}
    # Widget state belongs to the solution's outputs, which the starter does not have.
    nb.metadata.pop("widgets", None)
    return Starter(nb, blanks, dropped)


def _solution_paths(root: Path, names: list[str]) -> list[Path]:
    """The solutions to process: all of them, or those named (by solution or starter path)."""
    folder = root / SOLUTIONS_DIR
    if not names:
        return sorted(folder.glob("*.ipynb"))
    paths = []
    for name in names:
        path = folder / Path(name).name
        if Path(name).suffix != ".ipynb" or not path.is_file():
            raise StarterError(f"{name}: no solution notebook {SOLUTIONS_DIR}/{Path(name).name} to generate from")
        paths.append(path)
    return paths


def generate(root: str | os.PathLike | None = None, names: list[str] | None = None, check: bool = False) -> list[str]:
    """Regenerate starters (or, with ``check``, only compare) and return the out-of-date ones.

    Every starter is built in memory first, so one broken solution means nothing is written.
    """
    root = Path(root) if root is not None else course().root
    built: list[tuple[Path, Starter]] = []
    errors: list[str] = []
    paths = _solution_paths(root, list(names or []))
    if not paths:
        print(f"no solution notebooks in {SOLUTIONS_DIR}/: nothing to generate")
    for path in paths:
        try:
            built.append((path, make_starter(notebooks.read(path), path.name)))
        except (StarterError, ValueError) as exc:
            errors.append(str(exc))
    if errors:
        raise StarterError("\n".join(errors) + "\nNo starter was written.")
    stale = []
    for path, starter in built:
        target = root / STARTERS_DIR / path.name
        text = notebooks.dumps(starter.notebook)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        shown = f"{STARTERS_DIR}/{path.name}"
        summary = f"{starter.blanks} blank(s), {starter.dropped_cells} hidden-check cell(s) dropped"
        if starter.blanks == 0:
            summary += " — warning: no ### BEGIN SOLUTION region"
        if current == text:
            print(f"up to date  {shown} ({summary})")
            continue
        stale.append(shown)
        if check:
            print(f"OUT OF DATE {shown} ({'missing' if current is None else 'differs from its solution'})")
        else:
            target.parent.mkdir(exist_ok=True)
            notebooks.write_atomic(starter.notebook, target)
            print(f"wrote       {shown} ({summary})")
    if not names:  # every solution regenerated: keep the course's hint levels in step
        where = course(root)
        if hint_data.sync(where, check=check):
            stale.append(str(where.hint_data.relative_to(where.root)))
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kit assign",
        description=f"Generate {STARTERS_DIR}/NN.ipynb starters from {SOLUTIONS_DIR}/NN.ipynb solutions.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a starter is out of date")
    parser.add_argument("notebooks", nargs="*", metavar="NB", help="limit to these notebooks (default: all)")
    args = parser.parse_args(argv)
    try:
        stale = generate(None, args.notebooks, check=args.check)
        sys.stdout.flush()  # keep the per-notebook lines before the summary on a shared terminal
    except StarterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.check and stale:
        print(f"{len(stale)} starter(s) out of date; run `make starters` (kit assign).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
