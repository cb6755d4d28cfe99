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

import hashlib
import json
import math
import os
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from helpers.checks.check import Check
from helpers.checks.context import JudgeContext, course_length, quick_epochs
from helpers.checks.optimizer_config import parse_configure_optimizers
from helpers.checks.report import CheckReport
from helpers.checks.sweep_evidence import collect_sweep_weights, judge_sweep_weights
from helpers.mistakes import literal_learning_rate
from helpers.schedules import step_and_record
from helpers.settings import TEMPLATE_LR  # its one home (the notebook classes' default LR)
from helpers.training import COURSE_EPOCHS, QUICK_EPOCHS_ENV

ADAMW_DEFAULT_WEIGHT_DECAY = 0.01
ABSURD_WEIGHT_DECAY = 10.0
# An unusual value: if the optimizer shows it, it really takes self.weight_decay.
PROBE_WEIGHT_DECAY = 0.37
PROBE_LR = 0.0123  # likewise for self.learning_rate
MIN_SWEEP_VALUES = 4
SWEEP_SPAN = (0.01, 1.0)

ChoiceLike = Callable[[pd.DataFrame], Any] | float


# ---------------------------------------------------------------------------------------------
# configure_optimizers
# ---------------------------------------------------------------------------------------------

BEHAVIOUR_STEPS = 3
BEHAVIOUR_ELEMENTS = 8  # recorded per parameter tensor: the update rules act element by element


def _quick_mode(context: JudgeContext | None = None) -> bool:
    if context is not None:
        return context.quick is not None
    return os.environ.get(QUICK_EPOCHS_ENV) is not None


def _configured(model_class: type, weight_decay: float) -> tuple[dict[str, Any], Any]:
    """Build ``model_class(weight_decay=...)`` and call ``configure_optimizers``: (facts, returned)."""
    try:
        model = model_class(weight_decay=weight_decay)
    except NotImplementedError as exc:
        return {"blank": str(exc)[:300]}, None
    except Exception as exc:  # noqa: BLE001 - any failure is the learner's to fix, reported not raised
        return {"build_error": f"{type(exc).__name__}: {str(exc)[:300]}"}, None
    facts: dict[str, Any] = {"num_epochs": getattr(model, "num_epochs", None),
                             "learning_rate": _as_float(getattr(model, "learning_rate", None))}
    if not isinstance(facts["num_epochs"], int) or isinstance(facts["num_epochs"], bool):
        facts["num_epochs"] = repr(facts["num_epochs"])[:50]
    try:
        returned = model.configure_optimizers()
    except NotImplementedError as exc:
        return {"blank": str(exc)[:300]}, None
    except Exception as exc:  # noqa: BLE001
        return {**facts, "configure_error": f"{type(exc).__name__}: {str(exc)[:300]}"}, None
    config = parse_configure_optimizers(returned)  # the one parser every check shares
    optimizer, scheduler, interval = config.optimizer, config.scheduler, config.interval
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {**facts, "not_optimizer": type(returned).__name__}, None
    return facts, (optimizer, scheduler, interval)


def _start_and_grads(seed: int, param: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The fixed start values and gradients of one parameter's recorded elements."""
    rng = np.random.default_rng([seed, param])
    start = rng.standard_normal(BEHAVIOUR_ELEMENTS)
    grads = [rng.standard_normal(BEHAVIOUR_ELEMENTS) for _ in range(BEHAVIOUR_STEPS)]
    return start, grads


def _hyper(group: Mapping[str, Any]) -> dict[str, Any]:
    betas = group.get("betas")
    return {
        "lr": _as_float(group.get("initial_lr", group.get("lr"))),
        "weight_decay": _as_float(group.get("weight_decay", 0.0)),
        "betas": [_as_float(b) for b in betas] if isinstance(betas, (tuple, list)) and len(betas) == 2 else None,
        "eps": _as_float(group.get("eps")),
        "momentum": _as_float(group.get("momentum")),
        "decoupled": bool(group.get("decoupled_weight_decay", False)),
        "amsgrad": bool(group.get("amsgrad", False)),
    }


def _behaviour(optimizer: torch.optim.Optimizer, seed: int) -> dict[str, Any]:
    """Parameters after a few steps on fixed gradients from fixed start values, per group: the
    evidence of which update rule (and which weight decay) the optimizer really applies."""
    groups = []
    index = 0
    with torch.no_grad():
        for group in optimizer.param_groups:
            params = []
            for p in group["params"]:
                k = min(BEHAVIOUR_ELEMENTS, p.numel())
                start, grads = _start_and_grads(seed, index)
                p.view(-1).zero_()
                p.view(-1)[:k] = torch.as_tensor(start[:k], dtype=p.dtype)
                params.append((p, k, index, grads))
                index += 1
            groups.append((group, params))
    for step in range(BEHAVIOUR_STEPS):
        for _, params in groups:
            for p, k, _, grads in params:
                grad = torch.zeros_like(p)
                grad.view(-1)[:k] = torch.as_tensor(grads[step][:k], dtype=p.dtype)
                p.grad = grad
        optimizer.step()
    return {"name": type(optimizer).__name__, "groups": [
        {"hyper": _hyper(group), "params": [{"index": i, "after": p.detach().view(-1)[:k].double().numpy().copy()}
                                            for p, k, i, _ in params]}
        for group, params in groups
    ]}


def _schedule(model_class: type, weight_decay: float) -> dict[str, Any]:
    """The returned scheduler's LR per epoch (as Lightning steps it), on a fresh model."""
    facts, configured = _configured(model_class, weight_decay)
    if configured is None:
        return {}
    optimizer, scheduler, interval = configured
    out: dict[str, Any] = {"present": scheduler is not None, "interval": str(interval)[:20],
                           "name": type(scheduler).__name__, "t_max": _as_float(getattr(scheduler, "T_max", None))}
    epochs = facts.get("num_epochs")
    if scheduler is not None and interval == "epoch" and isinstance(epochs, int) and 0 < epochs <= 10_000:
        try:
            out["lr"] = step_and_record(scheduler, optimizer, epochs)
        except Exception as exc:  # noqa: BLE001
            out["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return out


def collect_optimizer(model_class: type, *, weight_decay: float | None = None, num_epochs: int | None = None,
                      seed: int = 0, **_: Any) -> dict[str, Any]:
    """What ``configure_optimizers`` of fresh ``model_class(weight_decay=...)`` instances does, as data:
    for the chosen (or a probe) weight decay and for the probe value, the optimizer's behaviour on
    fixed gradients, and the scheduler's LR per epoch."""
    if not isinstance(model_class, type):
        raise TypeError(
            f"pass the class itself, e.g. check_optimizer(LightningModel), not a {type(model_class).__name__}"
        )
    if weight_decay is not None and (not isinstance(weight_decay, (int, float)) or isinstance(weight_decay, bool)):
        raise TypeError(f"weight_decay must be a number, got {type(weight_decay).__name__}")
    if num_epochs is not None and (not isinstance(num_epochs, int) or isinstance(num_epochs, bool)):
        raise TypeError(f"num_epochs must be an int (the notebook's num_epochs), got {type(num_epochs).__name__}")
    main_wd = PROBE_WEIGHT_DECAY if weight_decay is None else float(weight_decay)
    runs = {}
    for wd in dict.fromkeys([main_wd, PROBE_WEIGHT_DECAY]):
        facts, configured = _configured(model_class, wd)
        if configured is not None:
            with torch.random.fork_rng():
                facts["behaviour"] = _behaviour(configured[0], seed)
        runs[repr(wd)] = {"weight_decay": wd, **facts}
    return {"name": model_class.__name__, "weight_decay": weight_decay, "num_epochs": num_epochs,
            "main": repr(main_wd), "probe": repr(PROBE_WEIGHT_DECAY), "runs": runs,
            "schedule": _schedule(model_class, main_wd), "lr_probe": _lr_probe(model_class, main_wd)}


def _lr_probe(model_class: type, weight_decay: float) -> dict[str, Any]:
    """The optimizer's starting LR when the model is built with an unusual ``learning_rate``: a
    number typed into the optimizer does not follow it."""
    try:
        model = model_class(weight_decay=weight_decay, learning_rate=PROBE_LR)
        optimizer = parse_configure_optimizers(model.configure_optimizers()).optimizer
        group = optimizer.param_groups[0]
        return {"given": PROBE_LR, "seen": float(group.get("initial_lr", group["lr"]))}
    except Exception:  # noqa: BLE001 - a model without a learning_rate argument: not probed
        return {}


def _simulate(rule: str, hyper: Mapping[str, Any], start: np.ndarray, grads: list[np.ndarray]) -> np.ndarray | None:
    """The elements after the steps under one update rule with the recorded hyperparameters."""
    lr, wd = hyper.get("lr"), hyper.get("weight_decay") or 0.0
    if not isinstance(lr, float):
        return None
    theta = start.astype(float).copy()
    if rule in ("adamw", "adam"):
        betas, eps = hyper.get("betas"), hyper.get("eps")
        if not betas or None in betas or not isinstance(eps, float) or hyper.get("amsgrad"):
            return None
        b1, b2 = betas
        m = np.zeros_like(theta)
        v = np.zeros_like(theta)
        for t, g in enumerate(grads, start=1):
            g = g.copy()
            if rule == "adamw":
                theta = theta * (1 - lr * wd)
            else:
                g = g + wd * theta
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            theta = theta - (lr / (1 - b1**t)) * m / (np.sqrt(v) / math.sqrt(1 - b2**t) + eps)
        return theta
    if rule == "sgd":
        momentum = hyper.get("momentum") or 0.0
        buffer = None
        for g in grads:
            g = g + wd * theta
            buffer = g if buffer is None else momentum * buffer + g
            theta = theta - lr * (buffer if momentum else g)
        return theta
    return None


def _rule(behaviour: Any, seed: int) -> tuple[str | None, dict[str, Any]]:
    """Which update rule, with the recorded hyperparameters, reproduces every recorded element:
    'adamw', 'adam' (L2 in the gradient) or 'sgd'; None if none does."""
    if not isinstance(behaviour, Mapping) or not isinstance(behaviour.get("groups"), list) or not behaviour["groups"]:
        return None, {}
    for rule in ("adamw", "adam", "sgd"):
        ok = True
        for group in behaviour["groups"]:
            hyper = group.get("hyper") if isinstance(group, Mapping) else None
            params = group.get("params") if isinstance(group, Mapping) else None
            if not isinstance(hyper, Mapping) or not isinstance(params, list) or not params:
                return None, {}
            for param in params:
                after = param.get("after") if isinstance(param, Mapping) else None
                index = param.get("index") if isinstance(param, Mapping) else None
                if (not isinstance(after, np.ndarray) or not isinstance(index, int)
                        or not 0 < len(after) <= BEHAVIOUR_ELEMENTS):
                    return None, {}
                start, grads = _start_and_grads(seed, index)
                k = len(after)
                expected = _simulate(rule, hyper, start[:k], [g[:k] for g in grads])
                if expected is None or not np.allclose(after, expected, rtol=1e-4, atol=1e-6):
                    ok = False
                    break
            if not ok:
                break
        if ok:
            return rule, dict(behaviour["groups"][0]["hyper"])
    return None, dict(behaviour["groups"][0].get("hyper") or {}) if isinstance(behaviour["groups"][0], Mapping) else {}


def _config_failure(report: CheckReport, run: Mapping[str, Any], name: str) -> bool:
    """The ✗ line of a model that cannot be built or configured; True if there was one."""
    if "blank" in run:
        report.add(f"the blank in {name}.configure_optimizers is filled in", False, f"not yet: {run['blank']}")
    elif "build_error" in run:
        report.add(f"{name}(weight_decay=...) can be built", False,
                   f"{run['build_error']} — keep the template's __init__, which takes weight_decay")
    elif "configure_error" in run:
        report.add("configure_optimizers runs", False, f"it raised {run['configure_error']}")
    elif "not_optimizer" in run:
        report.add("configure_optimizers returns an optimizer", False,
                   f"it returned {run['not_optimizer']}"
                   + (" (is its return line missing?)" if run["not_optimizer"] == "NoneType" else "")
                   + "; return {'optimizer': ..., 'lr_scheduler': ...} as the template does")
    else:
        return False
    return True


def _check_type(report: CheckReport, rule: str | None, hyper: Mapping[str, Any], name: str) -> None:
    label = "optimizer is AdamW (decoupled weight decay)"
    wd = hyper.get("weight_decay") or 0.0
    if rule == "adamw" and (wd > 0 or name == "AdamW" or hyper.get("decoupled")):
        report.add(label, True)
    elif rule == "adam" and wd > 0:
        report.add(
            label,
            False,
            "this is Adam with weight_decay, the common mistake: Adam adds weight_decay·θ to the gradient "
            "(L2), which its adaptive denominator then rescales; use torch.optim.AdamW",
        )
    elif rule in ("adamw", "adam"):
        report.add(label, False, "still the template's torch.optim.Adam; replace it with torch.optim.AdamW")
    elif rule == "sgd" or name not in ("Adam", "AdamW"):
        report.add(label, False, f"found torch.optim.{name}; this exercise uses torch.optim.AdamW")
    else:
        report.add(label, False, f"the optimizer's updates follow neither AdamW's rule nor Adam's (found {name}); "
                                 "use torch.optim.AdamW(self.parameters(), ...) with its defaults")


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


def _check_follows_argument(report: CheckReport, probe: Mapping[str, Any] | None, model_name: str, seed: int) -> None:
    name = "weight_decay is the one you pass, not AdamW's default 0.01"
    if not isinstance(probe, Mapping) or "behaviour" not in probe:
        report.add(name, False, f"{model_name}(weight_decay={PROBE_WEIGHT_DECAY}) failed to configure")
        return
    rule, _hyper = _rule(probe["behaviour"], seed)
    found = [g["hyper"].get("weight_decay") or 0.0 for g in probe["behaviour"]["groups"]]
    if rule is not None and all(math.isclose(wd, PROBE_WEIGHT_DECAY) for wd in found):
        report.add(name, True)
    elif rule is not None and all(math.isclose(wd, ADAMW_DEFAULT_WEIGHT_DECAY) for wd in found):
        report.add(
            name,
            False,
            f"{model_name}(weight_decay={PROBE_WEIGHT_DECAY}) still decays with 0.01, AdamW's default: "
            "pass weight_decay=self.weight_decay to the optimizer",
        )
    elif rule is None:
        report.add(name, False, f"{model_name}(weight_decay={PROBE_WEIGHT_DECAY})'s optimizer does not update its "
                                "parameters by a known rule: pass weight_decay=self.weight_decay to torch.optim.AdamW")
    else:
        report.add(
            name,
            False,
            f"{model_name}(weight_decay={PROBE_WEIGHT_DECAY}) gave an optimizer with weight_decay "
            f"{', '.join(f'{wd:g}' for wd in found)}: pass weight_decay=self.weight_decay",
        )


def _check_learning_rate(report: CheckReport, run: Mapping[str, Any], hyper: Mapping[str, Any], verified: bool,
                         probe: Any = None) -> None:
    name = f"learning rate left at the template's {TEMPLATE_LR} (self.learning_rate)"
    lr = hyper.get("lr")
    own = run.get("learning_rate")
    typed = None
    if isinstance(probe, Mapping) and isinstance(probe.get("seen"), float) and isinstance(probe.get("given"), float):
        typed = literal_learning_rate(probe["seen"], probe["given"], TEMPLATE_LR)
    if not verified or not isinstance(lr, float):
        report.add(name, False, "the optimizer's updates do not show its learning rate: use torch.optim.AdamW with "
                                "lr=self.learning_rate")
    elif own is not None and not math.isclose(lr, own):
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
    elif typed is not None:
        report.add(name, False, typed)
    else:
        report.add(name, True)


def _check_scheduler(report: CheckReport, schedule: Mapping[str, Any], epochs: Any, lr0: Any) -> None:
    name = "scheduler left as the template's CosineAnnealingLR(T_max=num_epochs), per epoch"
    if not schedule or not schedule.get("present"):
        report.add(name, False,
                   "no scheduler is returned; keep the template's CosineAnnealingLR and its lr_scheduler dict")
        return
    if schedule.get("interval") != "epoch":
        report.add(name, False,
                   f"the scheduler steps every {schedule.get('interval')!r}; T_max counts epochs, so keep "
                       f"\"interval\": \"epoch\"")
        return
    lr = schedule.get("lr")
    right = False
    if isinstance(epochs, int) and isinstance(lr0, float) and isinstance(lr, np.ndarray) and len(lr) == epochs:
        expected = np.array([lr0 * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)])
        right = bool(np.allclose(lr, expected, rtol=1e-6, atol=1e-9 * lr0))
    if right:
        report.add(name, True)
    elif schedule.get("name") != "CosineAnnealingLR":
        report.add(name, False, f"found {schedule.get('name')}; keep the template's CosineAnnealingLR")
    elif schedule.get("t_max") is not None and schedule.get("t_max") != epochs:
        report.add(name, False,
                   f"T_max is {schedule['t_max']:g} but num_epochs is {epochs}; keep T_max=self.num_epochs")
    else:
        report.add(name, False, "the LR per epoch is not the template's cosine from the base LR to 0 over num_epochs")


def _check_epochs(report: CheckReport, epochs: list[tuple[str, Any]], context: JudgeContext | None = None) -> None:
    name = f"num_epochs is the course's {COURSE_EPOCHS}"
    quick = context.quick if context is not None else quick_epochs()
    if quick is not None:
        odd = [(label, v) for label, v in epochs if v != course_length(quick)]
        if context is not None and context.grader and odd:
            label, value = odd[0]
            report.add(name, False,
                       f"{label} is {value}, set by hand: write num_epochs = course_epochs({COURSE_EPOCHS}) "
                                    "(quick mode shortens it; a number typed in is never shortened)")
        else:
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


def judge_optimizer(data: Mapping[str, Any], context: JudgeContext | None = None) -> CheckReport:
    """The criteria of :func:`check_optimizer` on recorded behaviour: which update rule the
    optimizer follows (AdamW's decoupled decay, Adam's L2, SGD), with which learning rate and
    weight decay, and the scheduler's LR per epoch."""
    seed = context.seed if context is not None else 0
    model_name = str(data.get("name", "LightningModel"))[:60]
    report = CheckReport(f"Checking {model_name}.configure_optimizers")
    runs = data["runs"]
    main = runs[data["main"]]
    if _config_failure(report, main, model_name):
        return report
    rule, hyper = _rule(main.get("behaviour"), seed)
    _check_type(report, rule, hyper, str(main["behaviour"].get("name", "?"))[:40])
    weight_decay = data.get("weight_decay")
    if weight_decay is not None:
        _check_value(report, f"weight decay {weight_decay:g} is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}", float(weight_decay))
    _check_follows_argument(report, runs.get(data["probe"]), model_name, seed)
    _check_learning_rate(report, main, hyper, rule is not None, data.get("lr_probe"))
    _check_scheduler(report, data.get("schedule") or {}, main.get("num_epochs"), hyper.get("lr"))
    epochs = [("the model's num_epochs", main.get("num_epochs"))]
    if data.get("num_epochs") is not None:
        epochs.insert(0, ("num_epochs", data["num_epochs"]))
    _check_epochs(report, epochs, context)
    return report



# The learner's configure_optimizers on a fresh model_class(weight_decay=...): pass weight_decay
# (the chosen value) to check it too, and the notebook's num_epochs.
check_optimizer = Check("check_optimizer", collect_optimizer, judge_optimizer)


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


def _check_sweep(report: CheckReport, table: pd.DataFrame, context: JudgeContext | None = None) -> None:
    values = sorted(float(v) for v in table.index)
    low, high = SWEEP_SPAN
    name = f"sweep tried ≥ {MIN_SWEEP_VALUES} weight decays spanning {low}–{high}"
    if len(values) < MIN_SWEEP_VALUES:
        report.add(name, False, f"only {len(values)} values ({values}); try at least {MIN_SWEEP_VALUES}")
    elif values[0] > low or values[-1] < high:
        report.add(name, False,
                   f"the values run {values[0]:g}–{values[-1]:g}; include {low:g} and {high:g} (or beyond)")
    else:
        report.add(name, True)
    name = f"every sweep run trained the course's {COURSE_EPOCHS} epochs"
    if _quick_mode(context):
        report.skip(name, f"quick mode, {QUICK_EPOCHS_ENV} is set")
    elif "epochs" not in table.columns:
        report.skip(name, "the table has no 'epochs' column")
    elif (table["epochs"] != COURSE_EPOCHS).any():
        short = {float(wd): int(e) for wd, e in table["epochs"].items() if e != COURSE_EPOCHS}
        report.add(name, False, f"epochs per weight decay {short}: run each for num_epochs = {COURSE_EPOCHS}")
    else:
        report.add(name, True)


def _layouts(n: int, seed: int) -> list[tuple[int, int, int]]:
    """Rows where the altered tables put the best validation, test and training accuracy: two
    fixed layouts and two drawn from ``seed`` (the grader draws a new seed per run)."""
    layouts = [(0, n - 1, n // 2), (n - 1, 0, 1 if n >= 4 else n // 2)]
    rng = random.Random(seed)
    for _ in range(2):
        layouts.append(tuple(rng.sample(range(n), 3)))  # type: ignore[arg-type]
    return layouts


def _check_by_validation(report: CheckReport, choose: Callable[[pd.DataFrame], Any], table: pd.DataFrame,
                         seed: int = 0) -> None:
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
    # Altered tables, with validation, test and training accuracy best at different rows.
    tables = [_crafted(table, *layout) for layout in _layouts(n, seed)]
    answers, expected = [], []
    for crafted in tables:
        answer, error = _call(choose, crafted, reraise_blank=False)
        if error is not None or answer is None:
            report.add(
                name, False,
                    f"your selection failed on an altered copy of the table ({error!r}); use sweep_table['val_acc']"
            )
            return
        answers.append(answer)
        expected.append(float(crafted["val_acc"].idxmax()))
    _judge_selections(report, name, table, tables, answers, expected)


def _judge_selections(report: CheckReport, name: str, table: pd.DataFrame, tables: list[pd.DataFrame],
                      answers: list[Any], expected: list[float]) -> None:
    """Which column the choices on the altered tables followed: validation (right), test, training,
    or none (a typed-in number)."""

    def follows(column: str) -> bool:
        return column in table.columns and all(a in _best(t, column) for a, t in zip(answers, tables, strict=True))

    test_columns = [c for c in table.columns if str(c).startswith("test")]
    if all(math.isclose(a, e) for a, e in zip(answers, expected, strict=True)):
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


def _judge_choice(choice: Any, choose: Callable[[pd.DataFrame], Any] | None, table: pd.DataFrame, example: bool,
                  label: str, seed: int, context: JudgeContext | None = None, weights: Any = None) -> CheckReport:
    report = CheckReport(f"Checking {label}" + (" on an example sweep table" if example else ""))
    if choose is None:
        value: float | None = float(choice)
    else:
        try:
            value, error = _call(choose, table)
        except NotImplementedError as exc:
            report.add(f"the blank in {label} is filled in", False, f"not yet: {exc}")
            return report
        if error is not None:
            report.add(f"{label} runs on the sweep table", False, f"it raised {type(error).__name__}: {error}")
            return report
    if not example:
        # A real sweep table is trusted only as far as the runs' own weights confirm it.
        if not judge_sweep_weights(report, table, weights, context is not None and context.grader):
            return report
        _check_sweep(report, table, context)
    swept = {float(v) for v in table.index}
    if value is None or not any(math.isclose(value, v) for v in swept):
        report.add(
            "choice is one of the swept weight decays",
            False,
            f"got {value!r}; return one of {sorted(swept)} (the table's index)",
        )
        return report
    report.add("choice is one of the swept weight decays", True)
    _check_value(report,
                 (f"on the example table your function picks {value:g}, which is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}"
                          if example else f"your choice {value:g} is > 0 and ≤ {ABSURD_WEIGHT_DECAY:g}"), value)
    best = _best(table, "val_acc")
    if any(math.isclose(value, v) for v in best):
        report.add("choice has the sweep's best validation accuracy", True)
    else:
        hint = f"{value:g} has val_acc {table.loc[value, 'val_acc']:.4f}; the best is at {sorted(best)}"
        if math.isclose(value, ADAMW_DEFAULT_WEIGHT_DECAY):
            hint += " — 0.01 is AdamW's default, not a choice"
        report.add("choice has the sweep's best validation accuracy", False, hint)
    if choose is not None:
        _check_by_validation(report, choose, table, seed)
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


def _fingerprint(table: pd.DataFrame) -> str:
    """The table's content as data (so the judge's rebuilt copy has the same fingerprint)."""
    return hashlib.sha256(json.dumps(_table_data(table), sort_keys=True).encode()).hexdigest()[:32]


def _presented(table: pd.DataFrame, seed: int) -> list[pd.DataFrame]:
    """Every table the judge shows the selection: the table, without its test columns, altered."""
    tables = [table]
    test_columns = [c for c in table.columns if str(c).startswith("test")]
    if test_columns:
        tables.append(table.drop(columns=test_columns))
    if len(table) >= 3:
        tables += [_crafted(table, *layout) for layout in _layouts(len(table), seed)]
    return tables


def _table_data(table: pd.DataFrame) -> dict[str, Any]:
    return {"index": [float(v) for v in table.index], "index_name": table.index.name,
            "columns": {str(c): [(_as_float(v) if _as_float(v) is not None else None) for v in table[c]]
                        for c in table.columns}}


def _table_from(data: Mapping[str, Any]) -> pd.DataFrame:
    return _validate_table(pd.DataFrame(dict(data["columns"]), index=pd.Index(
        [float(v) for v in data["index"]], name=data.get("index_name"))))


class _Replay:
    """A stand-in for the learner's selection that answers from the recorded answers."""

    def __init__(self, answers: Mapping[str, Any], name: str) -> None:
        self.answers, self.__name__ = answers, name

    def __call__(self, table: pd.DataFrame) -> Any:
        entry = self.answers.get(_fingerprint(table))
        if not isinstance(entry, Mapping):
            raise LookupError("no answer was recorded for this table")
        if entry.get("blank"):
            raise NotImplementedError(str(entry.get("error", "")))
        if entry.get("error"):
            kind, _, text = str(entry["error"]).partition(": ")
            raise type(kind if kind.isidentifier() else "Error", (Exception,), {})(text)
        return entry.get("value")


def collect_weight_decay_choice(choice: ChoiceLike, sweep_table: pd.DataFrame | None = None, *, seed: int = 0,
                                namespace: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """The selection's answer on every table the judge will show it (or the chosen number),
    the sweep table as data and, for a real table, each sweep run's trained weights (found in
    ``namespace``, the notebook's)."""
    example = sweep_table is None
    if example and not callable(choice):
        raise TypeError("to judge a chosen number, pass the sweep table too: check_weight_decay_choice(value, "
                        "sweep_table)")
    table = example_sweep_table() if example else _validate_table(sweep_table)
    data: dict[str, Any] = {"example": example, "sweep_table": None if example else "given",
                            "table": None if example else _table_data(table)}
    if not example:
        data["weights"] = collect_sweep_weights(table, namespace)
    if callable(choice):
        data["label"] = str(getattr(choice, "__name__", "your selection"))[:60]
        answers: dict[str, dict[str, Any]] = {}
        for shown in _presented(table, seed):
            try:
                answers[_fingerprint(shown)] = {"value": _as_float(choice(shown.copy()))}
            except NotImplementedError as exc:
                answers[_fingerprint(shown)] = {"blank": True, "error": str(exc)[:300]}
            except Exception as exc:  # noqa: BLE001 - reported as the learner's to fix
                answers[_fingerprint(shown)] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        data["answers"] = answers
    elif isinstance(choice, (int, float)) and not isinstance(choice, bool):
        data["number"] = float(choice)
    else:
        raise TypeError(
            "choice must be your selection function (e.g. choose_weight_decay) or the chosen number, "
            f"got {type(choice).__name__}"
        )
    return data


def judge_weight_decay_choice(data: Mapping[str, Any], context: JudgeContext | None = None) -> CheckReport:
    """The criteria of :func:`check_weight_decay_choice` on recorded answers (the example table is
    the judge's own; tables are altered with the context's seed)."""
    seed = context.seed if context is not None else 0
    example = data.get("example") is True or data.get("sweep_table") is None  # the grader fixes sweep_table=None
    table = example_sweep_table() if example else _table_from(data["table"])
    if "number" in data:
        return _judge_choice(float(data["number"]), None, table, example, "weight decay", seed, context,
                             data.get("weights"))
    label = str(data.get("label", "your selection"))
    replay = _Replay(data.get("answers") or {}, label)
    return _judge_choice(replay, replay, table, example, label, seed, context, data.get("weights"))



# The weight decay chosen from sweep_table (a function of the table, or a number). A function is
# also run on altered copies of the table, to see that it uses validation accuracy and never the
# test columns; without sweep_table it is checked on example_sweep_table(), so the check works
# before (or without) a real sweep. The sweep's runs are found in the notebook's globals.
check_weight_decay_choice = Check("check_weight_decay_choice", collect_weight_decay_choice, judge_weight_decay_choice,
                                  caller_namespace=True)
