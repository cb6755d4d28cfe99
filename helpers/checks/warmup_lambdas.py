"""Checks for the ``lr_lambda`` blanks of the warmup-strategies notebook (00).

``LambdaLR`` multiplies the base LR by ``lr_lambda(epoch)``, so each check records the factors for
epochs 0 .. 3W and judges them. A hard-coded warmup length would pass at the notebook's own length,
so each function is also called at other lengths (probes: fixed in the notebook, drawn per run by
the grader), given as its ``warmup_epochs`` argument and as the notebook's ``WARMUP_EPOCHS``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from helpers.checks.check import Check, Rule, run_rules
from helpers.checks.context import COMMON_HARDCODED_WARMUPS, JudgeContext
from helpers.checks.report import CheckReport, Criterion, raised
from helpers.evidence_codec import Evidence, EvidenceError
from helpers.mistakes import exponential_exponent_over_w
from helpers.settings import DEMO_WARMUP_EPOCHS
from helpers.validate import finite_float, require_whole

LrLambda = Callable[[int], float]
TOL = 1e-6
WARMUP_GLOBAL = "WARMUP_EPOCHS"  # the notebook's setting; set to each probe length while probing
LEARNER_WARMUP_PROBES = (7, 13)
MIN_WARMUP = 2  # the shortest warmup that still rises: from a first factor below 1 to 1
MIN_SHAPE_WARMUP = 3  # a warmup of 2 epochs has one step: no equal steps or constant ratio to compare
# Probes avoid lengths a hard-coded lambda is often right at: the common hard-coded warmups and, inside
# the bands, 8, 12, 24, 32 and 40 (the bands themselves leave out 15, 16 and 30).
_AVOIDED = COMMON_HARDCODED_WARMUPS | {8, 12, 24, 32, 40}
_PROBE_BANDS = ((7, 14), (17, 29), (31, 45))
_MISSING = object()


def draw_warmup_probes(seed: int) -> tuple[int, ...]:
    """Three warmup lengths for one grading run (one per band), none of them a common hard-coded one."""
    rng = random.Random(f"warmup-probes-{seed}")
    return tuple(rng.choice([n for n in range(lo, hi + 1) if n not in _AVOIDED]) for lo, hi in _PROBE_BANDS)


@dataclass(frozen=True)
class Factors:
    """The factors at one warmup length, or the first problem calling the function: its epoch, the
    blank's or exception's text, or the value's repr and type name."""

    factors: tuple[float, ...] = ()
    problem: Literal["", "blank", "raised", "not-a-number"] = ""
    epoch: int = 0
    text: str = ""
    type: str = ""


@dataclass(frozen=True)
class WarmupEvidence(Evidence):
    """The function's name, the learner's warmup length, where the function takes the length from,
    and per length n its factors for epochs 0 .. 3n."""

    KIND = "warmup-lambda"
    VERSION = 1
    name: str
    warmup_epochs: int
    length_from: Literal["argument", "global"]
    runs: dict[int, Factors]

    def validate(self) -> None:
        if self.warmup_epochs < MIN_WARMUP:
            raise EvidenceError(f"warmup_epochs must be a whole number >= {MIN_WARMUP}, got {self.warmup_epochs!r}")
        bad = [n for n, run in self.runs.items()
               if len(run.factors) not in (0, 3 * n + 1) or not all(map(math.isfinite, run.factors))]
        if bad:
            raise EvidenceError(f"the factors at warmup length {bad[0]} are not one finite number per epoch "
                                f"0-{3 * bad[0]}")


def _factors_at(lr_lambda: Callable[..., object], w: int, namespace: Mapping[str, object] | None,
                takes_length: bool) -> Factors:
    """The factors for epochs 0 .. 3w with the warmup length set to ``w``: as the ``warmup_epochs``
    argument if the function takes one, and as the notebook's ``WARMUP_EPOCHS`` while it runs."""
    targets = {id(ns): ns for ns in (namespace, getattr(lr_lambda, "__globals__", None)) if isinstance(ns, dict)}
    saved = {key: ns.get(WARMUP_GLOBAL, _MISSING) for key, ns in targets.items()}
    call = functools.partial(lr_lambda, warmup_epochs=w) if takes_length else lr_lambda
    values: list[float] = []
    try:
        for ns in targets.values():
            ns[WARMUP_GLOBAL] = w
        for epoch in range(3 * w + 1):
            try:
                value = call(epoch)
            except NotImplementedError as exc:
                return Factors(problem="blank", text=str(exc)[:300])
            except Exception as exc:  # noqa: BLE001 - any error in learner code becomes a ✗ line
                return Factors(problem="raised", epoch=epoch, text=raised(exc))
            if (number := finite_float(value)) is None:
                return Factors(problem="not-a-number", epoch=epoch, text=f"{value!r}"[:100], type=type(value).__name__)
            values.append(number)
        return Factors(tuple(values))
    finally:
        for key, ns in targets.items():
            if saved[key] is _MISSING:
                ns.pop(WARMUP_GLOBAL, None)
            else:
                ns[WARMUP_GLOBAL] = saved[key]


@dataclass(frozen=True)
class _Ramp:
    """The factors ``f`` for epochs 0 .. 3w at one warmup length ``w``, with what several rules read."""

    f: tuple[float, ...]
    w: int
    flat_below_one: bool  # levels off below 1 from epoch w-1 on: LRs returned, not factors
    drops: tuple[int, ...]  # warmup epochs whose factor is below the one before
    worst: int  # the epoch after the warmup farthest from 1

    @classmethod
    def of(cls, f: tuple[float, ...], w: int) -> _Ramp:
        flat_below_one = max(f[w - 1:]) - min(f[w - 1:]) <= TOL and f[w - 1] < 1 - TOL
        drops = tuple(e for e in range(1, w) if f[e] < f[e - 1] - TOL)
        return cls(f, w, flat_below_one, drops, max(range(w, len(f)), key=lambda e: abs(f[e] - 1)))


def _steps_equal(f: Sequence[float]) -> bool:
    steps = [b - a for a, b in itertools.pairwise(f)]
    return max(steps) - min(steps) <= 1e-6 * max(1.0, max(abs(s) for s in steps))


def _ratio_constant(f: Sequence[float]) -> bool:
    if min(f) <= 0:
        return False
    ratios = [b / a for a, b in itertools.pairwise(f)]
    return max(ratios) - min(ratios) <= 1e-6 * max(ratios)


def _rules(r: _Ramp) -> list[Rule[_Ramp]]:
    """Every warmup's criteria at length ``r.w``, in report order; whether the warmup ends at 1 is
    judged only when the factors do not level off below 1 (then they are LRs, not factors)."""
    w = r.w
    ends: list[Rule[_Ramp]] = [] if r.flat_below_one else [
        Rule(f"reaches 1 at the last warmup epoch (epoch {w - 1})", lambda r, _: abs(r.f[w - 1] - 1) <= TOL,
             lambda r: f"factor at epoch {w - 1} is {r.f[w - 1]:g} and reaches 1 only at epoch {w}: the warmup "
             f"takes epochs 0-{w - 1}, so epoch {w - 1} should already use the full LR (use epoch + 1)"
             if abs(r.f[w] - 1) <= TOL else
             f"factor at epoch {w - 1} is {r.f[w - 1]:g}, not 1: the warmup should end at the full base LR"),
        Rule(f"holds 1 after the warmup (epochs {w}-{len(r.f) - 1})", lambda r, _: abs(r.f[r.worst] - 1) <= TOL,
             lambda r: f"factor at epoch {r.worst} is {r.f[r.worst]:g}: after the warmup keep returning 1.0 "
             "(e.g. min(..., 1.0)); the decay comes from a separate scheduler")]
    return [
        Rule("epoch 0 trains (factor > 0)", lambda r, _: r.f[0] > TOL,
             lambda r: f"factor at epoch 0 is {r.f[0]:g}: LambdaLR calls lr_lambda(0) for the first epoch, so "
             "epoch / W makes the first epoch learn nothing; use (epoch + 1) / W"),
        Rule("warmup starts below the full LR", lambda r, _: r.f[0] < 1 - TOL,
             lambda r: f"factor at epoch 0 is already {r.f[0]:g}: a warmup starts with a small factor and grows to 1"),
        Rule("returns a factor, not a learning rate", lambda r, _: not r.flat_below_one,
             lambda r: f"your factors level off at {r.f[w - 1]:g} instead of 1: LambdaLR multiplies the base LR by "
             "what you return, so return a factor (1 = full base LR); don't multiply by the base LR inside the "
             "function"),
        Rule("never exceeds 1", lambda r, _: max(r.f) <= 1 + TOL,
             lambda r: f"factor reaches {max(r.f):g} (epoch {r.f.index(max(r.f))}): cap it with min(..., 1.0) so "
             "the LR never passes the base LR"),
        *ends,
        Rule("rises every warmup epoch", lambda r, _: all(r.f[e] > r.f[e - 1] + TOL for e in range(1, w)),
             lambda r: f"factor goes from {r.f[r.drops[0] - 1]:g} to {r.f[r.drops[0]]:g} at epoch {r.drops[0]}: a "
             "warmup only goes up" if r.drops else
             "some warmup epochs repeat the previous factor: each warmup epoch should raise the LR"),
    ]


_LINEAR: Rule[_Ramp] = Rule(
    "grows in equal steps (linear)", lambda r, _: _steps_equal(r.f[:r.w]),
    lambda r: "the factor should grow by the same amount each warmup epoch, e.g. (epoch + 1) / W")
_EXPONENTIAL: Rule[_Ramp] = Rule(
    "grows by a constant ratio (exponential)", lambda r, _: _ratio_constant(r.f[:r.w]),
    lambda r: "your factor grows in equal steps, which is linear warmup; exponential warmup multiplies by the same "
    "ratio each epoch, e.g. start_factor ** (1 - epoch / (W - 1))" if r.f[0] > TOL and _steps_equal(r.f[:r.w]) else
    "factor(epoch + 1) / factor(epoch) should be the same for every warmup epoch, "
    "e.g. start_factor ** (1 - epoch / (W - 1))")


def _factors(name: str, run: Factors | None, w: int) -> _Ramp | Criterion:
    """The run's factors for epochs 0 .. 3w, or the ✗ line for why there are none."""
    if run is None or not (run.problem or run.factors):
        return Criterion(f"{name} returns a number", False, f"no factor was recorded for epochs 0-{3 * w}")
    if run.problem == "blank":
        return Criterion(f"the blank in {name} is filled in", False, f"not yet: {run.text}" if run.text else "not yet")
    if run.problem == "raised":
        return Criterion(f"{name} runs for every epoch", False, f"{name}({run.epoch}) raised {run.text}")
    if run.problem == "not-a-number":
        return Criterion(f"{name} returns a number", False, f"{name}({run.epoch}) returned None: is its return line "
                         "missing? It must return the factor (a float)" if run.type == "NoneType" else
                         f"{name}({run.epoch}) returned {run.text} ({run.type}); return a float factor such as 0.2")
    return _Ramp.of(run.factors, w)


@dataclass(frozen=True)
class _Warmup:
    """One strategy's check: its blank's function name, report title, shape criterion and named mistakes."""

    default_name: str
    title: str
    shape: Rule[_Ramp]
    mistakes: tuple[Callable[[_Ramp], str | None], ...] = ()

    def collect(self, lr_lambda: LrLambda, warmup_epochs: int, *, seed: int | None = None,
                namespace: Mapping[str, object] | None = None) -> WarmupEvidence:
        """The factors of ``lr_lambda`` at the learner's, the notebook's and the probe warmup lengths
        (``seed``: the grader's probe seed; ``namespace``: the notebook's globals)."""
        if not callable(lr_lambda):
            raise TypeError(f"pass your lr_lambda function itself (e.g. check_{self.default_name}({self.default_name}, "
                            f"{WARMUP_GLOBAL})), got {type(lr_lambda).__name__}")
        require_whole("warmup_epochs", warmup_epochs, MIN_WARMUP)
        try:
            takes_length = "warmup_epochs" in inspect.signature(lr_lambda).parameters
        except (TypeError, ValueError):
            takes_length = False
        name = getattr(lr_lambda, "__name__", "")
        lengths = sorted({warmup_epochs, DEMO_WARMUP_EPOCHS,
                          *(draw_warmup_probes(seed) if seed is not None else LEARNER_WARMUP_PROBES)})
        return WarmupEvidence(name if name.isidentifier() else self.default_name, warmup_epochs,
                              "argument" if takes_length else "global",
                              {n: _factors_at(lr_lambda, n, namespace, takes_length) for n in lengths})

    def judge(self, evidence: WarmupEvidence, context: JudgeContext | None = None) -> CheckReport:
        """The criteria at the main length (the learner's; the notebook's for the grader), then
        whether they hold at every probe length too, as one more criterion."""
        name = evidence.name if evidence.name.isidentifier() else self.default_name
        grader = context if context is not None and context.grader else None
        w = DEMO_WARMUP_EPOCHS if grader else evidence.warmup_epochs
        probes = draw_warmup_probes(grader.seed) if grader else LEARNER_WARMUP_PROBES
        report = CheckReport(f"{self.title} over {w} epochs")
        self._judge_at(report, name, evidence.runs.get(w), w, self.mistakes)
        others = [p for p in dict.fromkeys(probes) if p != w]
        if others and report.passed:
            report.add(*self._probes(evidence, name, w, others))
        return report

    def _judge_at(self, report: CheckReport, name: str, run: Factors | None, w: int,
                  mistakes: tuple[Callable[[_Ramp], str | None], ...]) -> _Ramp | None:
        """The criteria at warmup length ``w``, added to ``report``; the factors judged, if usable."""
        ramp = _factors(name, run, w)
        if isinstance(ramp, Criterion):
            report.criteria.append(ramp)
            return None
        report.add(f"{name} returns a number for epochs 0-{3 * w}", True)
        rules = [*_rules(ramp), *([self.shape] if w >= MIN_SHAPE_WARMUP else [])]
        report.criteria += run_rules("", [dataclasses.replace(r, mistakes=mistakes) for r in rules], ramp).criteria
        if w < MIN_SHAPE_WARMUP:
            report.skip(self.shape.name, f"needs a warmup of at least {MIN_SHAPE_WARMUP} epochs")
        return ramp

    def _probes(self, evidence: WarmupEvidence, name: str, main: int, probes: list[int]) -> tuple[str, bool, str]:
        """One criterion: right at every probe length too; else what is wrong at the first wrong one."""
        criterion = f"follows the warmup length (tried {', '.join(map(str, probes))} epochs too)"
        how = ("its warmup_epochs argument" if evidence.length_from == "argument"
               else f"the notebook's {WARMUP_GLOBAL}, which the check sets to other lengths")
        for p in probes:
            sub = CheckReport("probe")
            ramp = self._judge_at(sub, name, evidence.runs.get(p), p, ())
            if sub.passed:
                continue
            if ramp is not None and next((e + 1 for e, v in enumerate(ramp.f) if abs(v - 1) <= TOL), None) == main:
                return criterion, False, (f"with a warmup of {p} epochs {name} still reaches 1 after {main} epochs: "
                                          f"the length is fixed inside the function; take it from {how} instead "
                                          "of a number or another variable")
            first = sub.failed()[0]
            cause = f"{first.name}: {first.hint}"
            return criterion, False, f"with a warmup of {p} epochs (taken from {how}) it is wrong — {cause}"
        return criterion, True, ""


_LINEAR_WARMUP = _Warmup("linear_warmup", "Linear warmup", _LINEAR)
# the exponent-over-W slip is named: the generic hint ("use epoch + 1") would point at the wrong fix
_EXPONENTIAL_WARMUP = _Warmup("exponential_warmup", "Exponential warmup", _EXPONENTIAL,
                              (lambda r: exponential_exponent_over_w(r.f, r.w),))
check_linear_warmup = Check("check_linear_warmup", _LINEAR_WARMUP.collect, _LINEAR_WARMUP.judge,
                            evidence=WarmupEvidence)
check_exponential_warmup = Check("check_exponential_warmup", _EXPONENTIAL_WARMUP.collect, _EXPONENTIAL_WARMUP.judge,
                                 evidence=WarmupEvidence)
