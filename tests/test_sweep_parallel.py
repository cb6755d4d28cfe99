"""The sweep on every core: worker processes give exactly the serial numbers, fall back to serial
when they cannot run, report errors, leave no process behind, and keep one progress display.

Trainings here last one or two epochs: these tests check behaviour, never speed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import torch

from helpers import parallel
from helpers.parallel import WORKERS_ENV, run_jobs, worker_plan
from helpers.sweep import sweep_weight_decay
from helpers.training import TRAINING_LOG_ENV, ClassifierModule
from kit.execute import run_notebook

pytestmark = pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated")
TWO_CORES = len(os.sched_getaffinity(0)) >= 2
needs_two_cores = pytest.mark.skipif(not TWO_CORES, reason="needs 2 usable cores")
REPO = Path(__file__).resolve().parents[1]


class AdamW(ClassifierModule):
    def __init__(self, weight_decay: float, num_epochs: int = 2) -> None:
        super().__init__(learning_rate=0.005, num_epochs=num_epochs)
        self.weight_decay = weight_decay

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


class Adam(AdamW):
    def __init__(self, num_epochs: int = 2) -> None:
        super().__init__(0.0, num_epochs)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.learning_rate)
        return optimizer


def _pids(log: Path) -> dict[str, int]:
    return {entry["run"]: entry["pid"] for entry in map(json.loads, log.read_text().splitlines())}


def _numbers(run) -> tuple:
    return (run.val_acc, run.test_acc, run.train_acc)


@needs_two_cores
def test_parallel_sweep_gives_exactly_the_serial_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = [0.01, 0.3, 1.0]
    monkeypatch.setenv(WORKERS_ENV, "1")
    monkeypatch.setenv(TRAINING_LOG_ENV, str(tmp_path / "serial.jsonl"))
    serial = sweep_weight_decay(AdamW, values, log_dir=tmp_path / "serial", progress=False, baseline=Adam,
                                baseline_name="adam")
    monkeypatch.delenv(WORKERS_ENV)
    monkeypatch.setenv(TRAINING_LOG_ENV, str(tmp_path / "parallel.jsonl"))
    torch.rand(100)  # the parent's RNG moved, as earlier notebook cells would move it
    parallel_sweep = sweep_weight_decay(AdamW, values, log_dir=tmp_path / "parallel", progress=False, baseline=Adam,
                                        baseline_name="adam")

    assert serial.workers == 1 and parallel_sweep.workers == 2
    # the parallel runs really trained in other processes, the serial ones in this one
    assert set(_pids(tmp_path / "serial.jsonl").values()) == {os.getpid()}
    worker_pids = _pids(tmp_path / "parallel.jsonl")
    assert len(worker_pids) == 4 and os.getpid() not in worker_pids.values() and len(set(worker_pids.values())) == 4

    for weight_decay in values:
        a, b = serial.runs[weight_decay], parallel_sweep.runs[weight_decay]
        assert _numbers(a) == _numbers(b)
        pd.testing.assert_frame_equal(a.metrics, b.metrics)  # every epoch's loss, accuracy and LR
        assert a.log_dir.relative_to(tmp_path / "serial") == b.log_dir.relative_to(tmp_path / "parallel")
    assert serial.baseline is not None and parallel_sweep.baseline is not None  # baseline=Adam was asked for
    assert _numbers(serial.baseline) == _numbers(parallel_sweep.baseline)
    pd.testing.assert_frame_equal(serial.baseline.metrics, parallel_sweep.baseline.metrics)
    # the runs differ from each other, so equality above is not trivial
    assert len({_numbers(run) for run in serial.runs.values()} | {_numbers(serial.baseline)}) > 1
    pd.testing.assert_frame_equal(serial.table.drop(columns="seconds"), parallel_sweep.table.drop(columns="seconds"))


def test_summary_line_has_the_real_numbers(tmp_path: Path) -> None:
    sweep = sweep_weight_decay(AdamW, [0.1, 0.5], log_dir=tmp_path, progress=False, baseline=Adam)
    assert sweep.baseline is not None
    assert sweep.training_seconds == pytest.approx(sum(r.seconds for r in sweep.runs.values()) + sweep.baseline.seconds)
    expected = f"sweep: 3 trainings, {sweep.training_seconds:.0f} s of training in {sweep.seconds:.0f} s wall"
    assert sweep.summary.startswith(expected) and sweep.seconds > 0


def test_one_core_means_serial_and_says_so_in_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setenv(TRAINING_LOG_ENV, str(tmp_path / "log.jsonl"))
    sweep = sweep_weight_decay(AdamW, [0.1, 0.5], log_dir=tmp_path, progress=False, max_epochs=1)
    assert sweep.workers == 1
    assert sweep.summary.endswith("(one after another: 1 core)")
    assert set(_pids(tmp_path / "log.jsonl").values()) == {os.getpid()}


@needs_two_cores
def test_fork_failure_falls_back_to_serial_with_one_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys) -> None:
    def refuse() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    monkeypatch.setattr(parallel, "_announced", set())
    monkeypatch.setenv(TRAINING_LOG_ENV, str(tmp_path / "log.jsonl"))
    first = sweep_weight_decay(AdamW, [0.1, 0.5], log_dir=tmp_path / "a", progress=False, max_epochs=1)
    second = sweep_weight_decay(AdamW, [0.1, 0.5], log_dir=tmp_path / "b", progress=False, max_epochs=1)
    out = capsys.readouterr().out
    assert out.count("note: could not start a worker process (Resource temporarily unavailable)") == 1
    assert first.workers == second.workers == 1
    assert first.summary.endswith("(one after another: worker processes could not start)")
    assert [_numbers(r) for r in first.runs.values()] == [_numbers(r) for r in second.runs.values()]
    assert set(_pids(tmp_path / "log.jsonl").values()) == {os.getpid()}


def test_kit_workers_caps_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)  # CI runs inside a Slurm job, whose grant would cap this
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert worker_plan(6) == (6, "") and worker_plan(20) == (8, "") and worker_plan(1) == (1, "")
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert worker_plan(6) == (3, "")
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert worker_plan(6) == (1, f"{WORKERS_ENV}=1")
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(WORKERS_ENV, bad)
        with pytest.raises(ValueError, match=f"{WORKERS_ENV} must be a positive whole number"):
            worker_plan(6)


def test_unfinished_blank_stops_before_any_worker_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Blank(AdamW):
        def configure_optimizers(self):
            raise NotImplementedError("optimizer = torch.optim.AdamW(...)")

    monkeypatch.setattr(os, "fork", lambda: pytest.fail("a worker was started for an unfinished blank"))
    with pytest.raises(NotImplementedError, match="configure_optimizers is not finished yet: optimizer = torch"):
        sweep_weight_decay(Blank, [0.1, 0.5], log_dir=tmp_path, progress=False)
    with pytest.raises(TypeError, match=r"baseline\(\) returned Linear, not a LightningModule"):
        sweep_weight_decay(AdamW, [0.1, 0.5], log_dir=tmp_path, progress=False,
                           baseline=lambda: torch.nn.Linear(2, 2))  # type: ignore[arg-type, return-value]  # the wrong type is the point


class FailsInTraining(AdamW):
    def training_step(self, batch, batch_idx):
        if self.weight_decay == 0.5:
            raise ValueError(f"learner bug at weight decay {self.weight_decay}")
        return super().training_step(batch, batch_idx)


@needs_two_cores
def test_an_error_in_a_worker_is_raised_here_with_its_traceback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"learner bug at weight decay 0\.5") as caught:
        sweep_weight_decay(FailsInTraining, [0.1, 0.5], log_dir=tmp_path, progress=False, max_epochs=1)
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "raised while training weight_decay=0.5 in a worker process" in notes and "training_step" in notes


def _sleep_forever(send) -> None:
    send(os.getpid())
    time.sleep(600)


def _fail_soon(send) -> None:
    time.sleep(0.5)
    raise KeyError("boom")


@needs_two_cores
def test_a_failing_job_stops_the_other_workers(tmp_path: Path) -> None:
    pids: list[int] = []
    with pytest.raises(KeyError, match="boom"):
        run_jobs([_sleep_forever, _fail_soon], on_event=lambda index, pid: pids.append(pid), workers=2)
    assert len(pids) == 1 and pids[0] != os.getpid()
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pids[0], 0)


@needs_two_cores
def test_run_jobs_order_events_and_printed_text(capsys) -> None:
    events: list[tuple[int, tuple[str, int]]] = []  # (job index, the ("pid", pid) a job sends)

    def job(n: int):
        def run(send):
            print(f"hello from job {n}")
            send(("pid", os.getpid()))
            return n * n

        return run

    results, used = run_jobs([job(n) for n in range(5)], on_event=lambda i, e: events.append((i, e)), workers=2)
    assert results == [0, 1, 4, 9, 16] and used == 2
    assert sorted(i for i, _ in events) == [0, 1, 2, 3, 4]
    assert os.getpid() not in {e[1] for _, e in events}
    out = capsys.readouterr().out
    hellos = sorted(line for line in out.splitlines() if line.startswith("hello"))
    assert hellos == [f"hello from job {n}" for n in range(5)]


@needs_two_cores
def test_a_worker_killed_from_outside_is_reported(tmp_path: Path) -> None:
    def killed(send):
        os.kill(os.getpid(), 9)

    with pytest.raises(RuntimeError, match="the worker process training job 2 stopped with signal SIGKILL"):
        run_jobs([lambda send: 1, killed], workers=2)


NOTEBOOK_CELLS = [
    """
    import os, torch
    from helpers.sweep import sweep_weight_decay
    from helpers.training import ClassifierModule
    """,
    """
    class KernelModel(ClassifierModule):  # defined in the kernel's __main__, as in JupyterLab
        def __init__(self, weight_decay, num_epochs=2):
            super().__init__(learning_rate=0.005, num_epochs=num_epochs)
            self.weight_decay = weight_decay

        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
    """,
    """
    sweep = sweep_weight_decay(KernelModel, [0.01, 0.1, 1.0], run_name="adamw")
    print(sweep.summary)
    print("kernel pid", os.getpid(), "workers", sweep.workers)
    """,
]


@needs_two_cores
def test_in_a_jupyter_kernel_one_display_shows_the_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRAINING_LOG_ENV, str(tmp_path / "log.jsonl"))
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(source).strip()) for source in NOTEBOOK_CELLS]
    run_notebook(nb, cwd=tmp_path, timeout=600)
    outputs = nb.cells[2].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    streams = "".join(o.text for o in outputs if o.output_type == "stream")
    assert len(displays) == 1, outputs  # one progress display, updated in place
    assert displays[0].data["text/plain"].startswith("3/3 trained · ")
    lines = streams.splitlines()
    assert lines[0] == ("Training logs (one metrics.csv per run) go to logs/ beside this notebook; "
                        "delete the folder whenever you like.")
    assert lines[1].startswith("sweep: 3 trainings, ") and lines[1].endswith(" s wall")
    kernel_pid, workers = int(lines[2].split()[2]), int(lines[2].split()[4])
    assert workers == 2 and len(lines) == 3  # nothing else printed: no worker output, no warnings
    pids = _pids(tmp_path / "log.jsonl")
    assert len(pids) == 3 and kernel_pid not in pids.values()
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["adamw_0.01", "adamw_0.1", "adamw_1"]


BWRAP = shutil.which("bwrap")
SANDBOX_SCRIPT = """
import json, os, sys
sys.path.insert(0, {repo!r})
sys.path.insert(1, {tests!r})
from test_sweep_parallel import AdamW
from helpers.sweep import sweep_weight_decay
sweep = sweep_weight_decay(AdamW, [0.01, 1.0], log_dir="/tmp/logs", progress=False, max_epochs=1)
runs = {{str(k): [r.val_acc, r.test_acc] for k, r in sweep.runs.items()}}
print(json.dumps(dict(workers=sweep.workers, pid=os.getpid(), runs=runs)))
"""


def _bwrap_works() -> bool:
    if BWRAP is None:
        return False
    probe = subprocess.run([BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                           capture_output=True)
    return probe.returncode == 0


@needs_two_cores
@pytest.mark.skipif(not _bwrap_works(), reason="bubblewrap missing or user namespaces unavailable")
def test_workers_start_inside_the_graders_bubblewrap_sandbox(tmp_path: Path) -> None:
    assert BWRAP is not None  # _bwrap_works() found it
    script = SANDBOX_SCRIPT.format(repo=str(REPO), tests=str(REPO / "tests"))
    # the brief's flags; the read-only root first, so that /tmp is the sandbox's own tmpfs, then the
    # checkout again on top (a clone under /tmp, as in CI, would otherwise vanish under that tmpfs)
    sandbox = [BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "--ro-bind", str(REPO), str(REPO)]
    env = {k: v for k, v in os.environ.items() if k not in (WORKERS_ENV, TRAINING_LOG_ENV)}
    inside = subprocess.run([*sandbox, sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            timeout=600)
    assert inside.returncode == 0, inside.stderr[-3000:]
    report = json.loads(inside.stdout.strip().splitlines()[-1])
    assert report["workers"] == 2
    env[WORKERS_ENV] = "1"
    serial = subprocess.run([*sandbox, sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            timeout=600)
    assert serial.returncode == 0, serial.stderr[-3000:]
    assert json.loads(serial.stdout.strip().splitlines()[-1])["runs"] == report["runs"]
