"""The same shards as a Kubernetes Indexed Job: pod ``JOB_COMPLETION_INDEX`` (0-based) grades
shard index + 1 with the shard script's publish-by-rename, into a volume every pod mounts; once
the Job completes, ``kit slurm merge OUT`` (anywhere the volume is mounted) merges or names what is
missing, exactly as on Slurm.

The manifest is written as YAML by hand: every value is a JSON string or number, which YAML reads
as such, so no YAML library is needed to write it.
"""

from __future__ import annotations

import json
import shlex

from kit.slurm.plan import DEFAULT_MEM, JOB_NAME, RUNNING_SUFFIX, Plan, part_name


def _shard_command(plan: Plan) -> str:
    n, q = plan.count, shlex.quote
    grade = " ".join(q(a) for a in plan.grade_args)
    parts = q(str(plan.part(1).parent))
    return (f"set -eu; shard=$((JOB_COMPLETION_INDEX + 1)); part={parts}/{part_name('$shard', n)}; "
            f"work=$part{RUNNING_SUFFIX}$HOSTNAME; rm -rf \"$work\"; "
            f"{q(plan.python)} -m kit grade {q(plan.submissions)} --out \"$work\" --shard \"$shard/{n}\" "
            f"--jobs {plan.options.cpus_per_task} {grade}; "
            "rm -rf \"$part.old\"; if [ -e \"$part\" ]; then mv \"$part\" \"$part.old\"; fi; "
            "mv \"$work\" \"$part\"; rm -rf \"$part.old\"")


def indexed_job(plan: Plan, *, image: str, claim: str, mount: str, name: str = JOB_NAME) -> str:
    """A batch/v1 Job manifest (completionMode: Indexed) grading ``plan``'s shards."""
    s = json.dumps
    parallelism = plan.options.max_running or plan.count
    memory = plan.options.mem or DEFAULT_MEM
    lines = [
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        f"  name: {s(name)}",
        "spec:",
        "  completionMode: Indexed",
        f"  completions: {plan.count}",
        f"  parallelism: {parallelism}",
        "  backoffLimitPerIndex: 1",
        f"  maxFailedIndexes: {plan.count}",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      containers:",
        "        - name: grade",
        f"          image: {s(image)}",
        f"          command: [\"bash\", \"-c\", {s(_shard_command(plan))}]",
        "          resources:",
        f"            requests: {{cpu: {s(str(plan.options.cpus_per_task))}, memory: {s(memory.replace('G', 'Gi'))}}}",
        f"            limits: {{cpu: {s(str(plan.options.cpus_per_task))}, memory: {s(memory.replace('G', 'Gi'))}}}",
        "          volumeMounts:",
        f"            - {{name: \"work\", mountPath: {s(mount)}}}",
        "      volumes:",
        f"        - {{name: \"work\", persistentVolumeClaim: {{claimName: {s(claim)}}}}}",
    ]
    return "\n".join(lines) + "\n"
