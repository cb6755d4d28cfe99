"""RunsProgress: one display for a whole sweep, whether its runs go one after another or side by side."""

from __future__ import annotations

from typing import ClassVar, cast

import lightning as L
import pytest

from helpers import progress
from helpers.progress import EpochReporter, RunsProgress


class FakeHandle:
    def __init__(self, log: list) -> None:
        self.log = log

    def update(self, data, raw=False) -> None:
        self.log.append(("update", data["text/plain"]))


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list:
    """Pretend to be a Jupyter kernel; record every display call."""
    calls: list = []

    def display(data, raw=False, display_id=False):
        calls.append(("display", data["text/plain"], display_id))
        return FakeHandle(calls)

    import IPython.display

    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    return calls


def test_one_display_updated_in_place_for_interleaved_runs(notebook: list) -> None:
    bar = RunsProgress(total=3, min_interval=0.0)
    bar.update("adam", 1, 100, {"val_acc": 0.5})
    bar.update("weight_decay=0.01", 1, 100, {"val_acc": 0.6})
    bar.update("adam", 2, 100, {"val_acc": 0.7})
    bar.finish("adam")
    bar.update("weight_decay=0.1", 1, 100, {})
    bar.finish("weight_decay=0.01")
    bar.finish("weight_decay=0.1")
    assert [c[0] for c in notebook].count("display") == 1  # one display, the rest are updates
    assert notebook[0] == ("display", notebook[0][1], True)
    assert all(c[0] == "update" for c in notebook[1:])
    texts = [c[1] for c in notebook]
    assert texts[1].startswith("0/3 trained · adam epoch 1/100 val_acc 0.5000 | weight_decay=0.01 epoch 1/100 "
                               "val_acc 0.6000 · ")
    assert "adam epoch 2/100 val_acc 0.7000 | weight_decay=0.01" in texts[2]
    assert texts[3].startswith("1/3 trained · weight_decay=0.01 epoch 1/100")
    assert texts[-1].startswith("3/3 trained · ") and "epoch" not in texts[-1]  # final state: nothing running


def test_updates_are_throttled_but_the_final_state_is_always_drawn(notebook: list) -> None:
    bar = RunsProgress(total=1, min_interval=3600.0)
    for epoch in range(1, 101):
        bar.update("adam", epoch, 100, {})
    bar.finish("adam")
    assert len(notebook) == 2  # the first update, then the forced final one
    assert notebook[-1][1].startswith("1/1 trained · ")


def test_in_a_non_tty_terminal_only_the_final_line_is_written(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(progress, "_in_notebook", lambda: False)
    bar = RunsProgress(total=2, min_interval=0.0)
    bar.update("a", 1, 2, {})
    bar.finish("a")
    bar.update("b", 1, 2, {})
    bar.finish("b")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("2/2 trained · ")


def test_epoch_reporter_sends_numbers_not_text() -> None:
    sent: list = []

    class Trainer:
        callback_metrics: ClassVar[dict[str, float]] = {"val_acc": 0.75, "train_loss": 0.3}
        max_epochs = 10
        current_epoch = 3

    trainer = cast(L.Trainer, Trainer())  # a stand-in: the reporter reads only these three attributes
    module = L.LightningModule()
    reporter = EpochReporter(sent.append)
    reporter.on_fit_start(trainer, module)
    reporter.on_train_epoch_start(trainer, module)
    reporter.on_train_end(trainer, module)
    assert sent == [("epoch", 3, 10, {"val_acc": 0.75}), ("epoch", 3, 10, {"val_acc": 0.75})]
