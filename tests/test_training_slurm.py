"""Inside a Slurm job (SLURM_* set, ``srun`` on the PATH) a course training is what it is on a
laptop: one process on one device, the same numbers, nothing extra printed, no signal handlers;
the sweep uses the CPUs Slurm granted, not the node's.

The trainings run in a fresh interpreter per environment: Lightning reads ``SLURM_PROCID`` when
it is imported, so the variables must be there before the first import, as in a real job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.parallel import WORKERS_ENV, usable_cpus, worker_plan
from helpers.training import TRAINING_LOG_ENV

REPO = Path(__file__).resolve().parents[1]
TWO_CORES = len(os.sched_getaffinity(0)) >= 2

SCRIPT = """
import json, os, signal, sys
sys.path.insert(0, {repo!r})
sys.path.insert(1, {tests!r})
from test_sweep_parallel import AdamW
from helpers.sweep import sweep_weight_decay
from helpers.training import fit_and_test, make_trainer

run = fit_and_test(AdamW(0.01, num_epochs=1), log_dir="logs", run_name="one", progress=False,
                   limit_train_batches=20, limit_val_batches=5, limit_test_batches=5, log_every_n_steps=5)
trainer = make_trainer(1, log_dir="logs", run_name="probe", progress=False)
sweep = sweep_weight_decay(AdamW, [0.01, 1.0], log_dir="logs", progress=False, max_epochs=1,
                           limit_train_batches=20, limit_val_batches=5, limit_test_batches=5, log_every_n_steps=5)
print("RESULT " + json.dumps(dict(
    one=[run.val_acc, run.test_acc, run.train_acc, run.metrics.to_dict()],
    sweep={{str(k): [r.val_acc, r.test_acc] for k, r in sweep.runs.items()}},
    workers=sweep.workers,
    environment=type(trainer._accelerator_connector.cluster_environment).__name__,
    world_size=trainer.world_size, global_rank=trainer.global_rank, devices=trainer.num_devices,
    usr1=str(signal.getsignal(signal.SIGUSR1)), term=str(signal.getsignal(signal.SIGTERM)),
    metrics_written=os.path.isfile(os.path.join(str(run.log_dir), "metrics.csv")),
)))
"""

FAKE_SRUN = "#!/bin/sh\necho called >> \"$(dirname \"$0\")/srun-was-called\"\nexit 1\n"

# What a step of `srun -n 2 -c 1` gives its second task, and what an `sbatch -c 2` batch script sees.
SECOND_TASK_OF_TWO = {
    "SLURM_JOB_ID": "4242", "SLURM_JOBID": "4242", "SLURM_JOB_NAME": "lab", "SLURM_NTASKS": "2",
    "SLURM_NPROCS": "2", "SLURM_PROCID": "1", "SLURM_LOCALID": "1", "SLURM_NODEID": "0", "SLURM_NNODES": "1",
    "SLURM_NODELIST": "node[01]", "SLURM_JOB_NODELIST": "node[01]", "SLURM_CPUS_PER_TASK": "1",
    "SLURM_CPUS_ON_NODE": "2", "SLURM_STEP_ID": "0", "SLURM_TASKS_PER_NODE": "2",
}
BATCH_SCRIPT = {
    "SLURM_JOB_ID": "4243", "SLURM_JOBID": "4243", "SLURM_JOB_NAME": "sweep", "SLURM_NTASKS": "1",
    "SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NNODES": "1",
    "SLURM_NODELIST": "node01", "SLURM_CPUS_PER_TASK": "2", "SLURM_CPUS_ON_NODE": "2",
    "SLURM_ARRAY_JOB_ID": "4240", "SLURM_ARRAY_TASK_ID": "3",
}


def _train(tmp_path: Path, name: str, slurm: dict[str, str], fake_srun: bool) -> tuple[dict, str, str]:
    """Run SCRIPT in a fresh interpreter: (its result, the rest of stdout, stderr)."""
    work, bin_dir = tmp_path / name, tmp_path / f"{name}-bin"
    work.mkdir()
    bin_dir.mkdir()
    if fake_srun:
        (bin_dir / "srun").write_text(FAKE_SRUN)
        (bin_dir / "srun").chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SLURM_") and k not in (WORKERS_ENV, TRAINING_LOG_ENV)}
    # Only our bin folder: the machine's own srun (if any) must not decide the baseline.
    env.update(slurm, PATH=str(bin_dir), PYTHONWARNINGS="default")
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO), tests=str(REPO / "tests"))],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (bin_dir / "srun-was-called").exists()
    lines = done.stdout.splitlines()
    result = json.loads(next(line for line in lines if line.startswith("RESULT "))[len("RESULT "):])
    rest = "\n".join(line for line in lines if not line.startswith("RESULT "))
    return result, rest, done.stderr


@pytest.mark.skipif(not TWO_CORES, reason="needs 2 usable cores (the sweep's worker count is compared)")
def test_a_training_inside_slurm_is_the_laptop_training(tmp_path: Path) -> None:
    laptop, laptop_out, laptop_err = _train(tmp_path, "laptop", {}, fake_srun=False)
    workers = {}
    for name, slurm in (("task1of2", SECOND_TASK_OF_TWO), ("batch", BATCH_SCRIPT), ("srun-only", {})):
        inside, out, err = _train(tmp_path, name, slurm, fake_srun=True)
        workers[name] = inside["workers"]
        assert (out, err) == (laptop_out, laptop_err), name  # nothing extra printed, no Slurm warning
        assert "srun" not in err and "SLURM" not in err
        assert inside["one"] == laptop["one"] and inside["sweep"] == laptop["sweep"], name  # same numbers
        assert inside["environment"] == "LightningEnvironment"
        assert (inside["world_size"], inside["global_rank"], inside["devices"]) == (1, 0, 1)
        assert inside["metrics_written"]  # task 1 of 2 still logs (Lightning's rank-zero-only logger)
        assert (inside["usr1"], inside["term"]) == (laptop["usr1"], laptop["term"])  # no requeue handlers
    # The sweep uses the CPUs granted: 1 for `-c 1` (serial, same numbers), 2 for `-c 2`.
    assert (laptop["workers"], workers) == (2, {"task1of2": 1, "batch": 2, "srun-only": 2})


def test_workers_follow_the_cpus_slurm_granted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))  # task/none: the whole node
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    for name in ("SLURM_JOB_ID", "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        monkeypatch.delenv(name, raising=False)
    assert usable_cpus() == 8 and worker_plan(20) == (8, "")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")  # without a job id: a leftover, not a grant
    assert usable_cpus() == 8
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    assert usable_cpus() == 3 and worker_plan(20) == (3, "")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert worker_plan(20) == (1, "1 core")
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "4")  # no -c: the job's CPUs on this node
    assert usable_cpus() == 4
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "lots")  # malformed: ignored, the next source decides
    assert usable_cpus() == 4
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "16")  # more than the mask: the mask wins
    assert usable_cpus() == 8
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})  # task/affinity bound the task
    assert usable_cpus() == 2
