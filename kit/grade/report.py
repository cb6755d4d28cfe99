"""The instructor's and the learners' reports, built from grades.csv rows only."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from helpers.checks.report import FAIL, PASS, SKIP
from kit.grade import rows as R
from kit.grade import run_record as RR

# The files and folder of every output folder (a run's, a merge's, a Slurm grading's).
GRADES_CSV = "grades.csv"
SUMMARY_FILE = "summary.md"
FEEDBACK_DIR = "feedback"

SYMBOL = {R.PASSED: PASS, R.NOT_GRADED_QUICK: SKIP}
# (exercise, check id) -> what the learner sees above the check; filled by the engine from the
# solutions, so that feedback names a check as the learner knows it (rows keep the id).
_TITLES: dict[tuple[str, str], str] = {}


# Beside grades.csv in every output folder: the titles its feedback used, so that merging shard
# folders (another process, maybe another machine) names the checks exactly as a whole run does.
TITLES_FILE = "titles.json"


def remember_titles(titles: dict[tuple[str, str], str]) -> None:
    """Titles for feedback (see :func:`kit.grade.verdicts.check_titles`)."""
    _TITLES.update(titles)


def _write_titles(rows: list[R.Row], out: Path) -> None:
    """``{exercise: {check: title}}`` for the checks in ``rows`` that have one."""
    used: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        title = _TITLES.get((row.exercise, row.check))
        if title:
            used[row.exercise][row.check] = title
    (out / TITLES_FILE).write_text(json.dumps(used, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read_titles(folder: Path) -> dict[tuple[str, str], str] | None:
    """The titles a grading run saved in ``folder`` (None: the folder has no titles file)."""
    path = folder / TITLES_FILE
    if not path.is_file():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(saved, dict) or not all(isinstance(v, dict) for v in saved.values()):
        raise ValueError(f"{path} is not a titles file ({{exercise: {{check: title}}}})")
    return {(exercise, check): str(title) for exercise, checks in saved.items() for check, title in checks.items()}


def _name(row: R.Row) -> str:
    title = _TITLES.get((row.exercise, row.check))
    return f"{title} (`{row.check}`)" if title else f"`{row.check}`"


def _fmt(value: float) -> str:
    return f"{value:g}"


def feedback_text(rows: list[R.Row]) -> str:
    """One learner's feedback: per submission, each check with ✓/✗, its hint and the total."""
    out = []
    by_sub: dict[str, list[R.Row]] = defaultdict(list)
    for row in rows:
        by_sub[row.submission].append(row)
    learner = rows[0].learner if rows else "?"
    out.append(f"# Feedback for {learner}\n")
    for sub, group in by_sub.items():
        total = next((r for r in group if r.is_total), None)
        out.append(f"## {group[0].exercise} ({sub})\n")
        for row in group:
            if row.is_total:
                continue
            if row.check == R.SUBMISSION_CHECK:
                out.append(f"- {FAIL} not graded ({row.status}): {row.message}")
                continue
            mark = SYMBOL.get(row.status, FAIL)
            if row.status == R.PASSED:
                detail = f" — {row.message}" if row.message else ""
            elif row.status == R.NOT_GRADED_QUICK:
                detail = f" — {row.message}"
            else:
                detail = f" — {row.status}: {row.message}" if row.message else f" — {row.status}"
            out.append(f"- {mark} {_name(row)} ({_fmt(row.points)}/{_fmt(row.max_points)}){detail}")
        if total is not None:
            out.append(f"\n**Total: {_fmt(total.points)} / {_fmt(total.max_points)} points** ({total.message})\n")
    return "\n".join(out) + "\n"


def _sandbox_line(sandbox: object) -> str:
    """Whether learner code ran sandboxed: an instructor reading the summary must see it."""
    if sandbox is True:
        return "Sandbox: on (one bubblewrap sandbox per submission)."
    if sandbox is False:
        return "Sandbox: **OFF** (--no-sandbox: learner code ran unisolated, as the grading user)."
    return "Sandbox: mixed or not recorded (parts merged from different runs)." if sandbox == RR.MIXED else \
        "Sandbox: not recorded."


def _limits_line(limits: dict[str, object]) -> str:
    """The per-submission limits a run used, and what its mode could not enforce."""
    if "tasks" not in limits:
        return f"Limits per submission: {limits.get(RR.LIMITS_MODE)}."
    missing = limits.get(RR.NOT_ENFORCED) or []
    return (f"Limits per submission ({limits.get(RR.LIMITS_MODE)}, {limits.get('source')}): "
            f"tasks {limits.get('tasks')}, memory {limits.get('memory_mb')} MB, CPU {limits.get('cpus')} core(s), "
            f"disk {limits.get('disk_mb')} MB "
            f"and {limits.get('files')} files, {limits.get('open_files')} open files."
            + (f" **Not enforced**: {'; '.join(map(str, missing))}." if isinstance(missing, list) and missing else ""))


def summary_text(rows: list[R.Row], settings: dict[str, object]) -> str:
    """Per-exercise pass rates (per check) and the spread of submission statuses."""
    totals = [r for r in rows if r.is_total]
    head = f"Mode: {settings.get(RR.MODE, '?')}. Submissions: {len(totals)}. {_sandbox_line(settings.get(RR.SANDBOX))}"
    lines = ["# Grading summary", "", head, ""]
    limits = settings.get(RR.LIMITS)
    if isinstance(limits, dict):
        lines += [_limits_line(limits), ""]
    problems = [r for r in rows if r.check == R.SUBMISSION_CHECK]
    if problems:
        lines += ["## Submissions that could not be graded", "", "| submission | learner | status | message |",
                  "|---|---|---|---|"]
        lines += [f"| {r.submission} | {r.learner} | {r.status} | {r.message.replace('|', '/')} |" for r in problems]
        lines.append("")
    checks = [r for r in rows if r.check not in (R.SUBMISSION_CHECK, R.TOTAL_CHECK)]
    for exercise in sorted({r.exercise for r in checks}):
        mine = [r for r in checks if r.exercise == exercise]
        subs = [t for t in totals if t.exercise == exercise and any(r.submission == t.submission for r in mine)]
        mean = sum(t.points for t in subs) / len(subs) if subs else 0
        top = max((t.max_points for t in subs), default=0)
        lines += [f"## {exercise}", "", f"{len(subs)} graded submissions, mean {mean:.2f} / {_fmt(top)} points.", "",
                  "| check | passed | graded | pass rate | other statuses |", "|---|---|---|---|---|"]
        for check in dict.fromkeys(r.check for r in mine):
            these = [r for r in mine if r.check == check]
            graded = [r for r in these if r.status != R.NOT_GRADED_QUICK]
            passed = sum(r.passed for r in graded)
            rate = f"{100 * passed / len(graded):.0f} %" if graded else "–"
            others: defaultdict[str, int] = defaultdict(int)
            for r in these:
                if r.status != R.PASSED:
                    others[r.status] += 1
            spread = ", ".join(f"{k} {v}" for k, v in sorted(others.items()))
            lines.append(f"| `{check}` | {passed} | {len(graded)} | {rate} | {spread} |")
        lines.append("")
    return "\n".join(lines)


def safe_name(learner: str) -> str:
    """A learner id as a file name (no folders, no surprises)."""
    return re.sub(r"[^\w.\-]+", "_", learner).strip("._") or "learner"


def write_reports(rows: list[R.Row], out: Path, settings: dict[str, object]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    R.write_csv(rows, out / GRADES_CSV)
    _write_titles(rows, out)
    (out / SUMMARY_FILE).write_text(summary_text(rows, settings), encoding="utf-8")
    feedback = out / FEEDBACK_DIR
    feedback.mkdir(exist_ok=True)
    for old in feedback.glob("*.md"):  # from an earlier run into the same folder
        old.unlink()
    by_learner: dict[str, list[R.Row]] = defaultdict(list)
    for row in rows:
        by_learner[row.learner].append(row)
    used: dict[str, str] = {}
    for learner, group in sorted(by_learner.items()):
        name = safe_name(learner)
        if name in used and used[name] != learner:
            name = f"{name}-{len(used)}"
        used[name] = learner
        (feedback / f"{name}.md").write_text(feedback_text(group), encoding="utf-8")
