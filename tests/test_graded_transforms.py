"""kit.transforms.graded: each graded-copy transform on its own, the composition, and two
matching cases where a learner's cell could be dropped or taken for a check.

The exercise is built in memory (its check cells carry hand-written "saved" outputs), so no
kernel runs here; tests/test_grade_units.py covers the same API on an executed toy solution.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kit.grade.assemble import build_graded_copy
from kit.grade.registry import Check, Exercise
from kit.transforms import graded as T


def _code(cell_id: str, source: str, tags: list[str] | None = None,
          printed: str | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(source, id=cell_id, metadata={"tags": tags} if tags else {})
    if printed is not None:
        cell.outputs = [new_output("stream", name="stdout", text=printed)]
        cell.execution_count = 1
    return cell


@pytest.fixture
def exercise() -> Exercise:
    cells = [
        new_markdown_cell("# Demo", id="intro"),
        _code("setup", "from demo import *"),
        _code("blank-f", "def f():\n    ### BEGIN SOLUTION: return 2\n    return 2\n    ### END SOLUTION"),
        _code("check-f", "check_f(f)", ["check"], "✓ f\n"),
        _code("hidden-f", "assert f() == 2\nprint('ok')", ["hidden-check"], "ok\n"),
        _code("blank-g", "def g():\n    ### BEGIN SOLUTION: return 3\n    return 3\n    ### END SOLUTION"),
        _code("check-g", "check_g(g)", ["check"], "✓ g\n"),
        _code("summary", "print(f() + g())"),
    ]
    nb = new_notebook(cells=cells, metadata={"kit": {"exercise": "99_demo", "role": "solution"}})
    checks = tuple(
        Check(c.id, i, "hidden-check" in c.metadata["tags"], 1.0, False, c)
        for i, c in enumerate(cells) if c.metadata.get("tags")
    )
    return Exercise("99_demo", Path("99_demo.ipynb"), nb, checks)


@pytest.fixture
def learner(exercise: Exercise) -> nbformat.NotebookNode:
    """The starter as a learner saved it: hidden check gone, blanks filled, some outputs."""
    nb = copy.deepcopy(exercise.notebook)
    nb.cells = [c for c in nb.cells if c.id != "hidden-f"]
    for cell in nb.cells:
        if cell.id.startswith("blank-"):
            cell.source = cell.source.replace("### BEGIN SOLUTION: return 2\n", "").replace("### END SOLUTION", "")
            cell.outputs = [new_output("stream", name="stdout", text="stale\n")]
            cell.execution_count = 9
    return nb


def _ids(slots: list[T.Slot]) -> list[str]:
    return [s.id for s in slots]


def _mine(cell_id: str | None = "mine", source: str = "print('mine')") -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    if cell_id is None:
        del cell["id"]
    else:
        cell["id"] = cell_id
    return cell


def _insert_after(nb: nbformat.NotebookNode, anchor: str, cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.insert(next(i for i, c in enumerate(nb.cells) if c.get("id") == anchor) + 1, cell)
    return nb


# --- matching -------------------------------------------------------------------------------

def test_match_cells_by_id_then_source(exercise: Exercise, learner: nbformat.NotebookNode) -> None:
    for cell in learner.cells:
        if cell.id in ("setup", "check-g"):
            del cell["id"]  # as an nbformat 4.4 tool would save them
    slots = T.match_cells(learner, T.GradedContext(exercise))
    assert _ids(slots) == ["intro", "setup", "blank-f", "check-f", "blank-g", "check-g", "summary"]
    assert [s.check for s in slots] == [False, False, False, True, False, True, False]


def test_match_cells_by_position_when_every_id_was_regenerated(exercise: Exercise,
                                                              learner: nbformat.NotebookNode) -> None:
    for cell in learner.cells:
        cell["id"] = uuid.uuid4().hex[:8]
    assert _ids(T.match_cells(learner, T.GradedContext(exercise))) == [
        "intro", "setup", "blank-f", "check-f", "blank-g", "check-g", "summary"]


def test_a_second_copy_of_a_check_is_dropped_other_repeats_renamed(exercise: Exercise,
                                                                  learner: nbformat.NotebookNode) -> None:
    nb = _insert_after(learner, "check-f", copy.deepcopy(learner.cells[3]))
    nb = _insert_after(nb, "setup", copy.deepcopy(learner.cells[1]))
    assert _ids(T.match_cells(nb, T.GradedContext(exercise))) == [
        "intro", "setup", "setup-copy2", "blank-f", "check-f", "blank-g", "check-g", "summary"]


@pytest.mark.parametrize("cell_id", ["mine", None, "hidden-f"])
def test_a_learner_cell_between_a_check_and_the_hidden_check_is_kept(
    exercise: Exercise, learner: nbformat.NotebookNode, cell_id: str | None
) -> None:
    """The learner's cell is kept, also when it carries the hidden check's own id (the learner cannot
    know it, but a collision or a copied cell can give it): it is never replaced by the check."""
    graded = build_graded_copy(_insert_after(learner, "check-f", _mine(cell_id)), exercise)
    sources = ["".join(c.source) for c in graded.notebook.cells]
    assert sum("print('mine')" in s for s in sources) == 1
    ids = [c.id for c in graded.notebook.cells]
    assert ids.index("hidden-f") == ids.index("check-f") + 1
    assert graded.restored == {}


def test_position_never_turns_a_learner_cell_into_a_check(exercise: Exercise,
                                                          learner: nbformat.NotebookNode) -> None:
    """Every id regenerated, the last cell deleted and one added after ``check-f``: the notebook
    keeps the starter's shape, so matching by position would give the learner's ``g`` the id of
    ``check-g`` and replace it by the check (reported as an edited check): matching must not."""
    nb = copy.deepcopy(learner)
    nb.cells = [c for c in nb.cells if c.id != "summary"]
    nb = _insert_after(nb, "check-f", _mine())
    for cell in nb.cells:
        cell["id"] = uuid.uuid4().hex[:8]
    graded = build_graded_copy(nb, exercise)
    sources = ["".join(c.source) for c in graded.notebook.cells]
    assert any("return 3" in s for s in sources), "the learner's g() is graded"
    assert any("print('mine')" in s for s in sources)
    assert graded.restored == {}
    assert [c.id for c in graded.notebook.cells].count("check-g") == 1


# --- transforms -----------------------------------------------------------------------------

def test_restore_checks_replaces_the_learners_copy_and_records_edits(exercise: Exercise,
                                                                    learner: nbformat.NotebookNode) -> None:
    next(c for c in learner.cells if c.id == "check-f").source = "print('✓ f')"
    ctx = T.GradedContext(exercise)
    slots = T.restore_checks(T.match_cells(learner, ctx), ctx)
    assert ctx.restored == {"check-f": "edited"}
    assert slots[3].cell is exercise.check("check-f").cell and slots[5].cell is exercise.check("check-g").cell


def test_insert_missing_checks_puts_them_after_their_solution_anchor(exercise: Exercise,
                                                                    learner: nbformat.NotebookNode) -> None:
    learner.cells = [c for c in learner.cells if c.id not in ("check-g", "blank-g", "summary")]
    ctx = T.GradedContext(exercise)
    slots = T.insert_missing_checks(T.match_cells(learner, ctx), ctx)
    assert _ids(slots) == ["intro", "setup", "blank-f", "check-f", "hidden-f", "check-g"]
    assert ctx.restored == {"check-g": "missing"}, "hidden checks are inserted, not reported"
    assert all(s.check for s in slots[3:])


def test_clean_learner_cells_clears_outputs_and_nbval_tags_on_a_copy(exercise: Exercise,
                                                                    learner: nbformat.NotebookNode) -> None:
    blank = next(c for c in learner.cells if c.id == "blank-f")
    blank.metadata["tags"] = ["nbval-skip", "mine"]
    blank.metadata[T.META_KEY] = {"check": "check-f"}
    before = nbformat.writes(learner)
    ctx = T.GradedContext(exercise)
    slots = T.clean_learner_cells(T.match_cells(learner, ctx), ctx)
    cell = slots[2].cell
    assert cell.outputs == [] and cell.execution_count is None
    assert cell.metadata == {"tags": ["mine"]}
    assert nbformat.writes(learner) == before
    assert slots[3].cell is learner.cells[3], "checks are left to the other transforms"


def test_render_checks_marks_skips_references_and_evidence(exercise: Exercise,
                                                          learner: nbformat.NotebookNode) -> None:
    ctx = T.GradedContext(exercise, skip=frozenset({"check-g"}), references={"check-f": "✓ quick\n"},
                          evidence={"hidden-f": "collect()\n"})
    slots = T.render_checks(T.insert_missing_checks(T.restore_checks(T.match_cells(learner, ctx), ctx), ctx), ctx)
    by_id = {s.id: s.cell for s in slots}
    assert by_id["check-f"].source.startswith(T.CHECK_MARKER + "\n")
    assert by_id["check-f"].outputs[0]["text"] == "✓ quick\n"
    assert by_id["check-g"].source.startswith(T.SKIP_MARKER + "\n")
    assert by_id["check-g"].outputs[0]["text"] == "✓ g\n"
    assert by_id["hidden-f"].source == "collect()\n"
    assert by_id["hidden-f"].metadata[T.META_KEY] == {"check": "hidden-f", "evidence": True}


def test_build_graded_copy_is_the_composition(exercise: Exercise, learner: nbformat.NotebookNode) -> None:
    ctx = T.GradedContext(exercise, skip=frozenset({"check-g"}))
    slots = T.apply(T.match_cells(learner, ctx), ctx)
    graded = build_graded_copy(learner, exercise, skip=frozenset({"check-g"}))
    assert [nbformat.writes(c) for c in graded.notebook.cells] == [nbformat.writes(s.cell) for s in slots]
    assert graded.skipped == {"check-g"} and graded.notebook.metadata == exercise.notebook.metadata
