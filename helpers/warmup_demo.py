"""A short, real training run that shows what warmup does at a high learning rate.

The same course MLP is trained twice on the course data with the same seed and the same high
base learning rate: once at full LR from the first batch, once with a per-batch linear warmup.
The loss is recorded at every optimizer step, because warmup acts in the first few hundred
steps and a per-epoch curve would hide exactly that part. A plain PyTorch loop is used (not
Lightning) so every step's loss and LR is at hand and a comparison takes seconds.
"""

from __future__ import annotations

import time
from functools import partial
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from helpers.data import CourseDataModule, CourseSplits
from helpers.models import PyTorchMLP

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
    warmup_steps: int
    seed: int

    def summary(self) -> str:
        """A small table of the measured numbers, one line per run."""
        lines = [
            f"{self.optimizer}, base lr {self.base_lr:g}, warmup {self.warmup_steps} steps, seed {self.seed}",
            f"{'run':<12} {'loss ep. 1':>10} {'loss last ep.':>13} {'val loss':>9} {'val acc':>8}",
        ]
        for run in (self.no_warmup, self.warmup):
            lines.append(
                f"{run.label:<12} {run.epoch_mean_loss(0):>10.4f} {run.epoch_mean_loss(run.epochs - 1):>13.4f} "
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


def train_steps(
    base_lr: float,
    warmup_steps: int,
    *,
    epochs: int = 3,
    optimizer: str = "adam",
    seed: int = 123,
    label: str | None = None,
    datamodule: CourseDataModule | None = None,
) -> StepRun:
    """Train the course MLP for ``epochs`` and record the loss of every step.

    ``warmup_steps`` > 0 raises the LR linearly per batch, factor ``min((step + 1) / warmup_steps, 1)``
    through a ``LambdaLR`` stepped after every ``optimizer.step()``; 0 trains at ``base_lr`` throughout.
    The seed fixes both the model's initial weights and the batch order, so the two runs of a
    comparison differ only in the schedule.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not isinstance(base_lr, (int, float)) or isinstance(base_lr, bool) or base_lr <= 0:
        raise ValueError(f"base_lr must be a positive number, got {base_lr!r}")
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be a whole number >= 0, got {warmup_steps!r}")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")

    torch.set_num_threads(1)  # faster for this small model, and bit-for-bit reproducible
    data = datamodule if datamodule is not None else CourseDataModule(shuffle_seed=seed)
    data.setup()
    splits: CourseSplits = data.splits  # type: ignore[assignment]
    torch.manual_seed(seed)
    model = PyTorchMLP()
    opt = _make_optimizer(optimizer, model, float(base_lr))
    schedule = None
    if warmup_steps > 0:
        factor = partial(_linear_warmup_factor, warmup_steps=warmup_steps)
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, factor)

    losses: list[float] = []
    lrs: list[float] = []
    val_loss: list[float] = []
    val_acc: list[float] = []
    # One loader for all epochs: its generator moves on, so each epoch gets a new batch order.
    loader = data.train_dataloader()
    start = time.perf_counter()
    for _ in range(epochs):
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
        model.eval()
        v_loss, v_acc = _evaluate(model, splits.x_val, splits.y_val)
        val_loss.append(v_loss)
        val_acc.append(v_acc)
    return StepRun(
        label=label or ("warmup" if warmup_steps else "no warmup"),
        losses=np.asarray(losses),
        lrs=np.asarray(lrs),
        steps_per_epoch=data.steps_per_epoch,
        val_loss=np.asarray(val_loss),
        val_acc=np.asarray(val_acc),
        seconds=time.perf_counter() - start,
    )


def compare_warmup(
    base_lr: float,
    warmup_steps: int,
    *,
    epochs: int = 3,
    optimizer: str = "adam",
    seed: int = 123,
) -> WarmupComparison:
    """Train twice with identical seed and data order: at full ``base_lr`` and with warmup."""
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps < 1:
        raise ValueError(f"warmup_steps must be a positive whole number for a comparison, got {warmup_steps!r}")
    common = dict(epochs=epochs, optimizer=optimizer, seed=seed)
    return WarmupComparison(
        no_warmup=train_steps(base_lr, 0, label="no warmup", **common),
        warmup=train_steps(base_lr, warmup_steps, label="warmup", **common),
        optimizer=optimizer,
        base_lr=float(base_lr),
        warmup_steps=warmup_steps,
        seed=seed,
    )


@dataclass(frozen=True)
class SeedResult:
    """Mean training loss over the first ``steps`` steps, without and with warmup, for one seed."""

    seed: int
    no_warmup: float
    warmup: float


def early_loss_by_seed(
    base_lr: float,
    warmup_steps: int,
    seeds: tuple[int, ...],
    *,
    optimizer: str = "adam",
    steps: int | None = None,
) -> list[SeedResult]:
    """Repeat the comparison for several seeds (one epoch each) and keep the early mean loss,
    so a claim about warmup rests on more than one lucky initialisation.

    ``steps`` defaults to ``warmup_steps``: the loss is averaged over the warmup period.
    """
    if not seeds:
        raise ValueError("seeds is empty: pass e.g. (123, 1, 2)")
    steps = warmup_steps if steps is None else steps
    results = []
    for seed in seeds:
        pair = compare_warmup(base_lr, warmup_steps, epochs=1, optimizer=optimizer, seed=seed)
        results.append(SeedResult(seed, float(pair.no_warmup.losses[:steps].mean()), float(pair.warmup.losses[:steps].mean())))
    return results


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start), so noisy batch losses read as a curve."""
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_warmup_comparison(comparison: WarmupComparison, *, window: int = 25, show: bool = True) -> Figure:
    """Per-step training loss (smoothed over ``window`` steps) of both runs, and the LR they used."""
    if not isinstance(comparison, WarmupComparison):
        raise TypeError(f"pass the result of compare_warmup(...), got {type(comparison).__name__}")
    fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for run in (comparison.no_warmup, comparison.warmup):
        x = np.arange(len(run.losses)) / run.steps_per_epoch
        loss_ax.plot(x, moving_average(run.losses, window), label=run.label)
        lr_ax.plot(x, run.lrs, label=run.label)
    loss_ax.set_yscale("log")  # a spike of several units and differences of 0.05 in one picture
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel(f"training loss (mean of {window} steps, log)")
    loss_ax.set_title("loss per step")
    lr_ax.set_xlabel("epoch")
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_title(f"{comparison.optimizer}, base lr {comparison.base_lr:g}")
    for ax in (loss_ax, lr_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    if show:
        plt.show()
    return fig
