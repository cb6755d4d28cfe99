"""Self-checks for Exercise 1: linear warmup + cosine annealing (pl_bolts and torch-native).

Each check drives the learner's scheduler exactly as Lightning would and judges the learning
rate it produces, criterion by criterion, so that every typical mistake (including the traps of
pl_bolts 0.7.0) gets its own hint instead of a traceback or a silently worse accuracy.

Every check is a :class:`~helpers.checks.check.Check`: ``collect_*`` turns the learner's live
objects into plain data (the LR at every epoch or step for several training lengths, what
``configure_optimizers`` returned, the trained weights), ``judge_*`` turns that data into the
report. In the notebook ``check_*(...)`` does both; the grader runs only ``collect_*`` in the
learner's kernel and ``judge_*`` in its own process, on the evidence (see :mod:`helpers.evidence`).
"""

from __future__ import annotations

import copy
import math
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning as L
import numpy as np
import torch

from helpers.checks.check import Check
from helpers.checks.context import (
    LEARNER_PROBES,
    JudgeContext,
    course_length,
    learner_context,
    lengths_to_record,
)
from helpers.checks.course_weights import course_accuracy
from helpers.checks.optimizer_config import parse_configure_optimizers
from helpers.checks.report import CheckReport
from helpers.data import STEPS_PER_EPOCH
from helpers.mistakes import native_factor_mistake, non_whole_warmup
from helpers.schedules import step_and_record, warmup_cosine_lr, warmup_cosine_values
from helpers.settings import BASE_LR, COURSE_EPOCHS, QUICK_EPOCHS, QUICK_EPOCHS_ENV, TARGET_ACCURACY, WARMUP_FRACTION
from helpers.training import RunResult
from helpers.validate import (
    as_number,
    is_int,
    is_number,
    require_at_least,
    require_int,
    require_number,
    require_positive,
)

ACCURACY_THRESHOLD = TARGET_ACCURACY  # the course's facts live in helpers.settings / helpers.data
WARMUP_PERCENT = f"{WARMUP_FRACTION * 100:g} %"  # "25 %", as the messages write it
MIN_EPOCHS = QUICK_EPOCHS  # below this, the warmup is less than one epoch: no shape to judge
END_FRACTION = 0.01  # "decayed to about 0": the last LR is at most 1 % of the base LR

_CONFIGURE_HINT = (
    "return {'optimizer': optimizer, 'lr_scheduler': {'scheduler': scheduler, "
    "'interval': 'epoch', 'frequency': 1}}"
)


def _warmup_epochs(num_epochs: int) -> int:
    return int(WARMUP_FRACTION * num_epochs)


@dataclass(frozen=True)
class SchedulerInfo:
    """What the hints say about a scheduler (its class and pl_bolts' lengths), as plain data.
    Only hints use it: verdicts come from the LR values."""

    name: str = ""
    module: str = ""
    cosine_only: bool = False
    warmup_epochs: Any = None
    max_epochs: Any = None
    warmup_start_lr: Any = None

    @classmethod
    def of(cls, scheduler: object) -> SchedulerInfo:
        def number(attr: str) -> Any:
            value = getattr(scheduler, attr, None)
            return value if is_number(value) else None

        return cls(type(scheduler).__name__, str(getattr(type(scheduler), "__module__", "")),
                   isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR),
                   number("warmup_epochs"), number("max_epochs"), number("warmup_start_lr"))

    @classmethod
    def from_data(cls, data: Any) -> SchedulerInfo:
        if not isinstance(data, Mapping):
            return cls()
        num = lambda v: v if is_number(v) else None  # noqa: E731
        return cls(str(data.get("name", "")), str(data.get("module", "")), data.get("cosine_only") is True,
                   num(data.get("warmup_epochs")), num(data.get("max_epochs")), num(data.get("warmup_start_lr")))

    def data(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _is_pl_bolts(scheduler: SchedulerInfo | None) -> bool:
    return scheduler is not None and scheduler.name == "LinearWarmupCosineAnnealingLR"


def _lengths(scheduler: SchedulerInfo) -> str:
    """``warmup_epochs=.., max_epochs=..`` of a pl_bolts scheduler, for hints."""
    return f"warmup_epochs={scheduler.warmup_epochs!r}, max_epochs={scheduler.max_epochs!r}"


def _check_epochs(name: str, value: object) -> int:
    epochs = require_int(name, value, what="a whole number of epochs (e.g. num_epochs)")
    return int(require_at_least(name, epochs, 1))


def _check_base_lr(base_lr: object) -> float:
    return float(require_positive("base_lr", require_number("base_lr", base_lr, what="a number such as 0.1")))


# --------------------------------------------------------------------------- stepping


@dataclass
class _Run:
    """The LR a scheduler produced (``per_step``), or the hint explaining why it could not run."""

    per_step: np.ndarray | None = None
    steps_per_epoch: int = 1
    error: str = ""
    scheduler: SchedulerInfo | None = None

    @property
    def per_epoch(self) -> np.ndarray:
        assert self.per_step is not None
        return self.per_step[:: self.steps_per_epoch]

    def data(self) -> dict[str, Any]:
        """Plain data: per-step LRs as float32 (about 1e-8 of the base LR, far below every tolerance)."""
        lr = None
        if self.per_step is not None:
            lr = self.per_step.astype(np.float32) if self.steps_per_epoch > 1 else self.per_step.astype(np.float64)
        return {"lr": lr, "steps_per_epoch": self.steps_per_epoch, "error": self.error,
                "scheduler": self.scheduler.data() if self.scheduler else None}

    @classmethod
    def from_data(cls, data: Any, epochs: int) -> _Run:
        """Back from evidence; a run of the wrong length or kind is an error, not a crash."""
        if not isinstance(data, Mapping):
            return cls(error="no LR was recorded for this length")
        info = SchedulerInfo.from_data(data.get("scheduler")) if data.get("scheduler") else None
        if data.get("error"):
            return cls(error=str(data["error"])[:400], scheduler=info)
        spe = data.get("steps_per_epoch")
        lr = data.get("lr")
        if not isinstance(spe, int) or spe < 1 or not isinstance(lr, np.ndarray) or len(lr) != epochs * spe \
                or not np.isfinite(lr).all():
            return cls(error=f"the LR recorded for {epochs} epochs is incomplete", scheduler=info)
        return cls(per_step=lr.astype(float), steps_per_epoch=spe, scheduler=info)


def _error_hint(exc: BaseException, scheduler: object) -> str:
    """Turn what went wrong while stepping into a hint; pl_bolts' ZeroDivisionError explained."""
    if isinstance(exc, NotImplementedError):
        return f"blank not filled yet: {exc}"
    if isinstance(exc, ZeroDivisionError):
        info = SchedulerInfo.of(scheduler) if scheduler is not None else None
        if _is_pl_bolts(info) and info.max_epochs == info.warmup_epochs:  # type: ignore[union-attr]
            return (
                f"max_epochs equals warmup_epochs ({info.warmup_epochs}): pl_bolts divides by "  # type: ignore[union-attr]
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
    info = SchedulerInfo.of(scheduler)
    try:
        lrs = step_and_record(
            scheduler, optimizer, epochs, steps_per_epoch=steps_per_epoch, interval=interval, frequency=frequency
        )
    except Exception as exc:  # noqa: BLE001 - a wrong answer is reported, never raised
        return _Run(error=_error_hint(exc, scheduler), scheduler=info)
    return _Run(per_step=lrs, steps_per_epoch=steps_per_epoch, scheduler=info)


def _record_factory(factory: Callable[..., Any], num_epochs: int, base_lr: float) -> _Run:
    """Build ``factory(optimizer, num_epochs)`` on a throw-away optimizer and step it per epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)")
            scheduler = factory(optimizer, num_epochs)
    except Exception as exc:  # noqa: BLE001
        return _Run(error=_error_hint(exc, None))
    if scheduler is None:
        return _Run(error="the function returns None: is its return line missing? End it with: return scheduler")
    if not hasattr(scheduler, "step") or getattr(scheduler, "optimizer", None) is not optimizer:
        return _Run(error=f"it returned a {type(scheduler).__name__}, not a scheduler built on the optimizer it was "
                    f"given")
    return _step_through(scheduler, optimizer, num_epochs)


def _record_lengths(factory: Callable[..., Any], own: int, base_lr: float, probes: Sequence[int]) -> dict[str, Any]:
    return {str(n): _record_factory(factory, n, base_lr).data() for n in lengths_to_record(own, probes)}


def _runs_of(data: Mapping[str, Any]) -> Mapping[str, Any]:
    runs = data.get("runs")
    return runs if isinstance(runs, Mapping) else {}


# --------------------------------------------------------------------------- the schedule's shape


def _reference(num_epochs: int, base_lr: float, steps_per_epoch: int) -> list[np.ndarray]:
    """Warmup-cosine references at step resolution: warmup counted in whole epochs or in steps."""
    total = num_epochs * steps_per_epoch
    warmups = {_warmup_epochs(num_epochs) * steps_per_epoch, _warmup_epochs(total)}
    return [
        warmup_cosine_values(np.arange(total), base_lr=base_lr, warmup_epochs=w, max_epochs=total)
        for w in sorted(warmups)
        if 0 < w < total
    ]


@dataclass(frozen=True)
class _Shape:
    """A recorded LR curve and what every shape criterion reads from it."""

    lr: np.ndarray
    spe: int  # recorded values per epoch
    num_epochs: int
    base_lr: float
    atol: float  # absolute tolerance: tol relative to the base LR
    scheduler: SchedulerInfo | None

    @property
    def w(self) -> int:
        """The warmup the exercise asks for, in epochs."""
        return _warmup_epochs(self.num_epochs)

    @property
    def bolts(self) -> bool:
        return _is_pl_bolts(self.scheduler)

    @property
    def peak(self) -> float:
        return float(self.lr.max())

    @property
    def top(self) -> int:
        """The first step at the peak."""
        return int(np.argmax(self.lr >= self.peak - self.atol))

    def lengths(self) -> str:
        """`` (warmup_epochs=.., max_epochs=..)`` of a pl_bolts scheduler, else nothing."""
        return f" ({_lengths(self.scheduler)})" if self.bolts else ""  # type: ignore[arg-type]

    def max_epochs_set(self) -> str:
        return f" (max_epochs={self.scheduler.max_epochs!r})" if self.bolts else ""  # type: ignore[union-attr]


# Each criterion returns None when it holds, else its hint.


def _never_leaves_zero(s: _Shape) -> str | None:
    if not s.lr.max() <= s.atol:  # written so that NaN counts as leaving 0 (other criteria then fail on it)
        return None
    info = s.scheduler
    if s.bolts and info.warmup_epochs == 0 and info.warmup_start_lr == 0:  # type: ignore[union-attr]
        return (
            "warmup_epochs=0 with warmup_start_lr=0 freezes the LR at 0 for the whole run in pl_bolts "
            f"(it keeps multiplying the current LR, which is 0); use warmup_epochs=int({WARMUP_FRACTION} * num_epochs)"
        )
    return (
        "the LR is 0 at every epoch: the warmup never leaves warmup_start_lr. Check warmup_epochs "
        "and that the optimizer was created with the base learning rate"
    )


def _starts_at_zero(s: _Shape) -> str | None:
    first = s.lr[0]
    if first <= s.atol:
        return None
    if not first >= s.base_lr - s.atol:
        return f"epoch 0 runs at {first:.4g}; the exercise starts the warmup at warmup_start_lr=0.0"
    if s.scheduler is not None and s.scheduler.cosine_only:
        return (
            "no warmup: this is plain CosineAnnealingLR, which starts at the base LR. Build pl_bolts' "
            "LinearWarmupCosineAnnealingLR here instead"
        )
    return f"no warmup: epoch 0 already runs at the base LR {first:.4g}; the LR should start at 0"


def _warmup_ends_at_a_quarter(s: _Shape) -> str | None:
    lr, top, w, n = s.lr, s.top, s.w, s.num_epochs
    rising = len(lr) > 1 and lr[-1] > lr[-2] + s.atol
    if top >= len(lr) - 1 or (rising and top >= len(lr) - s.spe):
        return (
            f"warmup longer than training{s.lengths()}: the LR is still rising at the last epoch "
            f"({n - 1}). warmup_epochs must be a quarter of num_epochs: int({WARMUP_FRACTION} * {n}) = {w}"
        )
    if w - 1 - 1e-9 <= top / s.spe <= max(w, WARMUP_FRACTION * n) + 1e-9:  # per step: 25 % of the steps
        return None
    return (
        f"the LR peaks at epoch {top / s.spe:.4g}{s.lengths()}; with num_epochs={n} the warmup should "
        f"end at epoch {w - 1}..{w}: warmup_epochs=int({WARMUP_FRACTION} * num_epochs) = {w}"
    )


def _rises_linearly(s: _Shape) -> str | None:
    top = s.top
    steps = np.diff(s.lr[: top + 1])
    # Loose on purpose: a per-step warmup sampled once per epoch hits the peak a fraction early.
    if top == 0 or ((steps > 0).all() and np.allclose(steps, steps[0], rtol=0, atol=max(s.atol, 0.01 * steps[0]))):
        return None
    return "the LR should grow by the same amount every warmup epoch (linear warmup)"


def _peaks_at_base_lr(s: _Shape) -> str | None:
    peak, base_lr = s.peak, s.base_lr
    if abs(peak - base_lr) <= s.atol:
        return None
    if not peak > base_lr:
        return f"the LR only reaches {peak:.4g}: the warmup must end exactly at the base LR (optimizer lr)"
    w_set = getattr(s.scheduler, "warmup_epochs", None) if s.bolts else None
    if isinstance(w_set, float) and not w_set.is_integer():
        return (
            f"the LR overshoots to {peak:.4g}: warmup_epochs={w_set!r} is not a whole number, so pl_bolts' "
            "epoch == warmup_epochs branch never fires and the warmup keeps climbing. Use "
            f"int({WARMUP_FRACTION} * num_epochs)"
        )
    if isinstance(w_set, float):
        return f"the LR overshoots to {peak:.4g}; pass warmup_epochs as an int (got {w_set!r})"
    return f"the LR overshoots to {peak:.4g}, above the base LR {base_lr:g}"


def _never_rises_again(s: _Shape) -> str | None:
    top = s.top
    rises_at = np.flatnonzero(np.diff(s.lr[top:]) > s.atol)
    if not rises_at.size:
        return None
    epoch = (top + int(rises_at[0]) + 1) / s.spe
    return (
        f"the LR rises again from epoch {epoch:.4g}: the schedule ended before training did{s.max_epochs_set()}; "
        f"pl_bolts climbs back up along the cosine. max_epochs must be the training length "
        f"(num_epochs={s.num_epochs}, self.num_epochs in configure_optimizers), not a hard-coded number"
    )


def _decays_to_zero(s: _Shape) -> str | None:
    n, base_lr, last = s.num_epochs, s.base_lr, s.lr[-1]
    # Short runs end a little above 0 even when right: allow twice the closed form's last value.
    expected_last = warmup_cosine_lr(n - 1, base_lr=base_lr, warmup_epochs=s.w, max_epochs=n)
    if last <= END_FRACTION * base_lr + 2 * expected_last + s.atol:
        return None
    return (
        f"the last epoch still runs at {last:.4g} ({last / base_lr:.0%} of the base LR){s.max_epochs_set()}: "
        f"the cosine must end at training's end, max_epochs = num_epochs = {n}"
    )


def _equals_closed_form(s: _Shape) -> str | None:
    gaps = [float(np.abs(s.lr - ref).max()) for ref in _reference(s.num_epochs, s.base_lr, s.spe)]
    best = min(gaps) if gaps else float("inf")
    if best <= s.atol:
        return None
    return (
        f"largest difference from the closed form is {best:.3g}: linear warmup to the base LR over "
        f"epochs 0..{s.w - 1}, then a cosine to 0 at epoch {s.num_epochs} (eta_min=0)"
    )


def _shape_criteria(s: _Shape, exact: bool) -> list[tuple[str, Callable[[_Shape], str | None]]]:
    """The criteria after "LR leaves 0", in the order the report lists them."""
    criteria: list[tuple[str, Callable[[_Shape], str | None]]] = [
        ("warmup starts at LR 0 (epoch 0)", _starts_at_zero),
        (f"warmup ends after {WARMUP_PERCENT} of training", _warmup_ends_at_a_quarter),
        ("warmup rises linearly", _rises_linearly),
        (f"peak LR equals the base LR {s.base_lr:g}", _peaks_at_base_lr),
        ("LR never rises again after the peak", _never_rises_again),
        ("cosine decay reaches ≈0 at the last epoch", _decays_to_zero),
    ]
    return [*criteria, ("equals warmup + cosine at every epoch", _equals_closed_form)] if exact else criteria


def _add_shape_criteria(
    report: CheckReport,
    run: _Run,
    *,
    num_epochs: int,
    base_lr: float,
    scheduler: SchedulerInfo | None = None,
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
    assert run.per_step is not None
    shape = _Shape(run.per_step, run.steps_per_epoch, num_epochs, base_lr, tol * base_lr, scheduler)
    hint = _never_leaves_zero(shape)
    if not report.add("LR leaves 0", hint is None, hint or ""):
        return False
    ok = True
    for name, criterion in _shape_criteria(shape, exact):
        hint = criterion(shape)
        ok = report.add(name, hint is None, hint or "") and ok
    return ok


# --------------------------------------------------------------------------- blank (a): the LR plot


def _require_function(factory: object, example_call: str) -> None:
    """Misuse, not a wrong answer: the check needs the learner's function, not its result or a class."""
    if not callable(factory) or isinstance(factory, type):
        raise TypeError(f"pass your function itself, e.g. {example_call}, not a {type(factory).__name__}")


def collect_warmup_schedule(
    make_warmup_scheduler: Callable[..., Any], num_epochs: int = COURSE_EPOCHS, base_lr: float = BASE_LR, *,
    probes: Sequence[int] = LEARNER_PROBES, **_: Any,
) -> dict[str, Any]:
    """The LR per epoch of ``make_warmup_scheduler(optimizer, n)`` for the learner's length,
    the course's and every probe length."""
    _require_function(make_warmup_scheduler, "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs)")
    num_epochs = _check_epochs("num_epochs", num_epochs)
    base_lr = _check_base_lr(base_lr)
    return {"num_epochs": num_epochs, "base_lr": base_lr,
            "runs": _record_lengths(make_warmup_scheduler, num_epochs, base_lr, probes)}


def _first_failing_probe(runs: Mapping[str, Any], probes: list[int], base_lr: float) -> tuple[int | None, str]:
    """The first probe length the schedule is wrong at, and what is wrong there."""
    for probe in probes:
        run = _Run.from_data(runs.get(str(probe)), probe)
        if run.error:
            return probe, run.error
        sub = CheckReport("probe")
        if not _add_shape_criteria(sub, run, num_epochs=probe, base_lr=base_lr, scheduler=run.scheduler):
            return probe, _probe_cause(sub)
    return None, ""


def _probe_cause(sub: CheckReport) -> str:
    failed = sub.failed()
    return f"{failed[0].name}: {failed[0].hint}" if failed else ""


@dataclass
class _MainRun:
    """What a schedule judge starts from: the run at the main length, its report begun with
    whether the scheduler could be built and stepped."""

    report: CheckReport
    run: _Run
    n: int
    base_lr: float
    runs: Mapping[str, Any]
    ran: bool

    @classmethod
    def of(cls, data: Mapping[str, Any], context: JudgeContext, function: str) -> _MainRun:
        n = context.main_length(int(data["num_epochs"]))
        runs = _runs_of(data)
        report = CheckReport(f"Check: {function}(optimizer, num_epochs={n})")
        run = _Run.from_data(runs.get(str(n)), n)
        ran = report.add(f"builds a scheduler and steps it through {n} epochs", not run.error, run.error)
        return cls(report, run, n, float(data["base_lr"]), runs, ran)


def judge_warmup_schedule(data: Mapping[str, Any], context: JudgeContext | None = None) -> CheckReport:
    """Judge the recorded schedule at the main length (the learner's, or the course's for the
    grader), then at every probe length: a hard-coded length fails at some probe."""
    context = context or learner_context()
    main = _MainRun.of(data, context, "make_warmup_scheduler")
    report, run, n, base_lr, runs = main.report, main.run, main.n, main.base_lr, main.runs
    if not main.ran:
        return report
    if not _add_shape_criteria(report, run, num_epochs=n, base_lr=base_lr, scheduler=run.scheduler):
        return report
    failing, cause = _first_failing_probe(runs, context.probe_lengths(n), base_lr)
    at_probe = _Run.from_data(runs.get(str(failing)), failing).scheduler if failing else None
    named = non_whole_warmup(at_probe.warmup_epochs, failing) if at_probe is not None and failing else None
    if named is not None:  # WARMUP_FRACTION * num_epochs left as a float: not a hard-coded length
        report.add("lengths follow num_epochs", False, named)
        return report
    report.add(
        "lengths follow num_epochs",
        failing is None,
        f"with num_epochs={failing} the schedule is not a {WARMUP_PERCENT} warmup "
        f"+ cosine over {failing} epochs ({cause}): "
        "compute warmup_epochs and max_epochs from the num_epochs argument, with warmup_epochs a whole number "
        f"(int({WARMUP_FRACTION} * num_epochs)), instead of hard-coding them",
    )
    return report



# The LR-plot blank: the schedule is also built for other training lengths, to catch lengths
# hard-coded instead of derived from num_epochs (one of them with a warmup that is not whole).
check_warmup_schedule = Check("check_warmup_schedule", collect_warmup_schedule, judge_warmup_schedule)


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
    # a duck-typed stand-in for the trainer; the copy is thrown away afterwards
    module._trainer = _stub_trainer(num_epochs)  # type: ignore[assignment]
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


def _plain_setting(value: Any) -> Any:
    """An interval or frequency as data: str and int kept, anything else as its repr."""
    if isinstance(value, str) or is_int(value):
        return value
    return {"repr": repr(value)[:100]}


def _shown(value: Any) -> str:
    return value["repr"] if isinstance(value, Mapping) and "repr" in value else repr(value)


def _configured_data(model: Any, num_epochs: int | None) -> dict[str, Any]:
    """What ``configure_optimizers`` of a model with ``num_epochs`` returned, and its LR as Lightning steps it."""
    name = model.__name__ if isinstance(model, type) else type(model).__name__
    try:
        module = _build_module(model, num_epochs)
    except Exception as exc:  # noqa: BLE001 - the learner's __init__
        return {"build_error": f"{name}(...) raised {type(exc).__name__}: {exc}"}
    epochs = getattr(module, "num_epochs", None)
    if not is_int(epochs):
        return {"no_epochs": True}
    out: dict[str, Any] = {"num_epochs": epochs}
    returned, error = _configure(module, epochs)
    if error:
        out["error"] = error
        return out
    parsed = parse_configure_optimizers(returned)
    out["form"] = parsed.form if parsed.form in ("optimizer", "lists", "dict") else f"other:{parsed.returned_type}"
    if parsed.form == "dict":
        out["config"] = parsed.scheduler_config
        if parsed.scheduler_config == "dict":
            out["has_scheduler"] = parsed.has_scheduler
            optimizer, scheduler = parsed.optimizer, parsed.scheduler
            interval, frequency = parsed.interval, parsed.frequency
            out["interval"], out["frequency"] = _plain_setting(interval), _plain_setting(frequency)
            out["wraps"] = scheduler is not None and getattr(scheduler, "optimizer", None) is optimizer
            out["scheduler"] = SchedulerInfo.of(scheduler).data()
            if isinstance(optimizer, torch.optim.Optimizer) and optimizer.param_groups:
                group = optimizer.param_groups[0]
                out["base_lr"] = as_number(group.get("initial_lr", group.get("lr")))
            out["learning_rate"] = as_number(getattr(module, "learning_rate", None))
            if out["wraps"] and interval in ("epoch", "step") and frequency == 1 and out.get("base_lr"):
                spe = STEPS_PER_EPOCH if interval == "step" else 1
                out["run"] = _step_through(scheduler, optimizer, epochs, steps_per_epoch=spe, interval=interval,
                                           frequency=1).data()
    return out


def collect_configure_optimizers(model: Any, num_epochs: int | None = None, *,
                                 probes: Sequence[int] = LEARNER_PROBES, **_: Any) -> dict[str, Any]:
    """``configure_optimizers`` of copies of the model built for the learner's length, the
    course's and every probe length: its returned structure and the LR it gives."""
    is_class = isinstance(model, type) and issubclass(model, L.LightningModule)
    if not is_class and not isinstance(model, L.LightningModule):
        raise TypeError(
            "pass your LightningModule class or an instance of it, e.g. check_configure_optimizers(LightningModel), "
            f"not a {type(model).__name__}"
        )
    if num_epochs is not None:
        num_epochs = _check_epochs("num_epochs", num_epochs)
    name = model.__name__ if is_class else type(model).__name__
    own = _configured_data(model, num_epochs)
    data: dict[str, Any] = {"name": name, "own": own}
    if isinstance(own.get("num_epochs"), int):
        data["num_epochs"] = own["num_epochs"]
        data["runs"] = {str(n): own if n == own["num_epochs"] else _configured_data(model, n)
                        for n in lengths_to_record(own["num_epochs"], probes)}
    return data


def _parse_form(report: CheckReport, got: Mapping[str, Any]) -> bool:
    """"returns an optimizer and a scheduler": the form Lightning was given."""
    form = got.get("form")
    if form == "optimizer":
        report.add("returns an optimizer and a scheduler", False, f"only an optimizer was returned: {_CONFIGURE_HINT}")
        return False
    if form == "lists":
        report.add(
            "returns the Lightning scheduler dict",
            False,
            f"the ([optimizer], [scheduler]) form hides the interval; {_CONFIGURE_HINT}",
        )
        return False
    if form != "dict":
        kind = str(form).split(":", 1)[-1]
        missing = " (is its return line missing?)" if kind == "NoneType" else ""
        report.add("returns an optimizer and a scheduler", False,
                   f"configure_optimizers returned {kind}{missing}; {_CONFIGURE_HINT}")
        return False
    if got.get("config") == "missing":
        report.add("returns an optimizer and a scheduler", False, f"the dict has no 'lr_scheduler': {_CONFIGURE_HINT}")
        return False
    return report.add("returns an optimizer and a scheduler", True)


def _parse_config(report: CheckReport, got: Mapping[str, Any]) -> bool:
    """The scheduler dict: its keys, interval, frequency and the optimizer it wraps."""
    if got.get("config") != "dict":
        report.add(
            "returns the Lightning scheduler dict",
            False,
            "'lr_scheduler' is a bare scheduler: wrap it as {'scheduler': scheduler, 'interval': 'epoch', "
            "'frequency': 1} so when it steps is explicit",
        )
        return False
    if not got.get("has_scheduler"):
        report.add("returns the Lightning scheduler dict", False, "the lr_scheduler dict needs the key 'scheduler'")
        return False
    report.add("returns the Lightning scheduler dict", True)
    interval, frequency = got.get("interval"), got.get("frequency")
    if interval not in ("epoch", "step"):
        report.add("interval is 'epoch' or 'step'", False,
                   f"interval={_shown(interval)}; Lightning accepts only 'epoch' or 'step'")
        return False
    report.add("interval is 'epoch' or 'step'", True)
    if not report.add(
        "frequency is 1",
        frequency == 1 and isinstance(frequency, int),
        f"frequency={_shown(frequency)} steps the scheduler only every {_shown(frequency)} intervals, "
        "stretching the schedule; use 'frequency': 1",
    ):
        return False
    return report.add(
        "the scheduler wraps the returned optimizer",
        got.get("wraps") is True,
        "build the scheduler on the same optimizer you return",
    )


def _parse(report: CheckReport, got: Mapping[str, Any]) -> bool:
    """Criteria on the form of what ``configure_optimizers`` returned."""
    return _parse_form(report, got) and _parse_config(report, got)


def _lengths_match_interval(report: CheckReport, run: _Run, interval: str, info: SchedulerInfo | None,
                            num_epochs: int) -> bool:
    """A per-step scheduler with lengths in epochs finishes in the first epoch, and vice versa."""
    lr = run.per_step
    assert lr is not None
    name = "schedule lengths match the interval"
    first_peak = int(np.argmax(lr >= lr.max() * (1 - 1e-6)))  # later peaks of a periodic LR may be a hair higher
    # Lengths in epochs put the peak within the first num_epochs steps; lengths in steps put it
    # about a quarter of num_epochs * STEPS_PER_EPOCH steps in, far beyond (also in quick mode).
    if interval == "step" and first_peak < num_epochs:
        return report.add(
            name,
            False,
            "interval is 'step' but the lengths count epochs: the whole warmup + cosine is over within the "
            f"first {num_epochs} of the first epoch's {STEPS_PER_EPOCH} batches. Use 'interval': 'epoch', or count "
                f"in steps "
            f"(warmup = int({WARMUP_FRACTION} * self.trainer.estimated_stepping_batches), total = "
            "self.trainer.estimated_stepping_batches)",
        )
    max_epochs = info.max_epochs if _is_pl_bolts(info) else None  # type: ignore[union-attr]
    if interval == "epoch" and isinstance(max_epochs, (int, float)) and max_epochs >= 10 * num_epochs:
        return report.add(
            name,
            False,
            f"interval is 'epoch' but max_epochs={max_epochs!r} counts optimizer steps: with lengths in steps "
            "use 'interval': 'step'",
        )
    return report.add(name, True)


def _judge_configured(report: CheckReport, got: Any, num_epochs: int, *, full: bool) -> bool:
    if not isinstance(got, Mapping):
        report.add("configure_optimizers runs", False, f"nothing was recorded for num_epochs={num_epochs}")
        return False
    if got.get("build_error"):
        report.add("the model can be built", False, str(got["build_error"])[:400])
        return False
    if got.get("no_epochs"):
        report.add("the model knows its num_epochs", False,
                   "keep ClassifierModule's __init__, which stores self.num_epochs")
        return False
    if got.get("error"):
        report.add("configure_optimizers runs", False, str(got["error"])[:400])
        return False
    if not _parse(report, got):
        return False
    base_lr = as_number(got.get("base_lr"))
    wanted = as_number(got.get("learning_rate"))
    if full and wanted is not None and base_lr is not None:
        report.add(
            "optimizer uses self.learning_rate",
            math.isclose(base_lr, wanted, rel_tol=1e-9),
            f"the optimizer's lr is {base_lr:g} but self.learning_rate is {wanted:g}: pass "
            "lr=self.learning_rate",
        )
    interval = str(got.get("interval"))
    run_data = got.get("run")
    if base_lr is None or base_lr <= 0:
        report.add(f"scheduler steps through {num_epochs} epochs", False, "the returned optimizer has no positive lr")
        return False
    spe = STEPS_PER_EPOCH if interval == "step" else 1
    if not isinstance(run_data, Mapping) or run_data.get("steps_per_epoch") != spe:
        run = _Run(error="the LR was not recorded as Lightning steps this interval")
    else:
        run = _Run.from_data(run_data, num_epochs)
    if not report.add(f"scheduler steps through {num_epochs} epochs", not run.error, run.error):
        return False
    info = SchedulerInfo.from_data(got.get("scheduler"))
    if not _lengths_match_interval(report, run, interval, info, num_epochs):
        return False
    return _add_shape_criteria(report, run, num_epochs=num_epochs, base_lr=base_lr, scheduler=info)


def judge_configure_optimizers(data: Mapping[str, Any], context: JudgeContext | None = None) -> CheckReport:
    """Judge the recorded ``configure_optimizers`` at the main length, then at the probes."""
    context = context or learner_context()
    report = CheckReport(f"Check: {str(data.get('name', 'the model'))[:80]}.configure_optimizers")
    own = data.get("own")
    if not isinstance(data.get("num_epochs"), int):
        _judge_configured(report, own, 0, full=True)
        return report
    n = context.main_length(data["num_epochs"])
    runs = _runs_of(data)
    if not _judge_configured(report, runs.get(str(n)), n, full=True):
        return report
    failing, cause = None, ""
    for probe in context.probe_lengths(n):
        sub = CheckReport("probe")
        if not _judge_configured(sub, runs.get(str(probe)), probe, full=False):
            failing, cause = probe, _probe_cause(sub)
            break
    report.add(
        "max_epochs follows self.num_epochs",
        failing is None,
        f"a model with num_epochs={failing} does not get a {WARMUP_PERCENT} warmup "
        f"+ cosine over {failing} epochs ({cause}): "
        "derive the lengths from self.num_epochs (or self.trainer.estimated_stepping_batches) instead of "
        "hard-coding them",
    )
    return report



# The configure_optimizers blank: the scheduler is stepped as Lightning would step it (per epoch or
# per batch, from the dict's interval) on copies of the module built with other num_epochs.
check_configure_optimizers = Check("check_configure_optimizers", collect_configure_optimizers,
                                   judge_configure_optimizers)


# --------------------------------------------------------------------------- blank (c): torch-native schedule


def collect_native_schedule(
    make_native_scheduler: Callable[..., Any], num_epochs: int = COURSE_EPOCHS, base_lr: float = BASE_LR, *,
    probes: Sequence[int] = LEARNER_PROBES, **_: Any,
) -> dict[str, Any]:
    """The LR per epoch of the torch-only scheduler for the learner's, the course's and the probe lengths."""
    _require_function(make_native_scheduler, "check_native_schedule(make_native_scheduler, num_epochs=num_epochs)")
    num_epochs = _check_epochs("num_epochs", num_epochs)
    base_lr = _check_base_lr(base_lr)
    return {"num_epochs": num_epochs, "base_lr": base_lr,
            "runs": _record_lengths(make_native_scheduler, num_epochs, base_lr, probes)}


def _bolts_reference(num_epochs: int, base_lr: float) -> np.ndarray:
    """pl_bolts' own LR per epoch (the kit's library, run by whoever judges, never learner code)."""
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    w = _warmup_epochs(num_epochs)
    run = _record_factory(
        lambda opt, n: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=w, max_epochs=n, warmup_start_lr=0.0),
        num_epochs, base_lr,
    )
    assert run.per_step is not None
    return run.per_step


def judge_native_schedule(data: Mapping[str, Any], context: JudgeContext | None = None,
                          tol: float = 1e-9) -> CheckReport:
    """Judge the native schedule against pl_bolts epoch by epoch, at the main and the probe lengths."""
    context = context or learner_context()
    main = _MainRun.of(data, context, "make_native_scheduler")
    report, run, n, base_lr, runs = main.report, main.run, main.n, main.base_lr, main.runs
    if not main.ran:
        return report
    module = run.scheduler.module if run.scheduler else ""
    name = run.scheduler.name if run.scheduler else "?"
    report.add(
        "uses torch alone",
        module.startswith("torch."),
        f"{name} comes from {module}; use torch.optim.lr_scheduler (LambdaLR or SequentialLR)",
    )
    if n < MIN_EPOCHS:
        report.skip("equals pl_bolts at every epoch", f"only {n} epochs")
        return report
    assert run.per_step is not None
    gap = np.abs(run.per_step - _bolts_reference(n, base_lr))
    worst = int(np.argmax(gap))
    w = _warmup_epochs(n)
    if not report.add(
        f"equals pl_bolts at every epoch (max |difference| < {tol:g})",
        gap[worst] < tol,
        native_factor_mistake(run.per_step, n, base_lr)
        or f"epoch {worst}: yours {run.per_step[worst]:.6g}, pl_bolts {_bolts_reference(n, base_lr)[worst]:.6g}. "
            f"Remember "
        f"pl_bolts reaches the peak at epoch W-1 = {w - 1} (it divides by W-1) and holds it at epoch W",
    ):
        return report
    failing = None
    for probe in context.probe_lengths(n):
        other = _Run.from_data(runs.get(str(probe)), probe)
        if other.error or other.per_step is None or \
                np.abs(other.per_step - _bolts_reference(probe, base_lr)).max() >= tol:
            failing = probe
            break
    report.add(
        "lengths follow num_epochs",
        failing is None,
        f"with num_epochs={failing} your schedule differs from pl_bolts': compute the warmup and the cosine "
        f"from num_epochs (warmup_epochs = int({WARMUP_FRACTION} * num_epochs)) instead of hard-coding lengths",
    )
    return report



# The torch-native blank: compared with pl_bolts' LinearWarmupCosineAnnealingLR epoch by epoch.
check_native_schedule = Check("check_native_schedule", collect_native_schedule, judge_native_schedule)


# --------------------------------------------------------------------------- the training run



def find_trained_model(result: RunResult, namespace: Mapping[str, Any]) -> L.LightningModule | None:
    """The module of ``namespace`` whose trainer logged to ``result.log_dir`` (the run's model)."""
    for value in list(namespace.values()):
        if isinstance(value, L.LightningModule):
            trainer = getattr(value, "_trainer", None)
            log_dir = getattr(getattr(trainer, "logger", None), "log_dir", None)
            if log_dir is not None and Path(log_dir) == Path(result.log_dir):
                return value
    return None


def course_test_accuracy(weights: Mapping[str, torch.Tensor]) -> float:
    """Test accuracy of the course MLP with ``weights`` (a ClassifierModule's state dict), computed
    here from the course data; raises ValueError when the weights are not the course MLP's."""
    try:
        return course_accuracy(weights, "test")
    except ValueError as exc:
        raise ValueError(f"the trained weights are {exc}") from None


def collect_training_result(
    result: Any, num_epochs: int, threshold: float | None = ACCURACY_THRESHOLD, base_lr: float = BASE_LR, *,
    namespace: Mapping[str, Any] | None = None, **_: Any,
) -> dict[str, Any]:
    """The run's length and logged LR per epoch, and the trained model's weights."""
    from helpers.evidence import Tensors

    if not isinstance(result, RunResult):
        raise TypeError(f"pass the RunResult that fit_and_test returned, not a {type(result).__name__}")
    if threshold is not None:
        require_number("threshold", threshold, what="a number such as 0.885, or None")
    num_epochs = _check_epochs("num_epochs", num_epochs)
    base_lr = _check_base_lr(base_lr)
    data: dict[str, Any] = {"num_epochs": num_epochs, "threshold": threshold, "base_lr": base_lr,
                            "reported_test_acc": as_number(result.test_acc)}
    try:
        metrics = result.metrics
        data["epochs_logged"] = len(metrics)
        if "lr" in metrics.columns and metrics["lr"].notna().all():
            data["lr"] = metrics["lr"].to_numpy(dtype=float)
    except (FileNotFoundError, ValueError) as exc:
        data["log_error"] = str(exc)[:300]
    model = find_trained_model(result, namespace if namespace is not None else sys._getframe(1).f_globals)
    data["weights"] = Tensors(model.state_dict()) if model is not None else None
    return data


def _judge_length(report: CheckReport, n: int, quick: int | None) -> bool:
    """The run's num_epochs is the course's; True when it was set by hand in quick mode."""
    name = f"num_epochs is the course's {COURSE_EPOCHS}"
    if quick is not None and n == course_length(quick):
        report.skip(name, f"quick mode ({QUICK_EPOCHS_ENV} is set)")
        return False
    by_hand = quick is not None
    report.add(
        name,
        n == COURSE_EPOCHS and quick is None,
        f"num_epochs is {n}" + (" (set by hand: quick mode would have shortened course_epochs(100))" if by_hand else "")
        + f": keep num_epochs = course_epochs({COURSE_EPOCHS}) so your result compares with the course's",
    )
    return by_hand


def _judge_logged_lr(report: CheckReport, lr: Any, expected: int, base_lr: float, by_hand: bool) -> None:
    """The LR the run logged per epoch has the warmup + cosine shape (closed form not required)."""
    name = "the logged LR follows warmup + cosine"
    if by_hand:
        report.skip(name, "num_epochs was set by hand and quick mode cut the run short")
    elif isinstance(lr, np.ndarray) and len(lr) == expected:
        sub = CheckReport("lr")
        fine = _add_shape_criteria(sub, _Run(per_step=lr.astype(float)), num_epochs=expected, base_lr=base_lr,
                                   tol=1e-5, exact=False)
        report.add(name, fine, "; ".join(c.name + ": " + c.hint for c in sub.failed()))
    else:
        report.skip(name, "no 'lr' column in the run's metrics")


def _judge_accuracy(report: CheckReport, data: Mapping[str, Any], threshold: float, context: JudgeContext) -> None:
    """Test accuracy of the trained weights, computed here from the course data; in the notebook
    the accuracy the run reported stands in when the model was not found."""
    name = f"test accuracy ≥ {threshold}"
    weights = data.get("weights")
    accuracy = as_number(data.get("reported_test_acc")) if weights is None and not context.grader else None
    if isinstance(weights, Mapping):
        try:
            accuracy = course_test_accuracy(weights)
        except ValueError as exc:
            report.add(name, False, str(exc))
            return
    if accuracy is None:
        report.add(name, False, "the trained model was not found: keep the model you trained in a variable "
                                "(model = ...; result = fit_and_test(model))")
        return
    report.add(
        name,
        accuracy >= threshold,
        f"test accuracy {accuracy:.4f}; with warmup + cosine over {COURSE_EPOCHS} epochs the course "
        "reaches about 0.89: compare your schedule with the checks above",
    )


def judge_training_result(data: Mapping[str, Any], context: JudgeContext | None = None) -> CheckReport:
    """Judge a finished run: its length, the LR it logged per epoch, and the test accuracy of its
    weights, computed by the judge from the course data (against ``threshold``)."""
    context = context or learner_context()
    n = int(data["num_epochs"])
    threshold = as_number(data.get("threshold"))
    quick = context.quick
    report = CheckReport("Check: training run")
    by_hand = _judge_length(report, n, quick)
    if data.get("log_error"):
        report.add("the run's log can be read", False, f"{data['log_error']}; run the training cell again")
        return report
    trained = data.get("epochs_logged")
    expected = min(n, quick) if quick is not None else n
    if not report.add(
        f"trained for all {expected} epochs",
        trained == expected,
        f"the log has {trained} epochs: the model was trained for a different length than num_epochs, or the "
        "run was interrupted; run the cells from the top again",
    ):
        return report
    _judge_logged_lr(report, data.get("lr"), expected, float(data["base_lr"]), by_hand)
    if threshold is None:
        report.skip("test accuracy", "no target accuracy for this variant")
    elif quick is not None:
        report.skip(f"test accuracy ≥ {threshold}", f"quick mode trains only {expected} epochs")
    else:
        _judge_accuracy(report, data, threshold, context)
    return report



# A finished run: its length, the LR it logged per epoch and the test accuracy of its weights
# (the trained model is looked up in the notebook's globals).
check_training_result = Check("check_training_result", collect_training_result, judge_training_result,
                              caller_namespace=True)
