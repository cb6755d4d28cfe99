"""What a submission reached, and the verdict text naming the limit it ran into."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 ** 2


@dataclass
class Usage:
    """Peaks and counters read from the submission's cgroup (or sampled)."""

    memory_peak: int = 0  # bytes
    oom_kills: int = 0  # processes the kernel killed at the memory limit
    memory_failcnt: int = 0  # times the memory limit was reached (v1)
    tasks_peak: int = 0
    tasks_refused: int = 0  # forks/clones refused at the task limit
    cpu_throttled: int = 0  # periods in which the CPU quota was used up
    cpu_throttled_s: float = 0.0
    disk_peak: int = 0  # bytes
    files_peak: int = 0  # inodes in use (the box's own few included)


@dataclass(frozen=True)
class LimitHit:
    """One limit the submission ran into: its name, value and what the submission reached."""

    limit: str  # tasks | memory | disk | files | cpu
    value: str
    reached: str

    @property
    def text(self) -> str:
        return f"{self.limit} limit ({self.value}): {self.reached}"


def hits(usage: Usage, tasks: int, memory_mb: int, disk_mb: int, files: int, cpus: float,
         *, tasks_sampled: bool = False) -> list[LimitHit]:
    """The limits reached, most consequential first."""
    found = []
    if usage.oom_kills or (usage.memory_failcnt and usage.memory_peak >= memory_mb * MB * 0.98):
        killed = f", {usage.oom_kills} process(es) killed" if usage.oom_kills else ""
        found.append(LimitHit("memory", f"{memory_mb} MB", f"memory above {memory_mb} MB (peak "
                                                             f"{usage.memory_peak // MB} MB{killed})"))
    if usage.tasks_refused or (tasks_sampled and usage.tasks_peak >= tasks):
        refused = f"; {usage.tasks_refused} more refused" if usage.tasks_refused else ""
        found.append(LimitHit("tasks", str(tasks), f"more than {tasks} tasks (processes and threads: reached "
                                                   f"{max(usage.tasks_peak, tasks) if refused else usage.tasks_peak}"
                                                   f"{refused})"))
    if disk_mb and usage.disk_peak >= disk_mb * MB * 0.98:
        found.append(LimitHit("disk", f"{disk_mb} MB", f"disk full: {usage.disk_peak // MB} MB written to the "
                                                       "work folder, $HOME and /tmp"))
    if files and usage.files_peak >= files * 0.98:
        found.append(LimitHit("files", str(files), f"more than {files} files and folders (peak {usage.files_peak})"))
    if usage.cpu_throttled:
        found.append(LimitHit("cpu", f"{cpus:g} core(s)", f"CPU use held at {cpus:g} core(s) (throttled "
                                                         f"{usage.cpu_throttled_s:.1f} s in {usage.cpu_throttled} "
                                                         "periods)"))
    return found


STOPPING = ("memory", "tasks", "disk", "files")  # limits that make the learner's code fail (CPU only slows it)
