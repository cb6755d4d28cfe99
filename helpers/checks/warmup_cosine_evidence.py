"""Exercise 1's evidence and how the learner's kernel records it: a scheduler is built on a throw-away
optimizer and stepped as Lightning steps it, ``configure_optimizers`` is called on copies of the model
with a stand-in trainer, a finished run leaves its log and weights. A wrong answer (an unfilled blank,
pl_bolts' ZeroDivisionError) is recorded as a hint; only misuse of a check raises."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

import lightning as L
import numpy as np
import torch

from helpers import validate as v
from helpers.checks.context import lengths_to_record
from helpers.checks.optimizer_config import parse_configure_optimizers
from helpers.data import STEPS_PER_EPOCH
from helpers.evidence_codec import Evidence, Tensors
from helpers.schedules import INTERVALS, step_and_record
from helpers.settings import BASE_LR, TARGET_ACCURACY
from helpers.training import RunResult

# Lightning's intervals as recorded (their repr, as hints quote them) -> LR values recorded per epoch
STEPS_PER_INTERVAL = dict(zip(map(repr, INTERVALS), (1, STEPS_PER_EPOCH), strict=True))
_MAX_HINT = 400


@dataclass(frozen=True)
class SchedulerInfo:
    """What hints say about a scheduler: its class, and pl_bolts' lengths as given (an int or a float:
    a float warmup never hands over). Verdicts come from the LR values, never from these."""
    name: str = ""
    module: str = ""
    cosine_only: bool = False
    warmup_epochs: int | float | None = None
    max_epochs: int | float | None = None
    warmup_start_lr: int | float | None = None

    @classmethod
    def of(cls, scheduler: object) -> SchedulerInfo:
        lengths = [getattr(scheduler, a, None) for a in ("warmup_epochs", "max_epochs", "warmup_start_lr")]
        w, m, start = (x if v.is_number(x) else None for x in lengths)
        return cls(type(scheduler).__name__[:200], str(getattr(type(scheduler), "__module__", ""))[:200],
                   isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR), w, m, start)

    @property
    def is_bolts(self) -> bool:
        return self.name == "LinearWarmupCosineAnnealingLR"


@dataclass(frozen=True)
class LRRun:
    """The LR of every optimizer step (float32 when there are several per epoch: about 1e-8 of the base
    LR, far below every tolerance), or why the scheduler could not run (``error``, ``lr`` empty)."""
    lr: np.ndarray
    steps_per_epoch: int = 1
    error: str = ""
    scheduler: SchedulerInfo | None = None

    @property
    def bolts(self) -> SchedulerInfo | None:
        return self.scheduler if self.scheduler is not None and self.scheduler.is_bolts else None


@dataclass(frozen=True)
class ScheduleEvidence(Evidence):
    """A scheduler function's LR per epoch at the learner's, the course's and every probe length."""
    KIND = "warmup-cosine-schedule"
    num_epochs: int
    base_lr: float
    runs: dict[int, LRRun]


@dataclass(frozen=True)
class Configured:
    """What ``configure_optimizers`` of one copy of the model returned, and its LR as Lightning steps it;
    or the stage that failed before (building the model, reading its num_epochs, configuring) and why.
    ``interval`` and ``frequency`` are their repr, as hints quote them (the string 'epoch' is not epoch)."""
    failed: Literal["build", "epochs", "configure"] | None = None
    error: str = ""
    form: str = ""  # optimizer_config.FORMS
    returned_type: str = ""
    config: str = "missing"  # optimizer_config.SCHEDULER_CONFIGS
    has_scheduler: bool = False
    interval: str = ""
    frequency: str = ""
    wraps: bool = False  # the scheduler is built on the returned optimizer
    base_lr: float | None = None
    learning_rate: float | None = None
    run: LRRun | None = None


@dataclass(frozen=True)
class ConfigureEvidence(Evidence):
    """``configure_optimizers`` of the model as given (``own``) and of copies built for every length."""
    KIND = "configure-optimizers"
    name: str
    own: Configured
    num_epochs: int | None = None
    runs: dict[int, Configured] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingEvidence(Evidence):
    """A finished run: its length, its log's epochs and LR, and the trained weights (the judge scores them)."""
    KIND = "training-run"
    num_epochs: int
    threshold: float | None
    base_lr: float
    reported_test_acc: float | None = None
    epochs_logged: int | None = None
    lr: np.ndarray | None = None
    log_error: str = ""
    weights: Tensors | None = None


def _epochs(value: object) -> int:
    epochs = v.require_int("num_epochs", value, what="a whole number of epochs (e.g. num_epochs)")
    return int(v.require_at_least("num_epochs", epochs, 1))


def _base_lr(value: object) -> float:
    return float(v.require_positive("base_lr", v.require_number("base_lr", value, what=f"a number such as {BASE_LR}")))


def _error_hint(exc: BaseException, info: SchedulerInfo | None = None) -> str:
    """What went wrong while building or stepping, as a hint; pl_bolts' ZeroDivisionError explained."""
    if isinstance(exc, NotImplementedError):
        return f"blank not filled yet: {exc}"
    if isinstance(exc, ZeroDivisionError) and info and info.is_bolts and info.max_epochs == info.warmup_epochs:
        return (f"max_epochs equals warmup_epochs ({info.warmup_epochs}): pl_bolts divides by max_epochs - "
                "warmup_epochs once the warmup is over (ZeroDivisionError). max_epochs is the whole training "
                "(num_epochs), warmup_epochs a quarter of it")
    if isinstance(exc, ZeroDivisionError):
        return f"stepping the scheduler divided by zero ({exc}): check that the warmup and total lengths differ"
    return f"stepping the scheduler raised {type(exc).__name__}: {exc}"


def _failed_run(hint: str, info: SchedulerInfo | None = None) -> LRRun:
    return LRRun(np.empty(0), error=hint[:_MAX_HINT], scheduler=info)


def _step_through(scheduler: object, optimizer: torch.optim.Optimizer, epochs: int, interval: str = "epoch") -> LRRun:
    """:func:`helpers.schedules.step_and_record` at Lightning's ``interval``, what went wrong as a hint."""
    info, spe = SchedulerInfo.of(scheduler), STEPS_PER_EPOCH if interval == "step" else 1
    try:
        lrs = step_and_record(scheduler, optimizer, epochs, steps_per_epoch=spe, interval=interval)
    except Exception as exc:  # noqa: BLE001 - a wrong answer is reported, never raised
        return _failed_run(_error_hint(exc, info), info)
    return LRRun(lrs.astype(np.float32) if spe > 1 else lrs, spe, scheduler=info)


def record_factory(factory: Callable[..., object], num_epochs: int, base_lr: float) -> LRRun:
    """Build ``factory(optimizer, num_epochs)`` on a throw-away optimizer and step it per epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)")
            scheduler = factory(optimizer, num_epochs)
    except Exception as exc:  # noqa: BLE001
        return _failed_run(_error_hint(exc))
    if scheduler is None:
        return _failed_run("the function returns None: is its return line missing? End it with: return scheduler")
    if not hasattr(scheduler, "step") or getattr(scheduler, "optimizer", None) is not optimizer:
        kind = type(scheduler).__name__
        return _failed_run(f"it returned a {kind}, not a scheduler built on the optimizer it was given")
    return _step_through(scheduler, optimizer, num_epochs)


def schedule_evidence(factory: object, num_epochs: object, base_lr: object, probes: Sequence[int],
                      example_call: str) -> ScheduleEvidence:
    """The LR per epoch of ``factory(optimizer, n)`` for the learner's length, the course's and every probe."""
    if not callable(factory) or isinstance(factory, type):  # misuse: its result or a class, not the function
        raise TypeError(f"pass your function itself, e.g. {example_call}, not a {type(factory).__name__}")
    epochs, lr = _epochs(num_epochs), _base_lr(base_lr)
    return ScheduleEvidence(epochs, lr, {n: record_factory(factory, n, lr) for n in lengths_to_record(epochs, probes)})


def _build_module(model: type[L.LightningModule] | L.LightningModule, num_epochs: int | None) -> L.LightningModule:
    """An instance to call ``configure_optimizers`` on: a copy, so the learner's model is untouched,
    built under a forked RNG so the notebook's later random numbers do not change."""
    with torch.random.fork_rng():
        if isinstance(model, type):
            return model() if num_epochs is None else model(num_epochs=num_epochs)
        attached, model._trainer = model._trainer, None  # a trained model's Trainer need not be copied
        try:
            module = copy.deepcopy(model)
        finally:
            model._trainer = attached
        if num_epochs is not None:
            setattr(module, "num_epochs", num_epochs)  # noqa: B010 - torch types a module's attributes as tensors
            if "num_epochs" in module.hparams:
                module.hparams["num_epochs"] = num_epochs
        return module


def _configure(module: L.LightningModule, num_epochs: int) -> tuple[object, str]:
    """(what ``configure_optimizers`` returned, error hint), with a stand-in for what it may ask the
    trainer before fit (e.g. for a per-step warmup). The copy is thrown away afterwards."""
    module._trainer = SimpleNamespace(  # type: ignore[assignment]
        max_epochs=num_epochs, estimated_stepping_batches=num_epochs * STEPS_PER_EPOCH,
        num_training_batches=STEPS_PER_EPOCH, accumulate_grad_batches=1, current_epoch=0, global_step=0)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)")
            return module.configure_optimizers(), ""
    except Exception as exc:  # noqa: BLE001 - the learner's code
        return None, (f"configure_optimizers raised AttributeError: {exc}" if isinstance(exc, AttributeError)
                      else _error_hint(exc))
    finally:
        module._trainer = None


def _configured(model: type[L.LightningModule] | L.LightningModule, name: str, num_epochs: int | None
                ) -> tuple[Configured, int | None]:
    """What ``configure_optimizers`` of a model with ``num_epochs`` returned, and that model's num_epochs."""
    try:
        module = _build_module(model, num_epochs)
    except Exception as exc:  # noqa: BLE001 - the learner's __init__
        return Configured("build", f"{name}(...) raised {type(exc).__name__}: {exc}"[:_MAX_HINT]), None
    epochs = getattr(module, "num_epochs", None)
    if not v.is_int(epochs):
        return Configured("epochs", "keep ClassifierModule's __init__, which stores self.num_epochs"), None
    returned, error = _configure(module, epochs)
    if error:
        return Configured("configure", error[:_MAX_HINT]), epochs
    parsed = parse_configure_optimizers(returned)
    optimizer, scheduler, base_lr = parsed.optimizer, parsed.scheduler, None
    if isinstance(optimizer, torch.optim.Optimizer) and optimizer.param_groups:
        group = optimizer.param_groups[0]
        base_lr = v.as_number(group.get("initial_lr", group.get("lr")))
    wraps = scheduler is not None and getattr(scheduler, "optimizer", None) is optimizer
    stepped = parsed.form == "dict" and parsed.scheduler_config == "dict" and wraps and parsed.frequency == 1
    run = _step_through(scheduler, optimizer, epochs, parsed.interval) \
        if stepped and parsed.interval in INTERVALS and base_lr else None
    return Configured(form=parsed.form, returned_type=parsed.returned_type[:200], config=parsed.scheduler_config,
                      has_scheduler=parsed.has_scheduler, interval=repr(parsed.interval)[:100],
                      frequency=repr(parsed.frequency)[:100], wraps=wraps, base_lr=base_lr,
                      learning_rate=v.as_number(getattr(module, "learning_rate", None)), run=run), epochs


def configure_evidence(model: object, num_epochs: object, probes: Sequence[int]) -> ConfigureEvidence:
    """``configure_optimizers`` of copies of the model built for the learner's length, the course's and
    every probe length: its returned structure and the LR it gives."""
    if not (isinstance(model, L.LightningModule) or (isinstance(model, type) and issubclass(model, L.LightningModule))):
        raise TypeError("pass your LightningModule class or an instance of it, e.g. "
                        f"check_configure_optimizers(LightningModel), not a {type(model).__name__}")
    name = model.__name__ if isinstance(model, type) else type(model).__name__
    own, epochs = _configured(model, name, None if num_epochs is None else _epochs(num_epochs))
    if epochs is None:
        return ConfigureEvidence(name[:80], own)
    runs = {n: own if n == epochs else _configured(model, name, n)[0] for n in lengths_to_record(epochs, probes)}
    return ConfigureEvidence(name[:80], own, epochs, runs)


def _trained_model(result: RunResult, namespace: Mapping[str, object]) -> L.LightningModule | None:
    """The module of ``namespace`` whose trainer logged to ``result.log_dir`` (the run's model)."""
    for value in list(namespace.values()):
        if isinstance(value, L.LightningModule):
            log_dir = getattr(getattr(getattr(value, "_trainer", None), "logger", None), "log_dir", None)
            if log_dir is not None and Path(log_dir) == Path(result.log_dir):
                return value
    return None


def training_evidence(result: object, num_epochs: object, threshold: object, base_lr: object,
                      namespace: Mapping[str, object]) -> TrainingEvidence:
    """The run's length and logged LR per epoch, and the trained model's weights."""
    if not isinstance(result, RunResult):
        raise TypeError(f"pass the RunResult that fit_and_test returned, not a {type(result).__name__}")
    if threshold is not None:
        threshold = float(v.require_number("threshold", threshold, what=f"a number such as {TARGET_ACCURACY}, or None"))
    epochs, lr = _epochs(num_epochs), _base_lr(base_lr)
    logged, log_error, lrs = None, "", None
    try:
        metrics = result.metrics
        logged = len(metrics)
        if "lr" in metrics.columns and metrics["lr"].notna().all():
            lrs = metrics["lr"].to_numpy(dtype=float)
    except (FileNotFoundError, ValueError) as exc:
        log_error = str(exc)[:300]
    model = _trained_model(result, namespace)
    return TrainingEvidence(epochs, threshold, lr, v.as_number(result.test_acc), logged, lrs, log_error,
                            Tensors(model.state_dict()) if model is not None else None)
