"""Verdicts from evidence: the grader's side of a judged check.

A check cell made only of calls to registered checks (``helpers.checks.registry``) is
*judged*: in the graded copy it is replaced by an evidence cell that only collects plain data in
the learner's kernel (:mod:`helpers.evidence`), and its verdict is computed here, in the grader's
process, by the ``judge`` of the same check object the learner calls. Learner code is never
imported or run here: evidence is JSON, ``.npy`` (no pickles) and ``.pt`` loaded with
``weights_only=True``. Whatever the learner's kernel did to the kit's objects, only the values
it wrote count, judged at lengths and tables drawn for this run.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helpers
from helpers import hints
from helpers.checks.check import Check as JudgedCheck
from helpers.checks.context import JudgeContext, draw_probes
from helpers.checks.registry import JUDGED
from helpers.checks.report import CheckReport, Criterion
from helpers.evidence import EvidenceError, has_record, load_record
from helpers.evidence_codec import check_field, from_record
from kit.grade import rows as R
from kit.grade.messages import MAX_DETAIL, MAX_MESSAGE, clip
from kit.grade.registry import Check, Exercise, strip_nbval_markers
from kit.notebooks import IGNORE_OUTPUT, marker_line

PARTIAL = {name for name, check in JUDGED.items() if check.partial}
NEEDS_KEY = {name for name, check in JUDGED.items() if check.needs_key}


def check_source(check: Check) -> str:
    """The check cell's code without nbval markers."""
    return strip_nbval_markers("".join(check.cell.source))


def judged_calls(check: Check) -> list[str] | None:
    """The check functions a judged check cell calls, in order; None for a cell graded by output."""
    try:
        body = ast.parse(check_source(check)).body
    except SyntaxError:
        return None
    names = []
    for statement in body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.func.id not in JUDGED:
            return None
        names.append(call.func.id)
    return names or None


def trusted_arguments(check: Check) -> list[dict[str, Any]]:
    """Per call, the arguments the instructor's check source fixes: literal keyword values, and
    the collector's defaults for parameters the call leaves out (e.g. the accuracy threshold).
    They override what the evidence claims, so forged evidence cannot lower a bar."""
    import inspect

    fixed = []
    for statement in ast.parse(check_source(check)).body:
        assert isinstance(statement, ast.Expr)  # judged_calls checked the shape
        call = statement.value
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
        signature = inspect.signature(JUDGED[call.func.id].collect)
        params = [p for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("probes", "seed",
                      "namespace")]
        given = {p.name for p in params[: len(call.args)]} | {k.arg for k in call.keywords if k.arg}
        # A None default means "the collector finds it out" (e.g. the model's own num_epochs): nothing to fix.
        values = {p.name: p.default for p in params if p.name not in given and p.default not in (p.empty, None)}
        for keyword in call.keywords:
            try:
                values[str(keyword.arg)] = ast.literal_eval(keyword.value)
            except ValueError:
                continue
        fixed.append(values)
    return fixed


def judged_checks(exercise: Exercise) -> dict[str, list[str]]:
    return {c.id: names for c in exercise.checks if (names := judged_calls(c)) is not None}


def evidence_cell_source(check: Check, options: Mapping[str, Any]) -> str:
    """The cell that replaces a judged check in the graded copy: it collects, never judges."""
    return (
        f"{marker_line(IGNORE_OUTPUT)}\n"
        "import helpers.evidence as _kit_evidence\n"
        f"_kit_evidence.record_cell({check.id!r}, {check_source(check)!r}, globals(), {dict(options)!r})\n"
    )


def new_probe_seed() -> int:
    return secrets.randbelow(2**31)


def collect_options(seed: int) -> dict[str, Any]:
    """What every collector is given: the probe lengths drawn for this run."""
    return {"probes": list(draw_probes(seed)), "seed": seed}


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Verdict:
    """A judged check's row fields; ``fraction`` of the points for checks judged per criterion."""

    status: str
    message: str
    fraction: float = 0.0
    learner_epochs: tuple[int, ...] = ()


def _failed_lines(reports: list[CheckReport]) -> str:
    """The criteria's own ✗ lines; failures sharing one hint (e.g. an unfilled blank) share a line."""
    groups: list[tuple[list[str], str]] = []
    for c in (c for report in reports for c in report.failed()):
        if groups and groups[-1][1] == c.hint:
            groups[-1][0].append(c.name)
        else:
            groups.append(([c.name], c.hint))
    lines = [clip(Criterion(", ".join(names), False, hint).line(), 480) for names, hint in groups]
    return clip("; ".join(lines), MAX_MESSAGE)


def _epochs_of(evidence: object) -> list[int]:
    value = getattr(evidence, "num_epochs", None)
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def _loaded(kind: type, value: object) -> object:
    """A side file the loader already read and checked (arrays, state dicts); anything else is forged."""
    if isinstance(value, kind):
        return value
    raise EvidenceError(f"a {kind.__name__} must come from its own evidence file")


def _typed(check: JudgedCheck[Any], call: Mapping[str, Any], fixed: Mapping[str, Any]) -> object:
    """The call's evidence as the check's own Evidence class (validated field by field), with the
    instructor's fixed arguments in place of what the evidence claims."""
    cls = check.evidence
    evidence = from_record(cls, call, _loaded)
    names = {f.name for f in dataclasses.fields(cls)}
    return dataclasses.replace(evidence, **{k: check_field(cls, k, v) for k, v in fixed.items() if k in names})


def judge_evidence(check: Check, names: list[str], files: Mapping[str, bytes],
                   context: JudgeContext) -> Verdict | None:
    """The verdict from this check's evidence; None when there is no usable evidence (the caller
    then explains with what happened to the cell). Never raises on bad evidence."""
    try:
        calls = load_record(files, check.id)
    except EvidenceError as exc:
        if not has_record(files, check.id):
            return None
        return Verdict(R.FAILED, clip(f"the evidence for this check is unusable: {exc}", MAX_DETAIL))
    if [c.get("function") for c in calls] != names:
        return Verdict(R.FAILED, "the evidence recorded for this check does not match the check's calls")
    reports: list[CheckReport] = []
    epochs: list[int] = []
    for name, call, fixed in zip(names, calls, trusted_arguments(check), strict=True):
        if "raised" in call:
            return Verdict(R.ERROR, clip(f"the check raised {call['raised']}", MAX_DETAIL))
        try:
            data = _typed(JUDGED[name], call, fixed)
        except EvidenceError as exc:
            return Verdict(R.FAILED, clip(f"the evidence for this check is unusable: {exc}", MAX_DETAIL))
        epochs += _epochs_of(data)
        try:
            reports.append(JUDGED[name].judge(data, context))
        except Exception as exc:  # noqa: BLE001 - garbled or forged evidence fails, never crashes
            return Verdict(R.FAILED, clip(f"the evidence for this check cannot be judged ({type(exc).__name__}: "
                                          f"{exc})", MAX_DETAIL))
    checked = [c for r in reports for c in r.criteria if c.passed is not None]
    right = sum(bool(c.passed) for c in checked)
    if all(r.passed for r in reports):
        if not checked:
            return Verdict(R.FAILED, "nothing of this check could be judged", 0.0, tuple(epochs))
        return Verdict(R.PASSED, "", 1.0, tuple(epochs))
    fraction = right / len(checked) if checked and set(names) <= PARTIAL else 0.0
    message = _failed_lines(reports)
    if set(names) <= PARTIAL:
        message = clip(f"{right}/{len(checked)} right; {message}", MAX_MESSAGE)
    return Verdict(R.FAILED, message, fraction, tuple(epochs))


# --------------------------------------------------------------------------- the instructor's key


def keys_from_reference(exercise: Exercise, files: Mapping[str, bytes]) -> tuple[dict[str, dict[str, Any]],
    dict[str, str]]:
    """Per judged check that needs one, the instructor's key from the solution's own evidence;
    and the checks for which the solution's evidence gives none (with why)."""
    from helpers.checks.quiz_answers import key_from

    keys: dict[str, dict[str, Any]] = {}
    missing: dict[str, str] = {}
    for check_id, names in judged_checks(exercise).items():
        if not set(names) & NEEDS_KEY:
            continue
        try:
            calls = load_record(files, check_id)
            keys[check_id] = key_from(_typed(JUDGED[names[0]], calls[0], {}))
        except (EvidenceError, KeyError, IndexError, TypeError, ValueError) as exc:
            missing[check_id] = f"the solution's run gave no key ({exc})"
    return keys, missing


# --------------------------------------------------------------------------- masks


def kit_path(path: Path) -> str:
    """A file of the ``helpers`` package as a mask names it (kit-relative: ``helpers/quiz_data/x.json``)."""
    return path.relative_to(Path(helpers.__file__).parent.parent).as_posix()


def quiz_masks(seed: int | None = None) -> dict[str, bytes]:
    """Quiz files as the learner's code sees them in grading: every answer hash replaced by a
    decoy (a valid hash of a random option or number), so no key can be recovered from them."""
    from helpers import quiz

    rng = __import__("random").Random(seed if seed is not None else secrets.randbits(64))
    masks: dict[str, bytes] = {}
    for path in sorted(quiz.QUIZ_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            questions = data[quiz.QUESTIONS_KEY]
            for q in questions:
                if q.get(quiz.KIND_KEY) == quiz.CHOICE:
                    letter = rng.choice(string.ascii_uppercase[: len(q.get(quiz.OPTIONS_KEY, [])) or 1])
                    q[quiz.ANSWER_HASH_KEY] = quiz.answer_hash(data[quiz.SALT_KEY], q[quiz.ID_KEY], letter)
                else:
                    q[quiz.ANSWER_HASH_KEY] = hashlib.sha256(rng.randbytes(32)).hexdigest()
            data[quiz.GRADED_BY_INSTRUCTOR_KEY] = True
            data[quiz.ABOUT_KEY] = ("In grading the answer hashes are decoys: the instructor's grader marks the quiz "
                                    "against its own key, outside this sandbox.")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # not a quiz file this grader knows: left as it is
        masks[kit_path(path)] = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    return masks


def hint_masks() -> dict[str, bytes]:
    """The hint data as the learner's code sees it in grading: each blank's first hint only (its
    last level is the solution's code, which would be the instructor's answer in a graded run)."""
    path = hints.DATA
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data[hints.BLANKS_KEY] = {key: list(levels)[:1] for key, levels in data[hints.BLANKS_KEY].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {kit_path(path): (json.dumps(data, indent=1) + "\n").encode()}


def masks() -> dict[str, bytes]:
    """Every kit file replaced inside the sandbox: quiz answer hashes and the hints' answers."""
    return {**quiz_masks(), **hint_masks()}


# --------------------------------------------------------------------------- titles


def _sentence(markdown: str) -> str:
    text = " ".join(line.strip().lstrip("#").strip() for line in markdown.strip().splitlines() if line.strip())
    text = text.replace("**", "").replace("`", "")
    for end in (". ", "? ", ": "):
        head = text.split(end, 1)[0]
        if end in text and len(head) >= 25:
            text = head + ("" if end == ": " else end.strip())
            break
    return clip(text.strip().rstrip(":"), 90)


def check_titles(exercise: Exercise) -> dict[str, str]:
    """What the learner sees above each visible check: the markdown just before it (at most
    three code cells up); hidden checks, which the learner never sees, get none."""
    titles: dict[str, str] = {}
    cells = exercise.notebook.cells
    for check in exercise.checks:
        if check.hidden:
            continue
        above = cells[check.position - 1] if check.position else None
        if above is not None and above.cell_type == "markdown":
            titles[check.id] = _sentence("".join(above.source))
            continue
        for index in range(check.position - 2, max(-1, check.position - 4), -1):
            source = "".join(cells[index].source).strip()
            if cells[index].cell_type == "markdown" and source.startswith("#"):
                titles[check.id] = clip(source.splitlines()[0].lstrip("#").strip().replace("`", ""), 90)
                break
    return titles


@dataclass
class EvidencePlan:
    """One exercise's judged checks for a grading run: the probe seed and the instructor's keys."""

    judged: dict[str, list[str]]
    seed: int
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)

    def context(self, check_id: str, quick: int | None) -> JudgeContext:
        return JudgeContext(probes=draw_probes(self.seed), grader=True, quick=quick,
                            key=self.keys.get(check_id, {}), seed=self.seed)

    def cells(self, exercise: Exercise) -> dict[str, str]:
        options = collect_options(self.seed)
        return {c.id: evidence_cell_source(c, options) for c in exercise.checks if c.id in self.judged}
