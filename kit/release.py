"""``kit release OUT``: the learner copy of a course, what the instructor of a graded class publishes.

OUT receives the starters (generated afresh from ``solutions/``, so they cannot be stale), the
learner runtime ``helpers/``, and what installing it needs (README, requirements and their lock, environment,
pyproject, Makefile + ``tools/ensure_venv.sh`` for ``make lab``). It holds no ``solutions/`` and
no ``kit/``: a learner needs neither (the self-check cells run ``helpers.checks``; ``kit check``
grades against the solutions, which the copy does not have), so ``pyproject.toml`` loses the
``kit`` command. Answer keys are withheld: each hint keeps its levels except the answer (the
solution's code), and the quiz files get decoy hashes and ``graded_by_instructor`` (the grader's
own masks, :func:`kit.grade.verdicts.quiz_masks`), so the instructor's grader marks the quiz.

``--repo-url``/``--ref`` say where the release will be published: badges, the setup cell's clone,
the README's launch table and the copy's ``helpers.cloud`` setting all point there. The course
itself is never written to.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helpers.cloud import REQUIREMENTS_FILE
from helpers.quiz import ABOUT_KEY, ANSWER_HASH_KEY, QUESTIONS_KEY
from helpers.settings import LOG_DIR
from kit import launch, notebooks
from kit.course import (
    DEV_REQUIREMENTS_FILE,
    LOCK_FILE,
    SOLUTIONS_DIR,
    STARTERS_DIR,
    Course,
    course,
    helpers_dir,
)
from kit.starters import StarterError, make_starter

# Top-level files copied as they are (when the course has them).
COPIED_FILES = ("README.md", REQUIREMENTS_FILE, DEV_REQUIREMENTS_FILE, LOCK_FILE, "environment.yml",
                "Makefile", ".gitignore", "LICENSE", "tools/ensure_venv.sh")
# Never copied from helpers/: caches and training logs.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "lightning_logs", LOG_DIR)
WITHHELD_ANSWER = ("The answer is not part of this copy of the course: your instructor grades this "
                   "exercise. Use the hints above and the check cell's messages.")


class ReleaseError(ValueError):
    """OUT cannot receive a release (or the course cannot be released); the message says why."""


@dataclass
class Release:
    """What was written: paths relative to OUT."""

    out: Path
    files: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- checks of OUT


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(out: Path, where: Course, force: bool = False) -> Path:
    """``out`` resolved, or a :class:`ReleaseError`: it must not be (in) the course or contain it,
    must not be a file, and must be empty unless ``force``."""
    target = Path(out).expanduser().resolve()
    root = where.root.resolve()
    if _inside(target, root):
        raise ReleaseError(f"{out}: inside the course at {root}; write the release somewhere else "
                           "(the course itself is never written to)")
    if _inside(root, target):
        raise ReleaseError(f"{out}: contains the course at {root}; choose a folder outside it")
    if target.exists() and not target.is_dir():
        raise ReleaseError(f"{out}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ReleaseError(f"{out}: not empty; choose an empty folder, or pass --force to replace "
                           "what a release writes there")
    return target


# --------------------------------------------------------------------------- the parts


def published_at(repo_url: str | None, ref: str | None) -> launch.Published:
    """The release's repository setting: the course's own where an option is not given. A
    malformed ``--repo-url`` fails here, before anything is written."""
    home = launch.home()
    at = launch.Published(repo_url or home.repo_url, ref or home.ref)
    try:
        at.github_slug()
    except ValueError as exc:
        raise ReleaseError(f"--repo-url: {exc}") from None
    return at


def starters(where: Course, at: launch.Published | None = None) -> dict[str, str]:
    """``notebooks/NN.ipynb`` -> text, generated from the solutions with the launch cells
    pointing at the starter, published at ``at`` (default: the course's own setting)."""
    out: dict[str, str] = {}
    for path in sorted(where.solutions.glob("*.ipynb")):
        nb = make_starter(notebooks.read(path), path.name).notebook
        repo_path = f"{STARTERS_DIR}/{path.name}"
        launch.refresh_launch_cells(nb, repo_path, at)
        out[repo_path] = notebooks.dumps(nb)
    if not out:
        raise ReleaseError(f"{where.solutions}: no solution notebook, so there is no starter to release")
    return out


def masked_hint_data(path: Path) -> str | None:
    """The hint data with every blank's last level (the answer: the solution's code) replaced by
    :data:`WITHHELD_ANSWER`; the first hint and the authored levels stay."""
    from helpers.hints import load_levels
    from kit.hint_data import write_data

    if not path.is_file():
        return None
    levels = load_levels(path)
    return write_data({key: [*texts[:-1], WITHHELD_ANSWER] for key, texts in levels.items()})


QUIZ_ABOUT = ("In this copy of the course the answer hashes are decoys: your instructor marks the quiz "
              "against their own key.")


def masked_quiz_files(seed: int | None = None) -> dict[str, bytes]:
    """The quiz files as the grader masks them (:func:`kit.grade.verdicts.quiz_masks`: flagged
    ``graded_by_instructor``, so the kernel does not mark them), with two changes for a published
    copy: ``about`` speaks to the learner, and every hash is random. The sandbox's decoys are
    valid hashes of a random option, which hostile code cannot tell from real ones; published,
    such a decoy would be the real answer one time in four (and otherwise name a wrong option)."""
    from kit.grade.verdicts import quiz_masks

    rng = random.Random(seed)
    out = {}
    for rel, data in quiz_masks(seed).items():
        quiz = json.loads(data)
        quiz[ABOUT_KEY] = QUIZ_ABOUT
        for question in quiz.get(QUESTIONS_KEY, []):
            question[ANSWER_HASH_KEY] = hashlib.sha256(rng.randbytes(32)).hexdigest()
        out[rel] = (json.dumps(quiz, indent=2, ensure_ascii=False) + "\n").encode()
    return out


_SETTING = re.compile(r'^(?P<name>REPO_URL|REF) = "(?P<value>[^"\n]*)"$', re.MULTILINE)


def published_cloud_module(text: str, repo_url: str | None, ref: str | None) -> str:
    """``helpers/cloud.py`` with its repository setting lines changed to the release's."""
    values = {"REPO_URL": repo_url, "REF": ref}
    found = {m.group("name") for m in _SETTING.finditer(text)}
    missing = [name for name, value in values.items() if value is not None and name not in found]
    if missing:
        raise ReleaseError(f"helpers/cloud.py: no line `{missing[0]} = \"...\"` to point at the release")

    def setting(match: re.Match[str]) -> str:
        return f'{match.group("name")} = "{values[match.group("name")] or match.group("value")}"'

    return _SETTING.sub(setting, text)


def learner_pyproject(text: str) -> str:
    """``pyproject.toml`` without the ``kit`` command and package (the release has no ``kit/``)."""
    text = re.sub(r'^\[project\.scripts\]\n(?:(?!\[)[^\n]*\n)*', "", text, flags=re.MULTILINE)
    text = re.sub(r'^kit = \[[^\]\n]*\]\n', "", text, flags=re.MULTILINE)
    return text.replace('include = ["helpers*", "kit*"]', 'include = ["helpers*"]')


# --------------------------------------------------------------------------- assembling


def _write(root: Path, rel: str, data: str | bytes, release: Release) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="\n")
    else:
        path.write_bytes(data)
    if rel not in release.files:
        release.files.append(rel)


def _stage(where: Course, stage: Path, repo_url: str | None, ref: str | None, seed: int | None) -> Release:
    release = Release(stage)
    at = published_at(repo_url, ref)
    for rel, text in starters(where, at).items():
        _write(stage, rel, text, release)
    shutil.copytree(where.root / "helpers", stage / "helpers", ignore=_IGNORED)
    release.files += sorted(str(p.relative_to(stage)) for p in (stage / "helpers").rglob("*") if p.is_file())
    for rel in COPIED_FILES:
        if (where.root / rel).is_file():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(where.root / rel, stage / rel)
            release.files.append(rel)
    readme = Course(stage).readme  # the release is laid out as a course
    if readme.is_file():
        launch.update_readme(readme, at=at)
    hints = masked_hint_data(where.hint_data)
    if hints is not None:
        _write(stage, str(where.hint_data.relative_to(where.root)), hints, release)
    for rel, data in masked_quiz_files(seed).items():
        _write(stage, rel, data, release)
    cloud = stage / "helpers" / "cloud.py"
    if cloud.is_file() and (repo_url or ref):
        _write(stage, "helpers/cloud.py", published_cloud_module(cloud.read_text(encoding="utf-8"), repo_url, ref),
               release)
    if (where.root / "pyproject.toml").is_file():
        _write(stage, "pyproject.toml", learner_pyproject((where.root / "pyproject.toml").read_text(encoding="utf-8")),
               release)
    return release


def release(out: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
            repo_url: str | None = None, ref: str | None = None, force: bool = False,
            seed: int | None = None) -> Release:
    """Write the learner copy of the course at ``root`` (default: :func:`kit.course.course`) into
    ``out``. Everything is built in a staging folder beside ``out`` first, so a failure writes
    nothing; with ``force`` the top-level entries a release writes replace those in ``out``."""
    where = course(root)
    if helpers_dir() != (where.root / "helpers").resolve():
        raise ReleaseError(f"the course at {where.root} is not the one whose helpers are in use "
                           f"({helpers_dir()}); run kit release from that course's environment")
    target = check_target(Path(out), where, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.release-", dir=target.parent))
    try:
        made = _stage(where, stage, repo_url, ref, seed)
        target.mkdir(exist_ok=True)
        for entry in sorted(stage.iterdir()):
            old = target / entry.name
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old.exists() or old.is_symlink():
                old.unlink()
            os.replace(entry, old)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    made.out = target
    made.files.sort()
    return made


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kit release",
        description="Write the learner copy of the course into OUT: starters, helpers/ and install files; "
        f"no {SOLUTIONS_DIR}/, no kit/, no answer keys (hint answers withheld, quiz hashes replaced by decoys).",
    )
    parser.add_argument("out", metavar="OUT", type=Path, help="an empty folder outside the course (created if missing)")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty OUT, replacing what a release writes")
    parser.add_argument("--repo-url", help="the GitHub repository the release is published at (badges, setup cell)")
    parser.add_argument("--ref", help="the branch or tag of that repository the badges open and the setup cell clones")
    parser.add_argument("--seed", type=int, help="seed of the quiz's decoy hashes (default: random)")
    args = parser.parse_args(argv)
    try:
        made = release(args.out, repo_url=args.repo_url, ref=args.ref, force=args.force, seed=args.seed)
    except (ReleaseError, StarterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    notebook_count = sum(f.startswith(f"{STARTERS_DIR}/") for f in made.files)
    print(f"wrote {made.out}: {len(made.files)} files ({notebook_count} starters); no {SOLUTIONS_DIR}/, no kit/, "
          "hint answers withheld, quiz hashes replaced by decoys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
