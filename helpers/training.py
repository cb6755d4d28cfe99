"""Training plumbing: a Lightning module base that logs per epoch, and a fast, quiet trainer.

The notebooks subclass :class:`ClassifierModule` and write ``configure_optimizers`` themselves:
the optimizer and the scheduler are the part of the exercise the learner owns.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
import torch.nn.functional as F
import torchmetrics
from lightning.fabric.plugins.environments import ClusterEnvironment, LightningEnvironment
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from helpers.data import CourseDataModule
from helpers.metrics import METRICS_FILE
from helpers.models import PyTorchMLP
from helpers.progress import EpochProgress, _in_notebook
from helpers.quiet import no_srun_hint, quiet_lightning_logs
from helpers.settings import (  # the first three re-exported here
    BASE_LR,
    COURSE_EPOCHS,
    COURSE_SEED,
    LOG_DIR,
    quick_epochs,
)

TRAINING_LOG_ENV = "KIT_TRAINING_LOG"  # benchmarks: a JSON-lines file every training appends to


def course_epochs(default: int = COURSE_EPOCHS) -> int:
    """The number of epochs a notebook trains for: ``default``, unless a grader's quick mode
    lowers it through the ``KIT_QUICK_EPOCHS`` environment variable."""
    if not isinstance(default, int) or isinstance(default, bool) or default < 1:
        raise ValueError(f"default must be a positive int, got {default!r}")
    quick = quick_epochs()
    return default if quick is None else min(default, quick)


def _seeded_mlp(num_classes: int, seed: int) -> PyTorchMLP:
    """The course MLP with initial weights drawn from ``seed``, whatever the global RNG state.

    ``fit_and_test`` seeds only when training starts, after the module (and its weights) exist;
    without this, a second run in the same notebook would start from different weights.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PyTorchMLP(num_classes=num_classes)


class ClassifierModule(L.LightningModule):
    """Cross-entropy classification with per-epoch train/val loss and accuracy (torchmetrics).

    Loss and accuracy are computed by metric objects and logged once per epoch: logging every step
    would cost more than the MLP itself on this data. For the same reason the steps only keep their
    (loss, predictions, labels) and the metrics are fed once per epoch (:meth:`_flush`). Without a
    ``model`` argument the course MLP is built with weights drawn from ``init_seed`` (123), so two
    runs in one notebook start from the same point; ``init_seed=None`` draws them from the global
    RNG instead.
    """

    def __init__(
        self,
        model: nn.Module | None = None,
        learning_rate: float = BASE_LR,
        num_epochs: int = COURSE_EPOCHS,
        num_classes: int = 2,
        init_seed: int | None = COURSE_SEED,
    ) -> None:
        super().__init__()
        if not isinstance(learning_rate, (int, float)) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        if not isinstance(num_epochs, int) or isinstance(num_epochs, bool) or num_epochs < 1:
            raise ValueError(f"num_epochs must be a positive int, got {num_epochs!r}")
        if model is not None:
            self.model = model
        elif init_seed is None:
            self.model = PyTorchMLP(num_classes=num_classes)
        else:
            self.model = _seeded_mlp(num_classes, init_seed)
        self.learning_rate = float(learning_rate)
        self.num_epochs = num_epochs
        self.save_hyperparameters(ignore=["model"])
        acc = functools.partial(torchmetrics.Accuracy, task="multiclass", num_classes=num_classes, validate_args=False)
        self.train_acc = acc()
        self.val_acc = acc()
        self.test_acc = acc()
        self.train_loss = torchmetrics.MeanMetric()
        self.val_loss = torchmetrics.MeanMetric()
        self._epoch_lr: float | None = None
        self._batches: dict[str, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = {
            "train": [],
            "val": [],
            "test": [],
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features, labels = batch
        logits = self(features)
        loss = F.cross_entropy(logits, labels)
        return loss, logits.argmax(dim=1), labels

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, preds, labels = self._step(batch)
        self._batches["train"].append((loss.detach(), preds, labels))
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        loss, preds, labels = self._step(batch)
        self._batches["val"].append((loss, preds, labels))

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        loss, preds, labels = self._step(batch)
        self._batches["test"].append((loss, preds, labels))

    def on_train_epoch_start(self) -> None:
        self._batches["train"].clear()  # e.g. left over from a run interrupted mid-epoch
        optimizer = self.optimizers()
        optimizer = optimizer[0] if isinstance(optimizer, list) else optimizer
        self._epoch_lr = optimizer.param_groups[0]["lr"]

    def _flush(self, split: str, loss: torchmetrics.Metric | None, acc: torchmetrics.Metric) -> None:
        """Feed one epoch's kept batches to the metrics in a single update each.

        A torchmetrics update costs about as much as this MLP's forward pass; 450 of them per
        epoch were a measurable share of training time. The results are the same: accuracy counts
        and a batch-size-weighted mean loss.
        """
        batches = self._batches[split]
        if not batches:
            return
        losses, preds, labels = zip(*batches, strict=True)
        if loss is not None:
            sizes = torch.tensor([len(y) for y in labels], dtype=torch.float32, device=losses[0].device)
            loss.update(torch.stack(losses), weight=sizes)
        acc.update(torch.cat(preds), torch.cat(labels))
        batches.clear()

    def on_train_epoch_end(self) -> None:
        self._flush("train", self.train_loss, self.train_acc)
        self._log_epoch("train", self.train_loss, self.train_acc)
        if self._epoch_lr is not None:
            self.log("lr", self._epoch_lr)

    def on_validation_epoch_start(self) -> None:
        self._batches["val"].clear()

    def on_test_epoch_start(self) -> None:
        self._batches["test"].clear()

    def on_validation_epoch_end(self) -> None:
        self._flush("val", self.val_loss, self.val_acc)
        self._log_epoch("val", self.val_loss, self.val_acc)

    def on_test_epoch_end(self) -> None:
        self._flush("test", None, self.test_acc)
        self.log("test_acc", self.test_acc.compute())
        self.test_acc.reset()

    def _log_epoch(self, split: str, loss: torchmetrics.Metric, acc: torchmetrics.Metric) -> None:
        if acc.update_count == 0:  # e.g. validation skipped
            return
        self.log(f"{split}_loss", loss.compute())
        self.log(f"{split}_acc", acc.compute())
        loss.reset()
        acc.reset()

    def configure_optimizers(self) -> Any:
        raise NotImplementedError(
            "Write configure_optimizers in your notebook's subclass: it returns the optimizer "
            "(and, for a schedule, the Lightning lr_scheduler dict)."
        )


def single_process_environment() -> LightningEnvironment:
    """The cluster environment of every course training: one process, rank 0, one device.

    Left to itself, Lightning 2.x looks for a cluster in the environment: where ``srun`` is on the
    PATH it warns that it is "available but not used", and inside a Slurm job (``SLURM_NTASKS``
    set, as in an Open OnDemand JupyterLab or a grading shard) it picks ``SLURMEnvironment``, which
    takes ranks from ``SLURM_PROCID``, checks ``devices`` against ``SLURM_NTASKS`` and installs
    requeue signal handlers. An explicit environment skips that detection (Lightning's documented
    way: a ``ClusterEnvironment`` in ``plugins``). Setting rank 0 also resets Lightning's
    ``rank_zero_only``, which it reads from ``SLURM_PROCID`` at import: with ``srun -n 2`` task 1
    would otherwise log nothing (the CSV logger writes on rank 0 only).
    """
    environment = LightningEnvironment()
    environment.set_global_rank(0)
    return environment


def _with_single_process(plugins: Any) -> list[Any]:
    """``plugins`` plus :func:`single_process_environment` unless a cluster environment is given."""
    given = [] if plugins is None else list(plugins) if isinstance(plugins, (list, tuple)) else [plugins]
    if any(isinstance(plugin, ClusterEnvironment) for plugin in given):
        return given
    return [*given, single_process_environment()]


def make_trainer(
    max_epochs: int = COURSE_EPOCHS,
    *,
    accelerator: str = "cpu",
    seed: int = COURSE_SEED,
    log_dir: str | os.PathLike = LOG_DIR,
    run_name: str = "run",
    num_threads: int | None = 1,
    progress: bool = True,
    **trainer_kwargs: Any,
) -> L.Trainer:
    """A deterministic, quiet Lightning ``Trainer`` tuned for the course MLP on a CPU.

    One thread is faster than two for this small model (and keeps results reproducible);
    validation runs every epoch; no sanity check, checkpoint or model summary is written. The
    training is one process on one device wherever it runs, Slurm job or not
    (:func:`single_process_environment`).
    """
    if not isinstance(max_epochs, int) or isinstance(max_epochs, bool) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive int, got {max_epochs!r}")
    if num_threads is not None:
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive int or None, got {num_threads!r}")
        torch.set_num_threads(num_threads)
    quiet_lightning_logs()
    L.seed_everything(seed, workers=True, verbose=False)
    extra = trainer_kwargs.pop("callbacks", None) or []
    callbacks = [extra] if isinstance(extra, L.Callback) else list(extra)  # Lightning takes one or a list
    if progress:
        callbacks.append(EpochProgress())
    options: dict[str, Any] = dict(
        max_epochs=max_epochs,
        accelerator=accelerator,
        devices=1,
        deterministic=True,
        logger=CSVLogger(save_dir=str(log_dir), name=run_name),
        callbacks=callbacks,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        log_every_n_steps=50,
    )
    options.update(trainer_kwargs)
    options["plugins"] = _with_single_process(options.get("plugins"))
    return L.Trainer(**options)


@dataclass
class RunResult:
    """What a training run leaves behind: final metrics, its log folder and wall time."""

    test_acc: float
    val_acc: float
    train_acc: float
    seconds: float
    log_dir: Path

    @property
    def metrics(self) -> pd.DataFrame:
        """Per-epoch metrics read back from the run's ``metrics.csv``."""
        from helpers.metrics import read_metrics

        return read_metrics(self.log_dir)


WEIGHTS_FILE = "weights.pt"  # the final state dict, beside metrics.csv: the grader evaluates it itself


def save_final_weights(module: L.LightningModule, log_dir: Path) -> None:
    """Write the trained weights to ``log_dir/weights.pt`` (about 60 KB for the course MLP), so a
    run trained in a worker process still leaves its weights where the kernel (and a check) can
    read them; a full disk never stops a training."""
    with contextlib.suppress(OSError):
        torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, log_dir / WEIGHTS_FILE)


def _fail_early_on_blank(module: L.LightningModule) -> None:
    """Call ``configure_optimizers`` once before training, so an unfinished blank stops here
    with the learner's hint rather than deep inside Lightning's fit loop."""
    try:
        module.configure_optimizers()
    except NotImplementedError as exc:
        raise NotImplementedError(f"configure_optimizers is not finished yet: {exc}") from None
    except Exception:  # noqa: BLE001 - e.g. needs self.trainer; the real call inside fit decides
        pass


_announced_log_dirs: set[str] = set()


def announce_log_dir(log_dir: str | os.PathLike = LOG_DIR) -> None:
    """Say once per notebook kernel where training logs are written, so that the folder does not
    appear beside the learner's notebooks unexplained (scripts and tests stay silent).

    A relative folder is named as it is (``logs/``, beside the notebook); an absolute one by its
    last part only, since notebooks never print machine paths.
    """
    key = os.path.normpath(os.fspath(log_dir))
    if key in _announced_log_dirs or not _in_notebook():
        return
    _announced_log_dirs.add(key)
    where = f"{os.path.basename(key)}/ (the log_dir given)" if os.path.isabs(key) else f"{key}/ beside this notebook"
    print(f"Training logs (one {METRICS_FILE} per run) go to {where}; delete the folder whenever you like.")


def _append_training_log(run_name: str, seconds: float, cpu_seconds: float, epochs: int) -> None:
    """One JSON line per finished training in ``$KIT_TRAINING_LOG`` (unset: nothing is written).

    The wait benchmark sums these to tell training time from the rest of a notebook's run. A
    line is one ``write`` in append mode, so concurrent workers do not interleave.
    """
    path = os.environ.get(TRAINING_LOG_ENV)
    if not path:
        return
    entry = {
        "run": run_name, "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
        "epochs": epochs, "pid": os.getpid(),
    }
    line = json.dumps(entry) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(line)
    except OSError:  # e.g. inside the grader's sandbox: a benchmark's record never stops a training
        pass


def _log_dir(trainer: L.Trainer) -> Path:
    """The run's folder: make_trainer always gives the trainer a CSVLogger, which has one."""
    logger = trainer.logger
    if logger is None or logger.log_dir is None:
        raise RuntimeError("the trainer has no logger with a log_dir; build it with make_trainer")
    return Path(logger.log_dir)


def fit_and_test(
    module: L.LightningModule,
    datamodule: L.LightningDataModule | None = None,
    *,
    max_epochs: int | None = None,
    **trainer_kwargs: Any,
) -> RunResult:
    """Train ``module`` (for its ``num_epochs`` unless ``max_epochs`` is given), then test it."""
    if not isinstance(module, L.LightningModule):
        raise TypeError(f"module must be a LightningModule, got {type(module).__name__}")
    epochs = max_epochs if max_epochs is not None else getattr(module, "num_epochs", COURSE_EPOCHS)
    if (quick := quick_epochs()) is not None and isinstance(epochs, int) and epochs >= 1:
        epochs = min(epochs, quick)  # a grader's quick mode caps a length typed in by hand too
    _fail_early_on_blank(module)
    announce_log_dir(trainer_kwargs.get("log_dir", LOG_DIR))
    datamodule = datamodule if datamodule is not None else CourseDataModule()
    trainer = make_trainer(epochs, **trainer_kwargs)
    start, cpu_start = time.perf_counter(), time.process_time()
    with no_srun_hint():
        trainer.fit(module, datamodule=datamodule)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    _append_training_log(str(trainer_kwargs.get("run_name", "run")), seconds, cpu_seconds, trainer.current_epoch)
    last_epoch = {k: float(v) for k, v in trainer.callback_metrics.items()}
    with no_srun_hint():
        tested = trainer.test(module, datamodule=datamodule, verbose=False)[0]
    log_dir = _log_dir(trainer)
    save_final_weights(module, log_dir)
    return RunResult(
        test_acc=float(tested["test_acc"]),
        val_acc=last_epoch.get("val_acc", float("nan")),
        train_acc=last_epoch.get("train_acc", float("nan")),
        seconds=seconds,
        log_dir=log_dir,
    )
