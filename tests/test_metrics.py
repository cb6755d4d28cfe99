"""Reading a run's metrics.csv back as one row per epoch."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.metrics import metrics_file, read_metrics
from helpers.training import RunResult

# As Lightning's CSVLogger writes it: val and train metrics of an epoch on separate rows (same
# step), the epoch's LR with the train row, and the test row after fit at the next epoch.
LIGHTNING_STYLE = """epoch,lr,step,test_acc,train_acc,train_loss,val_acc,val_loss
0,,449,,,,0.52,0.69
0,0.0,449,,0.51,0.70,,
1,,899,,,,0.75,0.50
1,0.1,899,,0.73,0.53,,
2,,1349,,,,0.82,0.41
2,0.05,1349,,0.81,0.42,,
3,,1350,0.83,,,,
"""


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "run" / "version_0"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text(LIGHTNING_STYLE)
    return folder


def test_one_row_per_training_epoch(run_dir: Path) -> None:
    table = read_metrics(run_dir)
    assert list(table.index) == [0, 1, 2] and table.index.dtype.kind == "i"
    assert sorted(table.columns) == ["lr", "train_acc", "train_loss", "val_acc", "val_loss"]
    expected = pd.DataFrame(
        {
            "lr": [0.0, 0.1, 0.05],
            "train_acc": [0.51, 0.73, 0.81],
            "train_loss": [0.70, 0.53, 0.42],
            "val_acc": [0.52, 0.75, 0.82],
            "val_loss": [0.69, 0.50, 0.41],
        },
        index=pd.Index([0, 1, 2], name="epoch"),
    )
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_index_type=False)


def test_several_rows_of_one_epoch_are_averaged(tmp_path: Path) -> None:
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,step,train_loss,val_acc\n0,10,1.0,\n0,20,0.5,\n0,20,,0.6\n1,30,0.25,\n1,40,0.75,\n1,40,,0.7\n")
    table = read_metrics(csv)  # the file itself is accepted too
    assert table["train_loss"].tolist() == [0.75, 0.5]
    assert table["val_acc"].tolist() == [0.6, 0.7]


def test_run_result_reads_its_metrics(run_dir: Path) -> None:
    result = RunResult(test_acc=0.83, val_acc=0.82, train_acc=0.81, seconds=1.0, log_dir=run_dir)
    assert result.metrics["val_acc"].tolist() == [0.52, 0.75, 0.82]


def test_metrics_file_resolves_folder_or_file(run_dir: Path) -> None:
    assert metrics_file(run_dir) == run_dir / "metrics.csv"
    assert metrics_file(run_dir / "metrics.csv") == run_dir / "metrics.csv"


def test_missing_log_file(tmp_path: Path) -> None:
    expected = r"no metrics file at .*metrics\.csv: pass the log folder of a finished run"
    with pytest.raises(FileNotFoundError, match=expected):
        read_metrics(tmp_path / "never_trained")
    with pytest.raises(FileNotFoundError, match=r"no metrics file at .*other\.csv"):
        read_metrics(tmp_path / "other.csv")


def test_not_a_lightning_file(tmp_path: Path) -> None:
    csv = tmp_path / "metrics.csv"
    csv.write_text("step,loss\n0,1.0\n")
    with pytest.raises(ValueError, match=r"has no 'epoch' column; is it a Lightning CSVLogger file\?"):
        read_metrics(tmp_path)
