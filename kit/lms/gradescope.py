"""Gradescope: the "Export Submissions" zip (reading), and results.json (the autograder's output).

Export: ``submission_metadata.yml`` next to one folder per submission, ``submission_<id>/``, all
possibly inside one wrapping folder. The YAML maps each folder name to a record whose keys are
Ruby symbols (``:submitters:`` with ``:name:``, ``:sid:``, ``:email:``; ``:created_at:``,
``:score:``, ...). It is read with PyYAML's BaseLoader: every value a string, no tags acted on.

results.json (Gradescope autograder specification): top-level ``score``, ``output``,
``visibility``, ``stdout_visibility`` and ``tests``, a list of objects with ``name``,
``score``, ``max_score``, ``output`` and ``visibility`` (``visible``, ``hidden``,
``after_due_date`` or ``after_published``).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type stubs; types-PyYAML is not installed

from kit.grade.errors import GradeUsageError
from kit.lms.records import Entry, Parsed, Skipped

NAME = "gradescope"
METADATA = "submission_metadata.yml"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def matches(names: list[str]) -> bool:
    return any(PurePosixPath(n).name == METADATA for n in names)


def _submitters(record: Any) -> list[dict[str, str]]:
    found = record.get(":submitters") if isinstance(record, dict) else None
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def read_metadata(text: str) -> dict[str, list[dict[str, str]]]:
    """Folder name -> its submitters, from ``submission_metadata.yml``."""
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader: plain strings only, no tags
    except yaml.YAMLError as exc:
        raise GradeUsageError(f"{METADATA} is not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise GradeUsageError(f"{METADATA} is not a mapping of submission folders")
    return {str(folder): _submitters(record) for folder, record in data.items()}


def _learner(submitters: list[dict[str, str]], folder: str) -> tuple[str, str, str]:
    """(id, display name, email): the first submitter's email (Gradescope's account key), else
    their SID, else the submission folder; a group's names are joined for display."""
    if not submitters:
        return folder, folder, ""
    first = submitters[0]
    email = first.get(":email", "").strip()
    learner = email.lower() or first.get(":sid", "").strip() or folder
    names = " & ".join(s.get(":name", "").strip() or s.get(":email", "?") for s in submitters)
    return learner, names, email


def parse(names: list[str], metadata_text: str) -> Parsed:
    meta_name = next(n for n in names if PurePosixPath(n).name == METADATA)
    base = PurePosixPath(meta_name).parent
    folders = read_metadata(metadata_text)
    entries, skipped = [], []
    for name in names:
        if name == meta_name:
            continue
        path = PurePosixPath(name)
        rel = path.relative_to(base) if base != PurePosixPath(".") and path.is_relative_to(base) else path
        parts = rel.parts
        if len(parts) < 2 or parts[0] not in folders:
            skipped.append(Skipped(name, f"not inside a submission folder listed in {METADATA}"))
            continue
        learner, display, email = _learner(folders[parts[0]], parts[0])
        entries.append(Entry(member=name, learner_id=learner, display_name=display,
                             file_name="/".join(parts[1:]), email=email))
    return Parsed(NAME, entries, skipped)
