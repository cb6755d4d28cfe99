"""Reading an LMS download (a zip, or the folder it unpacked to) without trusting it.

Nothing here extracts by the archive's own names: callers get each entry's bytes and choose
where to write them. Entries that would escape a folder (``../``, absolute paths, drive letters),
symbolic links, devices and over-large files are listed as skipped with the reason; a download
with more entries or more bytes than the caps stops with an error before anything is written.
The download itself is only ever opened for reading.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kit.grade.discover import MAX_BYTES
from kit.grade.errors import GradeUsageError
from kit.lms.records import Skipped

MAX_ENTRIES = 20_000  # a class of 2,000 with ten files each; more is not a notebook download
MAX_TOTAL_BYTES = 8 * 2**30  # uncompressed, summed over the entries that would be read
MAX_FILE_BYTES = MAX_BYTES  # the grader does not read larger notebooks anyway
_UTF8_FLAG = 0x800  # zip general-purpose bit 11: the name is UTF-8 (else CP437 by the spec)


class UnsafeDownload(GradeUsageError):
    """The download exceeds a cap (entry count or total size): nothing was written."""


@dataclass(frozen=True)
class Item:
    """One regular file of the download: its name as found (POSIX separators) and declared size."""

    name: str
    size: int


def unsafe_reason(name: str) -> str | None:
    """Why an entry name cannot be used as a relative path, or None when it can."""
    if not name or "\0" in name:
        return "empty name or a NUL byte in the name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path (would be written outside the output folder)"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "'..' in the path (would be written outside the output folder)"
    return None


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The entry name as its author wrote it: zips made without the UTF-8 flag by tools that
    wrote UTF-8 anyway decode as CP437 mojibake; undo that when the bytes are valid UTF-8."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


class Download:
    """A zip file or a folder, read-only, as a list of :class:`Item` plus the entries skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_zip = path.is_file()
        self.items: list[Item] = []
        self.skipped: list[Skipped] = []
        self._zip_infos: dict[str, zipfile.ZipInfo] = {}
        if self.is_zip:
            self._list_zip()
        elif path.is_dir():
            self._list_folder()
        else:
            raise GradeUsageError(f"{path} is neither a folder nor a zip file")
        self._check_caps()

    def _list_zip(self) -> None:
        try:
            archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise GradeUsageError(f"{self.path} is not a readable zip file ({exc})") from None
        with archive:
            infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise UnsafeDownload(f"{self.path} holds {len(infos)} entries, over the cap of {MAX_ENTRIES}: "
                                 "not an LMS download of notebooks (a zip bomb?); nothing was extracted")
        for info in infos:
            name = _zip_name(info)
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            reason = unsafe_reason(name)
            if reason is None and stat.S_ISLNK(mode):
                reason = "symbolic link (never followed)"
            if reason is None and info.file_size > MAX_FILE_BYTES:
                reason = f"{info.file_size / 2**20:.0f} MB uncompressed, over the {MAX_FILE_BYTES // 2**20} MB cap"
            if reason:
                self.skipped.append(Skipped(name, reason))
                continue
            self._zip_infos[name] = info
            self.items.append(Item(name.replace("\\", "/"), info.file_size))

    def _list_folder(self) -> None:
        stack = [self.path]
        count = 0
        while stack:
            folder = stack.pop()
            with os.scandir(folder) as found:
                for entry in sorted(found, key=lambda e: e.name):
                    count += 1
                    if count > MAX_ENTRIES:
                        raise UnsafeDownload(f"{self.path} holds more than {MAX_ENTRIES} entries: not an LMS "
                                             "download of notebooks; nothing was read")
                    rel = Path(entry.path).relative_to(self.path).as_posix()
                    if entry.is_symlink():
                        self.skipped.append(Skipped(rel, "symbolic link (never followed)"))
                    elif entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif not entry.is_file(follow_symlinks=False):
                        self.skipped.append(Skipped(rel, "not a regular file (device, pipe or socket)"))
                    else:
                        size = entry.stat(follow_symlinks=False).st_size
                        if size > MAX_FILE_BYTES:
                            self.skipped.append(Skipped(rel, f"{size / 2**20:.0f} MB, over the "
                                                             f"{MAX_FILE_BYTES // 2**20} MB cap"))
                        else:
                            self.items.append(Item(rel, size))
        self.items.sort(key=lambda i: i.name)

    def _check_caps(self) -> None:
        total = sum(item.size for item in self.items)
        if total > MAX_TOTAL_BYTES:
            raise UnsafeDownload(f"{self.path} would unpack to {total / 2**30:.1f} GB, over the cap of "
                                 f"{MAX_TOTAL_BYTES / 2**30:.0f} GB (a zip bomb?); nothing was extracted")

    def read(self, name: str) -> bytes | None:
        """The entry's bytes, or None when it holds more than it declared or than the cap (a bomb
        lying about its size): never more than the cap is decompressed."""
        limit = MAX_FILE_BYTES
        if self.is_zip:
            info = self._zip_infos[name]
            try:
                with zipfile.ZipFile(self.path) as archive, archive.open(info) as handle:
                    data = handle.read(min(limit, info.file_size) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error):  # CRC or size mismatch: a forged entry
                return None
            return None if len(data) > min(limit, info.file_size) else data
        path = self.path / PurePosixPath(name)
        if path.is_symlink() or not path.is_file():  # replaced since it was listed
            return None
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        return None if len(data) > limit else data

    def top_names(self) -> set[str]:
        """First path components of every entry (a download often sits in one wrapping folder)."""
        return {item.name.split("/", 1)[0] for item in self.items}
