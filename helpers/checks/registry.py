"""The checks the grader judges from evidence, registered as objects.

A check cell made only of calls to these checks is *judged*: the grader replaces it by an
evidence cell that runs each check's ``collect`` in the learner's kernel and applies its
``judge`` in the grader's own process. Any other check cell (an instructor's own print check) is
compared by its printed output (docs/AUTHORING.md says when to use which).
"""

from __future__ import annotations

from typing import Any

from helpers.checks import adamw, quiz_answers, warmup_cosine, warmup_lambdas
from helpers.checks.check import Check

CHECKS: tuple[Check[Any], ...] = (
    warmup_cosine.check_warmup_schedule, warmup_cosine.check_configure_optimizers,
    warmup_cosine.check_native_schedule, warmup_cosine.check_training_result,
    quiz_answers.ANSWERS, adamw.check_optimizer, adamw.check_weight_decay_choice,
    warmup_lambdas.check_linear_warmup, warmup_lambdas.check_exponential_warmup,
)
# What a check cell calls -> the check.
JUDGED: dict[str, Check[Any]] = {check.name: check for check in CHECKS}
