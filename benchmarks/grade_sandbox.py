"""Cost of the grader's bubblewrap sandbox per submission: the same graded copy run with and
without it, interleaved, several times; prints medians and the load average.

    .venv/bin/python benchmarks/grade_sandbox.py [--repeat 5] [--full] [--exercise 01_warmup_cosine]

Cases: the toy exercise of the tests (a few print cells: the fixed cost of a run) and a real
solution (its own graded copy, i.e. a correct learner), in quick mode and, with ``--full``, in
full mode. Seconds are wall-clock per submission as ``run_graded_copy`` measures them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from grade_fixtures import build_toy_solutions  # noqa: E402

from helpers.grade.assemble import build_graded_copy  # noqa: E402
from helpers.grade.registry import load_exercises  # noqa: E402
from helpers.grade.run import Limits, run_graded_copy  # noqa: E402


def _measure(graded, quick: bool, repeat: int) -> dict[bool, list[float]]:  # type: ignore[no-untyped-def]
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeat):
        for sandboxed in (True, False):  # interleaved: load changes hit both alike
            limits = Limits(cell_timeout=3600, submission_timeout=7200, sandbox=sandboxed)
            outcome = run_graded_copy(graded, limits, quick=quick)
            bad = [c.cell_id for c in outcome.cells.values() if c.kind not in ("passed", "differs")]
            if outcome.killed or not outcome.cells or bad:
                print(f"  warning: run not clean (sandbox={sandboxed}): {bad or outcome.stderr_tail[-300:]}")
            times[sandboxed].append(outcome.seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also full mode (minutes per run)")
    parser.add_argument("--exercise", default="01_warmup_cosine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        toy = load_exercises(build_toy_solutions(Path(tmp) / "toy").parent, None)
        real = load_exercises(REPO / "solutions", [args.exercise])
        cases = [(name, ex) for name, ex in {**toy, **real}.items()]
        modes = [True] + ([False] if args.full else [])
        print(f"{'case':<24} {'mode':<6} {'sandbox s':>10} {'no-sandbox s':>13} {'overhead':>9}  load (1/5/15 min)")
        for name, exercise in cases:
            graded = build_graded_copy(exercise.notebook, exercise)
            for quick in modes:
                times = _measure(graded, quick, args.repeat)
                on, off = statistics.median(times[True]), statistics.median(times[False])
                load = "/".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"{name:<24} {'quick' if quick else 'full':<6} {on:>10.1f} {off:>13.1f} "
                      f"{(on - off) / off:>+8.0%}  {load}", flush=True)
                print(f"  runs on:  {' '.join(f'{t:.1f}' for t in times[True])}")
                print(f"  runs off: {' '.join(f'{t:.1f}' for t in times[False])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
