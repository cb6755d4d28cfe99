"""Run every untouched starter top to bottom (like nbgrader's ``validate --invert``).

Each committed ``notebooks/*.ipynb`` is executed in a fresh kernel with errors allowed, in a
temporary copy of ``notebooks/`` (nothing is written into the repository) and with
``KIT_QUICK_EPOCHS=1`` so that any training it reaches stays cheap. The rules:

(a) the first error raised is a ``NotImplementedError`` carrying the hint of a blank defined in
    that cell or an earlier one (the learner sees their hint first, not some other failure);
(b) no cell before the first blank raises at all (the imports, data and explanations run);
(c) every cell tagged ``check`` prints at least one ``✗`` line (an unfinished exercise never
    passes its self-check) or, when its input is the result of an earlier cell that stopped at
    a blank (e.g. ``check_training_result(result, ...)`` after the training cell failed), stops
    with that ``NameError`` before the check can run; and every error is either a blank's ``NotImplementedError`` (its
    message carries the hint) or a ``NameError`` that follows from an earlier failed cell. A
    blank's hint may travel through library frames (torch's ``LambdaLR`` calls the learner's
    factor function at construction), since the learner still sees their hint last; any other
    error from inside Lightning, pl_bolts or torch is reported as such.
"""

from __future__ import annotations

import ast
import itertools
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kit import notebooks
from kit.execute import run_notebook

REPO = Path(__file__).resolve().parents[1]
STARTERS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 600
# Library frames that must never appear in a starter's tracebacks (paths as ipykernel prints them).
_LIBRARY_FRAME = re.compile(r"site-packages/(lightning|pytorch_lightning|lightning_fabric|pl_bolts|torch)/")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def blank_hints(cell: NotebookNode) -> list[str]:
    """The hints of the generated blanks (``# YOUR CODE HERE`` + ``raise NotImplementedError``) in a cell."""
    if cell.cell_type != "code" or "# YOUR CODE HERE" not in cell.source:
        return []
    lines = cell.source.splitlines()
    hints = []
    for marker, raise_line in itertools.pairwise(lines):
        if marker.strip() == "# YOUR CODE HERE" and raise_line.strip().startswith("raise NotImplementedError("):
            statement = ast.parse(raise_line.strip()).body[0]
            assert isinstance(statement, ast.Raise) and isinstance(statement.exc, ast.Call)
            hint = statement.exc.args[0]
            assert isinstance(hint, ast.Constant) and isinstance(hint.value, str)
            hints.append(hint.value)
    return hints


def _errors(cell: NotebookNode) -> list[NotebookNode]:
    return [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _printed(cell: NotebookNode) -> str:
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        elif "data" in out:
            texts.append(out["data"].get("text/plain", ""))
    return "".join(texts)


def starter_problems(nb: NotebookNode) -> list[str]:
    """Every broken rule (a)-(c) of the module docstring in an executed starter, one line each."""
    problems: list[str] = []
    hints_so_far: list[str] = []
    first_blank = next((i for i, c in enumerate(nb.cells) if blank_hints(c)), None)
    if first_blank is None:
        return ["the starter has no blank (# YOUR CODE HERE + raise NotImplementedError)"]
    first_error_seen = False
    for index, cell in enumerate(nb.cells):
        hints_so_far += blank_hints(cell)
        where = notebooks.describe_cell(nb, index)
        for error in _errors(cell):
            shown = f"{error.ename}: {error.evalue}"
            if index < first_blank:
                problems.append(f"(b) {where} raised before the first blank: {shown}")
            if not first_error_seen:
                first_error_seen = True
                if error.ename != "NotImplementedError" or not any(h in error.evalue for h in hints_so_far):
                    problems.append(f"(a) {where}: the first error is not a blank's NotImplementedError: {shown}")
            is_blank = error.ename == "NotImplementedError" and any(h in error.evalue for h in hints_so_far)
            if is_blank or error.ename == "NameError":
                continue
            trace = _ANSI.sub("", "\n".join(error.get("traceback", [])))
            library = _LIBRARY_FRAME.search(trace)
            inside = f" from inside {library.group(1)}" if library else ""
            problems.append(f"(c) {where}: an error other than a blank's hint{inside}: {shown}")
        if "check" in cell.get("metadata", {}).get("tags", []):
            crossed = any(line.lstrip().startswith("✗") for line in _printed(cell).splitlines())
            if not crossed and not any(e.ename == "NameError" for e in _errors(cell)):
                problems.append(f"(c) check {where} printed no ✗ line (errors: {[e.ename for e in _errors(cell)]})")
    if not first_error_seen:
        problems.append("(a) the untouched starter ran without any error: its blanks never stop it")
    return problems


def test_the_rules_catch_a_broken_starter() -> None:
    """The rules above can fail: a fake executed starter breaking each one is reported."""
    setup = new_code_cell("import helpers", id="imports")
    setup.outputs = [new_output("error", ename="ImportError", evalue="no helpers", traceback=[])]
    blank = new_code_cell('def f():\n    # YOUR CODE HERE\n    raise NotImplementedError("write f")', id="blank-f")
    deep = new_code_cell("fit_and_test(model)", id="train")
    deep.outputs = [new_output("error", ename="RuntimeError", evalue="bad", traceback=[
        "File /x/lib/python3.11/site-packages/lightning/pytorch/trainer/trainer.py:42"])]
    check = new_code_cell("check_f(f)", id="check-f", metadata={"tags": ["check"]})
    check.outputs = [new_output("stream", name="stdout", text="✓ f\n")]
    problems = starter_problems(new_notebook(cells=[setup, blank, deep, check]))
    assert [p[:3] for p in problems] == ["(b)", "(a)", "(c)", "(c)", "(c)"], problems
    assert "'imports'" in problems[0] and "'check-f'" in problems[4]
    assert "'train'" in problems[3] and "from inside lightning" in problems[3]

    # The same notebook done right: the hint may pass through torch, a follow-on NameError is fine.
    deep.outputs = [new_output("error", ename="NotImplementedError", evalue="not finished yet: write f",
                               traceback=["File /x/site-packages/torch/optim/lr_scheduler.py:395"])]
    check.outputs = [new_output("stream", name="stdout", text="Check f\n✗ f — write f first\n")]
    after = new_code_cell("print(result)", id="after")
    after.outputs = [new_output("error", ename="NameError", evalue="name 'result' is not defined", traceback=[])]
    late_check = new_code_cell("check_result(result)", id="check-result", metadata={"tags": ["check"]})
    late_check.outputs = [new_output("error", ename="NameError", evalue="name 'result' is not defined", traceback=[])]
    ok = new_notebook(cells=[new_code_cell("x = 1", id="ok"), blank, deep, check, after, late_check])
    assert starter_problems(ok) == []


@pytest.mark.parametrize(
    "starter",
    STARTERS or [pytest.param(None, marks=pytest.mark.skip(reason="notebooks/ holds no starter yet"))],
    ids=[p.name for p in STARTERS] or ["no-starters"],
)
def test_untouched_starter_stops_at_its_blanks(
    starter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", work, ignore=shutil.ignore_patterns("logs", ".ipynb_checkpoints"))
    monkeypatch.setenv("KIT_QUICK_EPOCHS", "1")
    nb: nbformat.NotebookNode = notebooks.read(work / starter.name)
    run_notebook(nb, cwd=work, timeout=CELL_TIMEOUT, allow_errors=True)
    problems = starter_problems(nb)
    assert not problems, f"notebooks/{starter.name}:\n" + "\n".join(problems)
