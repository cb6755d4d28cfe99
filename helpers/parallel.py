"""Independent jobs (trainings) run side by side in forked worker processes, one per core.

Why fork: a notebook's model classes live in the kernel's ``__main__``, which a spawned worker
cannot import (pickling them by reference fails). A forked child inherits the kernel's memory, so
every class, closure and imported module is already there and starting it takes milliseconds.
Only the jobs' results (and their progress events) travel back, pickled through a pipe.

Each child runs exactly one job on one torch thread and leaves with ``os._exit``, so it never
runs the kernel's own exit handlers. A job computes exactly what it would in the parent: it gets
a copy of the parent's state and seeds itself. When workers cannot be used (one core, not Linux,
``KIT_WORKERS=1``, or ``fork`` fails) the jobs run in the calling process, one after another.
"""

from __future__ import annotations

import ctypes
import functools
import io
import os
import pickle
import signal
import sys
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, TypeVar

WORKERS_ENV = "KIT_WORKERS"
SLURM_JOB_ENV = "SLURM_JOB_ID"  # set in every Slurm job: batch script, srun task, interactive allocation

T = TypeVar("T")
Send = Callable[[Any], None]
Job = Callable[[Send], T]
_announced: set[str] = set()


def in_slurm_job() -> bool:
    """Whether this process runs inside a Slurm job (its other SLURM_* variables are then a grant)."""
    return SLURM_JOB_ENV in os.environ


def slurm_number(*names: str) -> int | None:
    """The first of the Slurm job variables ``names`` that holds a positive whole number; None
    outside a Slurm job (a stray variable is no grant) or when none does (malformed values are ignored)."""
    if not in_slurm_job():
        return None
    for name in names:
        value = os.environ.get(name, "").strip()
        if value.isdecimal() and int(value) >= 1:  # isdecimal: exactly the digits int() reads
            return int(value)
    return None


def _slurm_cpus() -> int | None:
    """The CPUs Slurm granted this task, or None outside a Slurm job.

    Slurm binds tasks to their CPUs only where its task/affinity or task/cgroup plugin is on; with
    task/none (or in the batch script itself) the affinity mask is the whole node, so the grant
    is read from the job's variables: ``SLURM_CPUS_PER_TASK`` (``-c``), else the job's CPUs on
    this node (``SLURM_CPUS_ON_NODE``). Malformed values are ignored (the mask still applies).
    """
    return slurm_number("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE")


def usable_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a Slurm job's grant."""
    mask = len(os.sched_getaffinity(0))
    granted = _slurm_cpus()
    return mask if granted is None else max(1, min(mask, granted))


def worker_plan(jobs: int) -> tuple[int, str]:
    """How many worker processes to use for ``jobs`` jobs, and, when it is 1, why.

    One per CPU this process may use (:func:`usable_cpus`: the affinity mask, and inside a Slurm
    job the CPUs it granted, not the node's count), at most one per job, at most
    ``$KIT_WORKERS``. An empty reason means the jobs really run in workers.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 0:
        raise ValueError(f"jobs must be a whole number >= 0, got {jobs!r}")
    setting = os.environ.get(WORKERS_ENV, "").strip()
    if setting and (not setting.isdigit() or int(setting) < 1):
        raise ValueError(f"{WORKERS_ENV} must be a positive whole number, got {setting!r}")
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 1, "worker processes are used on Linux only"
    cores = usable_cpus()
    if setting and int(setting) == 1:
        return 1, f"{WORKERS_ENV}=1"
    if cores < 2:
        return 1, "1 core"
    if jobs < 2:
        return 1, ""
    count = min(cores, jobs, int(setting) if setting else cores)
    return count, ""


def say_once(message: str) -> None:
    """Print a note the first time it comes up in this process (e.g. the serial fallback)."""
    if message not in _announced:
        _announced.add(message)
        print(f"note: {message}", flush=True)


class _PipeText(io.TextIOBase):
    """A child's ``sys.stdout``/``sys.stderr``: whole lines go to the parent, which prints them
    (whole lines, so that two workers' prints never interleave within a line)."""

    def __init__(self, conn: Connection, stream: str) -> None:
        self._conn = conn
        self._stream = stream
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += str(text)
        cut = self._pending.rfind("\n") + 1
        if cut:
            self._conn.send(("text", self._stream, self._pending[:cut]))
            self._pending = self._pending[cut:]
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._conn.send(("text", self._stream, self._pending))
            self._pending = ""


def _die_with_parent() -> None:
    """Ask Linux to kill this child if the kernel that forked it dies (PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux, or no prctl
        pass


def _child(job: Job, conn: Connection, parent: int) -> None:
    """Body of a forked child: run ``job`` and send its result or its error; never returns."""
    code = 0
    try:
        _die_with_parent()
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # an interrupt stops the child at once
        except ValueError:  # pragma: no cover - not the main thread
            pass
        import torch

        torch.set_num_threads(1)
        sys.stdout = _PipeText(conn, "stdout")
        sys.stderr = _PipeText(conn, "stderr")
        try:
            result = job(lambda event: conn.send(("event", event)))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        conn.send(("result", result))
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        code = 1
        text = traceback.format_exc()
        try:
            payload = pickle.dumps(exc)
            pickle.loads(payload)
        except Exception:  # noqa: BLE001 - e.g. an exception class defined inside a function
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        try:
            conn.send(("error", exc, text))
        except Exception:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


class WorkersUnavailable(RuntimeError):
    """``fork`` failed (e.g. a process limit): the caller runs the remaining jobs itself."""


def _start(job: Job, *, parent: int) -> tuple[int, Connection]:
    reader, writer = Pipe(duplex=False)
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process (a Jupyter kernel) may deadlock
        # the child; the child here touches no lock of the kernel's threads (no output, no zmq).
        warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning)
        try:
            pid = os.fork()
        except OSError as exc:
            reader.close()
            writer.close()
            raise WorkersUnavailable(f"could not start a worker process ({exc.strerror or exc})") from None
    if pid == 0:  # pragma: no cover - the child's lines run in the forked process
        reader.close()
        _child(job, writer, parent)
    writer.close()
    return pid, reader


def _stop(children: dict[Connection, tuple[int, int]]) -> None:
    for conn, (_, pid) in children.items():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        conn.close()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    children.clear()


def _exit_status(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "an unknown status"
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def _reraise(exc: BaseException, text: str, label: str) -> None:
    note = f"(raised while training {label} in a worker process; the worker's traceback:)\n{text.rstrip()}"
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    raise exc


def run_jobs(
    jobs: Sequence[Job],
    *,
    labels: Sequence[str] | None = None,
    on_event: Callable[[int, Any], None] = lambda index, event: None,
    workers: int | None = None,
) -> tuple[list[Any], int]:
    """Run every ``job(send)`` and return (their results in order, the number of workers used).

    ``send(event)`` inside a job hands ``event`` to ``on_event(job_index, event)`` in the
    calling process, whether the job ran in a worker or not: that is how one progress display
    follows all of them. ``workers`` defaults to :func:`worker_plan`. A job's exception is
    raised here (the other workers are stopped) with the worker's traceback as a note.
    """
    labels = list(labels) if labels is not None else [f"job {i + 1}" for i in range(len(jobs))]
    if len(labels) != len(jobs):
        raise ValueError(f"{len(jobs)} jobs but {len(labels)} labels")
    count = worker_plan(len(jobs))[0] if workers is None else workers
    results: list[Any] = [None] * len(jobs)
    done = [False] * len(jobs)
    if count > 1:
        try:
            _run_forked(jobs, labels, on_event, count, results, done)
        except WorkersUnavailable as exc:
            say_once(f"{exc}; training one after another in this process instead")
            count = 1
    for index, job in enumerate(jobs):  # serial path, or what the workers could not do
        if not done[index]:
            results[index] = job(functools.partial(on_event, index))
            done[index] = True
    return results, count


def _run_forked(
    jobs: Sequence[Job],
    labels: list[str],
    on_event: Callable[[int, Any], None],
    count: int,
    results: list[Any],
    done: list[bool],
) -> None:
    parent = os.getpid()
    pending = deque(range(len(jobs)))
    children: dict[Connection, tuple[int, int]] = {}  # reader -> (job index, pid)
    try:
        while pending or children:
            while pending and len(children) < count:
                index = pending[0]
                try:
                    pid, reader = _start(jobs[index], parent=parent)
                except WorkersUnavailable:
                    if children:  # keep going with the workers already running
                        count = len(children)
                        break
                    raise
                pending.popleft()
                children[reader] = (index, pid)
            for ready in wait(list(children)):
                assert isinstance(ready, Connection)
                reader = ready
                index, pid = children[reader]
                try:
                    message = reader.recv()
                except EOFError:
                    del children[reader]
                    reader.close()
                    status = _exit_status(pid)
                    raise RuntimeError(
                        f"the worker process training {labels[index]} stopped with {status} before "
                        f"finishing (out of memory?); run it again, or set {WORKERS_ENV}=1 to train "
                        "one configuration at a time"
                    ) from None
                kind = message[0]
                if kind == "event":
                    on_event(index, message[1])
                elif kind == "text":
                    stream = sys.stdout if message[1] == "stdout" else sys.stderr
                    stream.write(message[2])
                elif kind == "result":
                    results[index], done[index] = message[1], True
                    del children[reader]
                    reader.close()
                    os.waitpid(pid, 0)
                elif kind == "error":
                    del children[reader]
                    reader.close()
                    os.waitpid(pid, 0)
                    _reraise(message[1], message[2], labels[index])
    finally:
        _stop(children)
