"""The peak resources of a notebook's kernel while it runs, recorded beside the cell times.

The grader derives its per-submission limits from these figures with a wide margin
(kit.grade.limits.budget). Sampled every quarter second: memory is the summed resident set of
the kernel and every process it started, tasks their threads; disk is what the run added
under the notebook's folder (bytes and files). Rounded up on a 1-2-5 scale so re-executions
rarely change them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import psutil

from kit.grade.limits.budget import PEAKS_KEY

INTERVAL = 0.25


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _files(folder: Path) -> tuple[int, int]:
    size = count = 0
    for root, dirs, files in os.walk(folder):
        count += len(dirs) + len(files)
        for name in files:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return size, count


class PeakSampler:
    """Samples the process tree of the pid ``find_pid`` returns (once it exists) until stopped."""

    def __init__(self, find_pid: Callable[[], int | None], folder: Path) -> None:
        self.find_pid, self.folder = find_pid, folder
        self.memory = self.tasks = 0
        self._start_disk = _files(folder)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(INTERVAL):
            pid = self.find_pid()
            if pid is None:
                continue
            memory = tasks = 0
            for proc in _tree(pid):
                try:
                    memory += proc.memory_info().rss
                    tasks += proc.num_threads()
                except psutil.Error:
                    continue
            self.memory, self.tasks = max(self.memory, memory), max(self.tasks, tasks)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        size, count = _files(self.folder)
        from kit.execute import round_seconds as one_two_five

        figures = {"memory_mb": self.memory / 1024 ** 2, "tasks": float(self.tasks),
                   "disk_mb": max(0, size - self._start_disk[0]) / 1024 ** 2,
                   "files": float(max(0, count - self._start_disk[1]))}
        return {k: one_two_five(v) for k, v in figures.items() if v > 0}


__all__ = ["PEAKS_KEY", "PeakSampler"]
