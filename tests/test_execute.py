"""kit.execute: a successful run writes outputs back; a failing run leaves the file alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kit import notebooks
from kit.execute import NotebookExecutionError, execute_notebook, main


def _write(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kit"] = {"exercise": path.stem, "role": "solution"}
    path.write_text(notebooks.dumps(nb), encoding="utf-8")
    return path


def test_success_writes_outputs_keeps_ids_and_runs_in_the_notebook_folder(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("found me\n")
    nb_path = _write(
        tmp_path / "ok.ipynb",
        new_markdown_cell("Read a file next to the notebook.", id="intro"),
        new_code_cell("print(open('data.txt').read().strip())", id="read-file"),
        new_code_cell("x = 6 * 7\nx", id="answer"),
    )
    execute_notebook(nb_path)
    nb = notebooks.read(nb_path)
    assert [c.id for c in nb.cells] == ["intro", "read-file", "answer"]
    assert nb.cells[1].outputs[0].text == "found me\n"
    assert nb.cells[2].outputs[0].data["text/plain"] == "42"
    assert [c.execution_count for c in nb.cells[1:]] == [1, 2]
    assert nb.metadata.kit == {"exercise": "ok", "role": "solution"}
    assert all("execution" not in c.metadata for c in nb.cells), "timing metadata must be stripped"
    assert nb_path.read_text(encoding="utf-8") == notebooks.dumps(nb), "written the way Jupyter writes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt", "ok.ipynb"], "no temp file left"


def test_failure_leaves_original_byte_identical_and_names_the_cell(tmp_path: Path) -> None:
    nb_path = _write(
        tmp_path / "bad.ipynb",
        new_code_cell("x = 1", id="setup-x"),
        new_code_cell("# NBVAL_IGNORE_OUTPUT\ny = x / 0", id="divide"),
        new_code_cell("print('never')", id="after"),
    )
    before = nb_path.read_bytes()
    with pytest.raises(NotebookExecutionError) as caught:
        execute_notebook(nb_path)
    message = str(caught.value)
    assert "'divide'" in message and "y = x / 0" in message and "ZeroDivisionError" in message
    assert nb_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ipynb"]


def test_command_line_exits_1_on_failure_and_names_the_cell(tmp_path: Path) -> None:
    nb_path = _write(tmp_path / "bad.ipynb", new_code_cell("raise KeyError('missing')", id="boom"))
    before = nb_path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "kit.execute", str(nb_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    assert "'boom'" in done.stderr and "KeyError" in done.stderr and "left unchanged" in done.stderr
    assert nb_path.read_bytes() == before


def test_bad_input_gives_specific_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.ipynb")]) == 1
    assert "no such notebook" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a notebook"):
        execute_notebook(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="timeout"):
        execute_notebook(_write(tmp_path / "t.ipynb", new_code_cell("1", id="one")), timeout=0)


def test_re_execution_is_byte_stable(tmp_path: Path) -> None:
    nb_path = _write(
        tmp_path / "stable.ipynb",
        new_code_cell("import random\nrandom.seed(0)\nprint(random.random())", id="seeded"),
    )
    execute_notebook(nb_path)
    first = nb_path.read_bytes()
    execute_notebook(nb_path)
    assert nb_path.read_bytes() == first


def test_run_notebook_in_memory_with_allow_errors_runs_every_cell(tmp_path: Path) -> None:
    from kit.execute import run_notebook

    nb = new_notebook(cells=[new_code_cell("raise NotImplementedError('blank')", id="blank"),
                             new_code_cell("print('after')", id="after")])
    run_notebook(nb, cwd=tmp_path, timeout=120, allow_errors=True)
    assert nb.cells[0].outputs[0].ename == "NotImplementedError"
    assert nb.cells[1].outputs[0].text == "after\n"
    assert list(tmp_path.iterdir()) == []
