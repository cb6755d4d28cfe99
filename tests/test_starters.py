"""kit.starters: the solution -> starter transformation, and committed starters in sync.

Unit tests use small in-memory notebooks; the sync test regenerates every starter from its
committed solution and compares it byte for byte with the committed starter.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kit import notebooks
from kit.starters import DEFAULT_HINT, StarterError, blank_source, generate, main, make_starter

METHOD = '''class Model(ClassifierModule):
    def configure_optimizers(self):
        ### BEGIN SOLUTION: return the optimizer and the scheduler dict
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        return optimizer
        ### END SOLUTION
'''


def _raised_hints(source: str) -> list[str]:
    """The hint strings of every ``raise NotImplementedError(...)`` in ``source``, in source order."""
    calls = [
        node.exc
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name) and node.exc.func.id == "NotImplementedError"
    ]
    hints = [call.args[0] for call in sorted(calls, key=lambda call: call.lineno)]
    assert all(isinstance(hint, ast.Constant) for hint in hints)
    return [str(hint.value) for hint in hints if isinstance(hint, ast.Constant)]


def _solution(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kit"] = {"exercise": "99_demo", "role": "solution"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_region_inside_a_method_keeps_the_marker_indentation() -> None:
    source, count = blank_source(METHOD)
    assert count == 1
    assert source == (
        "class Model(ClassifierModule):\n"
        "    def configure_optimizers(self):\n"
        "        # YOUR CODE HERE\n"
        '        raise NotImplementedError("return the optimizer and the scheduler dict")\n'
    )


def test_hint_quotes_and_backslashes_are_escaped() -> None:
    hint = 'use "interval": \'epoch\' and a path like C:\\new'
    source, _ = blank_source(f"def f():\n    ### BEGIN SOLUTION: {hint}\n    pass\n    ### END SOLUTION")
    assert _raised_hints(source) == [hint]


def test_missing_or_empty_hint_gets_the_default() -> None:
    for begin in ("### BEGIN SOLUTION", "### BEGIN SOLUTION:", "### BEGIN SOLUTION:   "):
        source, _ = blank_source(f"{begin}\nx = 1\n### END SOLUTION\n")
        assert _raised_hints(source) == [DEFAULT_HINT]


def test_several_regions_in_one_cell_and_code_around_them_is_kept() -> None:
    solution = (
        "def make_scheduler(optimizer):\n"
        "    ### BEGIN SOLUTION: warmup first\n"
        "    warm = 1\n"
        "    ### END SOLUTION\n"
        "    return warm\n"
        "\n"
        "### BEGIN SOLUTION: top-level blank\n"
        "cool = 2\n"
        "### END SOLUTION\n"
        "print('done')"
    )
    source, count = blank_source(solution)
    assert count == 2
    assert _raised_hints(source) == ["warmup first", "top-level blank"]
    assert "    return warm\n" in source and source.endswith("print('done')")
    assert "warm = 1" not in source and "cool = 2" not in source


def test_end_marker_on_the_last_line_without_newline() -> None:
    source, _ = blank_source("def f():\n    ### BEGIN SOLUTION: h\n    return 1\n    ### END SOLUTION")
    assert source == 'def f():\n    # YOUR CODE HERE\n    raise NotImplementedError("h")'


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION: a\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without a ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION: a\n### BEGIN SOLUTION: b\n### END SOLUTION\n### END SOLUTION\n", "nested"),
        ("### BEGIN SOLUTION hint without colon\nx = 1\n### END SOLUTION\n", "looks like a solution marker"),
        ("## END SOLUTION\n", "looks like a solution marker"),
    ],
)
def test_malformed_markers_name_notebook_and_cell_and_write_nothing(
    tmp_path: Path, source: str, message: str
) -> None:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    good = _solution(new_code_cell("### BEGIN SOLUTION: ok\nx = 1\n### END SOLUTION", id="fine"))
    bad = _solution(new_markdown_cell("intro", id="intro"), new_code_cell(source, id="ex9-blank-bad"))
    (tmp_path / "solutions" / "00_good.ipynb").write_text(notebooks.dumps(good))
    (tmp_path / "solutions" / "01_bad.ipynb").write_text(notebooks.dumps(bad))
    with pytest.raises(StarterError, match=message) as caught:
        generate(tmp_path)
    assert "solutions/01_bad.ipynb: cell 1 (id 'ex9-blank-bad')" in str(caught.value)
    assert list((tmp_path / "notebooks").iterdir()) == [], "one broken solution: nothing is written"


def test_starter_that_is_not_valid_python_is_an_error() -> None:
    # A blank in the middle of an expression leaves `x = ` followed by a raise: a SyntaxError.
    nb = _solution(new_code_cell("x = (\n    ### BEGIN SOLUTION: a number\n    1\n    ### END SOLUTION\n)", id="expr"))
    with pytest.raises(StarterError, match=r"cell 0 \(id 'expr'\): the starter code is not valid Python"):
        make_starter(nb, "99_demo.ipynb")


def test_ipython_magics_and_shell_lines_are_accepted() -> None:
    nb = _solution(new_code_cell("%matplotlib inline\nif False:\n    !pip install nothing\nfiles = !ls", id="magic"))
    assert make_starter(nb, "99_demo.ipynb").notebook.cells[0].source == nb.cells[0].source


def _rich_solution() -> nbformat.NotebookNode:
    badges = new_markdown_cell("[badge](solutions/99_demo.ipynb)", id="launch-badges")
    intro = new_markdown_cell("Build the optimizer — *why* it matters: ✓", id="intro")
    intro.metadata["tags"] = ["explain"]
    blank = new_code_cell(METHOD, id="ex9-blank-optimizer", execution_count=3)
    blank.outputs = [new_output("stream", name="stdout", text="trained\n")]
    check = new_code_cell("check_optimizer(Model)", id="ex9-check-optimizer", execution_count=4)
    check.metadata["tags"] = ["check"]
    check.outputs = [new_output("stream", name="stdout", text="✓ optimizer\n")]
    hidden = new_code_cell("assert result.test_acc > 0.88", id="ex9-hidden")
    hidden.metadata["tags"] = ["hidden-check"]
    plot = new_code_cell("# NBVAL_IGNORE_OUTPUT\ncurve = lr_curve(x)", id="plot", execution_count=5)
    plot.metadata["scrolled"] = True
    plot.outputs = [new_output("execute_result", data={"text/plain": "1"}, execution_count=5)]
    nb = _solution(badges, intro, blank, check, hidden, plot)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def test_whole_notebook_transformation() -> None:
    solution = _rich_solution()
    before = notebooks.dumps(solution)
    starter = make_starter(solution, "99_demo.ipynb")
    nb = starter.notebook
    assert notebooks.dumps(solution) == before, "the solution is never modified"
    assert (starter.blanks, starter.dropped_cells) == (1, 1)
    assert [c.id for c in nb.cells] == ["launch-badges", "intro", "ex9-blank-optimizer", "ex9-check-optimizer", "plot"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert nb.metadata["kit"] == {"exercise": "99_demo", "role": "starter"}
    assert nb.metadata["kernelspec"] == solution.metadata["kernelspec"]
    assert "widgets" not in nb.metadata
    # Cells without a blank keep source, id and metadata byte for byte (outputs aside).
    by_id = {c.id: c for c in solution.cells}
    for cell in nb.cells:
        if cell.id in ("intro", "ex9-check-optimizer", "plot"):
            original = by_id[cell.id]
            assert json.dumps(cell.metadata) == json.dumps(original.metadata)
            assert cell.source == original.source
    assert nb.cells[2].metadata == by_id["ex9-blank-optimizer"].metadata
    # The badges point at the starter's own path (kit.launch), not at the solution.
    assert "notebooks/99_demo.ipynb" in nb.cells[0].source
    assert "solutions/99_demo.ipynb" not in nb.cells[0].source


def test_generate_writes_then_check_reports_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "99_demo.ipynb").write_text(notebooks.dumps(_rich_solution()))
    assert generate(tmp_path, check=True) == ["notebooks/99_demo.ipynb"]
    assert not (tmp_path / "notebooks").exists(), "--check writes nothing"
    assert generate(tmp_path) == ["notebooks/99_demo.ipynb"]
    written = (tmp_path / "notebooks" / "99_demo.ipynb").read_bytes()
    assert written.endswith(b"}\n") and b'\n "cells": [\n  {\n' in written, "Jupyter's layout: indent 1"
    assert generate(tmp_path) == [] and generate(tmp_path, check=True) == []
    assert (tmp_path / "notebooks" / "99_demo.ipynb").read_bytes() == written, "re-generation is byte-stable"
    (tmp_path / "notebooks" / "99_demo.ipynb").write_bytes(written.replace(b"YOUR CODE HERE", b"edited"))
    assert generate(tmp_path, check=True) == ["notebooks/99_demo.ipynb"]
    assert "OUT OF DATE notebooks/99_demo.ipynb" in capsys.readouterr().out


def test_unknown_notebook_name_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "solutions").mkdir()
    with pytest.raises(StarterError, match=r"no solution notebook solutions/42_nothing\.ipynb"):
        generate(tmp_path, ["notebooks/42_nothing.ipynb"])


def test_committed_starters_are_in_sync_with_solutions(repo: Path) -> None:
    """Enforces `make starters`: every starter equals its regenerated solution, byte for byte."""
    solutions = sorted((repo / "solutions").glob("*.ipynb"))
    if not solutions:
        pytest.skip("solutions/ holds no notebook yet, so there is no starter to keep in sync")
    for path in solutions:
        expected = notebooks.dumps(make_starter(notebooks.read(path), path.name).notebook)
        starter = repo / "notebooks" / path.name
        assert starter.is_file(), f"notebooks/{path.name} is missing: run `make starters`"
        assert starter.read_text(encoding="utf-8") == expected, (
            f"notebooks/{path.name} differs from its regenerated solution: run `make starters`"
        )


def test_command_line_check_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KIT_COURSE", str(tmp_path))
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "99_demo.ipynb").write_text(notebooks.dumps(_rich_solution()))
    assert main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main([]) == 0
    assert main(["--check"]) == 0
    broken = _solution(new_code_cell("### END SOLUTION", id="oops"))
    (tmp_path / "solutions" / "98_broken.ipynb").write_text(notebooks.dumps(broken))
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "solutions/98_broken.ipynb: cell 0 (id 'oops')" in err and "No starter was written" in err


def test_missing_or_repeated_cell_ids_are_errors() -> None:
    nb = _solution(new_code_cell("x = 1", id="same"), new_code_cell("y = 2", id="other"))
    nb.cells[1]["id"] = "same"  # after construction: nbformat itself would rename a duplicate
    with pytest.raises(StarterError, match="cell 1 repeats the id 'same'"):
        make_starter(nb, "99_demo.ipynb")
    del nb.cells[1]["id"]
    with pytest.raises(StarterError, match="cell 1 has no id"):
        make_starter(nb, "99_demo.ipynb")


def test_blank_with_stronger_hints_says_how_to_ask_and_drops_them() -> None:
    cell = new_code_cell(METHOD)
    cell.id = "ex9-blank-optimizer"
    cell.metadata["kit"] = {"hints": ["a stronger hint"], "other": 1}
    plain = new_code_cell(METHOD)
    plain.id = "ex9-blank-plain"
    starter = make_starter(_solution(cell, plain), "99_demo.ipynb").notebook
    assert _raised_hints(starter.cells[0].source) == [
        "return the optimizer and the scheduler dict (stronger hint: hint('ex9-optimizer'))"
    ]
    assert starter.cells[0].metadata["kit"] == {"other": 1}  # the hints stay out of the starter
    assert _raised_hints(starter.cells[1].source) == ["return the optimizer and the scheduler dict"]
    assert "a stronger hint" not in notebooks.dumps(starter)
