"""Grading submissions into rows: one submission (build, run, interpret) and a parallel batch."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

from helpers.checks.report import FAIL, PASS
from helpers.training import COURSE_EPOCHS
from kit.grade import rows as R
from kit.grade import verdicts as V
from kit.grade.assemble import GradedCopy, build_graded_copy
from kit.grade.capture import DIFFERS, EXCEPTION, KERNEL_DIED, PASSED, TIMEOUT
from kit.grade.discover import Submission
from kit.grade.limits.usage import STOPPING, LimitHit
from kit.grade.messages import MAX_DETAIL, MAX_MESSAGE, clip
from kit.grade.progress import submission as progress_scope
from kit.grade.registry import NEEDS_TRAINING_TAG, Check, Exercise, stdout_of
from kit.grade.report import remember_titles
from kit.grade.run import QUICK_EPOCHS as RUN_QUICK_EPOCHS
from kit.grade.run import CellResult, Limits, RunOutcome, run_graded_copy

_T = TypeVar("_T")
_U = TypeVar("_U")

_LEARNER_TROUBLE = (EXCEPTION, TIMEOUT, KERNEL_DIED)
# Check statuses a stopping limit explains: the check did not run to its end. Passed and failed
# checks ran to their end (before the limit, or unaffected by it) and keep their verdict.
_LIMIT_EXPLAINS = (R.ERROR, R.TIMEOUT, R.KERNEL_DIED, R.GRADER_ERROR)


@dataclass(frozen=True)
class Graded:
    rows: list[R.Row]
    seconds: float


def _failed_lines(output: str, reference: str = "") -> str:
    """The ✗ lines (each carries its hint); otherwise the first line that differs from what the
    solution prints, and what the solution prints there."""
    lines = [clip(line.strip(), 200) for line in output.splitlines() if line.strip().startswith(FAIL)]
    if lines:
        return clip("; ".join(lines), MAX_MESSAGE)
    got = [line.strip() for line in output.splitlines() if line.strip()]
    want = [line.strip() for line in reference.splitlines() if line.strip()]
    if not got:
        return "printed nothing" + (f"; the solution prints {clip(want[0], 120)!r}" if want else "")
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
    if at < len(got) and at < len(want):
        return clip(f"printed {clip(got[at], 160)!r} where the solution prints {clip(want[at], 160)!r}", MAX_MESSAGE)
    if at < len(want):
        return clip(f"stopped before {clip(want[at], 160)!r} (the solution prints {len(want)} lines, this "
                    f"check {len(got)})", MAX_MESSAGE)
    return clip(f"printed more than the solution: {clip(got[at], 160)!r}", MAX_MESSAGE)


def _learner_trouble(cell_ids: list[str], results: dict[str, CellResult], checks: set[str]) -> str:
    """Learner cells that raised, timed out or stopped the kernel, for the total row."""
    notes = []
    for cell_id in cell_ids:
        result = results.get(cell_id)
        if cell_id in checks or result is None or result.kind not in _LEARNER_TROUBLE:
            continue
        what = result.error.split(":")[0] if result.kind == EXCEPTION and result.error else result.kind
        notes.append(f"{cell_id} ({what})")
        if result.kind == KERNEL_DIED:
            break  # the cells after it only found a dead kernel
    return clip("cells with problems: " + ", ".join(notes), MAX_DETAIL) if notes else ""


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
    died = [t for t in trouble if t.kind == KERNEL_DIED]
    if died:
        return died[0]  # the cells after it only found a dead kernel
    causes = [t for t in trouble if not t.error.startswith("NameError")]
    return causes[-1] if causes else (trouble[0] if trouble else None)


def _context(trouble: CellResult | None, limits: Limits) -> str:
    """`` (earlier, cell 'x' raised ...)``: the learner cell most likely behind a check's failure."""
    if trouble is None:
        return ""
    what = {EXCEPTION: f"raised {trouble.error}" if trouble.error else "raised an exception",
            TIMEOUT: f"ran longer than {limits.cell_timeout:g} s", KERNEL_DIED: "stopped the kernel"}
    return f" (earlier, cell {trouble.cell_id!r} {what[trouble.kind]})"


def _verdict(result: CellResult | None, outcome: RunOutcome, limits: Limits,
             trouble: CellResult | None, reference: str = "") -> tuple[str, str]:
    if outcome.killed:
        return R.TIMEOUT, f"the notebook was stopped after the {limits.submission_timeout:g} s limit per submission"
    if result is None:
        last = outcome.stderr_tail.strip().splitlines()[-1:] or ["no output"]
        return R.GRADER_ERROR, f"the grading process left no result for this check ({last[0][:200]})"
    context = _context(trouble, limits)
    if result.kind == PASSED:
        return R.PASSED, ""
    if result.kind == DIFFERS:  # the ✗ lines carry their own hints
        return R.FAILED, _failed_lines(result.output, reference)
    if result.kind == EXCEPTION:
        error = result.output.strip().splitlines()[-1:] or ["an exception"]
        return R.ERROR, clip(f"the check raised {error[0]}", MAX_DETAIL) + context
    if result.kind == TIMEOUT:
        if trouble is not None and trouble.kind == TIMEOUT:
            return R.TIMEOUT, f"not run: cell {trouble.cell_id!r} ran longer than {limits.cell_timeout:g} s"
        return R.TIMEOUT, f"the check ran longer than {limits.cell_timeout:g} s" + context
    if result.kind == KERNEL_DIED:
        where = f"cell {trouble.cell_id!r}" if trouble is not None and trouble.kind == KERNEL_DIED else "a cell"
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
class GradingPlan:
    """One exercise's plan for a grading run, in quick or full mode (``quick``).

    ``references``: the solution's own quick-mode output of each check graded by printed output
    (quick mode only); ``not_graded``: checks that cannot be graded in this mode, with why;
    ``evidence``: the judged checks, the probe seed and the instructor's keys."""

    exercise: str
    references: dict[str, str]
    not_graded: dict[str, str]
    seconds: float
    evidence: V.EvidencePlan | None = None
    quick: bool = True


REFERENCE_OUTPUT = 10_000_000  # characters of check output kept when recording references


def _quick_length() -> int:
    return RUN_QUICK_EPOCHS


def _run(graded: GradedCopy, limits: Limits, quick: bool, max_output: int | None = None) -> RunOutcome:
    """One run of a graded copy; quiz answer hashes and the hints' answers are masked inside it."""
    return run_graded_copy(graded, limits, quick=quick, max_output=max_output, masks=V.masks())


def prepare(exercise: Exercise, limits: Limits, quick: bool, seed: int | None = None) -> GradingPlan:
    """Run the solution itself once (in quick mode: trainings are short) and plan the exercise.

    Judged checks (see :mod:`kit.grade.verdicts`) take the instructor's key from the
    solution's evidence; in quick mode a judged check the solution fails, or a check graded by
    output that the solution does not pass or that has no ✓ line left, is not graded. In full
    mode the solution is run only when a judged check needs its key.
    """
    plan = V.EvidencePlan(judged=V.judged_checks(exercise), seed=V.new_probe_seed() if seed is None else seed)
    needs_run = quick or any(set(names) & V.NEEDS_KEY for names in plan.judged.values())
    not_graded = {c.id: f"tagged {NEEDS_TRAINING_TAG}" for c in exercise.checks if quick and c.needs_training}
    if not needs_run:
        return GradingPlan(exercise.name, {}, not_graded, 0.0, plan, quick=False)
    graded = build_graded_copy(exercise.notebook, exercise, skip=frozenset(not_graded), evidence=plan.cells(exercise))
    outcome = _run(graded, limits, quick=True, max_output=REFERENCE_OUTPUT)
    plan.keys, missing = V.keys_from_reference(exercise, outcome.evidence)
    references = {}
    for check in exercise.checks:
        if check.id in not_graded:
            continue
        if check.id in plan.judged:
            verdict = V.judge_evidence(check, plan.judged[check.id], outcome.evidence,
                                       plan.context(check.id, _quick_length()))
            if check.id in missing:
                not_graded[check.id] = missing[check.id]
            elif quick and (verdict is None or verdict.status != R.PASSED):
                why = "no evidence" if verdict is None else verdict.message or verdict.status
                not_graded[check.id] = clip(f"the solution itself does not pass it in quick mode ({why})", MAX_DETAIL)
            continue
        if not quick:
            continue
        result = outcome.cells.get(check.id)
        lines = [line.strip() for line in result.output.splitlines()] if result is not None else []
        if result is None or result.kind not in (PASSED, DIFFERS):
            kind = result.kind if result else "no result"
            not_graded[check.id] = f"the solution does not run it in quick mode ({kind})"
        elif any(line.startswith(FAIL) for line in lines):
            not_graded[check.id] = "the solution itself fails it in quick mode"
        elif not any(line.startswith(PASS) for line in lines):
            not_graded[check.id] = "nothing of it can be checked after shortened training"
        else:
            references[check.id] = result.output
    return GradingPlan(exercise.name, references, not_graded, outcome.seconds, plan, quick=quick)


def _hand_set_note(epochs: set[int], quick: bool) -> str:
    """Feedback for a notebook that sets its epoch count by hand instead of course_epochs(...)."""
    allowed = {COURSE_EPOCHS} | ({_quick_length()} if quick else set())
    odd = sorted(e for e in epochs if e not in allowed)
    if not odd:
        return ""
    note = (f"num_epochs is set by hand ({', '.join(map(str, odd))}) instead of num_epochs = "
            f"course_epochs({COURSE_EPOCHS}); the schedule checks judged the course length {COURSE_EPOCHS} "
            "and the probe lengths")
    return note + (f", and quick mode capped the trainings at {_quick_length()} epochs" if quick else "")


def _judged_row(sub: Submission, exercise: Exercise, check: Check, plan: GradingPlan, outcome: RunOutcome,
                limits: Limits, trouble: CellResult | None, restored: str) -> tuple[R.Row, V.Verdict | None]:
    assert plan.evidence is not None
    context = plan.evidence.context(check.id, _quick_length() if plan.quick else None)
    verdict = V.judge_evidence(check, plan.evidence.judged[check.id], outcome.evidence, context)
    if verdict is not None:
        status, message = verdict.status, verdict.message
        if status == R.ERROR:  # e.g. a NameError: name the earlier cell that left the name undefined
            message = clip(message + _context(trouble, limits), 400)
    else:
        result = outcome.cells.get(check.id)
        status, message = _verdict(result, outcome, limits, trouble)
        if status in (R.PASSED, R.FAILED):  # the cell ran, yet no usable evidence
            status, message = R.FAILED, clip("no usable evidence was written for this check (its cell ran, but a "
                                             "learner cell may have replaced or broken the kit's evidence writer)"
                                             + _context(trouble, limits), MAX_DETAIL)
    if restored:
        note = "check cell was deleted" if restored == "missing" else "check cell was edited"
        message = f"{note}; the original check was run" + (f"; {message}" if message else "")
    passed = status == R.PASSED
    fraction = 1.0 if passed else (verdict.fraction if verdict is not None else 0.0)
    points = round(check.points * fraction, 4)
    return R.Row(sub.learner, exercise.name, sub.rel, check.id, status, int(passed), points, check.points,
                 restored, message), verdict


def grade_submission(sub: Submission, exercise: Exercise, limits: Limits,
                     plan: GradingPlan | None = None) -> Graded:
    """Re-execute one readable submission and turn its evidence (judged checks) and nbval's
    results (checks graded by output) into rows.

    ``plan`` is the exercise's plan (from :func:`prepare`); a plan made in quick mode switches
    to quick mode. Without a plan, one is made for full mode.
    """
    assert sub.notebook is not None
    plan = plan if plan is not None else prepare(exercise, limits, quick=False)
    in_quick = plan.quick
    skip = frozenset(c for c in plan.not_graded if plan.evidence is None or c not in plan.evidence.judged)
    evidence = plan.evidence.cells(exercise) if plan.evidence is not None else {}
    graded = build_graded_copy(sub.notebook, exercise, skip=skip, references=plan.references if in_quick else None,
                               evidence=evidence)
    outcome = _run(graded, limits, quick=in_quick)
    cell_ids = graded.code_cell_ids()
    check_ids = {c.id for c in exercise.checks}
    rows = []
    epochs: set[int] = set()
    for check in exercise.checks:
        restored = graded.restored.get(check.id, "")
        if check.id in plan.not_graded:
            reason = plan.not_graded[check.id]
            rows.append(R.Row(sub.learner, exercise.name, sub.rel, check.id, R.NOT_GRADED_QUICK, 0, 0, 0, restored,
                              f"not graded in quick mode: {reason} (worth {check.points:g} in a full run)"))
            continue
        trouble = _earlier_trouble(cell_ids, outcome.cells, check.id, check_ids)
        if check.id in evidence:
            row, verdict = _judged_row(sub, exercise, check, plan, outcome, limits, trouble, restored)
            epochs |= set(verdict.learner_epochs) if verdict is not None else set()
            rows.append(row)
            continue
        reference = plan.references[check.id] if in_quick and check.id in plan.references else stdout_of(check.cell)
        status, message = _verdict(outcome.cells.get(check.id), outcome, limits, trouble, reference)
        if restored:
            note = "check cell was deleted" if restored == "missing" else "check cell was edited"
            message = f"{note}; the original check was run" + (f"; {message}" if message else "")
        passed = status == R.PASSED
        rows.append(R.Row(sub.learner, exercise.name, sub.rel, check.id, status, int(passed),
                          check.points if passed else 0, check.points, restored, message))
    rows = _limit_rows(rows, outcome.limit_hits)
    skipped = sum(r.status == R.NOT_GRADED_QUICK for r in rows)
    note = f"graded in {outcome.seconds:.0f} s" + (f"; {skipped} check(s) not graded in quick mode" if skipped else "")
    hand_set = _hand_set_note(epochs, in_quick)
    note += f"; {hand_set}" if hand_set else ""
    trouble_note = _learner_trouble(cell_ids, outcome.cells, check_ids)
    note += f"; {trouble_note}" if trouble_note else ""
    # Only limits that stop code are named: whether the CPU quota throttled a submission depends on
    # what else the machine ran, and a grade's text must not.
    note += "".join(f"; reached the {hit.text}" for hit in outcome.limit_hits if hit.limit in STOPPING)
    note += f"; limits not in effect: {', '.join(outcome.not_in_effect)}" if outcome.not_in_effect else ""
    return Graded([*rows, R.total_row(rows, message=note)], outcome.seconds)


def _limit_rows(rows: list[R.Row], limit_hits: tuple[LimitHit, ...]) -> list[R.Row]:
    """Checks that did not run to their end while the submission was at a stopping limit become
    ``resource-limit`` rows naming the limit, its value and what the submission reached."""
    stopping = [hit for hit in limit_hits if hit.limit in STOPPING]
    if not stopping:
        return rows
    named = "; ".join(f"stopped by the {hit.text}" for hit in stopping)
    return [replace(row, status=R.RESOURCE_LIMIT,
                    message=clip(f"{named} (was: {row.status}: {row.message})", MAX_MESSAGE))
            if row.status in _LIMIT_EXPLAINS else row for row in rows]


def _map(function: Callable[[_T], _U], items: list[_T], jobs: int) -> list[_U]:
    if jobs <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, items))


def grade_all(subs: list[Submission], exercises: dict[str, Exercise], limits: Limits, quick: bool = False,
              jobs: int = 1, progress: Callable[[Submission, Graded], None] | None = None,
              probe_seed: int | None = None) -> tuple[list[Graded], dict[str, GradingPlan]]:
    """Grade every submission (``jobs`` child processes at a time); results in input order.

    Each exercise that has submissions is planned first (:func:`prepare`: in quick mode, or when
    a judged check needs the instructor's key, one solution run each). ``probe_seed`` fixes the
    probe lengths (drawn at random per run otherwise; the plans keep the seed).
    """
    needed = sorted({s.exercise for s in subs if s.problem is None and s.exercise in exercises})
    plans = {p.exercise: p for p in _map(lambda name: prepare(exercises[name], limits, quick, probe_seed), needed,
                                         jobs)}
    remember_titles({(name, check): title for name in exercises for check,
                     title in V.check_titles(exercises[name]).items()})

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
