"""Recognise common wrong answers from the values they produce, and name the actual mistake.

A check that only says "differs from the reference at epoch 80" leaves the learner guessing, and a
generic hint can point at the wrong fix ("use epoch + 1" for an exponent divided by W). Each
recogniser here rebuilds a known wrong formula from the same inputs and compares it value for
value with what the learner's code produced; only an exact match (to rounding) names the mistake,
so a hint is never attached to an answer it does not describe. Pure functions on recorded
numbers: usable in the learner's kernel and by the grader on evidence alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from helpers.settings import WARMUP_FRACTION
from helpers.validate import is_number

TOL = 1e-9


def _close(values: Sequence[float] | np.ndarray, expected: Sequence[float], scale: float = 1.0) -> bool:
    a, b = np.asarray(values, dtype=float), np.asarray(expected, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= TOL * max(scale, 1e-12)))


def exponential_exponent_over_w(factors: Sequence[float], warmup_epochs: int) -> str | None:
    """``start ** (1 - epoch / W)`` instead of ``start ** (1 - epoch / (W - 1))``.

    Matches when the warmup epochs before the last follow the ``/ W`` form (whatever the learner
    returns from epoch W - 1 or W on): with ``/ W`` the factor reaches 1 only at epoch W.
    """
    w = warmup_epochs
    f = [float(x) for x in factors]
    if w < 3 or len(f) < w or not 0 < f[0] < 1:
        return None
    start = f[0]
    over_w = [start ** (1 - e / w) for e in range(w - 1)]
    over_w_minus_1 = [start ** (1 - e / (w - 1)) for e in range(w - 1)]
    if not _close(f[: w - 1], over_w) or _close(f[: w - 1], over_w_minus_1):
        return None
    return (
        f"your exponent divides the epoch by W ({w}): epoch / {w} reaches 1 only at epoch {w}, one epoch after "
        f"the warmup, so the last warmup epoch ({w - 1}) is not at the full LR; divide by W - 1 ({w - 1}) instead"
    )


def _native(num_epochs: int, warmup: int, progress: Callable[[int], float],
            ramp: Callable[[int], float]) -> list[float]:
    return [ramp(e) if e < warmup else 0.5 * (1 + math.cos(math.pi * progress(e))) for e in range(num_epochs)]


def native_factor_mistake(lrs: Sequence[float] | np.ndarray, num_epochs: int, base_lr: float) -> str | None:
    """Name a known slip in a ``LambdaLR`` warmup + cosine factor from its LR per epoch.

    The reference is pl_bolts' schedule: ``t / (W - 1)`` during the warmup, then the cosine with
    ``progress = (t - W) / (M - W)``; ``W = int(WARMUP_FRACTION * M)``.
    """
    m = num_epochs
    w = int(WARMUP_FRACTION * m)
    if w < 2 or m - w < 2 or len(lrs) != m:
        return None
    good_ramp = lambda e: e / max(1, w - 1)  # noqa: E731
    good_progress = lambda e: (e - w) / (m - w)  # noqa: E731
    variants: list[tuple[Callable[[int], float], Callable[[int], float], str]] = [
        (good_ramp, lambda e: (e - w) / m,
         (f"your cosine progress divides by num_epochs (M = {m}); the cosine runs only over the epochs after the "
         f"warmup, so divide (epoch - W) by M - W ({m - w}): with M it never reaches 0 at the last epoch")),
        (good_ramp, lambda e: e / m,
         (f"your cosine progress is epoch / M: it starts the cosine part-way down at epoch W ({w}); measure it from "
         f"the end of the warmup, (epoch - W) / (M - W)")),
        (good_ramp, lambda e: e / (m - w),
         f"your cosine progress does not subtract the warmup: use (epoch - W) / (M - W), which is 0 at epoch W ({w})"),
        (lambda e: e / w, good_progress,
         (f"your warmup divides by W ({w}); pl_bolts divides by W-1 = {w - 1}, so the warmup reaches the base LR at "
         f"epoch W - 1 and holds it at epoch W")),
        (lambda e: (e + 1) / w, good_progress,
         ("your warmup is (epoch + 1) / W, which starts above 0; pl_bolts starts at 0 (warmup_start_lr=0) and "
         "divides by W - 1: epoch / (W - 1)")),
    ]
    scale = max(abs(base_lr), 1e-12)
    if _close(lrs, [base_lr * x for x in _native(m, w, good_progress, good_ramp)], scale):
        return None
    for ramp, progress, hint in variants:
        if _close(lrs, [base_lr * x for x in _native(m, w, progress, ramp)], scale):
            return hint
    return None


def non_whole_warmup(warmup_epochs: object, num_epochs: int) -> str | None:
    """``warmup_epochs=WARMUP_FRACTION * num_epochs`` left as a float that is not a whole number."""
    if not is_number(warmup_epochs):
        return None
    if float(warmup_epochs).is_integer():
        return None
    return (
        f"with num_epochs={num_epochs} your warmup_epochs is {warmup_epochs:g}, not a whole number: pl_bolts compares "
        f"the epoch with it exactly, so the warmup never hands over and overshoots the base LR; use "
        f"int({WARMUP_FRACTION} * num_epochs) = {int(WARMUP_FRACTION * num_epochs)}"
    )


def literal_learning_rate(lr_seen: float, lr_given: float, template_lr: float) -> str | None:
    """The optimizer's LR stays at a typed-in number when the model is built with another one."""
    if math.isclose(lr_seen, lr_given, rel_tol=1e-9):
        return None
    typed = " (the template's value, typed in)" if math.isclose(lr_seen, template_lr, rel_tol=1e-9) else ""
    return (
        f"a model built with learning_rate={lr_given:g} got an optimizer with lr={lr_seen:g}{typed}: pass "
        f"lr=self.learning_rate, so the LR follows the model's setting instead of a number in the code"
    )
