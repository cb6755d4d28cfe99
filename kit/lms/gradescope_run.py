"""What ``run_autograder`` runs on Gradescope: grade the submission with ``kit grade``, then write
``results.json`` as Gradescope's autograder specification describes it (one test per check).

The learner's files are copied first (the submission folder is never written); the grade runs in
the kit's bubblewrap sandbox when the container allows it, else unsandboxed (the container is
then the only isolation, and results.json is written after the learner's code has ended).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kit.course import SOLUTIONS_DIR
from kit.grade import rows as R
from kit.grade import run_record as RR
from kit.grade import sandbox
from kit.grade.errors import GradeUsageError
from kit.grade.registry import load_exercises
from kit.grade.report import GRADES_CSV
from kit.grade.verdicts import check_titles
from kit.lms.autograder import CONFIG_EXERCISES, CONFIG_POINTS, CONFIG_QUICK, CONFIG_VISIBILITY
from kit.lms.outputs import scaled


def _copy_submission(submission: Path, inbox: Path) -> int:
    """Copy the learner's notebooks (regular files only) into ``inbox/learner/``; returns the count."""
    learner = inbox / "learner"
    learner.mkdir(parents=True)
    count = 0
    for path in sorted(submission.rglob("*.ipynb")):
        rel = path.relative_to(submission)
        if path.is_symlink() or not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        target = learner / path.name
        shutil.copyfile(path, learner / f"{count}-{path.name}" if target.exists() else target)
        count += 1
    return count


def _sandbox_flag() -> list[str]:
    try:
        sandbox.ensure_available()
        return []
    except GradeUsageError:
        return ["--no-sandbox"]


def results(rows: list[R.Row], titles: dict[tuple[str, str], str], config: dict[str, Any],
            seconds: float, note: str) -> dict[str, Any]:
    """results.json: per check a test (score, max_score, output, visibility), the total, the note."""
    total_max = sum(r.max_points for r in rows if r.is_total)
    points = config.get(CONFIG_POINTS)
    tests, earned = [], 0.0
    for row in rows:
        if row.is_total:
            continue
        title = titles.get((row.exercise, row.check), "")
        name = f"{row.exercise}: {title} ({row.check})" if title else f"{row.exercise}: {row.check}"
        output = row.message or row.status
        score = scaled(row.points, total_max, points)
        earned += score
        tests.append({"name": name, "score": round(score, 4),
                      "max_score": round(scaled(row.max_points, total_max, points), 4),
                      "status": "passed" if row.passed else "failed",
                      "output": output if row.status in (R.PASSED, R.FAILED) else f"{row.status}: {output}",
                      "visibility": config[CONFIG_VISIBILITY]})
    # The total from the unrounded scores: three checks of 100/3 make 100, not 99.9999.
    return {"score": round(earned, 4), "execution_time": round(seconds),
            "output": note, "visibility": config[CONFIG_VISIBILITY], "stdout_visibility": "hidden", "tests": tests}


def _empty(config: dict[str, Any], message: str) -> dict[str, Any]:
    return {"score": 0, "output": message, "visibility": config[CONFIG_VISIBILITY], "stdout_visibility": "hidden",
            "tests": []}


def run(config_path: Path, submission: Path) -> dict[str, Any]:
    config = json.loads(config_path.read_text())
    solutions = config_path.parent / SOLUTIONS_DIR
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kit-gradescope-") as tmp:
        inbox, out = Path(tmp) / "in", Path(tmp) / "out"
        if _copy_submission(submission, inbox) == 0:
            return _empty(config, "No notebook (.ipynb) found in the submission: upload your notebook file.")
        from kit.grade.__main__ import main as grade

        argv = [str(inbox), "--out", str(out), "--solutions", str(solutions), *_sandbox_flag()]
        argv += ["--quick"] if config.get(CONFIG_QUICK) else []
        for name in config.get(CONFIG_EXERCISES, []):
            argv += ["--exercise", name]
        if grade(argv) != 0:
            return _empty(config, "The autograder could not run (see the autograder output).")
        rows = R.read_csv(out / GRADES_CSV)
        mode = RR.read(out) or {}
    exercises = load_exercises(solutions, config.get(CONFIG_EXERCISES) or None)
    titles = {(name, check): title for name, ex in exercises.items() for check, title in check_titles(ex).items()}
    sandboxed = "sandboxed" if mode.get(RR.SANDBOX) else "unsandboxed (container only)"
    note = f"Graded by the course kit in {mode.get(RR.MODE)} mode, {sandboxed}."
    return results(rows, titles, config, time.monotonic() - start, note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kit.lms.gradescope_run")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--submission", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args(argv)
    data = run(args.config, args.submission)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    partial = args.results.with_name(args.results.name + ".part")
    partial.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(args.results)
    print(f"score {data['score']}: {len(data['tests'])} test(s) written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
