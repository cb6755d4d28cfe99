"""Grader parts without learner code running: discovery, graded copy, registry, shards, junit, CLI misuse.

One kernel run builds the executed toy solution (the registry refuses unexecuted solutions).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import TOY, build_toy_solutions, toy_solution_source, toy_starter

from kit.grade import rows as R
from kit.grade.__main__ import main
from kit.grade.assemble import CHECK_MARKER, SKIP_MARKER, build_graded_copy
from kit.grade.discover import exercise_from_name, find_submissions, read_notebook
from kit.grade.errors import GradeUsageError
from kit.grade.registry import load_exercise, load_exercises
from kit.grade.run import parse_junit
from kit.grade.shard import merge, parse_shard, select_shard


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("solutions")
    build_toy_solutions(folder)
    return folder


@pytest.fixture(scope="module")
def exercise(toy_dir: Path):
    return load_exercise(toy_dir / f"{TOY}.ipynb")


@pytest.fixture
def starter(exercise):
    return toy_starter(exercise.notebook)


def _ids(nb) -> list[str]:
    return [c["id"] for c in nb.cells]


# --- registry -------------------------------------------------------------------------------

def test_registry_reads_checks_in_order(exercise) -> None:
    assert [(c.id, c.hidden, c.needs_training) for c in exercise.checks] == [
        ("toy-check-double", False, False),
        ("toy-hidden-double", True, False),
        ("toy-check-answer", False, False),
        ("toy-check-train", False, False),
        ("toy-check-target", False, False),
    ]
    assert exercise.max_points == 5


def test_needs_training_tag_is_read(toy_dir: Path, tmp_path: Path) -> None:
    nb = nbformat.read(toy_dir / f"{TOY}.ipynb", as_version=4)
    next(c for c in nb.cells if c["id"] == "toy-check-answer").metadata["tags"].append("needs-training")
    nbformat.write(nb, tmp_path / f"{TOY}.ipynb")
    checks = load_exercise(tmp_path / f"{TOY}.ipynb").checks
    assert [c.id for c in checks if c.needs_training] == ["toy-check-answer"]


def test_unexecuted_solution_is_refused(tmp_path: Path) -> None:
    nbformat.write(toy_solution_source(), tmp_path / f"{TOY}.ipynb")
    with pytest.raises(GradeUsageError, match=r"toy-check-double.*no saved printed output"):
        load_exercises(tmp_path)


def test_unknown_exercise_filter_names_the_known_ones(toy_dir: Path) -> None:
    with pytest.raises(GradeUsageError, match="unknown exercise 07_nope; known exercises: 00_toy"):
        load_exercises(toy_dir, ["07_nope"])


# --- discovery ------------------------------------------------------------------------------

def test_both_layouts_metadata_first_then_file_name(tmp_path: Path, starter) -> None:
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "whatever.ipynb").write_text(nbformat.writes(starter))  # metadata names the exercise
    anonymous = copy.deepcopy(starter)
    anonymous.metadata.pop("kit")
    (tmp_path / "00-Toy_ben.ipynb").write_text(nbformat.writes(anonymous))  # file name only
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "00_toy-checkpoint.ipynb").write_text(nbformat.writes(starter))
    subs = find_submissions(tmp_path, [TOY])
    assert [(s.rel, s.learner, s.exercise, s.problem) for s in subs] == [
        ("00-Toy_ben.ipynb", "ben", TOY, None),
        ("ann/whatever.ipynb", "ann", TOY, None),
    ]


def test_longest_exercise_name_wins() -> None:
    assert exercise_from_name("bob_01_warmup_cosine_v2", ["01_warmup", "01_warmup_cosine"]) == "01_warmup_cosine"
    assert exercise_from_name("homework", ["01_warmup_cosine"]) == ""


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", R.NOT_JSON),
        (b"\x89PNG\r\n\x1a\n\x00\x00", R.NOT_JSON),
        (b"print('hello')\n", R.NOT_JSON),
        (b"[1, 2, 3]", R.NOT_JSON),
        (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5', R.TRUNCATED_JSON),
        (b'{"cells": [{"cell_type": "code", "source": "x = 1', R.TRUNCATED_JSON),
        (b'{"nbformat": 3, "worksheets": []}', R.UNSUPPORTED_NBFORMAT),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"source": "x"}]}', R.INVALID_NOTEBOOK),
    ],
)
def test_unreadable_files_get_a_specific_status(tmp_path: Path, content: bytes, status: str) -> None:
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    nb, problem = read_notebook(path)
    assert nb is None and problem is not None and problem[0] == status


def test_duplicates_are_flagged_both(tmp_path: Path, starter) -> None:
    (tmp_path / "sam").mkdir()
    for name in ("00_toy.ipynb", "00_toy (1).ipynb"):
        (tmp_path / "sam" / name).write_text(nbformat.writes(starter))
    first, second = (s.problem for s in find_submissions(tmp_path, [TOY]))
    assert first is not None and second is not None
    assert [first[0], second[0]] == [R.DUPLICATE, R.DUPLICATE]
    assert "sam/00_toy (1).ipynb, sam/00_toy.ipynb" in first[1]


# --- graded copy ----------------------------------------------------------------------------

def test_graded_copy_restores_edited_and_missing_checks_and_inserts_hidden(exercise,
    starter) -> None:
    learner = copy.deepcopy(starter)
    learner.cells = [c for c in learner.cells if c["id"] != "toy-check-answer"]
    edited = next(c for c in learner.cells if c["id"] == "toy-check-double")
    edited.source = 'print("  ✓ double(3) == 6")'
    learner.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale 99% accuracy\n")]
    learner.cells[2].execution_count = 7
    before = nbformat.writes(learner)
    graded = build_graded_copy(learner, exercise)
    assert nbformat.writes(learner) == before  # the learner's notebook is not touched
    assert graded.restored == {"toy-check-double": "edited", "toy-check-answer": "missing"}
    assert _ids(graded.notebook) == _ids(exercise.notebook)  # hidden and missing back at their places
    for cell in graded.notebook.cells:
        if cell["id"] in {c.id for c in exercise.checks}:
            assert cell.source.startswith(CHECK_MARKER + "\n")
            assert cell.outputs[0]["text"] == "".join(exercise.check(cell["id"]).cell.outputs[0]["text"])
            assert cell.execution_count is not None  # nbval only compares cells with a count
        elif cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None  # saved outputs never trusted


def test_skipped_checks_become_nbval_skip(exercise, starter) -> None:
    graded = build_graded_copy(starter, exercise, skip=frozenset({"toy-check-train"}))
    assert graded.skipped == {"toy-check-train"}
    train = next(c for c in graded.notebook.cells if c["id"] == "toy-check-train")
    assert train.source.startswith(SKIP_MARKER + "\n")


def test_cells_without_ids_are_matched_by_source(exercise, starter) -> None:
    learner = copy.deepcopy(starter)  # as saved by a tool that writes nbformat 4.4 (no cell ids)
    learner.nbformat_minor = 4
    for cell in learner.cells:
        del cell["id"]
    graded = build_graded_copy(learner, exercise)
    assert graded.restored == {}  # unchanged check cells are recognised, not reported as deleted
    ids = _ids(graded.notebook)
    # The blank, right before its check: edited, so found by position (the notebook has the starter's shape).
    assert ids[ids.index("toy-check-double") - 1] == "toy-blank-double"
    assert ids.index("toy-hidden-double") == ids.index("toy-check-double") + 1


def test_regenerated_ids_are_matched_by_source_then_position(exercise, starter) -> None:
    import uuid

    learner = copy.deepcopy(starter)  # ids rewritten by a tool: none is the solution's
    for cell in learner.cells:
        cell["id"] = uuid.uuid4().hex[:8]
    graded = build_graded_copy(learner, exercise)
    assert graded.restored == {}  # unchanged check cells are found by source, not reported as deleted
    ids = _ids(graded.notebook)
    assert ids.index("toy-hidden-double") == ids.index("toy-check-double") + 1
    solved = copy.deepcopy(starter)  # the starter's shape: every cell found, edited ones by position
    for cell in solved.cells:
        cell["id"] = uuid.uuid4().hex[:8]
    blank = next(c for c in solved.cells if "NotImplementedError" in "".join(c.source))
    blank.source = "def double(x):\n    return x + x\n"
    assert _ids(build_graded_copy(solved, exercise).notebook) == _ids(exercise.notebook)


def test_an_added_cell_never_takes_a_checks_place(exercise, starter) -> None:
    learner = copy.deepcopy(starter)  # one cell of the learner's own where the hidden check sits in the solution
    at = next(i for i, c in enumerate(learner.cells) if c["id"] == "toy-check-double") + 1
    extra = nbformat.v4.new_code_cell("print('mine')")
    extra["id"] = "mine"
    learner.cells.insert(at, extra)
    ids = _ids(build_graded_copy(learner, exercise).notebook)
    assert "mine" in ids and ids.index("toy-hidden-double") == ids.index("toy-check-double") + 1


def test_judged_checks_become_evidence_cells(exercise, starter) -> None:
    from kit.grade.assemble import META_KEY

    graded = build_graded_copy(starter, exercise, evidence={"toy-check-double": "# NBVAL_IGNORE_OUTPUT\ncollect()\n"})
    cell = next(c for c in graded.notebook.cells if c["id"] == "toy-check-double")
    assert cell.source == "# NBVAL_IGNORE_OUTPUT\ncollect()\n" and cell.outputs == []
    assert cell.metadata[META_KEY] == {"check": "toy-check-double", "evidence": True}


def test_huge_file_is_not_read(tmp_path: Path, monkeypatch) -> None:
    from kit.grade import discover

    monkeypatch.setattr(discover, "MAX_BYTES", 10)
    path = tmp_path / "x.ipynb"
    path.write_bytes(b"{" + b" " * 20 + b"}")
    problem = read_notebook(path)[1]
    assert problem is not None and problem[0] == R.TOO_LARGE


def test_check_missing_with_its_anchor_goes_after_the_nearest_earlier_cell(exercise,
    starter) -> None:
    learner = copy.deepcopy(starter)
    learner.cells = [c for c in learner.cells if c["id"] not in ("toy-blank-answer", "toy-check-answer")]
    ids = _ids(build_graded_copy(learner, exercise).notebook)
    assert ids.index("toy-check-answer") == ids.index("toy-hidden-double") + 1


# --- junit ----------------------------------------------------------------------------------

def test_parse_junit_maps_cell_numbers_to_ids(tmp_path: Path) -> None:
    xml = tmp_path / "j.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="submission.ipynb" name="Cell 0"><properties>'
        '<property name="kit_kind" value="passed"/></properties></testcase>'
        '<testcase classname="submission.ipynb" name="Cell 1"><failure message="x"/><properties>'
        '<property name="kit_kind" value="differs"/><property name="kit_output" value="  ✗ a — hint"/>'
        '</properties></testcase>'
        '<testcase classname="submission.ipynb" name="Cell 2"><failure message="x"/></testcase>'
        '<testcase classname="submission.ipynb" name="Cell 3"><skipped message="nbval skip"/></testcase>'
        '</testsuite></testsuites>'
    )
    results = parse_junit(xml, ["a", "b", "c", "d"])
    assert [(r.cell_id, r.kind, r.output) for r in results.values()] == [
        ("a", "passed", ""), ("b", "differs", "  ✗ a — hint"), ("c", "grader-error", ""), ("d", "skipped", ""),
    ]


# --- shards and merge -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "2", ""])
def test_bad_shard_is_misuse(text: str) -> None:
    with pytest.raises(GradeUsageError, match="--shard"):
        parse_shard(text)


def test_shards_partition_the_class_and_keep_duplicates_together(tmp_path: Path,
                                                                 starter) -> None:
    for learner in ("a", "b", "c", "d", "e"):
        (tmp_path / learner).mkdir()
        (tmp_path / learner / "00_toy.ipynb").write_text(nbformat.writes(starter))
    (tmp_path / "c" / "00_toy v2.ipynb").write_text(nbformat.writes(starter))
    subs = find_submissions(tmp_path, [TOY])
    parts = [select_shard(subs, i, 3) for i in (1, 2, 3)]
    assert sorted(s.rel for p in parts for s in p) == sorted(s.rel for s in subs)
    assert any({s.rel for s in p} >= {"c/00_toy.ipynb", "c/00_toy v2.ipynb"} for p in parts)
    assert [s.rel for s in select_shard(subs, 2, 3)] == [s.rel for s in parts[1]]  # deterministic


def _write_run(folder: Path, rows: list[R.Row], mode: str) -> None:
    folder.mkdir()
    R.write_csv(rows, folder / "grades.csv")
    (folder / "run.json").write_text(json.dumps({"mode": mode}))


def _rows(learner: str) -> list[R.Row]:
    check = R.Row(learner, TOY, f"{learner}/00_toy.ipynb", "toy-check-double", R.PASSED, 1, 1, 1)
    return [check, R.total_row([check])]


def test_merge_combines_and_refuses_overlap_or_mixed_modes(tmp_path: Path) -> None:
    _write_run(tmp_path / "s1", _rows("b"), "quick")
    _write_run(tmp_path / "s2", _rows("a"), "quick")
    rows, settings = merge([tmp_path / "s1", tmp_path / "s2"])
    assert [(r.learner, r.check) for r in rows] == [("a", "toy-check-double"), ("a", "TOTAL"),
                                                      ("b", "toy-check-double"), ("b", "TOTAL")]
    assert settings["mode"] == "quick"
    with pytest.raises(GradeUsageError, match="graded in both"):
        merge([tmp_path / "s1", tmp_path / "s1"])
    _write_run(tmp_path / "s3", _rows("c"), "full")
    with pytest.raises(GradeUsageError, match="cannot merge quick and full"):
        merge([tmp_path / "s1", tmp_path / "s3"])


def test_summary_and_merge_say_whether_the_sandbox_was_on(tmp_path: Path) -> None:
    from kit.grade.report import summary_text

    rows = _rows("a")
    assert "Sandbox: on (one bubblewrap sandbox per submission)." in summary_text(rows,
        {"mode": "full", "sandbox": True})
    assert "Sandbox: **OFF** (--no-sandbox" in summary_text(rows, {"mode": "full", "sandbox": False})
    for name, sandboxed in (("on1", True), ("on2", True), ("off", False)):
        _write_run(tmp_path / name, _rows(name), "full")
        (tmp_path / name / "run.json").write_text(json.dumps({"mode": "full", "sandbox": sandboxed}))
    assert merge([tmp_path / "on1", tmp_path / "on2"])[1]["sandbox"] is True
    _, mixed = merge([tmp_path / "on1", tmp_path / "off"])
    assert mixed["sandbox"] == "mixed" and "Sandbox: mixed" in summary_text(rows, mixed)


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = [*_rows("a"), R.Row("z", "unknown", "z.ipynb", R.SUBMISSION_CHECK, R.NOT_JSON, 0, 0, 0, "",
                               'message with "quotes", commas and ✗')]
    R.write_csv(rows, tmp_path / "g.csv")
    assert R.read_csv(tmp_path / "g.csv") == rows


# --- command line misuse --------------------------------------------------------------------

def test_cli_misuse_exits_2_with_a_clear_message(tmp_path: Path, toy_dir: Path,
                                                 capsys) -> None:
    assert main([str(tmp_path / "missing"), "--solutions", str(toy_dir)]) == 2
    assert "submissions folder" in capsys.readouterr().err
    assert main([str(tmp_path), "--solutions", str(toy_dir), "--exercise", "07_nope"]) == 2
    assert "unknown exercise 07_nope" in capsys.readouterr().err
    assert main([str(tmp_path), "--solutions", str(toy_dir), "--shard", "3/2"]) == 2
    assert "--shard" in capsys.readouterr().err
    assert main([str(tmp_path), "--solutions", str(toy_dir), "--out", str(tmp_path / "grades")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "nothing"), "--out", str(tmp_path / "m")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_empty_class_is_graded_with_exit_0(tmp_path: Path, toy_dir: Path) -> None:
    (tmp_path / "class" / "ann").mkdir(parents=True)
    (tmp_path / "class" / "ann" / "notes.txt").write_text("not a notebook, not looked at")
    assert main([str(tmp_path / "class"), "--solutions", str(toy_dir), "--out", str(tmp_path / "out")]) == 0
    assert R.read_csv(tmp_path / "out" / "grades.csv") == []


def test_probe_seed_option_reaches_the_grader(tmp_path: Path, toy_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--probe-seed`` replays a run's probe lengths (run.json records the seed per exercise)."""
    import kit.grade.__main__ as cli

    seen: list[int | None] = []

    def fake_grade_all(subs, exercises, limits, **kwargs):
        seen.append(kwargs.get("probe_seed"))
        return [], {}

    monkeypatch.setattr(cli, "grade_all", fake_grade_all)
    (tmp_path / "inbox").mkdir()
    args = [str(tmp_path / "inbox"), "--solutions", str(toy_dir), "--out", str(tmp_path / "out"), "--no-sandbox"]
    assert cli.main([*args, "--probe-seed", "7"]) == 0
    assert cli.main(args) == 0
    assert seen == [7, None]
