"""Self-checks for Exercise 2: replacing Adam by AdamW and choosing its weight decay honestly.

``check_optimizer`` builds a fresh instance of the learner's model class and inspects what its
``configure_optimizers`` returns; nothing is trained. ``check_weight_decay_choice`` calls the
learner's selection function on the sweep table (the real one, or a made-up example before the
sweep exists) *and on altered copies of it*: a choice made by validation accuracy must still
work without the test columns and must follow the validation column when test and train
accuracy point elsewhere. Behaviour is checked rather
than source text, so a comment mentioning "test" is no crime and a renamed column no escape.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch

from helpers.checks.report import CheckReport
from helpers.training import COURSE_EPOCHS, QUICK_EPOCHS_ENV

TEMPLATE_LR = 0.005
ADAMW_DEFAULT_WEIGHT_DECAY = 0.01
ABSURD_WEIGHT_DECAY = 10.0
# An unusual value: if the optimizer shows it, it really takes self.weight_decay.
PROBE_WEIGHT_DECAY = 0.37
MIN_SWEEP_VALUES = 4
SWEEP_SPAN = (0.01, 1.0)

ChoiceLike = Callable[[pd.DataFrame], Any] | float


# ---------------------------------------------------------------------------------------------
# configure_optimizers
# ---------------------------------------------------------------------------------------------


def _quick_mode() -> bool:
    return os.environ.get(QUICK_EPOCHS_ENV) is not None


def _unpack(returned: Any) -> tuple[Any, Any, str]:
    """(optimizer, scheduler, interval) from the shapes Lightning accepts for one optimizer."""
    optimizer, scheduler, interval = returned, None, "epoch"
    if isinstance(returned, dict):
        optimizer = returned.get("optimizer")
        scheduler = returned.get("lr_scheduler")
    elif isinstance(returned, (list, tuple)):
        if len(returned) == 2 and all(isinstance(part, (list, tuple)) for part in returned):
            optimizers, schedulers = returned
            optimizer = optimizers[0] if optimizers else None
            scheduler = schedulers[0] if schedulers else None
        elif len(returned) >= 1:
            return _unpack(returned[0])
        else:
            optimizer = None
    if isinstance(scheduler, dict):
        interval = scheduler.get("interval", "epoch")
        scheduler = scheduler.get("scheduler")
    return optimizer, scheduler, interval


def _configure(model_class: type, weight_decay: float, report: CheckReport) -> tuple[Any, Any, str, Any] | None:
    """Build ``model_class(weight_decay=...)`` and call ``configure_optimizers``; a failure is
    recorded as one ✗ line and returns None."""
    try:
        model = model_class(weight_decay=weight_decay)
    except NotImplementedError as exc:
        report.add("blank filled in", False, f"blank not filled yet: {exc}")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure is the learner's to fix, reported not raised
        report.add(
            f"{model_class.__name__}(weight_decay=...) can be built",
            False,
            f"{type(exc).__name__}: {exc} — keep the template's __init__, which takes weight_decay",
        )
        return None
    try:
        returned = model.configure_optimizers()
    except NotImplementedError as exc:
        report.add("blank filled in", False, f"blank not filled yet: {exc}")
        return None
    except Exception as exc:  # noqa: BLE001
        report.add("configure_optimizers runs", False, f"it raised {type(exc).__name__}: {exc}")
        return None
    optimizer, scheduler, interval = _unpack(returned)
    if not isinstance(optimizer, torch.optim.Optimizer):
        report.add(
            "configure_optimizers returns an optimizer",
            False,
            f"it returned {type(returned).__name__}; return {{'optimizer': ..., 'lr_scheduler': ...}} as the template does",
        )
        return None
    return model, optimizer, interval, scheduler


def _weight_decays(optimizer: torch.optim.Optimizer) -> list[float]:
    return [float(group.get("weight_decay", 0.0)) for group in optimizer.param_groups]


def _check_type(report: CheckReport, optimizer: torch.optim.Optimizer) -> None:
    name = type(optimizer).__name__
    decoupled = isinstance(optimizer, torch.optim.Adam) and all(
        group.get("decoupled_weight_decay", False) for group in optimizer.param_groups
    )
    if decoupled:
        report.add("optimizer is AdamW (decoupled weight decay)", True)
    elif isinstance(optimizer, torch.optim.Adam) and max(_weight_decays(optimizer)) > 0:
        report.add(
            "optimizer is AdamW (decoupled weight decay)",
            False,
            "this is Adam with weight_decay, the common mistake: Adam adds weight_decay·θ to the gradient "
            "(L2), which its adaptive denominator then rescales; use torch.optim.AdamW",
        )
    elif isinstance(optimizer, torch.optim.Adam):
        report.add(
            "optimizer is AdamW (decoupled weight decay)",
            False,
            "still the template's torch.optim.Adam; replace it with torch.optim.AdamW",
        )
    else:
        report.add(
            "optimizer is AdamW (decoupled weight decay)",
            False,
            f"found torch.optim.{name}; this exercise uses torch.optim.AdamW",
        )


def _check_value(report: CheckReport, name: str, value: float) -> None:
    if value <= 0:
        report.add(name, False, f"weight decay is {value:g}: nothing decays; pass weight_decay=self.weight_decay > 0")
    elif value > ABSURD_WEIGHT_DECAY:
        report.add(
            name,
            False,
            f"weight decay {value:g} is absurd (> {ABSURD_WEIGHT_DECAY:g}): torch multiplies it by the learning "
            "rate each step, and useful values lie between about 0.01 and 1",
        )
    else:
        report.add(name, True)


def _check_follows_argument(report: CheckReport, model_class: type) -> None:
    probe = _configure(model_class, PROBE_WEIGHT_DECAY, CheckReport("probe"))
    name = "weight_decay is the one you pass, not AdamW's default 0.01"
    if probe is None:
        report.add(name, False, f"{model_class.__name__}(weight_decay={PROBE_WEIGHT_DECAY}) failed to configure")
        return
    found = _weight_decays(probe[1])
    if any(math.isclose(wd, PROBE_WEIGHT_DECAY) for wd in found):
        report.add(name, True)
    elif all(math.isclose(wd, ADAMW_DEFAULT_WEIGHT_DECAY) for wd in found):
        report.add(
            name,
            False,
            f"{model_class.__name__}(weight_decay={PROBE_WEIGHT_DECAY}) still decays with 0.01, AdamW's default: "
            "pass weight_decay=self.weight_decay to the optimizer",
        )
    else:
        report.add(
            name,
            False,
            f"{model_class.__name__}(weight_decay={PROBE_WEIGHT_DECAY}) gave an optimizer with weight_decay "
            f"{', '.join(f'{wd:g}' for wd in found)}: pass weight_decay=self.weight_decay",
        )


def _check_learning_rate(report: CheckReport, model: Any, optimizer: torch.optim.Optimizer) -> None:
    name = f"learning rate left at the template's {TEMPLATE_LR} (self.learning_rate)"
    group = optimizer.param_groups[0]
    lr = float(group.get("initial_lr", group["lr"]))  # schedulers record the starting lr here
    own = getattr(model, "learning_rate", None)
    if own is not None and not math.isclose(lr, own):
        report.add(
            name,
            False,
            f"the optimizer starts at lr={lr:g} but self.learning_rate is {own:g}: a hard-coded lr=... in the "
            "optimizer overrides the template; pass lr=self.learning_rate",
        )
    elif not math.isclose(lr, TEMPLATE_LR):
        report.add(
            name,
            False,
            f"the learning rate is {lr:g}; keep the template's {TEMPLATE_LR} so that Adam and AdamW differ only "
            "in how they decay weights",
        )
    else:
        report.add(name, True)


def _check_scheduler(report: CheckReport, model: Any, scheduler: Any, interval: str) -> None:
    name = "scheduler left as the template's CosineAnnealingLR(T_max=num_epochs), per epoch"
    epochs = getattr(model, "num_epochs", None)
    if scheduler is None:
        report.add(name, False, "no scheduler is returned; keep the template's CosineAnnealingLR and its lr_scheduler dict")
    elif not isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR):
        report.add(name, False, f"found {type(scheduler).__name__}; keep the template's CosineAnnealingLR")
    elif scheduler.T_max != epochs:
        report.add(name, False, f"T_max is {scheduler.T_max} but num_epochs is {epochs}; keep T_max=self.num_epochs")
    elif interval != "epoch":
        report.add(
            name, False, f"the scheduler steps every {interval!r}; T_max counts epochs, so keep \"interval\": \"epoch\""
        )
    else:
        report.add(name, True)


def _check_epochs(report: CheckReport, epochs: list[tuple[str, Any]]) -> None:
    name = f"num_epochs is the course's {COURSE_EPOCHS}"
    if _quick_mode():
        report.skip(name, f"quick mode, {QUICK_EPOCHS_ENV} is set")
        return
    for label, value in epochs:
        if value != COURSE_EPOCHS:
            report.add(
                name,
                False,
                f"{label} is {value}: train the full {COURSE_EPOCHS} epochs; overfitting, and what weight decay "
                "does about it, shows only late in training",
            )
            return
    report.add(name, True)


def evaluate_optimizer(
    model_class: type,
    *,
    weight_decay: float | None = None,
    num_epochs: int | None = None,
) -> CheckReport:
    """The report behind :func:`check_optimizer`."""
    if not isinstance(model_class, type):
        raise TypeError(
            f"pass the class itself, e.g. check_optimizer(LightningModel), not a {type(model_class).__name__}"
        )
    if weight_decay is not None and (not isinstance(weight_decay, (int, float)) or isinstance(weight_decay, bool)):
        raise TypeError(f"weight_decay must be a number, got {type(weight_decay).__name__}")
    if num_epochs is not None and (not isinstance(num_epochs, int) or isinstance(num_epochs, bool)):
        raise TypeError(f"num_epochs must be an int (the notebook's num_epochs), got {type(num_epochs).__name__}")

    report = CheckReport(f"Checking {model_class.__name__}.configure_optimizers")
    configured = _configure(model_class, PROBE_WEIGHT_DECAY if weight_decay is None else weight_decay, report)
    if configured is None:
        return report
    model, optimizer, interval, scheduler = configured
    _check_type(report, optimizer)
    if weight_decay is not None:
        _check_value(report, f"weight decay {weight_decay:g} is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}", float(weight_decay))
    _check_follows_argument(report, model_class)
    _check_learning_rate(report, model, optimizer)
    _check_scheduler(report, model, scheduler, interval)
    epochs = [("the model's num_epochs", getattr(model, "num_epochs", None))]
    if num_epochs is not None:
        epochs.insert(0, ("num_epochs", num_epochs))
    _check_epochs(report, epochs)
    return report


def check_optimizer(model_class: type, *, weight_decay: float | None = None, num_epochs: int | None = None) -> None:
    """Check the learner's ``configure_optimizers`` on a fresh ``model_class(weight_decay=...)``.

    Pass ``weight_decay`` (the chosen value) to check it too, and the notebook's ``num_epochs``.
    """
    evaluate_optimizer(model_class, weight_decay=weight_decay, num_epochs=num_epochs).show()


# ---------------------------------------------------------------------------------------------
# choosing the weight decay
# ---------------------------------------------------------------------------------------------


def _validate_table(table: Any) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"sweep_table must be a pandas DataFrame (sweep.table), got {type(table).__name__}")
    if "val_acc" not in table.columns:
        raise ValueError(f"sweep_table needs a 'val_acc' column; it has {list(table.columns)}")
    if len(table) < 2:
        raise ValueError("sweep_table needs at least two weight decays to choose from")
    return table


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _call(
    choose: Callable[[pd.DataFrame], Any], table: pd.DataFrame, *, reraise_blank: bool = True
) -> tuple[float | None, Exception | None]:
    """Run the learner's selection on a copy (their table is never modified); an error is
    returned, not raised, except an unfilled blank on the first call."""
    try:
        return _as_float(choose(table.copy())), None
    except NotImplementedError:
        if reraise_blank:
            raise
        return None, NotImplementedError("blank not filled")
    except Exception as exc:  # noqa: BLE001 - reported as the learner's to fix
        return None, exc


def _best(table: pd.DataFrame, column: str) -> set[float]:
    values = table[column]
    return {float(wd) for wd in values.index[values == values.max()]}


def _crafted(table: pd.DataFrame, val_at: int, test_at: int, train_at: int) -> pd.DataFrame:
    """A copy of the table where validation, test and training accuracy each favour the weight
    decay at a different position, so the answer shows which column a selection follows."""
    crafted = table.copy()
    positions = range(len(crafted))
    crafted["val_acc"] = [0.90 if i == val_at else 0.85 for i in positions]
    for column in (c for c in crafted.columns if str(c).startswith("test")):
        crafted[column] = [0.95 if i == test_at else 0.80 for i in positions]
    if "train_acc" in crafted.columns:
        crafted["train_acc"] = [0.99 if i == train_at else 0.95 for i in positions]
        if "gap" in crafted.columns:
            crafted["gap"] = crafted["train_acc"] - crafted["val_acc"]
    return crafted


def _check_sweep(report: CheckReport, table: pd.DataFrame) -> None:
    values = sorted(float(v) for v in table.index)
    low, high = SWEEP_SPAN
    name = f"sweep tried ≥ {MIN_SWEEP_VALUES} weight decays spanning {low}–{high}"
    if len(values) < MIN_SWEEP_VALUES:
        report.add(name, False, f"only {len(values)} values ({values}); try at least {MIN_SWEEP_VALUES}")
    elif values[0] > low or values[-1] < high:
        report.add(name, False, f"the values run {values[0]:g}–{values[-1]:g}; include {low:g} and {high:g} (or beyond)")
    else:
        report.add(name, True)
    name = f"every sweep run trained the course's {COURSE_EPOCHS} epochs"
    if _quick_mode():
        report.skip(name, f"quick mode, {QUICK_EPOCHS_ENV} is set")
    elif "epochs" not in table.columns:
        report.skip(name, "the table has no 'epochs' column")
    elif (table["epochs"] != COURSE_EPOCHS).any():
        short = {float(wd): int(e) for wd, e in table["epochs"].items() if e != COURSE_EPOCHS}
        report.add(name, False, f"epochs per weight decay {short}: run each for num_epochs = {COURSE_EPOCHS}")
    else:
        report.add(name, True)


def _check_by_validation(report: CheckReport, choose: Callable[[pd.DataFrame], Any], table: pd.DataFrame) -> None:
    name = "chosen by validation accuracy, not test accuracy"
    test_columns = [c for c in table.columns if str(c).startswith("test")]
    if test_columns:
        _, error = _call(choose, table.drop(columns=test_columns), reraise_blank=False)
        if error is not None:
            report.add(
                name,
                False,
                f"without the test columns your selection fails ({type(error).__name__}: {error}): it reads test "
                "metrics; choose with sweep_table['val_acc'] only",
            )
            return
    n = len(table)
    if n < 3:
        report.skip(name, "needs a sweep of 3 or more values to tell the columns apart")
        return
    # Two altered tables, with validation, test and training accuracy best at different rows.
    layouts = [(0, n - 1, n // 2), (n - 1, 0, 1 if n >= 4 else n // 2)]
    tables = [_crafted(table, *layout) for layout in layouts]
    answers, expected = [], []
    for crafted in tables:
        answer, error = _call(choose, crafted, reraise_blank=False)
        if error is not None or answer is None:
            report.add(
                name, False, f"your selection failed on an altered copy of the table ({error!r}); use sweep_table['val_acc']"
            )
            return
        answers.append(answer)
        expected.append(float(crafted["val_acc"].idxmax()))

    def follows(column: str) -> bool:
        return column in table.columns and all(a in _best(t, column) for a, t in zip(answers, tables))

    test_columns = [c for c in table.columns if str(c).startswith("test")]
    if all(math.isclose(a, e) for a, e in zip(answers, expected)):
        report.add(name, True)
    elif math.isclose(answers[0], answers[1]):
        report.add(
            name,
            False,
            f"your selection returns {answers[0]:g} whatever the table says: compute the choice from "
            "sweep_table['val_acc'] instead of typing a number",
        )
    elif test_columns and follows(test_columns[0]):
        report.add(
            name,
            False,
            "your selection follows test accuracy: the test set must stay unseen until the end; "
            "pick the weight decay with the highest sweep_table['val_acc']",
        )
    elif follows("train_acc"):
        report.add(name, False, "your selection follows training accuracy, which rewards overfitting; use 'val_acc'")
    else:
        report.add(
            name,
            False,
            f"on a table whose best validation accuracy is at {expected[0]:g} your selection returned "
            f"{answers[0]:g}: pick the weight decay with the highest sweep_table['val_acc']",
        )


def example_sweep_table() -> pd.DataFrame:
    """A made-up sweep table (not a real run) in which validation, test and training accuracy
    favour different weight decays (0.1, 0.3 and 0.01): a selection can be checked on it
    before, or without, a real sweep."""
    return pd.DataFrame(
        {
            "val_acc": [0.866, 0.871, 0.893, 0.889, 0.860],
            "test_acc": [0.858, 0.870, 0.899, 0.905, 0.850],
            "train_acc": [0.986, 0.975, 0.950, 0.920, 0.880],
            "gap": [0.120, 0.104, 0.057, 0.031, 0.020],
            "epochs": [COURSE_EPOCHS] * 5,
        },
        index=pd.Index([0.01, 0.05, 0.1, 0.3, 1.0], name="weight_decay"),
    )


def evaluate_weight_decay_choice(choice: ChoiceLike, sweep_table: pd.DataFrame | None = None) -> CheckReport:
    """The report behind :func:`check_weight_decay_choice`."""
    example = sweep_table is None
    if example and not callable(choice):
        raise TypeError("to judge a chosen number, pass the sweep table too: check_weight_decay_choice(value, sweep_table)")
    table = example_sweep_table() if example else _validate_table(sweep_table)
    if callable(choice):
        choose = choice
        label = getattr(choice, "__name__", "your selection")
    elif isinstance(choice, (int, float)) and not isinstance(choice, bool):
        choose = None
        label = "weight decay"
    else:
        raise TypeError(
            "choice must be your selection function (e.g. choose_weight_decay) or the chosen number, "
            f"got {type(choice).__name__}"
        )
    report = CheckReport(f"Checking {label}" + (" on an example sweep table" if example else ""))
    if choose is None:
        value: float | None = float(choice)  # type: ignore[arg-type]
    else:
        try:
            value, error = _call(choose, table)
        except NotImplementedError as exc:
            report.add("blank filled in", False, f"blank not filled yet: {exc}")
            return report
        if error is not None:
            report.add(f"{label} runs on the sweep table", False, f"it raised {type(error).__name__}: {error}")
            return report
    if not example:
        _check_sweep(report, table)
    swept = {float(v) for v in table.index}
    if value is None or not any(math.isclose(value, v) for v in swept):
        report.add(
            "choice is one of the swept weight decays",
            False,
            f"got {value!r}; return one of {sorted(swept)} (the table's index)",
        )
        return report
    report.add("choice is one of the swept weight decays", True)
    _check_value(report, f"weight decay {value:g} is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}", value)
    best = _best(table, "val_acc")
    if any(math.isclose(value, v) for v in best):
        report.add("choice has the sweep's best validation accuracy", True)
    else:
        hint = f"{value:g} has val_acc {table.loc[value, 'val_acc']:.4f}; the best is at {sorted(best)}"
        if math.isclose(value, ADAMW_DEFAULT_WEIGHT_DECAY):
            hint += " — 0.01 is AdamW's default, not a choice"
        report.add("choice has the sweep's best validation accuracy", False, hint)
    if choose is not None:
        _check_by_validation(report, choose, table)
    else:
        name = "chosen by validation accuracy, not test accuracy"
        test_best = _best(table, "test_acc") if "test_acc" in table.columns else set()
        if any(math.isclose(value, v) for v in best):
            report.add(name, True)
        elif any(math.isclose(value, v) for v in test_best):
            report.add(name, False, "this is the best test accuracy, not the best validation accuracy")
        else:
            report.add(name, False, "pick the weight decay with the highest sweep_table['val_acc']")
    return report


def check_weight_decay_choice(choice: ChoiceLike, sweep_table: pd.DataFrame | None = None) -> None:
    """Check the weight decay chosen from ``sweep_table`` (a function of the table, or a number).

    A function is also run on altered copies of the table, to see that it uses validation
    accuracy and never the test columns. Without ``sweep_table`` a function is checked on
    :func:`example_sweep_table`, so the check works before (or without) a real sweep.
    """
    evaluate_weight_decay_choice(choice, sweep_table).show()
