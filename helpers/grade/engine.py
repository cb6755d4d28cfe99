"""Grading submissions into rows: one submission (build, run, interpret) and a parallel batch."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helpers.grade import rows as R
from helpers.grade.assemble import build_graded_copy
from helpers.grade.discover import Submission
from helpers.grade.registry import Exercise
from helpers.grade.progress import submission as progress_scope
from helpers.grade.run import CellResult, Limits, RunOutcome, run_graded_copy

_LEARNER_TROUBLE = ("exception", "timeout", "kernel-died")


@dataclass(frozen=True)
class Graded:
    rows: list[R.Row]
    seconds: float


MAX_MESSAGE = 600


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failed_lines(output: str) -> str:
    """The ✗ lines (each carries its hint); otherwise the start of what was printed instead."""
    lines = [_clip(line.strip(), 200) for line in output.splitlines() if line.strip().startswith("✗")]
    if lines:
        return _clip("; ".join(lines), MAX_MESSAGE)
    shown = " / ".join(_clip(line.strip(), 80) for line in output.strip().splitlines()[:3])
    return f"printed output differs from the expected ✓ lines: {shown}" if shown else "printed nothing"


def _learner_trouble(cell_ids: list[str], results: dict[str, CellResult], checks: set[str]) -> str:
    """Learner cells that raised, timed out or stopped the kernel, for the total row."""
    notes = []
    for cell_id in cell_ids:
        result = results.get(cell_id)
        if cell_id in checks or result is None or result.kind not in _LEARNER_TROUBLE:
            continue
        what = result.error.split(":")[0] if result.kind == "exception" and result.error else result.kind
        notes.append(f"{cell_id} ({what})")
        if result.kind == "kernel-died":
            break  # the cells after it only found a dead kernel
    return _clip("cells with problems: " + ", ".join(notes), 300) if notes else ""


def _earlier_trouble(cell_ids: list[str], results: dict[str, CellResult], check_id: str,
                     checks: set[str]) -> CellResult | None:
    """The learner cell before ``check_id`` most likely to explain its failure: the one that
    stopped the kernel, else the last one that raised something other than a follow-on
    NameError or timed out."""
    trouble = []
    for cell_id in cell_ids:
        if cell_id == check_id:
            break
        result = results.get(cell_id)
        if cell_id not in checks and result is not None and result.kind in _LEARNER_TROUBLE:
            trouble.append(result)
    died = [t for t in trouble if t.kind == "kernel-died"]
    if died:
        return died[0]  # the cells after it only found a dead kernel
    causes = [t for t in trouble if not t.error.startswith("NameError")]
    return causes[-1] if causes else (trouble[0] if trouble else None)


def _verdict(result: CellResult | None, outcome: RunOutcome, limits: Limits,
             trouble: CellResult | None) -> tuple[str, str]:
    if outcome.killed:
        return R.TIMEOUT, f"the notebook was stopped after the {limits.submission_timeout:g} s limit per submission"
    if result is None:
        last = outcome.stderr_tail.strip().splitlines()[-1:] or ["no output"]
        return R.GRADER_ERROR, f"the grading process left no result for this check ({last[0][:200]})"
    context = ""
    if trouble is not None:
        what = {"exception": f"raised {trouble.error}" if trouble.error else "raised an exception",
                "timeout": f"ran longer than {limits.cell_timeout:g} s", "kernel-died": "stopped the kernel"}
        context = f" (earlier, cell {trouble.cell_id!r} {what[trouble.kind]})"
    if result.kind == "passed":
        return R.PASSED, ""
    if result.kind == "differs":  # the ✗ lines carry their own hints
        return R.FAILED, _failed_lines(result.output)
    if result.kind == "exception":
        error = result.output.strip().splitlines()[-1:] or ["an exception"]
        return R.ERROR, _clip(f"the check raised {error[0]}", 300) + context
    if result.kind == "timeout":
        if trouble is not None and trouble.kind == "timeout":
            return R.TIMEOUT, f"not run: cell {trouble.cell_id!r} ran longer than {limits.cell_timeout:g} s"
        return R.TIMEOUT, f"the check ran longer than {limits.cell_timeout:g} s" + context
    if result.kind == "kernel-died":
        where = f"cell {trouble.cell_id!r}" if trouble is not None and trouble.kind == "kernel-died" else "a cell"
        return R.KERNEL_DIED, (f"not run: the Python kernel stopped in {where} (os._exit, a crash, or more than "
                               f"{limits.memory_mb} MB of memory)")
    return R.GRADER_ERROR, f"unexpected nbval result {result.kind!r}"


def problem_rows(sub: Submission, exercises: dict[str, Exercise]) -> list[R.Row]:
    """The row (and total) of a submission that cannot be graded."""
    assert sub.problem is not None
    status, message = sub.problem
    row = R.Row(sub.learner, sub.exercise or "unknown", sub.rel, R.SUBMISSION_CHECK, status, 0, 0, 0, "", message)
    exercise = exercises.get(sub.exercise)
    return [row, R.total_row([row], max_points=exercise.max_points if exercise else 0, message=f"not graded: {status}")]


@dataclass(frozen=True)
class QuickPlan:
    """Quick mode for one exercise: the solution's own quick-mode output of each check (the
    reference learners are compared with) and the checks that cannot be graded, with why."""

    exercise: str
    references: dict[str, str]
    not_graded: dict[str, str]
    seconds: float


REFERENCE_OUTPUT = 10_000_000  # characters of check output kept when recording references


def calibrate_quick(exercise: Exercise, limits: Limits) -> QuickPlan:
    """Run the solution itself in quick mode and take its check outputs as quick-mode references.

    The checks know about quick mode (they print ``– … (not checked: quick mode)`` for what needs
    full training), so the solution's quick output is what a correct learner's quick run prints.
    Not graded in quick mode: checks tagged ``needs-training``, checks that do not run or that
    print a ✗ line for the solution itself, and checks with no ✓ line left to compare.
    """
    not_graded = {c.id: "tagged needs-training" for c in exercise.checks if c.needs_training}
    graded = build_graded_copy(exercise.notebook, exercise, skip=frozenset(not_graded))
    outcome = run_graded_copy(graded, limits, quick=True, max_output=REFERENCE_OUTPUT)
    references = {}
    for check in exercise.checks:
        if check.id in not_graded:
            continue
        result = outcome.cells.get(check.id)
        lines = [line.strip() for line in result.output.splitlines()] if result is not None else []
        if result is None or result.kind not in ("passed", "differs"):
            not_graded[check.id] = f"the solution does not run it in quick mode ({result.kind if result else 'no result'})"
        elif any(line.startswith("✗") for line in lines):
            not_graded[check.id] = "the solution itself fails it in quick mode"
        elif not any(line.startswith("✓") for line in lines):
            not_graded[check.id] = "nothing of it can be checked after shortened training"
        else:
            references[check.id] = result.output
    return QuickPlan(exercise.name, references, not_graded, outcome.seconds)


def grade_submission(sub: Submission, exercise: Exercise, limits: Limits,
                     quick: QuickPlan | None = None) -> Graded:
    """Re-execute one readable submission with the instructor's checks and turn nbval's verdicts into rows.

    ``quick`` (from :func:`calibrate_quick`) switches to quick mode and says which checks to skip.
    """
    assert sub.notebook is not None
    skip = frozenset(quick.not_graded) if quick is not None else frozenset()
    graded = build_graded_copy(sub.notebook, exercise, skip=skip, references=quick.references if quick else None)
    outcome = run_graded_copy(graded, limits, quick=quick is not None)
    cell_ids = graded.code_cell_ids()
    check_ids = {c.id for c in exercise.checks}
    rows = []
    for check in exercise.checks:
        restored = graded.restored.get(check.id, "")
        if check.id in graded.skipped:
            reason = quick.not_graded[check.id] if quick is not None else ""
            rows.append(R.Row(sub.learner, exercise.name, sub.rel, check.id, R.NOT_GRADED_QUICK, 0, 0, 0, restored,
                              f"not graded in quick mode: {reason} (worth {check.points:g} in a full run)"))
            continue
        trouble = _earlier_trouble(cell_ids, outcome.cells, check.id, check_ids)
        status, message = _verdict(outcome.cells.get(check.id), outcome, limits, trouble)
        if restored:
            note = "check cell was deleted" if restored == "missing" else "check cell was edited"
            message = f"{note}; the original check was run" + (f"; {message}" if message else "")
        passed = status == R.PASSED
        rows.append(R.Row(sub.learner, exercise.name, sub.rel, check.id, status, int(passed),
                          check.points if passed else 0, check.points, restored, message))
    skipped = len(graded.skipped)
    note = f"graded in {outcome.seconds:.0f} s" + (f"; {skipped} check(s) not graded in quick mode" if skipped else "")
    trouble_note = _learner_trouble(cell_ids, outcome.cells, check_ids)
    note += f"; {trouble_note}" if trouble_note else ""
    return Graded(rows + [R.total_row(rows, message=note)], outcome.seconds)


def _map(function: Callable, items: list, jobs: int) -> list:  # type: ignore[type-arg]
    if jobs <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, items))


def grade_all(subs: list[Submission], exercises: dict[str, Exercise], limits: Limits, quick: bool = False,
              jobs: int = 1, progress: Callable[[Submission, Graded], None] | None = None,
              ) -> tuple[list[Graded], dict[str, QuickPlan]]:
    """Grade every submission (``jobs`` child processes at a time); results in input order.

    In quick mode each exercise that has submissions is calibrated first (one solution run each).
    """
    plans: dict[str, QuickPlan] = {}
    if quick:
        needed = sorted({s.exercise for s in subs if s.problem is None and s.exercise in exercises})
        plans = {p.exercise: p for p in _map(lambda name: calibrate_quick(exercises[name], limits), needed, jobs)}

    def one(sub: Submission) -> Graded:
        if sub.problem is not None or sub.exercise not in exercises:
            result = Graded(problem_rows(sub, exercises), 0.0)
        else:
            with progress_scope(sub.rel):  # names this run on the progress line (SANDBOX's hook)
                result = grade_submission(sub, exercises[sub.exercise], limits, plans.get(sub.exercise))
        if progress is not None:
            progress(sub, result)
        return result

    return _map(one, subs, jobs), plans
