"""Training plumbing: epochs, the module base, the trainer, fit_and_test and the progress line.

Trainings here are 1-2 epochs (or a few batches) so the file stays fast.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, TypedDict

import lightning as L
import pandas as pd
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from helpers import progress
from helpers.checks.context import learner_context
from helpers.progress import EpochProgress
from helpers.schedules import warmup_cosine_lr
from helpers.settings import QUICK_EPOCHS_ENV
from helpers.training import ClassifierModule, RunResult, course_epochs, fit_and_test, make_trainer


class FewBatches(TypedDict):
    """Trainer options for a few batches per epoch, passed as ``**`` (a TypedDict: its keys can only be keywords)."""

    limit_train_batches: int
    limit_val_batches: int
    limit_test_batches: int
    log_every_n_steps: int


FEW_BATCHES = FewBatches(limit_train_batches=3, limit_val_batches=2, limit_test_batches=2, log_every_n_steps=1)

# pytest puts "always" for DeprecationWarning in front of helpers' filters; this one is Lightning
# 2.6 warning about its own use of torch's pytree API (helpers.quiet ignores it outside pytest).
pytestmark = pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated")


class SGDModule(ClassifierModule):
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.learning_rate)


class WarmupCosineModule(ClassifierModule):
    def configure_optimizers(self):
        from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

        optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
        scheduler = LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=2, max_epochs=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


class RecordingProgress(EpochProgress):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def _show(self, text: str, final: bool = False) -> None:
        self.lines.append(text)


# --- course_epochs -------------------------------------------------------------------------

def test_course_epochs_default(monkeypatch) -> None:
    monkeypatch.delenv(QUICK_EPOCHS_ENV, raising=False)
    assert course_epochs() == 100
    assert course_epochs(40) == 40


def test_course_epochs_quick_mode(monkeypatch) -> None:
    monkeypatch.setenv(QUICK_EPOCHS_ENV, "3")
    assert course_epochs(100) == 3
    assert course_epochs(2) == 2  # quick mode never lengthens a run


@pytest.mark.parametrize("value", ["0", "-2", "2.5", "abc", ""])
def test_course_epochs_bad_quick_value(monkeypatch, value) -> None:
    monkeypatch.setenv(QUICK_EPOCHS_ENV, value)
    with pytest.raises(ValueError, match=rf"{QUICK_EPOCHS_ENV} must be a positive whole number, got '{value}'"):
        course_epochs()


@pytest.mark.parametrize("value", [None, "3", "250", "0", "abc", " 4"])
def test_training_and_the_checks_read_quick_mode_alike(monkeypatch, value) -> None:
    """A check judges in quick mode exactly when the trainings ran shortened, and rejects what they reject."""
    if value is None:
        monkeypatch.delenv(QUICK_EPOCHS_ENV, raising=False)
    else:
        monkeypatch.setenv(QUICK_EPOCHS_ENV, value)
    try:
        shortened: int | str = course_epochs(1000)
    except ValueError as exc:
        shortened = str(exc)
    try:
        judged: int | str | None = learner_context().quick
    except ValueError as exc:
        judged = str(exc)
    assert judged == (None if shortened == 1000 else shortened)


@pytest.mark.parametrize("default", [0, -5, 2.5, True, "100"])
def test_course_epochs_bad_default(default) -> None:
    with pytest.raises(ValueError, match=r"default must be a positive int, got"):
        course_epochs(default)


# --- ClassifierModule ----------------------------------------------------------------------

@pytest.mark.parametrize("lr", [0, -0.1, "0.1"])
def test_module_bad_learning_rate(lr) -> None:
    with pytest.raises(ValueError, match=r"learning_rate must be a positive number, got"):
        SGDModule(learning_rate=lr)


@pytest.mark.parametrize("epochs", [0, -1, 10.0, True])
def test_module_bad_num_epochs(epochs) -> None:
    with pytest.raises(ValueError, match=r"num_epochs must be a positive int, got"):
        SGDModule(num_epochs=epochs)


def weights(module: ClassifierModule) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.model.parameters()])


def test_default_model_weights_do_not_depend_on_the_global_rng() -> None:
    torch.manual_seed(1)
    first = SGDModule()
    torch.manual_seed(2)
    second = SGDModule()
    assert torch.equal(weights(first), weights(second))
    assert not torch.equal(weights(SGDModule(init_seed=7)), weights(first))
    state = torch.get_rng_state()
    SGDModule()
    assert torch.equal(torch.get_rng_state(), state)  # building the module leaves the RNG alone


def test_init_seed_none_uses_the_global_rng() -> None:
    torch.manual_seed(1)
    first = SGDModule(init_seed=None)
    torch.manual_seed(2)
    assert not torch.equal(weights(first), weights(SGDModule(init_seed=None)))


# --- make_trainer --------------------------------------------------------------------------

def callbacks(trainer: L.Trainer) -> list[L.Callback]:
    """Lightning sets ``trainer.callbacks`` in its callback connector without declaring it on the class."""
    return trainer.callbacks  # type: ignore[attr-defined]


def test_make_trainer_settings(log_dir: Path) -> None:
    trainer = make_trainer(7, log_dir=log_dir, run_name="demo")
    assert trainer.max_epochs == 7 and trainer.num_sanity_val_steps == 0
    assert trainer.checkpoint_callback is None and trainer.progress_bar_callback is None
    assert isinstance(trainer.logger, CSVLogger) and Path(trainer.logger.save_dir) == log_dir
    assert trainer.logger.name == "demo"
    assert sum(isinstance(c, EpochProgress) for c in callbacks(trainer)) == 1
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == 1
    quiet_trainer = make_trainer(1, log_dir=log_dir, progress=False, max_time=None)
    assert not any(isinstance(c, EpochProgress) for c in callbacks(quiet_trainer))


def test_make_trainer_takes_one_callback_or_a_list(log_dir: Path) -> None:
    extra = RecordingProgress()
    for given in (extra, [extra]):
        trainer = make_trainer(1, log_dir=log_dir, progress=False, callbacks=given)
        assert extra in callbacks(trainer)


@pytest.mark.parametrize("epochs", [0, -3, 2.5, True])
def test_make_trainer_bad_epochs(epochs, log_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"max_epochs must be a positive int, got"):
        make_trainer(epochs, log_dir=log_dir)


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_make_trainer_bad_threads(threads, log_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"num_threads must be a positive int or None, got"):
        make_trainer(1, log_dir=log_dir, num_threads=threads)


# --- fit_and_test --------------------------------------------------------------------------

def test_fit_and_test_needs_a_lightning_module(log_dir: Path) -> None:
    with pytest.raises(TypeError, match=r"module must be a LightningModule, got Sequential"):
        fit_and_test(torch.nn.Sequential(), log_dir=log_dir)  # type: ignore[arg-type]  # the wrong type is the point


def test_unfinished_blank_stops_before_training(log_dir: Path) -> None:
    class Blank(ClassifierModule):
        steps = 0

        def training_step(self, batch, batch_idx):
            Blank.steps += 1
            return super().training_step(batch, batch_idx)

        def configure_optimizers(self):
            raise NotImplementedError("create SGD with lr=self.learning_rate")

    with pytest.raises(NotImplementedError, match=r"configure_optimizers is not finished yet: create SGD with lr="):
        fit_and_test(Blank(num_epochs=1), log_dir=log_dir)
    assert Blank.steps == 0 and not log_dir.exists()


def test_base_module_asks_for_configure_optimizers(log_dir: Path) -> None:
    with pytest.raises(NotImplementedError, match=r"Write configure_optimizers in your notebook's subclass"):
        fit_and_test(ClassifierModule(num_epochs=1), log_dir=log_dir)


def test_two_epoch_smoke_run(log_dir: Path) -> None:
    recorder = RecordingProgress()
    result = fit_and_test(SGDModule(num_epochs=2), log_dir=log_dir, progress=False, callbacks=[recorder])
    assert isinstance(result, RunResult)
    table = result.metrics
    assert list(table.index) == [0, 1]
    assert table.loc[1, "train_loss"] < table.loc[0, "train_loss"]
    assert table.loc[1, "val_loss"] < table.loc[0, "val_loss"]
    assert table["lr"].tolist() == pytest.approx([0.1, 0.1])
    for acc in (result.test_acc, result.val_acc, result.train_acc):
        assert 0.6 < acc <= 1.0
    assert result.val_acc == pytest.approx(table.loc[1, "val_acc"])
    assert result.train_acc == pytest.approx(table.loc[1, "train_acc"])
    assert result.seconds > 0 and math.isfinite(result.seconds)
    assert result.log_dir.is_dir() and log_dir in result.log_dir.parents
    test_rows = pd.read_csv(result.log_dir / "metrics.csv").dropna(subset=["test_acc"])
    assert test_rows["test_acc"].tolist() == pytest.approx([result.test_acc])
    # The progress line shows each finished epoch with that epoch's own metrics.
    assert len(recorder.lines) == 2 and recorder.lines[-1].startswith("epoch 2/2 · ")
    assert f"train_loss {table.loc[1, 'train_loss']:.4f}" in recorder.lines[-1]
    assert f"val_acc {table.loc[1, 'val_acc']:.4f}" in recorder.lines[-1]
    assert f"train_acc {table.loc[0, 'train_acc']:.4f}" in recorder.lines[0]


def test_same_seed_same_numbers(log_dir: Path) -> None:
    first = fit_and_test(SGDModule(num_epochs=2), log_dir=log_dir, run_name="a", progress=False)
    second = fit_and_test(SGDModule(num_epochs=2), log_dir=log_dir, run_name="b", progress=False)
    assert first.test_acc == second.test_acc
    assert first.metrics.equals(second.metrics)


def test_scheduler_is_stepped_per_epoch_as_logged(log_dir: Path) -> None:
    result = fit_and_test(WarmupCosineModule(num_epochs=5), log_dir=log_dir, progress=False, **FEW_BATCHES)
    expected = [warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=2, max_epochs=5) for e in range(5)]
    assert result.metrics["lr"].tolist() == pytest.approx(expected, abs=1e-8)  # logged as float32
    assert result.metrics["val_acc"].notna().all()


def test_logged_metrics_equal_a_direct_computation(log_dir: Path) -> None:
    """The epoch metrics (fed to torchmetrics once per epoch) are plain accuracy and mean loss."""
    import torch.nn.functional as F

    from helpers.data import make_course_splits

    module = SGDModule(num_epochs=1)
    result = fit_and_test(module, log_dir=log_dir, progress=False, **FEW_BATCHES)
    splits = make_course_splits()
    module.eval()
    with torch.no_grad():
        val_logits = module(splits.x_val[:64])  # limit_val_batches=2: the first 64 examples
        test_logits = module(splits.x_test[:64])
    val_acc = (val_logits.argmax(1) == splits.y_val[:64]).float().mean().item()
    assert result.metrics.loc[0, "val_acc"] == pytest.approx(val_acc)
    assert result.metrics.loc[0, "val_loss"] == pytest.approx(F.cross_entropy(val_logits, splits.y_val[:64]).item(),
                                                              rel=1e-5)
    assert result.test_acc == pytest.approx((test_logits.argmax(1) == splits.y_test[:64]).float().mean().item())


def test_an_interrupted_run_leaves_nothing_behind(log_dir: Path) -> None:
    """A run stopped mid-epoch (Ctrl+C in a notebook) must not leak into the next run's metrics."""

    class Interrupted(Exception):
        pass

    class StopAtStep2(SGDModule):
        stop = True
        flushed: ClassVar[list[int]] = []  # one module per test: a class-level list is fine

        def training_step(self, batch, batch_idx):
            if self.stop and batch_idx == 2:
                raise Interrupted
            return super().training_step(batch, batch_idx)

        def on_train_epoch_end(self) -> None:
            self.flushed.append(len(self._batches["train"]))
            super().on_train_epoch_end()

    module = StopAtStep2(num_epochs=1)
    with pytest.raises(Interrupted):
        fit_and_test(module, log_dir=log_dir, run_name="stopped", progress=False, **FEW_BATCHES)
    module.stop = False
    fit_and_test(module, log_dir=log_dir, run_name="again", progress=False, **FEW_BATCHES)
    assert module.flushed == [3]  # this epoch's 3 batches, not 2 + 3


def test_configure_optimizers_that_needs_the_trainer_still_trains(log_dir: Path) -> None:
    """The early blank check cannot run this one (no trainer yet); fit's own call does."""

    class OneCycle(ClassifierModule):
        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
            total = int(self.trainer.estimated_stepping_batches)  # finite here: the run has a set length
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=total)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    result = fit_and_test(OneCycle(num_epochs=2), log_dir=log_dir, progress=False, **FEW_BATCHES)
    assert list(result.metrics.index) == [0, 1]


def test_max_epochs_overrides_num_epochs(log_dir: Path) -> None:
    result = fit_and_test(SGDModule(num_epochs=50), max_epochs=1, log_dir=log_dir, progress=False, **FEW_BATCHES)
    assert list(result.metrics.index) == [0]


# --- progress line -------------------------------------------------------------------------

def fake_shell(class_name: str, base: type = object):
    return type(class_name, (base,), {})()


@pytest.mark.parametrize(
    "shell, expected",
    [
        (None, False),
        (fake_shell("TerminalInteractiveShell"), False),
        (fake_shell("ZMQInteractiveShell"), True),
        # Colab: google.colab._shell.Shell subclasses ZMQInteractiveShell.
        (fake_shell("Shell", type("ZMQInteractiveShell", (), {})), True),
    ],
)
def test_notebook_detection(monkeypatch, shell, expected) -> None:
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    assert progress._in_notebook() is expected


def test_progress_is_silent_in_a_non_tty_terminal(log_dir: Path, capsys) -> None:
    fit_and_test(SGDModule(num_epochs=1), log_dir=log_dir, **FEW_BATCHES)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_training_log_gets_one_line_per_training(log_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import json
    import os

    from helpers.training import TRAINING_LOG_ENV

    record = tmp_path / "trainings.jsonl"
    monkeypatch.setenv(TRAINING_LOG_ENV, str(record))
    first = fit_and_test(SGDModule(num_epochs=1), log_dir=log_dir, run_name="one", progress=False, **FEW_BATCHES)
    fit_and_test(SGDModule(num_epochs=2), log_dir=log_dir, run_name="two", progress=False, **FEW_BATCHES)
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(e["run"], e["epochs"], e["pid"]) for e in entries] == [("one", 1, os.getpid()), ("two", 2, os.getpid())]
    assert entries[0]["seconds"] == round(first.seconds, 3) and entries[0]["cpu_seconds"] > 0
    monkeypatch.delenv(TRAINING_LOG_ENV)
    fit_and_test(SGDModule(num_epochs=1), log_dir=log_dir, progress=False, **FEW_BATCHES)
    assert len(record.read_text().splitlines()) == 2  # unset: nothing written


def test_the_log_folder_is_named_once_per_notebook_kernel(log_dir: Path, monkeypatch, capsys) -> None:
    from helpers import training

    monkeypatch.setattr(training, "_announced_log_dirs", set())
    monkeypatch.setattr(training, "_in_notebook", lambda: True)
    monkeypatch.chdir(log_dir.parent)
    for _ in range(2):
        fit_and_test(SGDModule(num_epochs=1), progress=False, **FEW_BATCHES)
    out = capsys.readouterr().out
    assert out == ("Training logs (one metrics.csv per run) go to logs/ beside this notebook; "
                   "delete the folder whenever you like.\n")
    training.announce_log_dir(log_dir.parent / "elsewhere")  # an absolute folder: named, never its full path
    assert capsys.readouterr().out.startswith("Training logs (one metrics.csv per run) go to elsewhere/ (the log_dir "
                                              "given)")


class PerStepWarmupModule(ClassifierModule):
    """Notebook 01's per-step warmup: lengths in optimizer steps, ``"interval": "step"``."""

    def configure_optimizers(self):
        from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

        optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
        total = int(self.trainer.estimated_stepping_batches)
        scheduler = LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=total // 4, max_epochs=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1}}


def test_per_step_warmup_follows_pl_bolts_step_by_step_and_repeats_exactly(log_dir: Path) -> None:
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    from helpers.schedules import step_and_record

    batches = FewBatches(limit_train_batches=20, limit_val_batches=2, limit_test_batches=2, log_every_n_steps=1)
    runs = [fit_and_test(PerStepWarmupModule(num_epochs=3), log_dir=log_dir, progress=False,
                         **batches) for _ in range(2)]
    assert (runs[0].val_acc, runs[0].test_acc, runs[0].train_acc) == (runs[1].val_acc, runs[1].test_acc,
                                                                      runs[1].train_acc)
    pd.testing.assert_frame_equal(runs[0].metrics, runs[1].metrics)
    # the LR each epoch started with is pl_bolts' schedule stepped once per optimizer step (60 steps)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    expected = step_and_record(
        LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=15, max_epochs=60), optimizer, 3, steps_per_epoch=20,
            interval="step"
    )[::20]
    assert runs[0].metrics["lr"].to_numpy() == pytest.approx(expected, rel=1e-6, abs=1e-9)  # logged as float32
    assert expected[1] > 0  # not the per-epoch schedule (LR 0 through the first epoch)


def test_an_unwritable_training_log_does_not_stop_training(log_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from helpers.training import TRAINING_LOG_ENV

    monkeypatch.setenv(TRAINING_LOG_ENV, str(tmp_path / "missing-folder" / "trainings.jsonl"))
    result = fit_and_test(SGDModule(num_epochs=1), log_dir=log_dir, progress=False, **FEW_BATCHES)
    assert result.metrics.index.tolist() == [0]
