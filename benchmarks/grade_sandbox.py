"""Cost of the grader's bubblewrap sandbox per submission: the same graded copy run with and
without it, interleaved, several times; prints medians and the load average.

    .venv/bin/python benchmarks/grade_sandbox.py [--repeat 5] [--full | --full-only] [--only toy|real]
                                                  [--exercise 01_warmup_cosine]
    .venv/bin/python benchmarks/grade_sandbox.py --limits [--only real] [--repeat 6]   # limits vs none
    .venv/bin/python benchmarks/grade_sandbox.py --peaks [EXERCISE ...]   # the solutions' peaks under limits

Cases: the toy exercise of the tests (a few print cells: the fixed cost of a run) and a real
solution (its own graded copy, i.e. a correct learner), in quick mode and, with ``--full``, in
full mode. Seconds are wall-clock per submission as ``run_graded_copy`` measures them, and the
CPU seconds of the whole process tree (user + system, from ``RUSAGE_CHILDREN``), which a busy
machine disturbs much less than wall-clock time. This process makes itself the child subreaper
(Linux ``PR_SET_CHILD_SUBREAPER``) and reaps every orphan after each run, so a process that
outlives its parent (a kernel left behind by pytest, a detached worker) is counted too, with or
without the sandbox.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from grade_fixtures import build_toy_solutions  # noqa: E402 - tests/ is put on sys.path just above

from kit.grade.assemble import build_graded_copy  # noqa: E402
from kit.grade.registry import load_exercises  # noqa: E402
from kit.grade.run import Limits, run_graded_copy  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> bool:
    """Orphans of a run are re-parented to this process (instead of init), so their CPU is counted."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _reap_orphans() -> int:
    """Wait for every finished child (orphans included): their usage then enters RUSAGE_CHILDREN."""
    reaped = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped += 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _measure(graded, quick: bool, repeat: int) -> tuple[dict[bool, list[float]], dict[bool, list[float]]]:  # type: ignore[no-untyped-def]
    times: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for i in range(repeat):
        for sandboxed in ((True, False) if i % 2 == 0 else (False, True)):  # interleaved, order alternating
            limits = Limits(cell_timeout=3600, submission_timeout=7200, sandbox=sandboxed)
            before = _cpu()
            outcome = run_graded_copy(graded, limits, quick=quick)
            time.sleep(0.3)  # processes killed by the token may still be dying
            orphans = _reap_orphans()
            cpu[sandboxed].append(_cpu() - before)
            bad = [c.cell_id for c in outcome.cells.values() if c.kind not in ("passed", "differs", "skipped")]
            if outcome.killed or not outcome.cells or bad:
                print(f"  warning: run not clean (sandbox={sandboxed}): {bad or outcome.stderr_tail[-300:]}")
            times[sandboxed].append(outcome.seconds)
            print(f"  pair {i + 1} {'quick' if quick else 'full '} sandbox={'on ' if sandboxed else 'off'}: "
                  f"wall {outcome.seconds:6.1f} s, CPU {cpu[sandboxed][-1]:6.1f} s"
                  f"{f', {orphans} orphans reaped' if orphans else ''}, load {_load()}", flush=True)
    return times, cpu


def _measure_limits(graded, repeat: int) -> None:  # type: ignore[no-untyped-def]
    """Per-submission limits (the mode this machine gives) against the same sandbox without them,
    interleaved; prints the ratio limits/none per pair as median and range."""
    from kit.grade.limits.session import session
    from kit.grade.run import NO_LIMITS

    print(f"limits mode: {session().backend.name}; load {_load()}")
    wall: dict[str, list[float]] = {"limits": [], "none": []}
    cpu: dict[str, list[float]] = {"limits": [], "none": []}
    for i in range(repeat):
        for variant in (("limits", "none") if i % 2 == 0 else ("none", "limits")):
            limits = Limits(cell_timeout=3600, submission_timeout=7200,
                            limits_mode=None if variant == "limits" else NO_LIMITS)
            before = _cpu()
            outcome = run_graded_copy(graded, limits, quick=True)
            time.sleep(0.3)
            _reap_orphans()
            cpu[variant].append(_cpu() - before)
            wall[variant].append(outcome.seconds)
            print(f"  pair {i + 1} {variant:<6}: wall {outcome.seconds:6.2f} s, CPU {cpu[variant][-1]:6.2f} s, "
                  f"load {_load()}", flush=True)
    for name, figures in (("wall", wall), ("CPU", cpu)):
        ratios = [a / b for a, b in zip(figures["limits"], figures["none"], strict=True) if b > 0]
        on, off = statistics.median(figures["limits"]), statistics.median(figures["none"])
        print(f"{name}: limits {on:.2f} s, none {off:.2f} s; ratio limits/none median {statistics.median(ratios):.3f} "
              f"(range {min(ratios):.3f}-{max(ratios):.3f}); load {_load()}")


def _peaks(names: list[str]) -> None:
    """What each solution, graded as a submission in quick mode under the default limits, reached."""
    from kit.grade.limits.session import session

    print(f"limits mode: {session().backend.name}; load {_load()}")
    for name, exercise in load_exercises(REPO / "solutions", names or None).items():
        graded = build_graded_copy(exercise.notebook, exercise)
        outcome = run_graded_copy(graded, Limits(cell_timeout=3600, submission_timeout=7200), quick=True)
        usage = outcome.usage
        bad = sorted(c.cell_id for c in outcome.cells.values() if c.kind not in ("passed", "differs", "skipped"))
        if usage is not None:
            print(f"{name}: {outcome.seconds:.0f} s, memory peak {usage.memory_peak / 1024 ** 2:.0f} MB, tasks peak "
                  f"{usage.tasks_peak} (sampled every 0.5 s), disk {usage.disk_peak / 1024 ** 2:.1f} MB, files "
                  f"{usage.files_peak}, limits reached {[h.limit for h in outcome.limit_hits]}"
                  f"{f', cells not passed: {bad}' if bad else ''}; load {_load()}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also full mode (minutes per run)")
    parser.add_argument("--full-only", action="store_true", help="full mode only")
    parser.add_argument("--exercise", default="01_warmup_cosine")
    parser.add_argument("--only", choices=("toy", "real"), default=None, help="one case only")
    parser.add_argument("--limits", action="store_true",
                        help="instead: per-submission limits against none, both sandboxed (quick mode)")
    parser.add_argument("--peaks", nargs="*", default=None, metavar="EXERCISE",
                        help="instead: each solution's peaks graded in quick mode under the limits (all if none named)")
    args = parser.parse_args()
    if not _become_subreaper():
        print("  note: not a child subreaper: CPU of orphaned processes is not counted")
    if args.peaks is not None:
        _peaks(args.peaks)
        return 0
    if args.limits:
        with tempfile.TemporaryDirectory() as tmp:
            exercises = load_exercises(build_toy_solutions(Path(tmp) / "toy").parent, None) if args.only != "real" \
                else load_exercises(REPO / "solutions", [args.exercise])
            for name, exercise in exercises.items():
                print(f"case {name}")
                _measure_limits(build_graded_copy(exercise.notebook, exercise), args.repeat)
        return 0
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
                load = _load()
                print(f"{name:<24} {'quick' if quick else 'full':<6} {on:>10.1f} {off:>13.1f} "
                      f"{(on - off) / off:>+8.0%} {con:>7.1f}/{coff:<6.1f} {(con - coff) / coff:>+12.0%}  {load}",
                      flush=True)
                print(f"  runs on:  {' '.join(f'{t:.1f}' for t in times[True])}")
                print(f"  runs off: {' '.join(f'{t:.1f}' for t in times[False])}")
                print(f"  CPU on:   {' '.join(f'{t:.1f}' for t in cpu[True])}")
                print(f"  CPU off:  {' '.join(f'{t:.1f}' for t in cpu[False])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
