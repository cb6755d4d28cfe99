"""Reading and writing notebooks the way Jupyter does, so that tools in this kit diff cleanly.

Every tool that writes a notebook (the executor, the starter generator) goes through
:func:`dumps` / :func:`write_atomic`: one serialisation (nbformat's, indent 1, sorted keys,
trailing newline) means a re-generated file is byte-identical to the committed one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbformat import NotebookNode

AS_VERSION = 4
KIT_METADATA = "kit"  # the kit's own key in notebook and cell metadata (as nbgrader's is "nbgrader")
# Keys inside it. A notebook's: its exercise's name (a starter keeps the solution's, else the file stem)
# and its role (a generated starter is never an input of the generator); a check cell's: its points.
EXERCISE_KEY, ROLE_KEY, POINTS_KEY = "exercise", "role", "points"
STARTER_ROLE = "starter"
# nbval's cell markers: a comment line ``# NAME`` in a cell, an instruction to the test runner, not code.
CHECK_OUTPUT, IGNORE_OUTPUT = "NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT"
SKIP, RAISES_EXCEPTION = "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION"
NBVAL_MARKERS = frozenset({CHECK_OUTPUT, IGNORE_OUTPUT, SKIP, RAISES_EXCEPTION})
# The same instructions as cell tags, named as nbval derives them (nbval-skip, ...), plus its alias raises-exception.
NBVAL_TAGS = frozenset({marker.lower().replace("_", "-") for marker in NBVAL_MARKERS} | {"raises-exception"})


def marker_line(marker: str) -> str:
    """The source line of an nbval marker, e.g. ``# NBVAL_SKIP``."""
    return f"# {marker}"


def is_nbval_marker(line: str) -> bool:
    """Whether nbval reads ``line`` as one of :data:`NBVAL_MARKERS`: a comment whose text after its
    ``#`` signs is the marker (``# NBVAL_SKIP``, ``#NBVAL_SKIP``, ``## NBVAL_SKIP``)."""
    text = line.strip()
    return text.startswith("#") and text.lstrip("#").strip() in NBVAL_MARKERS


def kit_metadata(node: Mapping[str, object]) -> Mapping[str, object]:
    """The kit's metadata of a notebook or a cell (``node.metadata.kit``); empty when absent, or when a
    hand-edited file holds something other than a dict there (its keys are then simply not set)."""
    metadata = node.get("metadata")
    found = metadata.get(KIT_METADATA) if isinstance(metadata, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def read(path: str | os.PathLike) -> NotebookNode:
    """Read a notebook file as nbformat 4, with a clear error for a missing or broken file."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"{path}: not a notebook (expected a .ipynb file)")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook")
    try:
        return nbformat.read(path, as_version=AS_VERSION)
    except Exception as exc:  # nbformat raises several types for unreadable JSON
        raise ValueError(f"{path}: cannot read notebook: {exc}") from exc


def dumps(nb: NotebookNode) -> str:
    """The exact text Jupyter would save for ``nb`` (nbformat's JSON plus a trailing newline)."""
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def write_atomic(nb: NotebookNode, path: str | os.PathLike) -> None:
    """Write ``nb`` to ``path`` via a temporary file in the same folder and ``os.replace``,
    so an interrupted write never leaves a half-written notebook behind."""
    path = Path(path)
    text = dumps(nb)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".ipynb.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def first_line(source: str) -> str:
    """The first non-empty source line of a cell (nbval markers skipped), for messages naming a cell."""
    for line in source.splitlines():
        if line.strip() and not is_nbval_marker(line):
            return line.strip()
    return "(empty cell)"


def describe_cell(nb: NotebookNode, index: int) -> str:
    """How tools name a cell in messages, e.g. ``cell 3 (id 'ex1-blank': def f():)``."""
    cell = nb.cells[index]
    cell_id = cell.get("id", "(no id)")
    return f"cell {index} (id {cell_id!r}: {first_line(cell.source)})"
