"""kit release: the learner copy holds no solution code and no answer key, its starters run up to
their first blank from the copy alone, the course is not touched, and bad targets are refused."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.hints import load_levels, solution_regions
from helpers.quiz import answer_hash
from kit.course import course
from kit.release import WITHHELD_ANSWER, ReleaseError, main, release
from kit.starters import blank_source

ROOT = course().root
REPO_URL, REF = "https://github.com/example-school/lr-course-2027", "spring-2027"
STARTER_NAMES = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
CELL_TIMEOUT = 600


# Audit events that change the file system, and which of their arguments are paths written to.
_WRITES = {"os.rename": (0, 1), "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.chmod": (0,),
           "os.utime": (0,), "os.symlink": (1,), "shutil.copyfile": (1,), "shutil.rmtree": (0,)}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_recording: list[list[str]] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _recording:
        return
    paths: list[object] = []
    if event == "open" and len(args) >= 3:
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and set(mode) & set("wax+")) or (isinstance(flags, int) and flags & _WRITE_FLAGS):
            paths.append(args[0])
    for index in _WRITES.get(event, ()):
        if index < len(args):
            paths.append(args[index])
    _recording[-1].extend(os.fsdecode(p) for p in paths if isinstance(p, (str, bytes, os.PathLike)))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published") / "release"
    _recording.append([])
    try:
        release(out, repo_url=REPO_URL, ref=REF, seed=7)
    finally:
        written = _recording.pop()
    assert written, "the audit hook saw the release's writes"
    into_course = [p for p in written if Path(p).resolve().is_relative_to(ROOT)]
    assert not into_course, f"kit release wrote into the course: {into_course[:5]}"
    return out


def _texts(root: Path) -> dict[str, str]:
    """Every file of the release as text (binary files as latin-1, so a byte search still works)."""
    return {str(p.relative_to(root)): p.read_bytes().decode("latin-1") for p in sorted(root.rglob("*")) if p.is_file()}


def _solution_cells() -> list[nbformat.NotebookNode]:
    return [c for name in STARTER_NAMES for c in nbformat.read(ROOT / "solutions" / name, as_version=4).cells
            if c.cell_type == "code"]


# --- what is in it ---------------------------------------------------------------------------

def test_layout_starters_helpers_install_files_and_no_solutions_or_kit(released: Path) -> None:
    assert sorted(p.name for p in (released / "notebooks").glob("*.ipynb")) == STARTER_NAMES
    assert (released / "helpers" / "__init__.py").is_file() and (released / "helpers" / "checks").is_dir()
    for name in ("README.md", "requirements.txt", "environment.yml", "pyproject.toml"):
        assert (released / name).is_file(), name
    assert not (released / "solutions").exists() and not (released / "kit").exists()
    assert not list(released.rglob("__pycache__"))
    project = (released / "pyproject.toml").read_text(encoding="utf-8")
    assert "[project.scripts]" not in project and "kit.cli" not in project, "no `kit` command without kit/"
    assert 'include = ["helpers*"]' in project and "kit*" not in project


def test_the_copy_builds_its_venv_with_the_files_it_holds(released: Path, tmp_path: Path) -> None:
    """``make lab`` in the published copy runs its tools/ensure_venv.sh, which reads the requirement
    lists and the lock: every file it needs must be in the copy (a fake python stands in for pip)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 0\n")
    (venv / "bin" / "python").chmod(0o755)
    done = subprocess.run(["bash", str(released / "tools" / "ensure_venv.sh"), str(venv)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (venv / ".kit-stamp").read_text().split()[1] == str(released)


def test_no_solution_code(released: Path) -> None:
    texts = _texts(released)
    for rel, text in texts.items():
        # No marker line anywhere (helpers/hints.py may name the marker inside a regular expression).
        markers = [line for line in text.splitlines()
                   if line.strip().startswith(("### BEGIN SOLUTION", "### END SOLUTION"))]
        assert not markers, f"{rel}: {markers[:2]}"
        if not rel.endswith(".py"):
            assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, rel
    regions = [code for cell in _solution_cells() for _, code in solution_regions(cell.source)]
    given = "\n".join(blank_source(cell.source)[0] for cell in _solution_cells())
    assert len(regions) >= 8, "the course's blanks were found"
    starter_sources = "\n".join(
        c.source for name in STARTER_NAMES for c in nbformat.read(released / "notebooks" / name, as_version=4).cells)
    for code in regions:
        for rel, text in texts.items():
            assert code not in text, f"{rel} holds a solution region:\n{code}"
        # Every distinctive line of an answer is absent from the starters, unless the solutions
        # themselves show it outside their marked regions (a line given in another cell).
        for line in code.splitlines():
            if len(line.strip()) >= 30 and line.strip() not in given:
                assert line.strip() not in starter_sources, f"a starter holds the solution line {line.strip()!r}"


def test_hints_keep_their_levels_but_not_the_answer(released: Path) -> None:
    course_levels = load_levels(course().hint_data)
    released_levels = load_levels(released / "helpers" / "hint_data" / "hints.json")
    assert course_levels and sorted(released_levels) == sorted(course_levels)
    texts = _texts(released)
    for key, levels in course_levels.items():
        answer = levels[-1]
        assert released_levels[key] == [*levels[:-1], WITHHELD_ANSWER]
        encoded = base64.b64encode(answer.encode()).decode()
        for rel, text in texts.items():
            assert answer not in text and encoded not in text, f"{rel} holds the answer level of {key}"


def test_quiz_files_carry_decoys_not_the_real_hashes(released: Path) -> None:
    quizzes = sorted((ROOT / "helpers" / "quiz_data").glob("*.json"))
    assert quizzes
    texts = _texts(released)
    for path in quizzes:
        real = json.loads(path.read_text(encoding="utf-8"))
        copy = json.loads((released / "helpers" / "quiz_data" / path.name).read_text(encoding="utf-8"))
        assert copy["graded_by_instructor"] is True
        assert [q["id"] for q in copy["questions"]] == [q["id"] for q in real["questions"]]
        for question in real["questions"]:
            options = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(question.get("options", []))]
            valid = {answer_hash(real["salt"], question["id"], letter) for letter in options}
            shown = next(q for q in copy["questions"] if q["id"] == question["id"])["answer_hash"]
            assert shown not in valid, f"{question['id']}: the decoy is an option's hash"
            for rel, text in texts.items():
                assert question["answer_hash"] not in text, f"{rel} holds the real hash of {question['id']}"


def test_starters_have_no_solution_metadata_and_point_at_the_release(released: Path) -> None:
    for name in STARTER_NAMES:
        nb = nbformat.read(released / "notebooks" / name, as_version=4)
        assert nb.metadata["kit"]["role"] == "starter"
        assert "kit_timing" not in nb.metadata and "widgets" not in nb.metadata
        assert all("hints" not in c.metadata.get("kit", {}) for c in nb.cells)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        badges, setup = nb.cells[0], nb.cells[1]
        assert f"example-school/lr-course-2027/blob/{REF}/notebooks/{name}" in badges.source
        assert f'REPO_URL, REF = "{REPO_URL}", "{REF}"' in setup.source
        assert "lr-course-kit" not in badges.source + setup.source
    cloud = (released / "helpers" / "cloud.py").read_text(encoding="utf-8")
    assert f'REPO_URL = "{REPO_URL}"' in cloud and f'REF = "{REF}"' in cloud
    readme = (released / "README.md").read_text(encoding="utf-8")
    assert f"github/example-school/lr-course-2027/blob/{REF}/notebooks/" in readme


def test_the_course_keeps_its_own_setting_after_a_release(released: Path) -> None:
    from helpers import cloud
    from kit import launch

    assert launch.home() == launch.Published(cloud.REPO_URL, cloud.REF) != launch.Published(REPO_URL, REF)
    shown = launch.badge_line("notebooks/00_warmup_strategies.ipynb") + launch.setup_cell_source()
    assert "example-school" not in shown


# --- its starters run from the copy alone ------------------------------------------------------

def _first_blank_hint(nb: nbformat.NotebookNode) -> tuple[int, str]:
    import ast

    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "# YOUR CODE HERE" in cell.source:
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                    arg = node.exc.args[0]
                    assert isinstance(arg, ast.Constant)
                    return index, str(arg.value)
    raise AssertionError("the starter has no blank")


@pytest.mark.parametrize("name", STARTER_NAMES)
def test_starter_runs_up_to_its_first_blank(released: Path, name: str) -> None:
    """Executed cell by cell in a fresh kernel that imports helpers from the release only; the
    first error is the first blank's NotImplementedError with its hint."""
    nb = nbformat.read(released / "notebooks" / name, as_version=4)
    blank_cell, hint = _first_blank_hint(nb)
    env = {**os.environ, "PYTHONPATH": str(released), "KIT_QUICK_EPOCHS": "4"}
    env.pop("KIT_COURSE", None)
    probe = nbformat.v4.new_code_cell("import helpers, os; print(os.path.realpath(helpers.__file__))")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(released / "notebooks")}})
    failure: tuple[int, str, str] | None = None
    with client.setup_kernel(env=env, cwd=str(released / "notebooks")):
        client.execute_cell(probe, 0)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                failure = (index, exc.ename, exc.evalue)
                break
    loaded = "".join(o.get("text", "") for o in probe.outputs).strip()
    assert loaded == str((released / "helpers" / "__init__.py").resolve()), "helpers came from the release"
    assert failure is not None, f"{name} ran to the end: its blanks never stop it"
    index, ename, evalue = failure
    assert ename == "NotImplementedError" and hint in evalue, (
        f"{name}: cell {index} raised {ename}: {evalue} (expected the first blank's hint: {hint!r})")
    assert index >= blank_cell, f"{name}: cell {index} stopped before the first blank (cell {blank_cell})"


# --- bad targets -----------------------------------------------------------------------------

def test_target_inside_the_course_is_refused() -> None:
    target = ROOT / "notebooks" / "release-here"
    with pytest.raises(ReleaseError, match="inside the course"):
        release(target)
    assert not target.exists()
    with pytest.raises(ReleaseError, match="inside the course"):
        release(ROOT)


def test_target_containing_the_course_is_refused() -> None:
    with pytest.raises(ReleaseError, match="contains the course"):
        release(ROOT.parent, force=True)


def test_target_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "release.zip"
    path.write_text("not a folder")
    with pytest.raises(ReleaseError, match="exists and is not a folder"):
        release(path)
    assert path.read_text() == "not a folder"


def test_non_empty_target_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "stale.ipynb").write_text("{}")
    (tmp_path / "keep.txt").write_text("mine")
    assert main([str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err and (tmp_path / "notebooks" / "stale.ipynb").is_file()
    assert main([str(tmp_path), "--force", "--seed", "1"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert not (tmp_path / "notebooks" / "stale.ipynb").exists(), "a release's notebooks/ replaces the old one"
    assert (tmp_path / "keep.txt").read_text() == "mine", "entries a release does not write stay"
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == STARTER_NAMES
    assert not [p for p in tmp_path.iterdir() if ".release-" in p.name]
    assert not [p for p in tmp_path.parent.iterdir() if ".release-" in p.name], "no staging folder left"


def test_malformed_repo_url_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="--repo-url"):
        release(tmp_path / "out", repo_url="gitlab.example/course")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_kit_command_dispatches_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import main as kit_main

    (tmp_path / "x").write_text("file")
    assert kit_main(["release", str(tmp_path / "x")]) == 1
    assert "not a folder" in capsys.readouterr().err
