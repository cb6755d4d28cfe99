"""Command line of ``kit slurm``:

    kit slurm submit SUBMISSIONS --out DIR [--shards N | --target-minutes M] [--partition P]
                     [--account A] [--time T] [--mem M] [--cpus-per-task C] [--max-running K]
                     [--sbatch-line=--qos=short ...] [--dry-run] [--wait] [kit grade options]
    kit slurm merge DIR        (what the merge job runs; exit 1 and DIR/MISSING.md if a shard is missing)
    kit slurm resubmit DIR [--wait]   (only the shards that left no result, then the merge again)
    kit slurm wait DIR
    kit slurm kubernetes SUBMISSIONS --out DIR --image IMG --claim PVC --mount PATH [as submit]
                               (the same shards as a Kubernetes Indexed Job manifest)

Options it does not know (``--quick``, ``--no-sandbox``, ``--timeout`` ...) go to every shard's
``kit grade``. Exit status: 0 done, 1 grading incomplete (shards missing), 2 misuse.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kit.grade.errors import GradeUsageError
from kit.grade.registry import default_solutions_dir
from kit.grade.report import FEEDBACK_DIR, GRADES_CSV, SUMMARY_FILE
from kit.slurm import jobs
from kit.slurm import plan as P
from kit.slurm.kubernetes import indexed_job
from kit.slurm.parts import merge_plan, missing, missing_text
from kit.slurm.scripts import merge_script, shards_script

# Chosen by `kit slurm` itself for every shard.
_OWN = ("--out", "--shard", "--jobs")


def _submit_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kit slurm submit", description="Grade a folder on a Slurm cluster: a job array of shards, then a merge.",
        allow_abbrev=False)  # --shard is kit grade's, not an abbreviation of --shards
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder on a filesystem the nodes share (scripts, logs, parts, reports)")
    parser.add_argument("--shards", type=int, default=None,
                        help="number of array tasks (default: from --target-minutes)")
    parser.add_argument("--target-minutes", type=float, default=30.0,
                        help="aim for shards of about this many minutes (estimated from the solutions' run times)")
    parser.add_argument("--partition", default=None)
    parser.add_argument("--account", default=None)
    parser.add_argument("--time", default=None,
                        help=f"time limit per shard, [D-]HH:MM:SS (default: {P.TIME_RULE})")
    parser.add_argument("--mem", default=P.DEFAULT_MEM,
                        help=f"memory per shard task (default {P.DEFAULT_MEM}: torch maps ~4.5 GB per kernel)")
    parser.add_argument("--cpus-per-task", type=int, default=1, help="CPUs per shard; it grades that many at once")
    parser.add_argument("--max-running", type=int, default=None, metavar="K", help="at most K shards at once (%%K)")
    parser.add_argument("--sbatch-line", action="append", default=[], metavar="OPTION",
                        help="an extra #SBATCH option for both jobs, written with '=': --sbatch-line=--qos=short "
                             "(repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="write the scripts and print the sbatch commands only")
    parser.add_argument("--wait", action="store_true", help="block until the merge has ended, showing progress")
    parser.add_argument("--poll", type=float, default=5.0, help=argparse.SUPPRESS)
    return parser


def _grade_args(extra: list[str]) -> tuple[list[str], Path, list[str] | None, bool]:
    """The options for every shard's kit grade, and the ones the plan needs to know itself."""
    for arg in extra:
        if arg.split("=")[0] in _OWN:
            raise GradeUsageError(f"{arg.split('=')[0]} is set by kit slurm for each shard; leave it out")
    known = argparse.ArgumentParser(add_help=False)
    known.add_argument("--solutions", type=Path, default=None)
    known.add_argument("--exercise", action="append", default=None)
    known.add_argument("--quick", action="store_true")
    ours, _ = known.parse_known_args(extra)
    solutions = (ours.solutions or default_solutions_dir()).resolve()
    args = [a if not ours.solutions or a != str(ours.solutions) else str(solutions) for a in extra]
    return args, solutions, ours.exercise, ours.quick


def _check_options(args: argparse.Namespace) -> None:
    if args.shards is not None and args.shards < 1:
        raise GradeUsageError(f"--shards must be at least 1, got {args.shards}")
    if args.cpus_per_task < 1 or (args.max_running is not None and args.max_running < 1):
        raise GradeUsageError("--cpus-per-task and --max-running must be at least 1")
    if args.target_minutes <= 0:
        raise GradeUsageError("--target-minutes must be positive")
    for line in args.sbatch_line:
        if not line.strip().startswith("-") or "\n" in line:
            raise GradeUsageError(f"--sbatch-line takes one sbatch option such as --qos=short, got {line!r}")


def _make_plan(args: argparse.Namespace, extra: list[str]) -> P.Plan:
    """Check the options, split the batch and write the plan and both scripts into --out."""
    _check_options(args)
    grade_args, solutions, only, quick = _grade_args(extra)
    inbox, out = args.submissions.resolve(), args.out.resolve()
    if not inbox.is_dir():
        raise GradeUsageError(f"submissions folder {args.submissions} does not exist (or is not a folder)")
    if out == inbox or inbox in out.parents:
        raise GradeUsageError(f"--out {args.out} is inside the submissions folder; choose a folder outside it")
    if (out / P.SLURM_DIR / P.PLAN_FILE).exists():
        raise GradeUsageError(f"{out} already holds a Slurm grading: `kit slurm resubmit {out}`, or another --out")
    shards, longest = P.split(inbox, solutions, only, args.shards, quick, args.target_minutes * 60, args.cpus_per_task)
    options = P.JobOptions(args.partition, args.account, args.time or P.default_time(longest), args.mem,
                           args.cpus_per_task, args.max_running, args.sbatch_line)
    plan = P.Plan(str(out), str(inbox), len(shards), grade_args, sys.executable, options, shards, round(longest, 1))
    _write(plan)
    print(f"{plan.count} shard(s) of {sum(len(s.submissions) for s in shards)} submission(s), about "
          f"{longest / 60:.0f} min each (limit {options.time}); scripts in {plan.script('')}", file=sys.stderr)
    return plan


def submit_main(argv: list[str]) -> int:
    args, extra = _submit_parser().parse_known_args(argv)
    plan = _make_plan(args, extra)
    if args.dry_run:
        for command in jobs.submit_commands(plan, None):
            print(" ".join(command))
        return 0
    return _launch(plan, None, args.wait, args.poll)


def kubernetes_main(argv: list[str]) -> int:
    parser = _submit_parser()
    parser.prog = "kit slurm kubernetes"
    parser.description = "Write the shards as a Kubernetes Indexed Job (kubectl apply it, then kit slurm merge)."
    parser.add_argument("--image", required=True, help="container image with the kit's environment and bwrap")
    parser.add_argument("--claim", required=True, help="PersistentVolumeClaim holding the submissions and --out")
    parser.add_argument("--mount", required=True, help="where the claim is mounted (the paths given live under it)")
    args, extra = parser.parse_known_args(argv)
    for path in (args.submissions, args.out):
        if not path.resolve().is_relative_to(Path(args.mount)):
            raise GradeUsageError(f"{path} is not under --mount {args.mount}: the pods would not see it")
    plan = _make_plan(args, extra)
    manifest = plan.script("kubernetes-job.yaml")
    manifest.write_text(indexed_job(plan, image=args.image, claim=args.claim, mount=args.mount))
    print(f"kubectl apply -f {manifest}\nkubectl wait --for=condition=complete --timeout=24h job/{P.JOB_NAME}\n"
          f"kit slurm merge {plan.out}")
    return 0


def _write(plan: P.Plan) -> None:
    plan.log(None).parent.mkdir(parents=True, exist_ok=True)
    (plan.root / P.PARTS_DIR).mkdir(exist_ok=True)
    plan.script(P.SHARDS_SCRIPT).write_text(shards_script(plan))
    plan.script(P.MERGE_SCRIPT).write_text(merge_script(plan))
    P.save(plan)


def _launch(plan: P.Plan, indices: list[int] | None, wait: bool, poll: float) -> int:
    shards_job, merge_job = jobs.submit(plan, indices)
    P.save(plan)
    print(f"submitted: shards {shards_job}, merge {merge_job} (after them); follow with "
          f"`kit slurm wait {plan.out}`", file=sys.stderr)
    return _finish(plan, merge_job, poll) if wait else 0


def _finish(plan: P.Plan, merge_job: str, poll: float) -> int:
    jobs.wait(plan, merge_job, poll)
    report = plan.root / P.MISSING_FILE
    if report.is_file():
        print(report.read_text(), file=sys.stderr)
        return 1
    if not (plan.root / GRADES_CSV).is_file():
        print(f"the merge job ended without writing {GRADES_CSV}: see {plan.log(None)}", file=sys.stderr)
        return 1
    print(f"graded: {plan.root}/{GRADES_CSV}, {SUMMARY_FILE}, {FEEDBACK_DIR}/", file=sys.stderr)
    return 0


def merge_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit slurm merge", description="Merge the shards of a Slurm grading.")
    parser.add_argument("out", type=Path)
    plan = P.load(parser.parse_args(argv).out.resolve())
    gaps = merge_plan(plan)
    if gaps:
        print(missing_text(plan, gaps), file=sys.stderr)
        return 1
    print(f"merged {plan.count} shard(s): {plan.out}/{GRADES_CSV}, {SUMMARY_FILE}, {FEEDBACK_DIR}/", file=sys.stderr)
    return 0


def resubmit_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit slurm resubmit",
                                     description="Submit again only the shards that left no result, then merge.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--poll", type=float, default=5.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = P.load(args.out.resolve())
    if jobs.queued(plan.jobs):
        raise GradeUsageError(f"jobs of this grading are still queued or running ({', '.join(plan.jobs[-2:])}); "
                              "wait for them (kit slurm wait) or scancel them first")
    indices = [gap.shard.index for gap in missing(plan)]
    print(f"resubmitting shard(s) {', '.join(map(str, indices)) or 'none'}; the merge runs again", file=sys.stderr)
    return _launch(plan, indices or None, args.wait, args.poll) if indices else _remerge(plan)


def _remerge(plan: P.Plan) -> int:
    return merge_main([plan.out])


def wait_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit slurm wait", description="Follow a Slurm grading until its merge ends.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--poll", type=float, default=5.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = P.load(args.out.resolve())
    if len(plan.jobs) < 2:
        raise GradeUsageError(f"{plan.out} was never submitted (a --dry-run?): submit its scripts first")
    return _finish(plan, plan.jobs[-1], args.poll)


COMMANDS = {"submit": submit_main, "merge": merge_main, "resubmit": resubmit_main, "wait": wait_main,
            "kubernetes": kubernetes_main}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except GradeUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
