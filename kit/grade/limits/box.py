"""Everything one submission is limited by: its group (cgroup, scope or rlimits), its uid slot
and its capped disk; opened before the submission is staged, closed after its results are read."""

from __future__ import annotations

from pathlib import Path

from kit.grade.limits import disk, slots
from kit.grade.limits.budget import Budget
from kit.grade.limits.cgroups import CgroupV1, CgroupV2
from kit.grade.limits.rlimits import RlimitGroup, Rlimits
from kit.grade.limits.session import Group, Session
from kit.grade.limits.systemd import SystemdScope
from kit.grade.limits.usage import LimitHit, Usage, hits

DISK_FOLDER = "box"
REPORT_FOLDER = "report"  # sandbox.Layout.report
REPORT_BYTES = 2 * 64 * 1024 ** 2  # twice the largest junit XML the grader reads
REPORT_FILES = 100


class Box:
    """One submission's limits. ``writable`` (the capped tmpfs, root only) holds work, report,
    home and tmp; ``uid`` is the slot uid the sandbox runs as (root only)."""

    def __init__(self, current: Session, budget: Budget, base: Path, name: str) -> None:
        self.budget, self.name = budget, name
        self.slot: slots.UidSlot | None = None
        self.writable: Path | None = None
        self.report_disk: Path | None = None
        self.group: Group | None = None
        self.not_in_effect: list[str] = []
        self.disk_peak = self.files_peak = 0
        try:
            if current.privileged:
                self.slot = slots.UidSlot()
                self.writable = base / DISK_FOLDER
                self.writable.mkdir()
                disk.mount_tmpfs(self.writable, name, budget.disk_mb * 1024 ** 2, budget.files)
                # pytest's junit XML on a small disk of its own: a learner who fills the main one
                # loses its output, not the verdicts of the checks that ran before.
                self.report_disk = base / REPORT_FOLDER
                self.report_disk.mkdir()
                disk.mount_tmpfs(self.report_disk, name, REPORT_BYTES, REPORT_FILES)
            self.group = _group(current, name, budget, self.uid)
        except BaseException:
            self.close()
            raise

    @property
    def uid(self) -> int | None:
        return self.slot.uid if self.slot is not None else None

    def preexec(self) -> None:
        if self.group is not None:
            self.group.preexec()

    def wrap(self, command: list[str]) -> list[str]:
        return self.group.wrap(command) if self.group is not None else command

    def started(self) -> None:
        if self.group is not None:
            self.not_in_effect = self.group.started()

    def sample(self) -> None:
        if self.group is not None:
            self.group.sample()
        if self.writable is not None:
            used, files = disk.usage(self.writable)
            self.disk_peak, self.files_peak = max(self.disk_peak, used), max(self.files_peak, files)

    def usage(self) -> Usage:
        self.sample()
        found = self.group.usage() if self.group is not None else Usage()
        found.disk_peak, found.files_peak = self.disk_peak, self.files_peak
        return found

    def hits(self) -> list[LimitHit]:
        b = self.budget
        sampled = isinstance(self.group, RlimitGroup) and self.uid is not None
        return hits(self.usage(), b.tasks, b.memory_mb, b.disk_mb if self.writable else 0,
                    b.files if self.writable else 0, b.cpus, tasks_sampled=sampled)

    def close(self) -> bool:
        """Kill what is left, remove the group, unmount the disk, free the uid; True when all went."""
        removed = self.group.close() if self.group is not None else True
        for mounted in (self.writable, self.report_disk):
            if mounted is not None:
                disk.unmount(mounted)
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        return removed


def _group(current: Session, name: str, budget: Budget, uid: int | None) -> Group:
    backend = current.backend
    if isinstance(backend, Rlimits):
        return backend.group(name, budget, uid)
    assert isinstance(backend, (CgroupV1, CgroupV2, SystemdScope))
    return backend.group(name, budget)
