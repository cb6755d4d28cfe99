"""Self-checks for Exercise 1: linear warmup + cosine annealing (pl_bolts and torch-native).

Each check drives the learner's scheduler exactly as Lightning would and judges the learning
rate it produces, criterion by criterion, so that every typical mistake (including the traps of
pl_bolts 0.7.0) gets its own hint instead of a traceback or a silently worse accuracy.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import lightning as L
import numpy as np
import torch

from helpers.checks.report import CheckReport
from helpers.schedules import step_and_record, warmup_cosine_lr
from helpers.training import COURSE_EPOCHS, QUICK_EPOCHS_ENV, RunResult

WARMUP_FRACTION = 0.25
STEPS_PER_EPOCH = 450  # optimizer steps per epoch of the course data (14,400 / 32)
ACCURACY_THRESHOLD = 0.885
MIN_EPOCHS = 4  # below this, a quarter of training is less than one epoch of warmup
END_FRACTION = 0.01  # "decayed to about 0": the last LR is at most 1 % of the base LR

_CONFIGURE_HINT = (
    "return {'optimizer': optimizer, 'lr_scheduler': {'scheduler': scheduler, "
    "'interval': 'epoch', 'frequency': 1}}"
)


def _warmup_epochs(num_epochs: int) -> int:
    return int(WARMUP_FRACTION * num_epochs)


def _probe_epochs(num_epochs: int) -> int:
    """A second training length, to see whether the schedule follows it or is hard-coded."""
    return 40 if num_epochs != 40 else 60


def _is_pl_bolts(scheduler: object) -> bool:
    return type(scheduler).__name__ == "LinearWarmupCosineAnnealingLR"


def _lengths(scheduler: object) -> str:
    """``warmup_epochs=.., max_epochs=..`` of a pl_bolts scheduler, for hints."""
    return f"warmup_epochs={scheduler.warmup_epochs!r}, max_epochs={scheduler.max_epochs!r}"


def _check_epochs(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number of epochs (e.g. num_epochs), got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _check_base_lr(base_lr: object) -> float:
    if not isinstance(base_lr, (int, float)) or isinstance(base_lr, bool):
        raise TypeError(f"base_lr must be a number such as 0.1, got {type(base_lr).__name__}")
    if not base_lr > 0:
        raise ValueError(f"base_lr must be positive, got {base_lr}")
    return float(base_lr)


# --------------------------------------------------------------------------- stepping


@dataclass
class _Run:
    """The LR a scheduler produced (``per_step``), or the hint explaining why it could not run."""

    per_step: np.ndarray | None = None
    steps_per_epoch: int = 1
    error: str = ""

    @property
    def per_epoch(self) -> np.ndarray:
        assert self.per_step is not None
        return self.per_step[:: self.steps_per_epoch]


def _error_hint(exc: BaseException, scheduler: object) -> str:
    """Turn what went wrong while stepping into a hint; pl_bolts' ZeroDivisionError explained."""
    if isinstance(exc, NotImplementedError):
        return f"blank not filled yet: {exc}"
    if isinstance(exc, ZeroDivisionError):
        if _is_pl_bolts(scheduler) and scheduler.max_epochs == scheduler.warmup_epochs:
            return (
                f"max_epochs equals warmup_epochs ({scheduler.warmup_epochs}): pl_bolts divides by "
                "max_epochs - warmup_epochs once the warmup is over (ZeroDivisionError). max_epochs is "
                "the whole training (num_epochs), warmup_epochs a quarter of it"
            )
        return f"stepping the scheduler divided by zero ({exc}): check that the warmup and total lengths differ"
    return f"stepping the scheduler raised {type(exc).__name__}: {exc}"


def _step_through(
    scheduler: Any,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    steps_per_epoch: int = 1,
    interval: str = "epoch",
    frequency: int = 1,
) -> _Run:
    """:func:`helpers.schedules.step_and_record`, with what went wrong turned into a hint."""
    try:
        lrs = step_and_record(
            scheduler, optimizer, epochs, steps_per_epoch=steps_per_epoch, interval=interval, frequency=frequency
        )
    except Exception as exc:  # noqa: BLE001 - a wrong answer is reported, never raised
        return _Run(error=_error_hint(exc, scheduler))
    return _Run(per_step=lrs, steps_per_epoch=steps_per_epoch)


def _record_factory(factory: Callable[..., Any], num_epochs: int, base_lr: float) -> tuple[_Run, Any]:
    """Build ``factory(optimizer, num_epochs)`` on a throw-away optimizer and step it per epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)")
            scheduler = factory(optimizer, num_epochs)
    except Exception as exc:  # noqa: BLE001
        return _Run(error=_error_hint(exc, None)), None
    if scheduler is None:
        return _Run(error="the function returns None: end it with `return scheduler`"), None
    if not hasattr(scheduler, "step") or getattr(scheduler, "optimizer", None) is not optimizer:
        return (
            _Run(error=f"it returned a {type(scheduler).__name__}, not a scheduler built on the optimizer it was given"),
            None,
        )
    return _step_through(scheduler, optimizer, num_epochs), scheduler


# --------------------------------------------------------------------------- the schedule's shape


def _reference(num_epochs: int, base_lr: float, steps_per_epoch: int) -> list[np.ndarray]:
    """Warmup-cosine references at step resolution: warmup counted in whole epochs or in steps."""
    total = num_epochs * steps_per_epoch
    warmups = {_warmup_epochs(num_epochs) * steps_per_epoch, _warmup_epochs(total)}
    return [
        np.array([warmup_cosine_lr(s, base_lr=base_lr, warmup_epochs=w, max_epochs=total) for s in range(total)])
        for w in sorted(warmups)
        if 0 < w < total
    ]


def _add_shape_criteria(
    report: CheckReport,
    run: _Run,
    *,
    num_epochs: int,
    base_lr: float,
    scheduler: object = None,
    tol: float = 1e-6,
    exact: bool = True,
) -> bool:
    """Judge a recorded LR curve against linear warmup (25 %) + cosine annealing to 0.

    ``tol`` is relative to ``base_lr`` (LRs logged as float32 need a looser one); ``exact``
    adds the final comparison with the closed form. Returns True when every criterion held.
    """
    if num_epochs < MIN_EPOCHS:
        report.skip("shape of the schedule", f"only {num_epochs} epochs, too few to see a warmup")
        return True
    lr = run.per_step
    assert lr is not None
    spe = run.steps_per_epoch
    atol = tol * base_lr
    w = _warmup_epochs(num_epochs)
    bolts = _is_pl_bolts(scheduler)

    if lr.max() <= atol:
        if bolts and scheduler.warmup_epochs == 0 and scheduler.warmup_start_lr == 0:
            hint = (
                "warmup_epochs=0 with warmup_start_lr=0 freezes the LR at 0 for the whole run in pl_bolts "
                "(it keeps multiplying the current LR, which is 0); use warmup_epochs=int(0.25 * num_epochs)"
            )
        else:
            hint = (
                "the LR is 0 at every epoch: the warmup never leaves warmup_start_lr. Check warmup_epochs "
                "and that the optimizer was created with the base learning rate"
            )
        report.add("LR leaves 0", False, hint)
        return False
    report.add("LR leaves 0", True)

    ok = True
    if lr[0] <= atol:
        report.add("warmup starts at LR 0 (epoch 0)", True)
    elif lr[0] >= base_lr - atol:
        if isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR):
            hint = (
                "no warmup: this is plain CosineAnnealingLR, which starts at the base LR. Build pl_bolts' "
                "LinearWarmupCosineAnnealingLR here instead"
            )
        else:
            hint = f"no warmup: epoch 0 already runs at the base LR {lr[0]:.4g}; the LR should start at 0"
        ok = report.add("warmup starts at LR 0 (epoch 0)", False, hint)
    else:
        ok = report.add(
            "warmup starts at LR 0 (epoch 0)",
            False,
            f"epoch 0 runs at {lr[0]:.4g}; the exercise starts the warmup at warmup_start_lr=0.0",
        )

    peak = float(lr.max())
    top = int(np.argmax(lr >= peak - atol))  # first step at the peak
    rising = len(lr) > 1 and lr[-1] > lr[-2] + atol
    if top >= len(lr) - 1 or rising and top >= len(lr) - spe:
        lengths = f" ({_lengths(scheduler)})" if bolts else ""
        ok = report.add(
            "warmup ends after 25 % of training",
            False,
            f"warmup longer than training{lengths}: the LR is still rising at the last epoch "
            f"({num_epochs - 1}). warmup_epochs must be a quarter of num_epochs: int(0.25 * {num_epochs}) = {w}",
        ) and ok
    elif w - 1 - 1e-9 <= top / spe <= w + 1e-9:
        report.add("warmup ends after 25 % of training", True)
    else:
        lengths = f" ({_lengths(scheduler)})" if bolts else ""
        ok = report.add(
            "warmup ends after 25 % of training",
            False,
            f"the LR peaks at epoch {top / spe:.4g}{lengths}; with num_epochs={num_epochs} the warmup should "
            f"end at epoch {w - 1}..{w}: warmup_epochs=int(0.25 * num_epochs) = {w}",
        ) and ok

    steps = np.diff(lr[: top + 1])
    # Loose on purpose: a per-step warmup sampled once per epoch hits the peak a fraction early.
    if top == 0 or (steps > 0).all() and np.allclose(steps, steps[0], rtol=0, atol=max(atol, 0.01 * steps[0])):
        report.add("warmup rises linearly", True)
    else:
        ok = report.add(
            "warmup rises linearly",
            False,
            "the LR should grow by the same amount every warmup epoch (linear warmup)",
        ) and ok

    if abs(peak - base_lr) <= atol:
        report.add(f"peak LR equals the base LR {base_lr:g}", True)
    elif peak > base_lr:
        w_set = getattr(scheduler, "warmup_epochs", None) if bolts else None
        if isinstance(w_set, float) and not w_set.is_integer():
            hint = (
                f"the LR overshoots to {peak:.4g}: warmup_epochs={w_set!r} is not a whole number, so pl_bolts' "
                "`epoch == warmup_epochs` branch never fires and the warmup keeps climbing. Use "
                "int(0.25 * num_epochs)"
            )
        elif isinstance(w_set, float) and w_set.is_integer():
            hint = f"the LR overshoots to {peak:.4g}; pass warmup_epochs as an int (got {w_set!r})"
        else:
            hint = f"the LR overshoots to {peak:.4g}, above the base LR {base_lr:g}"
        ok = report.add(f"peak LR equals the base LR {base_lr:g}", False, hint) and ok
    else:
        ok = report.add(
            f"peak LR equals the base LR {base_lr:g}",
            False,
            f"the LR only reaches {peak:.4g}: the warmup must end exactly at the base LR (optimizer lr)",
        ) and ok

    after = np.diff(lr[top:])
    rises_at = np.flatnonzero(after > atol)
    if rises_at.size:
        epoch = (top + int(rises_at[0]) + 1) / spe
        ends = f" (max_epochs={scheduler.max_epochs!r})" if bolts else ""
        ok = report.add(
            "LR never rises again after the peak",
            False,
            f"the LR rises again from epoch {epoch:.4g}: the schedule ended before training did{ends}; "
            f"pl_bolts climbs back up along the cosine. max_epochs must be the training length "
            f"(num_epochs={num_epochs}, self.num_epochs in configure_optimizers), not a hard-coded number",
        ) and ok
    else:
        report.add("LR never rises again after the peak", True)

    # Short runs end a little above 0 even when right: allow twice the closed form's last value.
    expected_last = warmup_cosine_lr(num_epochs - 1, base_lr=base_lr, warmup_epochs=w, max_epochs=num_epochs)
    if lr[-1] <= END_FRACTION * base_lr + 2 * expected_last + atol:
        report.add("cosine decay reaches ≈0 at the last epoch", True)
    else:
        ends = f" (max_epochs={scheduler.max_epochs!r})" if bolts else ""
        ok = report.add(
            "cosine decay reaches ≈0 at the last epoch",
            False,
            f"the last epoch still runs at {lr[-1]:.4g} ({lr[-1] / base_lr:.0%} of the base LR){ends}: "
            f"the cosine must end at training's end, max_epochs = num_epochs = {num_epochs}",
        ) and ok

    if exact:
        gaps = [float(np.abs(lr - ref).max()) for ref in _reference(num_epochs, base_lr, spe)]
        best = min(gaps) if gaps else float("inf")
        ok = report.add(
            "equals warmup + cosine at every epoch",
            best <= atol,
            f"largest difference from the closed form is {best:.3g}: linear warmup to the base LR over "
            f"epochs 0..{w - 1}, then a cosine to 0 at epoch {num_epochs} (eta_min=0)",
        ) and ok
    return ok


# --------------------------------------------------------------------------- blank (a): the LR plot


def _require_function(factory: object, example_call: str) -> None:
    """Misuse, not a wrong answer: the check needs the learner's function, not its result or a class."""
    if not callable(factory) or isinstance(factory, type):
        raise TypeError(f"pass your function itself, e.g. {example_call}, not a {type(factory).__name__}")


def evaluate_warmup_schedule(
    make_warmup_scheduler: Callable[..., Any], num_epochs: int = COURSE_EPOCHS, base_lr: float = 0.1
) -> CheckReport:
    """Judge ``make_warmup_scheduler(optimizer, num_epochs)`` stepped once per epoch.

    It is also built for a second training length to catch lengths hard-coded instead of
    derived from ``num_epochs``.
    """
    _require_function(make_warmup_scheduler, "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs)")
    num_epochs = _check_epochs("num_epochs", num_epochs)
    base_lr = _check_base_lr(base_lr)
    report = CheckReport(f"Check: make_warmup_scheduler(optimizer, num_epochs={num_epochs})")
    run, scheduler = _record_factory(make_warmup_scheduler, num_epochs, base_lr)
    if not report.add(f"builds a scheduler and steps it through {num_epochs} epochs", not run.error, run.error):
        return report
    if not _add_shape_criteria(report, run, num_epochs=num_epochs, base_lr=base_lr, scheduler=scheduler):
        return report
    probe = _probe_epochs(num_epochs)
    probe_run, probe_scheduler = _record_factory(make_warmup_scheduler, probe, base_lr)
    follows = not probe_run.error and _add_shape_criteria(
        CheckReport("probe"), probe_run, num_epochs=probe, base_lr=base_lr, scheduler=probe_scheduler
    )
    report.add(
        "lengths follow num_epochs",
        follows,
        f"with num_epochs={probe} the schedule is not a 25 % warmup + cosine over {probe} epochs: compute "
        "warmup_epochs and max_epochs from the num_epochs argument instead of hard-coding them",
    )
    return report


def check_warmup_schedule(
    make_warmup_scheduler: Callable[..., Any], num_epochs: int = COURSE_EPOCHS, base_lr: float = 0.1
) -> None:
    """Print one ✓/✗ line per criterion for the LR-plot blank (see :func:`evaluate_warmup_schedule`)."""
    evaluate_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs, base_lr=base_lr).show()


# --------------------------------------------------------------------------- blank (b): configure_optimizers


def _stub_trainer(num_epochs: int) -> SimpleNamespace:
    """What ``configure_optimizers`` may ask the trainer before fit (e.g. for per-step warmup)."""
    return SimpleNamespace(
        max_epochs=num_epochs,
        estimated_stepping_batches=num_epochs * STEPS_PER_EPOCH,
        num_training_batches=STEPS_PER_EPOCH,
        accumulate_grad_batches=1,
        current_epoch=0,
        global_step=0,
    )


def _build_module(model: Any, num_epochs: int | None) -> L.LightningModule:
    """An instance to call ``configure_optimizers`` on: a copy, so the learner's model is untouched,
    built under a forked RNG so the notebook's later random numbers do not change."""
    with torch.random.fork_rng():
        if isinstance(model, type):
            kwargs = {} if num_epochs is None else {"num_epochs": num_epochs}
            return model(**kwargs)
        attached = model._trainer  # a trained model holds its Trainer, which need not be copied
        model._trainer = None
        try:
            module = copy.deepcopy(model)
        finally:
            model._trainer = attached
        if num_epochs is not None:
            module.num_epochs = num_epochs
            if "num_epochs" in module.hparams:
                module.hparams["num_epochs"] = num_epochs
        return module


def _configure(module: L.LightningModule, num_epochs: int) -> tuple[Any, str]:
    """Call ``configure_optimizers`` with a stand-in trainer; returns (result, error hint)."""
    module._trainer = _stub_trainer(num_epochs)  # the copy is thrown away afterwards
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)")
            return module.configure_optimizers(), ""
    except NotImplementedError as exc:
        return None, f"blank not filled yet: {exc}"
    except AttributeError as exc:
        return None, f"configure_optimizers raised AttributeError: {exc}"
    except Exception as exc:  # noqa: BLE001
        return None, _error_hint(exc, None)
    finally:
        module._trainer = None


@dataclass
class _Parsed:
    optimizer: Any = None
    scheduler: Any = None
    interval: Any = "epoch"
    frequency: Any = 1


def _parse(report: CheckReport, returned: Any) -> _Parsed | None:
    """Criteria on the form of what ``configure_optimizers`` returned."""
    if isinstance(returned, torch.optim.Optimizer):
        report.add("returns an optimizer and a scheduler", False, f"only an optimizer was returned: {_CONFIGURE_HINT}")
        return None
    if isinstance(returned, (tuple, list)) and len(returned) == 2 and all(isinstance(x, (list, tuple)) for x in returned):
        report.add(
            "returns the Lightning scheduler dict",
            False,
            f"the ([optimizer], [scheduler]) form hides the interval; {_CONFIGURE_HINT}",
        )
        return None
    if not isinstance(returned, dict) or "optimizer" not in returned:
        report.add(
            "returns an optimizer and a scheduler",
            False,
            f"configure_optimizers returned {type(returned).__name__}; {_CONFIGURE_HINT}",
        )
        return None
    config = returned.get("lr_scheduler")
    if config is None:
        report.add("returns an optimizer and a scheduler", False, f"the dict has no 'lr_scheduler': {_CONFIGURE_HINT}")
        return None
    report.add("returns an optimizer and a scheduler", True)
    if not isinstance(config, dict):
        report.add(
            "returns the Lightning scheduler dict",
            False,
            "'lr_scheduler' is a bare scheduler: wrap it as {'scheduler': scheduler, 'interval': 'epoch', "
            "'frequency': 1} so when it steps is explicit",
        )
        return None
    if "scheduler" not in config:
        report.add("returns the Lightning scheduler dict", False, "the lr_scheduler dict needs the key 'scheduler'")
        return None
    report.add("returns the Lightning scheduler dict", True)
    parsed = _Parsed(returned["optimizer"], config["scheduler"], config.get("interval", "epoch"), config.get("frequency", 1))
    if parsed.interval not in ("epoch", "step"):
        report.add("interval is 'epoch' or 'step'", False, f"interval={parsed.interval!r}; Lightning accepts only 'epoch' or 'step'")
        return None
    report.add("interval is 'epoch' or 'step'", True)
    if not report.add(
        "frequency is 1",
        parsed.frequency == 1 and not isinstance(parsed.frequency, bool),
        f"frequency={parsed.frequency!r} steps the scheduler only every {parsed.frequency!r} intervals, "
        "stretching the schedule; use 'frequency': 1",
    ):
        return None
    if not report.add(
        "the scheduler wraps the returned optimizer",
        getattr(parsed.scheduler, "optimizer", None) is parsed.optimizer,
        "build the scheduler on the same optimizer you return",
    ):
        return None
    return parsed


def _lengths_match_interval(report: CheckReport, run: _Run, parsed: _Parsed, num_epochs: int) -> bool:
    """A per-step scheduler with lengths in epochs finishes in the first epoch, and vice versa."""
    lr = run.per_step
    assert lr is not None
    name = "schedule lengths match the interval"
    first_peak = int(np.argmax(lr >= lr.max() * (1 - 1e-9)))  # later peaks of a periodic LR may be a hair higher
    # Lengths in epochs put the peak within the first num_epochs steps; lengths in steps put it
    # about a quarter of num_epochs * STEPS_PER_EPOCH steps in, far beyond (also in quick mode).
    if parsed.interval == "step" and first_peak < num_epochs:
        return report.add(
            name,
            False,
            "interval is 'step' but the lengths count epochs: the whole warmup + cosine is over within the "
            f"first {num_epochs} of the first epoch's {STEPS_PER_EPOCH} batches. Use 'interval': 'epoch', or count in steps "
            "(warmup = int(0.25 * self.trainer.estimated_stepping_batches), total = "
            "self.trainer.estimated_stepping_batches)",
        )
    max_epochs = getattr(parsed.scheduler, "max_epochs", None) if _is_pl_bolts(parsed.scheduler) else None
    if parsed.interval == "epoch" and isinstance(max_epochs, (int, float)) and max_epochs >= 10 * num_epochs:
        return report.add(
            name,
            False,
            f"interval is 'epoch' but max_epochs={max_epochs!r} counts optimizer steps: with lengths in steps "
            "use 'interval': 'step'",
        )
    return report.add(name, True)


def _judge_module(report: CheckReport, module: L.LightningModule, num_epochs: int, *, full: bool) -> bool:
    returned, error = _configure(module, num_epochs)
    if error:
        report.add("configure_optimizers runs", False, error)
        return False
    parsed = _parse(report, returned)
    if parsed is None:
        return False
    base_lr = float(parsed.optimizer.param_groups[0].get("initial_lr", parsed.optimizer.param_groups[0]["lr"]))
    wanted = getattr(module, "learning_rate", None)
    if full and isinstance(wanted, float):
        report.add(
            "optimizer uses self.learning_rate",
            math.isclose(base_lr, wanted, rel_tol=1e-9),
            f"the optimizer's lr is {base_lr:g} but self.learning_rate is {wanted:g}: pass "
            "lr=self.learning_rate",
        )
    spe = STEPS_PER_EPOCH if parsed.interval == "step" else 1
    run = _step_through(
        parsed.scheduler, parsed.optimizer, num_epochs, steps_per_epoch=spe, interval=parsed.interval,
        frequency=parsed.frequency,
    )
    if not report.add(f"scheduler steps through {num_epochs} epochs", not run.error, run.error):
        return False
    if not _lengths_match_interval(report, run, parsed, num_epochs):
        return False
    return _add_shape_criteria(report, run, num_epochs=num_epochs, base_lr=base_lr, scheduler=parsed.scheduler)


def evaluate_configure_optimizers(model: Any, num_epochs: int | None = None) -> CheckReport:
    """Judge ``configure_optimizers`` of a ``LightningModule`` class or instance.

    The scheduler is stepped as Lightning would step it (per epoch or per batch, from the
    dict's interval) on a copy of the module; a second copy with another ``num_epochs`` shows
    whether ``max_epochs`` follows ``self.num_epochs`` or is hard-coded.
    """
    is_class = isinstance(model, type) and issubclass(model, L.LightningModule)
    if not is_class and not isinstance(model, L.LightningModule):
        raise TypeError(
            "pass your LightningModule class or an instance of it, e.g. check_configure_optimizers(LightningModel), "
            f"not a {type(model).__name__}"
        )
    if num_epochs is not None:
        num_epochs = _check_epochs("num_epochs", num_epochs)
    name = model.__name__ if is_class else type(model).__name__
    report = CheckReport(f"Check: {name}.configure_optimizers")
    try:
        module = _build_module(model, num_epochs)
    except Exception as exc:  # noqa: BLE001 - the learner's __init__
        report.add("the model can be built", False, f"{name}(...) raised {type(exc).__name__}: {exc}")
        return report
    epochs = getattr(module, "num_epochs", None)
    if not isinstance(epochs, int):
        report.add("the model knows its num_epochs", False, "keep ClassifierModule's __init__, which stores self.num_epochs")
        return report
    if not _judge_module(report, module, epochs, full=True):
        return report
    probe = _probe_epochs(epochs)
    try:
        follows = _judge_module(CheckReport("probe"), _build_module(model, probe), probe, full=False)
    except Exception:  # noqa: BLE001
        follows = False
    report.add(
        "max_epochs follows self.num_epochs",
        follows,
        f"a model with num_epochs={probe} does not get a 25 % warmup + cosine over {probe} epochs: derive the "
        "lengths from self.num_epochs (or self.trainer.estimated_stepping_batches) instead of hard-coding them",
    )
    return report


def check_configure_optimizers(model: Any, num_epochs: int | None = None) -> None:
    """Print one ✓/✗ line per criterion for the configure_optimizers blank."""
    evaluate_configure_optimizers(model, num_epochs=num_epochs).show()


# --------------------------------------------------------------------------- blank (c): torch-native schedule


def evaluate_native_schedule(
    make_native_scheduler: Callable[..., Any], num_epochs: int = COURSE_EPOCHS, base_lr: float = 0.1, tol: float = 1e-9
) -> CheckReport:
    """Judge a torch-only scheduler against pl_bolts' ``LinearWarmupCosineAnnealingLR`` epoch by epoch."""
    _require_function(make_native_scheduler, "check_native_schedule(make_native_scheduler, num_epochs=num_epochs)")
    num_epochs = _check_epochs("num_epochs", num_epochs)
    base_lr = _check_base_lr(base_lr)
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    report = CheckReport(f"Check: make_native_scheduler(optimizer, num_epochs={num_epochs})")
    run, scheduler = _record_factory(make_native_scheduler, num_epochs, base_lr)
    if not report.add(f"builds a scheduler and steps it through {num_epochs} epochs", not run.error, run.error):
        return report
    module = getattr(type(scheduler), "__module__", "")
    report.add(
        "uses torch alone",
        module.startswith("torch."),
        f"{type(scheduler).__name__} comes from {module}; use torch.optim.lr_scheduler (LambdaLR or SequentialLR)",
    )
    if num_epochs < MIN_EPOCHS:
        report.skip("equals pl_bolts at every epoch", f"only {num_epochs} epochs")
        return report
    w = _warmup_epochs(num_epochs)
    bolts, _ = _record_factory(
        lambda opt, n: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=w, max_epochs=n, warmup_start_lr=0.0),
        num_epochs,
        base_lr,
    )
    assert bolts.per_step is not None and run.per_step is not None
    gap = np.abs(run.per_step - bolts.per_step)
    worst = int(np.argmax(gap))
    report.add(
        f"equals pl_bolts at every epoch (max |difference| < {tol:g})",
        gap[worst] < tol,
        f"epoch {worst}: yours {run.per_step[worst]:.6g}, pl_bolts {bolts.per_step[worst]:.6g}. Remember "
        f"pl_bolts reaches the peak at epoch W-1 = {w - 1} (it divides by W-1) and holds it at epoch W",
    )
    return report


def check_native_schedule(
    make_native_scheduler: Callable[..., Any], num_epochs: int = COURSE_EPOCHS, base_lr: float = 0.1
) -> None:
    """Print one ✓/✗ line per criterion for the torch-native schedule blank."""
    evaluate_native_schedule(make_native_scheduler, num_epochs=num_epochs, base_lr=base_lr).show()


# --------------------------------------------------------------------------- the training run


def evaluate_training_result(
    result: Any, num_epochs: int, threshold: float | None = ACCURACY_THRESHOLD, base_lr: float = 0.1
) -> CheckReport:
    """Judge a finished run: its length, the LR it actually logged per epoch, and its test accuracy
    (against ``threshold``; ``None`` for a variant the course gives no target for)."""
    if not isinstance(result, RunResult):
        raise TypeError(f"pass the RunResult that fit_and_test returned, not a {type(result).__name__}")
    if threshold is not None and (not isinstance(threshold, (int, float)) or isinstance(threshold, bool)):
        raise TypeError(f"threshold must be a number such as 0.885, or None, got {type(threshold).__name__}")
    num_epochs = _check_epochs("num_epochs", num_epochs)
    base_lr = _check_base_lr(base_lr)
    report = CheckReport("Check: training run")
    quick = os.environ.get(QUICK_EPOCHS_ENV) is not None
    if quick:
        report.skip(f"num_epochs is the course's {COURSE_EPOCHS}", f"quick mode ({QUICK_EPOCHS_ENV} is set)")
    else:
        report.add(
            f"num_epochs is the course's {COURSE_EPOCHS}",
            num_epochs == COURSE_EPOCHS,
            f"num_epochs is {num_epochs}: keep num_epochs = course_epochs({COURSE_EPOCHS}) so your result compares "
            "with the course's",
        )
    try:
        metrics = result.metrics
    except (FileNotFoundError, ValueError) as exc:
        report.add("the run's log can be read", False, f"{exc}; run the training cell again")
        return report
    trained = len(metrics)
    if not report.add(
        f"trained for all {num_epochs} epochs",
        trained == num_epochs,
        f"the log has {trained} epochs: the model was trained for a different length than num_epochs, or the "
        "run was interrupted; run the cells from the top again",
    ):
        return report
    if "lr" in metrics.columns and metrics["lr"].notna().all():
        run = _Run(per_step=metrics["lr"].to_numpy(dtype=float))
        sub = CheckReport("lr")
        fine = _add_shape_criteria(sub, run, num_epochs=num_epochs, base_lr=base_lr, tol=1e-5, exact=False)
        report.add(
            "the logged LR follows warmup + cosine",
            fine,
            "; ".join(c.name + ": " + c.hint for c in sub.failed()),
        )
    else:
        report.skip("the logged LR follows warmup + cosine", "no 'lr' column in the run's metrics")
    if threshold is None:
        report.skip("test accuracy", "no target accuracy for this variant")
    elif quick:
        report.skip(f"test accuracy ≥ {threshold}", f"quick mode trains only {num_epochs} epochs")
    else:
        report.add(
            f"test accuracy ≥ {threshold}",
            result.test_acc >= threshold,
            f"test accuracy {result.test_acc:.4f}; with warmup + cosine over {COURSE_EPOCHS} epochs the course "
            "reaches about 0.89: compare your schedule with the checks above",
        )
    return report


def check_training_result(
    result: Any, num_epochs: int, threshold: float | None = ACCURACY_THRESHOLD, base_lr: float = 0.1
) -> None:
    """Print one ✓/✗ line per criterion for the training run."""
    evaluate_training_result(result, num_epochs, threshold=threshold, base_lr=base_lr).show()
