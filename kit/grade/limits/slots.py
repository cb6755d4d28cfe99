"""Run identity and uid slots, both held by ``flock`` so that a killed grader frees them at once.

A run holds ``run-<id>.lock`` for as long as it lives: a cgroup, mount or scope named with a
run id whose lock is free belongs to a grader that was killed, and a later run removes it. A
root grader runs each submission under a uid of its own (``UID_BASE`` + slot, held by
``uid-<n>.lock``), never as real root outside the sandbox.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import tempfile
import uuid
from pathlib import Path

from kit.grade.kill import kill_until_gone

PREFIX = "kit-grade-"  # cgroups, scopes, tmpfs sources and temporary folders of this grader
UID_BASE = 64_100  # first uid of the job slots (Debian leaves 60000-64999 to local use)
SLOTS = 256
UID_BASE_ENV = "KIT_GRADE_UID_BASE"


def state_dir() -> Path:
    """Where run and slot locks live: root's /run (not writable by the slot uids), else a private temp folder."""
    folder = Path("/run/kit-grade") if os.geteuid() == 0 and Path("/run").is_dir() else \
        Path(tempfile.gettempdir()) / f"kit-grade-state-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return None


class Run:
    """This grader's run id, held for the life of the process."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:12]
        fd = _try_lock(state_dir() / f"run-{self.id}.lock")
        assert fd is not None
        self._fd = fd

    def name(self, serial: int) -> str:
        return f"{PREFIX}{self.id}-{serial}"


def run_of(name: str) -> str | None:
    """The run id in a name made by :meth:`Run.name` (``kit-grade-<id>-<n>``)."""
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX):].split("-")
    return parts[0] if len(parts) >= 2 and len(parts[0]) == 12 and parts[1].isdigit() else None


def run_alive(run_id: str) -> bool:
    """True while the grader of ``run_id`` lives (its lock is held)."""
    path = state_dir() / f"run-{run_id}.lock"
    if not path.exists():
        return False
    fd = _try_lock(path)
    if fd is None:
        return True
    path.unlink(missing_ok=True)
    os.close(fd)
    return False


def uid_base() -> int:
    return int(os.environ.get(UID_BASE_ENV, UID_BASE))


def _unused(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return True
    return False


def kill_uid(uid: int) -> int:
    """SIGKILL every process of ``uid`` (leftovers of a killed run in a slot now free)."""
    return kill_until_gone(lambda: _processes_of(uid), rounds=5, pause=0.0)


def _processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class UidSlot:
    """A uid no other grader (of any run) uses now; its stray processes are killed first."""

    def __init__(self) -> None:
        base = uid_base()
        for uid in range(base, base + SLOTS):
            if not _unused(uid):
                continue
            fd = _try_lock(state_dir() / f"uid-{uid}.lock")
            if fd is not None:
                self.uid, self._fd = uid, fd
                self.stray = kill_uid(uid)
                return
        raise RuntimeError(f"all {SLOTS} grading uids from {base} are in use")

    def release(self) -> None:
        kill_uid(self.uid)
        os.close(self._fd)
