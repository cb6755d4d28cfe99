"""Execute notebooks top to bottom in one fresh kernel and save them only if every cell ran.

Usage: ``python -m helpers.execute NB [NB ...] [--timeout SECONDS]``.

Solution notebooks are committed with their outputs, so the saved file must be exactly what
one clean top-to-bottom run produced: the kernel is new, its working directory is the
notebook's folder, no timing metadata is recorded (re-executions diff cleanly), and a failed
run leaves the original file untouched.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from helpers import notebooks

DEFAULT_TIMEOUT = 1800  # seconds per cell: a 100-epoch run under load stays well below this
KERNEL_NAME = "python3"  # jupyter_client starts it with the current interpreter
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookExecutionError(RuntimeError):
    """A cell failed; the message names the notebook, the cell (index, id, first line) and the error."""


def _strip_timing(nb: NotebookNode) -> None:
    """Drop per-cell ``metadata.execution`` blocks (JupyterLab or nbclient timestamps)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def _error_text(cell: NotebookNode) -> str:
    """The cell's error output as plain text (ename: evalue, then the traceback)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            trace = _ANSI.sub("", "\n".join(output.get("traceback", [])))
            return f"{output.get('ename')}: {output.get('evalue')}\n{trace}".rstrip()
    return ""


def run_notebook(
    nb: NotebookNode, cwd: str | os.PathLike, timeout: int = DEFAULT_TIMEOUT, *, allow_errors: bool = False
) -> NotebookNode:
    """Execute ``nb`` in place in a fresh kernel started in ``cwd``; raise on the first failing cell
    (or, with ``allow_errors``, run every cell and keep errors as outputs, as for a starter).

    Separate from :func:`execute_notebook` so tests and the grader can run an in-memory
    notebook without touching any file.
    """
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise ValueError(f"timeout must be a positive whole number of seconds, got {timeout!r}")
    current: dict[str, int] = {"index": -1}

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
        allow_errors=allow_errors,
        on_cell_start=on_cell_start,
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        index = current["index"]
        where = notebooks.describe_cell(nb, index) if 0 <= index < len(nb.cells) else "before the first cell"
        if isinstance(exc, CellTimeoutError):
            detail = f"timed out after {timeout} s (raise it with --timeout)"
        elif isinstance(exc, DeadKernelError):
            detail = f"the kernel died: {exc}"
        else:
            detail = _error_text(nb.cells[index]) if 0 <= index < len(nb.cells) else ""
            detail = detail or _ANSI.sub("", str(exc))
        raise NotebookExecutionError(f"{where} failed:\n{detail}") from None
    _strip_timing(nb)
    return nb


def execute_notebook(path: str | os.PathLike, timeout: int = DEFAULT_TIMEOUT) -> None:
    """Execute the notebook at ``path`` top to bottom and write it back only if every cell succeeded.

    Raises :class:`NotebookExecutionError` (naming the failing cell) and leaves the file
    byte-identical when a cell fails.
    """
    path = Path(path)
    nb = notebooks.read(path)
    try:
        run_notebook(nb, cwd=path.resolve().parent, timeout=timeout)
    except NotebookExecutionError as exc:
        raise NotebookExecutionError(f"{path}: {exc}") from None
    notebooks.write_atomic(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.execute",
        description="Execute notebooks top to bottom in a fresh kernel; save each only if every cell ran.",
    )
    parser.add_argument("notebooks", nargs="+", metavar="NB", help="notebook files (.ipynb)")
    parser.add_argument(
        "--timeout", type=int, default=DEFAULT_TIMEOUT, help=f"seconds per cell (default {DEFAULT_TIMEOUT})"
    )
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if os.environ.get("KIT_QUICK_EPOCHS"):
        print(
            f"note: KIT_QUICK_EPOCHS={os.environ['KIT_QUICK_EPOCHS']} is set, so training cells use "
            "fewer epochs; unset it before executing solutions to commit.",
            file=sys.stderr,
        )
    failed = 0
    for name in args.notebooks:
        start = time.perf_counter()
        try:
            execute_notebook(name, timeout=args.timeout)
        except (NotebookExecutionError, FileNotFoundError, ValueError) as exc:
            failed += 1
            print(f"FAILED {exc}\n{name}: left unchanged.", file=sys.stderr)
            continue
        print(f"executed {name} in {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
