"""A short, real training run that shows what warmup does at a high learning rate.

The same course MLP is trained twice on the course data with the same seed and the same high
base learning rate: once at full LR from the first batch, once with a per-batch linear warmup.
The loss is recorded at every optimizer step, because warmup acts in the first few hundred
steps and a per-epoch curve would hide exactly that part. A plain PyTorch loop is used (not
Lightning) so every step's loss and LR is at hand and a comparison takes seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from helpers.data import BATCH_SIZE, CourseDataModule, CourseSplits
from helpers.models import PyTorchMLP
from helpers.plots import finish_figure
from helpers.settings import COURSE_SEED
from helpers.validate import is_number, require_whole

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class StepRun:
    """One run: loss and LR at every optimizer step, validation results after every epoch."""

    label: str
    losses: np.ndarray
    lrs: np.ndarray
    steps_per_epoch: int
    val_loss: np.ndarray
    val_acc: np.ndarray
    seconds: float

    @property
    def epochs(self) -> int:
        return len(self.val_acc)

    def epoch_mean_loss(self, epoch: int) -> float:
        """Mean training loss over the steps of ``epoch`` (0-based)."""
        start = epoch * self.steps_per_epoch
        return float(self.losses[start : start + self.steps_per_epoch].mean())

    @property
    def diverged(self) -> bool:
        """True when a loss became NaN or infinite (the run blew up)."""
        return not bool(np.isfinite(self.losses).all())


@dataclass(frozen=True)
class WarmupComparison:
    """The two runs of :func:`compare_warmup` and the settings they shared."""

    no_warmup: StepRun
    warmup: StepRun
    optimizer: str
    base_lr: float
    warmup_epochs: int
    batch_size: int
    seed: int

    @property
    def seconds(self) -> float:
        return self.no_warmup.seconds + self.warmup.seconds

    def summary(self) -> str:
        """A small table of the measured numbers, one line per run."""
        steps = self.warmup_epochs * self.warmup.steps_per_epoch
        lines = [
            (f"{self.optimizer}, base lr {self.base_lr:g}, batch size {self.batch_size}, "
            f"warmup {self.warmup_epochs} epochs ({steps} steps), seed {self.seed}"),
            f"{'run':<10} {'loss ep. 1':>10} {'loss last ep.':>13} {'val loss':>9} {'val acc':>8}",
        ]
        for run in (self.no_warmup, self.warmup):
            lines.append(
                f"{run.label:<10} {run.epoch_mean_loss(0):>10.4f} {run.epoch_mean_loss(run.epochs - 1):>13.4f} "
                f"{run.val_loss[-1]:>9.4f} {run.val_acc[-1]:>8.4f}"
            )
        return "\n".join(lines)


def _make_optimizer(name: str, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    return torch.optim.SGD(model.parameters(), lr=lr)


@torch.no_grad()
def _evaluate(model: torch.nn.Module, features: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    logits = model(features)
    return float(F.cross_entropy(logits, labels)), float((logits.argmax(dim=1) == labels).float().mean())


def _linear_warmup_factor(step: int, *, warmup_steps: int) -> float:
    """LR factor at optimizer step ``step``: linear from 1/warmup_steps to 1, then 1."""
    return min((step + 1) / warmup_steps, 1.0)


def _train_one_epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, schedule: Any, loader: Any,
                     losses: list[float], lrs: list[float]) -> None:
    """One pass over ``loader``, the LR before and the loss of every step appended; the
    schedule (if any) steps after every ``optimizer.step()``."""
    model.train()
    for features, labels in loader:
        lrs.append(opt.param_groups[0]["lr"])
        loss = F.cross_entropy(model(features), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        losses.append(float(loss.detach()))


def _seeded_setup(optimizer: str, base_lr: float, warmup_steps: int,
                  seed: int) -> tuple[torch.nn.Module, torch.optim.Optimizer, Any]:
    """The MLP (weights from ``seed``), its optimizer and the per-batch linear warmup (None for none)."""
    torch.manual_seed(seed)
    model = PyTorchMLP()
    opt = _make_optimizer(optimizer, model, base_lr)
    schedule = None
    if warmup_steps > 0:
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, partial(_linear_warmup_factor, warmup_steps=warmup_steps))
    return model, opt, schedule


def train_steps(
    base_lr: float,
    warmup_epochs: int,
    *,
    epochs: int = 8,
    batch_size: int = BATCH_SIZE,
    optimizer: str = "adam",
    seed: int = COURSE_SEED,
    label: str | None = None,
) -> StepRun:
    """Train the course MLP for ``epochs`` and record the loss of every step.

    ``warmup_epochs`` > 0 raises the LR linearly per batch, factor ``min((step + 1) / S, 1)`` with
    S = ``warmup_epochs`` × batches per epoch, through a ``LambdaLR`` stepped after every
    ``optimizer.step()``; 0 trains at ``base_lr`` throughout. The seed fixes both the initial
    weights and the batch order, so two runs with the same seed differ only in the schedule.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not is_number(base_lr) or base_lr <= 0:
        raise ValueError(f"base_lr must be a positive number, got {base_lr!r}")
    require_whole("warmup_epochs", warmup_epochs, 0)
    require_whole("epochs", epochs, 1)

    torch.set_num_threads(1)  # faster for this small model, and bit-for-bit reproducible
    data = CourseDataModule(batch_size=batch_size, shuffle_seed=seed)
    data.setup()
    splits: CourseSplits = data.splits  # type: ignore[assignment]
    model, opt, schedule = _seeded_setup(optimizer, float(base_lr), warmup_epochs * data.steps_per_epoch, seed)

    losses: list[float] = []
    lrs: list[float] = []
    val_loss: list[float] = []
    val_acc: list[float] = []
    # One loader for all epochs: its generator moves on, so each epoch gets a new batch order.
    loader = data.train_dataloader()
    start = time.perf_counter()
    for _ in range(epochs):
        _train_one_epoch(model, opt, schedule, loader, losses, lrs)
        model.eval()
        v_loss, v_acc = _evaluate(model, splits.x_val, splits.y_val)
        val_loss.append(v_loss)
        val_acc.append(v_acc)
    return StepRun(
        label=label or ("warmup" if warmup_epochs else "no warmup"),
        losses=np.asarray(losses),
        lrs=np.asarray(lrs),
        steps_per_epoch=data.steps_per_epoch,
        val_loss=np.asarray(val_loss),
        val_acc=np.asarray(val_acc),
        seconds=time.perf_counter() - start,
    )


def compare_warmup(
    base_lr: float,
    warmup_epochs: int,
    *,
    epochs: int = 8,
    batch_size: int = BATCH_SIZE,
    optimizer: str = "adam",
    seed: int = COURSE_SEED,
) -> WarmupComparison:
    """Train twice with identical seed, weights and batch order: at full ``base_lr`` and with warmup."""
    require_whole("warmup_epochs", warmup_epochs, 1)
    if warmup_epochs > epochs:
        raise ValueError(f"warmup_epochs ({warmup_epochs}) must not exceed epochs ({epochs}): the warmup would never "
                         f"end")
    train = partial(train_steps, epochs=epochs, batch_size=batch_size, optimizer=optimizer, seed=seed)
    return WarmupComparison(
        no_warmup=train(base_lr, 0, label="no warmup"),
        warmup=train(base_lr, warmup_epochs, label="warmup"),
        optimizer=optimizer,
        base_lr=float(base_lr),
        warmup_epochs=warmup_epochs,
        batch_size=batch_size,
        seed=seed,
    )


@dataclass(frozen=True)
class SeedResult:
    """First-epoch mean loss and final validation accuracy, without and with warmup, for one seed."""

    seed: int
    first_epoch_loss: tuple[float, float]
    final_val_acc: tuple[float, float]


def compare_over_seeds(
    base_lr: float,
    warmup_epochs: int,
    seeds: tuple[int, ...],
    *,
    epochs: int = 8,
    batch_size: int = BATCH_SIZE,
    optimizer: str = "adam",
) -> list[SeedResult]:
    """Repeat :func:`compare_warmup` for several seeds, so a claim rests on more than one lucky start."""
    if not seeds:
        raise ValueError(f"seeds is empty: pass e.g. ({COURSE_SEED}, 1, 2)")
    results = []
    for seed in seeds:
        pair = compare_warmup(
            base_lr, warmup_epochs, epochs=epochs, batch_size=batch_size, optimizer=optimizer, seed=seed
        )
        results.append(
            SeedResult(
                seed,
                (pair.no_warmup.epoch_mean_loss(0), pair.warmup.epoch_mean_loss(0)),
                (float(pair.no_warmup.val_acc[-1]), float(pair.warmup.val_acc[-1])),
            )
        )
    return results


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start), so noisy batch losses read as a curve."""
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_warmup_comparison(
    comparison: WarmupComparison, *, window: int = 10, first_epochs: int | None = None, show: bool = True
) -> Figure:
    """Per-step training loss (smoothed over ``window`` steps) of both runs, and the LR they used.

    ``first_epochs`` limits the plot to the start of training, where warmup acts.
    """
    if not isinstance(comparison, WarmupComparison):
        raise TypeError(f"pass the result of compare_warmup(...), got {type(comparison).__name__}")
    fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for run in (comparison.no_warmup, comparison.warmup):
        steps = len(run.losses) if first_epochs is None else first_epochs * run.steps_per_epoch
        x = np.arange(steps) / run.steps_per_epoch
        loss_ax.plot(x, moving_average(run.losses, window)[:steps], label=run.label)
        lr_ax.plot(x, run.lrs[:steps], label=run.label)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel(f"training loss (mean of {window} steps)")
    loss_ax.set_title("loss per step")
    lr_ax.set_xlabel("epoch")
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_title(f"{comparison.optimizer}, base lr {comparison.base_lr:g}")
    for ax in (loss_ax, lr_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    return finish_figure(fig, show=show)
