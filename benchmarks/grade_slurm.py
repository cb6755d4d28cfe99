"""Grading on Slurm against grading locally, and what a 300-learner class costs.

    python benchmarks/grade_slurm.py [--rounds 2] [--full] [--cores 2 16 64 128]

1. Per submission and exercise (the real solutions as correct learners, sandbox on): wall seconds
   and CPU seconds of the whole process tree (``RUSAGE_CHILDREN``, this process the subreaper of
   orphans as in grade_sandbox.py), quick mode; full mode with
   ``--full`` (100-epoch trainings: about half an hour on 2 cores).
2. The per-shard overhead of Slurm: one batch (the toy class of the tests) graded as one shard by
   ``kit grade`` here and by ``kit slurm submit --shards 1 --wait``, interleaved, ``--rounds`` times.
   Needs a running cluster (.ci/slurm/start.sh, SLURM_CONF exported); skipped otherwise.
3. A projection of a class of 300 learners x 3 exercises on C cores (one shard per core).
   Without ``--full`` the full-mode cost per submission is the solution's recorded run time
   (``kit_timing``, wall seconds on the machine that executed it), which is what ``kit slurm``
   itself uses to choose the shard count.
Prints the load average before and after: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # kit and helpers of this checkout, whatever the venv's editable install points at
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

import nbformat  # noqa: E402
from grade_fixtures import build_class, build_toy_solutions  # noqa: E402 - tests/ is on sys.path just above
from grade_sandbox import _become_subreaper, _reap_orphans  # noqa: E402 - so is benchmarks/

from kit.grade.registry import default_solutions_dir, exercise_names, load_exercises  # noqa: E402
from kit.grade.run import measured_seconds  # noqa: E402

LEARNERS = 300
TOY_CLASS = ["alice", "bob", "carol", "dan"]


def _kit(*args: str) -> tuple[float, float]:
    """Run ``python -m kit ARGS``; (wall seconds, CPU seconds of its process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    _reap_orphans()  # kernels re-parented to this process count too
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"kit {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_submission(work: Path, full: bool) -> dict[tuple[str, str], tuple[float, float]]:
    """(exercise, mode) -> (wall, CPU) of grading the exercise's own solution as one submission."""
    solutions = default_solutions_dir()
    found = {}
    for name in exercise_names(solutions):
        inbox = work / f"inbox-{name}" / "learner"
        inbox.mkdir(parents=True)
        shutil.copy(solutions / f"{name}.ipynb", inbox / f"{name}.ipynb")
        for mode in ("quick", "full") if full else ("quick",):
            flags = ["--quick"] if mode == "quick" else []
            found[name, mode] = _kit("grade", str(inbox.parent), "--out", str(work / f"out-{name}-{mode}"), *flags)
            print(f"  {name} {mode}: {found[name, mode][0]:.1f} s wall, {found[name, mode][1]:.1f} s CPU", flush=True)
    return found


def slurm_overhead(work: Path, rounds: int) -> list[tuple[float, float]]:
    """(local wall, Slurm wall) per round, the same toy batch as one shard, local first then Slurm."""
    solution = build_toy_solutions(work / "toy-solutions")
    build_class(work / "toy-all", nbformat.read(solution, as_version=4))
    for learner in TOY_CLASS:
        shutil.copytree(work / "toy-all" / learner, work / "toy" / learner)
    common = ["--solutions", str(work / "toy-solutions"), "--quick"]
    pairs = []
    for i in range(rounds):
        local = _kit("grade", str(work / "toy"), "--out", str(work / f"local-{i}"), *common)[0]
        slurm = _kit("slurm", "submit", str(work / "toy"), "--out", str(work / f"slurm-{i}"), *common, "--shards", "1",
                     "--mem", "2G", "--sbatch-line=--oversubscribe", "--wait", "--poll", "0.5")[0]
        pairs.append((local, slurm))
        print(f"  round {i + 1}: local {local:.1f} s, slurm {slurm:.1f} s, overhead {slurm - local:+.1f} s", flush=True)
    return pairs


def projection(cost: dict[str, float], overhead: float, cores: list[int]) -> None:
    per_learner = sum(cost.values())
    total = LEARNERS * per_learner
    print(f"\nProjection, {LEARNERS} learners x {len(cost)} exercises, full mode: "
          + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cost.items())
          + f" per submission = {total / 3600:.1f} core-hours (one submission keeps one core busy)")
    print("| cores C | shards | wall (total / C + one shard's Slurm overhead) |\n|---|---|---|")
    for c in cores:
        wall = total / c + overhead
        print(f"| {c} | {c} | {wall / 3600:.1f} h ({wall / 60:.0f} min) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 16, 64, 128])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}; counting orphans' CPU: {_become_subreaper()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kit-bench-slurm-") as tmp:
        work = Path(tmp)
        print("Per submission (sandbox on):", flush=True)
        measured = per_submission(work, args.full)
        overhead = 0.0
        if shutil.which("sbatch") and subprocess.run(["sinfo"], capture_output=True).returncode == 0:
            print("Slurm vs local, one shard of the toy class, interleaved:", flush=True)
            pairs = slurm_overhead(work, args.rounds)
            gaps = [s - loc for loc, s in pairs]
            print(f"  overhead per shard: median {statistics.median(gaps):+.1f} s, "
                  f"range {min(gaps):+.1f} .. {max(gaps):+.1f} s")
            overhead = max(0.0, statistics.median(gaps))  # below the noise: the projection adds none
        else:
            print("Slurm vs local: skipped (no cluster answers: .ci/slurm/start.sh, export SLURM_CONF)")
    recorded = {name: sum(measured_seconds(ex.notebook).values())
                for name, ex in load_exercises(default_solutions_dir(), None).items()}
    cost = {name: measured[name, "full"][1] if (name, "full") in measured else recorded[name] for name in recorded}
    projection(cost, overhead, args.cores)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
