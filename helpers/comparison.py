"""Plots that compare runs: train/val accuracy side by side, and a sweep's accuracy by weight decay.

Side-by-side panels share one y axis, so a smaller overfitting gap is visible at a glance
rather than hidden by two differently scaled plots.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from helpers.metrics import read_metrics
from helpers.plots import finish_figure
from helpers.training import RunResult

RunLike = RunResult | str | os.PathLike


def _log_dir(label: str, run: RunLike) -> str | os.PathLike:
    if isinstance(run, RunResult):
        return run.log_dir
    if isinstance(run, (str, os.PathLike)):
        return run
    raise TypeError(f"run {label!r} is a {type(run).__name__}: pass a RunResult or its log folder")


def accuracy_panels(
    runs: Mapping[str, RunLike],
    *,
    ylim: tuple[float, float] = (0.6, 1.0),
    title: str | None = None,
    show: bool = True,
) -> Figure:
    """One panel per run with train and validation accuracy per epoch, on the same y axis.

    The shaded band between the curves is the train-minus-validation gap (overfitting).
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty {label: RunResult} mapping")
    low, high = ylim
    if not low < high:
        raise ValueError(f"ylim must be (low, high) with low < high, got {ylim!r}")
    tables = {label: read_metrics(_log_dir(label, run)) for label, run in runs.items()}
    fig, axes = plt.subplots(1, len(tables), figsize=(5 * len(tables), 3.6), sharey=True, squeeze=False)
    for ax, (label, table) in zip(axes[0], tables.items(), strict=True):
        missing = {"train_acc", "val_acc"} - set(table.columns)
        if missing:
            raise ValueError(f"run {label!r} logged no {sorted(missing)}: was it trained with ClassifierModule?")
        both = table[["train_acc", "val_acc"]].dropna()
        epochs = both.index + 1
        ax.plot(epochs, both["train_acc"], label="train")
        ax.plot(epochs, both["val_acc"], label="validation")
        ax.fill_between(epochs, both["val_acc"], both["train_acc"], alpha=0.15, color="grey", label="gap")
        last = both.iloc[-1]
        ax.set_title(f"{label}\nfinal gap {last['train_acc'] - last['val_acc']:.3f}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    axes[0][0].set_ylabel("accuracy")
    axes[0][0].set_ylim(low, high)
    return finish_figure(fig, title=title, show=show)


def sweep_plot(
    table: pd.DataFrame,
    *,
    chosen: float | None = None,
    metric: str = "val_acc",
    show: bool = True,
) -> Figure:
    """Accuracy (validation by default) against weight decay on a log axis, the chosen value marked."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame (e.g. WeightDecaySweep.table), got {type(table).__name__}")
    if metric not in table.columns:
        raise ValueError(f"table has no {metric!r} column; its columns are {list(table.columns)}")
    if (table.index <= 0).any():
        raise ValueError("a log axis needs weight decays > 0; drop the 0 row before plotting")
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(table.index, table[metric], marker="o", label=metric.replace("_", " "))
    ax.set_xscale("log")
    if chosen is not None:
        if chosen not in table.index:
            raise ValueError(f"chosen={chosen!r} is not one of the swept values {list(table.index)}")
        ax.scatter([chosen], [table.loc[chosen, metric]], s=140, facecolors="none", edgecolors="red", zorder=3,
                   label=f"chosen: {chosen:g}")
    ax.set_xlabel("weight decay (log scale)")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return finish_figure(fig, show=show)
