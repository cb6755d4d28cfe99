"""Executing one graded copy: pytest --nbval-lax in a child process, results from junit XML.

By default the child runs in a bubblewrap sandbox of its own (kit/grade/sandbox.py): it sees
the environment and a copy of the learner-facing kit read-only, its work folder, report folder
and a fresh home read-write, and nothing else; when the sandbox ends every process of the
submission ends. With ``Limits(sandbox=False)`` (``--no-sandbox``) it runs as a plain child
process in the temporary folder. Either way: an address-space and a file-size limit,
per-cell timeouts (nbval) and a wall-clock limit for the whole submission; every process of a
run carries a token in its environment and all of them are killed by that token as well.
Report files written by the child (junit XML, the progress file) are read back only as regular
files of bounded size, and give nothing but cell-level status.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from helpers.evidence import EVIDENCE_ENV
from helpers.settings import QUICK_EPOCHS, QUICK_EPOCHS_ENV  # QUICK_EPOCHS re-exported for the CLI
from kit.execute import TIMING_KEY
from kit.grade import capture, progress, sandbox
from kit.grade.assemble import GradedCopy
from kit.grade.kill import kill_until_gone
from kit.grade.limits.box import Box
from kit.grade.limits.budget import Budget
from kit.grade.limits.session import session
from kit.grade.limits.slots import PREFIX
from kit.grade.limits.usage import LimitHit, Usage
from kit.grade.messages import clip
from kit.notebooks import EXERCISE_KEY, kit_metadata

TOKEN_VAR = "KIT_GRADE_TOKEN"
NOTEBOOK_NAME = "submission.ipynb"
EVIDENCE_DIR = "evidence"
TIMEOUT_MARGIN = 10.0  # a cell may take this many times the solution's measured time
MAX_REPORT_BYTES = 64 * 1024 ** 2  # a bigger junit file is not parsed
NO_LIMITS = "none"
# The report folder: what the grader writes for the child, and what the child writes back.
INI_FILE, SANITIZE_FILE, TIMEOUTS_FILE = "pytest.ini", "sanitize.cfg", "timeouts.json"
JUNIT_FILE, PROGRESS_FILE = "junit.xml", "progress"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    ``cell_timeout`` is the floor of every cell's limit; a cell whose id the solution measured
    (``cell_seconds``, from the solution's ``metadata.kit_timing``) gets ``TIMEOUT_MARGIN`` times that if more.
    """

    cell_timeout: float = 600.0
    submission_timeout: float = 1800.0
    memory_mb: int = 8192
    file_mb: int = 512
    sandbox: bool = True
    cell_seconds: Mapping[str, float] = field(default_factory=dict)
    budget: Budget = field(default_factory=Budget)  # aggregate limits of a sandboxed submission
    limits_mode: str | None = None  # force cgroup-v2 | cgroup-v1 | systemd-scope | rlimit (None: the first usable)
    # or NO_LIMITS: none of them, learner code as the sandbox's mapped root (only to measure their cost)

    def cell_limit(self, cell_id: str) -> float:
        measured = self.cell_seconds.get(cell_id)
        return self.cell_timeout if measured is None else max(self.cell_timeout, TIMEOUT_MARGIN * measured)


@dataclass(frozen=True)
class CellResult:
    """What nbval reported for one code cell of the graded copy."""

    cell_id: str
    kind: str  # one of kit.grade.capture's cell kinds (PASSED, DIFFERS, EXCEPTION, TIMEOUT, KERNEL_DIED, ...)
    output: str = ""  # printed output of a check cell
    error: str = ""  # "Name: message" of a learner cell that raised
    seconds: float = 0.0  # how long the cell ran (as the child measured it)
    limit: float = 0.0  # the cell's timeout in seconds
    heading: str = ""  # the markdown heading or sentence above the cell, to name it in feedback


@dataclass(frozen=True)
class RunOutcome:
    cells: dict[str, CellResult]
    seconds: float
    killed: bool  # the whole-submission timeout fired
    stderr_tail: str = ""
    evidence: dict[str, bytes] = field(default_factory=dict)  # files left in KIT_EVIDENCE_DIR (relative names)
    sandbox: bool = True  # the run was sandboxed
    limit_hits: tuple[LimitHit, ...] = ()  # aggregate limits the submission ran into
    usage: Usage | None = None  # what it reached (sandboxed runs)
    not_in_effect: tuple[str, ...] = ()  # limits a systemd scope did not take


def measured_seconds(solution: nbformat.NotebookNode) -> dict[str, float]:
    """The solution's recorded time per cell id (``metadata.kit_timing.cell_seconds``, written by
    kit.execute); cells without a record are left out (they get the default limit)."""
    timing = solution.metadata.get(TIMING_KEY, {})
    found = timing.get("cell_seconds", {}) if isinstance(timing, dict) else {}
    result = {}
    for cell_id, value in (found.items() if isinstance(found, dict) else ()):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            result[str(cell_id)] = float(value)
    return result


def _sanitize_file() -> Path | None:
    path = Path(__file__).resolve().parent.parent / "nbval_sanitize.cfg"  # package data of kit
    return path if path.is_file() else None


def run_settings(token: str, quick: bool, max_output: int | None = None) -> dict[str, str]:
    """What one grading run sets in the learner code's environment, sandboxed or not: the run
    token, no bytecode files, and quick mode and the output cap when asked for."""
    settings = {TOKEN_VAR: token, "PYTHONDONTWRITEBYTECODE": "1"}
    if max_output is not None:
        settings[capture.MAX_OUTPUT_ENV] = str(max_output)
    if quick:
        settings[QUICK_EPOCHS_ENV] = str(QUICK_EPOCHS)
    return settings


def child_env(token: str, quick: bool, max_output: int | None = None) -> dict[str, str]:
    """The learner code's environment: ours minus pytest's, plus the run token and quick mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", QUICK_EPOCHS_ENV, "KIT_GRADE_"))}
    env.update(run_settings(token, quick, max_output))
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _limit(memory_mb: int, file_mb: int, open_files: int | None = None, box: Box | None = None) -> Callable[[], None]:
    """Between fork and exec: per-process rlimits, then joining the submission's group."""
    values = [(resource.RLIMIT_AS, memory_mb * 1024 ** 2), (resource.RLIMIT_FSIZE, file_mb * 1024 ** 2)]
    if open_files is not None:
        values.append((resource.RLIMIT_NOFILE, open_files))

    def apply() -> None:
        for kind, value in values:
            try:
                resource.setrlimit(kind, (value, value))
            except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS: the time limits still hold
                pass
        if box is not None:
            box.preexec()

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
    return kill_until_gone(lambda: processes_with_token(token), rounds=5, pause=0.1)


def pytest_command(notebook: Path | str, junit: Path | str, ini: Path | str, limits: Limits,
                   python: str = sys.executable, sanitize: Path | str | bool | None = None,
                   timeouts: Path | str | None = None, progress_file: Path | str | None = None) -> list[str]:
    """The child's command line (paths as the child sees them); ``sanitize=False``: no sanitising."""
    command = [
        python, "-m", "pytest", str(notebook),
        "-c", str(ini), "--rootdir", str(Path(notebook).parent),
        "-p", "no:cacheprovider", "-p", sandbox.CAPTURE_MODULE,
        "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout", str(limits.cell_timeout),
        "--junitxml", str(junit), "-o", "junit_family=xunit1", "-q", "--color=no",
    ]
    sanitize = _sanitize_file() if sanitize is None else sanitize
    if sanitize:
        command += ["--nbval-sanitize-with", str(sanitize)]
    if timeouts is not None:
        command += [capture.TIMEOUTS_OPTION, str(timeouts)]
    if progress_file is not None:
        command += [capture.PROGRESS_OPTION, str(progress_file)]
    return command


def read_regular(path: Path, limit: int) -> bytes | None:
    """A file the child wrote, only if it is a regular file (no link, FIFO, device) within ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def cell_heading(notebook: nbformat.NotebookNode, cell_id: str, limit: int = 120) -> str:
    """The markdown just above a code cell: its last heading line, else its first sentence."""
    cells = notebook.cells
    index = next((i for i, c in enumerate(cells) if c.get("id") == cell_id), None)
    if index is None:
        return ""
    for cell in reversed(cells[:index]):
        if cell.cell_type != "markdown":
            continue
        lines = [line.strip() for line in "".join(cell.source).splitlines() if line.strip()]
        headings = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
        text = headings[-1] if headings else (" ".join(lines).split(". ")[0] if lines else "")
        if text:
            return clip(text, limit)
    return ""


def parse_junit(junit: Path | bytes, cell_ids: list[str]) -> dict[str, CellResult]:
    """Per-cell results from nbval's test cases (named ``Cell N``: the N-th code cell)."""
    results: dict[str, CellResult] = {}
    root = ET.fromstring(junit) if isinstance(junit, bytes) else ET.parse(junit).getroot()
    for case in root.iter("testcase"):
        number = capture.cell_number(case.get("name", ""))
        if number is None or number >= len(cell_ids):
            continue
        cell_id = cell_ids[number]
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        kind = props.get(capture.KIND_PROPERTY) or (
            capture.SKIPPED if skipped else capture.GRADER_ERROR if failed else capture.PASSED)
        if kind == capture.PASSED and (failed or skipped):
            kind = capture.GRADER_ERROR
        try:
            seconds = max(0.0, float(props.get(capture.SECONDS_PROPERTY, 0.0)))
        except ValueError:
            seconds = 0.0
        results[cell_id] = CellResult(cell_id, kind, props.get(capture.OUTPUT_PROPERTY, ""),
                                      props.get(capture.ERROR_PROPERTY, ""), seconds)
    return results


def _timeouts(graded: GradedCopy, limits: Limits) -> dict[str, float]:
    """Per code-cell number (nbval's ``Cell N``) limits that differ from the floor."""
    return {str(n): limits.cell_limit(cid) for n, cid in enumerate(graded.code_cell_ids())
            if limits.cell_limit(cid) != limits.cell_timeout}


def _kill_run(child: subprocess.Popen[bytes], token: str) -> None:
    """Stop a run: its process group (bwrap, or pytest unsandboxed), then whatever carries the token."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()
    kill_token(token)


def _poll_progress(path: Path, label: str) -> None:
    data = read_regular(path, 100)
    if data:
        try:
            index, cells = (int(x) for x in data.split()[:2])
        except ValueError:
            return
        progress.report_cell(label, index, cells)


def _stage(layout: sandbox.Layout, graded: GradedCopy, limits: Limits, masks: Mapping[str, bytes]) -> bool:
    """Write the work and report folders of one run; True when a sanitize file came along."""
    if limits.sandbox:
        layout.create(masks)
        layout.hand_over()
    else:
        for folder in (layout.work, layout.report):
            folder.mkdir()
        sandbox.stage_kit(layout.kit, masks)
    (layout.work / EVIDENCE_DIR).mkdir()
    nbformat.write(graded.notebook, layout.work / NOTEBOOK_NAME)
    (layout.report / INI_FILE).write_text("[pytest]\n")
    sanitize = _sanitize_file()
    if sanitize is not None:
        (layout.report / SANITIZE_FILE).write_bytes(sanitize.read_bytes())
    (layout.report / TIMEOUTS_FILE).write_text(json.dumps(_timeouts(graded, limits)))
    layout.hand_over()
    return sanitize is not None


def _child_setup(layout: sandbox.Layout, limits: Limits, token: str, quick: bool,
                 max_output: int | None) -> tuple[dict[str, str], str, Path, Path]:
    """The child's environment, interpreter, and work/report folders as the child sees them."""
    if limits.sandbox:
        work, report = Path(sandbox.WORK_INSIDE), Path(sandbox.REPORT_INSIDE)
        extra = {EVIDENCE_ENV: str(work / EVIDENCE_DIR), **run_settings(token, quick, max_output)}
        extra.setdefault("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
        return sandbox.sandbox_env(extra), sandbox.interpreter().executable, work, report
    env = child_env(token, quick, max_output)
    env[EVIDENCE_ENV] = str(layout.work / EVIDENCE_DIR)
    inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join([str(layout.kit), *inherited])
    return env, sys.executable, layout.work, layout.report


def _log(layout: sandbox.Layout) -> Path:
    """The child's output: on the submission's capped disk when it has one (a flood fills its own disk)."""
    return (layout.writable or layout.base) / "child.log"


def _start(layout: sandbox.Layout, command: list[str], env: dict[str, str], limits: Limits,
           box: Box | None = None) -> subprocess.Popen[bytes]:
    """Start the child in its own session (inside bwrap when sandboxed), output into child.log."""
    fds: tuple[int, ...] = ()
    if limits.sandbox:
        command, args_fd = sandbox.args_file(
            sandbox.bwrap_command(layout, command, env, tmp_bytes=limits.budget.disk_mb * 1024 ** 2),
            layout.base / "bwrap.args")
        command = box.wrap(command) if box is not None else command
        fds = (args_fd,)
    try:
        with open(_log(layout), "wb") as sink:
            return subprocess.Popen(
                command, cwd=layout.work, env=env if not limits.sandbox else {"PATH": os.environ.get("PATH", "")},
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, pass_fds=fds,
                preexec_fn=_limit(limits.memory_mb, limits.file_mb,
                                  limits.budget.open_files if limits.sandbox else None, box),
                start_new_session=True,
            )
    finally:
        for fd in fds:
            os.close(fd)


def _wait(child: subprocess.Popen[bytes], deadline: float, progress_file: Path, label: str,
          box: Box | None = None) -> bool:
    """Wait for the child, reporting its cell progress and sampling its usage; True when the
    submission's time ran out."""
    while True:
        try:
            child.wait(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
            return False
        except subprocess.TimeoutExpired:
            _poll_progress(progress_file, label)
            if box is not None:
                box.sample()
            if time.monotonic() >= deadline:
                return True


def _cell_results(layout: sandbox.Layout, graded: GradedCopy, limits: Limits, killed: bool) -> dict[str, CellResult]:
    junit = read_regular(layout.report / JUNIT_FILE, MAX_REPORT_BYTES)
    cells: dict[str, CellResult] = {}
    if not killed and junit:
        try:
            cells = parse_junit(junit, graded.code_cell_ids())
        except ET.ParseError:
            cells = {}
    return {cid: _annotate(result, graded, limits) for cid, result in cells.items()}


def run_graded_copy(graded: GradedCopy, limits: Limits, quick: bool = False,
                    max_output: int | None = None, *, masks: Mapping[str, bytes] | None = None) -> RunOutcome:
    """Execute the graded copy in a child process (a sandbox unless ``limits.sandbox`` is off);
    the temporary folder is always removed.

    ``max_output`` raises the length of check output kept (for reference runs of a solution).
    ``masks`` replaces files of the kit copy the learner's code sees (kit-relative paths, e.g.
    ``helpers/quiz_data/warmup_quiz.json``). The files left in ``KIT_EVIDENCE_DIR`` are returned
    in ``RunOutcome.evidence``."""
    box = None
    if limits.sandbox:
        sandbox.ensure_available()
    if limits.sandbox and limits.limits_mode != NO_LIMITS:
        current = session(limits.limits_mode)
        name = current.next_name()
        base = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        try:
            box = Box(current, limits.budget, base, name)
        except BaseException:
            sandbox.remove_tree(base)
            raise
        layout = sandbox.Layout(base, box.writable, box.uid)
    else:
        layout = sandbox.Layout(Path(tempfile.mkdtemp(prefix=PREFIX)))
    token = uuid.uuid4().hex
    label = progress.run_started(progress.reference(kit_metadata(graded.notebook).get(EXERCISE_KEY, "")))
    start = time.monotonic()
    try:
        sanitize = _stage(layout, graded, limits, masks or {})
        env, python, work, report = _child_setup(layout, limits, token, quick, max_output)
        command = pytest_command(work / NOTEBOOK_NAME, report / JUNIT_FILE, report / INI_FILE, limits,
                                 python=python, sanitize=(report / SANITIZE_FILE) if sanitize else False,
                                 timeouts=report / TIMEOUTS_FILE, progress_file=report / PROGRESS_FILE)
        child = _start(layout, command, env, limits, box)
        if box is not None:
            box.started()
        killed = _wait(child, start + limits.submission_timeout, layout.report / PROGRESS_FILE, label, box)
        _kill_run(child, token)  # the sandbox (and every process in it), or kernels that outlived pytest
        seconds = time.monotonic() - start
        return RunOutcome(cells=_cell_results(layout, graded, limits, killed), seconds=seconds, killed=killed,
                          stderr_tail=_tail(_log(layout)), evidence=sandbox.read_evidence(layout.work / EVIDENCE_DIR),
                          sandbox=limits.sandbox, limit_hits=tuple(box.hits()) if box else (),
                          usage=box.usage() if box else None, not_in_effect=tuple(box.not_in_effect) if box else ())
    finally:
        kill_token(token)
        progress.run_ended(label)
        if box is not None:
            box.close()
        sandbox.remove_tree(layout.base)


def _tail(log: Path) -> str:
    """The end of the child's output, read without loading a flood."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 2000))
            return handle.read(2000).decode("utf-8", "replace")
    except OSError:
        return ""


def _annotate(result: CellResult, graded: GradedCopy, limits: Limits) -> CellResult:
    return replace(result, limit=limits.cell_limit(result.cell_id),
                   heading=cell_heading(graded.notebook, result.cell_id))
