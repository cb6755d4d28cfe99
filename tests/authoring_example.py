"""docs/AUTHORING.md's worked example: a toy exercise with one blank and one check.

Everything a check needs is here: the solution cell with its blank, typed evidence (versioned and
validated on load), the rules as a table with one named mistake, and the check object itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from helpers.checks.check import Check, Rule, run_rules
from helpers.checks.context import JudgeContext
from helpers.checks.report import CheckReport

# 1. The solution cell. `kit assign` keeps the hint and replaces the marked lines by a blank.
SOLUTION_CELL = '''\
def warmup_factor(epoch, warmup_epochs):
    ### BEGIN SOLUTION: grow linearly to 1 over warmup_epochs epochs, then hold 1
    return min(1.0, (epoch + 1) / warmup_epochs)
    ### END SOLUTION
'''
# 2. The check cell (tagged "check"): only calls to checks, so the grader can judge it from evidence.
CHECK_CELL = "check_warmup_factor(warmup_factor, warmup_epochs=4)"


# 3. The evidence: plain data only, so the grader never runs learner code to judge it.
@dataclass(frozen=True)
class FactorEvidence:
    """The factors for epochs 0 .. 2W-1, or the blank's text while it is not filled in."""

    VERSION = 1
    warmup_epochs: int
    factors: tuple[float, ...] = ()
    blank: str = ""

    def to_json(self) -> dict[str, object]:
        return {"version": self.VERSION, "warmup_epochs": self.warmup_epochs, "factors": list(self.factors),
                "blank": self.blank}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FactorEvidence:
        """Validated on load: forged or garbled evidence is an error here, never a crash in a rule."""
        w, factors, blank = data.get("warmup_epochs"), data.get("factors"), data.get("blank")
        if data.get("version") != cls.VERSION or not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 1000:
            raise ValueError("not version-1 factor evidence")
        if not isinstance(blank, str) or not isinstance(factors, list) or len(factors) not in (0, 2 * w) \
                or not all(isinstance(f, float) and math.isfinite(f) for f in factors):
            raise ValueError("malformed factor evidence")
        return cls(w, tuple(factors), blank[:300])


def collect_factors(factor: Callable[[int, int], float], warmup_epochs: int, **_: object) -> FactorEvidence:
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
check_warmup_factor = Check("check_warmup_factor", collect_factors, judge_factors)
