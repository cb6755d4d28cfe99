"""The two sides of the grader's protocols agree: the capture plugin (in the grading child) and the
grader that starts it and reads its junit properties; the kit's nbval markers and nbval itself."""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import nbformat
import pytest
from nbformat import NotebookNode

from kit.grade import capture, engine
from kit.grade import rows as R
from kit.grade.registry import load_exercise
from kit.grade.run import CellResult, Limits, RunOutcome, parse_junit, pytest_command, run_settings
from kit.notebooks import NBVAL_TAGS, is_nbval_marker
from kit.transforms.graded import graded_check_cell


class _Item:
    """What capture's report hook reads of an nbval item."""

    def __init__(self, cell: NotebookNode, outputs: list[Any], name: str = "Cell 0") -> None:
        self.cell, self.test_outputs, self.name = cell, outputs, name
        self.nodeid = f"submission.ipynb::{cell.get('id')}"
        self.user_properties: list[tuple[str, str]] = []
        self.parent = None


def _properties(item: _Item, error: Exception | None) -> list[tuple[str, str]]:
    """Run capture's report hook for one cell as pytest does; the junit properties it added."""
    call = SimpleNamespace(when="call", excinfo=None if error is None else SimpleNamespace(value=error))
    hook = capture.pytest_runtest_makereport(cast(Any, item), cast(Any, call))
    next(hook)
    with pytest.raises(StopIteration):
        hook.send(SimpleNamespace(get_result=lambda: None))
    return item.user_properties


def _junit(properties: list[tuple[str, str]], failed: bool) -> bytes:
    """One test case as pytest's junit XML writes it (xunit1)."""
    suite = ET.Element("testsuite")
    case = ET.SubElement(suite, "testcase", name="Cell 0")
    if failed:
        ET.SubElement(case, "failure", message="x")
    holder = ET.SubElement(case, "properties")
    for name, value in properties:
        ET.SubElement(holder, "property", name=name, value=value)
    return ET.tostring(suite)


def _solution_check(text: str) -> NotebookNode:
    cell = nbformat.v4.new_code_cell("check_f()", id="check-f", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return cell


def test_a_failing_check_cell_reaches_the_row_with_its_hint() -> None:
    cell = graded_check_cell(_solution_check("f\n  ✓ a\n"), "check-f", skip=False)
    printed = "f\n  ✗ a — return x * 2\n"
    item = _Item(cell, [nbformat.v4.new_output("stream", name="stdout", text=printed)])
    capture._STARTED[item.nodeid] = time.monotonic()
    props = _properties(item, Exception("Cell outputs differ"))
    result = parse_junit(_junit(props, failed=True), ["check-f"])["check-f"]
    assert (result.kind, result.output, result.error) == (capture.DIFFERS, printed, "")
    assert result.seconds >= 0.0 and capture.SECONDS_PROPERTY in dict(props)
    outcome = RunOutcome(cells={"check-f": result}, seconds=1.0, killed=False)
    assert engine._verdict(result, outcome, Limits(), None, "f\n  ✓ a\n") == (R.FAILED, "✗ a — return x * 2")


def test_a_learner_cell_that_raised_is_named_with_its_error() -> None:
    cell = nbformat.v4.new_code_cell("y = f(1)", id="blank")
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad input", traceback=[])
    props = _properties(_Item(cell, [error]), Exception("Cell execution caused an exception"))
    assert capture.OUTPUT_PROPERTY not in dict(props)  # only the grader's check cells keep their output
    result = parse_junit(_junit(props, failed=True), ["blank"])["blank"]
    assert (result.kind, result.error) == (capture.EXCEPTION, "ValueError: bad input")
    assert engine._context(result, Limits()) == " (earlier, cell 'blank' raised ValueError: bad input)"


def test_a_passing_cell_is_passed() -> None:
    props = _properties(_Item(nbformat.v4.new_code_cell("x = 1", id="a"), []), None)
    assert parse_junit(_junit(props, failed=False), ["a"])["a"] == CellResult("a", capture.PASSED)


def test_the_options_the_grader_passes_are_the_plugins() -> None:
    registered: list[str] = []
    group = SimpleNamespace(addoption=lambda name, **kwargs: registered.append(name))
    capture.pytest_addoption(cast(Any, SimpleNamespace(getgroup=lambda name: group)))
    command = pytest_command("n.ipynb", "j.xml", "p.ini", Limits(), timeouts="t.json", progress_file="progress")
    assert [option for option in command if option.startswith("--kit-")] == registered


def test_the_output_cap_the_grader_sets_is_the_one_the_plugin_reads() -> None:
    env = {**run_settings("token", quick=False, max_output=1234), "PYTHONPATH": str(Path(__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", "import kit.grade.capture as c; print(c.MAX_OUTPUT)"],
                          env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1234"


LINES = ["# NBVAL_SKIP", "#NBVAL_SKIP", "  ## NBVAL_IGNORE_OUTPUT  ", "# NBVAL_CHECK_OUTPUT",
         "# NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP", "# NBVAL_SKIPPED", "# NBVAL_skip", "x = 1  # NBVAL_SKIP", "",
         "# nbval_skip"]


@pytest.mark.parametrize("line", LINES)
def test_an_nbval_marker_is_what_nbval_reads_as_one(line: str) -> None:
    from nbval.plugin import find_comment_markers

    assert is_nbval_marker(line) == bool(dict(find_comment_markers(line)))


def test_the_nbval_tags_are_nbvals() -> None:
    from nbval.plugin import metadata_tags

    assert set(metadata_tags) >= NBVAL_TAGS


def test_a_solution_cell_whose_kit_metadata_is_no_dict_gets_the_default_points(tmp_path: Path) -> None:
    cell = _solution_check("f\n  ✓ a\n")
    cell.metadata = {"tags": ["check"], "kit": "points: 3"}
    path = tmp_path / "ex.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    assert load_exercise(path).checks[0].points == 1
