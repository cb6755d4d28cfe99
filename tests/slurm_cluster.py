"""Whether a Slurm cluster answers here (CI starts a one-node one with .ci/slurm/start.sh and
exports SLURM_CONF), and why not when it does not: tests that need it skip with that reason."""

from __future__ import annotations

import functools
import shutil
import subprocess


@functools.cache
def unavailable() -> str:
    """'' when sbatch/squeue work and a node is up; else the reason."""
    for tool in ("sbatch", "squeue", "sinfo", "scancel", "scontrol"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install slurm-client slurmd slurmctld munge)"
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 30 s"
    states = done.stdout.split()
    if done.returncode != 0:
        return f"no Slurm controller answers (start one: .ci/slurm/start.sh, export SLURM_CONF): {done.stderr[:200]}"
    if not any(state.startswith(("idle", "mix", "alloc")) for state in states):
        return f"no Slurm node is up (sinfo states: {states})"
    return ""
