"""``kit gradescope-autograder``: the zip Gradescope's "Configure Autograder" page takes.

Gradescope's specification: the zip's root holds ``setup.sh`` (run once, as root, on Gradescope's
Ubuntu image, to install dependencies) and ``run_autograder`` (run for every submission, working
directory ``/autograder``); the zip is unpacked to ``/autograder/source``, the learner's files
are in ``/autograder/submission``, and ``/autograder/results/results.json`` must be written.
Here the zip also carries the kit (``kit/``, ``helpers/``), the executed solutions it grades
against, the pip requirements and the run's settings (``kit_autograder.json``).
"""

from __future__ import annotations

import argparse
import json
import stat
import sys
import zipfile
from pathlib import Path

from helpers.cloud import REQUIREMENTS_FILE
from kit.course import DEV_REQUIREMENTS_FILE, SOLUTIONS_DIR
from kit.grade.errors import GradeUsageError
from kit.grade.registry import default_solutions_dir, exercise_names, load_exercises
from kit.lms.gradescope import VISIBILITIES

CONFIG = "kit_autograder.json"
# Keys of CONFIG: written here, read by kit.lms.gradescope_run on Gradescope.
CONFIG_QUICK, CONFIG_VISIBILITY, CONFIG_POINTS, CONFIG_EXERCISES = "quick", "visibility", "points", "exercises"
# Gradescope's layout (its specification), which kit.lms.autograder_harness lays out locally: the
# zip's two scripts, and under AUTOGRADER_DIR the unpacked zip, the learner's files and the results.
SETUP_SCRIPT = "setup.sh"
RUN_SCRIPT = "run_autograder"
AUTOGRADER_DIR = "/autograder"
SOURCE_DIR = "source"
SUBMISSION_DIR = "submission"
RESULTS_DIR = "results"
RESULTS_FILE = f"{RESULTS_DIR}/results.json"
PYTHON_ENV = "KIT_AUTOGRADER_PYTHON"  # overrides run_autograder's interpreter
REQUIREMENTS = "requirements-autograder.txt"
VENV = "/autograder/venv"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Development-only lines of DEV_REQUIREMENTS_FILE: not needed to grade.
_DEV_ONLY = ("playwright", "ruff", "mypy", "pytest-xdist")

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu).
# It installs Python, bubblewrap (the kit's sandbox; the grader falls back to running unsandboxed
# inside Gradescope's container when the container forbids user namespaces) and the kit's pip
# requirements, with torch from PyTorch's CPU-only wheel index (Gradescope has no GPU; the CPU
# wheels are about 200 MB instead of several GB).
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv {VENV}
{VENV}/bin/pip install --upgrade pip
{VENV}/bin/pip install --extra-index-url {TORCH_CPU_INDEX} -r {AUTOGRADER_DIR}/{SOURCE_DIR}/{REQUIREMENTS}
{VENV}/bin/python -m ipykernel install --sys-prefix --name python3
"""

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission (working directory {AUTOGRADER_DIR}). It grades the
# notebook(s) in {AUTOGRADER_DIR}/{SUBMISSION_DIR} with the kit and writes {AUTOGRADER_DIR}/{RESULTS_FILE}.
# {PYTHON_ENV} overrides the interpreter (a local test harness uses its own venv).
set -u
PYTHON="${{{PYTHON_ENV}:-{VENV}/bin/python}}"
cd {AUTOGRADER_DIR}/{SOURCE_DIR}
export PYTHONPATH={AUTOGRADER_DIR}/{SOURCE_DIR}
exec "$PYTHON" -m kit.lms.gradescope_run --config {AUTOGRADER_DIR}/{SOURCE_DIR}/{CONFIG} \\
    --submission {AUTOGRADER_DIR}/{SUBMISSION_DIR} --results {AUTOGRADER_DIR}/{RESULTS_FILE}
"""


def requirements(root: Path) -> str:
    """The learner runtime's requirements plus what the grader needs from the dev list."""
    lines = []
    for name in (REQUIREMENTS_FILE, DEV_REQUIREMENTS_FILE):
        for line in (root / name).read_text().splitlines():
            text = line.strip()
            if text and not text.startswith(("#", "-r")) and not text.startswith(_DEV_ONLY):
                lines.append(text)
    return "\n".join(dict.fromkeys(lines)) + "\n"


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and "__pycache__" not in rel.parts and path.suffix != ".pyc":
            archive.write(path, f"{prefix}/{rel.as_posix()}")


def _executable(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build(out: Path, solutions: Path, exercises: list[str] | None, quick: bool, visibility: str,
          points: float | None) -> Path:
    """Write the autograder zip; returns its path."""
    loaded = load_exercises(solutions, exercises)
    root = Path(__file__).resolve().parents[2]  # the checkout: kit/, helpers/ and the requirements files
    config = {CONFIG_QUICK: quick, CONFIG_VISIBILITY: visibility, CONFIG_POINTS: points,
              CONFIG_EXERCISES: sorted(loaded)}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _executable(archive, SETUP_SCRIPT, SETUP_SH)
        _executable(archive, RUN_SCRIPT, RUN_AUTOGRADER)
        archive.writestr(REQUIREMENTS, requirements(root))
        archive.writestr(CONFIG, json.dumps(config, indent=1) + "\n")
        for package in ("kit", "helpers"):
            _add_tree(archive, root / package, package)
        for name, exercise in sorted(loaded.items()):
            archive.write(exercise.path, f"{SOLUTIONS_DIR}/{name}.ipynb")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kit gradescope-autograder",
                                     description=f"Write the Gradescope autograder zip ({SETUP_SCRIPT}, {RUN_SCRIPT}).")
    parser.add_argument("--out", type=Path, default=Path("autograder.zip"))
    parser.add_argument("--solutions", type=Path, default=None)
    parser.add_argument("--exercise", action="append", default=None, help="grade only this exercise (repeatable)")
    parser.add_argument("--quick", action="store_true", help="grade in quick mode (short trainings)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="after_due_date",
                        help="when learners see the results (Gradescope's visibility values)")
    parser.add_argument("--points", type=float, default=None, help="scale the total to the assignment's points")
    args = parser.parse_args(argv)
    try:
        solutions = args.solutions or default_solutions_dir()
        if args.exercise:
            unknown = set(args.exercise) - set(exercise_names(solutions))
            if unknown:
                raise GradeUsageError(f"unknown exercise(s): {', '.join(sorted(unknown))}")
        path = build(args.out, solutions, args.exercise, args.quick, args.visibility, args.points)
    except GradeUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {path}: upload it on the assignment's Configure Autograder page (Zip file upload).",
          file=sys.stderr)
    return 0
