"""Which check functions the grader judges from evidence, and their collect/judge twins.

A check cell made only of calls to these functions is *judged*: the grader replaces it by an
evidence cell that runs ``collect`` in the learner's kernel, and applies ``judge`` to the data
in its own process. Any other check cell (an instructor's own print check) is compared by its
printed output.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# check function -> (module, collector, judge)
JUDGED: dict[str, tuple[str, str, str]] = {
    "check_warmup_schedule": ("helpers.checks.warmup_cosine", "collect_warmup_schedule", "judge_warmup_schedule"),
    "check_configure_optimizers": ("helpers.checks.warmup_cosine", "collect_configure_optimizers",
                                   "judge_configure_optimizers"),
    "check_native_schedule": ("helpers.checks.warmup_cosine", "collect_native_schedule", "judge_native_schedule"),
    "check_training_result": ("helpers.checks.warmup_cosine", "collect_training_result", "judge_training_result"),
    "check_answers": ("helpers.checks.quiz_answers", "collect_answers", "judge_answers"),
    "check_optimizer": ("helpers.checks.adamw", "collect_optimizer", "judge_optimizer"),
    "check_weight_decay_choice": ("helpers.checks.adamw", "collect_weight_decay_choice", "judge_weight_decay_choice"),
    "check_linear_warmup": ("helpers.checks.warmup_lambdas", "collect_linear_warmup", "judge_linear_warmup"),
    "check_exponential_warmup": ("helpers.checks.warmup_lambdas", "collect_exponential_warmup",
                                 "judge_exponential_warmup"),
}


def _function(name: str, which: int) -> Callable[..., Any]:
    if name not in JUDGED:
        raise KeyError(f"{name} is not judged from evidence")
    module, *functions = JUDGED[name]
    return getattr(importlib.import_module(module), functions[which])


def collector(name: str) -> Callable[..., Any]:
    """The ``collect_*`` twin of check function ``name`` (kernel side)."""
    return _function(name, 0)


def judge(name: str) -> Callable[..., Any]:
    """The ``judge_*`` twin of check function ``name`` (grader side)."""
    return _function(name, 1)
