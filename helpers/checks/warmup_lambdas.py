"""Checks for the ``lr_lambda`` blanks of the warmup-strategies notebook (00).

A ``LambdaLR`` multiplies the optimizer's base LR by ``lr_lambda(epoch)``, so each check calls the
learner's function for epochs 0 .. 3W and tests the factors it returns: not 0 at epoch 0 (the
``epoch / W`` pitfall), a factor rather than an LR, rising during the warmup, exactly 1 from
epoch W-1 on, never above 1, and — per strategy — equal steps (linear) or a constant ratio
(exponential).

A hard-coded warmup length would pass at the notebook's own length, so every function is also
called at other warmup lengths (*probes*): through its ``warmup_epochs`` parameter when it has
one, and with the notebook's ``WARMUP_EPOCHS`` global set to the probe length while it runs
(restored afterwards). In the notebook the probes are fixed (:data:`LEARNER_WARMUP_PROBES`); the
grader draws three per run from its probe seed (:func:`draw_warmup_probes`), never a length where
a common hard-coded warmup is right, and judges at the course's warmup length plus those.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import math
import random
from collections.abc import Callable, Mapping
from typing import Any, SupportsFloat

from helpers.checks.check import Check
from helpers.checks.report import CheckReport
from helpers.mistakes import exponential_exponent_over_w
from helpers.settings import DEMO_WARMUP_EPOCHS

LrLambda = Callable[[int], float]
TOL = 1e-6
COURSE_WARMUP_EPOCHS = DEMO_WARMUP_EPOCHS  # the grader judges at the notebook's own length
WARMUP_GLOBAL = "WARMUP_EPOCHS"  # the notebook's setting; set to each probe length while probing
LEARNER_WARMUP_PROBES = (7, 13)
# Warmup lengths a hard-coded lambda is often right at (the notebook's 5, the demo's 2, round
# numbers, 25 % of common totals): probes avoid them.
_FRIENDLY_WARMUPS = {1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 20, 24, 25, 30, 32, 40, 50}
_PROBE_BANDS = ((7, 14), (17, 29), (31, 45))
_MISSING = object()


def draw_warmup_probes(seed: int) -> tuple[int, ...]:
    """Three warmup lengths for one grading run (one per band), none of them a common hard-coded one."""
    rng = random.Random(f"warmup-probes-{seed}")
    return tuple(rng.choice([n for n in range(lo, hi + 1) if n not in _FRIENDLY_WARMUPS]) for lo, hi in _PROBE_BANDS)


def _validate(lr_lambda: object, warmup_epochs: object, minimum_warmup: int) -> int:
    if not callable(lr_lambda):
        raise TypeError(
            f"pass your lr_lambda function itself (e.g. check_linear_warmup(linear_warmup, WARMUP_EPOCHS)), "
            f"got {type(lr_lambda).__name__}"
        )
    if not isinstance(warmup_epochs, int) or isinstance(warmup_epochs, bool) or warmup_epochs < minimum_warmup:
        raise ValueError(f"warmup_epochs must be a whole number >= {minimum_warmup}, got {warmup_epochs!r}")
    return warmup_epochs


def collect_factors(lr_lambda: LrLambda, epochs: int) -> dict[str, Any]:
    """Call ``lr_lambda`` for every epoch; the factors, or the first problem (blank, exception,
    non-number), as plain data."""
    values: list[float] = []
    for epoch in range(epochs):
        try:
            value = lr_lambda(epoch)
        except NotImplementedError as exc:
            return {"problem": "blank", "text": str(exc)[:300]}
        except Exception as exc:  # noqa: BLE001 - any error in learner code becomes a ✗ line
            return {"problem": "raised", "epoch": epoch, "text": f"{type(exc).__name__}: {str(exc)[:300]}"}
        number = _as_float(value)
        if number is None:
            return {"problem": "not-a-number", "epoch": epoch, "text": f"{value!r}"[:100],
                    "type": type(value).__name__}
        values.append(number)
    return {"factors": values}


def _factors(report: CheckReport, name: str, data: Mapping[str, Any], epochs: int) -> list[float] | None:
    """The recorded factors, or the ✗ line for the first problem."""
    problem = data.get("problem")
    if problem == "blank":
        text = str(data.get("text", ""))
        report.add(f"the blank in {name} is filled in", False, f"not yet: {text}" if text else "not yet")
        return None
    if problem == "raised":
        report.add(f"{name} runs for every epoch", False, f"{name}({data.get('epoch')}) raised {data.get('text')}")
        return None
    if problem == "not-a-number":
        report.add(
            f"{name} returns a number",
            False,
            f"{name}({data.get('epoch')}) returned None: is its return line missing? It must return the factor (a "
                f"float)"
            if data.get("type") == "NoneType"
            else f"{name}({data.get('epoch')}) returned {data.get('text')} ({data.get('type')}); return a float "
                f"factor such as 0.2",
        )
        return None
    values = data.get("factors")
    if not isinstance(values, list) or len(values) != epochs or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        report.add(f"{name} returns a number", False, f"no factor was recorded for epochs 0-{epochs - 1}")
        return None
    report.add(f"{name} returns a number for epochs 0-{epochs - 1}", True)
    return [float(v) for v in values]


def _name(lr_lambda: LrLambda, default: str) -> str:
    """The learner's function name for the report lines (a lambda has none worth showing)."""
    name = getattr(lr_lambda, "__name__", "")
    return name if name.isidentifier() else default


def _as_float(value: object) -> float | None:
    if isinstance(value, (bool, str, bytes, complex)) or not isinstance(value, SupportsFloat):
        return None
    try:
        number = float(value)  # int, float, numpy scalar, 0-d tensor
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _common(report: CheckReport, f: list[float], w: int) -> None:
    """Criteria every warmup factor must meet; ``f`` covers epochs 0 .. 3W."""
    report.add(
        "epoch 0 trains (factor > 0)",
        f[0] > TOL,
        f"factor at epoch 0 is {f[0]:g}: LambdaLR calls lr_lambda(0) for the first epoch, so epoch / W makes "
        "the first epoch learn nothing; use (epoch + 1) / W",
    )
    report.add(
        "warmup starts below the full LR",
        f[0] < 1 - TOL,
        f"factor at epoch 0 is already {f[0]:g}: a warmup starts with a small factor and grows to 1",
    )
    peak = max(f)
    end = f[w - 1]
    holds = f[w - 1 :]
    plateau_below_one = max(holds) - min(holds) <= TOL and end < 1 - TOL
    if plateau_below_one:
        report.add(
            "returns a factor, not a learning rate",
            False,
            f"your factors level off at {end:g} instead of 1: LambdaLR multiplies the base LR by what you "
            "return, so return a factor (1 = full base LR); don't multiply by the base LR inside the function",
        )
    else:
        report.add("returns a factor, not a learning rate", True)
    report.add(
        "never exceeds 1",
        peak <= 1 + TOL,
        f"factor reaches {peak:g} (epoch {f.index(peak)}): cap it with min(..., 1.0) so the LR never passes "
        "the base LR",
    )
    if not plateau_below_one:
        _ends_at_one(report, f, w)
    warm = f[:w]
    drops = [e for e in range(1, w) if warm[e] < warm[e - 1] - TOL]
    report.add(
        "rises every warmup epoch",
        not drops and all(warm[e] > warm[e - 1] + TOL for e in range(1, w)),
        f"factor goes from {warm[drops[0] - 1]:g} to {warm[drops[0]]:g} at epoch {drops[0]}: a warmup only goes up"
        if drops
        else "some warmup epochs repeat the previous factor: each warmup epoch should raise the LR",
    )


def _ends_at_one(report: CheckReport, f: list[float], w: int) -> None:
    """Full LR from the last warmup epoch on (judged only when the factors do reach 1)."""
    end = f[w - 1]
    late = abs(end - 1) > TOL and abs(f[w] - 1) <= TOL
    report.add(
        f"reaches 1 at the last warmup epoch (epoch {w - 1})",
        abs(end - 1) <= TOL,
        (
            f"factor at epoch {w - 1} is {end:g} and reaches 1 only at epoch {w}: the warmup takes epochs "
            f"0-{w - 1}, so epoch {w - 1} should already use the full LR (use epoch + 1)"
        )
        if late
        else f"factor at epoch {w - 1} is {end:g}, not 1: the warmup should end at the full base LR",
    )
    after = f[w:]
    worst = max(range(len(after)), key=lambda i: abs(after[i] - 1))
    report.add(
        f"holds 1 after the warmup (epochs {w}-{len(f) - 1})",
        abs(after[worst] - 1) <= TOL,
        f"factor at epoch {w + worst} is {after[worst]:g}: after the warmup keep returning 1.0 "
        "(e.g. min(..., 1.0)); the decay comes from a separate scheduler",
    )


def _equal_steps(warm: list[float]) -> bool:
    steps = [b - a for a, b in itertools.pairwise(warm)]
    return max(steps) - min(steps) <= 1e-6 * max(1.0, max(abs(s) for s in steps))


def _constant_ratio(warm: list[float]) -> bool:
    if min(warm) <= 0:
        return False
    ratios = [b / a for a, b in itertools.pairwise(warm)]
    return max(ratios) - min(ratios) <= 1e-6 * max(ratios)


def _takes_length(lr_lambda: LrLambda) -> bool:
    try:
        return "warmup_epochs" in inspect.signature(lr_lambda).parameters
    except (TypeError, ValueError):
        return False


def _factors_at(lr_lambda: LrLambda, w: int, namespace: Mapping[str, Any] | None) -> dict[str, Any]:
    """The factors for epochs 0 .. 3w with the warmup length set to ``w``: as the ``warmup_epochs``
    argument if the function takes one, and as the notebook's ``WARMUP_EPOCHS`` while it runs."""
    targets = {id(ns): ns for ns in (namespace, getattr(lr_lambda, "__globals__", None)) if isinstance(ns, dict)}
    saved = {key: ns.get(WARMUP_GLOBAL, _MISSING) for key, ns in targets.items()}
    function: Callable[..., Any] = lr_lambda
    call = functools.partial(function, warmup_epochs=w) if _takes_length(lr_lambda) else function
    try:
        for ns in targets.values():
            ns[WARMUP_GLOBAL] = w
        return collect_factors(call, 3 * w + 1)
    finally:
        for key, ns in targets.items():
            if saved[key] is _MISSING:
                ns.pop(WARMUP_GLOBAL, None)
            else:
                ns[WARMUP_GLOBAL] = saved[key]


def _collect(lr_lambda: LrLambda, warmup_epochs: int, default: str, namespace: Mapping[str, Any] | None,
             seed: int | None) -> dict[str, Any]:
    w = _validate(lr_lambda, warmup_epochs, 2)
    probes = draw_warmup_probes(seed) if seed is not None else LEARNER_WARMUP_PROBES
    lengths = sorted({w, COURSE_WARMUP_EPOCHS, *probes})
    return {"name": _name(lr_lambda, default), "warmup_epochs": w,
            "length_from": "argument" if _takes_length(lr_lambda) else "global",
            "runs": {str(n): _factors_at(lr_lambda, n, namespace) for n in lengths}}


def collect_linear_warmup(lr_lambda: LrLambda, warmup_epochs: int, *, seed: int | None = None,
                          namespace: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """The factors of ``lr_lambda`` for epochs 0 .. 3W at the learner's, the course's and the
    probe warmup lengths (``seed``: the grader's probe seed), as plain data."""
    return _collect(lr_lambda, warmup_epochs, "linear_warmup", namespace, seed)


def _recorded(data: Mapping[str, Any], default: str, context: object) -> tuple[str, int, list[int]]:
    """The function's name, the main warmup length (the learner's; the course's for the grader)
    and the probe lengths to judge."""
    w = data["warmup_epochs"]
    if not isinstance(w, int) or isinstance(w, bool) or w < 2:
        raise ValueError(f"warmup_epochs must be a whole number >= 2, got {w!r}")
    name = str(data.get("name") or default)
    grader = bool(getattr(context, "grader", False))
    main = COURSE_WARMUP_EPOCHS if grader else w
    probes = draw_warmup_probes(int(getattr(context, "seed", 0))) if grader else LEARNER_WARMUP_PROBES
    return (name if name.isidentifier() else default), main, [p for p in dict.fromkeys(probes) if p != main]


def _run(data: Mapping[str, Any], w: int) -> Mapping[str, Any]:
    runs = data.get("runs")
    run = runs.get(str(w)) if isinstance(runs, Mapping) else None
    return run if isinstance(run, Mapping) else {}


def _ramp_length(f: list[float]) -> int | None:
    """Epochs until the factor first reaches 1 (None if it never does)."""
    return next((e + 1 for e, v in enumerate(f) if abs(v - 1) <= TOL), None)


def _check_probes(report: CheckReport, data: Mapping[str, Any], name: str, main: int, probes: list[int],
                  shape: Callable[[CheckReport, list[float], int], None]) -> None:
    """One criterion: the function is right at every probe warmup length too."""
    if not probes or not report.passed:
        return
    how = ("its warmup_epochs argument" if data.get("length_from") == "argument"
           else f"the notebook's {WARMUP_GLOBAL}, which the check sets to other lengths")
    for p in probes:
        sub = CheckReport("probe")
        f = _factors(sub, name, _run(data, p), 3 * p + 1)
        if f is not None:
            _common(sub, f, p)
            shape(sub, f, p)
        if sub.passed:
            continue
        ramp = _ramp_length(f) if f is not None else None
        if ramp == main:
            hint = (f"with a warmup of {p} epochs {name} still reaches 1 after {main} epochs: the length is fixed "
                    f"inside the function; take it from {how} instead of a number or another variable")
        else:
            failed = sub.failed()
            cause = f"{failed[0].name}: {failed[0].hint}" if failed and failed[0].hint else (
                failed[0].name if failed else "wrong factors")
            hint = f"with a warmup of {p} epochs (taken from {how}) it is wrong — {cause}"
        report.add(f"follows the warmup length (tried {', '.join(map(str, probes))} epochs too)", False, hint)
        return
    report.add(f"follows the warmup length (tried {', '.join(map(str, probes))} epochs too)", True)


def _linear_shape(report: CheckReport, f: list[float], w: int) -> None:
    warm = f[:w]
    if w >= 3:
        report.add(
            "grows in equal steps (linear)",
            _equal_steps(warm),
            "the factor should grow by the same amount each warmup epoch, e.g. (epoch + 1) / W",
        )
    else:
        report.skip("grows in equal steps (linear)", "needs a warmup of at least 3 epochs")


def _judge(data: Mapping[str, Any], context: object, kind: str, title: str,
           shape: Callable[[CheckReport, list[float], int], None],
           name_slip: Callable[[list[float], int], str | None] | None = None) -> CheckReport:
    """One warmup's criteria on recorded factors: the common ones and ``shape`` at the main length
    (a slip ``name_slip`` recognises becomes the failed criteria's hint), then ``shape`` at the probes."""
    name, w, probes = _recorded(data, kind, context)
    report = CheckReport(f"{title} over {w} epochs")
    f = _factors(report, name, _run(data, w), 3 * w + 1)
    if f is None:
        return report
    _common(report, f, w)
    shape(report, f, w)
    named = name_slip(f, w) if name_slip is not None else None
    if named is not None:
        report.criteria = [dataclasses.replace(c, hint=named) if c.passed is False else c for c in report.criteria]
    _check_probes(report, data, name, w, probes, shape)
    return report


def judge_linear_warmup(data: Mapping[str, Any], context: object = None) -> CheckReport:
    """The linear-warmup criteria on recorded factors, at the main length, then at the probes."""
    return _judge(data, context, "linear_warmup", "Linear warmup", _linear_shape)



def collect_exponential_warmup(lr_lambda: LrLambda, warmup_epochs: int, *, seed: int | None = None,
                               namespace: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """The factors of ``lr_lambda`` for epochs 0 .. 3W at the learner's, the course's and the
    probe warmup lengths (``seed``: the grader's probe seed), as plain data."""
    return _collect(lr_lambda, warmup_epochs, "exponential_warmup", namespace, seed)


def _exponential_shape(report: CheckReport, f: list[float], w: int) -> None:
    warm = f[:w]
    if w >= 3:
        if warm[0] > TOL and _equal_steps(warm) and not _constant_ratio(warm):
            report.add(
                "grows by a constant ratio (exponential)",
                False,
                "your factor grows in equal steps, which is linear warmup; exponential warmup multiplies "
                "by the same ratio each epoch, e.g. start_factor ** (1 - epoch / (W - 1))",
            )
        else:
            report.add(
                "grows by a constant ratio (exponential)",
                _constant_ratio(warm),
                "factor(epoch + 1) / factor(epoch) should be the same for every warmup epoch, "
                "e.g. start_factor ** (1 - epoch / (W - 1))",
            )
    else:
        report.skip("grows by a constant ratio (exponential)", "needs a warmup of at least 3 epochs")


def judge_exponential_warmup(data: Mapping[str, Any], context: object = None) -> CheckReport:
    """The exponential-warmup criteria on recorded factors, at the main length, then at the probes."""
    # the exponent-over-W slip is named: the generic hint ("use epoch + 1") would point at the wrong fix
    return _judge(data, context, "exponential_warmup", "Exponential warmup", _exponential_shape,
                  exponential_exponent_over_w)



# Whether lr_lambda is a linear / exponential warmup factor over warmup_epochs epochs.
check_linear_warmup = Check("check_linear_warmup", collect_linear_warmup, judge_linear_warmup)
check_exponential_warmup = Check("check_exponential_warmup", collect_exponential_warmup, judge_exponential_warmup)
