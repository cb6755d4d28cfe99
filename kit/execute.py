"""Execute notebooks top to bottom in one fresh kernel and save them only if every cell ran.

Usage: ``kit execute NB [NB ...] [--timeout SECONDS]``.

Solution notebooks are committed with their outputs, so the saved file must be exactly what
one clean top-to-bottom run produced: the kernel is new, its working directory is the
notebook's folder, and a failed run leaves the original file untouched. Timestamps are not
kept (re-executions diff cleanly); the time of each cell that took a second or more is kept,
rounded up on a 1-2-5 scale, in ``metadata.kit_timing.cell_seconds`` (cell id -> seconds): the
grader derives its per-cell timeouts from it. The kernel's peak memory, tasks and disk go to
``metadata.kit_peaks`` (kit.peaks): the grader derives its per-submission limits from them.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from helpers.settings import QUICK_EPOCHS_ENV, quick_epochs
from kit import notebooks
from kit.peaks import PEAKS_KEY, PeakSampler

DEFAULT_TIMEOUT = 1800  # seconds per cell: a 100-epoch run under load stays well below this
KERNEL_NAME = "python3"  # jupyter_client starts it with the current interpreter
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookExecutionError(RuntimeError):
    """A cell failed; the message names the notebook, the cell (index, id, first line) and the error."""


TIMING_KEY = "kit_timing"


def round_seconds(seconds: float) -> float:
    """Round up to 1, 2, 5, 10, 20, 50, ... so that re-executions rarely change the value."""
    power = 10 ** math.floor(math.log10(seconds))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= seconds))


def _cell_seconds(cell: NotebookNode) -> float | None:
    from datetime import datetime

    timing = cell.metadata.get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None
    return (end - start).total_seconds()


def strip_timing(nb: NotebookNode, keep_seconds: bool = False) -> None:
    """Drop per-cell ``metadata.execution`` blocks (JupyterLab or nbclient timestamps); with
    ``keep_seconds``, first note each cell of a second or more in ``metadata.kit_timing``."""
    measured = {}
    for cell in nb.cells:
        seconds = _cell_seconds(cell) if keep_seconds and cell.get("id") else None
        if seconds is not None and seconds >= 1.0:
            measured[cell["id"]] = round_seconds(seconds)
        cell.metadata.pop("execution", None)
    if keep_seconds:
        nb.metadata.pop(TIMING_KEY, None)
        if measured:
            nb.metadata[TIMING_KEY] = {"cell_seconds": measured}


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
        record_timing=True,
        allow_errors=allow_errors,
        on_cell_start=on_cell_start,
    )
    sampler = PeakSampler(lambda: _kernel_pid(client), Path(cwd))
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
    finally:
        peaks = sampler.stop()
    strip_timing(nb, keep_seconds=True)
    nb.metadata.pop(PEAKS_KEY, None)
    if peaks:
        nb.metadata[PEAKS_KEY] = peaks
    return nb


def _kernel_pid(client: NotebookClient) -> int | None:
    """The running kernel's pid (jupyter_client's local provisioner), None before it starts."""
    process = getattr(getattr(getattr(client, "km", None), "provisioner", None), "process", None)
    pid = getattr(process, "pid", None)
    return pid if isinstance(pid, int) else None


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
        prog="kit execute",
        description="Execute notebooks top to bottom in a fresh kernel; save each only if every cell ran.",
    )
    parser.add_argument("notebooks", nargs="+", metavar="NB", help="notebook files (.ipynb)")
    parser.add_argument(
        "--timeout", type=int, default=DEFAULT_TIMEOUT, help=f"seconds per cell (default {DEFAULT_TIMEOUT})"
    )
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    try:
        quick = quick_epochs()
    except ValueError as exc:  # before any notebook runs: every training cell would raise it
        parser.error(str(exc))
    if quick is not None:
        print(
            f"note: {QUICK_EPOCHS_ENV}={quick} is set, so training cells use "
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
