"""helpers.update_rules: the numpy rules reproduce torch's own optimizers, and each is told from the others.

Every case steps a real torch optimizer with :func:`record_steps` and compares its recorded
elements with :func:`simulate` from the hyperparameters the optimizer was built with, at the
tolerances :func:`identify` uses. The parameters are one larger than ``ELEMENTS`` (only its first
elements are recorded) and one smaller (all of it is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

import numpy as np
import pytest
import torch

from helpers.update_rules import (
    ATOL,
    ELEMENTS,
    RTOL,
    UPDATE_RULES,
    Group,
    UpdateRule,
    identify,
    record_steps,
    simulate,
    start_and_grads,
)

LR, WEIGHT_DECAY, BETAS, EPS, MOMENTUM = 0.01, 0.3, (0.9, 0.999), 1e-8, 0.9
Params = list[torch.nn.Parameter]


class Hyper(TypedDict, total=False):
    """Hyperparameters a case sets other than the module's defaults above."""

    lr: float
    weight_decay: float
    momentum: float
    amsgrad: bool


def _params() -> Params:
    return [torch.nn.Parameter(torch.zeros(4, ELEMENTS)), torch.nn.Parameter(torch.zeros(ELEMENTS // 2))]


def _group(after: dict[int, np.ndarray], *, lr: float = LR, weight_decay: float = WEIGHT_DECAY,
           momentum: float = 0.0, decoupled: bool = False, amsgrad: bool = False) -> Group:
    return Group(lr, weight_decay, BETAS, EPS, momentum, decoupled, amsgrad, after)


def _reproduces(rule: UpdateRule, group: Group, seed: int) -> bool:
    """Whether ``rule`` gives every recorded element of ``group``."""
    for index, after in group.after.items():
        start, grads = start_and_grads(seed, index)
        expected = simulate(rule, group, start[: len(after)], [g[: len(after)] for g in grads])
        if expected is None or not np.allclose(after, expected, rtol=RTOL, atol=ATOL):
            return False
    return True


CASES: dict[str, tuple[Callable[[Params], torch.optim.Optimizer], Hyper, UpdateRule]] = {
    "AdamW": (lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=WEIGHT_DECAY, betas=BETAS, eps=EPS), {}, "adamw"),
    "Adam with decoupled_weight_decay": (lambda p: torch.optim.Adam(
        p, lr=LR, weight_decay=WEIGHT_DECAY, decoupled_weight_decay=True), {}, "adamw"),
    "Adam with weight_decay (L2)": (lambda p: torch.optim.Adam(p, lr=LR, weight_decay=WEIGHT_DECAY), {}, "adam"),
    "SGD": (lambda p: torch.optim.SGD(p, lr=LR), {"weight_decay": 0.0}, "sgd"),
    "SGD with weight_decay": (lambda p: torch.optim.SGD(p, lr=LR, weight_decay=WEIGHT_DECAY), {}, "sgd"),
    "SGD with momentum": (lambda p: torch.optim.SGD(p, lr=LR, momentum=MOMENTUM),
                          {"weight_decay": 0.0, "momentum": MOMENTUM}, "sgd"),
    "SGD with momentum and weight_decay": (lambda p: torch.optim.SGD(
        p, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY), {"momentum": MOMENTUM}, "sgd"),
}


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("case", list(CASES))
def test_each_torch_optimizer_is_reproduced_by_its_own_rule_only(case: str, seed: int) -> None:
    make, hyper, rule = CASES[case]
    [after] = record_steps(make(_params()), seed)
    assert [len(a) for a in after.values()] == [ELEMENTS, ELEMENTS // 2]
    group = _group(after, **hyper)
    assert _reproduces(rule, group, seed)
    assert [r for r in UPDATE_RULES if _reproduces(r, group, seed)] == [rule]
    assert identify([group], seed) == rule


@pytest.mark.parametrize("make", [lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=0.0),
                                  lambda p: torch.optim.Adam(p, lr=LR)], ids=["AdamW", "Adam"])
def test_without_weight_decay_adam_and_adamw_are_one_rule_named_adamw(
        make: Callable[[Params], torch.optim.Optimizer]) -> None:
    """With weight_decay 0 the two rules coincide; ``identify`` names the first, "adamw", and the
    check tells the template's Adam apart by its class name and its decay (see checks.adamw)."""
    [after] = record_steps(make(_params()), 0)
    group = _group(after, weight_decay=0.0)
    assert _reproduces("adamw", group, 0) and _reproduces("adam", group, 0)
    assert identify([group], 0) == "adamw"


def test_groups_with_their_own_weight_decay_are_each_simulated_with_it() -> None:
    weights, biases = _params()
    param_groups: list[dict[str, Any]] = [{"params": [weights]}, {"params": [biases], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(param_groups, lr=LR, weight_decay=WEIGHT_DECAY)
    decayed, undecayed = record_steps(optimizer, 0)
    assert list(decayed) == [0] and list(undecayed) == [1]  # parameters numbered across groups
    groups = [_group(decayed), _group(undecayed, weight_decay=0.0)]
    assert identify(groups, 0) == "adamw"
    assert identify([groups[0], _group(undecayed)], 0) is None  # the second group's decay misread


@pytest.mark.parametrize(("make", "hyper"), [
    (lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=WEIGHT_DECAY), {"lr": 2 * LR}),
    (lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=WEIGHT_DECAY), {"weight_decay": 0.01}),
    (lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=WEIGHT_DECAY, amsgrad=True), {"amsgrad": True}),
    (lambda p: torch.optim.SGD(p, lr=LR, momentum=MOMENTUM, nesterov=True), {"momentum": MOMENTUM}),
    (lambda p: torch.optim.RMSprop(p, lr=LR, weight_decay=WEIGHT_DECAY), {}),
], ids=["other-lr", "other-decay", "amsgrad", "nesterov", "rmsprop"])
def test_no_rule_is_named_when_none_reproduces_the_steps(make: Callable[[Params], torch.optim.Optimizer],
                                                         hyper: Hyper) -> None:
    [after] = record_steps(make(_params()), 0)
    assert identify([_group(after, **hyper)], 0) is None


def test_nothing_recorded_names_no_rule() -> None:
    assert identify([], 0) is None
    assert identify([_group({})], 0) is None
    assert simulate("adam", Group(LR, 0.0, None, EPS, 0.0, False, False, {}), np.zeros(2), [np.ones(2)]) is None
    assert simulate("sgd", Group(None, 0.0, None, None, 0.0, False, False, {}), np.zeros(2), [np.ones(2)]) is None
