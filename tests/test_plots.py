"""LR-curve and training-curve plots: what they draw, and their argument checks."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from torch.optim.lr_scheduler import CosineAnnealingLR

from helpers.plots import lr_curve, plot_lr_curves, training_curves
from helpers.schedules import LRCurve, record_lr

METRICS = """epoch,lr,step,test_acc,train_acc,train_loss,val_acc,val_loss
0,,449,,,,0.52,0.69
0,0.0,449,,0.51,0.70,,
1,,899,,,,0.75,0.50
1,0.1,899,,0.73,0.53,,
2,,1349,0.74,,,,
"""


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "metrics.csv").write_text(METRICS)
    return tmp_path


def lines_by_label(ax) -> dict[str, tuple[list[float], list[float]]]:
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}


def test_training_curves_draw_train_and_val_per_epoch(run_dir: Path) -> None:
    fig = training_curves(run_dir, title="two epochs", acc_ylim=(0.5, 1.0), show=False)
    loss_ax, acc_ax = fig.axes
    assert lines_by_label(loss_ax) == {"train": ([1, 2], [0.70, 0.53]), "val": ([1, 2], [0.69, 0.50])}
    assert lines_by_label(acc_ax) == {"train": ([1, 2], [0.51, 0.73]), "val": ([1, 2], [0.52, 0.75])}
    assert acc_ax.get_ylim() == (0.5, 1.0)
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    assert fig.get_suptitle() == "two epochs"


def test_training_curves_with_train_only(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss\n0,9,0.9\n1,19,0.7\n")
    loss_ax, acc_ax = training_curves(tmp_path, show=False).axes
    assert list(lines_by_label(loss_ax)) == ["train"] and acc_ax.get_lines() == []
    assert acc_ax.get_legend() is None


def test_training_curves_missing_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no metrics file at"):
        training_curves(tmp_path / "logs" / "run" / "version_9", show=False)


def test_training_curves_without_any_curve(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("epoch,step,test_acc\n3,100,0.8\n")
    with pytest.raises(ValueError, match=r"have none of \['train_loss', 'val_loss', 'train_acc', 'val_acc'\]"):
        training_curves(tmp_path, show=False)


def test_lr_curve_records_and_plots() -> None:
    curve = lr_curve(lambda opt: CosineAnnealingLR(opt, T_max=10), 10, label="cosine", show=False)
    assert isinstance(curve, LRCurve) and curve.epochs == 10
    ax = plt.gcf().axes[0]
    ((xs, ys),) = lines_by_label(ax).values()
    assert xs == list(range(10)) and np.allclose(ys, curve.per_step)
    assert ax.get_title() == "cosine" and ax.get_ylabel() == "learning rate"


def test_lr_curve_per_step_on_an_epoch_axis() -> None:
    curve = lr_curve(lambda opt: CosineAnnealingLR(opt, T_max=20), 5, steps_per_epoch=4, interval="step", show=False)
    ((xs, ys),) = lines_by_label(plt.gcf().axes[0]).values()
    assert len(xs) == 20 and xs[4] == 1.0 and np.allclose(ys, curve.per_step)


def test_lr_curve_passes_bad_arguments_on() -> None:
    with pytest.raises(ValueError, match=r"interval must be one of"):
        lr_curve(lambda opt: CosineAnnealingLR(opt, T_max=10), 10, interval="batch", show=False)
    with pytest.raises(ValueError, match=r"epochs must be a positive whole number, got -3"):
        lr_curve(lambda opt: CosineAnnealingLR(opt, T_max=10), -3, show=False)


def test_plot_lr_curves_several() -> None:
    curves = {f"T={t}": record_lr(partial(CosineAnnealingLR, T_max=t), 10) for t in (5, 10)}
    fig = plot_lr_curves(curves, title="two cosines", show=False)
    assert sorted(lines_by_label(fig.axes[0])) == ["T=10", "T=5"]


def test_plot_lr_curves_bad_input() -> None:
    with pytest.raises(ValueError, match=r"curves is empty: pass \{label: LRCurve\}"):
        plot_lr_curves({}, show=False)
    with pytest.raises(TypeError, match=r"curve 'raw' is a list, not an LRCurve from record_lr"):
        plot_lr_curves({"raw": [0.1, 0.2]}, show=False)  # type: ignore[dict-item]  # the wrong type is the point


# --- a forgotten return in learner code is one ✗ line, not a traceback ---------------------------------


def make_warmup_scheduler(optimizer, num_epochs):
    CosineAnnealingLR(optimizer, T_max=num_epochs)  # the return is missing


def test_lr_curve_reports_a_missing_return_and_lets_the_cell_go_on(capsys: pytest.CaptureFixture[str]) -> None:
    curve = lr_curve(lambda optimizer: make_warmup_scheduler(optimizer, 10), 10, show=False)
    out = capsys.readouterr().out
    assert out == "✗ make_warmup_scheduler returned None instead of a scheduler: is its return line missing?\n"
    assert curve.epochs == 10 and np.isnan(curve.per_epoch).all()  # indexing it later in the cell still works
    ax = plt.gcf().axes[0]
    assert "see the ✗ line above" in " ".join(text.get_text() for text in ax.texts)


def test_a_factor_function_without_return_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    from torch.optim.lr_scheduler import LambdaLR

    from helpers.learner_code import MissingReturn

    def linear_warmup(epoch):
        min((epoch + 1) / 5, 1.0)

    def lambda_schedule(lr_lambda):
        return lambda optimizer: LambdaLR(optimizer, lr_lambda)

    lr_curve(lambda_schedule(linear_warmup), 5, show=False)
    assert capsys.readouterr().out.startswith("✗ the LR factor function (linear_warmup) returned None instead of a "
                                              "number")
    with pytest.raises(MissingReturn) as raised:  # direct callers of record_lr get the same words...
        record_lr(lambda_schedule(linear_warmup), 5)
    assert raised.value._render_traceback_() == [raised.value.line()]  # ...shown by IPython as that one line

    def make_native_scheduler(optimizer, num_epochs):
        def factor(epoch):
            0.5 * epoch

        return LambdaLR(optimizer, factor)

    with pytest.raises(MissingReturn, match="the LR factor function inside make_native_scheduler returned None"):
        record_lr(lambda optimizer: make_native_scheduler(optimizer, 5), 5)


def test_other_type_errors_in_learner_code_are_not_relabelled() -> None:
    def broken(optimizer):
        return CosineAnnealingLR(optimizer, T_max="ten")  # type: ignore[arg-type]  # a real TypeError, not a missing return

    with pytest.raises(TypeError) as raised:
        record_lr(broken, 5)
    assert "return line" not in str(raised.value)
