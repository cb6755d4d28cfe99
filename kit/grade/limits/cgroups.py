"""cgroup v1 and v2 groups, one per submission, created and removed by a root grader.

v1 (one hierarchy per controller, ``/sys/fs/cgroup/<controller>/``): ``pids.max``,
``memory.limit_in_bytes`` (plus ``memory.memsw.limit_in_bytes`` when swap is accounted, and
``memory.swappiness`` 0), ``cpu.cfs_quota_us``; groups are made under the grader's own cgroup
of each controller. v2 (one tree): ``pids.max``, ``memory.max``, ``memory.swap.max`` 0,
``cpu.max``, made under the tree's root (a cgroup with processes cannot delegate controllers).
A process joins in the child between fork and exec (``preexec``), through file descriptors
opened beforehand, so everything it starts is inside from the first instruction.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from kit.grade.kill import kill_until_gone
from kit.grade.limits.budget import Budget
from kit.grade.limits.usage import Usage

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("pids", "memory", "cpu")
CPU_PERIOD_US = 100_000


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _number(path: Path) -> int:
    text = _read(path).strip()
    return int(text) if text.isdigit() else 0


def _keyed(path: Path) -> dict[str, int]:
    """``key value`` lines (memory.events, pids.events, cpu.stat, memory.oom_control)."""
    found = {}
    for line in _read(path).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return found


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def own_v1_path(controller: str, proc_cgroup: Path = Path("/proc/self/cgroup")) -> str:
    """This process's cgroup in a v1 hierarchy (``/`` when not found)."""
    for line in _read(proc_cgroup).splitlines():
        _, names, path = [*line.split(":", 2), "", ""][:3]
        if controller in names.split(","):
            return path or "/"
    return "/"


_KILL_PAUSE = 0.05  # seconds between rounds while a cgroup still lists processes


def kill_members(folder: Path, wait: float = 5.0) -> int:
    """SIGKILL every process listed in ``folder/cgroup.procs`` until none is left (a dying parent may fork)."""
    return kill_until_gone(lambda: [int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit()],
                           rounds=int(wait / _KILL_PAUSE), pause=_KILL_PAUSE)


def remove_folder(folder: Path) -> bool:
    """rmdir a cgroup once empty (a killed process leaves it a moment later)."""
    for _ in range(50):
        try:
            folder.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.05)
    return False


class _Group:
    """Shared by both versions: join through pre-opened fds, sample, kill and remove."""

    def __init__(self, folders: list[Path], budget: Budget) -> None:
        self.folders, self.budget = folders, budget
        self.sampled_tasks = 0
        self._fds: list[int] = []

    def open_join(self) -> None:
        self._fds = [os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for folder in self.folders]

    def preexec(self) -> None:
        for fd in self._fds:  # "0": the writing process itself; only os calls between fork and exec
            os.write(fd, b"0")

    def wrap(self, command: list[str]) -> list[str]:
        return command

    def started(self) -> list[str]:
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        return []

    def close(self) -> bool:
        self.started()
        for folder in self.folders:
            kill_members(folder)
        removed = [remove_folder(folder) for folder in self.folders]  # every one, even after a failure
        return all(removed)


class V1Group(_Group):
    def __init__(self, root: Path, name: str, budget: Budget) -> None:
        self.paths = {c: root / c / own_v1_path(c).lstrip("/") / name for c in V1_CONTROLLERS}
        super().__init__(list(self.paths.values()), budget)
        for folder in self.folders:
            folder.mkdir()
        pids, memory, cpu = (self.paths[c] for c in V1_CONTROLLERS)
        _write(pids / "pids.max", str(budget.tasks))
        limit = str(budget.memory_mb * 1024 ** 2)
        _write(memory / "memory.limit_in_bytes", limit)
        if (memory / "memory.memsw.limit_in_bytes").exists():  # memory+swap: no swap beyond the memory limit
            _write(memory / "memory.memsw.limit_in_bytes", limit)
        try:
            _write(memory / "memory.swappiness", "0")
        except OSError:  # refused under some parents; memsw still holds
            pass
        _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(cpu / "cpu.cfs_quota_us", str(int(budget.cpus * CPU_PERIOD_US)))
        self.open_join()

    def sample(self) -> None:
        self.sampled_tasks = max(self.sampled_tasks, _number(self.paths["pids"] / "pids.current"))

    def usage(self) -> Usage:
        self.sample()
        memory, cpu = self.paths["memory"], _keyed(self.paths["cpu"] / "cpu.stat")
        return Usage(memory_peak=_number(memory / "memory.max_usage_in_bytes"),
                     oom_kills=_keyed(memory / "memory.oom_control").get("oom_kill", 0),
                     memory_failcnt=_number(memory / "memory.failcnt"), tasks_peak=self.sampled_tasks,
                     tasks_refused=_keyed(self.paths["pids"] / "pids.events").get("max", 0),
                     cpu_throttled=cpu.get("nr_throttled", 0), cpu_throttled_s=cpu.get("throttled_time", 0) / 1e9)


class V2Group(_Group):
    def __init__(self, root: Path, name: str, budget: Budget) -> None:
        super().__init__([root / name], budget)
        enable = root / "cgroup.subtree_control"
        wanted = [c for c in V1_CONTROLLERS if c not in _read(enable).split()]
        if wanted:
            _write(enable, " ".join(f"+{c}" for c in wanted))
        folder = self.folders[0]
        folder.mkdir()
        _write(folder / "pids.max", str(budget.tasks))
        _write(folder / "memory.max", str(budget.memory_mb * 1024 ** 2))
        if (folder / "memory.swap.max").exists() or not (folder / "cgroup.procs").exists():
            _write(folder / "memory.swap.max", "0")
        _write(folder / "cpu.max", f"{int(budget.cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
        if (folder / "cgroup.procs").exists():
            self.open_join()

    def sample(self) -> None:
        self.sampled_tasks = max(self.sampled_tasks, _number(self.folders[0] / "pids.current"))

    def usage(self) -> Usage:
        return read_v2_usage(self.folders[0], self.sampled_tasks)

    def close(self) -> bool:
        kill = self.folders[0] / "cgroup.kill"
        if kill.exists():
            try:
                _write(kill, "1")
            except OSError:
                pass
        return super().close()


def read_v2_usage(folder: Path, sampled_tasks: int = 0) -> Usage:
    """Peaks and counters of a v2 cgroup (also a systemd scope's)."""
    cpu = _keyed(folder / "cpu.stat")
    return Usage(memory_peak=_number(folder / "memory.peak"),
                 oom_kills=_keyed(folder / "memory.events").get("oom_kill", 0),
                 tasks_peak=max(sampled_tasks, _number(folder / "pids.peak"), _number(folder / "pids.current")),
                 tasks_refused=_keyed(folder / "pids.events").get("max", 0),
                 cpu_throttled=cpu.get("nr_throttled", 0), cpu_throttled_s=cpu.get("throttled_usec", 0) / 1e6)


class CgroupV1:
    """Root on cgroup v1: pids, memory and cpu hierarchies under ``root``."""

    name = "cgroup-v1"

    def __init__(self, root: Path = CGROUP_ROOT) -> None:
        self.root = root

    def available(self) -> str:
        """'' when usable, else why not."""
        missing = [c for c in V1_CONTROLLERS if not (self.root / c / "cgroup.procs").exists()]
        if missing:
            return f"no cgroup v1 hierarchy for {', '.join(missing)} under {self.root}"
        parents = [self.root / c / own_v1_path(c).lstrip("/") for c in V1_CONTROLLERS]
        writable = all(os.access(p, os.W_OK) for p in parents)
        return "" if writable else "the cgroup v1 folders are not writable (not root)"

    def unenforced(self) -> list[str]:
        return []

    def group(self, name: str, budget: Budget) -> V1Group:
        return V1Group(self.root, name, budget)

    def parents(self) -> list[Path]:
        found = {self.root / c / own_v1_path(c).lstrip("/") for c in V1_CONTROLLERS}
        return sorted(found | {self.root / c for c in V1_CONTROLLERS})


class CgroupV2:
    """Root on the unified hierarchy: groups under its root."""

    name = "cgroup-v2"

    def __init__(self, root: Path = CGROUP_ROOT) -> None:
        self.root = root

    def available(self) -> str:
        controllers = _read(self.root / "cgroup.controllers").split()
        missing = [c for c in V1_CONTROLLERS if c not in controllers]
        if missing:
            return f"no cgroup v2 controller {', '.join(missing)} at {self.root}"
        return "" if os.access(self.root, os.W_OK) else "the cgroup v2 root is not writable (not root)"

    def unenforced(self) -> list[str]:
        return []

    def group(self, name: str, budget: Budget) -> V2Group:
        return V2Group(self.root, name, budget)

    def parents(self) -> list[Path]:
        return [self.root]
