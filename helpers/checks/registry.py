"""The checks the grader judges from evidence, registered as objects.

A check cell made only of calls to these checks is *judged*: the grader replaces it by an
evidence cell that runs each check's ``collect`` in the learner's kernel and applies its
``judge`` in the grader's own process. Any other check cell (an instructor's own print check) is
compared by its printed output (docs/AUTHORING.md says when to use which).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from helpers.checks.check import Check

# What a check cell calls -> where its Check object lives (module, attribute). Resolved on first use:
# a learner's kernel collecting Exercise 0's evidence must not import torch, Lightning and pl_bolts
# for the other exercises' checks (time, and the address space a graded kernel is allowed).
_HOMES: dict[str, tuple[str, str]] = {
    "check_warmup_schedule": ("helpers.checks.warmup_cosine", "check_warmup_schedule"),
    "check_configure_optimizers": ("helpers.checks.warmup_cosine", "check_configure_optimizers"),
    "check_native_schedule": ("helpers.checks.warmup_cosine", "check_native_schedule"),
    "check_training_result": ("helpers.checks.warmup_cosine", "check_training_result"),
    "check_answers": ("helpers.checks.quiz_answers", "ANSWERS"),
    "check_optimizer": ("helpers.checks.adamw", "check_optimizer"),
    "check_weight_decay_choice": ("helpers.checks.adamw", "check_weight_decay_choice"),
    "check_linear_warmup": ("helpers.checks.warmup_lambdas", "check_linear_warmup"),
    "check_exponential_warmup": ("helpers.checks.warmup_lambdas", "check_exponential_warmup"),
}


class _Registry(Mapping[str, Check[Any]]):
    """The judged checks by name; a check's module is imported when the check is first looked up."""

    def __getitem__(self, name: str) -> Check[Any]:
        module, attribute = _HOMES[name]
        check = getattr(importlib.import_module(module), attribute)
        if not isinstance(check, Check) or check.name != name:
            raise TypeError(f"{module}.{attribute} is not the Check {name!r}")
        return check

    def __iter__(self) -> Iterator[str]:
        return iter(_HOMES)

    def __len__(self) -> int:
        return len(_HOMES)


JUDGED: Mapping[str, Check[Any]] = _Registry()


def all_checks() -> tuple[Check[Any], ...]:
    """Every judged check (imports all their modules: the grader's side)."""
    return tuple(JUDGED.values())
