"""Plots the notebooks share: learning-rate curves and training curves."""

from __future__ import annotations

import os
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from helpers.learner_code import MissingReturn
from helpers.metrics import read_metrics
from helpers.schedules import LRCurve, SchedulerFactory, record_lr
from helpers.settings import BASE_LR


def finish_figure(fig: Figure, *, title: str | None = None, show: bool = True) -> Figure:
    """Give ``fig`` its title and tight layout, and show it in the notebook unless ``show=False``."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if show:
        plt.show()
    return fig


def plot_lr_curves(curves: Mapping[str, LRCurve], *, title: str = "Learning rate", show: bool = True) -> Figure:
    """Draw one or more recorded LR curves on an epoch axis (per-step curves as lines)."""
    if not curves:
        raise ValueError("curves is empty: pass {label: LRCurve}")
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for label, curve in curves.items():
        if not isinstance(curve, LRCurve):
            raise TypeError(f"curve {label!r} is a {type(curve).__name__}, not an LRCurve from record_lr")
        if curve.steps_per_epoch == 1:
            ax.plot(range(curve.epochs), curve.per_step, marker=".", markersize=3, label=label)
        else:
            ax.plot(curve.epoch_axis, curve.per_step, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    if all(np.isnan(curve.per_step).all() for curve in curves.values()):  # e.g. a forgotten return
        ax.text(0.5, 0.5, "no curve to draw: see the ✗ line above", ha="center", va="center", transform=ax.transAxes)
    return finish_figure(fig, show=show)


def lr_curve(
    scheduler_factory: SchedulerFactory,
    epochs: int,
    *,
    steps_per_epoch: int = 1,
    interval: str = "epoch",
    base_lr: float = BASE_LR,
    label: str = "learning rate",
    show: bool = True,
) -> LRCurve:
    """Record the LR ``scheduler_factory`` produces (see :func:`record_lr`) and plot it.

    Learner code that forgets a ``return`` is reported as one ✗ line instead of a traceback, and
    the curve comes back as NaN (nothing plotted) so the rest of the cell and the check cell run.
    """
    try:
        curve = record_lr(
            scheduler_factory, epochs, steps_per_epoch=steps_per_epoch, interval=interval, base_lr=base_lr
        )
    except MissingReturn as problem:
        print(problem.line())
        curve = LRCurve(per_step=np.full(epochs * steps_per_epoch, np.nan), steps_per_epoch=steps_per_epoch,
                        interval=interval)
    plot_lr_curves({label: curve}, title=label, show=show)
    return curve


def training_curves(
    log_dir: str | os.PathLike,
    *,
    title: str | None = None,
    acc_ylim: tuple[float, float] | None = None,
    show: bool = True,
) -> Figure:
    """Loss and accuracy per epoch, train vs validation, from a run's ``metrics.csv``."""
    table = read_metrics(log_dir)
    wanted = [f"{split}_{metric}" for metric in ("loss", "acc") for split in ("train", "val")]
    if not any(column in table.columns and table[column].notna().any() for column in wanted):
        raise ValueError(
            f"the metrics of {log_dir} have none of {wanted}: was the run logged by a ClassifierModule?"
        )
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in ((loss_ax, "loss"), (acc_ax, "acc")):
        for split in ("train", "val"):
            column = f"{split}_{metric}"
            if column in table.columns:
                series = table[column].dropna()
                ax.plot(series.index + 1, series.values, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if metric == "acc" else "cross-entropy loss")
        ax.grid(alpha=0.3)
        if ax.lines:  # a legend without lines is only a warning
            ax.legend()
    if acc_ylim is not None:
        acc_ax.set_ylim(*acc_ylim)
    return finish_figure(fig, title=title, show=show)
