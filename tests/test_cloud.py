"""The cloud setup, with Colab and Lightning Studio simulated: nothing is cloned or installed.

A fake ``importable`` hook (or a patched ``importlib.util.find_spec`` for the notebook cell)
decides which modules "exist", a fake environment variable marks a Studio, and a recording
runner stands in for ``subprocess.run``; the tests assert the exact commands.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from helpers import cloud
from kit.launch import REF, REPO_URL, setup_cell_source

# What a fresh Colab runtime has: torch, torchvision, matplotlib, ipywidgets,
# scikit-learn, pandas, and a setuptools that still ships pkg_resources.
COLAB_HAS = {"google", "google.colab", "torch", "torchvision", "matplotlib", "ipywidgets", "sklearn", "pandas",
             "pkg_resources"}
# An assumed Lightning Studio image: torch and Lightning preinstalled, no pl_bolts.
STUDIO_HAS = {"torch", "torchvision", "lightning", "torchmetrics", "matplotlib", "ipywidgets", "sklearn", "pandas",
              "pkg_resources"}
REQUIREMENTS = """\
# a kit's requirements.txt (comments and blank lines are ignored)
torch==2.14.1
lightning>=2.5,<3
torchmetrics>=1.4
lightning-bolts==0.7.0
setuptools<81  # pkg_resources
scikit-learn>=1.4
pandas>=2.0
matplotlib>=3.8
ipywidgets>=8.1,<9
"""


class Recorder:
    """Stands in for ``subprocess.run``: records each command; ``on_call`` may simulate effects."""

    def __init__(self, on_call=None) -> None:
        self.commands: list[list[str]] = []
        self.on_call = on_call

    def __call__(self, command, **kwargs):
        assert kwargs == {"check": True}, "every command must stop the setup when it fails"
        self.commands.append(list(command))
        if self.on_call:
            self.on_call(list(command))
        return subprocess.CompletedProcess(command, 0)


def runtime(has: set[str]):
    """An ``importable`` hook for a runtime that has exactly the modules in ``has``."""
    return lambda name: True if name in has else None


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    return folder


def test_detect_cloud():
    assert cloud.detect_cloud(env={}, importable=runtime(COLAB_HAS)) == "colab"
    assert cloud.detect_cloud(env={cloud.STUDIO_ENV_VAR: "01abc"}, importable=runtime(STUDIO_HAS)) == "lightning-studio"
    assert cloud.detect_cloud(env={"HOME": "x"}, importable=runtime(STUDIO_HAS)) is None


def test_missing_parent_package_counts_as_not_importable():
    def find(name):
        raise ModuleNotFoundError(f"No module named {name.split('.')[0]!r}")

    assert cloud.module_available("google.colab", find) is False


def test_local_machine_runs_and_prints_nothing(kit, capsys):
    run = Recorder()
    path = ["site"]
    local = runtime(STUDIO_HAS | {"pl_bolts", "helpers"})
    assert cloud.prepare_runtime(kit, run=run, env={"HOME": "x"}, importable=local, path=path) == []
    assert run.commands == [] and path == ["site"]
    assert capsys.readouterr() == ("", "")


def test_this_machine_with_real_defaults_is_local(capsys, monkeypatch):
    monkeypatch.delenv(cloud.STUDIO_ENV_VAR, raising=False)
    assert cloud.prepare_runtime(run=Recorder()) == []
    assert capsys.readouterr() == ("", "")


def test_colab_installs_only_what_it_lacks(kit, capsys):
    run, path = Recorder(), ["site"]
    commands = cloud.prepare_runtime(kit, run=run, env={}, importable=runtime(COLAB_HAS), path=path, python="py")
    expected = [["py", "-m", "pip", "install", "--quiet", "lightning>=2.5,<3", "torchmetrics>=1.4",
                 "lightning-bolts==0.7.0"]]
    assert commands == run.commands == expected
    assert path == [str(kit), "site"]
    out = capsys.readouterr().out
    assert "colab" in out and "lightning-bolts==0.7.0" in out


def test_colab_with_setuptools_81_gets_the_pin(kit):
    run = Recorder()
    has = COLAB_HAS - {"pkg_resources"}
    cloud.prepare_runtime(kit, run=run, env={}, importable=runtime(has), path=[], python="py")
    assert run.commands == [
        ["py", "-m", "pip", "install", "--quiet", "lightning>=2.5,<3", "torchmetrics>=1.4", "lightning-bolts==0.7.0",
         "setuptools<81"]
    ]


def test_lightning_studio_installs_only_bolts(kit):
    run, path = Recorder(), list[str]()
    env = {cloud.STUDIO_ENV_VAR: "01abc"}
    cloud.prepare_runtime(kit, run=run, env=env, importable=runtime(STUDIO_HAS), path=path, python="py")
    assert run.commands == [["py", "-m", "pip", "install", "--quiet", "lightning-bolts==0.7.0"]]
    assert path == [str(kit)]


def test_ready_runtime_runs_nothing_but_still_puts_the_kit_on_the_path(kit):
    run, path = Recorder(), [str(kit)]
    has = STUDIO_HAS | {"pl_bolts"}
    studio = {cloud.STUDIO_ENV_VAR: "x"}
    assert cloud.prepare_runtime(kit, run=run, env=studio, importable=runtime(has), path=path) == []
    assert run.commands == [] and path == [str(kit)]


def test_never_installs_torch(kit):
    with pytest.raises(RuntimeError, match="never installs torch"):
        cloud.prepare_runtime(kit, run=Recorder(), env={}, importable=runtime(COLAB_HAS - {"torch"}), path=[])


def test_missing_checkout_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="setup cell clones it"):
        cloud.prepare_runtime(tmp_path, run=Recorder(), env={}, importable=runtime(COLAB_HAS), path=[])


def test_requirement_without_a_line_is_a_clear_error(kit):
    (kit / "requirements.txt").write_text("torch==2.14.1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no line for 'lightning'"):
        cloud.prepare_runtime(kit, run=Recorder(), env={}, importable=runtime(COLAB_HAS), path=[])


def test_the_kit_requirements_cover_every_module_the_cloud_may_need(repo):
    specs = cloud.requirement_specs(repo)
    assert {dist for _, dist in cloud.NEEDED_MODULES} <= specs.keys()
    assert not any(dist in ("torch", "torchvision") for _, dist in cloud.NEEDED_MODULES)


def test_clone_command_pins_the_ref():
    assert cloud.clone_command("dest") == ["git", "clone", "--depth", "1", "--branch", REF, REPO_URL, "dest"]


# --- the notebook cell itself -------------------------------------------------------------------


def fake_find_spec(has_not: set[str], extra: set[str]):
    """``importlib.util.find_spec`` for a cloud kernel: ``helpers`` and ``has_not`` are missing,
    ``extra`` (e.g. google.colab) exists, every other name is looked up for real."""
    real = importlib.util.find_spec

    def find(name, package=None):
        if name in has_not or name == "helpers":
            return None
        if name in extra:
            return object()
        return real(name, package)

    return find


def test_setup_cell_is_a_silent_no_op_here(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the setup cell ran a command locally: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = list(sys.path)
    namespace: dict = {}
    exec(compile(setup_cell_source(), "cloud-setup", "exec"), namespace)
    assert capsys.readouterr() == ("", "")
    assert sys.path == before and "prepare_runtime" not in namespace


def test_setup_cell_on_colab_clones_then_installs(monkeypatch, tmp_path, capsys):
    def fake_clone(command):
        if command[:2] == ["git", "clone"]:  # the clone's effect: a checkout with requirements.txt
            Path(command[-1]).mkdir()
            Path(command[-1], "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")

    run = Recorder(fake_clone)
    missing = {"lightning", "torchmetrics", "pl_bolts"}
    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec(missing, {"google", "google.colab"}))
    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(cloud.STUDIO_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)

    exec(compile(setup_cell_source(), "cloud-setup", "exec"), {})

    assert run.commands == [
        cloud.clone_command(cloud.KIT_DIR),
        [sys.executable, "-m", "pip", "install", "--quiet", "lightning>=2.5,<3", "torchmetrics>=1.4",
         "lightning-bolts==0.7.0"],
    ]
    assert sys.path[0] == str(tmp_path / cloud.KIT_DIR)
    assert "Course kit ready on colab" in capsys.readouterr().out


def test_setup_cell_in_a_studio_uses_the_opened_repository(monkeypatch, tmp_path):
    repo = tmp_path / "lr-warmup-weight-decay-kit"
    (repo / "helpers").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    (repo / "helpers" / "cloud.py").write_text("", encoding="utf-8")
    (repo / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    run = Recorder()
    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec({"pl_bolts"}, set()))
    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv(cloud.STUDIO_ENV_VAR, "01abc")
    monkeypatch.chdir(repo / "notebooks")

    exec(compile(setup_cell_source(), "cloud-setup", "exec"), {})

    assert run.commands == [[sys.executable, "-m", "pip", "install", "--quiet", "lightning-bolts==0.7.0"]]
    assert sys.path[0] == os.fspath(repo)


def test_setup_cell_end_to_end_in_a_fresh_interpreter(tmp_path, repo):
    """The real cell in a new Python process where ``helpers`` is not importable and a fake
    ``google.colab`` exists: git really clones (REPO_URL is redirected to this checkout's
    committed ``REF``, no network), and ``helpers`` then imports from the clone in the same
    process, without a restart. Every package is present, so no pip command runs."""
    if shutil.which("git") is None or not (repo / ".git").exists():
        pytest.skip("needs git and this repository's .git folder")
    has_ref = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", REF], capture_output=True)
    if has_ref.returncode != 0:
        pytest.skip(f"this checkout has no {REF!r} branch to clone")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    site_dir = next((tmp_path / "venv" / "lib").glob("python3*/site-packages"))
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text("", encoding="utf-8")
    # Every installed package, seen through a path entry (the kit's editable-install hook is a
    # .pth file there, which Python processes only in site directories: so no `helpers`).
    (site_dir / "deps.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{fake}\n", encoding="utf-8")
    content = tmp_path / "content"
    content.mkdir()
    script = setup_cell_source() + "\nimport helpers, helpers.cloud\nprint('helpers from', helpers.__file__)\n"
    env = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{(repo / '.git').as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": REPO_URL,
    }
    env.pop(cloud.STUDIO_ENV_VAR, None)
    python = tmp_path / "venv" / "bin" / "python"
    done = subprocess.run([str(python), "-c", script], cwd=content, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Course kit ready on colab" in done.stdout
    assert f"helpers from {content / cloud.KIT_DIR / 'helpers' / '__init__.py'}" in done.stdout
    assert (content / cloud.KIT_DIR / "requirements.txt").is_file()
