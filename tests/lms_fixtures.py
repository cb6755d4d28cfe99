"""LMS downloads built the way each LMS names things, for the tests of kit/lms.

Canvas "Download Submissions": flat files ``<sortable name>_[LATE_]<user id>_<file id>_<name>``,
``anon_<id>_<file id>_<name>`` under anonymous grading, ``name-1.ipynb`` for a repeated upload.
Moodle "Download all submissions": ``<Full name>_<participant id>_assignsubmission_file/<name>``
(4.1+), ``..._assignsubmission_file_/<name>`` (older), flat ``..._assignsubmission_file_<name>``,
``Participant_<id>_...`` under blind marking. Gradescope "Export Submissions":
``assignment_<id>_export/submission_metadata.yml`` and ``submission_<id>/<files>``.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode


def notebook(exercise: str = "00_toy") -> bytes:
    """A small valid notebook whose metadata names its exercise."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kit"] = {"exercise": exercise, "role": "starter"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    return nbformat.writes(nb).encode()


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under ``root`` (a download or a whole temp folder) with its SHA-256."""
    if root.is_file():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def canvas_entries(good: NotebookNode | bytes, starter: NotebookNode | bytes) -> dict[str, bytes]:
    """A Canvas download: on time, late, a repeated upload beside the original, anonymous, a PDF."""
    g = good if isinstance(good, bytes) else nbformat.writes(good).encode()
    s = starter if isinstance(starter, bytes) else nbformat.writes(starter).encode()
    return {
        "lovelaceada_1001_5001_00_toy.ipynb": g,
        "hoppergrace_LATE_1002_5002_00_toy.ipynb": s,
        "turingalan_1003_5003_00_toy.ipynb": s,
        "turingalan_1003_5013_00_toy-1.ipynb": g,
        "anon_x3Fg1_5004_00_toy.ipynb": g,
        "lovelaceada_1001_5005_report.pdf": b"%PDF-1.4\n",
    }


MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Online text", "Last modified (grade)",
                 "Feedback comments"]


def moodle_entries(nb: bytes) -> dict[str, bytes]:
    """A Moodle download mixing the 4.1+ folder, the older trailing ``_``, flat files and blind marking,
    names in several scripts, two learners with the same full name and a non-notebook."""
    return {
        "Ada Lovelace_123456_assignsubmission_file/00_toy.ipynb": nb,
        "Ada Lovelace_123460_assignsubmission_file/00_toy.ipynb": nb,  # same name, another learner
        "Zoë Ångström_123457_assignsubmission_file_/00_toy.ipynb": nb,
        "李小龙_123458_assignsubmission_file_00_toy.ipynb": nb,
        "Participant_123459_assignsubmission_file/00_toy.ipynb": nb,
        "🙂 Smile_O'Brien_123461_assignsubmission_file/nested/00_toy.ipynb": nb,
        "Ada Lovelace_123456_assignsubmission_file/helper.py": b"print('hi')\n",
        "Ada Lovelace_123456_assignsubmission_onlinetext_onlinetext.html": b"<p>hi</p>",
    }


GRADESCOPE_METADATA = """\
submission_201:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: Ada@Example.edu
  :created_at: 2026-03-01 12:00:00.000000000 -08:00
  :score: 0.0
  :status: processed
submission_202:
  :submitters:
  - :name: Grace Hopper
    :sid: '1002'
    :email: grace@example.edu
  - :name: Alan Turing
    :sid: '1003'
    :email: alan@example.edu
  :created_at: 2026-03-02 08:30:00.000000000 -08:00
  :score: 0.0
"""


def gradescope_entries(nb: bytes) -> dict[str, bytes]:
    root = "assignment_9100_export"
    return {
        f"{root}/submission_metadata.yml": GRADESCOPE_METADATA.encode(),
        f"{root}/submission_201/00_toy.ipynb": nb,
        f"{root}/submission_202/00_toy.ipynb": nb,
        f"{root}/submission_202/notes.txt": b"group notes",
        f"{root}/submission_999/00_toy.ipynb": nb,  # not in the metadata
    }
