"""Self-checks for Exercise 2: replacing Adam by AdamW and choosing its weight decay honestly.

``check_optimizer`` records what the optimizer of fresh ``model_class(weight_decay=...)`` instances
does (parameters after a few steps on fixed gradients, the scheduler's LR per epoch); nothing is
trained. ``check_weight_decay_choice`` records the learner's selection's answer on the sweep table
(or a made-up example) *and on altered copies of it*, each in its own field: a choice made by
validation accuracy still works without the test columns and follows the validation column when
test and train accuracy point elsewhere. Behaviour is judged, not source text, so a comment
mentioning "test" is no crime and a renamed column no escape.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
import torch

from helpers.checks.check import Check, Rule, run_rules
from helpers.checks.context import COURSE_LENGTH, JudgeContext, learner_context, wrong_length
from helpers.checks.optimizer_config import OptimizerConfig, parse_configure_optimizers
from helpers.checks.report import CheckReport, raised
from helpers.checks.sweep_evidence import SweepTable, SweepWeights, judge_weights, record_weights
from helpers.evidence_codec import Evidence
from helpers.mistakes import literal_learning_rate
from helpers.schedules import step_and_record
from helpers.settings import COURSE_EPOCHS, QUICK_EPOCHS_ENV, TEMPLATE_LR
from helpers.update_rules import Group, UpdateRule, identify, record_steps
from helpers.validate import finite_float, is_int, is_number

ADAMW_DEFAULT_WEIGHT_DECAY = 0.01
ABSURD_WEIGHT_DECAY = 10.0
PROBE_WEIGHT_DECAY = 0.37  # an unusual value: if the optimizer shows it, it really takes self.weight_decay
PROBE_LR = 0.0123  # likewise for self.learning_rate
MIN_SWEEP_VALUES = 4
# Rows a table needs before altered copies can put the best validation, test and training accuracy
# on three different weight decays (and so tell which column a selection follows).
MIN_ALTERED_ROWS = 3
SWEEP_SPAN = (0.01, 1.0)
# What learner code gives as a number (a numpy scalar, a 0-d tensor, the text "0.1"), or None.
_number = functools.partial(finite_float, text=True)


@dataclass(frozen=True)
class Schedule:
    interval: str
    name: str
    t_max: float | None
    lr: np.ndarray | None  # per epoch, stepped as Lightning does (when it steps per epoch)


@dataclass(frozen=True)
class Configured:
    """A fresh model and its ``configure_optimizers``: why it failed (``detail``: the error, or the
    type returned instead of an optimizer), or what its optimizer and scheduler do."""

    failure: Literal["", "blank", "build", "configure", "returned"] = ""
    detail: str = ""
    num_epochs: int | str = ""  # the model's; the repr of anything but an int
    learning_rate: float | None = None
    optimizer: str = ""
    groups: tuple[Group, ...] = ()
    schedule: Schedule | None = None


@dataclass(frozen=True)
class OptimizerEvidence(Evidence):
    """``main`` at the weight decay passed (the probe's without one), ``probe`` at PROBE_WEIGHT_DECAY;
    ``lr_seen``: the optimizer's starting LR when the model is built with ``learning_rate=PROBE_LR``."""

    KIND = "adamw-optimizer"
    VERSION = 1
    name: str
    weight_decay: float | None
    num_epochs: int | None
    main: Configured
    probe: Configured
    lr_seen: float | None


def _group(group: Mapping[str, object], after: dict[int, np.ndarray]) -> Group:
    b = group.get("betas")
    betas = tuple(map(_number, b)) if isinstance(b, (tuple, list)) and len(b) == 2 else (None, None)
    return Group(_number(group.get("initial_lr", group.get("lr"))), _number(group.get("weight_decay")) or 0.0,
                 (betas[0], betas[1]) if betas[0] is not None and betas[1] is not None else None,
                 _number(group.get("eps")), _number(group.get("momentum")) or 0.0,
                 bool(group.get("decoupled_weight_decay", False)), bool(group.get("amsgrad", False)), after)


def _schedule(config: OptimizerConfig, epochs: int | str) -> Schedule | None:
    if config.scheduler is None:
        return None
    lr = None
    if config.interval == "epoch" and isinstance(epochs, int) and 0 < epochs <= 10_000:
        with contextlib.suppress(Exception):  # a scheduler that cannot step: not the template's cosine
            lr = step_and_record(config.scheduler, config.optimizer, epochs)
    return Schedule(str(config.interval)[:20], type(config.scheduler).__name__,
                    _number(getattr(config.scheduler, "T_max", None)), lr)


def _configured(model_class: type, weight_decay: float, seed: int) -> Configured:
    """Build ``model_class(weight_decay=...)`` and call ``configure_optimizers``; a failure is data."""
    try:
        model = model_class(weight_decay=weight_decay)
    except NotImplementedError as exc:
        return Configured("blank", str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 - any failure is the learner's to fix, reported not raised
        return Configured("build", raised(exc))
    epochs = getattr(model, "num_epochs", None)
    facts = Configured("", "", epochs if is_int(epochs) else repr(epochs)[:50],
                       _number(getattr(model, "learning_rate", None)))
    try:
        config = parse_configure_optimizers(model.configure_optimizers())
    except NotImplementedError as exc:
        return Configured("blank", str(exc)[:300])
    except Exception as exc:  # noqa: BLE001
        return replace(facts, failure="configure", detail=raised(exc))
    if not isinstance(config.optimizer, torch.optim.Optimizer):
        return replace(facts, failure="returned", detail=config.returned_type)
    with torch.random.fork_rng():
        recorded = record_steps(config.optimizer, seed)
    groups = tuple(_group(g, after) for g, after in zip(config.optimizer.param_groups, recorded, strict=True))
    return replace(facts, optimizer=type(config.optimizer).__name__, groups=groups,
                   schedule=_schedule(config, facts.num_epochs))


def _lr_seen(model_class: type, weight_decay: float) -> float | None:
    """A number typed into the optimizer does not follow the model's ``learning_rate``."""
    try:
        model = model_class(weight_decay=weight_decay, learning_rate=PROBE_LR)
        group = parse_configure_optimizers(model.configure_optimizers()).optimizer.param_groups[0]
        return float(group.get("initial_lr", group["lr"]))
    except Exception:  # noqa: BLE001 - a model without a learning_rate argument: not probed
        return None


def _collect_optimizer(model_class: type, *, weight_decay: float | None = None, num_epochs: int | None = None,
                       seed: int = 0) -> OptimizerEvidence:
    """The optimizer of a model built with the weight decay passed (or the probe value) and with the
    probe value: a decay typed into the optimizer shows as the same decay in both."""
    if not isinstance(model_class, type):
        raise TypeError(
            f"pass the class itself, e.g. check_optimizer(LightningModel), not a {type(model_class).__name__}")
    if weight_decay is not None and not is_number(weight_decay):
        raise TypeError(f"weight_decay must be a number, got {type(weight_decay).__name__}")
    if num_epochs is not None and not is_int(num_epochs):
        raise TypeError(f"num_epochs must be an int (the notebook's num_epochs), got {type(num_epochs).__name__}")
    wd = PROBE_WEIGHT_DECAY if weight_decay is None else float(weight_decay)
    main = _configured(model_class, wd, seed)
    probe = main if wd == PROBE_WEIGHT_DECAY else _configured(model_class, PROBE_WEIGHT_DECAY, seed)
    return OptimizerEvidence(model_class.__name__, None if weight_decay is None else wd, num_epochs, main, probe,
                             _lr_seen(model_class, wd))


@dataclass(frozen=True)
class _Seen:
    """The optimizer evidence as its rules read it: each run's update rule found once."""

    ev: OptimizerEvidence
    rule: UpdateRule | None
    probe_rule: UpdateRule | None
    group: Group  # the main run's first group
    name: str  # the optimizer's class name

    def probe_says(self, text: str) -> str:
        return f"{self.ev.name[:60]}(weight_decay={PROBE_WEIGHT_DECAY}){text}"

    def probe_decays_all(self, value: float) -> bool:
        return self.probe_rule is not None and all(math.isclose(g.weight_decay, value) for g in self.ev.probe.groups)


def _value_hint(value: float) -> str | None:
    if value <= 0:
        return f"weight decay is {value:g}: nothing decays; pass weight_decay=self.weight_decay > 0"
    if not value > ABSURD_WEIGHT_DECAY:  # nan included, as a NaN decay fails earlier (torch rejects it)
        return None
    return (f"weight decay {value:g} is absurd (> {ABSURD_WEIGHT_DECAY:g}): torch multiplies it by the learning rate "
            f"each step, and useful values lie between about {SWEEP_SPAN[0]:g} and {SWEEP_SPAN[1]:g}")


def _lr_hint(s: _Seen) -> str | None:
    lr, own = s.group.lr, s.ev.main.learning_rate
    if s.rule is None or lr is None:
        return "the optimizer's updates do not show its learning rate: use torch.optim.AdamW with lr=self.learning_rate"
    if own is not None and not math.isclose(lr, own):
        return (f"the optimizer starts at lr={lr:g} but self.learning_rate is {own:g}: a hard-coded lr=... in the "
                "optimizer overrides the template; pass lr=self.learning_rate")
    if not math.isclose(lr, TEMPLATE_LR):
        return (f"the learning rate is {lr:g}; keep the template's {TEMPLATE_LR} so that Adam and AdamW differ only "
                "in how they decay weights")
    return None if s.ev.lr_seen is None else literal_learning_rate(s.ev.lr_seen, PROBE_LR, TEMPLATE_LR)


def _schedule_hint(s: _Seen) -> str | None:
    schedule, epochs, lr0 = s.ev.main.schedule, s.ev.main.num_epochs, s.group.lr
    if schedule is None:
        return "no scheduler is returned; keep the template's CosineAnnealingLR and its lr_scheduler dict"
    if schedule.interval != "epoch":
        return f"the scheduler steps every {schedule.interval!r}; T_max counts epochs, so keep \"interval\": \"epoch\""
    if isinstance(epochs, int) and lr0 is not None and schedule.lr is not None and len(schedule.lr) == epochs:
        cosine = [lr0 * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]
        if np.allclose(schedule.lr, cosine, rtol=1e-6, atol=1e-9 * lr0):
            return None
    if schedule.name != "CosineAnnealingLR":
        return f"found {schedule.name}; keep the template's CosineAnnealingLR"
    if schedule.t_max is not None and schedule.t_max != epochs:
        return f"T_max is {schedule.t_max:g} but num_epochs is {epochs}; keep T_max=self.num_epochs"
    return "the LR per epoch is not the template's cosine from the base LR to 0 over num_epochs"


_OPTIMIZER_RULES: tuple[Rule[_Seen], ...] = (
    Rule("optimizer is AdamW (decoupled weight decay)",
         lambda s, _: s.rule == "adamw" and (s.group.weight_decay > 0 or s.name == "AdamW" or s.group.decoupled),
         lambda s: (f"the optimizer's updates follow neither AdamW's rule nor Adam's (found {s.name}); use "
                    "torch.optim.AdamW(self.parameters(), ...) with its defaults"),
         mistakes=(lambda s: ("this is Adam with weight_decay, the common mistake: Adam adds weight_decay·θ to the "
                              "gradient (L2), which its adaptive denominator then rescales; use torch.optim.AdamW")
                   if s.rule == "adam" and s.group.weight_decay > 0 else None,
                   lambda s: ("still the template's torch.optim.Adam; replace it with torch.optim.AdamW"
                              if s.rule in ("adamw", "adam") else None),
                   lambda s: (f"found torch.optim.{s.name}; this exercise uses torch.optim.AdamW"
                              if s.rule == "sgd" or s.name not in ("Adam", "AdamW") else None))),
    Rule(f"weight_decay is the one you pass, not AdamW's default {ADAMW_DEFAULT_WEIGHT_DECAY:g}",
         lambda s, _: s.probe_decays_all(PROBE_WEIGHT_DECAY),
         lambda s: s.probe_says(f" gave an optimizer with weight_decay "
                                f"{', '.join(f'{g.weight_decay:g}' for g in s.ev.probe.groups)}: pass "
                                "weight_decay=self.weight_decay"),
         mistakes=(lambda s: s.probe_says(" failed to configure") if s.ev.probe.failure else None,
                   lambda s: s.probe_says(f" still decays with {ADAMW_DEFAULT_WEIGHT_DECAY:g}, AdamW's default: pass "
                                          "weight_decay=self.weight_decay to the optimizer")
                   if s.probe_decays_all(ADAMW_DEFAULT_WEIGHT_DECAY) else None,
                   lambda s: s.probe_says("'s optimizer does not update its parameters by a known rule: pass "
                                          "weight_decay=self.weight_decay to torch.optim.AdamW")
                   if s.probe_rule is None else None)),
    Rule(f"learning rate left at the template's {TEMPLATE_LR} (self.learning_rate)",
         lambda s, _: _lr_hint(s) is None, lambda s: _lr_hint(s) or ""),
    Rule("scheduler left as the template's CosineAnnealingLR(T_max=num_epochs), per epoch",
         lambda s, _: _schedule_hint(s) is None, lambda s: _schedule_hint(s) or ""),
)
_FAILURES = {  # a model that cannot be built or configured: its one line, and the hint
    "blank": ("the blank in {model}.configure_optimizers is filled in", "not yet: {detail}"),
    "build": ("{model}(weight_decay=...) can be built",
              "{detail} — keep the template's __init__, which takes weight_decay"),
    "configure": ("configure_optimizers runs", "it raised {detail}"),
    "returned": ("configure_optimizers returns an optimizer",
                 ("it returned {detail}{missing}; return {{'optimizer': ..., 'lr_scheduler': ...}} as the template "
                  "does")),
}


def _judge_epochs(report: CheckReport, ev: OptimizerEvidence, context: JudgeContext) -> None:
    epochs: list[tuple[str, object]] = [("the model's num_epochs", ev.main.num_epochs)]
    if ev.num_epochs is not None:
        epochs.insert(0, ("num_epochs", ev.num_epochs))
    wrong = wrong_length(epochs, context)
    if context.quick is not None and wrong is None:
        report.skip(COURSE_LENGTH, f"quick mode, {QUICK_EPOCHS_ENV} is set")
    elif context.quick is not None and wrong is not None:
        report.add(COURSE_LENGTH, False, f"{wrong[0]} is {wrong[1]}, set by hand: write num_epochs = "
                   f"course_epochs({COURSE_EPOCHS}) (quick mode shortens it; a number typed in is never shortened)")
    else:
        report.add(COURSE_LENGTH, wrong is None, f"{wrong[0]} is {wrong[1]}: train the full {COURSE_EPOCHS} epochs; "
                   "overfitting, and what weight decay does about it, shows only late in training" if wrong else "")


def _judge_optimizer(ev: OptimizerEvidence, context: JudgeContext | None = None) -> CheckReport:
    """Which update rule the optimizer follows, with which weight decay and learning rate, and the
    scheduler's LR per epoch; a model that cannot be configured gets one line saying where it failed."""
    context, title = context or learner_context(), f"Checking {ev.name[:60]}.configure_optimizers"
    if ev.main.failure:
        name, hint = _FAILURES[ev.main.failure]
        report = CheckReport(title)
        missing = " (is its return line missing?)" if ev.main.detail == "NoneType" else ""
        report.add(name.format(model=ev.name[:60]), False, hint.format(detail=ev.main.detail, missing=missing))
        return report
    rules = list(_OPTIMIZER_RULES)
    if (wd := ev.weight_decay) is not None:
        rules.insert(1, Rule(f"weight decay {wd:g} is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}",
                             lambda s, _: _value_hint(wd) is None, lambda s: _value_hint(wd) or ""))
    seen = _Seen(ev, identify(ev.main.groups, context.seed), identify(ev.probe.groups, context.seed),
                 ev.main.groups[0] if ev.main.groups else Group(None, 0.0, None, None, 0.0, False, False, {}),
                 ev.main.optimizer[:40])
    report = run_rules(title, rules, seen, context)
    _judge_epochs(report, ev, context)
    return report


# The learner's configure_optimizers on a fresh model_class(weight_decay=...): pass weight_decay
# (the chosen value) to check it too, and the notebook's num_epochs.
check_optimizer = Check("check_optimizer", _collect_optimizer, _judge_optimizer, evidence=OptimizerEvidence)


@dataclass(frozen=True)
class Answer:
    """What the selection returned on one table (a finite number, else None and ``returned``: the
    start of its repr), or what it raised (``error``: "KeyError: 'x'", or the unfilled blank's message)."""

    value: float | None = None
    error: str = ""
    blank: bool = False
    returned: str = ""

    def failure(self) -> str:
        """The failure as the exception's repr, or the repr of what was returned instead of a number."""
        kind, _, text = self.error.partition(": ")
        if self.blank:
            return "NotImplementedError('blank not filled')"
        return f"{kind}({text!r})" if kind else self.returned or "None"


_NO_ANSWER = Answer(error="LookupError: no answer was recorded for this table")


@dataclass(frozen=True)
class Answers:
    """The selection's answer on each table the judge shows it: the table itself, the table without
    its test columns (None if it has none), the altered copies of ``_layouts`` (none below MIN_ALTERED_ROWS)."""

    label: str
    on_table: Answer
    without_test: Answer | None
    on_altered: tuple[Answer, ...]


@dataclass(frozen=True)
class ChoiceEvidence(Evidence):
    """``sweep_table`` None: judged on the example table (the grader fixes None when the check cell
    passes none); ``choice``: a number chosen by hand, or the selection's answers."""

    KIND = "adamw-weight-decay-choice"
    VERSION = 2
    sweep_table: SweepTable | None
    choice: float | Answers
    weights: SweepWeights | None = None


def example_sweep_table() -> pd.DataFrame:
    """A made-up sweep table (not a real run) in which validation, test and training accuracy
    favour different weight decays (0.1, 0.3 and 0.01): a selection can be checked on it
    before, or without, a real sweep."""
    return pd.DataFrame({"val_acc": [0.866, 0.871, 0.893, 0.889, 0.860],
                         "test_acc": [0.858, 0.870, 0.899, 0.905, 0.850],
                         "train_acc": [0.986, 0.975, 0.950, 0.920, 0.880],
                         "gap": [0.120, 0.104, 0.057, 0.031, 0.020], "epochs": [COURSE_EPOCHS] * 5},
                        index=pd.Index([0.01, 0.05, 0.1, 0.3, 1.0], name="weight_decay"))


def _layouts(rows: int, seed: int) -> list[tuple[int, ...]]:
    """Rows where the altered tables put the best validation, test and training accuracy: two
    fixed layouts and two drawn from ``seed`` (the grader draws a new seed per run)."""
    rng = random.Random(seed)
    return [(0, rows - 1, rows // 2), (rows - 1, 0, 1 if rows >= 4 else rows // 2),
            *(tuple(rng.sample(range(rows), MIN_ALTERED_ROWS)) for _ in range(2))]


def _altered(table: pd.DataFrame, val_at: int, test_at: int, train_at: int) -> pd.DataFrame:
    altered, rows = table.copy(), range(len(table))
    altered["val_acc"] = [0.90 if i == val_at else 0.85 for i in rows]
    for column in (c for c in altered.columns if str(c).startswith("test")):
        altered[column] = [0.95 if i == test_at else 0.80 for i in rows]
    if "train_acc" in altered.columns:
        altered["train_acc"] = [0.99 if i == train_at else 0.95 for i in rows]
        if "gap" in altered.columns:
            altered["gap"] = altered["train_acc"] - altered["val_acc"]
    return altered


def _answer(choose: Callable[[pd.DataFrame], object], table: pd.DataFrame) -> Answer:
    try:  # on a copy: the learner's table is never modified
        returned = choose(table.copy())
        return Answer(number) if (number := _number(returned)) is not None else Answer(returned=repr(returned)[:80])
    except NotImplementedError as exc:
        return Answer(error=str(exc)[:300], blank=True)
    except Exception as exc:  # noqa: BLE001 - reported as the learner's to fix
        return Answer(error=raised(exc))


def _collect_choice(choice: Callable[[pd.DataFrame], object] | float, sweep_table: pd.DataFrame | None = None, *,
                    seed: int = 0, namespace: Mapping[str, object] | None = None) -> ChoiceEvidence:
    """The selection's answer on every table the judge shows it (or the chosen number), the table
    and, for a real one, the trained weights of the sweep's runs in ``namespace`` (the notebook's)."""
    if sweep_table is None and not callable(choice):
        raise TypeError("to judge a chosen number, pass the sweep table too: check_weight_decay_choice(value, "
                        "sweep_table)")
    table = example_sweep_table() if sweep_table is None else sweep_table
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"sweep_table must be a pandas DataFrame (sweep.table), got {type(table).__name__}")
    if "val_acc" not in table.columns:
        raise ValueError(f"sweep_table needs a 'val_acc' column; it has {list(table.columns)}")
    if len(table) < 2:
        raise ValueError("sweep_table needs at least two weight decays to choose from")
    if is_number(choice):
        recorded: float | Answers = float(choice)
    elif callable(choice):
        tests = [c for c in table.columns if str(c).startswith("test")]
        recorded = Answers(str(getattr(choice, "__name__", "your selection"))[:60], _answer(choice, table),
                           _answer(choice, table.drop(columns=tests)) if tests else None,
                           tuple(_answer(choice, _altered(table, *at)) for at in _layouts(len(table), seed))
                           if len(table) >= MIN_ALTERED_ROWS else ())
    else:
        raise TypeError("choice must be your selection function (e.g. choose_weight_decay) or the chosen number, "
                        f"got {type(choice).__name__}")
    if sweep_table is None:
        return ChoiceEvidence(None, recorded)
    return ChoiceEvidence(SweepTable.of(table), recorded, record_weights(table, namespace))


def _judge_sweep(report: CheckReport, table: SweepTable, context: JudgeContext) -> None:
    values, (low, high) = sorted(table.index), SWEEP_SPAN
    few = len(values) < MIN_SWEEP_VALUES
    report.add(f"sweep tried ≥ {MIN_SWEEP_VALUES} weight decays spanning {low}–{high}",
               not few and values[0] <= low and values[-1] >= high,
               f"only {len(values)} values ({values}); try at least {MIN_SWEEP_VALUES}" if few
               else f"the values run {values[0]:g}–{values[-1]:g}; include {low:g} and {high:g} (or beyond)")
    name = f"every sweep run trained the course's {COURSE_EPOCHS} epochs"
    if context.quick is not None or "epochs" not in table.columns:
        report.skip(name, f"quick mode, {QUICK_EPOCHS_ENV} is set" if context.quick is not None
                    else "the table has no 'epochs' column")
        return
    short = {wd: int(e) if math.isfinite(e) else e for wd, e in zip(table.index, table.columns["epochs"],
                                                                      strict=True) if e != COURSE_EPOCHS}
    report.add(name, not short, f"epochs per weight decay {short}: run each for num_epochs = {COURSE_EPOCHS}")


def _column_followed(table: SweepTable, values: list[float], seed: int) -> str | None:
    """Which column the answers on the altered tables follow: None for validation (right), else the
    hint naming a typed-in number, test accuracy, training accuracy, or none of them."""
    rows = [[table.index[i] for i in layout] for layout in _layouts(len(table.index), seed)]
    if all(math.isclose(v, r[0]) for v, r in zip(values, rows, strict=True)):
        return None
    if math.isclose(values[0], values[1]):
        return (f"your selection returns {values[0]:g} whatever the table says: compute the choice from "
                "sweep_table['val_acc'] instead of typing a number")
    if table.tests and all(v == r[1] for v, r in zip(values, rows, strict=True)):
        return ("your selection follows test accuracy: the test set must stay unseen until the end; pick the weight "
                "decay with the highest sweep_table['val_acc']")
    if "train_acc" in table.columns and all(v == r[2] for v, r in zip(values, rows, strict=True)):
        return "your selection follows training accuracy, which rewards overfitting; use 'val_acc'"
    return (f"on a table whose best validation accuracy is at {rows[0][0]:g} your selection returned "
            f"{values[0]:g}: pick the weight decay with the highest sweep_table['val_acc']")


BY_VALIDATION = "chosen by validation accuracy, not test accuracy"


def _by_validation(table: SweepTable, choice: float | Answers, seed: int) -> str | None:
    """The hint when the choice is not made by validation accuracy; "" when it cannot be told."""
    if isinstance(choice, float):
        if any(math.isclose(choice, v) for v in table.best("val_acc")):
            return None
        test_best = table.best("test_acc") if "test_acc" in table.columns else set()
        if any(math.isclose(choice, v) for v in test_best):
            return "this is the best test accuracy, not the best validation accuracy"
        return "pick the weight decay with the highest sweep_table['val_acc']"
    without_test = choice.without_test or _NO_ANSWER
    if table.tests and (without_test.blank or without_test.error):
        failure = "NotImplementedError: blank not filled" if without_test.blank else without_test.error
        return (f"without the test columns your selection fails ({failure}): it reads test metrics; choose with "
                "sweep_table['val_acc'] only")
    if len(table.index) < MIN_ALTERED_ROWS:
        return ""
    given = choice.on_altered if len(choice.on_altered) == len(_layouts(MIN_ALTERED_ROWS, seed)) else (_NO_ANSWER,)
    failed = next((a for a in given if a.error or a.value is None), None)
    if failed is not None:
        return f"your selection failed on an altered copy of the table ({failed.failure()}); use sweep_table['val_acc']"
    return _column_followed(table, [a.value for a in given if a.value is not None], seed)


def _judge_choice(ev: ChoiceEvidence, context: JudgeContext | None = None) -> CheckReport:
    """The criteria on the recorded answers; the example table is the judge's own, and the altered
    tables' layouts come from the context's seed."""
    context = context or learner_context()
    table = ev.sweep_table or SweepTable.of(example_sweep_table())
    label = ev.choice.label if isinstance(ev.choice, Answers) else "weight decay"
    report = CheckReport(f"Checking {label}" + (" on an example sweep table" if ev.sweep_table is None else ""))
    on_table = ev.choice.on_table if isinstance(ev.choice, Answers) else Answer(ev.choice)
    if on_table.blank or on_table.error:
        report.add(f"the blank in {label} is filled in" if on_table.blank else f"{label} runs on the sweep table",
                   False, f"not yet: {on_table.error}" if on_table.blank else f"it raised {on_table.error}")
        return report
    if ev.sweep_table is not None:
        if not judge_weights(report, table, ev.weights, context.grader):
            return report
        _judge_sweep(report, table, context)
    value = on_table.value
    swept = value is not None and any(math.isclose(value, v) for v in table.index)
    report.add("choice is one of the swept weight decays", swept,
               f"got {on_table.returned or repr(value)}; return one of {sorted(set(table.index))} (the table's index)")
    if value is None or not swept:
        return report
    hint = _value_hint(value)
    report.add(f"on the example table your function picks {value:g}, which is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}"
               if ev.sweep_table is None else f"your choice {value:g} is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}",
               hint is None, hint or "")
    best, default = table.best("val_acc"), math.isclose(value, ADAMW_DEFAULT_WEIGHT_DECAY)
    report.add("choice has the sweep's best validation accuracy", any(math.isclose(value, v) for v in best),
               f"{value:g} has val_acc {table.at(value, 'val_acc'):.4f}; the best is at {sorted(best)}"
               + (f" — {ADAMW_DEFAULT_WEIGHT_DECAY:g} is AdamW's default, not a choice" if default else ""))
    hint = _by_validation(table, ev.choice, context.seed)
    if hint == "":
        report.skip(BY_VALIDATION, f"needs a sweep of {MIN_ALTERED_ROWS} or more values to tell the columns "
                    "apart")
    else:
        report.add(BY_VALIDATION, hint is None, hint or "")
    return report


# The weight decay chosen from sweep_table (a function of the table, or a number). A function is
# also run on altered copies of the table, to see that it uses validation accuracy and never the
# test columns; without sweep_table it is checked on example_sweep_table(), so the check works
# before (or without) a real sweep. The sweep's runs are found in the notebook's globals.
check_weight_decay_choice = Check("check_weight_decay_choice", _collect_choice, _judge_choice, evidence=ChoiceEvidence,
                                  caller_namespace=True)
