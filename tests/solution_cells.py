"""The solution notebooks' own cells, run by id: check tests judge the course's real answers
instead of a retyped copy, so a solution cell and its check cannot drift apart unnoticed."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


@functools.cache
def _sources(notebook: str) -> dict[str, str]:
    cells = json.loads((SOLUTIONS / notebook).read_text(encoding="utf-8"))["cells"]
    return {cell["id"]: "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"}


def cell_source(notebook: str, cell_id: str) -> str:
    """The source of one code cell of ``solutions/notebook``, by its id."""
    return _sources(notebook)[cell_id]


def run_cells(notebook: str, *cell_ids: str, **preset: Any) -> dict[str, Any]:
    """A fresh namespace after running these cells in order, as a kernel would; ``preset``: what
    the notebook's skipped cells (e.g. a training) would have defined."""
    namespace: dict[str, Any] = {"__name__": "__solution__", **preset}
    for cell_id in cell_ids:
        exec(compile(cell_source(notebook, cell_id), f"{notebook}:{cell_id}", "exec"), namespace)
    return namespace
