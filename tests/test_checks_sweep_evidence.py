"""Ex2's sweep judged from the runs' weights: a forged sweep table gains nothing.

One real 2-epoch sweep (4 weight decays, trained in worker processes as the notebook does) is
shared by the module; each attack is built from it the way a learner would, then goes through
the grader's path: evidence written by ``record_cell`` (JSON + ``.pt``), read back with
``weights_only=True``, judged in a grader context.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from helpers.checks.adamw import ChoiceEvidence, check_weight_decay_choice
from helpers.checks.context import JudgeContext
from helpers.checks.sweep_evidence import ACCURACY_TOLERANCE, ORDER_NAME, WEIGHTS_NAME, course_accuracy
from helpers.evidence import load_record, read_folder, record_cell
from helpers.evidence_codec import from_record
from helpers.sweep import WeightDecaySweep, sweep_weight_decay
from helpers.training import WEIGHTS_FILE, ClassifierModule, RunResult

VALUES = [0.01, 0.1, 0.3, 1.0]
SOURCE = "check_weight_decay_choice(choose_weight_decay, sweep_table)"
SEED = 4242


class SweepModel(ClassifierModule):
    def __init__(self, weight_decay: float, learning_rate: float = 0.005, num_epochs: int = 2) -> None:
        super().__init__(learning_rate=learning_rate, num_epochs=num_epochs)
        self.weight_decay = weight_decay

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def choose_weight_decay(sweep_table: pd.DataFrame) -> float:
    return float(sweep_table["val_acc"].idxmax())


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> WeightDecaySweep:
    logs = tmp_path_factory.mktemp("logs")
    return sweep_weight_decay(SweepModel, VALUES, run_name="t", log_dir=str(logs), progress=False)


def _graded(namespace: dict[str, Any], folder: Path) -> Any:
    """The grader's verdict: evidence recorded as in the graded copy, judged from the files."""
    record_cell("ex2-hidden", SOURCE, namespace, {"seed": SEED}, fallback_dir=str(folder))
    [call] = load_record(read_folder(folder), "ex2-hidden")
    assert "raised" not in call, call
    evidence = from_record(ChoiceEvidence, call, _side_file)
    return check_weight_decay_choice.judge(evidence, JudgeContext(grader=True, quick=4, seed=SEED))


def _side_file(kind: type, value: object) -> object:
    """Weights the loader already read (``weights_only=True``) from their own ``.pt`` file."""
    assert isinstance(value, kind), value
    return value


def _namespace(sweep: WeightDecaySweep, table: pd.DataFrame) -> dict[str, Any]:
    return {"sweep": sweep, "sweep_table": table, "choose_weight_decay": choose_weight_decay,
            "check_weight_decay_choice": check_weight_decay_choice}


def _failed(report: Any) -> dict[str, str]:
    return {c.name: c.hint for c in report.failed()}


def _relabelled(sweep: WeightDecaySweep, tmp: Path, source_of: Callable[[float], float]) -> WeightDecaySweep:
    """A sweep whose run for weight decay ``wd`` is a copy of the real run of ``source_of(wd)``."""
    runs = {}
    for wd in VALUES:
        real = sweep.runs[source_of(wd)]
        copy = tmp / f"run_{wd:g}"
        shutil.copytree(real.log_dir, copy)
        runs[wd] = RunResult(real.test_acc, real.val_acc, real.train_acc, real.seconds, copy)
    return WeightDecaySweep(runs=runs)


def test_weights_are_written_by_worker_runs_and_give_the_tables_accuracies(sweep: WeightDecaySweep) -> None:
    for run in sweep.runs.values():
        weights = torch.load(run.log_dir / WEIGHTS_FILE, weights_only=True)
        assert (run.log_dir / WEIGHTS_FILE).stat().st_size < 200_000
        assert abs(course_accuracy(weights, "val") - run.val_acc) <= ACCURACY_TOLERANCE / 4
        assert abs(course_accuracy(weights, "test") - run.test_acc) <= ACCURACY_TOLERANCE / 4


def test_the_real_sweep_passes(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    report = _graded(_namespace(sweep, sweep.table), tmp_path)
    assert report.passed, report.text()
    assert [c.passed for c in report.criteria[:2]] == [True, True]
    assert report.criteria[0].name == WEIGHTS_NAME and report.criteria[1].name == ORDER_NAME


def test_forged_table_fails(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    """A table typed in (one row made the best) is not what the weights give."""
    table = sweep.table.copy()
    table.loc[0.3, "val_acc"] = 0.95
    report = _graded(_namespace(sweep, table), tmp_path)
    assert list(_failed(report)) == [WEIGHTS_NAME]
    assert "the table gives val_acc 0.9500 for weight decay 0.3" in _failed(report)[WEIGHTS_NAME]


def test_table_with_test_accuracy_in_the_validation_column_fails(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    table = sweep.table.copy()
    table["val_acc"] = table["test_acc"]
    report = _graded(_namespace(sweep, table), tmp_path)
    assert list(_failed(report)) == [WEIGHTS_NAME] and "val_acc" in _failed(report)[WEIGHTS_NAME]


def test_swapped_rows_fail(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    """Rows of the table swapped: the claimed accuracies are not those rows' weights'."""
    table = sweep.table.copy()
    table.index = pd.Index(list(reversed(VALUES)), name="weight_decay")
    report = _graded(_namespace(sweep, table.sort_index()), tmp_path)
    assert list(_failed(report)) == [WEIGHTS_NAME]


def test_swapped_runs_with_a_consistent_table_fail(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    """Runs relabelled (and the table built from them, so every accuracy matches its weights):
    the weights do not belong to their weight decays."""
    mapping = dict(zip(VALUES, reversed(VALUES), strict=True))
    forged = _relabelled(sweep, tmp_path, mapping.__getitem__)
    report = _graded(_namespace(forged, forged.table), tmp_path / "evidence")
    assert report.criteria[0].passed is True
    assert list(_failed(report)) == [ORDER_NAME]


def test_one_run_copied_to_every_row_fails(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    """The cheap forgery: train once, claim a sweep (accuracies consistent with the copied weights)."""
    forged = _relabelled(sweep, tmp_path, lambda wd: 0.1)
    report = _graded(_namespace(forged, forged.table), tmp_path / "evidence")
    assert list(_failed(report)) == [ORDER_NAME]
    assert "are not smaller than those for" in _failed(report)[ORDER_NAME]


def test_weights_that_are_not_the_course_model_fail(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    forged = _relabelled(sweep, tmp_path, lambda wd: wd)
    torch.save({"model.all_layers.0.weight": torch.zeros(3, 3)}, forged.runs[0.3].log_dir / WEIGHTS_FILE)
    report = _graded(_namespace(forged, sweep.table), tmp_path / "evidence")
    assert list(_failed(report)) == [WEIGHTS_NAME] and "not the course MLP's weights" in _failed(report)[WEIGHTS_NAME]


def test_a_table_without_sweep_runs_fails_in_grading(sweep: WeightDecaySweep, tmp_path: Path) -> None:
    namespace = _namespace(sweep, sweep.table)
    del namespace["sweep"]
    report = _graded(namespace, tmp_path)
    assert list(_failed(report)) == [WEIGHTS_NAME]
    assert "no sweep_weight_decay(...) result" in _failed(report)[WEIGHTS_NAME]
    missing = _relabelled(sweep, tmp_path / "runs", lambda wd: wd)
    (missing.runs[1.0].log_dir / WEIGHTS_FILE).unlink()
    report = _graded(_namespace(missing, missing.table), tmp_path / "evidence")
    assert "no trained weights were found for weight decay 1" in _failed(report)[WEIGHTS_NAME]
