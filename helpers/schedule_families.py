"""The learning-rate schedule families the course compares, as closed forms and as real schedulers.

Each family exists twice on purpose: a vectorised closed form (fast enough to redraw a widget on
every slider move, even at 45,000 steps) and the torch / pl_bolts scheduler a learner would
actually write. The tests record the scheduler with :func:`helpers.schedules.record_lr` and
check both agree, so the picture the widget draws is the schedule training would follow.

Families (``FAMILIES``), with ``n`` = total epochs (or steps) and ``w`` = warmup epochs (or steps):

- ``"cosine"``: ``CosineAnnealingLR(T_max=n, eta_min)``, no warmup.
- ``"linear_warmup_cosine"``: pl_bolts ``LinearWarmupCosineAnnealingLR``: linear from
  ``warmup_start_lr`` over ``t = 0..w-1`` (pl_bolts divides by ``w - 1``, so the peak is
  reached at ``w - 1``), then cosine from the base LR at ``t = w`` to ``eta_min`` at ``t = n``.
- ``"exp_warmup_cosine"``: ``warmup_start_lr * (base / warmup_start_lr) ** (t / w)`` for
  ``t < w`` (a constant factor per step), then the same cosine (``SequentialLR``).
- ``"constant"``: linear warmup reaching the base LR at ``t = w`` (``LambdaLR``), then constant.
- ``"step"``: the same linear warmup, then the LR times ``gamma`` every ``step_size`` epochs
  counted from the end of warmup (``SequentialLR`` of ``LambdaLR`` and ``StepLR``).

``eta_min`` only matters for the cosine families; the warmup settings do not matter for
``"cosine"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, SequentialLR, StepLR

from helpers.data import STEPS_PER_EPOCH
from helpers.schedules import INTERVALS, LRCurve, SchedulerFactory, record_lr, warmup_cosine_values
from helpers.settings import BASE_LR, COURSE_EPOCHS
from helpers.validate import is_int, is_number

# key -> label shown in the widget's dropdown
FAMILIES: dict[str, str] = {
    "cosine": "cosine only",
    "linear_warmup_cosine": "linear warmup + cosine",
    "exp_warmup_cosine": "exponential warmup + cosine",
    "constant": "linear warmup, then constant",
    "step": "linear warmup, then step decay",
}
WARMUP_FAMILIES = ("linear_warmup_cosine", "exp_warmup_cosine", "constant", "step")
COSINE_FAMILIES = ("cosine", "linear_warmup_cosine", "exp_warmup_cosine")


@dataclass(frozen=True)
class ScheduleConfig:
    """One point in the widget's settings space; building one validates it (``ValueError``).

    Epoch counts are in epochs in both intervals; with ``interval="step"`` they are multiplied
    by ``steps_per_epoch`` for the scheduler, as a learner does for a per-step Lightning schedule.
    """

    family: str = "linear_warmup_cosine"
    base_lr: float = BASE_LR
    warmup_epochs: int = 10
    warmup_start_lr: float = 0.0
    eta_min: float = 0.0
    total_epochs: int = COURSE_EPOCHS
    interval: str = "epoch"
    steps_per_epoch: int = STEPS_PER_EPOCH
    step_size: int = 30
    gamma: float = 0.1

    def __post_init__(self) -> None:
        validate(self)

    @property
    def has_warmup(self) -> bool:
        return self.family in WARMUP_FAMILIES and self.warmup_epochs > 0

    @property
    def units_per_epoch(self) -> int:
        """Scheduler steps per epoch: 1 when stepped per epoch, ``steps_per_epoch`` per step."""
        return self.steps_per_epoch if self.interval == "step" else 1

    @property
    def total_units(self) -> int:
        return self.total_epochs * self.units_per_epoch

    @property
    def warmup_units(self) -> int:
        return self.warmup_epochs * self.units_per_epoch if self.family in WARMUP_FAMILIES else 0


def check_common(family: object, interval: object, total_epochs: object, steps_per_epoch: object) -> None:
    """A known family and interval, and lengths of at least 1 (numpy whole numbers too): checked
    alike for a :class:`ScheduleConfig` and for the arguments of :func:`helpers.lr_explorer.lr_explorer`."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {tuple(FAMILIES)}, got {family!r}")
    if interval not in INTERVALS:
        per_epoch, per_batch = INTERVALS
        raise ValueError(f"interval must be {per_epoch!r} (step once per epoch) or {per_batch!r} (once per batch), "
                         f"got {interval!r}")
    for name, value in (("total_epochs", total_epochs), ("steps_per_epoch", steps_per_epoch)):
        if not is_int(value, numpy=True) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def _check_common(c: ScheduleConfig) -> None:
    """Family, interval, lengths and numbers: what every family needs."""
    check_common(c.family, c.interval, c.total_epochs, c.steps_per_epoch)
    for name in ("base_lr", "warmup_start_lr", "eta_min", "gamma"):
        value = getattr(c, name)
        if not is_number(value, numpy=True) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if c.base_lr <= 0:
        raise ValueError(f"The base LR must be positive, got {c.base_lr:g}: the optimizer would not learn (or climb "
                         f"the loss).")


def _check_cosine(c: ScheduleConfig) -> None:
    """eta_min of a family ending in a cosine."""
    if c.eta_min < 0:
        raise ValueError(f"eta_min must be 0 or more, got {c.eta_min:g}: a learning rate cannot be negative.")
    if c.eta_min > c.base_lr:
        raise ValueError(
            f"eta_min ({c.eta_min:g}) is above the base LR ({c.base_lr:g}): "
            "the cosine would climb instead of decay. Lower eta_min or raise the base LR."
        )


def _check_warmup(c: ScheduleConfig) -> None:
    """The warmup of a family with one: its length and its start LR."""
    if not is_int(c.warmup_epochs, numpy=True) or c.warmup_epochs < 0:
        raise ValueError(f"warmup epochs must be a whole number of 0 or more, got {c.warmup_epochs!r}")
    if c.warmup_epochs >= c.total_epochs:
        raise ValueError(
            f"The warmup ({c.warmup_epochs} epochs) must end before training does ({c.total_epochs} epochs): "
            "the schedule would never leave the warmup. Shorten the warmup or train longer."
        )
    if c.family == "linear_warmup_cosine" and c.warmup_epochs == 0:
        raise ValueError(
            "linear warmup + cosine needs at least 1 warmup epoch: pl_bolts' LinearWarmupCosineAnnealingLR "
            "with warmup_epochs=0 stays at warmup_start_lr for the whole run. Use 'cosine only' for no warmup."
        )
    if c.warmup_epochs > 0:
        if c.warmup_start_lr < 0:
            raise ValueError(f"The warmup start LR must be 0 or more, got {c.warmup_start_lr:g}: a learning rate "
                             f"cannot be negative.")
        if c.warmup_start_lr > c.base_lr:
            raise ValueError(
                f"The warmup start LR ({c.warmup_start_lr:g}) is above the base LR ({c.base_lr:g}): "
                "a warmup has to rise to the base LR."
            )
        if c.family == "exp_warmup_cosine" and c.warmup_start_lr == 0:
            raise ValueError(
                "An exponential warmup cannot start at LR 0: it multiplies the LR by a constant factor, "
                "and 0 times anything stays 0. Start at a small positive LR, e.g. base LR / 100."
            )


def _check_step(c: ScheduleConfig) -> None:
    """Step size and gamma of step decay."""
    if not is_int(c.step_size, numpy=True) or c.step_size < 1:
        raise ValueError(f"step size (epochs between decays) must be a whole number of at least 1, got {c.step_size!r}")
    if not 0 < c.gamma <= 1:
        raise ValueError(f"gamma (the factor applied at each decay) must be in (0, 1], got {c.gamma:g}")


def validate(config: ScheduleConfig) -> None:
    """Raise ``ValueError`` saying what is impossible about ``config`` (the widget shows the text)."""
    _check_common(config)
    if config.family in COSINE_FAMILIES:
        _check_cosine(config)
    if config.family in WARMUP_FAMILIES:
        _check_warmup(config)
    if config.family == "step":
        _check_step(config)


def _cosine_tail(t: np.ndarray, c: ScheduleConfig) -> np.ndarray:
    """The cosine from the base LR at the end of the warmup to eta_min at the end (valid for t >= warmup)."""
    return warmup_cosine_values(t, base_lr=c.base_lr, warmup_epochs=c.warmup_units, max_epochs=c.total_units,
                                eta_min=c.eta_min)


def _linear_to_base(t: np.ndarray, c: ScheduleConfig) -> np.ndarray:
    """Linear warmup that reaches the base LR at ``t = w`` (torch ``LinearLR`` convention)."""
    w = c.warmup_units
    if w == 0:
        return np.full(t.shape, float(c.base_lr))
    return c.warmup_start_lr + (c.base_lr - c.warmup_start_lr) * np.minimum(t, w) / w


def closed_form_values(config: ScheduleConfig) -> np.ndarray:
    """LR at every scheduler step ``t = 0 .. total_units - 1`` (one value per epoch or per batch)."""
    c = config
    t = np.arange(c.total_units, dtype=float)
    w = c.warmup_units
    if c.family == "cosine":
        return _cosine_tail(t, c)
    if c.family == "linear_warmup_cosine":
        return warmup_cosine_values(t, base_lr=c.base_lr, warmup_epochs=w, max_epochs=c.total_units,
                                    warmup_start_lr=c.warmup_start_lr, eta_min=c.eta_min)
    if c.family == "exp_warmup_cosine":
        if w == 0:
            return _cosine_tail(t, c)
        ramp = c.warmup_start_lr * (c.base_lr / c.warmup_start_lr) ** (np.minimum(t, w) / w)
        return np.where(t < w, ramp, _cosine_tail(t, c))
    if c.family == "constant":
        return _linear_to_base(t, c)
    # step decay after the warmup
    drops = np.floor(np.maximum(t - w, 0) / (c.step_size * c.units_per_epoch))
    return np.where(t < w, _linear_to_base(t, c), c.base_lr * c.gamma**drops)


def closed_form_curve(config: ScheduleConfig) -> LRCurve:
    """The schedule as an :class:`LRCurve`, laid out exactly as ``record_lr`` lays it out.

    Per epoch: one value per epoch (``steps_per_epoch=1``). Per step: one value per batch.
    """
    return LRCurve(
        per_step=closed_form_values(config), steps_per_epoch=config.units_per_epoch, interval=config.interval
    )


def scheduler_factory(config: ScheduleConfig) -> SchedulerFactory:
    """The torch / pl_bolts scheduler for ``config``, as ``optimizer -> scheduler``.

    The optimizer's LR must be ``config.base_lr`` (``record_lr(..., base_lr=config.base_lr)``).
    """
    c = config
    n, w = c.total_units, c.warmup_units

    def linear_warmup(optimizer: torch.optim.Optimizer) -> LambdaLR:
        start = c.warmup_start_lr / c.base_lr
        return LambdaLR(optimizer, lambda t: start + (1 - start) * min(t, w) / w)

    def make(optimizer: torch.optim.Optimizer) -> object:
        if c.family == "cosine":
            return CosineAnnealingLR(optimizer, T_max=n, eta_min=c.eta_min)
        if c.family == "linear_warmup_cosine":
            from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

            return LinearWarmupCosineAnnealingLR(
                optimizer, warmup_epochs=w, max_epochs=n, warmup_start_lr=c.warmup_start_lr, eta_min=c.eta_min
            )
        if c.family == "exp_warmup_cosine":
            cosine = CosineAnnealingLR(optimizer, T_max=n - w, eta_min=c.eta_min)
            if w == 0:
                return cosine
            ratio = c.warmup_start_lr / c.base_lr
            warmup = LambdaLR(optimizer, lambda t: ratio ** (1 - min(t, w) / w))
            return SequentialLR(optimizer, [warmup, cosine], milestones=[w])
        if c.family == "constant":
            return linear_warmup(optimizer) if w else LambdaLR(optimizer, lambda t: 1.0)
        decay = StepLR(optimizer, step_size=c.step_size * c.units_per_epoch, gamma=c.gamma)
        if w == 0:
            return decay
        return SequentialLR(optimizer, [linear_warmup(optimizer), decay], milestones=[w])

    return make


def recorded_curve(config: ScheduleConfig) -> LRCurve:
    """Run the real scheduler for ``config`` through :func:`record_lr` (slow per step: ~1 s)."""
    return record_lr(
        scheduler_factory(config),
        config.total_epochs,
        steps_per_epoch=config.units_per_epoch,
        interval=config.interval,
        base_lr=config.base_lr,
    )
