"""A self-check as one object: what the learner calls and what the grader judges.

A :class:`Check` pairs ``collect`` (the learner's live objects -> plain data, run in the learner's
kernel) with ``judge`` (that data -> a :class:`CheckReport`, run anywhere). Calling the object
does both and prints the report, so the learner's ``check_*`` and the grader's verdict are the
same code. :mod:`helpers.checks.registry` lists the checks the grader judges from evidence.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from helpers.checks.context import JudgeContext
from helpers.checks.report import CheckReport
from helpers.evidence_codec import Evidence

E = TypeVar("E", bound=Evidence)  # a check's evidence: what collect returns and judge reads
V = TypeVar("V")  # what a rule reads: the evidence, or a view computed once from it


@dataclass(frozen=True)
class Check(Generic[E]):
    """One self-check.

    ``name`` is what a check cell calls; ``evidence``: the :class:`~helpers.evidence_codec.Evidence`
    class ``collect`` returns (the grader loads and validates the written record as that class);
    ``partial``: judged per criterion, for partial points (the quiz); ``needs_key``: judged
    against the solution's own evidence (the instructor's key); ``caller_namespace``: ``collect``
    looks for trained objects in the calling notebook's globals.
    """

    name: str
    collect: Callable[..., E]
    judge: Callable[[E, JudgeContext | None], CheckReport]
    evidence: type[E]
    partial: bool = False
    needs_key: bool = False
    caller_namespace: bool = False

    def collect_graded(self, args: Sequence[object], kwargs: Mapping[str, object],
                       options: Mapping[str, object]) -> E:
        """``collect`` in a graded kernel: the grader's options (``probes``, ``seed``, ``namespace``)
        are passed only where the collector takes them, so a learner's unknown keyword still raises."""
        accepted = inspect.signature(self.collect).parameters
        return self.collect(*args, **kwargs, **{k: v for k, v in options.items() if k in accepted})

    def evaluate(self, *args: object, **kwargs: object) -> CheckReport:
        """Collect and judge in the learner's kernel: the report ``check_*`` prints."""
        if self.caller_namespace:
            kwargs.setdefault("namespace", sys._getframe(1).f_globals)
        return self.judge(self.collect(*args, **kwargs), None)

    def __call__(self, *args: object, **kwargs: object) -> None:
        """Print one ✓/✗ line per criterion."""
        if self.caller_namespace:
            kwargs.setdefault("namespace", sys._getframe(1).f_globals)
        self.evaluate(*args, **kwargs).show()


@dataclass(frozen=True)
class Rule(Generic[V]):
    """One criterion as a row of a table: its ✓/✗ line, when it holds, and the hint when not.

    ``mistakes`` name known wrong answers from the evidence (see :mod:`helpers.mistakes`); the
    first that recognises the answer gives the hint instead of the generic one. ``stop``: the
    later rules make no sense when this one fails (e.g. the blank is not filled yet).
    """

    name: str
    holds: Callable[[V, JudgeContext | None], bool]
    hint: Callable[[V], str]
    stop: bool = False
    mistakes: tuple[Callable[[V], str | None], ...] = ()


def run_rules(title: str, rules: Sequence[Rule[V]], evidence: V, context: JudgeContext | None = None) -> CheckReport:
    """The report of ``rules`` on ``evidence``, in table order."""
    report = CheckReport(title)
    for rule in rules:
        if rule.holds(evidence, context):
            report.add(rule.name, True)
            continue
        named = next((hint for mistake in rule.mistakes if (hint := mistake(evidence)) is not None), None)
        report.add(rule.name, False, named or rule.hint(evidence))
        if rule.stop:
            break
    return report
