"""From an LMS download to the grader's submissions: detect the LMS, stage the notebooks, name them.

The notebooks are copied (never moved, never extracted by their archive names) to
``<out>/lms/download/<learner>/<file>``, with folder and file names the kit chose, so the grader
reads them as its usual ``<learner>/<notebook>.ipynb`` layout; each submission then carries the
LMS's learner id and the entry's name in the download.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kit.grade import rows as R
from kit.grade.discover import Submission, find_submissions, mark_duplicates
from kit.grade.errors import GradeUsageError
from kit.lms import canvas, gradescope, moodle
from kit.lms.records import Entry, Parsed, Skipped
from kit.lms.safe_unzip import Download

CHOICES = ("auto", "canvas", "moodle", "gradescope", "folder")
STAGING = "download"
_IGNORED = re.compile(r"(^|/)(__MACOSX|\.DS_Store|Thumbs\.db|\.ipynb_checkpoints)(/|$)")


@dataclass(frozen=True)
class Staged:
    """A download staged for grading: the LMS, its entries by staged path, what was skipped."""

    lms: str
    root: Path
    entries: dict[str, Entry] = field(default_factory=dict)  # staged relative path -> entry
    skipped: list[Skipped] = field(default_factory=list)

    def learners(self) -> dict[str, Entry]:
        """learner id -> one of its entries, late if any of them is late."""
        found: dict[str, Entry] = {}
        for entry in self.entries.values():
            old = found.get(entry.learner_id)
            if old is None or (entry.late and not old.late):
                found[entry.learner_id] = entry
        return found


def detect(download: Download) -> str:
    names = [item.name for item in download.items]
    for module in (gradescope, moodle, canvas):
        if module.matches(names):
            return module.NAME
    return "folder"


def parse(download: Download, lms: str) -> Parsed:
    names = [item.name for item in download.items if not _IGNORED.search(item.name)]
    ignored = [Skipped(i.name, "file manager metadata") for i in download.items if _IGNORED.search(i.name)]
    if lms == gradescope.NAME:
        meta = [n for n in names if PurePosixPath(n).name == gradescope.METADATA]
        if len(meta) != 1:
            raise GradeUsageError(f"a Gradescope export holds one {gradescope.METADATA}; found {len(meta)}")
        data = download.read(meta[0])
        if data is None:
            raise GradeUsageError(f"{meta[0]} could not be read (larger than it declares)")
        parsed = gradescope.parse(names, data.decode("utf-8-sig", errors="replace"))
    else:
        parsed = (moodle if lms == moodle.NAME else canvas).parse(names)
    return Parsed(parsed.lms, parsed.entries, ignored + parsed.skipped)


def _safe(text: str, fallback: str) -> str:
    """A path component the kit chose: letters of any script kept, separators and dots not."""
    cleaned = re.sub(r"[^\w.\-]+", "_", text).strip("._")
    return cleaned[:120] or fallback


def stage(path: Path, lms: str, dest: Path) -> Staged:
    """Read ``path`` (zip or folder) and copy its notebooks under ``dest``; the rest is skipped."""
    if dest.resolve() == path.resolve() or dest.resolve() in path.resolve().parents:
        raise GradeUsageError(f"{path} is inside {dest}, the folder the kit rewrites: move the download out of --out")
    download = Download(path)
    if lms == "auto":
        lms = detect(download)
        if lms == "folder":
            raise GradeUsageError(f"{path} is not recognised as a Canvas, Moodle or Gradescope download "
                                  "(see docs/GRADING.md); pass --lms to say which, or --lms folder")
    parsed = parse(download, lms)
    if dest.exists():
        shutil.rmtree(dest)  # an earlier run's copy: inside --out, owned by the kit
    dest.mkdir(parents=True)
    staged: dict[str, Entry] = {}
    skipped = list(parsed.skipped)
    folders: dict[str, str] = {}
    for entry in parsed.entries:
        if not entry.file_name.lower().endswith(".ipynb"):
            suffix = PurePosixPath(entry.file_name).suffix or "no extension"
            skipped.append(Skipped(entry.member, f"not a notebook ({suffix}): not graded"))
            continue
        data = download.read(entry.member)
        if data is None:
            skipped.append(Skipped(entry.member, "holds more bytes than its zip entry declares (a zip bomb?)"))
            continue
        folder = folders.setdefault(entry.learner_id, f"{_safe(entry.learner_id, 'learner')}-{len(folders)}")
        name = _safe(PurePosixPath(entry.file_name).name, "notebook.ipynb")
        rel = f"{folder}/{name}"
        while rel in staged:
            rel = f"{folder}/{len(staged)}-{name}"
        target = dest / rel
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        staged[rel] = entry
    return Staged(lms, dest, staged, skipped + download.skipped)


def submissions(staged: Staged, exercises: list[str]) -> list[Submission]:
    """The grader's submissions for a staged download, named by LMS id and download entry."""
    found = []
    for sub in find_submissions(staged.root, exercises):
        entry = staged.entries[sub.rel]
        problem = None if sub.problem and sub.problem[0] == R.DUPLICATE else sub.problem
        found.append(dataclasses.replace(sub, learner=entry.learner_id, rel=entry.member, problem=problem))
    return mark_duplicates(found)
