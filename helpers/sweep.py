"""Training the same model at several weight-decay values and tabulating the outcome.

Every run starts from the same seed *before* the model is built, so the runs differ only in
their weight decay (``fit_and_test`` seeds the trainer, but the weights are initialised
earlier, when the module is constructed). Because every run seeds itself, the runs are
independent: they train side by side in worker processes, one per core (``helpers.parallel``),
and give exactly the numbers they give one after another. One progress line serves the whole
sweep.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import pandas as pd
import torch
from torch import nn

from helpers.parallel import run_jobs, worker_plan
from helpers.progress import EpochReporter, RunsProgress
from helpers.settings import LOG_DIR
from helpers.training import COURSE_SEED, RunResult, _fail_early_on_blank, announce_log_dir, fit_and_test

SWEEP_COLUMNS = ("val_acc", "test_acc", "train_acc", "gap", "epochs", "seconds")


def _require_factory(make_model: object, what: str) -> None:
    # A built model is callable too (it is an nn.Module), so it needs its own message.
    if isinstance(make_model, nn.Module) or not callable(make_model):
        raise TypeError(f"make_model must be {what}, e.g. the class itself; got an object of type "
                        f"{type(make_model).__name__}")


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


@dataclass
class WeightDecaySweep:
    """The runs of a sweep by weight decay, the wall time the whole sweep took, and the
    baseline run trained alongside (if one was asked for)."""

    runs: dict[float, RunResult] = field(default_factory=dict)
    seconds: float = 0.0
    baseline: RunResult | None = None
    workers: int = 1
    serial_reason: str = ""

    @property
    def training_seconds(self) -> float:
        """The trainings' own seconds, summed: more than ``seconds`` when they ran side by side."""
        runs = [*self.runs.values(), *([self.baseline] if self.baseline is not None else [])]
        return sum(run.seconds for run in runs)

    @property
    def summary(self) -> str:
        """E.g. ``sweep: 6 trainings, 212 s of training in 118 s wall``."""
        count = len(self.runs) + (self.baseline is not None)
        text = f"sweep: {count} trainings, {self.training_seconds:.0f} s of training in {self.seconds:.0f} s wall"
        if self.workers == 1 and self.serial_reason:
            text += f" (one after another: {self.serial_reason})"
        return text

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


def _preflight(make: Callable[[], Any], what: str) -> None:
    """Build one model here and call its ``configure_optimizers``, so an unfinished blank or a
    wrong factory stops with the same message as a serial run, before any worker starts."""
    with torch.random.fork_rng(devices=[]):
        module = make()
    if not isinstance(module, L.LightningModule):
        raise TypeError(f"{what} returned {type(module).__name__}, not a LightningModule")
    _fail_early_on_blank(module)


_Plan = list[tuple[str, str, Callable[[], L.LightningModule]]]  # (label, run name, factory) per run


def _run_plan(
    make_model: Callable[[float], L.LightningModule],
    values: list[float],
    run_name: str,
    baseline: Callable[[], L.LightningModule] | None,
    baseline_name: str,
) -> _Plan:
    """The sweep's runs in training order: the baseline first (when given), then one per weight decay."""
    plan: _Plan = []
    if baseline is not None:
        plan.append((baseline_name, baseline_name, baseline))
    for weight_decay in values:
        plan.append((f"weight_decay={weight_decay:g}", f"{run_name}_{weight_decay:g}",
                     functools.partial(make_model, weight_decay)))
    return plan


def _ignore_event(index: int, event: Any) -> None:
    """The worker events' sink when no progress is shown."""


def _progress_events(labels: list[str]) -> Callable[[int, Any], None]:
    """Feed the workers' epoch/done events of run ``index`` to one shared progress display."""
    tracker = RunsProgress(len(labels))

    def on_event(index: int, event: Any) -> None:
        if event[0] == "epoch":
            tracker.update(labels[index], *event[1:])
        elif event[0] == "done":
            tracker.finish(labels[index])

    return on_event


def sweep_weight_decay(
    make_model: Callable[[float], L.LightningModule],
    weight_decays: Sequence[float],
    *,
    seed: int = COURSE_SEED,
    run_name: str = "wd",
    progress: bool = True,
    baseline: Callable[[], L.LightningModule] | None = None,
    baseline_name: str = "baseline",
    **fit_kwargs: Any,
) -> WeightDecaySweep:
    """Train ``make_model(weight_decay)`` once per value, each from the same seed, side by side.

    ``baseline`` (a class or function building a reference model, e.g. the Adam template) is
    trained in the same batch under ``baseline_name``, so its run shares the cores too. Returns
    every ``RunResult`` (so the chosen run can be reused rather than retrained) and a table to
    choose from. Extra keyword arguments go to ``fit_and_test``; callbacks passed there run in
    the worker processes, so changes they make to themselves stay there.
    """
    _require_factory(make_model, "a function (or class) taking a weight decay and returning a LightningModule")
    if baseline is not None:
        _require_factory(baseline, "a function (or class) returning a LightningModule")
    values = _weight_decays(weight_decays)
    callbacks = list(fit_kwargs.pop("callbacks", []))
    fit_kwargs.pop("progress", None)
    _preflight(lambda: make_model(values[0]), f"make_model({values[0]:g})")
    if baseline is not None:
        _preflight(baseline, "baseline()")

    plan = _run_plan(make_model, values, run_name, baseline, baseline_name)

    def job(name: str, factory: Callable[[], L.LightningModule]) -> Callable[[Callable[[Any], None]], RunResult]:
        def train(send: Callable[[Any], None]) -> RunResult:
            result = train_seeded(
                factory, seed=seed, run_name=name, progress=False,
                callbacks=[*callbacks, EpochReporter(send)], **fit_kwargs,
            )
            send(("done",))
            return result

        return train

    on_event = _progress_events([label for label, _, _ in plan]) if progress else _ignore_event
    workers, reason = worker_plan(len(plan))
    announce_log_dir(fit_kwargs.get("log_dir", LOG_DIR))  # once, here: not from every worker
    start = time.perf_counter()
    results, used = run_jobs(
        [job(name, factory) for _, name, factory in plan],
        labels=[label for label, _, _ in plan], on_event=on_event, workers=workers,
    )
    if used == 1 and workers > 1:
        reason = "worker processes could not start"
    sweep = WeightDecaySweep(seconds=time.perf_counter() - start, workers=used, serial_reason=reason)
    if baseline is not None:
        sweep.baseline = results.pop(0)
    sweep.runs = dict(zip(values, results, strict=True))
    return sweep
