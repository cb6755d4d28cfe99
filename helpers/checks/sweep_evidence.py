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
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pandas as pd
import torch

from helpers.checks.course_weights import course_accuracy
from helpers.checks.report import CheckReport
from helpers.evidence_codec import Tensors
from helpers.sweep import WeightDecaySweep
from helpers.training import WEIGHTS_FILE
from helpers.validate import finite_float

ACCURACY_TOLERANCE = 0.002  # 3-4 validation examples: the same weights evaluated by another process
WEIGHTS_NAME = "the sweep table's accuracies are those of the runs' trained weights"
ORDER_NAME = "each row's weights come from a run with its own weight decay"


@dataclass(frozen=True)
class SweepTable:
    """A sweep table as data: its weight decays (the index) and its columns, nan where a cell is no number."""

    index: tuple[float, ...]
    columns: dict[str, tuple[float, ...]]

    @classmethod
    def of(cls, table: pd.DataFrame) -> SweepTable:
        cell = lambda v: math.nan if (x := finite_float(v, text=True)) is None else x  # noqa: E731
        return cls(tuple(float(v) for v in table.index), {str(c): tuple(map(cell, table[c])) for c in table.columns})

    @property
    def tests(self) -> list[str]:
        """The test-set columns (any name starting with "test")."""
        return [c for c in self.columns if c.startswith("test")]

    def at(self, weight_decay: float, column: str) -> float:
        return next(v for i, v in zip(self.index, self.columns[column], strict=True) if math.isclose(i, weight_decay))

    def best(self, column: str) -> set[float]:
        """The weight decays with the column's highest value."""
        top = max((v for v in self.columns[column] if not math.isnan(v)), default=math.nan)
        return {i for i, v in zip(self.index, self.columns[column], strict=True) if v == top}


@dataclass(frozen=True)
class SweepRun:
    weight_decay: float
    weights: Tensors | None  # None: its weights file is missing or unreadable


@dataclass(frozen=True)
class SweepWeights:
    """The notebook's sweep runs with the table's weight decays, or why none were found."""

    runs: tuple[SweepRun, ...] = ()
    problem: str = ""


def _load(path: Path) -> Tensors | None:
    try:
        tensors = torch.load(path, weights_only=True, map_location="cpu")
    except Exception:  # noqa: BLE001 - missing or unreadable: judged as missing
        return None
    ok = isinstance(tensors, dict) and all(isinstance(v, torch.Tensor) for v in tensors.values())
    return Tensors(tensors) if ok else None


def record_weights(table: pd.DataFrame, namespace: Mapping[str, object] | None) -> SweepWeights:
    """The trained weights of each run of the sweep in ``namespace`` (the notebook's) that has the
    table's weight decays."""
    index = sorted(float(v) for v in table.index)
    for sweep in list((namespace or {}).values()):
        if isinstance(sweep, WeightDecaySweep):
            keys = sorted(float(k) for k in sweep.runs)
            if len(keys) == len(index) and all(math.isclose(a, b) for a, b in zip(keys, index, strict=True)):
                return SweepWeights(tuple(SweepRun(float(wd), _load(Path(getattr(run, "log_dir", "")) / WEIGHTS_FILE))
                                          for wd, run in sweep.runs.items()))
    return SweepWeights(problem="no sweep_weight_decay(...) result with these weight decays was found in the notebook")


def _norm(weights: Mapping[str, torch.Tensor]) -> float:
    """L2 norm of the weight matrices (biases left out): what weight decay shrinks."""
    return math.sqrt(sum(float((v.double() ** 2).sum()) for k, v in weights.items()
                         if k.endswith("weight") and v.ndim == 2))


def _row_problem(table: SweepTable, weight_decay: float, weights: Tensors | None) -> str | None:
    """Why one row's accuracies are not its run's weights', or None."""
    if weights is None:
        return f"no trained weights were found for weight decay {weight_decay:g}: run the sweep cell again"
    for split, column in (("val", "val_acc"), ("test", "test_acc")):
        if column not in table.columns:
            continue
        try:
            measured = course_accuracy(weights, split)
        except ValueError as exc:
            return f"weight decay {weight_decay:g}: {exc}"
        claimed = table.at(weight_decay, column)
        if not math.isfinite(claimed) or abs(measured - claimed) > ACCURACY_TOLERANCE:
            return (f"the table gives {column} {claimed:.4f} for weight decay {weight_decay:g}, but that run's "
                    f"weights give {measured:.4f}: pass the table of your sweep (sweep.table), unedited")
    return None


def judge_weights(report: CheckReport, table: SweepTable, weights: SweepWeights | None, grader: bool) -> bool:
    """Add the two weight criteria to ``report``; False when the table cannot be trusted (the
    choice is then not judged on it). Without weights the learner-side check skips them; the
    grader fails them."""
    if weights is None or weights.problem:
        why = weights.problem if weights is not None else "no weights were recorded for the sweep runs"
        if grader:
            report.add(WEIGHTS_NAME, False, f"{why}: pass the table of your sweep_weight_decay(...) run (sweep.table)")
            return False
        report.skip(WEIGHTS_NAME, why)
        return True
    norms: list[tuple[float, float]] = []
    for weight_decay in sorted(table.index):
        found = next((r.weights for r in weights.runs if math.isclose(r.weight_decay, weight_decay)), None)
        problem = _row_problem(table, weight_decay, found)
        if problem is not None or found is None:
            return report.add(WEIGHTS_NAME, False, problem or "")
        norms.append((weight_decay, _norm(found)))
    report.add(WEIGHTS_NAME, True)
    rising = [(a, b) for (a, na), (b, nb) in pairwise(norms) if not nb < na]
    return report.add(ORDER_NAME, not rising,
                      (f"the weights for weight decay {rising[0][1]:g} are not smaller than those for "
                       f"{rising[0][0]:g}: each row must hold the run trained with its own weight decay (same "
                       "seed, the sweep's own runs)") if rising else "")
