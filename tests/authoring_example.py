"""docs/AUTHORING.md's worked example: a toy exercise with one blank and one check.

Everything a check needs is here: the solution cell with its blank, typed evidence (versioned and
validated on load), the rules as a table with one named mistake, and the check object itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from helpers.checks.check import Check, Rule, run_rules
from helpers.checks.context import JudgeContext
from helpers.checks.report import CheckReport
from helpers.evidence_codec import Evidence, EvidenceError

# 1. The solution cell. `kit assign` keeps the hint and replaces the marked lines by a blank.
SOLUTION_CELL = '''\
def warmup_factor(epoch, warmup_epochs):
    ### BEGIN SOLUTION: grow linearly to 1 over warmup_epochs epochs, then hold 1
    return min(1.0, (epoch + 1) / warmup_epochs)
    ### END SOLUTION
'''
# 2. The check cell (tagged "check"): only calls to checks, so the grader can judge it from evidence.
CHECK_CELL = "check_warmup_factor(warmup_factor, warmup_epochs=4)"


# 3. The evidence: plain, typed data, so the grader never runs learner code to judge it. The codec of
# helpers.evidence_codec writes it and validates every field against its type when it is loaded.
@dataclass(frozen=True)
class FactorEvidence(Evidence):
    """The factors for epochs 0 .. 2W-1, or the blank's text while it is not filled in."""

    KIND: ClassVar[str] = "warmup-factor"
    warmup_epochs: int
    factors: tuple[float, ...] = ()
    blank: str = ""

    def validate(self) -> None:
        if not 1 <= self.warmup_epochs <= 1000 or len(self.factors) not in (0, 2 * self.warmup_epochs):
            raise EvidenceError(f"{len(self.factors)} factors for a warmup of {self.warmup_epochs} epochs")
        if not all(math.isfinite(f) for f in self.factors):
            raise EvidenceError("a factor is not a finite number")


def collect_factors(factor: Callable[[int, int], float], warmup_epochs: int) -> FactorEvidence:
    """Runs in the learner's kernel: misuse raises, a wrong answer is recorded."""
    if not callable(factor):
        raise TypeError(f"pass your function itself, e.g. {CHECK_CELL}")
    try:
        values = tuple(float(factor(epoch, warmup_epochs)) for epoch in range(2 * warmup_epochs))
    except NotImplementedError as exc:
        return FactorEvidence(warmup_epochs, blank=str(exc))
    return FactorEvidence(warmup_epochs, values)


# 4. The rules, in report order; a named mistake replaces the generic hint when it matches.
def _epoch_over_w(ev: FactorEvidence) -> str | None:
    """A named mistake: the ramp starts one epoch late."""
    if ev.factors[: ev.warmup_epochs] == tuple(e / ev.warmup_epochs for e in range(ev.warmup_epochs)):
        return "epoch / W is 0 at epoch 0, so the first epoch learns nothing: use (epoch + 1) / W"
    return None


RULES: tuple[Rule[FactorEvidence], ...] = (
    Rule("the blank is filled in", lambda ev, _: not ev.blank, lambda ev: f"not yet: {ev.blank}", stop=True),
    Rule("epoch 0 trains (factor > 0)", lambda ev, _: ev.factors[0] > 0,
         lambda ev: f"the factor at epoch 0 is {ev.factors[0]:g}", mistakes=(_epoch_over_w,)),
    Rule("reaches 1 at the last warmup epoch", lambda ev, _: math.isclose(ev.factors[ev.warmup_epochs - 1], 1),
         lambda ev: f"the factor at epoch {ev.warmup_epochs - 1} is {ev.factors[ev.warmup_epochs - 1]:g}, not 1"),
    Rule("holds 1 after the warmup", lambda ev, _: all(math.isclose(f, 1) for f in ev.factors[ev.warmup_epochs:]),
         lambda ev: "after the warmup keep returning 1.0, e.g. min(..., 1.0)"),
)


def judge_factors(evidence: FactorEvidence, context: JudgeContext | None = None) -> CheckReport:
    """Runs anywhere: in the learner's kernel, or in the grader's process on loaded evidence."""
    return run_rules(f"Warmup factor over {evidence.warmup_epochs} epochs", RULES, evidence, context)


# 5. The check: what the notebook imports and calls. A real one is also listed in
# helpers.checks.registry, which makes the grader judge its cells from evidence.
check_warmup_factor = Check("check_warmup_factor", collect_factors, judge_factors, evidence=FactorEvidence)
