"""What AdamW, Adam and SGD do to a parameter, to tell which rule an optimizer really applies.

An optimizer is recognised by its behaviour, not by its class or its arguments: a learner's
``Adam(weight_decay=...)`` and ``AdamW(weight_decay=...)`` take the same arguments but decay
weights differently. :func:`record_steps` steps a torch optimizer a few times on fixed gradients
from fixed start values and records some elements of every parameter; :func:`simulate` replays one
reference rule in numpy from the hyperparameters the optimizer reports; :func:`identify` names the
rule that reproduces every recorded element. The rules act element-wise, so a few elements of each
parameter tell them apart as well as all of them would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

UpdateRule = Literal["adamw", "adam", "sgd"]
# Tried in this order: with weight_decay 0 AdamW and Adam are the same rule, and it is named "adamw".
UPDATE_RULES: tuple[UpdateRule, ...] = ("adamw", "adam", "sgd")
STEPS, ELEMENTS = 3, 8  # optimizer steps, and elements recorded per parameter
RTOL, ATOL = 1e-4, 1e-6  # float32 steps in torch against float64 in numpy


@dataclass(frozen=True)
class Group:
    """A parameter group's hyperparameters (None: not a finite number) and ``after``: per parameter
    (numbered across groups) its recorded elements after the steps."""

    lr: float | None
    weight_decay: float
    betas: tuple[float, float] | None
    eps: float | None
    momentum: float
    decoupled: bool
    amsgrad: bool
    after: dict[int, np.ndarray]


def start_and_grads(seed: int, param: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Parameter ``param``'s start values and its gradient at each step: drawn from ``seed`` alone,
    so the judge can replay them wherever the evidence is read."""
    rng = np.random.default_rng([seed, param])
    return rng.standard_normal(ELEMENTS), [rng.standard_normal(ELEMENTS) for _ in range(STEPS)]


def record_steps(optimizer: torch.optim.Optimizer, seed: int) -> list[dict[int, np.ndarray]]:
    """Step ``optimizer`` on the fixed gradients from the fixed start values (elements past the
    first ``ELEMENTS`` of a parameter start at 0 with gradient 0); per param group after the steps,
    its parameters' recorded elements."""
    params = [(id(g), p, min(ELEMENTS, p.numel())) for g in optimizer.param_groups for p in g["params"]]
    draws = [start_and_grads(seed, index) for index in range(len(params))]
    with torch.no_grad():
        for (_, p, k), (start, _) in zip(params, draws, strict=True):
            p.view(-1).zero_()
            p.view(-1)[:k] = torch.as_tensor(start[:k], dtype=p.dtype)
    for step in range(STEPS):
        for (_, p, k), (_, grads) in zip(params, draws, strict=True):
            grad = torch.zeros_like(p)
            grad.view(-1)[:k] = torch.as_tensor(grads[step][:k], dtype=p.dtype)
            p.grad = grad
        optimizer.step()
    return [{i: p.detach().view(-1)[:k].double().numpy().copy() for i, (owner, p, k) in enumerate(params)
             if owner == id(g)} for g in optimizer.param_groups]


def simulate(rule: UpdateRule, group: Group, start: np.ndarray, grads: list[np.ndarray]) -> np.ndarray | None:
    """The elements after the steps under one rule with the group's hyperparameters; None when the
    group lacks one the rule needs (or uses AMSGrad, which none of the rules here is). AdamW shrinks
    θ itself; Adam and SGD add weight_decay·θ to the gradient (L2), which Adam's denominator rescales."""
    lr, wd, theta = group.lr, group.weight_decay, start.copy()
    if lr is None or (rule != "sgd" and (group.betas is None or group.eps is None or group.amsgrad)):
        return None
    (b1, b2), eps = group.betas or (0.0, 0.0), group.eps or 0.0
    m = v = buffer = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        if rule == "adamw":
            theta = theta * (1 - lr * wd)
        else:
            g = g + wd * theta
        if rule == "sgd":
            buffer = g if t == 1 else group.momentum * buffer + g
            theta = theta - lr * (buffer if group.momentum else g)
        else:
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            theta = theta - (lr / (1 - b1**t)) * m / (np.sqrt(v) / math.sqrt(1 - b2**t) + eps)
    return theta


def identify(groups: Sequence[Group], seed: int) -> UpdateRule | None:
    """The first rule of ``UPDATE_RULES`` that reproduces every recorded element of every group
    (steps recorded by :func:`record_steps` with ``seed``); None if none does or nothing was recorded."""
    recorded = [(g, start_and_grads(seed, i), a) for g in groups for i, a in g.after.items()]
    if not groups or not all(g.after for g in groups) or not all(0 < len(a) <= ELEMENTS for *_, a in recorded):
        return None
    for rule in UPDATE_RULES:
        expected = [(simulate(rule, g, s[: len(a)], [x[: len(a)] for x in xs]), a) for g, (s, xs), a in recorded]
        if all(e is not None and np.allclose(a, e, rtol=RTOL, atol=ATOL) for e, a in expected):
            return rule
    return None
