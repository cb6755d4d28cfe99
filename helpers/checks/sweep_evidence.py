"""The weight-decay sweep as behavioural evidence: each run's trained weights, not its table.

A sweep table is just numbers a notebook can type in. What the judge trusts instead are the
weights each sweep run left behind (``fit_and_test`` writes them to ``<log_dir>/weights.pt``,
also when the run trained in a worker process): it evaluates every run's validation and test
accuracy itself on the course data (:mod:`helpers.data`, deterministic) and compares them with
the table the selection was shown. It also checks that the weights belong to their rows: with
one seed and one data order, decoupled weight decay leaves smaller weights the larger it is, so
the weights' norm must fall as the weight decay rises (a copied run or swapped rows fail).
Forged weights pass only if they really have the accuracies claimed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from helpers.checks.course_weights import course_accuracy

ACCURACY_TOLERANCE = 0.002  # 3-4 validation examples: the same weights evaluated by another process
WEIGHTS_NAME = "the sweep table's accuracies are those of the runs' trained weights"
ORDER_NAME = "each row's weights come from a run with its own weight decay"


def weight_norm(weights: Mapping[str, torch.Tensor]) -> float:
    """L2 norm of the weight matrices (biases left out): what weight decay shrinks."""
    return math.sqrt(sum(float((v.double() ** 2).sum()) for k, v in weights.items()
                         if k.endswith("weight") and v.ndim == 2))


def _find_sweep(index: list[float], namespace: Mapping[str, Any]) -> Any:
    from helpers.sweep import WeightDecaySweep

    for value in list(namespace.values()):
        if isinstance(value, WeightDecaySweep):
            keys = sorted(float(k) for k in value.runs)
            if len(keys) == len(index) and all(math.isclose(a, b) for a, b in zip(keys, sorted(index), strict=True)):
                return value
    return None


def collect_sweep_weights(table: pd.DataFrame, namespace: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per row of ``table`` (by weight decay), the trained weights of the sweep run in
    ``namespace`` with that weight decay, as evidence (``Tensors``); or why there are none."""
    from helpers.evidence import Tensors
    from helpers.training import WEIGHTS_FILE

    index = [float(v) for v in table.index]
    sweep = _find_sweep(index, namespace or {})
    if sweep is None:
        return {"problem": "no sweep_weight_decay(...) result with these weight decays was found in the notebook"}
    runs: dict[str, Any] = {}
    for weight_decay, run in sweep.runs.items():
        path = Path(getattr(run, "log_dir", "")) / WEIGHTS_FILE
        try:
            tensors = torch.load(path, weights_only=True, map_location="cpu")
        except Exception:  # noqa: BLE001 - missing or unreadable: judged as missing
            runs[repr(float(weight_decay))] = None
            continue
        runs[repr(float(weight_decay))] = Tensors(tensors) if isinstance(tensors, dict) else None
    return {"runs": runs}


def _weights_for(recorded: Mapping[str, Any], weight_decay: float) -> Any:
    """The recorded weights of one weight decay (a state dict; unwritten ``Tensors`` in the notebook)."""
    from helpers.evidence import Tensors

    for key, value in recorded.items():
        try:
            if math.isclose(float(key), weight_decay):
                return dict(value) if isinstance(value, Tensors) else value
        except ValueError:
            continue
    return None


def judge_sweep_weights(report: Any, table: pd.DataFrame, evidence: Any, grader: bool) -> bool:
    """Add the two weight criteria to ``report``; False when the table cannot be trusted (the
    choice is then not judged on it). Without weights the learner-side check skips them; the
    grader fails them."""
    runs = evidence.get("runs") if isinstance(evidence, Mapping) else None
    if not isinstance(runs, Mapping):
        why = evidence.get("problem") if isinstance(evidence, Mapping) else None
        why = str(why or "no weights were recorded for the sweep runs")
        if grader:
            report.add(WEIGHTS_NAME, False, f"{why}: pass the table of your sweep_weight_decay(...) run (sweep.table)")
            return False
        report.skip(WEIGHTS_NAME, why)
        return True
    norms: list[tuple[float, float]] = []
    for weight_decay in sorted(float(v) for v in table.index):
        weights = _weights_for(runs, weight_decay)
        if not isinstance(weights, Mapping) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
            report.add(WEIGHTS_NAME, False, f"no trained weights were found for weight decay {weight_decay:g}: "
                                            "run the sweep cell again")
            return False
        for split, column in (("val", "val_acc"), ("test", "test_acc")):
            if column not in table.columns:
                continue
            try:
                measured = course_accuracy(weights, split)
            except ValueError as exc:
                report.add(WEIGHTS_NAME, False, f"weight decay {weight_decay:g}: {exc}")
                return False
            claimed = float(table.loc[weight_decay, column])
            if not math.isfinite(claimed) or abs(measured - claimed) > ACCURACY_TOLERANCE:
                report.add(WEIGHTS_NAME, False,
                           f"the table gives {column} {claimed:.4f} for weight decay {weight_decay:g}, but that "
                           f"run's weights give {measured:.4f}: pass the table of your sweep (sweep.table), unedited")
                return False
        norms.append((weight_decay, weight_norm(weights)))
    report.add(WEIGHTS_NAME, True)
    rising = [(a, b) for (a, na), (b, nb) in pairwise(norms) if not nb < na]
    report.add(ORDER_NAME, not rising,
               (f"the weights for weight decay {rising[0][1]:g} are not smaller than those for {rising[0][0]:g}: "
                "each row must hold the run trained with its own weight decay (same seed, the sweep's own runs)")
               if rising else "")
    return not rising
