"""Finding submissions and telling which learner and exercise each one is.

Two layouts, mixed freely: ``SUBMISSIONS/<learner>/<anything>.ipynb`` (the learner is the first
folder) and flat ``SUBMISSIONS/<name containing the exercise>.ipynb`` (the learner is the rest of
the file name). The exercise comes from the notebook's ``kit.exercise`` metadata, falling back to
the file name. Unreadable files are kept, with a status: every file found gets a row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from kit.grade import rows as R
from kit.notebooks import AS_VERSION, EXERCISE_KEY, kit_metadata

MAX_BYTES = 200 * 2**20  # larger files are not read at all (saved outputs are never needed)


@dataclass(frozen=True)
class Submission:
    """One learner notebook as found on disk (``notebook`` is None when it could not be read)."""

    path: Path
    rel: str  # path relative to the submissions folder, POSIX style (stable across machines)
    learner: str
    exercise: str  # "" when unknown
    notebook: NotebookNode | None
    problem: tuple[str, str] | None  # (status, message) when it cannot be graded

    @property
    def key(self) -> tuple[str, str]:
        """Learner and exercise; two submissions with the same key are duplicates."""
        return (self.learner, self.exercise or self.rel)


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.lower())


def exercise_from_name(name: str, exercises: list[str]) -> str:
    """The longest exercise name contained in ``name`` (case and -/space/_ insensitive), or ""."""
    norm = _norm(name)
    hits = [e for e in exercises if _norm(e) in norm]
    return max(hits, key=len) if hits else ""


def read_notebook(path: Path) -> tuple[NotebookNode | None, tuple[str, str] | None]:
    """Parse a submission without trusting it: a notebook, or a (status, message) saying why not."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        return None, (R.TOO_LARGE,
                      (f"the file is {size / 2**20:.0f} MB; notebooks over {MAX_BYTES // 2**20} MB are not "
                                   "graded (clear the outputs, save, and submit again)"))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, (R.NOT_JSON, "the file is not text (not a notebook saved by Jupyter)")
    if not text.strip():
        return None, (R.NOT_JSON, "the file is empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        # Cut off: the error is at the very end, or a string never closes before the end.
        if text.lstrip().startswith("{") and (exc.pos >= len(text.rstrip()) - 1
                                              or exc.msg.startswith("Unterminated string")):
            return None, (R.TRUNCATED_JSON, (f"the notebook file ends early (after {len(data)} bytes): "
                                            "it was cut off while saving or uploading; upload it again"))
        return None, (R.NOT_JSON, f"not a notebook: not valid JSON ({exc.msg} at line {exc.lineno})")
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        return None, (R.NOT_JSON, "valid JSON but not a Jupyter notebook (no cells)")
    major = raw.get("nbformat")
    if major != AS_VERSION:
        return None, (R.UNSUPPORTED_NBFORMAT, (f"nbformat {major} notebook: only nbformat {AS_VERSION} can be graded; "
                                              "open it in JupyterLab and save it, then submit again"))
    cells = raw.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(c, dict) and c.get("cell_type") in ("code", "markdown", "raw") for c in cells
    ):
        return None, (R.INVALID_NOTEBOOK, "the notebook's cell list is damaged (a cell without a valid type)")
    for cell in cells:
        source = cell.get("source", "")
        if isinstance(source, list):
            cell["source"] = "".join(str(s) for s in source)
        elif not isinstance(source, str):
            return None, (R.INVALID_NOTEBOOK, "a cell's source is neither text nor a list of lines")
        cell.setdefault("metadata", {})
    return nbformat.from_dict(raw), None


def _metadata_exercise(nb: NotebookNode | None) -> str:
    name = kit_metadata(nb).get(EXERCISE_KEY) if nb is not None else None
    return name if isinstance(name, str) else ""


def _learner(rel: Path, exercise: str) -> str:
    if len(rel.parts) > 1:
        return rel.parts[0]
    stem = rel.stem
    if exercise:
        stem = re.sub(re.escape(exercise).replace(r"_", r"[\s_\-]"), "", stem, flags=re.IGNORECASE)
    learner = re.sub(r"^[\s_\-.]+|[\s_\-.]+$", "", stem)
    return learner or rel.stem


def find_submissions(root: Path, exercises: list[str]) -> list[Submission]:
    """Every ``*.ipynb`` under ``root`` (skipping checkpoints and hidden folders), sorted by path."""
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        nb, problem = read_notebook(path)
        by_name = exercise_from_name(rel.stem, exercises) or exercise_from_name(str(rel), exercises)
        meta = _metadata_exercise(nb)
        exercise = meta if meta in exercises else by_name
        if problem is None and not exercise:
            hint = f"its metadata names {meta!r}, " if meta else ""
            problem = (R.UNKNOWN_EXERCISE, (f"{hint}not one of the exercises ({', '.join(exercises)}); "
                                           "name the file after its exercise, e.g. 01_warmup_cosine.ipynb"))
        found.append(Submission(path=path, rel=rel.as_posix(), learner=_learner(rel, by_name or exercise),
                                exercise=exercise, notebook=nb, problem=problem))
    return mark_duplicates(found)


def mark_duplicates(subs: list[Submission]) -> list[Submission]:
    """Two files for one learner and exercise: neither is graded, both rows say which files."""
    by_key: dict[tuple[str, str], list[Submission]] = {}
    for sub in subs:
        by_key.setdefault(sub.key, []).append(sub)
    result = []
    for sub in subs:
        twins = by_key[sub.key]
        if len(twins) > 1 and sub.exercise:
            names = ", ".join(t.rel for t in twins)
            sub = Submission(sub.path, sub.rel, sub.learner, sub.exercise, sub.notebook,
                             (R.DUPLICATE, (f"{len(twins)} submissions for {sub.learner} / {sub.exercise} "
                                           f"({names}): keep one and grade again")))
        result.append(sub)
    return result
