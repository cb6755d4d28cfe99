"""How much one submission may use, and where the default figures come from.

Defaults derive from the solutions' own measured peaks (``metadata.kit_peaks``, written by
``kit execute``) times :data:`MARGIN`, never below a floor; without a measurement they are the
fallback constants below (documented in docs/GRADING.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

from helpers.parallel import slurm_number, usable_cpus

PEAKS_KEY = "kit_peaks"  # notebook metadata written by kit.execute
MARGIN = 4  # a default is this many times the largest solution's peak
# Fallbacks (no solution measured yet) and floors (a measured peak times MARGIN is never below these).
FALLBACK = {"tasks": 512, "memory_mb": 8192, "disk_mb": 2048, "files": 100_000, "open_files": 4096}
FLOOR = {"tasks": 256, "memory_mb": 2048, "disk_mb": 512, "files": 20_000, "open_files": 1024}
# Which measured peak drives which limit.
_PEAK_OF = {"tasks": "tasks", "memory_mb": "memory_mb", "disk_mb": "disk_mb", "files": "files"}


@dataclass(frozen=True)
class Budget:
    """Aggregate limits of one submission (everything it starts, together)."""

    tasks: int = FALLBACK["tasks"]  # processes and threads
    memory_mb: int = FALLBACK["memory_mb"]  # resident memory incl. tmpfs pages, no swap
    disk_mb: int = FALLBACK["disk_mb"]  # bytes written to the work folder, $HOME and /tmp together
    files: int = FALLBACK["files"]  # files and folders (inodes) there
    open_files: int = FALLBACK["open_files"]  # per process (RLIMIT_NOFILE)
    cpus: float = 1.0  # CPU share in cores: cores / --jobs
    source: str = "defaults"  # "defaults" or "solutions' peaks x4", or "set per run"

    def describe(self) -> str:
        return (f"tasks {self.tasks}, memory {self.memory_mb} MB (tmpfs included, no swap), CPU {self.cpus:g} "
                f"core(s), disk {self.disk_mb} MB and {self.files} files, {self.open_files} open files per process")

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def cpu_share(jobs: int, cores: int | None = None) -> float:
    """Each of ``jobs`` parallel submissions gets an equal share of the cores this grader may use
    (its affinity mask, or a Slurm job's grant: not the whole node's count)."""
    cores = cores or usable_cpus()
    return round(max(cores / max(jobs, 1), 0.1), 2)


def peaks_of(metadata: Mapping[str, object]) -> dict[str, float]:
    """The measured peaks of one solution notebook (positive numbers only)."""
    found = metadata.get(PEAKS_KEY)
    if not isinstance(found, Mapping):
        return {}
    return {str(k): float(v) for k, v in found.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0}


def memory_share_mb(jobs: int, total_mb: int | None = None) -> int:
    """Each of ``jobs`` parallel submissions gets an equal share of the machine's memory."""
    if total_mb is None:
        total_mb = slurm_memory_mb() or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024 ** 2
    return int(total_mb // max(jobs, 1))


def slurm_memory_mb() -> int | None:
    """The memory a Slurm job granted on this node (``--mem``, or ``--mem-per-cpu`` times its CPUs), in
    MB; None outside a job or where the job asked for none. The node's memory belongs to other jobs too."""
    if (per_node := slurm_number("SLURM_MEM_PER_NODE")) is not None:
        return per_node
    per_cpu = slurm_number("SLURM_MEM_PER_CPU")
    return None if per_cpu is None else per_cpu * usable_cpus()


def derived(peaks: Iterable[Mapping[str, float]], jobs: int, memory_total_mb: int | None = None) -> Budget:
    """The default budget: MARGIN x the largest measured peak per limit, not below its floor;
    the fallback constant for a limit no solution measured. Memory is also held to the
    submission's share of the machine (total / ``jobs``), so that ``jobs`` submissions at their
    limit together still fit: a wide margin that the machine cannot honour is no ceiling."""
    merged: dict[str, float] = {}
    for one in peaks:
        for key, value in one.items():
            merged[key] = max(value, merged.get(key, 0.0))
    values = {}
    for name, peak in _PEAK_OF.items():
        values[name] = max(FLOOR[name], int(MARGIN * merged[peak]) + 1) if peak in merged else FALLBACK[name]
    values["memory_mb"] = max(FLOOR["memory_mb"], min(values["memory_mb"], memory_share_mb(jobs, memory_total_mb)))
    source = f"solutions' peaks x{MARGIN}" if any(p in merged for p in _PEAK_OF.values()) else "defaults"
    return Budget(cpus=cpu_share(jobs), source=source, **values)


def overridden(budget: Budget, **values: int | None) -> Budget:
    """``budget`` with the limits given per run (None: keep)."""
    chosen = {k: v for k, v in values.items() if v is not None}
    return replace(budget, **chosen, source=budget.source + (" (some set per run)" if chosen else ""))
