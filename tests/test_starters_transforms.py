"""kit.transforms.starter: each solution -> starter transform on its own, then their composition."""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kit.starters import make_starter
from kit.transforms import starter as T

BLANK = "def f():\n    ### BEGIN SOLUTION: return one\n    return 1\n    ### END SOLUTION\n"


def _nb(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kit"] = {"exercise": "99_demo", "role": "solution"}
    return nb


def _ctx(nb: nbformat.NotebookNode) -> T.StarterContext:
    ctx = T.StarterContext("99_demo.ipynb")
    T.require_solution(nb, ctx)
    return ctx


def test_require_solution_records_positions_and_refuses_starters() -> None:
    nb = _nb(new_markdown_cell("a", id="a"), new_code_cell("x", id="b"))
    assert _ctx(nb).positions == {"a": 0, "b": 1}
    nb.metadata["kit"]["role"] = "starter"
    with pytest.raises(T.StarterError, match=r"kit\.role is 'starter'"):
        _ctx(nb)


def test_drop_hidden_checks_counts_what_it_drops() -> None:
    hidden = new_code_cell("assert ok", id="h", metadata={"tags": ["hidden-check"]})
    check = new_code_cell("check()", id="c", metadata={"tags": ["check"]})
    nb = _nb(check, hidden)
    ctx = _ctx(nb)
    T.drop_hidden_checks(nb, ctx)
    assert [c.id for c in nb.cells] == ["c"] and ctx.dropped_cells == 1


def test_clear_solutions_blanks_code_only_and_names_the_solution_position() -> None:
    md = new_markdown_cell("### BEGIN SOLUTION in prose is not a marker", id="md")
    nb = _nb(md, new_code_cell(BLANK, id="ex9-blank-f"))
    ctx = _ctx(nb)
    T.clear_solutions(nb, ctx)
    assert nb.cells[0].source == md.source
    assert nb.cells[1].source == 'def f():\n    # YOUR CODE HERE\n    raise NotImplementedError("return one")\n'
    assert ctx.blanks == 1
    # After a hidden cell was dropped, messages still give the cell's index in the solution.
    hidden = new_code_cell("x", id="h", metadata={"tags": ["hidden-check"]})
    bad = _nb(hidden, new_code_cell("### END SOLUTION", id="z"))
    ctx = _ctx(bad)
    T.drop_hidden_checks(bad, ctx)
    with pytest.raises(T.StarterError, match=r"solutions/99_demo.ipynb: cell 1 \(id 'z'\)"):
        T.clear_solutions(bad, ctx)


def test_clear_solutions_points_blanks_with_levels_at_hint() -> None:
    cell = new_code_cell(BLANK, id="ex9-blank-f", metadata={"kit": {"hints": ["think"]}})
    nb = _nb(cell)
    T.clear_solutions(nb, _ctx(nb))
    assert "return one (stronger hint: hint('ex9-f'))" in nb.cells[0].source


def test_strip_hint_levels_keeps_other_kit_metadata() -> None:
    a = new_code_cell("x", id="a", metadata={"kit": {"hints": ["h"], "other": 1}})
    b = new_code_cell("y", id="b", metadata={"kit": {"hints": ["h"]}, "tags": ["t"]})
    nb = _nb(a, b)
    T.strip_hint_levels(nb, _ctx(nb))
    assert nb.cells[0].metadata == {"kit": {"other": 1}}
    assert nb.cells[1].metadata == {"tags": ["t"]}


def test_clear_outputs_touches_code_cells_only() -> None:
    code = new_code_cell("print(1)", id="c", execution_count=3)
    code.outputs = [new_output("stream", name="stdout", text="1\n")]
    md = new_markdown_cell("text", id="m")
    nb = _nb(code, md)
    T.clear_outputs(nb, _ctx(nb))
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert "outputs" not in nb.cells[1]


def test_set_badges_points_at_the_starter() -> None:
    nb = _nb(new_markdown_cell("[badge](solutions/99_demo.ipynb)", id="launch-badges"),
             new_markdown_cell("[other](solutions/99_demo.ipynb)", id="other"))
    T.set_badges(nb, _ctx(nb))
    assert "notebooks/99_demo.ipynb" in nb.cells[0].source and "solutions/" not in nb.cells[0].source
    assert nb.cells[1].source == "[other](solutions/99_demo.ipynb)"


def test_set_role_keeps_the_exercise_or_takes_the_file_stem() -> None:
    nb = _nb()
    nb.metadata["kit"] = {"exercise": "named", "role": "solution", "extra": True}
    T.set_role(nb, _ctx(nb))
    assert nb.metadata["kit"] == {"exercise": "named", "role": "starter", "extra": True}
    del nb.metadata["kit"]
    T.set_role(nb, T.StarterContext("42_x.ipynb"))
    assert nb.metadata["kit"] == {"exercise": "42_x", "role": "starter"}


def test_strip_solution_metadata_removes_widget_state_and_timings_only() -> None:
    nb = _nb()
    nb.metadata["widgets"] = {"state": {}}
    nb.metadata["kit_timing"] = {"cell_seconds": {"train": 50.0}}
    nb.metadata["kernelspec"] = {"name": "python3"}
    T.strip_solution_metadata(nb, _ctx(nb))
    assert "widgets" not in nb.metadata and "kit_timing" not in nb.metadata
    assert nb.metadata["kernelspec"] == {"name": "python3"}


def test_make_starter_is_the_composition_of_the_transforms() -> None:
    hidden = new_code_cell("assert ok", id="h", metadata={"tags": ["hidden-check"]})
    blank = new_code_cell(BLANK, id="ex9-blank-f", execution_count=1, metadata={"kit": {"hints": ["think"]}})
    solution = _nb(new_markdown_cell("x", id="launch-badges"), blank, hidden)
    by_hand = copy.deepcopy(solution)
    ctx = T.StarterContext("99_demo.ipynb")
    for transform in T.STARTER_TRANSFORMS:
        transform(by_hand, ctx)
    made = make_starter(solution, "99_demo.ipynb")
    assert nbformat.writes(made.notebook) == nbformat.writes(by_hand)
    assert (made.blanks, made.dropped_cells) == (ctx.blanks, ctx.dropped_cells) == (1, 1)
