"""The two batch scripts, written into the output folder: plain bash with ``#SBATCH`` lines, so
that an HPC user can read them, change an option and submit them again by hand."""

from __future__ import annotations

import shlex

from kit.grade.report import FEEDBACK_DIR, GRADES_CSV, SUMMARY_FILE
from kit.slurm.plan import (
    JOB_NAME,
    MERGE_SCRIPT,
    MISSING_FILE,
    RUNNING_SUFFIX,
    SHARDS_SCRIPT,
    JobOptions,
    Plan,
    log_name,
    part_name,
)

# The merge reads grades.csv files and writes reports: small and short whatever the class size.
MERGE_TIME = "00:15:00"
MERGE_MEM = "2G"


def _option_lines(options: JobOptions, *, time: str | None, mem: str | None, cpus: int) -> list[str]:
    lines = [f"#SBATCH --cpus-per-task={cpus}"]
    if mem:
        lines.append(f"#SBATCH --mem={mem}")
    if time:
        lines.append(f"#SBATCH --time={time}")
    if options.partition:
        lines.append(f"#SBATCH --partition={options.partition}")
    if options.account:
        lines.append(f"#SBATCH --account={options.account}")
    lines += [f"#SBATCH {extra.strip()}" for extra in options.extra]
    return lines


def array_spec(indices: list[int], max_running: int | None) -> str:
    """Slurm's --array value: ``1-4%2`` or ``2,5%2``."""
    if indices == list(range(indices[0], indices[-1] + 1)) and len(indices) > 1:
        spec = f"{indices[0]}-{indices[-1]}"
    else:
        spec = ",".join(map(str, indices))
    return f"{spec}%{max_running}" if max_running else spec


def shards_script(plan: Plan) -> str:
    n, q = plan.count, shlex.quote
    grade = " ".join(q(a) for a in plan.grade_args)
    parts = q(str(plan.part(1).parent))
    head = [
        "#!/bin/bash",
        f"# Grade {plan.submissions} in {n} shards: array task i runs `kit grade --shard i/{n}`.",
        "# Written by `kit slurm submit`; submit again by hand with",
        f"#   sbatch {plan.script(SHARDS_SCRIPT)}",
        f"# or only some shards with  sbatch --array=2,4 {plan.script(SHARDS_SCRIPT)}",
        f"#SBATCH --job-name={JOB_NAME}",
        f"#SBATCH --array={array_spec(list(range(1, n + 1)), plan.options.max_running)}",
        f"#SBATCH --output={plan.log(0).parent}/{log_name('%a')}",
        "#SBATCH --open-mode=append",
        "#SBATCH --requeue",
        *_option_lines(plan.options, time=plan.options.time, mem=plan.options.mem, cpus=plan.options.cpus_per_task),
    ]
    body = f"""
set -euo pipefail
shard=$SLURM_ARRAY_TASK_ID
part={parts}/{part_name("$shard", n)}
work=$part{RUNNING_SUFFIX}$SLURM_JOB_ID
echo "== shard $shard/{n}: job ${{SLURM_ARRAY_JOB_ID}}_$shard on $(hostname), $(date -u +%FT%TZ)," \\
     "restart ${{SLURM_RESTART_COUNT:-0}}"
rm -rf "$work"
{q(plan.python)} -m kit grade {q(plan.submissions)} --out "$work" --shard "$shard/{n}" \\
    --jobs "${{SLURM_CPUS_PER_TASK:-1}}" {grade}
# Publish the part in one rename once it is complete: a shard killed, timed out or requeued midway
# leaves no part (the merge reports it), and a restarted shard replaces its result, never adds to it.
rm -rf "$part.old"
if [ -e "$part" ]; then mv "$part" "$part.old"; fi
mv "$work" "$part"
rm -rf "$part.old"
echo "== shard $shard/{n} done: $part, $(date -u +%FT%TZ)"
"""
    return "\n".join(head) + "\n" + body


def merge_script(plan: Plan) -> str:
    head = [
        "#!/bin/bash",
        f"# Merge the {plan.count} shard outputs into {plan.out} ({GRADES_CSV}, {SUMMARY_FILE}, {FEEDBACK_DIR}/).",
        "# Submitted after the shards with --dependency=afterany:<shards job id>: it starts once every",
        f"# shard has ended, however it ended, and reports the shards that left no result ({MISSING_FILE},",
        "# exit 1) instead of waiting for them forever. By hand:",
        f"#   sbatch --dependency=afterany:<shards job id> {plan.script(MERGE_SCRIPT)}",
        "#SBATCH --job-name=kit-merge",
        f"#SBATCH --output={plan.log(None)}",
        "#SBATCH --open-mode=append",
        *_option_lines(plan.options, time=MERGE_TIME, mem=MERGE_MEM, cpus=1),
    ]
    body = f"""
set -euo pipefail
{shlex.quote(plan.python)} -m kit slurm merge {shlex.quote(plan.out)}
"""
    return "\n".join(head) + "\n" + body
