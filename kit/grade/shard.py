"""Deterministic slices of a class (``--shard i/n``) and merging the slices' results.

Submissions are dealt round-robin by (learner, exercise) in sorted order, so every shard gets
about the same number, and two files of one learner and exercise always land in the same shard
(where they are reported as duplicates, as in an unsharded run).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kit.grade import rows as R
from kit.grade import run_record as RR
from kit.grade.discover import Submission
from kit.grade.errors import GradeUsageError
from kit.grade.report import GRADES_CSV, read_titles, remember_titles


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4); shards are numbered from 1."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise GradeUsageError(f"--shard must look like i/n (e.g. 1/4), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise GradeUsageError(f"--shard {text}: need 1 <= i <= n (shards are numbered 1..n)")
    return index, count


def select_shard(subs: list[Submission], index: int, count: int) -> list[Submission]:
    keys = sorted({s.key for s in subs})
    mine = {key for position, key in enumerate(keys) if position % count == index - 1}
    return [s for s in subs if s.key in mine]


def merge(out_dirs: list[Path]) -> tuple[list[R.Row], dict[str, object]]:
    """Rows of several grading runs (deduplicated by submission) and their common settings.

    The check titles each run saved (``titles.json``) are taken up for the feedback, so that the
    merged reports read exactly as one run's; a folder without them is named in ``untitled``.
    """
    if not out_dirs:
        raise GradeUsageError("merge needs at least one output folder of a grading run")
    rows: list[R.Row] = []
    seen: dict[str, Path] = {}
    modes = set()
    sandboxes: list[object] = []
    limits: list[object] = []
    untitled: list[str] = []
    for folder in out_dirs:
        if not folder.is_dir():
            raise GradeUsageError(f"{folder} is not a folder (pass the --out folders of grading runs)")
        try:
            titles = read_titles(folder)
        except (ValueError, json.JSONDecodeError) as exc:
            raise GradeUsageError(f"{folder}: unreadable check titles ({exc})") from None
        if titles is None:
            untitled.append(str(folder))
        else:
            remember_titles(titles)
        run = RR.read(folder)
        if run is not None:
            modes.add(run.get(RR.MODE))
            sandboxes.append(run.get(RR.SANDBOX))
            limits.append(run.get(RR.LIMITS))
        part = R.read_csv(folder / GRADES_CSV)
        for sub in sorted({r.submission for r in part}):
            if sub in seen:
                raise GradeUsageError(f"{sub} was graded in both {seen[sub]} and {folder}: merge each shard once")
            seen[sub] = folder
        rows.extend(part)
    if len(modes) > 1:
        raise GradeUsageError(f"cannot merge quick and full grading runs ({sorted(map(str, modes))})")
    sandbox = sandboxes[0] if sandboxes and all(x is sandboxes[0] for x in sandboxes) else RR.MIXED
    settings: dict[str, object] = {RR.MODE: modes.pop() if modes else "unknown", RR.SANDBOX: sandbox,
                                   RR.MERGED: [str(p) for p in out_dirs]}
    if limits and all(x == limits[0] for x in limits):
        if limits[0] is not None:
            settings[RR.LIMITS] = limits[0]
    elif limits:
        settings[RR.LIMITS] = {RR.LIMITS_MODE: f"{RR.MIXED} (the parts ran with different limits: see each part's "
                                               f"{RR.RUN_FILE})"}
    if untitled:
        settings[RR.UNTITLED] = untitled
    return sort_rows(rows), settings


def sort_rows(rows: list[R.Row]) -> list[R.Row]:
    """Stable order: by submission path, the submission's rows in their original order, total last."""
    return sorted(rows, key=lambda r: (r.submission, r.is_total))
