"""A size- and inode-capped tmpfs per submission, mounted by a root grader outside the sandbox.

The work folder, report folder, ``$HOME`` and ``/tmp`` of a submission all live in it, so
bytes and files written anywhere writable share one budget; its pages are charged to the
submission's memory cgroup (tmpfs is memory). It is mounted in the grader's namespace, so the
results (junit XML, evidence) are read after the sandbox is gone, then it is unmounted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

MS_NOSUID, MS_NODEV = 2, 4
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def mount_tmpfs(target: Path, source: str, size_bytes: int, inodes: int) -> None:
    options = f"size={size_bytes},nr_inodes={inodes},mode=0755".encode()
    if _libc.mount(source.encode(), str(target).encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount tmpfs on {target}: {os.strerror(errno)}")


def unmount(target: Path | str) -> bool:
    """Detach a mount (lazily: a process still inside does not keep it in the tree)."""
    return _libc.umount2(str(target).encode(), MNT_DETACH) == 0


def usage(target: Path) -> tuple[int, int]:
    """Bytes and inodes in use."""
    info = os.statvfs(target)
    return (info.f_blocks - info.f_bfree) * info.f_frsize, info.f_files - info.f_ffree


def mounts_from(source_prefix: str, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[tuple[str, str]]:
    """(mount point, source) of every mount whose source starts with ``source_prefix``."""
    found = []
    for line in mountinfo.read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 2 and tail[1].startswith(source_prefix):
            point = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            found.append((point.replace("\\134", "\\"), tail[1]))
    return found
