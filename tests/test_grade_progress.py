"""The grader's progress line and its fair limits: per-cell timeouts derived from the solution's
measured times, reported with the cell's heading and limit."""

from __future__ import annotations

import io
import time

import nbformat
import pytest

from kit.execute import round_seconds, strip_timing
from kit.grade import progress
from kit.grade.assemble import GradedCopy
from kit.grade.run import TIMEOUT_MARGIN, Limits, cell_heading, measured_seconds, run_graded_copy


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_plain_lines_when_not_a_terminal() -> None:
    stream = _Stream(tty=False)
    with progress.Board(3, stream=stream, every=0.05, tick=0.01) as board:
        board.begin("alice/01.ipynb")
        board.cell("alice/01.ipynb", 4, 12)
        time.sleep(0.3)
        board.end("alice/01.ipynb")
        progress.finished("  alice/01.ipynb: 3/5 (12 s)")
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert any(line.startswith("[0/3 done, 0:00] | alice/01.ipynb cell 5/12 0:00") for line in lines)
    assert lines[-1] == "  alice/01.ipynb: 3/5 (12 s)"


def test_one_rewritten_line_on_a_terminal() -> None:
    stream = _Stream(tty=True)
    with progress.Board(2, stream=stream, tick=0.01) as board:
        board.begin("bob/02.ipynb")
        time.sleep(0.1)
        progress.finished("  bob/02.ipynb: 0/5 (1 s)")
    text = stream.getvalue()
    assert "\r" in text and "[0/2 done, 0:00] | bob/02.ipynb starting 0:00" in text
    assert "  bob/02.ipynb: 0/5 (1 s)\n" in text
    assert text.count("\n") == 1  # only the permanent line ends a line
    assert progress._board is None


def test_runs_report_their_cell_and_labels_stay_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)") for _ in range(3)]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    stream = _Stream(tty=False)
    seen: list[tuple[str, int, int]] = []
    with progress.Board(1, stream=stream, every=3600) as board:
        original = board.cell

        def recording(label: str, index: int, cells: int) -> None:
            seen.append((label, index, cells))
            original(label, index, cells)

        monkeypatch.setattr(board, "cell", recording)
        with progress.submission("carol/00.ipynb"):
            outcome = run_graded_copy(GradedCopy(nb), Limits(cell_timeout=60, submission_timeout=120, memory_mb=4096))
        assert board.running == {}
    assert [c.kind for c in outcome.cells.values()] == ["passed"] * 3
    assert {label for label, _, _ in seen} == {"carol/00.ipynb"}
    assert {index for _, index, _ in seen} >= {1, 2} and {cells for _, _, cells in seen} == {3}


def test_solution_timing_is_recorded_rounded_and_read_back() -> None:
    assert [round_seconds(x) for x in (1.0, 1.3, 2.5, 7, 10.01, 817)] == [1, 2, 5, 10, 20, 1000]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x"), nbformat.v4.new_code_cell("y"), nbformat.v4.new_code_cell("z")]
    timings = [("fast", "00.000", "00.300"), ("slow", "00.000", "12.000"), ("none", None, None)]
    for cell, (cid, start, end) in zip(nb.cells, timings, strict=True):
        cell["id"] = cid
        if start:
            cell.metadata["execution"] = {"iopub.execute_input": f"2024-01-01T00:00:{start}Z",
                                          "shell.execute_reply": f"2024-01-01T00:00:{end}Z"}
    strip_timing(nb, keep_seconds=True)
    assert all("execution" not in c.metadata for c in nb.cells)
    assert nb.metadata["kit_timing"] == {"cell_seconds": {"slow": 20.0}}
    assert measured_seconds(nb) == {"slow": 20.0}
    nb.metadata["kit_timing"] = {"cell_seconds": {"a": "10", "b": -1, "c": True, "d": 3}}  # junk is ignored
    assert measured_seconds(nb) == {"d": 3.0}


def test_limits_follow_the_solution_with_a_wide_margin() -> None:
    limits = Limits(cell_timeout=900, cell_seconds={"train": 300.0, "tiny": 2.0})
    assert limits.cell_limit("train") == TIMEOUT_MARGIN * 300 == 3000
    assert limits.cell_limit("tiny") == 900 and limits.cell_limit("learner-own") == 900


@pytest.mark.parametrize("measured, kind", [(0.3, "passed"), (None, "timeout")])
def test_a_cell_gets_its_derived_limit_and_a_timeout_names_heading_and_limit(measured, kind) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Train the model\nThis takes a while."),
                nbformat.v4.new_code_cell("import time\ntime.sleep(2.5)")]
    nb.cells[0]["id"], nb.cells[1]["id"] = "md", "train"
    seconds = {"train": measured} if measured else {}
    outcome = run_graded_copy(GradedCopy(nb), Limits(cell_timeout=1.5, submission_timeout=120, memory_mb=4096,
                                                     cell_seconds=seconds))
    result = outcome.cells["train"]
    assert result.kind == kind
    assert result.limit == (3.0 if measured else 1.5)
    assert result.heading == "Train the model"


def test_heading_falls_back_to_the_first_sentence() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Now fit the schedule. Then plot it."), nbformat.v4.new_code_cell("1"),
                nbformat.v4.new_code_cell("2")]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    assert cell_heading(nb, "c1") == "Now fit the schedule"
    assert cell_heading(nb, "c2") == "Now fit the schedule"
    assert cell_heading(nb, "missing") == ""
