"""Wall time and test accuracy of the Exercise-1 training, done four ways in one process.

Configuration (all variants): the course MLP on the course data, SGD lr 0.1,
pl_bolts ``LinearWarmupCosineAnnealingLR`` (warmup = 25 % of the epochs, then cosine to the
last epoch) stepped once per epoch, seed 123.

1. ``baseline``: the course's original pipeline, re-implemented plainly: a numpy-backed
   per-item ``Dataset``, a default ``DataLoader`` (batch 32, shuffled), ``self.log`` on every
   step, Lightning's default Trainer (sanity check, checkpoint, model summary, TQDM bar).
2. ``helpers``: what the notebooks run: ``helpers.training.fit_and_test``.
3. ``step``: ``helpers`` with the warmup counted and stepped per optimizer step
   (``"interval": "step"``, lengths from ``trainer.estimated_stepping_batches``), as in
   notebook 01's last training.
4. ``plain``: a plain PyTorch loop over the same tensors on one thread (the lower bound).
5. ``floor``: a Lightning ``Trainer`` with no logging, metrics or validation (Lightning's floor).

Usage: ``python benchmarks/train_speed.py [--epochs 100] [--rounds 3] [--only baseline,helpers,...]``.
The variants run interleaved, A B C D E A B C D E ..., for ``--rounds`` rounds, so a change in the
machine's load hits every variant alike; each ratio is computed within a round and reported as
its median and range over the rounds. This is a benchmark, not a test: numbers depend on the
machine and on what else runs on it, so the load average is printed with them. Wall and CPU
seconds are both printed: every variant runs on one thread, so CPU time is the work it did and
moves less with the load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import helpers  # noqa: F401  # isort: skip - first: its narrow warning filters must be in place before pl_bolts loads
import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
import torchmetrics
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loops.training_epoch_loop import _TrainingEpochLoop
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR
from torch.utils.data import DataLoader, Dataset

from helpers.data import CourseDataModule, make_course_arrays, make_course_splits
from helpers.models import PyTorchMLP
from helpers.quiet import quiet_lightning_logs
from helpers.settings import BASE_LR, COURSE_SEED, TARGET_ACCURACY
from helpers.training import ClassifierModule, fit_and_test

SEED = COURSE_SEED
LEARNING_RATE = BASE_LR
TARGET_SPEEDUP = 4.0
VARIANTS = ("baseline", "helpers", "step", "plain", "floor")
RATIOS = (("baseline", "helpers"), ("step", "helpers"), ("helpers", "plain"), ("helpers", "floor"))
TARGET_STEP_RATIO = 1.15
TORCH_DEFAULT_THREADS = torch.get_num_threads()  # what a learner's fresh kernel uses


def warmup_epochs_for(epochs: int) -> int:
    """25 % of the run, as in Exercise 1 (25 of 100 epochs)."""
    return max(1, epochs // 4)


def make_scheduler(optimizer: torch.optim.Optimizer, epochs: int) -> LinearWarmupCosineAnnealingLR:
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=warmup_epochs_for(epochs), max_epochs=epochs)


@dataclass
class Measurement:
    variant: str
    seconds: float
    cpu_seconds: float
    test_acc: float
    load_before: float
    load_after: float
    lr_update_seconds: float | None = None  # time inside Lightning's scheduler update; None: never called


# --- 1. the course's original pipeline ---------------------------------------------------------

class NumpyDataset(Dataset):
    """One example per ``__getitem__``, converted from numpy to tensors on every access."""

    def __init__(self, features: np.ndarray, labels: np.ndarray) -> None:
        self.features = features
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.tensor(self.features[index], dtype=torch.float32), torch.tensor(self.labels[index])


class StepLoggingModule(L.LightningModule):
    """Logs train loss and accuracy on every step (as the course did), val once per epoch."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.model = PyTorchMLP()
        self.epochs = epochs
        self.train_acc = torchmetrics.Accuracy(task="multiclass", num_classes=2)
        self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=2)
        self.test_acc = torchmetrics.Accuracy(task="multiclass", num_classes=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _shared(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features, labels = batch
        logits = self(features)
        return F.cross_entropy(logits, labels), logits.argmax(dim=1), labels

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        loss, preds, labels = self._shared(batch)
        self.log("train_loss", loss)
        self.train_acc(preds, labels)
        self.log("train_acc", self.train_acc, prog_bar=True, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        loss, preds, labels = self._shared(batch)
        self.log("val_loss", loss, prog_bar=True)
        self.val_acc(preds, labels)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def test_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        _, preds, labels = self._shared(batch)
        self.test_acc(preds, labels)
        self.log("test_acc", self.test_acc)

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        optimizer = torch.optim.SGD(self.parameters(), lr=LEARNING_RATE)
        scheduler = make_scheduler(optimizer, self.epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def numpy_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x_train, x_val, x_test, y_train, y_val, y_test = make_course_arrays()  # the course recipe, helpers.data
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}


def run_baseline(epochs: int, workdir: str, threads: int = 1) -> float:
    """Default Trainer; the TQDM bar is drawn into /dev/null, not a terminal.

    One thread by default, like the other variants: on a busy 2-core machine torch's default of
    2 threads made this pipeline 9x slower (128 s vs 14 s for 2 epochs), which would measure the
    machine's load rather than the pipeline. ``--baseline-threads 0`` uses torch's default.
    """
    torch.set_num_threads(threads if threads > 0 else TORCH_DEFAULT_THREADS)
    L.seed_everything(SEED, verbose=False)
    data = numpy_splits()
    train = DataLoader(NumpyDataset(*data["train"]), batch_size=32, shuffle=True, drop_last=True)
    val = DataLoader(NumpyDataset(*data["val"]), batch_size=32)
    test = DataLoader(NumpyDataset(*data["test"]), batch_size=32)
    module = StepLoggingModule(epochs)
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        deterministic=True,
        default_root_dir=workdir,
        logger=CSVLogger(save_dir=workdir, name="baseline"),
    )
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        trainer.fit(module, train_dataloaders=train, val_dataloaders=val)
        tested = trainer.test(module, dataloaders=test, verbose=False)
    return float(tested[0]["test_acc"])


# --- 2. helpers, as the notebooks use it -------------------------------------------------------

class Exercise1Module(ClassifierModule):
    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
        scheduler = make_scheduler(optimizer, self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def run_helpers(epochs: int, workdir: str) -> float:
    result = fit_and_test(
        Exercise1Module(learning_rate=LEARNING_RATE, num_epochs=epochs), log_dir=workdir, seed=SEED, progress=False
    )
    return result.test_acc


class PerStepModule(ClassifierModule):
    """Notebook 01's ``PerStepWarmupModel``: warmup and cosine counted in optimizer steps."""

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
        scheduler = make_scheduler(optimizer, int(self.trainer.estimated_stepping_batches))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1}}


def run_step(epochs: int, workdir: str) -> float:
    result = fit_and_test(
        PerStepModule(learning_rate=LEARNING_RATE, num_epochs=epochs), log_dir=workdir, seed=SEED, progress=False
    )
    return result.test_acc


# --- 3. plain PyTorch --------------------------------------------------------------------------

def run_plain(epochs: int, workdir: str) -> float:
    """Same tensors, same batches per epoch, validation every epoch; no Lightning at all."""
    torch.set_num_threads(1)
    L.seed_everything(SEED, verbose=False)
    splits = make_course_splits()
    model = PyTorchMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    scheduler = make_scheduler(optimizer, epochs)
    order = torch.Generator().manual_seed(SEED)
    n_batches = len(splits.y_train) // 32
    for _ in range(epochs):
        model.train()
        permutation = torch.randperm(len(splits.y_train), generator=order)
        for b in range(n_batches):
            index = permutation[b * 32 : (b + 1) * 32]
            loss = F.cross_entropy(model(splits.x_train[index]), splits.y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            _ = (model(splits.x_val).argmax(dim=1) == splits.y_val).float().mean()
    with torch.no_grad():
        return float((model(splits.x_test).argmax(dim=1) == splits.y_test).float().mean())


# --- 4. Lightning's floor ----------------------------------------------------------------------

class BareModule(L.LightningModule):
    """Loss only: no metrics, no logging, no validation."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.model = PyTorchMLP()
        self.epochs = epochs

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        features, labels = batch
        return F.cross_entropy(self.model(features), labels)

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        optimizer = torch.optim.SGD(self.parameters(), lr=LEARNING_RATE)
        scheduler = make_scheduler(optimizer, self.epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def run_floor(epochs: int, workdir: str) -> float:
    torch.set_num_threads(1)
    L.seed_everything(SEED, verbose=False)
    data = CourseDataModule()
    module = BareModule(epochs)
    trainer = L.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, deterministic=True, logger=False,
        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
        num_sanity_val_steps=0, limit_val_batches=0, default_root_dir=workdir,
    )
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    splits = data.splits
    assert splits is not None
    module.model.eval()
    with torch.no_grad():
        return float((module.model(splits.x_test).argmax(dim=1) == splits.y_test).float().mean())


RUNNERS: dict[str, Callable[[int, str], float]] = {
    "baseline": run_baseline, "helpers": run_helpers, "step": run_step, "plain": run_plain, "floor": run_floor,
}


@contextlib.contextmanager
def lr_update_timer() -> Iterator[list[float]]:
    """Sum the time spent in Lightning's per-batch scheduler update while the block runs, and count
    the calls (``[seconds, calls]``; no calls: the variant has no Lightning loop).

    The training loop calls ``update_lr_schedulers`` twice per batch whatever the interval; with
    ``"interval": "step"`` it also steps the scheduler there, and nothing else in the loop differs.
    So step's total minus helpers' total is what per-step stepping costs, measured inside one
    training and therefore far less exposed to the machine's load than the difference of two
    trainings' wall times. (A benchmark-only patch of a Lightning internal, restored on exit.)
    """
    spent = [0.0, 0]
    original = _TrainingEpochLoop.update_lr_schedulers

    def timed(loop: _TrainingEpochLoop, interval: str, update_plateau_schedulers: bool) -> None:
        start = time.perf_counter()
        try:
            original(loop, interval, update_plateau_schedulers)
        finally:
            spent[0] += time.perf_counter() - start
            spent[1] += 1

    _TrainingEpochLoop.update_lr_schedulers = timed  # type: ignore[method-assign,assignment]
    try:
        yield spent
    finally:
        _TrainingEpochLoop.update_lr_schedulers = original  # type: ignore[method-assign]


def measure(variant: str, epochs: int, baseline_threads: int = 1) -> Measurement:
    """Wall time from data generation to test accuracy (imports excluded), in a fresh temp folder."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as workdir, lr_update_timer() as lr_spent:
        start, cpu_start = time.perf_counter(), time.process_time()
        if variant == "baseline":
            test_acc = run_baseline(epochs, workdir, baseline_threads)
        else:
            test_acc = RUNNERS[variant](epochs, workdir)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    lr_seconds = lr_spent[0] if lr_spent[1] else None
    return Measurement(variant, seconds, cpu_seconds, test_acc, load_before, os.getloadavg()[0], lr_seconds)


Round = dict[str, Measurement]


def ratios(rounds: list[Round], top: str, bottom: str, cpu: bool = False) -> list[float]:
    """``top / bottom`` within each round that measured both."""
    key = (lambda m: m.cpu_seconds) if cpu else (lambda m: m.seconds)
    return [key(r[top]) / key(r[bottom]) for r in rounds if top in r and bottom in r]


def stepping_cost(rounds: list[Round]) -> list[str]:
    """What stepping the scheduler every batch costs, from the LR-update time inside each training.

    Per round: step's LR-update seconds minus helpers', as a share of helpers' wall seconds. The
    two trainings run the same loop otherwise, so ``1 + share`` is the per-step run's cost relative
    to the per-epoch run with the machine's noise taken out.
    """
    pairs = [
        (r["step"].lr_update_seconds - r["helpers"].lr_update_seconds, r["helpers"].seconds)
        for r in rounds
        if "step" in r and "helpers" in r
        and r["step"].lr_update_seconds is not None and r["helpers"].lr_update_seconds is not None
    ]
    if not pairs:
        return []
    extra = [e for e, _ in pairs]
    shares = [e / wall for e, wall in pairs]
    share = statistics.median(shares)
    met = "met" if 1 + share <= TARGET_STEP_RATIO else "NOT met"
    return [
        (f"per-step stepping cost (step minus helpers, time in Lightning's LR update): median "
         f"{statistics.median(extra):.2f} s ({min(extra):.2f}-{max(extra):.2f}), {100 * share:.1f} % of helpers' wall "
         f"({100 * min(shares):.1f}-{100 * max(shares):.1f} %)"),
        f"per-step target by stepping cost, 1 + {share:.3f} <= {TARGET_STEP_RATIO:g}: {met}",
    ]


def report(rounds: list[Round], epochs: int, baseline_threads: int = 1, started: str = "", loads: tuple = ()) -> str:
    variants = [v for v in VARIANTS if any(v in r for r in rounds)]
    lines = [
        (f"Exercise 1, {epochs} epochs: SGD lr {LEARNING_RATE}, LinearWarmupCosineAnnealingLR "
        f"(warmup {warmup_epochs_for(epochs)} epochs, cosine to {epochs}; 'step': the same counted in steps), seed "
            f"{SEED}"),
        (f"{started}; torch {torch.__version__}, lightning {L.__version__}, {len(os.sched_getaffinity(0))} usable "
         f"CPUs, "
        f"threads: baseline {baseline_threads or TORCH_DEFAULT_THREADS}, others 1"),
        f"load average (1/5/15 min) at start {loads[0][0]:.2f} {loads[0][1]:.2f} {loads[0][2]:.2f}, "
        f"at end {loads[1][0]:.2f} {loads[1][1]:.2f} {loads[1][2]:.2f}" if len(loads) == 2 else "",
        f"{len(rounds)} interleaved rounds: " + " ".join(variants) + " ...",
        "",
        (f"{'round':<7}{'variant':<10}{'wall s':>9}{'CPU s':>9}{'LR upd s':>10}{'test_acc':>10}"
         f"{'load 1-min before/after':>26}"),
    ]
    for number, r in enumerate(rounds, start=1):
        for m in r.values():
            lr = "-" if m.lr_update_seconds is None else f"{m.lr_update_seconds:.2f}"
            lines.append(
                f"{number:<7}{m.variant:<10}{m.seconds:>9.1f}{m.cpu_seconds:>9.1f}{lr:>10}{m.test_acc:>10.4f}"
                f"{m.load_before:>15.2f} / {m.load_after:.2f}"
            )
    lines += ["", f"{'variant':<10}{'median wall s':>15}{'median CPU s':>14}"]
    for v in variants:
        walls = [r[v].seconds for r in rounds if v in r]
        cpus = [r[v].cpu_seconds for r in rounds if v in r]
        lines.append(f"{v:<10}{statistics.median(walls):>15.1f}{statistics.median(cpus):>14.1f}")
    lines += ["", f"{'ratio (per round)':<20}{'wall median':>12}{'(min-max)':>15}{'CPU median':>12}{'(min-max)':>15}"]
    summary: dict[tuple[str, str], float] = {}
    for top, bottom in RATIOS:
        wall, cpu = ratios(rounds, top, bottom), ratios(rounds, top, bottom, cpu=True)
        if not wall:
            continue
        summary[(top, bottom)] = statistics.median(wall)
        lines.append(
            f"{top + ' / ' + bottom:<20}{statistics.median(wall):>11.2f}x{f'({min(wall):.2f}-{max(wall):.2f})':>15}"
            f"{statistics.median(cpu):>11.2f}x{f'({min(cpu):.2f}-{max(cpu):.2f})':>15}"
        )
    lines.append("")
    if ("baseline", "helpers") in summary:
        speedup = summary[("baseline", "helpers")]
        met = "met" if speedup >= TARGET_SPEEDUP else "NOT met"
        lines.append(f"speed target baseline/helpers >= {TARGET_SPEEDUP:g}x (median wall): {met}")
    if ("step", "helpers") in summary:
        step = summary[("step", "helpers")]
        met = "met" if step <= TARGET_STEP_RATIO else "NOT met"
        lines.append(f"per-step target step/helpers <= {TARGET_STEP_RATIO:g}x (median wall): {met}")
        lines += stepping_cost(rounds)
    if any("helpers" in r for r in rounds):
        accs = sorted({r["helpers"].test_acc for r in rounds if "helpers" in r})
        shown = ", ".join(f"{a:.4f}" for a in accs)
        ok = all(a >= TARGET_ACCURACY for a in accs)
        target = (f"target >= {TARGET_ACCURACY} at 100 epochs: {'met' if ok else 'NOT met'}" if epochs >= 100
                  else "no target below 100 epochs")
        lines.append(f"helpers test accuracy {shown} ({target})")
    return "\n".join(line for line in lines if line is not None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs per variant (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every variant (default 3)")
    parser.add_argument("--only", default=",".join(VARIANTS), help=f"comma-separated subset of {','.join(VARIANTS)}")
    parser.add_argument(
        "--baseline-threads", type=int, default=1,
        help=f"torch threads for the baseline (default 1; 0 = torch's default, {TORCH_DEFAULT_THREADS} here)",
    )
    args = parser.parse_args(argv)
    if args.baseline_threads < 0:
        parser.error(f"--baseline-threads must be >= 0, got {args.baseline_threads}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 (warmup needs an epoch before the cosine), got {args.epochs}")
    chosen = [v.strip() for v in args.only.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown or not chosen:
        parser.error(f"--only takes a comma-separated subset of {','.join(VARIANTS)}, got {args.only!r}")
    args.variants = [v for v in VARIANTS if v in chosen]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_lightning_logs()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_start = os.getloadavg()
    rounds: list[Round] = []
    for number in range(1, args.rounds + 1):
        rounds.append({})
        for variant in args.variants:
            print(f"round {number}/{args.rounds}: {variant} ({args.epochs} epochs) ...", file=sys.stderr, flush=True)
            m = measure(variant, args.epochs, args.baseline_threads)
            rounds[-1][variant] = m
            print(f"  {m.seconds:.1f} s wall, {m.cpu_seconds:.1f} s CPU, test accuracy {m.test_acc:.4f}, "
                  f"load {m.load_before:.2f}/{m.load_after:.2f}", file=sys.stderr, flush=True)
    print(report(rounds, args.epochs, args.baseline_threads, started, (load_start, os.getloadavg())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
