"""The Colab-profile lane's own machinery (tools/colab_lane.py), without running the lane.

Its verdicts are tested on hand-made executed notebooks of each kind of failure (an error, a
widget cell that fell back to text as on ipywidgets 7 before the fix, a view of a model the
kernel never opened, a ✗ line, a negative epoch, a setup cell that stayed local), its overlay
cache with a stand-in for pip, and its kernel venv for what it can and cannot import.
"""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from helpers.cloud import KIT_DIR

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("colab_lane", REPO / "tools" / "colab_lane.py")
assert _spec is not None and _spec.loader is not None  # a .py file path always has both
lane = importlib.util.module_from_spec(_spec)
sys.modules["colab_lane"] = lane  # dataclasses resolve their module by name
_spec.loader.exec_module(lane)

VIEW = lane.WIDGET_VIEW_MIME


def view(model_id: str) -> dict:
    return new_output("display_data",
                      data={"text/plain": "VBox(...)",
                            VIEW: {"version_major": 2, "version_minor": 0, "model_id": model_id}})


def text(line: str):
    return new_output("stream", name="stdout", text=line + "\n")


def notebook(cells: list, models: tuple[str, ...] = ("m1",)):
    nb = new_notebook(cells=cells)
    nb.metadata["widgets"] = {lane.WIDGET_STATE_MIME: {"state": {m: {"model_name": "VBoxModel"} for m in models}}}
    return nb


def cell(cell_id: str, source: str = "x = 1", outputs: list | None = None):
    return new_code_cell(source, id=cell_id, outputs=outputs or [])


def clean_run():
    return notebook([
        cell("cloud-setup",
             outputs=[text("Course kit ready on colab: helpers imported from lr-warmup-weight-decay-kit/")]),
        cell("ex-explorer", "lr_explorer(base_lr=0.1)", [view("m1")]),
        cell("ex-check", outputs=[text("✓ the schedule is right")]),
        cell(lane.PROBE_ID, outputs=[text("helpers from clone: True\nipywidgets 7.7.1")]),
    ])


def test_a_clean_run_has_no_problems_and_lists_the_widget_mimes() -> None:
    run = clean_run()
    verdict = lane.judge(run, lane.widget_cell_ids(run))
    assert verdict.problems == []
    assert verdict.widgets == {"ex-explorer": ["text/plain", VIEW]}
    assert lane.judge_probe(run, "7.7.1") == []


def test_widget_cells_are_found_by_committed_view_or_by_call() -> None:
    committed = notebook([
        cell("shown", "panel", [view("m9")]),  # a widget view in the committed outputs
        cell("called", "quiz_widget()"),  # a widget call, outputs cleared
        cell("mentioned", "# see lr_explorer(...) above\nprint(1)"),  # neither
    ])
    assert lane.widget_cell_ids(committed) == ["shown", "called"]


def test_an_error_is_a_problem() -> None:
    run = clean_run()
    run.cells[2].outputs = [new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    assert lane.judge(run, []).problems == ["ex-check: ValueError: bad"]


def test_a_widget_that_fell_back_to_text_is_a_problem() -> None:
    """What ipywidgets 7 showed before the fix: a traceback on stderr, then only text/plain."""
    run = clean_run()
    run.cells[1].outputs = [
        new_output("stream", name="stderr",
                   text="Traceback (most recent call last):\nAttributeError: 'VBox' object has no attribute "
                       "'_repr_mimebundle_'\n"),
        new_output("execute_result", data={"text/plain": "LRExplorer(...)"}, execution_count=1),
    ]
    problems = lane.judge(run, ["ex-explorer"]).problems
    assert "ex-explorer: no widget view (outputs: ['text/plain'])" in problems
    assert "ex-explorer: a traceback on stderr beside the widget" in problems


def test_a_view_of_a_model_the_kernel_never_opened_is_a_problem() -> None:
    run = clean_run()
    run.cells[1].outputs = [view("forged")]
    assert lane.judge(run, ["ex-explorer"]).problems == [
        "ex-explorer: widget view of model 'forged', which the kernel never opened"
    ]


@pytest.mark.parametrize("value", [
    '<div style="color:#b00020;font-weight:600">⚠ The warmup (1 epochs) must end before training does</div>',
    "LR at epoch: (no schedule: fix the setting above)",
])
def test_a_widget_showing_a_problem_is_a_problem(value: str) -> None:
    run = clean_run()
    run.metadata["widgets"][lane.WIDGET_STATE_MIME]["state"]["m2"] = {"model_name": "HTMLModel",
                                                                      "state": {"value": value}}
    (problem,) = lane.judge(run, ["ex-explorer"]).problems
    assert problem.startswith("a HTMLModel (m2) shows a problem: ") and "<div" not in problem


def test_widget_text_without_a_problem_is_fine() -> None:
    run = clean_run()
    run.metadata["widgets"][lane.WIDGET_STATE_MIME]["state"]["m2"] = {"model_name": "LabelModel",
                                                                      "state": {"value": "LR at epoch 1: 0.1"}}
    assert lane.judge(run, ["ex-explorer"]).problems == []


def test_a_missing_widget_cell_is_a_problem() -> None:
    assert lane.judge(clean_run(), ["ex-gone"]).problems == ["ex-gone: widget cell missing from the notebook"]


@pytest.mark.parametrize("output", [
    text("test accuracy ≥ 0.885: ✗"),
    new_output("execute_result", data={"text/plain": "'✗ not yet'"}, execution_count=3),
])
def test_a_cross_is_a_problem_unless_the_cell_is_a_demonstration(output) -> None:
    run = clean_run()
    run.cells[2].outputs = [output]
    assert len(lane.judge(run, []).problems) == 1
    assert lane.judge(run, [], demonstrations={"ex-check"}).problems == []


def test_demonstrations_are_cells_whose_committed_outputs_show_a_cross() -> None:
    committed = notebook([cell("pitfall", outputs=[text("✗ epoch 0 trains")]), cell("fine", outputs=[text("✓")])])
    assert lane.demonstration_ids(committed) == {"pitfall"}


@pytest.mark.parametrize("line, bad",
                         [("epoch  -1: LR 0.00000", True), ("epoch -3", True), ("epoch   0: LR 0.0", False),
                          ("epochs - 1", False)])
def test_negative_epochs_are_problems(line: str, bad: bool) -> None:
    run = clean_run()
    run.cells[2].outputs = [text(line)]
    assert bool(lane.judge(run, []).problems) is bad


def test_the_probe_catches_a_local_setup_a_wrong_helpers_and_a_wrong_ipywidgets() -> None:
    run = clean_run()
    run.cells[0].outputs = []
    run.cells[3].outputs = [text("helpers from clone: False\nipywidgets 8.1.9")]
    problems = lane.judge_probe(run, "7.7.1")
    assert len(problems) == 3
    assert problems[0].startswith("cloud-setup: did not take its Colab path")
    assert "not imported from the clone" in problems[1] and "expected ipywidgets 7.7.1" in problems[2]


def test_probe_source_reports_what_the_kernel_imported(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", lane.probe_source(KIT_DIR)], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "helpers from clone: False" in done.stdout  # here helpers is this checkout, not a clone


# --- the profile and its overlay -------------------------------------------------------------------


def test_the_profile_pins_colabs_widget_stack_and_not_torch() -> None:
    pins = dict(line.split("==") for line in lane.profile_requirements())
    assert pins["ipywidgets"] == "7.7.1" and pins["widgetsnbextension"] == "3.6.10"
    assert pins["jupyterlab_widgets"] == "3.0.16" and "ipython_genutils" in pins
    assert pins["numpy"] == "2.1.3" and pins["scikit-learn"] == "1.6.1" and pins["setuptools"] == "75.2.0"
    assert pins["pandas"].startswith("2.2.") and pins["matplotlib"].startswith("3.10.")
    assert not {"torch", "torchvision"} & set(pins)


def test_an_unpinned_profile_line_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "profile.txt"
    profile.write_text("# comment\nipywidgets==7.7.1\nnumpy>=2\n", encoding="utf-8")
    with pytest.raises(lane.LaneError, match=r"must pin one version .* got 'numpy>=2'"):
        lane.profile_requirements(profile)


def test_the_cache_key_follows_the_packages_and_the_interpreter() -> None:
    base = lane.overlay_key(["a==1", "b==2"], "cpython3.11-x86_64")
    assert base == lane.overlay_key(["a==1", "b==2"], "cpython3.11-x86_64")
    assert base != lane.overlay_key(["a==1", "b==3"], "cpython3.11-x86_64")
    assert base != lane.overlay_key(["a==1", "b==2"], "cpython3.12-x86_64")


def test_the_cache_folder_is_overridable() -> None:
    assert lane.cache_root({lane.CACHE_ENV: "/x/y"}) == Path("/x/y")
    assert lane.cache_root({}) == lane.DEFAULT_CACHE


def fake_python(tmp_path: Path, fail: bool = False) -> Path:
    """A stand-in for `python -m pip install --target DIR ...`: counts calls, creates DIR."""
    script = tmp_path / "fake-python"
    script.write_text(
        "#!/bin/sh\n"
        f"echo call >> {tmp_path / 'calls'}\n"
        + ("echo 'ERROR: no matching distribution' >&2; exit 1\n" if fail else "")
        + 'while [ "$1" != "--target" ]; do shift; done\nmkdir -p "$2" && touch "$2/ipywidgets.py"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_overlay_is_built_once_then_reused(tmp_path: Path) -> None:
    python = fake_python(tmp_path)
    folder, built = lane.ensure_overlay(tmp_path / "cache", ["ipywidgets==7.7.1"], str(python))
    assert built and (folder / "ipywidgets.py").is_file() and (folder / lane.STAMP).is_file()
    again, built_again = lane.ensure_overlay(tmp_path / "cache", ["ipywidgets==7.7.1"], str(python))
    assert (again, built_again) == (folder, False)
    assert (tmp_path / "calls").read_text().count("call") == 1
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [folder.name]  # no temporary folder left


def test_a_failed_build_leaves_nothing_to_reuse(tmp_path: Path) -> None:
    with pytest.raises(lane.LaneError, match="no matching distribution"):
        lane.ensure_overlay(tmp_path / "cache", ["ipywidgets==7.7.1"], str(fake_python(tmp_path, fail=True)))
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_overlay_that_is_not_in_effect_is_reported(tmp_path: Path) -> None:
    """An empty overlay: pytest's own version comes from the venv, not from the overlay."""
    problems = lane.overlay_problems(tmp_path, [f"pytest=={pytest.__version__}"])
    assert len(problems) == 1 and "expected pytest==" in problems[0] and "from the overlay" in problems[0]


# --- the Colab-like kernel -----------------------------------------------------------------------


def test_kernel_venv_sees_overlay_first_and_fake_colab_but_not_the_kit(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    (overlay / "ipywidgets").mkdir(parents=True)
    (overlay / "ipywidgets" / "__init__.py").write_text("__version__ = '0.0-overlay'\n", encoding="utf-8")
    python, specs = lane.make_kernel(tmp_path / "work", overlay)
    script = (
        "import importlib.util as u, ipywidgets, google.colab, torch\n"
        "print(ipywidgets.__version__, u.find_spec('helpers') is None)"
    )
    done = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.0-overlay", "True"]
    spec = (specs / "colab-profile" / "kernel.json").read_text(encoding="utf-8")
    assert str(python) in spec and "ipykernel_launcher" in spec


def test_kernel_env_redirects_the_clone_and_sets_quick_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIGHTNING_CLOUD_SPACE_ID", "x")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    env = lane.kernel_env(tmp_path, "https://github.com/o/r", 4)
    assert env["KIT_QUICK_EPOCHS"] == "4"
    assert env["GIT_CONFIG_KEY_0"] == f"url.{tmp_path.as_uri()}.insteadOf" and env["GIT_CONFIG_VALUE_0"] == "https://github.com/o/r"
    assert "LIGHTNING_CLOUD_SPACE_ID" not in env and "PYTHONPATH" not in env


def test_snapshot_holds_the_working_tree_including_new_files(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (source / "kept.txt").write_text("committed\n")
    (source / ".gitignore").write_text("ignored.txt\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    (source / "kept.txt").write_text("edited\n")
    (source / "new.txt").write_text("new\n")
    (source / "ignored.txt").write_text("no\n")
    snapshot = lane.snapshot_repository(source, tmp_path / "snap", "main")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "main", snapshot.as_uri(), str(clone)],
                   check=True)
    assert (clone / "kept.txt").read_text() == "edited\n" and (clone / "new.txt").is_file()
    assert not (clone / "ignored.txt").exists()


def test_snapshot_of_a_folder_without_git_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(lane.LaneError, match="must be a git checkout"):
        lane.snapshot_repository(tmp_path, tmp_path / "snap", "main")


def test_make_test_runs_the_main_suite_and_the_lane() -> None:
    """A dry run (make -n) lists what `make test` would run; -k: the lane runs after a failure too."""
    dry = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    # -k (keep going) before the targets, and the lane among them (LINT's `lint` may come first).
    assert re.search(r"make --no-print-directory -k (\S+ )*test-main colab\b", dry.stdout), dry.stdout
    assert "-m pytest tests solutions --nbval" in dry.stdout and "tools/colab_lane.py" in dry.stdout
