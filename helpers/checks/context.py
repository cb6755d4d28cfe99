"""Where a criterion is judged: in the learner's notebook, or by the grader from evidence.

The same ``judge_*`` function serves both; only this context differs. In the notebook the
schedule is judged at the learner's own ``num_epochs`` plus fixed probe lengths; the grader
judges at the course length plus probe lengths it draws for each run (:func:`draw_probes`), in
quick and full mode alike, so a hard-coded number cannot happen to be right.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from helpers.settings import COURSE_EPOCHS, QUICK_EPOCHS, WARMUP_FRACTION, quick_epochs

# Exercise 1's probes are training lengths. A hard-coded schedule is right by accident at a
# common total, or where the warmup (WARMUP_FRACTION of it) is a common hard-coded warmup; probes
# avoid both. (Notebook 00 probes warmup lengths themselves: its own set is in warmup_lambdas.)
COMMON_HARDCODED_WARMUPS = {5, 10, 20, 25, 50}
COMMON_HARDCODED_TOTALS = {20, 40, 50, 60, 100, 200}
PROBE_RANGE = (30, 400)
# The notebook's own probes: one where the warmup is not a whole number of epochs, one where it is.
LEARNER_PROBES = (37, 152)


def unfriendly(length: int, course: int = COURSE_EPOCHS) -> bool:
    """True for a probe length at which no common hard-coded value is right by accident."""
    return (length != course and length not in COMMON_HARDCODED_TOTALS
            and int(WARMUP_FRACTION * length) not in COMMON_HARDCODED_WARMUPS)


def draw_probes(seed: int, course: int = COURSE_EPOCHS) -> tuple[int, ...]:
    """Three probe lengths for one grading run: below the course length with a warmup that is not
    a whole number of epochs, above it likewise, and above it with a whole warmup."""
    rng = random.Random(seed)
    low, high = PROBE_RANGE

    def pick(lo: int, hi: int, whole_quarter: bool) -> int:
        options = [n for n in range(lo, hi + 1) if unfriendly(n, course) and (n % QUICK_EPOCHS == 0) == whole_quarter]
        return rng.choice(options)

    return pick(low, course - 1, False), pick(course + 1, high, False), pick(course + 1, high, True)


COURSE_LENGTH = f"num_epochs is the course's {COURSE_EPOCHS}"  # the criterion's name, in every check that has it


def wrong_length(lengths: Sequence[tuple[str, object]], context: JudgeContext) -> tuple[str, object] | None:
    """The first ``(label, value)`` that fails "num_epochs is the course's"; None when it holds or is not
    judged (``context.quick``: then the criterion is skipped). Full mode wants COURSE_EPOCHS. In the
    grader's quick mode course_epochs(COURSE_EPOCHS) gives the quick length, so any other value was
    typed in by hand; in a learner's own quick mode the lengths are theirs to try."""
    expected = COURSE_EPOCHS if context.quick is None else min(COURSE_EPOCHS, context.quick)
    wrong = next(((label, value) for label, value in lengths if value != expected), None)
    return wrong if context.quick is None or context.grader else None


@dataclass(frozen=True)
class JudgeContext:
    """How to judge: ``grader`` contexts use the course length as the main length; ``quick``
    is the quick-mode training length (None in full mode); ``key`` holds instructor data such
    as the quiz's answers."""

    probes: tuple[int, ...] = LEARNER_PROBES
    grader: bool = False
    quick: int | None = None
    course_epochs: int = COURSE_EPOCHS
    key: Mapping[str, object] = field(default_factory=dict)
    seed: int = 0

    def main_length(self, learners: int) -> int:
        """The length the schedule is judged at: the course's for the grader, else the learner's."""
        return self.course_epochs if self.grader else learners

    def probe_lengths(self, main: int) -> list[int]:
        return [p for p in dict.fromkeys(self.probes) if p != main]


def learner_context() -> JudgeContext:
    """The context of a check called in the notebook: in quick mode when the grader's quick-mode
    length is set in this kernel's environment."""
    return JudgeContext(quick=quick_epochs())


def lengths_to_record(own: int, probes: Sequence[int], course: int = COURSE_EPOCHS) -> list[int]:
    """Every length a collector records: the learner's, the course's and the probes."""
    return sorted({own, course, *probes})
