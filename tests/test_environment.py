"""The environment: requirements.txt (a learner's runtime) and requirements-dev.txt (development and
tests) are mirrored by environment.yml, the venv satisfies both, the runtime list covers what the
learner's package imports, and the pins that keep pl_bolts importable (setuptools<81) and torch at
2.14 hold."""

from __future__ import annotations

import ast
import re
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions, version
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type stubs; types-PyYAML is not installed
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
RUNTIME = (
    "torch", "torchvision", "lightning", "torchmetrics", "lightning-bolts", "setuptools", "scikit-learn",
    "pandas", "matplotlib", "ipywidgets", "jupyterlab",
)
DEVELOPMENT = ("pytest", "pytest-xdist", "nbval", "nbclient", "PyYAML", "psutil", "playwright", "ruff", "mypy")


def specs(lines: list[str], source: str) -> dict[str, str]:
    """name -> specifier of each requirement line (comments, blank lines and ``-r`` includes skipped)."""
    found: dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{name} is listed twice in {source}"
        found[name] = str(requirement.specifier)
    return found


def _read(name: str) -> list[str]:
    return (REPO / name).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def runtime() -> dict[str, str]:
    return specs(_read("requirements.txt"), "requirements.txt")


@pytest.fixture(scope="module")
def development() -> dict[str, str]:
    """requirements-dev.txt's own lines (it includes the runtime list through ``-r``)."""
    return specs(_read("requirements-dev.txt"), "requirements-dev.txt")


@pytest.fixture(scope="module")
def conda_pip() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [item["pip"] for item in env["dependencies"] if isinstance(item, dict) and "pip" in item]
    assert len(pip_sections) == 1, "environment.yml should have exactly one pip: section"
    return pip_sections[0]


def test_the_dev_list_includes_the_runtime_list() -> None:
    includes = [line.strip() for line in _read("requirements-dev.txt") if line.strip().startswith("-r")]
    assert includes == ["-r requirements.txt"]


def test_the_two_lists_do_not_overlap(runtime, development) -> None:
    assert set(runtime) & set(development) == set()


def test_environment_yml_mirrors_both_lists(runtime, development, conda_pip) -> None:
    """Runtime lines first, then the development lines, with the same specifiers."""
    assert specs(conda_pip[: len(runtime)], "environment.yml (runtime part)") == runtime, \
        "environment.yml's first pip lines must be requirements.txt's"
    assert specs(conda_pip[len(runtime):], "environment.yml (development part)") == development, \
        "environment.yml's remaining pip lines must be requirements-dev.txt's own"


def test_each_package_is_in_its_audiences_list(runtime, development) -> None:
    assert sorted(set(map(canonicalize_name, RUNTIME)) ^ set(runtime)) == []
    assert sorted(set(map(canonicalize_name, DEVELOPMENT)) ^ set(development)) == []
    assert runtime["setuptools"] == "<81"
    assert runtime["lightning-bolts"] == "==0.7.0"
    assert development["ruff"] == "==0.17.6" and development["mypy"] == "==2.4.1"


def test_pyproject_dependencies_are_the_runtime_list() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dependencies = \{ file = \["requirements.txt"\] \}', text, re.MULTILINE), text


def _closure(names: set[str]) -> set[str]:
    """``names`` and every distribution they require, as installed in this venv."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def test_the_runtime_list_covers_every_import_of_helpers(runtime) -> None:
    """A learner's kernel imports only helpers/: each third-party module it imports must come with a
    runtime package (directly or as its dependency), never only with a development one."""
    provided = _closure(set(runtime))
    owners = packages_distributions()
    missing = set()
    for path in (REPO / "helpers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                dists = {canonicalize_name(d) for d in owners.get(top, [])}
                if dists and top != "helpers" and not dists & provided:
                    missing.add(f"{path.relative_to(REPO)}: import {top} ({', '.join(sorted(dists))})")
    assert sorted(missing) == []


@pytest.mark.parametrize("listing", ["requirements.txt", "requirements-dev.txt"])
def test_the_venv_satisfies_the_requirements(listing: str) -> None:
    unmet = []
    for name, spec in specs(_read(listing), listing).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            unmet.append(f"{name} (not installed)")
            continue
        if not Requirement(f"{name}{spec}").specifier.contains(installed, prereleases=True):
            unmet.append(f"{name} {installed} does not satisfy {spec}")
    assert unmet == []


def test_setuptools_below_81() -> None:
    assert Version(version("setuptools")) < Version("81"), "pl_bolts needs pkg_resources, removed in setuptools 81"


def test_torch_is_2_14() -> None:
    import torch

    assert Version(torch.__version__.split("+")[0]).release[:2] == (2, 14), torch.__version__


def test_pl_bolts_scheduler_imports() -> None:
    """What breaks first when the setuptools pin is lost: ModuleNotFoundError 'pkg_resources'."""
    import helpers  # noqa: F401, I001 - first, as the notebooks do: it quiets pl_bolts' import warnings
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    assert LinearWarmupCosineAnnealingLR.__name__ == "LinearWarmupCosineAnnealingLR"
