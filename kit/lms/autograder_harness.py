"""Run an autograder zip the way Gradescope does, on this machine: a folder laid out like
``/autograder`` (``source/`` = the unpacked zip, ``run_autograder`` copied beside it,
``submission/`` = the learner's files, ``results/``), bound at ``/autograder`` in a bubblewrap
sandbox that sees only the system, this Python and that folder, with ``/autograder`` as the
working directory. ``setup.sh`` is not run (it installs from the network); the interpreter
given stands in for the one it would install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.grade.errors import GradeUsageError
from kit.grade.sandbox import bwrap_path
from kit.lms.autograder import (
    AUTOGRADER_DIR,
    PYTHON_ENV,
    RESULTS_DIR,
    RESULTS_FILE,
    RUN_SCRIPT,
    SETUP_SCRIPT,
    SOURCE_DIR,
    SUBMISSION_DIR,
)


@dataclass(frozen=True)
class HarnessRun:
    results: dict[str, Any] | None  # results.json as written, None when it was not
    returncode: int
    stdout: str
    root: Path  # the local /autograder folder


def lay_out(zip_path: Path, submission: list[Path], root: Path) -> Path:
    """Build the local ``/autograder`` folder; returns it."""
    if root.exists():
        shutil.rmtree(root)
    for name in (SOURCE_DIR, SUBMISSION_DIR, RESULTS_DIR):
        (root / name).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / SOURCE_DIR)  # the kit's own zip, built by kit.lms.autograder
    for name in (RUN_SCRIPT, SETUP_SCRIPT):
        (root / SOURCE_DIR / name).chmod(0o755)
    shutil.copy2(root / SOURCE_DIR / RUN_SCRIPT, root / RUN_SCRIPT)
    for path in submission:
        shutil.copy2(path, root / SUBMISSION_DIR / path.name)
    return root


def _python_binds(python: str) -> list[str]:
    """Read-only binds for the interpreter: its venv and the installation the venv points to."""
    prefix = Path(python).resolve().parents[1]
    venv = Path(python).parents[1]
    binds = []
    for folder in dict.fromkeys([venv.resolve(), prefix, Path(sys.base_prefix).resolve()]):
        if not str(folder).startswith("/usr"):
            binds += ["--ro-bind", str(folder), str(folder)]
    return binds


def command(root: Path, python: str) -> list[str]:
    bwrap = bwrap_path()
    if bwrap is None:
        raise GradeUsageError("bubblewrap (bwrap) is not installed: the local /autograder harness needs it")
    links = [arg for name in ("bin", "sbin", "lib", "lib64") if os.path.islink(f"/{name}")
             for arg in ("--symlink", os.readlink(f"/{name}"), f"/{name}")]
    return [bwrap, "--ro-bind", "/usr", "/usr", *links, "--ro-bind", "/etc", "/etc", *_python_binds(python),
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--bind", str(root), AUTOGRADER_DIR,
            "--chdir", AUTOGRADER_DIR, "--unshare-pid", "--die-with-parent", "--", f"{AUTOGRADER_DIR}/{RUN_SCRIPT}"]


def run(root: Path, python: str = sys.executable, timeout: float = 3600.0) -> HarnessRun:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", PYTHON_ENV: python}
    done = subprocess.run(command(root, python), env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    path = root / RESULTS_FILE
    data = json.loads(path.read_text()) if path.is_file() else None
    return HarnessRun(data, done.returncode, done.stdout + done.stderr, root)
