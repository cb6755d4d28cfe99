"""tools/ensure_venv.sh, driven against a fake venv whose python only records its calls.

Nothing is installed: the fake ``bin/python`` logs its arguments, and fails the
``pip install -r`` step when asked to, so the stamp logic and the failure path can be checked.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "ensure_venv.sh"

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "{log}"
if [ -n "${{FAIL_REQUIREMENTS:-}}" ] && [[ "$*" == *"install -r"* ]]; then
  echo "ERROR: No matching distribution found for torch==99" >&2
  exit 1
fi
exit 0
"""


# Every file whose change must rebuild the venv: the runtime list, the development list, the lock, the project.
STAMPED = ("requirements.txt", "requirements-dev.txt", "constraints.txt", "pyproject.toml")


def expected_stamp(repo: Path = REPO) -> str:
    digest = hashlib.sha256(b"".join((repo / name).read_bytes() for name in STAMPED))
    return f"{digest.hexdigest()[:16]} {repo}"


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON.format(log=tmp_path / "calls.log"))
    python.chmod(0o755)
    return venv


def run(venv: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), str(venv)], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


def calls(venv: Path) -> list[str]:
    log = venv.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_current_stamp_means_nothing_to_do(fake_venv: Path) -> None:
    (fake_venv / ".kit-stamp").write_text(expected_stamp() + "\n")
    done = run(fake_venv)
    assert done.returncode == 0 and done.stdout == "" and calls(fake_venv) == []


def test_changed_requirements_reinstall_and_stamp(fake_venv: Path) -> None:
    (fake_venv / ".kit-stamp").write_text(f"0000000000000000 {REPO}\n")
    done = run(fake_venv)
    assert done.returncode == 0, done.stderr
    made = calls(fake_venv)
    # One install of the development list, which pulls in the runtime list through its `-r`, under the lock.
    assert [c for c in made if " install -r " in f" {c}"] == [
        f"-m pip install -r {REPO}/requirements-dev.txt -c {REPO}/constraints.txt"]
    assert any(c.startswith("-m pip install --no-deps --no-build-isolation -e ") for c in made)
    assert (fake_venv / ".kit-stamp").read_text().strip() == expected_stamp()
    assert "Environment ready" in done.stdout


def test_other_checkout_only_reinstalls_the_kit(fake_venv: Path) -> None:
    """Same requirements, another clone: only the editable install is redone (it moves the venv's
    `import helpers` to this checkout, which matters when clones share one venv)."""
    (fake_venv / ".kit-stamp").write_text(expected_stamp().split()[0] + " /somewhere/else\n")
    assert run(fake_venv).returncode == 0
    made = calls(fake_venv)
    assert not any("install -r" in c for c in made)
    assert any(" -e " in f" {c} " for c in made)


def test_failed_install_says_what_failed_and_leaves_no_stamp(fake_venv: Path) -> None:
    (fake_venv / ".kit-stamp").write_text(f"0000000000000000 {REPO}\n")
    done = run(fake_venv, FAIL_REQUIREMENTS="1")
    assert done.returncode == 1
    assert ("ERROR: pip install -r requirements-dev.txt (with requirements.txt, under constraints.txt) failed "
            "(full log: ") in done.stderr
    assert "No matching distribution found for torch==99" in done.stderr  # the log's tail is shown
    assert not (fake_venv / ".kit-stamp").exists()
    log = re.search(r"full log: (\S+)\)", done.stderr)
    assert log is not None
    Path(log.group(1)).unlink(missing_ok=True)
    # The next run tries again instead of trusting the half-built venv.
    assert run(fake_venv).returncode == 0 and (fake_venv / ".kit-stamp").exists()


def test_usage_error_without_a_venv_path() -> None:
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "usage: ensure_venv.sh VENV_DIR" in done.stderr


@pytest.mark.parametrize("changed", STAMPED)
def test_a_change_to_any_listed_file_reinstalls(tmp_path: Path, fake_venv: Path, changed: str) -> None:
    """A copy of the checkout whose venv is stamped current; editing one of the stamped files (a new
    dev tool, say) makes the next run reinstall, not skip."""
    repo = tmp_path / "repo"
    (repo / "tools").mkdir(parents=True)
    for name in STAMPED:
        (repo / name).write_bytes((REPO / name).read_bytes())
    script = repo / "tools" / "ensure_venv.sh"
    script.write_bytes(SCRIPT.read_bytes())
    (fake_venv / ".kit-stamp").write_text(expected_stamp(repo) + "\n")

    def run_copy() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(script), str(fake_venv)], capture_output=True, text=True, timeout=60)

    assert run_copy().returncode == 0 and calls(fake_venv) == []
    with (repo / changed).open("a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    done = run_copy()
    assert done.returncode == 0, done.stderr
    assert any(" install -r " in f" {c}" for c in calls(fake_venv)), calls(fake_venv)
    assert (fake_venv / ".kit-stamp").read_text().strip() == expected_stamp(repo)


def _requirements(name: str) -> list[Requirement]:
    """The requirement lines of one requirements file, following its ``-r`` includes."""
    found: list[Requirement] = []
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += _requirements(line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def _locked() -> list[Requirement]:
    return [Requirement(line) for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for pin in _locked():
        exact = [spec for spec in pin.specifier if spec.operator == "=="]
        assert len(exact) == 1 and len(pin.specifier) == 1, f"constraints.txt pins exact versions only, got {pin}"
        pins[canonicalize_name(pin.name)] = Version(exact[0].version)
    return pins


def test_the_lock_binds_only_on_the_python_and_platform_it_was_made_on() -> None:
    """Elsewhere (Python 3.10 on Ubuntu 22.04, Colab's 3.13, macOS) the exact versions may not exist:
    there pip must resolve the requirement ranges instead of failing on a pin."""
    made_on = {"python_version": "3.11", "sys_platform": "linux"}
    for pin in _locked():
        assert pin.marker is not None, f"{pin} binds everywhere"
        assert pin.marker.evaluate(made_on), pin
        for elsewhere in ({"python_version": "3.10"}, {"python_version": "3.13"}, {"sys_platform": "darwin"},
                          {"sys_platform": "win32"}):
            assert not pin.marker.evaluate({**made_on, **elsewhere}), (pin, elsewhere)


def test_the_lock_pins_every_requirement_within_its_range() -> None:
    """A requirement edited without re-locking (tools/lock_venv.sh) would make pip fail on every
    fresh machine; this says which line disagrees instead."""
    pins = _pins()
    wanted = _requirements("requirements-dev.txt")
    assert len(wanted) > 10
    unpinned = [str(r) for r in wanted if canonicalize_name(r.name) not in pins]
    outside = [f"{r} (locked {pins[canonicalize_name(r.name)]})" for r in wanted
               if canonicalize_name(r.name) in pins and not r.specifier.contains(pins[canonicalize_name(r.name)],
                                                                                  prereleases=True)]
    assert unpinned == [] and outside == [], "run tools/lock_venv.sh after changing a requirement"
