"""Command line: grade a folder, check one notebook, or merge shard results.

    kit grade SUBMISSIONS --out DIR [--jobs N] [--quick] [--shard i/n] [--no-sandbox] ...
    kit check NOTEBOOK [--quick] [--no-sandbox]
    kit merge OUT1 OUT2 ... --out DIR

Exit status: 0 when the batch was graded (whatever the learners scored), 2 for misuse or when
the sandbox (bubblewrap) is unavailable and --no-sandbox was not given.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helpers.settings import QUICK_EPOCHS_ENV
from kit.grade import progress as P
from kit.grade import run_record as RR
from kit.grade import sandbox
from kit.grade.discover import Submission, find_submissions
from kit.grade.engine import Graded, grade_all
from kit.grade.errors import GradeUsageError
from kit.grade.limits import budget as B
from kit.grade.limits.session import MODE_ENV, MODES, session
from kit.grade.registry import Exercise, default_solutions_dir, exercise_names, load_exercises
from kit.grade.report import FEEDBACK_DIR, GRADES_CSV, SUMMARY_FILE, feedback_text, write_reports
from kit.grade.run import QUICK_EPOCHS, TIMEOUT_MARGIN, Limits, measured_seconds
from kit.grade.shard import merge, parse_shard, select_shard
from kit.lms import cli as lms_cli

# Time limits in seconds when no option sets them (a solution's measured times may raise the full ones).
QUICK_CELL_TIMEOUT, FULL_CELL_TIMEOUT = 120.0, 900.0
QUICK_SUBMISSION_TIMEOUT, FULL_SUBMISSION_TIMEOUT = 300.0, 3600.0


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def _limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help=f"train for {QUICK_EPOCHS} epochs ({QUICK_EPOCHS_ENV}); schedule, optimizer and quiz "
                             "checks are judged at full length as always, training checks are 'not-graded-quick'")
    parser.add_argument("--solutions", type=Path, default=None,
                        help="folder of executed solution notebooks (default: this kit's solutions/)")
    parser.add_argument("--cell-timeout", type=_positive(float), default=None,
                        help=f"seconds for every cell (default: {QUICK_CELL_TIMEOUT:g} with --quick, else "
                             f"{FULL_CELL_TIMEOUT:g}, or "
                             f"{TIMEOUT_MARGIN:g}x the solution's measured time of the cell if more)")
    parser.add_argument("--timeout", type=_positive(float), default=None,
                        help=f"seconds per submission (default: {QUICK_SUBMISSION_TIMEOUT:g} with --quick, else "
                             f"{FULL_SUBMISSION_TIMEOUT:g} or "
                             f"{TIMEOUT_MARGIN:g}x the solution's measured total if more)")
    parser.add_argument("--memory-mb", type=_positive(int), default=8192,
                        help="address-space limit per submission in MB (torch alone maps about 4.5 GB)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run learner code without the bubblewrap sandbox (unisolated, as your user)")
    _aggregate_options(parser)


def _aggregate_options(parser: argparse.ArgumentParser) -> None:
    """Per-submission limits (everything a submission starts, together); see docs/GRADING.md."""
    group = parser.add_argument_group("per-submission limits (default: the solutions' measured peaks "
                                      f"x{B.MARGIN}, else fixed defaults)")
    group.add_argument("--max-tasks", type=_positive(int), default=None, help="processes and threads")
    group.add_argument("--max-memory-mb", type=_positive(int), default=None,
                       help="memory summed over all processes, tmpfs included, no swap")
    group.add_argument("--max-disk-mb", type=_positive(int), default=None,
                       help="bytes written to the work folder, $HOME and /tmp together")
    group.add_argument("--max-files", type=_positive(int), default=None, help="files and folders written there")
    group.add_argument("--max-open-files", type=_positive(int), default=None, help="open files per process")
    group.add_argument("--limits", choices=MODES, default=None,
                       help=f"force how limits are set (default: the first that works, in this order; or {MODE_ENV})")
    group.add_argument("--require-limits", action="store_true",
                       help="refuse to grade unless every per-submission limit can be enforced")


def _limits(args: argparse.Namespace, exercises: dict[str, Exercise]) -> Limits:
    """Limits for the batch; the sandbox is checked here, so a missing bwrap stops before grading."""
    if not args.no_sandbox:
        sandbox.ensure_available()
    # Cell ids may repeat across exercises: the larger measured time wins (a limit errs long).
    measured: dict[str, float] = {}
    totals = [0.0]
    for exercise in exercises.values():
        seconds = measured_seconds(exercise.notebook)
        totals.append(sum(seconds.values()))
        for cell_id, value in seconds.items():
            measured[cell_id] = max(value, measured.get(cell_id, 0.0))
    # Quick mode keeps its fixed submission limit: the recorded times are full-length ones.
    submission = args.timeout or (QUICK_SUBMISSION_TIMEOUT if args.quick else
                                  max(FULL_SUBMISSION_TIMEOUT, TIMEOUT_MARGIN * max(totals)))
    budget = B.overridden(B.derived([B.peaks_of(e.notebook.metadata) for e in exercises.values()],
                                    getattr(args, "jobs", 1)),
                          tasks=args.max_tasks, memory_mb=args.max_memory_mb, disk_mb=args.max_disk_mb,
                          files=args.max_files, open_files=args.max_open_files)
    if not args.no_sandbox:
        _check_limits(args, budget)
    elif args.require_limits:
        raise GradeUsageError("--require-limits needs the sandbox: per-submission limits apply to sandboxed runs")
    return Limits(
        cell_timeout=args.cell_timeout or (QUICK_CELL_TIMEOUT if args.quick else FULL_CELL_TIMEOUT),
        submission_timeout=submission,
        memory_mb=args.memory_mb,
        sandbox=not args.no_sandbox,
        cell_seconds={} if args.cell_timeout else measured,
        budget=budget,
        limits_mode=args.limits,
    )


def _check_limits(args: argparse.Namespace, budget: B.Budget) -> None:
    """Say which limits mode is used and what it cannot enforce; stop under --require-limits."""
    current = session(args.limits)
    print(f"kit grade: {current.describe(budget)}", file=sys.stderr)
    if args.require_limits and current.unenforced():
        raise GradeUsageError(f"--require-limits: the {current.backend.name} mode cannot enforce "
                              f"{'; '.join(current.unenforced())}")


def _limits_record(limits: Limits) -> dict[str, object]:
    """run.json's and the summary's record of the per-submission limits."""
    if not limits.sandbox:
        return {RR.LIMITS_MODE: "none (--no-sandbox)"}
    current = session(limits.limits_mode)
    return {RR.LIMITS_MODE: current.backend.name, **limits.budget.as_dict(), RR.NOT_ENFORCED: current.unenforced()}


def _sandbox_note(limits: Limits) -> str:
    return ("sandbox: one bubblewrap sandbox per submission" if limits.sandbox else
            "sandbox: OFF (--no-sandbox): learner code ran unisolated, as your user, with your files and network")


def grade_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit grade", description="Grade a folder of learner notebooks.")
    parser.add_argument("submissions", type=Path, help="folder with <learner>/<notebook>.ipynb or flat notebooks")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="output folder (default: grades)")
    parser.add_argument("--jobs", type=_positive(int), default=1, help="submissions graded in parallel")
    parser.add_argument("--shard", default=None, help="grade only slice i of n (e.g. 2/4); merge the outputs later")
    parser.add_argument("--exercise", action="append", default=None, help="grade only this exercise (repeatable)")
    parser.add_argument("--probe-seed", type=int, default=None,
                        help=f"seed of the probe lengths (default: drawn per run; {RR.RUN_FILE}'s "
                             f"{RR.PROBE_SEEDS} replays a run)")
    _limit_options(parser)
    lms_cli.add_options(parser)
    args = parser.parse_args(argv)
    root = args.submissions
    if not root.is_dir() and not (root.is_file() and lms_cli.lms_of(args) != "folder"):
        raise GradeUsageError(f"submissions folder {root} does not exist (or is not a folder)")
    out, inbox = args.out.resolve(), root.resolve()
    if out == inbox or inbox in out.parents:
        raise GradeUsageError(f"--out {args.out} is inside the submissions folder; choose a folder outside it "
                              "(the grader never writes into the learners' files)")
    solutions = args.solutions or default_solutions_dir()
    names = exercise_names(solutions)
    exercises = load_exercises(solutions, args.exercise)
    shard = parse_shard(args.shard) if args.shard else None
    staged = lms_cli.stage_download(args)
    subs = lms_cli.find(staged, names) if staged else find_submissions(root, names)
    if args.exercise:
        subs = [s for s in subs if s.exercise in exercises]
    if shard:
        subs = select_shard(subs, *shard)
    mode = "quick" if args.quick else "full"
    limits = _limits(args, exercises)
    print(f"Grading {len(subs)} submission(s) in {mode} mode with {args.jobs} job(s); {_sandbox_note(limits)} ...",
          file=sys.stderr)
    start = time.monotonic()

    def progress(sub: Submission, graded: Graded) -> None:
        total = graded.rows[-1]
        P.finished(f"  {sub.rel}: {total.points:g}/{total.max_points:g} ({graded.seconds:.0f} s)")

    with P.Board(len(subs)):
        results, plans = grade_all(subs, exercises, limits, quick=args.quick, jobs=args.jobs, progress=progress,
                                   probe_seed=args.probe_seed)
    rows = lms_cli.finish(args, staged, [row for result in results for row in result.rows])
    settings = {RR.MODE: mode, RR.SANDBOX: limits.sandbox, RR.SHARD: args.shard, RR.JOBS: args.jobs,
                RR.SUBMISSIONS: len(subs),
                RR.SECONDS: round(time.monotonic() - start, 1), RR.EXERCISES: sorted(exercises),
                RR.NOT_GRADED_IN_QUICK_MODE: {name: plan.not_graded for name, plan in plans.items()},
                RR.PROBE_SEEDS: {name: plan.evidence.seed for name, plan in plans.items() if plan.evidence},
                RR.QUICK_CALIBRATION_SECONDS: {name: round(plan.seconds, 1) for name, plan in plans.items()},
                RR.LIMITS: _limits_record(limits)}
    write_reports(rows, args.out, settings)
    lms_cli.class_report(args, staged, rows, settings)
    RR.write(args.out, settings)
    print(f"Graded {len(subs)} submission(s) in {settings[RR.SECONDS]} s: {args.out}/{GRADES_CSV}, "
          f"{SUMMARY_FILE}, {FEEDBACK_DIR}/; {_sandbox_note(limits)}", file=sys.stderr)
    return 0


def check_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit check",
                                     description="Grade one notebook as the instructor would and print the feedback.")
    parser.add_argument("notebook", type=Path)
    _limit_options(parser)
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        raise GradeUsageError(f"notebook {args.notebook} does not exist")
    solutions = args.solutions or default_solutions_dir()
    names = exercise_names(solutions)
    with tempfile.TemporaryDirectory(prefix="kit-check-") as tmp:
        # The notebook is read in place (never written); a folder of one lets discovery name it.
        single = Path(tmp) / "you"
        single.mkdir()
        (single / args.notebook.name).write_bytes(args.notebook.read_bytes())
        subs = [dataclasses.replace(s, rel=str(args.notebook)) for s in find_submissions(Path(tmp), names)]
    exercises = load_exercises(solutions, [subs[0].exercise] if subs[0].exercise else None)
    limits = _limits(args, exercises)
    print(f"Checking {args.notebook} ({'quick' if args.quick else 'full'} mode; {_sandbox_note(limits)}) ...",
          file=sys.stderr)
    with P.Board(1):
        results, _ = grade_all(subs, exercises, limits, quick=args.quick)
    print(feedback_text(results[0].rows))
    if not limits.sandbox:
        print(f"\n({_sandbox_note(limits)})")
    return 0


def merge_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit merge", description="Combine shard outputs.")
    parser.add_argument("parts", type=Path, nargs="+", help="--out folders of the shards")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows, settings = merge(args.parts)
    untitled = settings.get(RR.UNTITLED)
    for folder in untitled if isinstance(untitled, list) else []:
        print(f"note: {folder} has no check titles (graded by an older kit): its checks are named by id",
              file=sys.stderr)
    write_reports(rows, args.out, settings)
    RR.write(args.out, settings)
    print(f"Merged {len(args.parts)} run(s), {sum(r.is_total for r in rows)} submission(s): {args.out}/{GRADES_CSV}",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"check": check_main, "merge": merge_main, "grade": grade_main}
    try:
        if argv and argv[0] in commands:
            return commands[argv[0]](argv[1:])
        return grade_main(argv)
    except GradeUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
