"""Generate each learner starter ``notebooks/NN.ipynb`` from its solution ``solutions/NN.ipynb``.

Usage: ``kit assign [--check] [NB ...]``.

Solutions are authored and starters are generated, never edited by hand (docs/CONVENTIONS.md),
so the two cannot drift apart. The starter is the solution passed through small transforms, one
job each (:mod:`kit.transforms.starter`): marked regions become ``# YOUR CODE HERE`` +
``raise NotImplementedError("hint")``, ``hidden-check`` cells are dropped, outputs cleared, the
badges point at the starter, the role becomes ``starter``, authored hint levels and
solution-only metadata are removed. Every other cell keeps its source, id and metadata, so
starter and solution cells map one to one.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from helpers.hints import BEGIN_MARKER
from kit import hint_data, notebooks
from kit.course import course
from kit.transforms import starter as transforms
from kit.transforms.starter import (  # re-exported: the marker syntax is part of this command's API
    BADGE_CELL_ID,
    DEFAULT_HINT,
    HIDDEN_TAG,
    SOLUTIONS_DIR,
    STARTERS_DIR,
    StarterContext,
    StarterError,
    blank_source,
    check_python,
)

__all__ = ["BADGE_CELL_ID", "DEFAULT_HINT", "HIDDEN_TAG", "SOLUTIONS_DIR", "STARTERS_DIR", "Starter",
           "StarterError", "blank_source", "check_python", "generate", "main", "make_starter"]


@dataclass(frozen=True)
class Starter:
    """A generated starter and what the generator did to its solution."""

    notebook: NotebookNode
    blanks: int
    dropped_cells: int


def make_starter(solution: NotebookNode, name: str) -> Starter:
    """Build the starter of ``solution`` (a notebook file name such as ``01_warmup_cosine.ipynb``,
    used in error messages and launch links) by running :data:`kit.transforms.starter.STARTER_TRANSFORMS`
    on a copy. The solution itself is not modified."""
    nb = copy.deepcopy(solution)
    ctx = StarterContext(name)
    transforms.apply(nb, ctx)
    return Starter(nb, ctx.blanks, ctx.dropped_cells)


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
        summary = f"{starter.blanks} blank(s), {starter.dropped_cells} {HIDDEN_TAG} cell(s) dropped"
        if starter.blanks == 0:
            summary += f" — warning: no {BEGIN_MARKER} region"
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
