"""Comparing two grading output folders as an instructor would read them (shared by the shard,
merge and Slurm tests): grades.csv, every feedback file and the summary, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from kit.grade import rows as R

# Wall times a run measures ("(3 s)", "in 4.2 s") differ between two runs of the same batch.
_TIME = re.compile(r"\b\d+(\.\d+)? ?s\b")


def _untimed(text: str) -> str:
    return _TIME.sub("<t> s", text)


def report_files(out: Path) -> dict[str, str]:
    """{relative path: text without time fields} of what a grading run reports."""
    files = {"summary.md": _untimed((out / "summary.md").read_text(encoding="utf-8"))}
    for path in sorted((out / "feedback").glob("*.md")):
        files[f"feedback/{path.name}"] = _untimed(path.read_text(encoding="utf-8"))
    rows = [R.Row(**{**r.__dict__, "message": _untimed(r.message)}) for r in R.read_csv(out / "grades.csv")]
    files["grades.csv"] = "\n".join(map(repr, rows))
    return files


def assert_same_reports(whole: Path, merged: Path) -> None:
    """Every report file of ``merged`` equals ``whole``'s (time fields aside), and no file is missing."""
    expected, got = report_files(whole), report_files(merged)
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name
