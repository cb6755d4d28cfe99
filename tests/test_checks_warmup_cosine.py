"""Every mistake the Exercise-1 self-checks know about, fed to them, with the hint they must give."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR
from solution_cells import run_cells
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR

import helpers  # noqa: F401 - before pl_bolts, so its "under review" warnings stay quiet
from helpers.checks.context import JudgeContext, draw_probes
from helpers.checks.course_weights import course_accuracy
from helpers.checks.report import CheckReport, Criterion
from helpers.checks.warmup_cosine import (
    check_configure_optimizers,
    check_native_schedule,
    check_training_result,
    check_warmup_schedule,
)
from helpers.checks.warmup_cosine_evidence import TrainingEvidence
from helpers.evidence import load_record, read_folder, record_cell
from helpers.evidence_codec import EvidenceError, Tensors, from_record
from helpers.schedules import warmup_cosine_lr
from helpers.settings import QUICK_EPOCHS_ENV
from helpers.training import ClassifierModule, RunResult, fit_and_test
from kit.grade import rows as R
from kit.grade import verdicts as V
from kit.grade.registry import Check as CheckCell


def bolts(optimizer, warmup, total, **kwargs):
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=warmup, max_epochs=total, **kwargs)


# The solution notebook's own answers to the two scheduler blanks.
_SOLUTION = run_cells("01_warmup_cosine.ipynb", "ex1-imports", "ex1-blank-scheduler", "ex1-blank-native")
good = _SOLUTION["make_warmup_scheduler"]
lambda_native = _SOLUTION["make_native_scheduler"]


def line(report: CheckReport, name_part: str):
    """The criterion whose name contains ``name_part`` (exactly one must)."""
    found = [c for c in report.criteria if name_part in c.name]
    assert len(found) == 1, f"{name_part!r} matches {[c.name for c in report.criteria]}"
    return found[0]


def failed_with(report: CheckReport, name_part: str, hint_part: str) -> None:
    criterion = line(report, name_part)
    assert criterion.passed is False, report.text()
    assert hint_part in criterion.hint, criterion.hint


# --------------------------------------------------------------------------- check_warmup_schedule


@pytest.mark.parametrize("factory", [good, lambda_native], ids=["pl_bolts", "LambdaLR"])
@pytest.mark.parametrize("num_epochs", [100, 50, 8])
def test_right_schedules_pass(factory, num_epochs):
    report = check_warmup_schedule.evaluate(factory, num_epochs=num_epochs)
    assert report.passed and not report.failed(), report.text()
    assert len(report.criteria) == 10
    assert "well done" in report.text()


def test_unfilled_blank_is_reported_not_raised():
    def blank(optimizer, num_epochs):
        raise NotImplementedError("build LinearWarmupCosineAnnealingLR")

    report = check_warmup_schedule.evaluate(blank)
    failed_with(report, "builds a scheduler", "blank not filled yet: build LinearWarmupCosineAnnealingLR")


def test_returning_nothing():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: None)
    failed_with(report, "builds a scheduler", "return scheduler")


def test_scheduler_on_another_optimizer():
    other = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    report = check_warmup_schedule.evaluate(lambda optimizer, n: good(other, n))
    failed_with(report, "builds a scheduler", "built on the optimizer it was given")


def test_lr_stuck_at_zero():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: LambdaLR(optimizer, lambda e: 0.0))
    failed_with(report, "LR leaves 0", "never leaves warmup_start_lr")


def test_pl_bolts_zero_warmup_freezes_lr():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 0, n))
    failed_with(report, "LR leaves 0", "warmup_epochs=0 with warmup_start_lr=0 freezes the LR at 0")


def test_first_blank_skipped_plain_cosine():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: CosineAnnealingLR(optimizer, T_max=n))
    failed_with(report, "warmup starts at LR 0", "plain CosineAnnealingLR")


def test_no_warmup_start_at_base():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 25, n, warmup_start_lr=0.1))
    failed_with(report, "warmup starts at LR 0", "no warmup: epoch 0 already runs at the base LR")


def test_warmup_not_from_zero():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 25, n, warmup_start_lr=0.01))
    failed_with(report, "warmup starts at LR 0", "warmup_start_lr=0.0")


def test_warmup_longer_than_training():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 150, 200))
    failed_with(report, "warmup ends", "warmup longer than training")
    assert "warmup_epochs=150" in line(report, "warmup ends").hint


def test_warmup_as_long_as_training():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, n, n))
    failed_with(report, "warmup ends", "warmup longer than training")


def test_warmup_too_short():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 10, n))
    failed_with(report, "warmup ends", "warmup_epochs=int(0.25 * num_epochs) = 25")


def test_warmup_not_linear():
    def quadratic(optimizer, n):
        w = 25
        return LambdaLR(
            optimizer,
            lambda e: (e / (w - 1)) ** 2 if e < w else 0.5 * (1 + math.cos(math.pi * (e - w) / (n - w))),
        )

    report = check_warmup_schedule.evaluate(quadratic)
    failed_with(report, "rises linearly", "same amount every warmup epoch")


def test_peak_below_base_lr():
    report = check_warmup_schedule.evaluate(
        lambda optimizer, n: LambdaLR(optimizer, lambda e: 0.5 * lambda_factor(e, n)))
    failed_with(report, "peak LR equals", "only reaches 0.05")


def lambda_factor(epoch: int, num_epochs: int) -> float:
    return warmup_cosine_lr(epoch, base_lr=1.0, warmup_epochs=int(0.25 * num_epochs), max_epochs=num_epochs)


@pytest.mark.parametrize(
    "num_epochs, warmup", [(100, 0.14 * 100), (50, 50 / 4)], ids=["14.000000000000002", "12.5"]
)
def test_non_whole_float_warmup_overshoots(num_epochs, warmup):
    assert not float(warmup).is_integer()
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, warmup, n), num_epochs=num_epochs)
    failed_with(report, "peak LR equals", "is not a whole number")
    assert "overshoots" in line(report, "peak LR equals").hint


def test_decay_does_not_reach_zero():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, int(0.25 * n), 2 * n))
    failed_with(report, "reaches ≈0", "max_epochs=200")


@pytest.mark.parametrize("num_epochs, hard_coded", [(100, 30), (50, 40)])
def test_training_past_max_epochs_rises_again(num_epochs, hard_coded):
    factory = lambda optimizer, n: bolts(optimizer, int(0.25 * hard_coded), hard_coded)  # noqa: E731
    report = check_warmup_schedule.evaluate(factory, num_epochs=num_epochs)
    failed_with(report, "never rises again", f"max_epochs={hard_coded}")


def test_max_epochs_equal_warmup_explained_not_raised():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 25, 25))
    failed_with(report, "builds a scheduler", "max_epochs equals warmup_epochs (25)")
    assert "ZeroDivisionError" in line(report, "builds a scheduler").hint


def test_lengths_hard_coded_for_100_epochs():
    report = check_warmup_schedule.evaluate(lambda optimizer, n: bolts(optimizer, 25, 100), num_epochs=100)
    assert [c.name for c in report.failed()] == ["lengths follow num_epochs"]
    assert "num_epochs argument" in report.failed()[0].hint


def test_too_few_epochs_is_not_judged():
    report = check_warmup_schedule.evaluate(good, num_epochs=3)
    assert line(report, "shape").passed is None
    assert "not checked" in report.text()


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0.1,), TypeError, "pass your function itself"),
        ((LinearWarmupCosineAnnealingLR,), TypeError, "pass your function itself"),
        ((good, "100"), TypeError, "num_epochs must be a whole number"),
        ((good, 0), ValueError, "at least 1"),
        ((good, 100, -0.1), ValueError, "base_lr must be positive"),
        ((good, 100, "0.1"), TypeError, "base_lr must be a number"),
    ],
)
def test_misuse_raises(args, error, message):
    with pytest.raises(error, match=message):
        check_warmup_schedule.evaluate(*args)


def test_check_prints_the_report(capsys):
    from helpers.checks.warmup_cosine import check_warmup_schedule

    check_warmup_schedule(good, num_epochs=100)  # returns None (Check.__call__ is typed so)
    out = capsys.readouterr().out
    assert out.startswith("Check: make_warmup_scheduler")
    assert "10/10 passed" in out


# --------------------------------------------------------------------------- check_configure_optimizers


def module_class(make_config):
    """A ClassifierModule whose configure_optimizers is ``make_config(self, optimizer)``."""

    class LightningModel(ClassifierModule):
        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
            return make_config(self, optimizer)

    return LightningModel


def as_dict(scheduler, interval="epoch", frequency=1, optimizer=None):
    return {
        "optimizer": optimizer if optimizer is not None else scheduler.optimizer,
        "lr_scheduler": {"scheduler": scheduler, "interval": interval, "frequency": frequency},
    }


PER_EPOCH = module_class(lambda self, opt: as_dict(good(opt, self.num_epochs)))
PER_STEP = module_class(lambda self, opt: as_dict(good(opt, self.trainer.estimated_stepping_batches), "step"))


@pytest.mark.parametrize(
    "model",
    [PER_EPOCH, PER_EPOCH(num_epochs=50), PER_STEP],
    ids=["per-epoch class", "per-epoch instance", "per-step class"],
)
def test_right_configure_optimizers_pass(model):
    report = check_configure_optimizers.evaluate(model)
    assert report.passed and not report.failed(), report.text()
    assert line(report, "follows self.num_epochs").passed


def test_num_epochs_argument_builds_that_length():
    report = check_configure_optimizers.evaluate(PER_EPOCH, num_epochs=60)
    assert "steps through 60 epochs" in report.text()


def test_configure_optimizers_blank_unfilled():
    def blank(self, optimizer):
        raise NotImplementedError("return the optimizer and the scheduler dict")

    report = check_configure_optimizers.evaluate(module_class(blank))
    failed_with(report, "configure_optimizers runs", "blank not filled yet: return the optimizer")


def test_only_an_optimizer():
    report = check_configure_optimizers.evaluate(module_class(lambda self, opt: opt))
    failed_with(report, "optimizer and a scheduler", "only an optimizer")


def test_dict_without_scheduler():
    report = check_configure_optimizers.evaluate(module_class(lambda self, opt: {"optimizer": opt}))
    failed_with(report, "optimizer and a scheduler", "no 'lr_scheduler'")


def test_bare_scheduler_instead_of_dict():
    model = module_class(lambda self, opt: {"optimizer": opt, "lr_scheduler": good(opt, self.num_epochs)})
    failed_with(check_configure_optimizers.evaluate(model), "scheduler dict", "bare scheduler")


def test_lists_form_instead_of_dict():
    model = module_class(lambda self, opt: ([opt], [good(opt, self.num_epochs)]))
    failed_with(check_configure_optimizers.evaluate(model), "scheduler dict", "hides the interval")


def test_scheduler_dict_without_scheduler_key():
    model = module_class(lambda self, opt: {"optimizer": opt, "lr_scheduler": {"interval": "epoch"}})
    failed_with(check_configure_optimizers.evaluate(model), "scheduler dict", "key 'scheduler'")


def test_wrong_interval_name():
    model = module_class(lambda self, opt: as_dict(good(opt, self.num_epochs), interval="epochs"))
    failed_with(check_configure_optimizers.evaluate(model), "interval is", "interval='epochs'")


def test_frequency_not_one():
    model = module_class(lambda self, opt: as_dict(good(opt, self.num_epochs), frequency=2))
    failed_with(check_configure_optimizers.evaluate(model), "frequency", "every 2 intervals")


def test_per_step_interval_with_epoch_lengths():
    model = module_class(lambda self, opt: as_dict(good(opt, self.num_epochs), interval="step"))
    report = check_configure_optimizers.evaluate(model)
    failed_with(report, "lengths match the interval", "lengths count epochs")


def test_per_epoch_interval_with_step_lengths():
    model = module_class(lambda self, opt: as_dict(good(opt, self.trainer.estimated_stepping_batches)))
    report = check_configure_optimizers.evaluate(model)
    failed_with(report, "lengths match the interval", "counts optimizer steps")


@pytest.mark.parametrize("num_epochs, hard_coded", [(50, 30), (50, 40), (100, 30)])
def test_max_epochs_hard_coded_shorter_than_training(num_epochs, hard_coded):
    model = module_class(lambda self, opt: as_dict(bolts(opt, int(0.25 * self.num_epochs), hard_coded)))
    report = check_configure_optimizers.evaluate(model(num_epochs=num_epochs))
    failed_with(report, "never rises again", f"max_epochs={hard_coded}")
    assert "self.num_epochs" in line(report, "never rises again").hint


def test_max_epochs_hard_coded_to_the_training_length():
    model = module_class(lambda self, opt: as_dict(bolts(opt, 25, 100)))
    report = check_configure_optimizers.evaluate(model(num_epochs=100))
    assert [c.name for c in report.failed()] == ["max_epochs follows self.num_epochs"]


def test_optimizer_ignores_learning_rate():
    def config(self, optimizer):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.05)
        return as_dict(good(optimizer, self.num_epochs))

    failed_with(check_configure_optimizers.evaluate(module_class(config)), "self.learning_rate",
                "lr=self.learning_rate")


def test_scheduler_on_other_optimizer():
    def config(self, optimizer):
        other = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
        return as_dict(good(other, self.num_epochs), optimizer=optimizer)

    failed_with(check_configure_optimizers.evaluate(module_class(config)), "wraps the returned optimizer",
                "same optimizer")


def test_plain_cosine_in_configure_optimizers():
    model = module_class(lambda self, opt: as_dict(CosineAnnealingLR(opt, T_max=self.num_epochs)))
    failed_with(check_configure_optimizers.evaluate(model), "warmup starts at LR 0", "plain CosineAnnealingLR")


def test_zero_division_in_configure_optimizers_explained():
    model = module_class(lambda self, opt: as_dict(bolts(opt, 25, 25)))
    failed_with(check_configure_optimizers.evaluate(model), "steps through", "ZeroDivisionError")


def test_check_leaves_the_learner_model_and_rng_alone():
    model = PER_EPOCH(num_epochs=50)
    weights = [p.detach().clone() for p in model.parameters()]
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    check_configure_optimizers.evaluate(PER_EPOCH)
    check_configure_optimizers.evaluate(model)
    assert torch.equal(torch.rand(3), expected)
    assert model.num_epochs == 50 and model.hparams["num_epochs"] == 50
    with pytest.raises(RuntimeError, match="not attached to a `Trainer`"):  # the stand-in trainer is gone
        model.trainer  # noqa: B018
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))


@pytest.mark.parametrize("bad",
                         [0.1, "LightningModel", lambda: None, torch.nn.Linear(2, 2),
                          ClassifierModule.configure_optimizers])
def test_configure_optimizers_misuse_raises(bad):
    with pytest.raises(TypeError, match="pass your LightningModule class"):
        check_configure_optimizers.evaluate(bad)


# --------------------------------------------------------------------------- check_native_schedule


def sequential(optimizer, num_epochs, total_iters_offset=-1):
    w = int(0.25 * num_epochs)
    return SequentialLR(
        optimizer,
        [
            LinearLR(optimizer, start_factor=1e-12, end_factor=1.0, total_iters=w + total_iters_offset),
            CosineAnnealingLR(optimizer, T_max=num_epochs - w),
        ],
        milestones=[w],
    )


@pytest.mark.parametrize("factory", [lambda_native, sequential], ids=["LambdaLR", "SequentialLR"])
def test_native_equivalents_pass(factory):
    report = check_native_schedule.evaluate(factory, num_epochs=100)
    assert report.passed and not report.failed(), report.text()


def test_native_without_the_w_minus_1_division():
    report = check_native_schedule.evaluate(lambda opt, n: sequential(opt, n, total_iters_offset=0))
    failed_with(report, "equals pl_bolts", "W-1 = 24")


def test_native_start_factor_too_large():
    def coarse(optimizer, n):
        w = int(0.25 * n)
        first = LinearLR(optimizer, start_factor=1e-3, total_iters=w - 1)
        return SequentialLR(optimizer, [first, CosineAnnealingLR(optimizer, T_max=n - w)], milestones=[w])

    failed_with(check_native_schedule.evaluate(coarse), "equals pl_bolts", "epoch 0")


def test_native_that_is_pl_bolts():
    failed_with(check_native_schedule.evaluate(good), "uses torch alone", "pl_bolts")


def test_native_blank_unfilled():
    def blank(optimizer, n):
        raise NotImplementedError("compose LinearLR and CosineAnnealingLR")

    failed_with(check_native_schedule.evaluate(blank), "builds a scheduler", "blank not filled yet")


def test_native_misuse_raises():
    with pytest.raises(TypeError, match="pass your function itself"):
        check_native_schedule.evaluate(100)


# --------------------------------------------------------------------------- check_training_result


def fake_run(tmp_path: Path, lrs: np.ndarray, test_acc: float = 0.889) -> RunResult:
    """A RunResult whose metrics.csv is laid out as Lightning's CSVLogger writes it (train and val rows)."""
    rows = []
    for epoch, lr in enumerate(lrs):
        step = 450 * (epoch + 1) - 1
        rows.append({"epoch": epoch, "step": step, "val_loss": 0.3, "val_acc": 0.88})
        rows.append({"epoch": epoch, "step": step, "lr": float(np.float32(lr)), "train_loss": 0.3, "train_acc": 0.9})
    folder = tmp_path / "logs" / "run" / "version_0"
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "metrics.csv", index=False)
    return RunResult(test_acc=test_acc, val_acc=0.88, train_acc=0.9, seconds=30.0, log_dir=folder)


def warmup_lrs(num_epochs: int) -> np.ndarray:
    w = int(0.25 * num_epochs)
    return np.array([warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=w,
                                      max_epochs=num_epochs) for e in range(num_epochs)])


@pytest.fixture
def course_mode(monkeypatch):
    monkeypatch.delenv(QUICK_EPOCHS_ENV, raising=False)


def test_good_run_passes(tmp_path, course_mode):
    report = check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(100)), 100)
    assert report.passed and not report.failed(), report.text()
    assert "✓ test accuracy ≥ 0.885" in report.text()


def test_per_step_run_passes(tmp_path, course_mode):
    steps = np.array([warmup_cosine_lr(s, base_lr=0.1, warmup_epochs=11250, max_epochs=45000) for s in range(0, 45000,
        450)])
    report = check_training_result.evaluate(fake_run(tmp_path, steps), 100)
    assert report.passed and not report.failed(), report.text()


def test_accuracy_below_threshold(tmp_path, course_mode):
    report = check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(100), test_acc=0.87), 100)
    failed_with(report, "test accuracy", "0.8700")


def test_num_epochs_changed(tmp_path, course_mode):
    report = check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(50)), 50)
    failed_with(report, "num_epochs is the course's 100", "num_epochs is 50")


def test_num_epochs_not_judged_in_quick_mode(tmp_path, monkeypatch):
    monkeypatch.setenv(QUICK_EPOCHS_ENV, "10")
    report = check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(10), test_acc=0.5), 10)
    assert report.passed, report.text()
    assert line(report, "num_epochs is the course's").passed is None
    assert line(report, "test accuracy").passed is None
    assert "(not checked: quick mode" in report.text()


def test_no_threshold_skips_accuracy(tmp_path, course_mode):
    report = check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(100), test_acc=0.5), 100, threshold=None)
    assert report.passed, report.text()
    assert line(report, "test accuracy").passed is None


def test_run_shorter_than_num_epochs(tmp_path, course_mode):
    report = check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(100)[:60]), 100)
    failed_with(report, "trained for all 100 epochs", "interrupted")


def test_logged_lr_without_warmup(tmp_path, course_mode):
    cosine = 0.05 * (1 + np.cos(np.pi * np.arange(100) / 100))
    report = check_training_result.evaluate(fake_run(tmp_path, cosine), 100)
    failed_with(report, "logged LR", "warmup starts at LR 0")


def test_logged_lr_rising_again(tmp_path, course_mode):
    lrs = np.array([warmup_cosine_lr(min(e, 39), base_lr=0.1, warmup_epochs=25, max_epochs=40) for e in range(100)])
    lrs[45:] = np.linspace(0.0, 0.05, 55)
    failed_with(check_training_result.evaluate(fake_run(tmp_path, lrs), 100), "logged LR", "rises again")


def test_missing_log(tmp_path, course_mode):
    run = RunResult(test_acc=0.89, val_acc=0.88, train_acc=0.9, seconds=1.0, log_dir=tmp_path / "nowhere")
    failed_with(check_training_result.evaluate(run, 100), "log can be read", "run the training cell again")


@pytest.mark.parametrize("bad, error", [(0.889, TypeError), ({"test_acc": 0.889}, TypeError)])
def test_training_result_misuse(bad, error):
    with pytest.raises(error, match="RunResult"):
        check_training_result.evaluate(bad, 100)


def test_training_result_threshold_misuse(tmp_path):
    with pytest.raises(TypeError, match="threshold must be a number"):
        check_training_result.evaluate(fake_run(tmp_path, warmup_lrs(100)), 100, threshold="0.885")


@pytest.mark.parametrize("num_epochs", [2, 4])
def test_per_step_model_passes_in_short_quick_runs(num_epochs):
    """A grader's quick mode trains 2 epochs: per-step lengths (225 steps of warmup) must still
    count as steps."""
    report = check_configure_optimizers.evaluate(PER_STEP, num_epochs=num_epochs)
    assert report.passed, report.text()
    assert line(report, "lengths match the interval").passed


def test_epoch_lengths_stepped_per_step_caught_in_a_4_epoch_run():
    # At 2 epochs pl_bolts' warmup is int(0.5) = 0 steps and its curve degenerates; from 4 on it is caught.
    wrong = module_class(lambda self, opt: as_dict(good(opt, self.num_epochs), interval="step"))
    failed_with(check_configure_optimizers.evaluate(wrong, num_epochs=4), "lengths match the interval",
                "lengths count epochs")


# --------------------------------------------------------------------------- evidence through files, and forged


GRADER = JudgeContext(draw_probes(7), grader=True)
CALLS = {
    "check_warmup_schedule": "check_warmup_schedule(make_scheduler, num_epochs=num_epochs, base_lr=0.1)",
    "check_native_schedule": "check_native_schedule(make_scheduler, num_epochs=num_epochs, base_lr=0.1)",
    "check_configure_optimizers": "check_configure_optimizers(Model, num_epochs=num_epochs)",
}


def _written(tmp_path: Path, name: str, **namespace: object) -> dict[str, bytes]:
    record_cell("c1", CALLS[name], {"num_epochs": 100, **namespace}, V.collect_options(7), fallback_dir=str(tmp_path))
    return read_folder(tmp_path)


def _side_file(kind: type, value: object) -> object:
    if isinstance(value, kind):
        return value
    raise EvidenceError(f"a {kind.__name__} must come from its own evidence file")


def _verdict(files: dict[str, bytes], name: str) -> V.Verdict:
    cell = nbformat.v4.new_code_cell(CALLS[name])
    verdict = V.judge_evidence(CheckCell(id="c1", position=0, hidden=False, points=1, needs_training=False, cell=cell),
                               [name], files, GRADER)
    assert verdict is not None
    return verdict


@pytest.mark.parametrize("name, namespace", [
    ("check_warmup_schedule", {"make_scheduler": good}),
    ("check_warmup_schedule", {"make_scheduler": lambda optimizer, n: bolts(optimizer, 0.25 * n, n)}),
    ("check_warmup_schedule", {"make_scheduler": lambda optimizer, n: None}),
    ("check_native_schedule", {"make_scheduler": sequential}),
    ("check_native_schedule", {"make_scheduler": lambda opt, n: sequential(opt, n, total_iters_offset=0)}),
    ("check_configure_optimizers", {"Model": PER_STEP}),
    ("check_configure_optimizers", {"Model": module_class(lambda self, opt: ([opt], [good(opt, self.num_epochs)]))}),
    ("check_configure_optimizers", {"Model": module_class(lambda self, opt: as_dict(bolts(opt, 25, 100)))}),
], ids=["warmup", "float-warmup", "none", "native", "native-over-w", "per-step", "lists", "hard-coded"])
def test_evidence_through_files_is_judged_as_in_the_kernel(tmp_path: Path, name: str,
                                                           namespace: dict[str, object]) -> None:
    from helpers.checks.registry import JUDGED

    check = JUDGED[name]
    [call] = load_record(_written(tmp_path, name, **namespace), "c1")
    assert check.evidence is not None
    loaded = from_record(check.evidence, call, _side_file)
    options = {"base_lr": 0.1} if "Model" not in namespace else {}
    kernel = check.collect(*namespace.values(), num_epochs=100, **options, probes=draw_probes(7))
    assert check.judge(loaded, GRADER).text() == check.judge(kernel, GRADER).text()


def _forge(files: dict[str, bytes], change: Callable[[dict], None]) -> dict[str, bytes]:
    record = json.loads(files["c1.json"])
    change(record["calls"][0]["data"])
    return {**files, "c1.json": json.dumps(record).encode()}


def _other_array(files: dict[str, bytes], run: dict, values: np.ndarray) -> None:
    name = run["lr"]["__npy__"]
    buffer = io.BytesIO()
    np.save(buffer, values)
    files[name] = buffer.getvalue()


@pytest.mark.parametrize("change, message", [
    (lambda data: data["runs"].pop("100"), "no LR was recorded for this length"),
    (lambda data: data["runs"]["100"].update(steps_per_epoch=2), "the LR recorded for 100 epochs is incomplete"),
    (lambda data: data["runs"]["100"].update(error=7), "should be str"),
    (lambda data: data["runs"].update(hundred=data["runs"]["100"]), "not a whole number"),
    (lambda data: data["runs"]["100"]["scheduler"].update(warmup_epochs="25"), "has none of its allowed types"),
    (lambda data: data.update(extra=1), "unknown fields: extra"),
    (lambda data: data.pop("base_lr"), "lacks the field 'base_lr'"),
    (lambda data: data["runs"]["100"].update(lr=[0.1] * 100), "must come from its own evidence file"),
], ids=["missing-run", "wrong-length", "error-number", "key", "warmup-text", "extra", "missing", "inline-lr"])
def test_forged_schedule_evidence_fails_with_a_message(tmp_path: Path, change: Callable[[dict], None],
                                                       message: str) -> None:
    verdict = _verdict(_forge(_written(tmp_path, "check_warmup_schedule", make_scheduler=good), change),
                       "check_warmup_schedule")
    assert verdict.status == R.FAILED and message in verdict.message, verdict


def test_non_finite_or_short_lr_arrays_cannot_pass(tmp_path: Path) -> None:
    files = _written(tmp_path, "check_warmup_schedule", make_scheduler=good)
    run = json.loads(files["c1.json"])["calls"][0]["data"]["runs"]["100"]
    for values, message in [(np.full(100, np.nan), "incomplete"), (np.zeros(50), "incomplete")]:
        forged = dict(files)
        _other_array(forged, run, values)
        verdict = _verdict(forged, "check_warmup_schedule")
        assert verdict.status == R.FAILED and message in verdict.message, verdict


def test_forged_configure_evidence_fails(tmp_path: Path) -> None:
    files = _written(tmp_path, "check_configure_optimizers", Model=PER_EPOCH)
    assert _verdict(files, "check_configure_optimizers").status == R.PASSED
    unrecorded = _forge(files, lambda data: data["runs"]["100"].update(run=None))
    verdict = _verdict(unrecorded, "check_configure_optimizers")
    assert verdict.status == R.FAILED and "not recorded as Lightning steps" in verdict.message
    stage = _forge(files, lambda data: data["runs"]["100"].update(failed="trust me"))
    assert "not one of" in _verdict(stage, "check_configure_optimizers").message


def test_training_is_judged_on_the_saved_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(QUICK_EPOCHS_ENV, raising=False)

    class Model(ClassifierModule):
        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.learning_rate)

    model = Model(num_epochs=1)
    result = fit_and_test(model, log_dir=tmp_path / "logs", progress=False)
    data = check_training_result.collect(result, 1, threshold=0.6, namespace={"model": model})
    assert data.weights is not None
    weights = dict(data.weights)
    assert course_accuracy(weights, "test") == pytest.approx(result.test_acc, abs=1e-6)  # the grader's own measure

    def judged(evidence: TrainingEvidence) -> dict[str, Criterion]:
        return {c.name: c for c in check_training_result.judge(evidence, JudgeContext(grader=True)).criteria}

    assert judged(data)["test accuracy ≥ 0.6"].passed is True
    zeroed = Tensors({k: torch.zeros_like(v) for k, v in weights.items()})  # forged weights claim nothing useful
    forged = dataclasses.replace(data, weights=zeroed, reported_test_acc=0.99)
    assert judged(forged)["test accuracy ≥ 0.6"].passed is False
    other = dataclasses.replace(data, weights=Tensors({"model.x": torch.ones(3)}))
    assert "not the course MLP" in judged(other)["test accuracy ≥ 0.6"].hint
    lost = judged(dataclasses.replace(data, weights=None))["test accuracy ≥ 0.6"]  # the reported number is not trusted
    assert "trained model was not found" in lost.hint
    # In the notebook the judge gets the collector's evidence as it is (weights still wrapped in Tensors).
    learner = {c.name: c for c in check_training_result.judge(data, JudgeContext()).criteria}
    assert learner["test accuracy ≥ 0.6"].passed is True, learner["test accuracy ≥ 0.6"].hint
