"""The grader's progress line: which submissions run, which cell each is in, and for how long.

One line for the whole batch, rewritten in place on a terminal (``\\r``) and printed as plain
lines every ``every`` seconds otherwise (logs, CI). Finished submissions get a permanent line.
Runs report their current cell through :func:`report_cell`; the engine names the submission
a thread works on with :func:`submission`. Without an active :class:`Board` both are no-ops.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_local = threading.local()
_board: Board | None = None


def reference(exercise: object = "") -> str:
    """The label of a solution's quick reference run (``exercise``: its name, if known)."""
    return " ".join(["solution", *([str(exercise)] if exercise else []), "(quick reference)"])


REFERENCE = reference()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Board:
    """Status of a batch: submissions done / total and, per running submission, cell and elapsed time."""

    def __init__(self, total: int, stream: TextIO | None = None, tty: bool | None = None,
                 every: float = 30.0, tick: float = 1.0) -> None:
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every, self.tick = every, tick
        self.start = time.monotonic()
        self.running: dict[str, list[float | int]] = {}  # label -> [started, cell, cells]
        self.lock = threading.Lock()
        self._shown = 0  # width of the line on screen (tty)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self) -> str:
        now = time.monotonic()
        with self.lock:
            parts = [f"[{self.done}/{self.total} done, {_clock(now - self.start)}]"]
            for label, (started, cell, cells) in self.running.items():
                where = f" cell {int(cell) + 1}/{int(cells)}" if cells else " starting"
                parts.append(f"{label}{where} {_clock(now - started)}")
        return " | ".join(parts)

    def begin(self, label: str) -> None:
        with self.lock:
            self.running[label] = [time.monotonic(), 0, 0]

    def cell(self, label: str, index: int, cells: int) -> None:
        with self.lock:
            if label in self.running:
                self.running[label][1:] = [index, cells]

    def end(self, label: str) -> None:
        with self.lock:
            self.running.pop(label, None)

    def finish(self, text: str) -> None:
        """A submission is graded: a permanent line, then the status line again."""
        with self.lock:
            self.done += 1
        self._write(text, permanent=True)

    def _write(self, text: str, permanent: bool) -> None:
        with self.lock:
            if self.tty:
                width = max(20, shutil.get_terminal_size((120, 20)).columns - 1)
                clear = "\r" + " " * self._shown + "\r" if self._shown else ""
                if permanent:
                    self.stream.write(clear + text + "\n")
                    self._shown = 0
                else:
                    shown = text[:width]
                    self.stream.write(clear + shown)
                    self._shown = len(shown)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick):
            if self.tty:
                self._write(self.line(), permanent=False)
            elif time.monotonic() - last >= self.every and self.running:
                last = time.monotonic()
                self._write(self.line(), permanent=False)

    def __enter__(self) -> Board:
        global _board
        _board = self
        self._thread = threading.Thread(target=self._run, name="grade-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        global _board
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.tty and self._shown:
            with self.lock:
                self.stream.write("\r" + " " * self._shown + "\r")
                self.stream.flush()
                self._shown = 0
        _board = None


@contextmanager
def submission(label: str) -> Iterator[None]:
    """Name the submission this thread grades (the engine's progress hook)."""
    previous = getattr(_local, "label", None)
    _local.label = label
    try:
        yield
    finally:
        _local.label = previous


def run_started(fallback: str = REFERENCE) -> str:
    """A run of a graded copy begins in this thread; returns its (unique) label for the next calls.

    ``fallback`` names a run that no :func:`submission` named (the quick-mode reference runs)."""
    label = getattr(_local, "label", None) or fallback
    if _board is not None:
        with _board.lock:
            base, n = label, 2
            while label in _board.running:
                label, n = f"{base} ({n})", n + 1
        _board.begin(label)
    return label


def report_cell(label: str, index: int, cells: int) -> None:
    if _board is not None:
        _board.cell(label, index, cells)


def run_ended(label: str) -> None:
    if _board is not None:
        _board.end(label)


def finished(text: str, stream: TextIO | None = None) -> None:
    """A permanent line (a graded submission) through the board when one is active."""
    if _board is not None:
        _board.finish(text)
    else:
        print(text, file=stream or sys.stderr)
