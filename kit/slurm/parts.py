"""The merge job's work: check that every shard left a complete part, then merge them into the
class's reports, or else name exactly what is missing and why (never a silent partial grade)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kit.grade import rows as R
from kit.grade import run_record as RR
from kit.grade.errors import GradeUsageError
from kit.grade.report import GRADES_CSV, write_reports
from kit.grade.shard import merge
from kit.slurm.jobs import task_state
from kit.slurm.plan import MISSING_FILE, Plan, Shard

# What slurmstepd writes into a job's output when it ends it: time limit, preemption, cancel, OOM.
_STEPD = re.compile(r"slurmstepd: error: (\*\*\* .* \*\*\*|Detected \d+ oom.kill.*)")
# Slurm's states of a task it ended itself; its log may not say so yet when the merge job starts.
_ENDED_BY_SLURM = frozenset({"CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "OUT_OF_MEMORY", "DEADLINE",
                             "BOOT_FAIL"})


@dataclass(frozen=True)
class Missing:
    shard: Shard
    reason: str
    log: Path


def _why(plan: Plan, shard: Shard) -> str:
    """The reason a shard left no part, from its log: Slurm's own verdict, the grader's error, or
    the last line written."""
    log = plan.log(shard.index)
    if not log.is_file():
        return "never started (no log yet): still pending, or the array was cancelled before it ran"
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    attempt = max((i for i, line in enumerate(lines) if line.startswith("== shard ")), default=0)
    lines = lines[attempt:]  # the last attempt only (every attempt appends)
    for line in reversed(lines):
        match = _STEPD.search(line)
        if match:
            return f"ended by Slurm: {match.group(1)}"
    state = _slurm_state(plan, shard)
    if state in _ENDED_BY_SLURM:
        return f"ended by Slurm: {state}"
    for line in reversed(lines):
        if line.startswith("error:") or "Error" in line.split(":")[0]:
            return f"failed: {line}"
    return f"ended without a result (last log line: {lines[-1] if lines else 'none'})"


def _slurm_state(plan: Plan, shard: Shard) -> str | None:
    """The shard's state in its newest array job that Slurm still knows (``plan.jobs`` holds
    (array, merge) pairs, one per submission)."""
    for array_job in reversed(plan.jobs[::2]):
        state = task_state(array_job, shard.index)
        if state is not None:
            return state
    return None


def _complete(plan: Plan, shard: Shard) -> str | None:
    """None if the shard's part is there and is the shard planned; else why not."""
    part = plan.part(shard.index)
    if not (part / RR.RUN_FILE).is_file() or not (part / GRADES_CSV).is_file():
        return _why(plan, shard)
    try:
        run = RR.read(part) or {}
    except GradeUsageError as exc:
        return f"its part is unreadable: {exc}"
    if run.get(RR.SHARD) != f"{shard.index}/{plan.count}":
        return f"its part is shard {run.get(RR.SHARD)!r}, not {shard.index}/{plan.count}"
    graded = {row.submission for row in R.read_csv(part / GRADES_CSV)}
    if graded != set(shard.submissions):
        return (f"its part graded {len(graded)} submission(s), the plan has {len(shard.submissions)} "
                "(the submissions folder changed since `kit slurm submit`?)")
    return None


def missing(plan: Plan) -> list[Missing]:
    found = []
    for shard in plan.shards:
        reason = _complete(plan, shard)
        if reason is not None:
            found.append(Missing(shard, reason, plan.log(shard.index)))
    return found


def missing_text(plan: Plan, gaps: list[Missing]) -> str:
    lines = ["# Grading incomplete", "",
             f"{len(gaps)} of {plan.count} shard(s) left no result, so no {GRADES_CSV} was written.",
             f"Resubmit only these shards and merge again with:  kit slurm resubmit {plan.out}", ""]
    for gap in gaps:
        lines += [f"## Shard {gap.shard.index}/{plan.count}", "", f"- why: {gap.reason}", f"- log: {gap.log}",
                  f"- exercises: {', '.join(gap.shard.exercises)}",
                  f"- learners ({len(gap.shard.learners)}): {', '.join(gap.shard.learners)}",
                  f"- submissions: {', '.join(gap.shard.submissions)}", ""]
    return "\n".join(lines)


def merge_plan(plan: Plan) -> list[Missing]:
    """Merge every part into the output folder; with a part missing, write MISSING.md only."""
    gaps = missing(plan)
    report = plan.root / MISSING_FILE
    if gaps:
        report.write_text(missing_text(plan, gaps), encoding="utf-8")
        return gaps
    rows, settings = merge([plan.part(shard.index) for shard in plan.shards])
    settings[RR.SHARDS] = plan.count
    write_reports(rows, plan.root, settings)
    RR.write(plan.root, settings)
    report.unlink(missing_ok=True)
    return []
