"""Choosing the limits mode once per grader process, and cleaning up after killed runs."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kit.grade.errors import GradeUsageError
from kit.grade.limits import disk, slots
from kit.grade.limits.budget import Budget
from kit.grade.limits.cgroups import CgroupV1, CgroupV2, kill_members, remove_folder
from kit.grade.limits.rlimits import Rlimits
from kit.grade.limits.systemd import SystemdScope
from kit.grade.limits.usage import Usage

MODE_ENV = "KIT_GRADE_LIMITS"  # force a mode: one of MODES
# The modes in the order they are tried; each backend's ``name`` is its mode's name.
_BACKENDS = (CgroupV2, CgroupV1, SystemdScope, Rlimits)
MODES = tuple(backend.name for backend in _BACKENDS)


class Group(Protocol):
    def preexec(self) -> None: ...
    def wrap(self, command: list[str]) -> list[str]: ...
    def started(self) -> list[str]: ...
    def sample(self) -> None: ...
    def usage(self) -> Usage: ...
    def close(self) -> bool: ...


class Backend(Protocol):
    name: str

    def available(self) -> str: ...
    def unenforced(self) -> list[str]: ...


def backends() -> dict[str, Backend]:
    return {backend.name: backend() for backend in _BACKENDS}


def choose(forced: str | None) -> tuple[Backend, list[str]]:
    """The first usable mode (or the forced one), and why each earlier one was not used."""
    known = backends()
    forced = forced or os.environ.get(MODE_ENV) or None
    if forced is not None:
        if forced not in known:
            raise GradeUsageError(f"unknown limits mode {forced!r} (from --limits or {MODE_ENV}); "
                                  f"choose one of {', '.join(MODES)}")
        why = known[forced].available()
        if why:
            raise GradeUsageError(f"cannot use limits mode {forced}: {why}")
        return known[forced], []
    skipped: list[str] = []
    for name in MODES:
        why = known[name].available()
        if not why:
            return known[name], skipped
        skipped.append(f"{name}: {why}")
    raise AssertionError(f"the {Rlimits.name} mode is always available")


@dataclass
class Session:
    """The mode of this grader process, its run id and what it removed of killed runs."""

    backend: Backend
    run: slots.Run
    skipped: list[str]
    privileged: bool  # root: uid slots and tmpfs disks
    cleaned: dict[str, int] = field(default_factory=dict)
    serial: int = 0

    def unenforced(self) -> list[str]:
        missing = list(self.backend.unenforced())
        if not self.privileged and self.backend.name != Rlimits.name:
            missing.append("disk bytes and files in the work folder and $HOME (per-file size only; /tmp is a "
                           "capped tmpfs): mounting needs root")
        return missing

    def next_name(self) -> str:
        self.serial += 1
        return self.run.name(self.serial)

    def describe(self, budget: Budget) -> str:
        missing = self.unenforced()
        who = "a uid of its own per job slot" if self.privileged else "your uid"
        return (f"limits: {self.backend.name} per submission, run as {who}: {budget.describe()} [{budget.source}]"
                + (f"; NOT enforced: {'; '.join(missing)}" if missing else "; all enforced"))


@functools.cache
def session(forced: str | None = None) -> Session:
    backend, skipped = choose(forced)
    current = Session(backend, slots.Run(), skipped, privileged=os.geteuid() == 0)
    current.cleaned = clean_leftovers(current)
    if any(current.cleaned.values()):
        what = ", ".join(f"{n} {kind}" for kind, n in current.cleaned.items() if n)
        print(f"kit grade: removed what an earlier grading run left when it was killed: {what}", file=sys.stderr)
    return current


def _dead(name: str) -> bool:
    run_id = slots.run_of(name)
    return run_id is not None and not slots.run_alive(run_id)


def clean_leftovers(current: Session) -> dict[str, int]:
    """Remove the cgroups, scopes, tmpfs mounts and temporary folders of runs whose grader is gone."""
    from kit.grade.sandbox import remove_tree

    counts = {"cgroup(s)": 0, "scope(s)": 0, "mount(s)": 0, "folder(s)": 0}
    backend = current.backend
    if isinstance(backend, (CgroupV1, CgroupV2)):
        for parent in backend.parents():
            for child in sorted(parent.glob(f"{slots.PREFIX}*")) if parent.is_dir() else []:
                if child.is_dir() and _dead(child.name):
                    kill_members(child)
                    counts["cgroup(s)"] += remove_folder(child)
    if isinstance(backend, SystemdScope):
        for unit in backend.leftover_units(slots.PREFIX):
            if _dead(unit):
                backend.stop(unit)
                counts["scope(s)"] += 1
    if current.privileged:
        for point, source in disk.mounts_from(slots.PREFIX):
            if _dead(source):
                counts["mount(s)"] += disk.unmount(point)
    for folder in Path(tempfile.gettempdir()).glob(f"{slots.PREFIX}*"):
        if folder.is_dir() and _dead(folder.name):
            remove_tree(folder)
            counts["folder(s)"] += 1
    for lock in slots.state_dir().glob("run-*.lock"):  # finished runs' lock files (run_alive drops a free one)
        slots.run_alive(lock.name[len("run-"):-len(".lock")])
    return counts
