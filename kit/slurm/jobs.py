"""Talking to Slurm: ``sbatch`` to submit, ``squeue`` to follow. Only these two commands, run as
the instructor would type them (the commands are printed too)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter

from kit.grade.errors import GradeUsageError
from kit.slurm.plan import MERGE_SCRIPT, SHARDS_SCRIPT, Plan
from kit.slurm.scripts import array_spec


def _env() -> dict[str, str]:
    """The submitting environment without the variables of a job it may itself run in: a new job
    must not inherit another allocation's SLURM_CPUS_PER_TASK and the like (SLURM_CONF stays)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") or k == "SLURM_CONF"}


def _run(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        raise GradeUsageError(f"{command[0]} not found: run this on a Slurm login node (or use --dry-run)")
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=120)
    if done.returncode != 0:
        raise GradeUsageError(f"{shlex.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def submit_commands(plan: Plan, indices: list[int] | None, shards_job: str = "<shards job id>") -> list[list[str]]:
    """The sbatch commands: the array (all shards, or only ``indices``), then the merge after it."""
    shards = ["sbatch", "--parsable"]
    if indices is not None:
        shards.append(f"--array={array_spec(indices, plan.options.max_running)}")
    shards.append(str(plan.script(SHARDS_SCRIPT)))
    merge = ["sbatch", "--parsable", f"--dependency=afterany:{shards_job}", str(plan.script(MERGE_SCRIPT))]
    return [shards, merge]


def submit(plan: Plan, indices: list[int] | None) -> tuple[str, str]:
    """Submit the array and its merge; returns their job ids (also appended to the plan)."""
    first = submit_commands(plan, indices)[0]
    print(f"$ {shlex.join(first)}", file=sys.stderr)
    shards_job = _run(first).split(";")[0]
    second = submit_commands(plan, indices, shards_job)[1]
    print(f"$ {shlex.join(second)}", file=sys.stderr)
    merge_job = _run(second).split(";")[0]
    plan.jobs += [shards_job, merge_job]
    return shards_job, merge_job


def queued(job_ids: list[str]) -> Counter[str]:
    """How many tasks of these jobs are in the queue, by state (PENDING, RUNNING, ...)."""
    if not job_ids:
        return Counter()
    command = ["squeue", "-h", "-r", "-j", ",".join(job_ids), "-o", "%T"]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=120)
    if done.returncode != 0:
        if "Invalid job id" in done.stderr:  # ended long ago and forgotten by the controller
            return Counter()
        raise GradeUsageError(f"{shlex.join(command)} failed: {done.stderr.strip()}")
    return Counter(line.strip() for line in done.stdout.splitlines() if line.strip())


def task_state(job_id: str, index: int) -> str | None:
    """Slurm's state of one array task (RUNNING, CANCELLED, TIMEOUT, ...), ended ones included while
    the controller still remembers them (MinJobAge); None when it does not, or squeue is missing."""
    if shutil.which("squeue") is None:
        return None
    command = ["squeue", "-h", "-t", "all", "-j", f"{job_id}_{index}", "-o", "%T"]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=120)
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def wait(plan: Plan, merge_job: str, poll: float = 5.0) -> None:
    """Block until the merge job has left the queue, with one progress line per change."""
    last = ""
    while True:
        shards = queued([plan.jobs[-2]]) if len(plan.jobs) >= 2 else Counter()
        merging = queued([merge_job])
        parts = sum(plan.part(s.index).is_dir() for s in plan.shards)
        states = [f"{parts}/{plan.count} done"] + [f"{n} {state.lower()}" for state, n in sorted(shards.items())]
        line = f"shards: {', '.join(states)}; merge: {', '.join(s.lower() for s in merging) or 'ended'}"
        if line != last:
            print(time.strftime("%H:%M:%S ") + line, file=sys.stderr, flush=True)
            last = line
        if not merging:
            return
        time.sleep(poll)
