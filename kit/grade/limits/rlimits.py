"""The fallback: rlimits set for the sandbox's processes, under a dedicated uid when possible.

Without cgroups nothing sums over processes, so: ``RLIMIT_NPROC`` caps the tasks of the uid
(a uid of its own per job slot when the grader is root, so the count is the submission's
alone; the instructor's own uid otherwise, where the count includes their other processes),
``RLIMIT_AS`` caps each process's memory, ``RLIMIT_NOFILE`` its open files, ``RLIMIT_FSIZE``
each file; the writable places are size- and inode-capped tmpfs (see :mod:`.disk`).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from kit.grade.limits.budget import Budget
from kit.grade.limits.usage import Usage

NOT_ENFORCED = ("memory summed over processes (each process is capped by --memory-mb instead)",
                "CPU share")


def threads_of_uid(uid: int, proc: Path = Path("/proc")) -> int:
    """Tasks (threads) of every process owned by ``uid``."""
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Threads:"):
                    total += int(line.split()[1])
                    break
        except (OSError, ValueError, IndexError):
            continue
    return total


def nproc_limit(budget: Budget, uid: int | None) -> int:
    """RLIMIT_NPROC: the budget for a uid of its own; the uid's current tasks plus the budget otherwise."""
    return budget.tasks if uid is not None else threads_of_uid(os.getuid()) + budget.tasks


class RlimitGroup:
    def __init__(self, budget: Budget, uid: int | None) -> None:
        self.budget, self.uid = budget, uid
        self.nproc = nproc_limit(budget, uid)
        self.sampled_tasks = 0

    def preexec(self) -> None:
        resource.setrlimit(resource.RLIMIT_NPROC, (self.nproc, self.nproc))

    def wrap(self, command: list[str]) -> list[str]:
        return command

    def started(self) -> list[str]:
        return []

    def sample(self) -> None:
        if self.uid is not None:
            self.sampled_tasks = max(self.sampled_tasks, threads_of_uid(self.uid))

    def usage(self) -> Usage:
        return Usage(tasks_peak=self.sampled_tasks)

    def close(self) -> bool:
        return True


class Rlimits:
    name = "rlimit"

    def available(self) -> str:
        return ""

    def unenforced(self) -> list[str]:
        extra = [] if os.geteuid() == 0 else [
            "tasks counted per submission (RLIMIT_NPROC counts all of your user's processes)",
            "disk bytes and files in the work folder and $HOME (per-file size only; /tmp is a capped tmpfs)"]
        return [*NOT_ENFORCED, *extra]

    def group(self, name: str, budget: Budget, uid: int | None = None) -> RlimitGroup:
        return RlimitGroup(budget, uid)
