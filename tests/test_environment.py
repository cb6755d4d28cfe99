"""The environment: the two dependency lists agree, the venv satisfies them, and the pins that
keep pl_bolts importable (setuptools<81) and torch at 2.14 hold."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
REQUIRED_BY_THE_ISSUE = (
    "torch", "torchvision", "lightning", "lightning-bolts", "matplotlib", "jupyterlab", "nbval",
    "ipywidgets", "torchmetrics", "scikit-learn", "pandas", "pytest", "setuptools",
)


def specs(lines: list[str], source: str) -> dict[str, str]:
    """name -> specifier of each requirement line (comments and blank lines skipped)."""
    found: dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{name} is listed twice in {source}"
        found[name] = str(requirement.specifier)
    return found


@pytest.fixture(scope="module")
def requirements() -> dict[str, str]:
    return specs((REPO / "requirements.txt").read_text().splitlines(), "requirements.txt")


@pytest.fixture(scope="module")
def conda_pip() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_sections = [item["pip"] for item in env["dependencies"] if isinstance(item, dict) and "pip" in item]
    assert len(pip_sections) == 1, "environment.yml should have exactly one pip: section"
    return specs(pip_sections[0], "environment.yml")


def test_both_lists_name_the_same_specs(requirements, conda_pip) -> None:
    assert conda_pip == requirements


def test_the_issue_packages_are_listed(requirements) -> None:
    missing = [name for name in REQUIRED_BY_THE_ISSUE if canonicalize_name(name) not in requirements]
    assert missing == []
    assert requirements["setuptools"] == "<81"
    assert requirements["lightning-bolts"] == "==0.7.0"


def test_the_venv_satisfies_the_requirements(requirements) -> None:
    unmet = []
    for name, spec in requirements.items():
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
    import helpers  # noqa: F401 - first, as the notebooks do: it quiets pl_bolts' import warnings
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    assert LinearWarmupCosineAnnealingLR.__name__ == "LinearWarmupCosineAnnealingLR"
