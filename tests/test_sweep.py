"""helpers.sweep and helpers.comparison: seeded runs, the sweep table, and the comparison plots.

Runs here train one or two epochs only: the tests check the plumbing, not the accuracy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
import torch

from helpers.comparison import accuracy_panels, sweep_plot
from helpers.sweep import SWEEP_COLUMNS, WeightDecaySweep, sweep_weight_decay, train_seeded
from helpers.training import ClassifierModule

# Lightning 2.6's own use of a deprecated torch pytree API (helpers.quiet filters it in notebooks).
pytestmark = pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated")


class AdamWModel(ClassifierModule):
    def __init__(self, weight_decay: float, num_epochs: int = 2) -> None:
        super().__init__(learning_rate=0.005, num_epochs=num_epochs)
        self.weight_decay = weight_decay
        self.initial_weights = next(self.model.parameters()).detach().clone()  # the first layer's weight

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> WeightDecaySweep:
    logs = tmp_path_factory.mktemp("sweep") / "logs"
    return sweep_weight_decay(AdamWModel, [1.0, 0.01], log_dir=logs, progress=False)


def test_table_has_one_sorted_row_per_weight_decay(sweep: WeightDecaySweep) -> None:
    table = sweep.table
    assert list(table.index) == [0.01, 1.0] and table.index.name == "weight_decay"
    assert tuple(table.columns) == SWEEP_COLUMNS
    assert (table["epochs"] == 2).all()
    for weight_decay, run in sweep.runs.items():
        row = table.loc[weight_decay]
        assert row["val_acc"] == run.val_acc and row["test_acc"] == run.test_acc
        assert row["gap"] == pytest.approx(run.train_acc - run.val_acc)
        assert 0.5 < run.val_acc <= 1.0
    # side by side the wall time covers the longest run; the trainings' own seconds add up
    assert sweep.seconds >= table["seconds"].max()
    assert sweep.training_seconds == pytest.approx(table["seconds"].sum())


def test_runs_differ_only_in_weight_decay(sweep: WeightDecaySweep) -> None:
    runs = sweep.runs
    assert runs[0.01].val_acc != runs[1.0].val_acc or runs[0.01].train_acc != runs[1.0].train_acc
    assert runs[0.01].log_dir != runs[1.0].log_dir
    assert runs[0.01].log_dir.name.startswith("version_") and "wd_0.01" in str(runs[0.01].log_dir)


def test_seeded_runs_repeat_exactly_whatever_ran_before(tmp_path: Path) -> None:
    models: list[AdamWModel] = []

    def make() -> AdamWModel:
        models.append(AdamWModel(0.1, num_epochs=1))
        return models[-1]

    first = train_seeded(make, log_dir=tmp_path / "a", progress=False)
    torch.rand(1000)  # move the global RNG, as earlier notebook cells would
    second = train_seeded(make, log_dir=tmp_path / "b", progress=False)
    assert torch.equal(models[0].initial_weights, models[1].initial_weights)
    assert (first.val_acc, first.test_acc, first.train_acc) == (second.val_acc, second.test_acc, second.train_acc)


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ([], TypeError, "non-empty list"),
        (0.1, TypeError, "non-empty list"),
        ("0.1", TypeError, "non-empty list"),
        ([0.1, -1.0], ValueError, ">= 0"),
        ([0.1, float("nan")], ValueError, ">= 0"),
        ([0.1, 0.1], ValueError, "repeated"),
    ],
)
def test_bad_weight_decays_are_refused_before_training(values, error, match) -> None:
    with pytest.raises(error, match=match):
        sweep_weight_decay(AdamWModel, values)


def test_bad_factories_are_refused() -> None:
    with pytest.raises(TypeError, match=r"make_model must be a function .* got an object of type AdamWModel"):
        sweep_weight_decay(AdamWModel(0.1), [0.1])
    with pytest.raises(TypeError, match="make_model must be a function"):
        train_seeded(None)  # type: ignore[arg-type]  # the wrong type is the point
    with pytest.raises(TypeError, match="not a LightningModule"):
        train_seeded(lambda: torch.nn.Linear(2, 2))  # type: ignore[arg-type, return-value]  # the wrong type is the point


def test_accuracy_panels_share_the_course_axis(sweep: WeightDecaySweep) -> None:
    fig = accuracy_panels({"small": sweep.runs[0.01], "large": sweep.runs[1.0].log_dir}, show=False)
    axes = fig.axes
    assert len(axes) == 2
    assert axes[0].get_ylim() == axes[1].get_ylim() == (0.6, 1.0)
    assert axes[0].get_title().startswith("small\nfinal gap")
    assert [line.get_label() for line in axes[1].get_lines()] == ["train", "validation"]


def test_accuracy_panels_refuse_bad_input(sweep: WeightDecaySweep) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        accuracy_panels({}, show=False)
    with pytest.raises(TypeError, match="pass a RunResult or its log folder"):
        accuracy_panels({"x": 0.9}, show=False)  # type: ignore[dict-item]  # the wrong type is the point
    with pytest.raises(ValueError, match="low < high"):
        accuracy_panels({"x": sweep.runs[0.01]}, ylim=(1.0, 0.6), show=False)


def test_sweep_plot_is_log_scaled_and_marks_the_choice(sweep: WeightDecaySweep) -> None:
    fig = sweep_plot(sweep.table, chosen=0.01, show=False)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    legend = ax.get_legend()
    assert legend is not None and "chosen: 0.01" in [t.get_text() for t in legend.get_texts()]
    with pytest.raises(ValueError, match="not one of the swept values"):
        sweep_plot(sweep.table, chosen=0.5, show=False)
    with pytest.raises(ValueError, match="no 'val_loss' column"):
        sweep_plot(sweep.table, metric="val_loss", show=False)
    with pytest.raises(ValueError, match="weight decays > 0"):
        sweep_plot(pd.DataFrame({"val_acc": [0.8, 0.9]}, index=[0.0, 0.1]), show=False)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        sweep_plot(sweep.table.to_dict(), show=False)
