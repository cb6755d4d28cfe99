"""Training the same model at several weight-decay values and tabulating the outcome.

Every run starts from the same seed *before* the model is built, so the runs differ only in
their weight decay (``fit_and_test`` seeds the trainer, but the weights are initialised
earlier, when the module is constructed). One progress line serves the whole sweep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import pandas as pd
from torch import nn

from helpers.progress import EpochProgress
from helpers.training import COURSE_SEED, RunResult, fit_and_test

SWEEP_COLUMNS = ("val_acc", "test_acc", "train_acc", "gap", "epochs", "seconds")


def _require_factory(make_model: object, what: str) -> None:
    # A built model is callable too (it is an nn.Module), so it needs its own message.
    if isinstance(make_model, nn.Module) or not callable(make_model):
        raise TypeError(f"make_model must be {what}, e.g. the class itself; got an object of type {type(make_model).__name__}")


def train_seeded(
    make_model: Callable[[], L.LightningModule],
    *,
    seed: int = COURSE_SEED,
    **fit_kwargs: Any,
) -> RunResult:
    """Seed, build the model with ``make_model()``, then ``fit_and_test`` it.

    Seeding before construction makes the initial weights part of the seeded run, so the
    same call gives the same numbers whatever the notebook ran before it.
    """
    _require_factory(make_model, "a function (or class) returning a LightningModule")
    L.seed_everything(seed, workers=True, verbose=False)
    module = make_model()
    if not isinstance(module, L.LightningModule):
        raise TypeError(f"make_model() returned {type(module).__name__}, not a LightningModule")
    return fit_and_test(module, seed=seed, **fit_kwargs)


class _SweepProgress(EpochProgress):
    """``EpochProgress`` that keeps one display across all runs, prefixed with the current run."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.prefix = ""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()  # keep self._handle: the same line is updated

    def _show(self, text: str, final: bool = False) -> None:
        super()._show(f"{self.prefix} · {text}", final)


@dataclass
class WeightDecaySweep:
    """The runs of a sweep by weight decay, and the wall time the whole sweep took."""

    runs: dict[float, RunResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def table(self) -> pd.DataFrame:
        """One row per weight decay (ascending): final val/test/train accuracy, the
        train-minus-val gap (overfitting), epochs trained and seconds."""
        rows = []
        for weight_decay, run in sorted(self.runs.items()):
            epochs = len(run.metrics) if run.log_dir.exists() else math.nan
            rows.append(
                dict(
                    weight_decay=weight_decay,
                    val_acc=run.val_acc,
                    test_acc=run.test_acc,
                    train_acc=run.train_acc,
                    gap=run.train_acc - run.val_acc,
                    epochs=epochs,
                    seconds=run.seconds,
                )
            )
        return pd.DataFrame(rows, columns=["weight_decay", *SWEEP_COLUMNS]).set_index("weight_decay")


def _weight_decays(values: Sequence[float]) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"weight_decays must be a non-empty list of numbers, got {values!r}")
    cleaned: list[float] = []
    for value in values:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"every weight decay must be a finite number >= 0, got {value!r}")
        cleaned.append(float(value))
    if len(set(cleaned)) != len(cleaned):
        raise ValueError(f"weight_decays has repeated values: {values!r}")
    return cleaned


def sweep_weight_decay(
    make_model: Callable[[float], L.LightningModule],
    weight_decays: Sequence[float],
    *,
    seed: int = COURSE_SEED,
    run_name: str = "wd",
    progress: bool = True,
    **fit_kwargs: Any,
) -> WeightDecaySweep:
    """Train ``make_model(weight_decay)`` once per value, each from the same seed.

    Returns every ``RunResult`` (so the chosen run can be reused rather than retrained) and
    a table to choose from. Extra keyword arguments go to ``fit_and_test``.
    """
    _require_factory(make_model, "a function (or class) taking a weight decay and returning a LightningModule")
    values = _weight_decays(weight_decays)
    callbacks = list(fit_kwargs.pop("callbacks", []))
    tracker = _SweepProgress(len(values)) if progress else None
    sweep = WeightDecaySweep()
    start = time.perf_counter()
    for number, weight_decay in enumerate(values, start=1):
        if tracker is not None:
            tracker.prefix = f"run {number}/{len(values)}, weight_decay={weight_decay:g}"
        sweep.runs[weight_decay] = train_seeded(
            lambda: make_model(weight_decay),
            seed=seed,
            run_name=f"{run_name}_{weight_decay:g}",
            progress=False,
            callbacks=[*callbacks, *([tracker] if tracker is not None else [])],
            **fit_kwargs,
        )
    sweep.seconds = time.perf_counter() - start
    return sweep
