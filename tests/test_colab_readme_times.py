"""README's training times come from the executed solutions (tools/readme_times.py), not from memory."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("readme_times", REPO / "tools" / "readme_times.py")
assert _spec is not None and _spec.loader is not None  # a .py file path always has both
times = importlib.util.module_from_spec(_spec)
sys.modules["readme_times"] = times
_spec.loader.exec_module(times)


def progress(line: str):
    return new_output("display_data", data={"text/plain": line})


def write(folder: Path, name: str, cells: list) -> None:
    nbformat.write(new_notebook(cells=cells), folder / f"{name}.ipynb")


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    write(tmp_path, "01_warmup_cosine", [
        new_code_cell("fit", id="a", outputs=[progress("epoch 100/100 · train_loss 0.02 · val_acc 0.88 · 72 s")]),
        new_code_cell("print", id="b",
                      outputs=[new_output("stream", name="stdout", text="test accuracy 0.89 · 72 s\n")]),
        # an interrupted line (epoch 37/100) is not a run:
        new_code_cell("fit", id="c", outputs=[progress("epoch 37/100 · val_acc 0.5 · 20 s"),
                                              progress("epoch 100/100 · train_loss 0.02 · val_acc 0.89 · 125 s")]),
    ])
    write(tmp_path, "02_adamw_weight_decay", [
        new_code_cell("sweep", id="s", outputs=[progress("epoch 100/100 · val_acc 0.8 · 60 s"),
                                                new_output("stream", name="stdout", text="sweep: 6 trainings, "
                                                           "400 s of training in 210 s wall\n")]),
        new_code_cell("fit", id="l2", outputs=[progress("epoch 100/100 · val_acc 0.5 · 41 s")]),
    ])
    return tmp_path


def test_figures_read_each_run_once_and_a_sweep_by_its_wall_time(solutions: Path) -> None:
    assert times.figures(solutions) == {
        "ex1-run": "72 s",
        "01": "3.3 min of training (2 runs: 72 s + 125 s)",
        "02": "4.2 min of training (7 runs, the sweep's counted by its wall time)",
    }


def test_an_unexecuted_solution_is_a_clear_error(solutions: Path) -> None:
    write(solutions, "02_adamw_weight_decay", [new_code_cell("fit", id="x")])
    with pytest.raises(ValueError, match="prints no training time"):
        times.figures(solutions)


def test_render_replaces_only_marked_figures_and_names_unknown_keys() -> None:
    text = "took <!-- time:ex1-run -->30 s<!-- /time --> and about 30 s; <!-- time:zz -->?<!-- /time -->"
    new, unknown = times.render(text, {"ex1-run": "72 s"})
    assert new == "took <!-- time:ex1-run -->72 s<!-- /time --> and about 30 s; <!-- time:zz -->?<!-- /time -->"
    assert unknown == ["zz"]


def test_readme_times_match_the_committed_solution_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    """Fails after the solutions are re-executed until `python tools/readme_times.py --write` is run."""
    assert times.main(["--check"]) == 0, capsys.readouterr().err
