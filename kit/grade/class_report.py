"""The class report: one self-contained HTML file (no server, no script, no network) built from
grades.csv rows and the run's settings, meant to be looked at rather than read: score
distributions, each check's pass rate and weight, the class's most frequent ✗ hints with how many
learners got each, the files that could not be graded and why, and how the run was made.

Charts are plain HTML/CSS bars, so the file renders the same in any browser and in print.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from helpers.checks.report import FAIL
from kit.grade import rows as R
from kit.grade import run_record as RR

FILE_NAME = "class_report.html"
BINS = 10  # score distribution in tenths of the maximum
TOP_MISTAKES = 15
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2rem auto;
max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid #d0d7de}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}.muted{color:#57606a}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{padding:.3rem .5rem;border-bottom:1px solid #d8dee4;
text-align:left;vertical-align:top}th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
.rate{display:flex;align-items:center;gap:.5rem}.rate .bar{flex:1}.rate span{min-width:3rem;text-align:right}
.bar{background:#eaeef2;height:1.05rem;border-radius:3px;min-width:8rem;position:relative}
.bar>span{display:block;height:100%;border-radius:3px;background:#2f81f7}
.bar.pass>span{background:#1a7f37}.bar.low>span{background:#cf222e}
.hist{display:flex;align-items:flex-end;gap:4px;height:9rem;border-bottom:1px solid #8c959f;padding-top:.5rem}
.hist div{flex:1;background:#2f81f7;position:relative;min-height:1px}
.hist div b{position:absolute;top:-1.2rem;width:100%;text-align:center;font-size:.8rem;font-weight:600}
.axis{display:flex;gap:4px;font-size:.75rem;color:#57606a}.axis span{flex:1;text-align:center}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem}
.card b{display:block;font-size:1.3rem}
code{background:#f6f8fa;padding:0 .2rem;border-radius:3px;overflow-wrap:break-word}
td{overflow-wrap:break-word}.axis span{overflow:hidden;white-space:nowrap}
@media (max-width:700px){body{margin:1rem auto;font-size:13px}.bar{min-width:3rem}.axis{font-size:.6rem}
table{display:block;overflow-x:auto}}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}table,.hist{break-inside:avoid}
.bar>span,.hist div{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


@dataclass(frozen=True)
class ClassInfo:
    """What the report adds from outside grades.csv: display names, late flags, LMS notes."""

    names: Mapping[str, str]
    late: frozenset[str] = frozenset()
    points: float | None = None  # the LMS assignment's points (--points)
    skipped: tuple[tuple[str, str], ...] = ()  # download entries not graded: (name, reason)
    lms: str = ""


def _e(value: object) -> str:
    return html.escape(str(value))


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value - round(value)) > 1e-9 else f"{value:g}"


def _bar(fraction: float, label: str) -> str:
    kind = "pass" if fraction >= 0.7 else "low" if fraction < 0.4 else ""
    return (f'<div class="bar {kind}" role="img" aria-label="{_e(label)}">'
            f'<span style="width:{100 * fraction:.1f}%"></span></div>')


def _rate(fraction: float) -> str:
    percent = f"{100 * fraction:.0f} %"
    return f'<div class="rate">{_bar(fraction, f"{percent} passed")}<span>{percent}</span></div>'


def _histogram(fractions: list[float]) -> str:
    counts = [0] * BINS
    for f in fractions:
        counts[min(BINS - 1, int(f * BINS))] += 1
    top = max(counts, default=0) or 1
    bars = "".join(f'<div style="height:{100 * c / top:.1f}%" title="{c} learner(s)"><b>{c or ""}</b></div>'
                   for c in counts)
    axis = "".join(f"<span>{100 * i // BINS}–{100 * (i + 1) // BINS} %</span>" for i in range(BINS))
    return f'<div class="hist">{bars}</div><div class="axis">{axis}</div>'


def _checks_table(rows: list[R.Row], total_max: float, points: float | None) -> str:
    head = "<tr><th>check</th><th>weight</th>" + ("<th>LMS points</th>" if points else "") + \
           "<th>passed / graded</th><th style='width:30%'>pass rate</th><th>other statuses</th></tr>"
    body = []
    for check in dict.fromkeys(r.check for r in rows):
        these = [r for r in rows if r.check == check]
        graded = [r for r in these if r.status != R.NOT_GRADED_QUICK]
        passed = sum(r.passed for r in graded)
        weight = max(r.max_points for r in these)
        rate = passed / len(graded) if graded else 0.0
        others = Counter(r.status for r in these if r.status != R.PASSED)
        lms = f"<td class='num'>{_fmt(weight * points / total_max) if total_max else '–'}</td>" if points else ""
        body.append(f"<tr><td><code>{_e(check)}</code></td><td class='num'>{_fmt(weight)}</td>{lms}"
                    f"<td class='num'>{passed} / {len(graded)}</td>"
                    f"<td>{_rate(rate) if graded else 'not graded'}</td>"
                    f"<td>{_e(', '.join(f'{k} {v}' for k, v in sorted(others.items())))}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _exercise_section(exercise: str, rows: list[R.Row], info: ClassInfo) -> str:
    totals = [r for r in rows if r.is_total and r.exercise == exercise]
    checks = [r for r in rows if r.exercise == exercise and r.check not in (R.SUBMISSION_CHECK, R.TOTAL_CHECK)]
    graded = {r.submission for r in checks}
    scored = [t for t in totals if t.submission in graded and t.max_points]
    fractions = sorted(t.points / t.max_points for t in scored)
    top = max((t.max_points for t in scored), default=0.0)
    median = fractions[len(fractions) // 2] if fractions else 0.0
    mean = sum(fractions) / len(fractions) if fractions else 0.0
    scale = f" = {_fmt(info.points)} LMS points" if info.points else ""
    cards = (f'<div class="cards"><div class="card"><b>{len(scored)}</b>graded submissions</div>'
             f'<div class="card"><b>{100 * mean:.0f} %</b>mean score</div>'
             f'<div class="card"><b>{100 * median:.0f} %</b>median score</div>'
             f'<div class="card"><b>{_fmt(top)}</b>points available{_e(scale)}</div></div>')
    return (f"<h2>{_e(exercise)}</h2>{cards}<h3>Score distribution (share of the maximum)</h3>"
            f"{_histogram(fractions)}<h3>Checks: weight and pass rate</h3>{_checks_table(checks, top, info.points)}")


def frequent_mistakes(rows: list[R.Row]) -> list[tuple[str, str, str, int]]:
    """(exercise, check, ✗ line, learners) for the most frequent ✗ hints, most learners first."""
    learners: defaultdict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.status != R.FAILED:
            continue
        for line in row.message.splitlines():
            text = line.strip()
            if text.startswith(FAIL):
                learners[(row.exercise, row.check, text)].add(row.learner)
    ranked = sorted(learners.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(ex, check, text, len(who)) for (ex, check, text), who in ranked[:TOP_MISTAKES]]


def _mistakes_section(rows: list[R.Row]) -> str:
    found = frequent_mistakes(rows)
    if not found:
        return f"<h2>Most frequent mistakes</h2><p class='muted'>No check printed a {FAIL} hint.</p>"
    top = found[0][3]
    body = "".join(f"<tr><td>{_e(text)}</td><td><code>{_e(check)}</code> <span class='muted'>{_e(ex)}</span></td>"
                   f"<td class='num'>{n}</td><td style='width:20%'>{_bar(n / top, f'{n} learners')}</td></tr>"
                   for ex, check, text, n in found)
    return (f"<h2>Most frequent mistakes</h2><p class='muted'>Each {FAIL} hint as the learners saw it, counted once "
            "per learner.</p><table><tr><th>hint</th><th>check</th><th>learners</th><th></th></tr>"
            f"{body}</table>")


def _problems_section(rows: list[R.Row], info: ClassInfo) -> str:
    problems = [r for r in rows if r.check == R.SUBMISSION_CHECK]
    out = ["<h2>Could not be graded</h2>"]
    if not problems and not info.skipped:
        return out[0] + "<p class='muted'>Every file found was graded.</p>"
    if problems:
        out.append("<table><tr><th>learner</th><th>file</th><th>status</th><th>why</th></tr>")
        out += [f"<tr><td>{_e(info.names.get(r.learner, r.learner))}<br><span class='muted'>{_e(r.learner)}</span>"
                f"</td><td><code>{_e(r.submission)}</code></td><td>{_e(r.status)}</td><td>{_e(r.message)}</td></tr>"
                for r in problems]
        out.append("</table>")
    if info.skipped:
        out.append("<h3>Files of the download that are not notebooks or were refused</h3><table>"
                   "<tr><th>entry</th><th>reason</th></tr>")
        out += [f"<tr><td><code>{_e(name)}</code></td><td>{_e(why)}</td></tr>" for name, why in info.skipped]
        out.append("</table>")
    return "".join(out)


def _learners_section(rows: list[R.Row], info: ClassInfo) -> str:
    """Every learner's total per file, with the LMS name and late flag (names collide: the id tells)."""
    totals = sorted((r for r in rows if r.is_total), key=lambda r: (info.names.get(r.learner, r.learner), r.learner))
    if not totals:
        return ""
    lms = "<th>LMS points</th>" if info.points else ""
    body = []
    for t in totals:
        share = t.points / t.max_points if t.max_points else 0.0
        late = "late" if t.learner in info.late else ""
        scaled = f"<td class='num'>{_fmt(share * info.points)}</td>" if info.points else ""
        body.append(f"<tr><td>{_e(info.names.get(t.learner, t.learner))}</td><td><code>{_e(t.learner)}</code></td>"
                    f"<td>{late}</td><td><code>{_e(t.submission)}</code></td>"
                    f"<td class='num'>{_fmt(t.points)} / {_fmt(t.max_points)}</td>{scaled}</tr>")
    return ("<h2>Learners</h2><table><tr><th>name</th><th>id</th><th></th><th>file</th><th>points</th>"
            f"{lms}</tr>{''.join(body)}</table>")


def _settings_section(settings: Mapping[str, object], info: ClassInfo) -> str:
    sandbox = settings.get(RR.SANDBOX)
    shown = {"mode": settings.get(RR.MODE, "?"),
             "sandbox": "on (bubblewrap)" if sandbox is True else "OFF (--no-sandbox)" if sandbox is False else sandbox,
             "probe seeds": settings.get(RR.PROBE_SEEDS, {}), "jobs": settings.get(RR.JOBS, "?"),
             "submissions": settings.get(RR.SUBMISSIONS, "?"), "seconds": settings.get(RR.SECONDS, "?"),
             "not graded in quick mode": settings.get(RR.NOT_GRADED_IN_QUICK_MODE, {}),
             "LMS": info.lms or "none (folder)", "LMS points": info.points or "not scaled",
             "late learners": len(info.late)}
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in shown.items())
    return f"<h2>How this run was made</h2><table>{body}</table>"


def render(rows: list[R.Row], settings: Mapping[str, object], info: ClassInfo) -> str:
    exercises = sorted({r.exercise for r in rows if r.check not in (R.SUBMISSION_CHECK, R.TOTAL_CHECK)})
    learners = {r.learner for r in rows}
    intro = (f"<h1>Class report</h1><p class='muted'>{len(learners)} learner(s), "
             f"{sum(r.is_total for r in rows)} file(s), mode {_e(settings.get(RR.MODE, '?'))}.</p>")
    parts = [intro]
    parts += [_exercise_section(ex, rows, info) for ex in exercises]
    parts += [_mistakes_section(rows), _problems_section(rows, info), _learners_section(rows, info),
              _settings_section(settings, info)]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class report</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{_CSS}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def write(out: Path, rows: list[R.Row], settings: Mapping[str, object], info: ClassInfo | None = None) -> Path:
    path = out / FILE_NAME
    path.write_text(render(rows, settings, info or ClassInfo(names={})), encoding="utf-8")
    return path
