"""Recording the learning rate a scheduler produces, and the warmup-cosine formula.

The recorder drives a scheduler on a throw-away optimizer exactly as Lightning would (optimizer
step first, then scheduler step, once per epoch or once per batch), so a learner can look at a
schedule before spending minutes training with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from helpers.learner_code import MissingReturn, describe, describe_factor, is_none_arithmetic
from helpers.settings import BASE_LR

INTERVALS = ("epoch", "step")

SchedulerFactory = Callable[[torch.optim.Optimizer], object]


@dataclass(frozen=True)
class LRCurve:
    """Learning rate at every optimizer step; ``per_epoch`` is the LR each epoch starts with."""

    per_step: np.ndarray
    steps_per_epoch: int
    interval: str

    @property
    def epochs(self) -> int:
        return len(self.per_step) // self.steps_per_epoch

    @property
    def per_epoch(self) -> np.ndarray:
        return self.per_step[:: self.steps_per_epoch]

    @property
    def epoch_axis(self) -> np.ndarray:
        """Fractional epoch of every step, for plotting per-step curves on an epoch axis."""
        return np.arange(len(self.per_step)) / self.steps_per_epoch

    def __repr__(self) -> str:
        return (
            f"LRCurve({self.epochs} epochs x {self.steps_per_epoch} steps, interval={self.interval!r}, "
            f"first={self.per_step[0]:.4g}, max={self.per_step.max():.4g}, last={self.per_step[-1]:.4g})"
        )


def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return value


def record_lr(
    scheduler_factory: SchedulerFactory,
    epochs: int,
    *,
    steps_per_epoch: int = 1,
    interval: str = "epoch",
    base_lr: float = BASE_LR,
) -> LRCurve:
    """Run ``scheduler_factory(optimizer)`` for ``epochs`` and record the LR at every step.

    ``interval`` says when the scheduler is stepped, as in Lightning's scheduler dict:
    ``"epoch"`` after each epoch, ``"step"`` after each of the ``steps_per_epoch`` batches.
    """
    if not callable(scheduler_factory):
        raise TypeError(
            "scheduler_factory must be a function taking an optimizer and returning a scheduler, "
            f"got {type(scheduler_factory).__name__}"
        )
    _positive_int("epochs", epochs)
    _positive_int("steps_per_epoch", steps_per_epoch)
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}, got {interval!r}")
    if not isinstance(base_lr, (int, float)) or base_lr <= 0:
        raise ValueError(f"base_lr must be a positive number, got {base_lr!r}")

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=base_lr)
    try:
        scheduler = scheduler_factory(optimizer)
    except TypeError as error:  # a forgotten return in learner code, named in one line
        if is_none_arithmetic(error):
            raise MissingReturn(describe_factor(scheduler_factory), "a number") from error
        raise
    if scheduler is None:
        raise MissingReturn(describe(scheduler_factory))
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise ValueError("ReduceLROnPlateau depends on a monitored metric, so it has no curve to record")
    if not hasattr(scheduler, "step"):
        raise TypeError(f"scheduler_factory returned {type(scheduler).__name__}, which has no step() method")

    lrs = step_and_record(scheduler, optimizer, epochs, steps_per_epoch=steps_per_epoch, interval=interval)
    return LRCurve(per_step=lrs, steps_per_epoch=steps_per_epoch, interval=interval)


def step_and_record(
    scheduler: object,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    steps_per_epoch: int = 1,
    interval: str = "epoch",
    frequency: int = 1,
) -> np.ndarray:
    """Step ``scheduler`` as Lightning does (after every ``frequency`` epochs or optimizer steps)
    and return the LR of every optimizer step.

    The optimizer itself is never stepped, so no parameter changes: that is why torch's warning
    about calling ``lr_scheduler.step()`` before ``optimizer.step()`` is silenced here.
    """
    lrs = np.empty(epochs * steps_per_epoch)
    period = frequency * (1 if interval == "step" else steps_per_epoch)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)")
        warnings.filterwarnings("ignore", message=r".*optimizer\.step\(\)")
        for step in range(len(lrs)):
            lrs[step] = float(optimizer.param_groups[0]["lr"])
            if (step + 1) % period == 0:
                scheduler.step()  # type: ignore[attr-defined]
    return lrs


def warmup_cosine_lr(
    epoch: int,
    *,
    base_lr: float,
    warmup_epochs: int,
    max_epochs: int,
    warmup_start_lr: float = 0.0,
    eta_min: float = 0.0,
) -> float:
    """Closed form of pl_bolts' ``LinearWarmupCosineAnnealingLR`` at a whole ``epoch``.

    Linear from ``warmup_start_lr`` to ``base_lr`` over epochs 0..W-1 (pl_bolts divides by
    W - 1, so epochs W-1 and W both sit at the peak), then cosine from ``base_lr`` at epoch W
    to ``eta_min`` at ``max_epochs``.

    With ``warmup_epochs=0`` this is a plain cosine from ``base_lr`` (pl_bolts' own closed form
    agrees), but pl_bolts' stepped scheduler does not: it starts at ``warmup_start_lr`` and, with
    the default 0, stays at 0 for the whole run.
    """
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise ValueError(f"epoch must be a whole number >= 0, got {epoch!r}")
    _positive_int("max_epochs", max_epochs)
    if not isinstance(warmup_epochs, int) or isinstance(warmup_epochs, bool) or warmup_epochs < 0:
        raise ValueError(f"warmup_epochs must be a whole number >= 0, got {warmup_epochs!r}")
    if warmup_epochs >= max_epochs:
        raise ValueError(
            f"warmup_epochs ({warmup_epochs}) must be shorter than max_epochs ({max_epochs}): "
            "the warmup would never hand over to the cosine decay"
        )
    return float(warmup_cosine_values(np.array([epoch]), base_lr=base_lr, warmup_epochs=warmup_epochs,
                                      max_epochs=max_epochs, warmup_start_lr=warmup_start_lr, eta_min=eta_min)[0])


def warmup_cosine_values(
    t: np.ndarray,
    *,
    base_lr: float,
    warmup_epochs: int,
    max_epochs: int,
    warmup_start_lr: float = 0.0,
    eta_min: float = 0.0,
) -> np.ndarray:
    """:func:`warmup_cosine_lr` at every whole step of ``t`` at once, arguments unchecked: the one
    home of the formula (the explorer and the checks evaluate it on tens of thousands of steps)."""
    t = np.asarray(t, dtype=float)
    ramp = warmup_start_lr + t * (base_lr - warmup_start_lr) / max(1, warmup_epochs - 1)
    progress = (t - warmup_epochs) / (max_epochs - warmup_epochs)
    return np.where(t < warmup_epochs, ramp, eta_min + 0.5 * (base_lr - eta_min) * (1 + np.cos(np.pi * progress)))
