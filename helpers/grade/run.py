"""Executing one graded copy: pytest --nbval-lax in a child process, results from junit XML.

The child runs in a fresh temporary folder (its working directory), with an address-space
limit, a per-cell timeout (nbval) and a wall-clock limit for the whole submission. Jupyter
starts kernels in their own session, so a process-group kill would miss them: every process
of a run carries a token in its environment, and all of them are killed by that token.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.grade.assemble import GradedCopy

TOKEN_VAR = "KIT_GRADE_TOKEN"
QUICK_EPOCHS = 2
NOTEBOOK_NAME = "submission.ipynb"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission."""

    cell_timeout: float = 600.0
    submission_timeout: float = 1800.0
    memory_mb: int = 8192
    file_mb: int = 512


@dataclass(frozen=True)
class CellResult:
    """What nbval reported for one code cell of the graded copy."""

    cell_id: str
    kind: str  # passed | differs | exception | timeout | kernel-died | skipped | grader-error | not-run
    output: str = ""  # printed output of a check cell
    error: str = ""  # "Name: message" of a learner cell that raised


@dataclass(frozen=True)
class RunOutcome:
    cells: dict[str, CellResult]
    seconds: float
    killed: bool  # the whole-submission timeout fired
    stderr_tail: str = ""


def _sanitize_file() -> Path | None:
    path = Path(__file__).resolve().parents[2] / "tests" / "nbval_sanitize.cfg"
    return path if path.is_file() else None


def child_env(token: str, quick: bool, max_output: int | None = None) -> dict[str, str]:
    """The learner code's environment: ours minus pytest's, plus the run token and quick mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KIT_QUICK_EPOCHS", "KIT_GRADE_"))}
    if max_output is not None:
        env["KIT_GRADE_MAX_OUTPUT"] = str(max_output)
    env[TOKEN_VAR] = token
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    if quick:
        env["KIT_QUICK_EPOCHS"] = str(QUICK_EPOCHS)
    return env


def _limit(memory_mb: int, file_mb: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        for kind, megabytes in ((resource.RLIMIT_AS, memory_mb), (resource.RLIMIT_FSIZE, file_mb)):
            try:
                resource.setrlimit(kind, (megabytes * 1024 * 1024, megabytes * 1024 * 1024))
            except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS: the time limits still hold
                pass

    return apply


def processes_with_token(token: str) -> list[int]:
    """PIDs whose environment carries ``token`` (the child, its kernel and anything they started)."""
    needle = f"{TOKEN_VAR}={token}".encode()
    pids = []
    if not Path("/proc").is_dir():  # macOS: no /proc, ask psutil (installed with ipykernel)
        import psutil

        for proc in psutil.process_iter():
            try:
                if proc.pid != os.getpid() and proc.environ().get(TOKEN_VAR) == token:
                    pids.append(proc.pid)
            except (psutil.Error, OSError):
                continue
        return pids
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def kill_token(token: str) -> int:
    """Kill every process of one run (repeated: a dying parent may still fork); returns the count."""
    killed = 0
    for _ in range(5):
        pids = processes_with_token(token)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return killed


def pytest_command(notebook: Path, junit: Path, ini: Path, limits: Limits) -> list[str]:
    command = [
        sys.executable, "-m", "pytest", str(notebook),
        "-c", str(ini), "--rootdir", str(notebook.parent),
        "-p", "no:cacheprovider", "-p", "helpers.grade.capture",
        "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout", str(limits.cell_timeout),
        "--junitxml", str(junit), "-o", "junit_family=xunit1", "-q", "--color=no",
    ]
    sanitize = _sanitize_file()
    if sanitize is not None:
        command += ["--nbval-sanitize-with", str(sanitize)]
    return command


def parse_junit(junit: Path, cell_ids: list[str]) -> dict[str, CellResult]:
    """Per-cell results from nbval's test cases (named ``Cell N``: the N-th code cell)."""
    results: dict[str, CellResult] = {}
    root = ET.parse(junit).getroot()
    for case in root.iter("testcase"):
        name = case.get("name", "")
        if not name.startswith("Cell ") or not name[5:].isdigit() or int(name[5:]) >= len(cell_ids):
            continue
        cell_id = cell_ids[int(name[5:])]
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        kind = props.get("kit_kind") or ("skipped" if skipped else "grader-error" if failed else "passed")
        if kind == "passed" and (failed or skipped):
            kind = "grader-error"
        results[cell_id] = CellResult(cell_id, kind, props.get("kit_output", ""), props.get("kit_error", ""))
    return results


def run_graded_copy(graded: GradedCopy, limits: Limits, quick: bool = False,
                    max_output: int | None = None) -> RunOutcome:
    """Execute the graded copy in a child process; the temporary folder is always removed.

    ``max_output`` raises the length of check output kept (for reference runs of a solution)."""
    token = uuid.uuid4().hex
    base = Path(tempfile.mkdtemp(prefix="kit-grade-"))
    start = time.monotonic()
    killed = False
    try:
        work, report = base / "work", base / "report"
        work.mkdir()
        report.mkdir()
        notebook = work / NOTEBOOK_NAME
        nbformat.write(graded.notebook, notebook)
        ini = report / "pytest.ini"
        ini.write_text("[pytest]\n")
        junit = report / "junit.xml"
        log = report / "child.log"
        with open(log, "wb") as sink:
            child = subprocess.Popen(
                pytest_command(notebook, junit, ini, limits), cwd=work, env=child_env(token, quick, max_output),
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                preexec_fn=_limit(limits.memory_mb, limits.file_mb), start_new_session=True,
            )
            try:
                child.wait(timeout=limits.submission_timeout)
            except subprocess.TimeoutExpired:
                killed = True
                kill_token(token)
                child.wait()
        kill_token(token)  # kernels that outlived pytest
        seconds = time.monotonic() - start
        cells: dict[str, CellResult] = {}
        if not killed and junit.is_file():
            try:
                cells = parse_junit(junit, graded.code_cell_ids())
            except ET.ParseError:
                cells = {}
        tail = log.read_bytes()[-2000:].decode("utf-8", "replace") if log.is_file() else ""
        return RunOutcome(cells=cells, seconds=seconds, killed=killed, stderr_tail=tail)
    finally:
        kill_token(token)
        shutil.rmtree(base, ignore_errors=True)
