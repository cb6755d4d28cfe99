"""Cost of the grader's bubblewrap sandbox per submission: the same graded copy run with and
without it, interleaved, several times; prints medians and the load average.

    .venv/bin/python benchmarks/grade_sandbox.py [--repeat 5] [--full | --full-only] [--only toy|real]
                                                  [--exercise 01_warmup_cosine]

Cases: the toy exercise of the tests (a few print cells: the fixed cost of a run) and a real
solution (its own graded copy, i.e. a correct learner), in quick mode and, with ``--full``, in
full mode. Seconds are wall-clock per submission as ``run_graded_copy`` measures them, and the
CPU seconds of the whole process tree (user + system, from ``RUSAGE_CHILDREN``), which a busy
machine disturbs much less than wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from grade_fixtures import build_toy_solutions  # noqa: E402

from kit.grade.assemble import build_graded_copy  # noqa: E402
from kit.grade.registry import load_exercises  # noqa: E402
from kit.grade.run import Limits, run_graded_copy  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(graded, quick: bool, repeat: int) -> tuple[dict[bool, list[float]], dict[bool, list[float]]]:  # type: ignore[no-untyped-def]
    times: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for i in range(repeat):
        for sandboxed in ((True, False) if i % 2 == 0 else (False, True)):  # interleaved, order alternating
            limits = Limits(cell_timeout=3600, submission_timeout=7200, sandbox=sandboxed)
            before = _cpu()
            outcome = run_graded_copy(graded, limits, quick=quick)
            cpu[sandboxed].append(_cpu() - before)
            bad = [c.cell_id for c in outcome.cells.values() if c.kind not in ("passed", "differs", "skipped")]
            if outcome.killed or not outcome.cells or bad:
                print(f"  warning: run not clean (sandbox={sandboxed}): {bad or outcome.stderr_tail[-300:]}")
            times[sandboxed].append(outcome.seconds)
    return times, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also full mode (minutes per run)")
    parser.add_argument("--full-only", action="store_true", help="full mode only")
    parser.add_argument("--exercise", default="01_warmup_cosine")
    parser.add_argument("--only", choices=("toy", "real"), default=None, help="one case only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        toy = load_exercises(build_toy_solutions(Path(tmp) / "toy").parent, None)
        real = load_exercises(REPO / "solutions", [args.exercise])
        chosen = {"toy": toy, "real": real}.get(args.only or "", {**toy, **real})
        cases = list(chosen.items())
        modes = [False] if args.full_only else [True] + ([False] if args.full else [])
        print(f"{'case':<24} {'mode':<6} {'sandbox s':>10} {'no-sandbox s':>13} {'overhead':>9} "
              f"{'CPU s on/off':>14} {'CPU overhead':>13}  load (1/5/15 min)")
        for name, exercise in cases:
            graded = build_graded_copy(exercise.notebook, exercise)
            for quick in modes:
                times, cpu = _measure(graded, quick, args.repeat)
                on, off = statistics.median(times[True]), statistics.median(times[False])
                con, coff = statistics.median(cpu[True]), statistics.median(cpu[False])
                load = "/".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"{name:<24} {'quick' if quick else 'full':<6} {on:>10.1f} {off:>13.1f} "
                      f"{(on - off) / off:>+8.0%} {con:>7.1f}/{coff:<6.1f} {(con - coff) / coff:>+12.0%}  {load}",
                      flush=True)
                print(f"  runs on:  {' '.join(f'{t:.1f}' for t in times[True])}")
                print(f"  runs off: {' '.join(f'{t:.1f}' for t in times[False])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
