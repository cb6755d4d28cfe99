"""How long a learner waits: each solution notebook executed top to bottom, timed.

Usage::

    python benchmarks/notebook_wait.py [--quick [EPOCHS]] [--serial | --compare] [NOTEBOOK ...]

Every notebook is copied into a fresh temporary folder and executed there in a new kernel (as
``make solutions`` does, but the copy is thrown away: ``solutions/`` is never written). Per run
it prints the wall seconds of the whole notebook, the seconds spent in training (the sum of every
training's own ``fit`` time, which ``helpers.training`` appends to ``$KIT_TRAINING_LOG``), the
number of trainings, the CPU seconds of the whole run (this process, which receives the kernel's
outputs, plus the kernel and every worker it forked; of that, this process alone) and the
1-minute load average before and after. CPU seconds move less with the load than wall seconds:
the parallel path's extra CPU over the serial one is what running in workers costs.

``--serial`` forces the one-process path (``KIT_WORKERS=1``: the sweep trains one configuration
after another); ``--compare`` runs each notebook both ways, serial first (``--parallel-first``
reverses it), and prints the ratio, so the parallel path is measured against the serial one in
the same session. ``--quick`` sets
``KIT_QUICK_EPOCHS`` (default 5 epochs per training) for a short look. ``--repeat N`` executes
everything N times, in rounds (A B A B ...), and prints each ratio's median and range over the
rounds: one training's time moves by 10 % and more between identical runs on this machine, so a
single run cannot tell a 15 % difference from noise.

Notebook 01 trains the same model twice, stepped per epoch and per optimizer step; its line
``per-step / per-epoch training`` is the per-step cost (per-step time over per-epoch time) measured in a kernel.

This is a benchmark, not a test: on a shared machine the figures move with the load, which is
why it is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from helpers.settings import QUICK_EPOCHS_ENV  # noqa: E402
from helpers.training import TRAINING_LOG_ENV  # noqa: E402
from kit import notebooks  # noqa: E402
from kit.execute import run_notebook  # noqa: E402

WORKERS_ENV = "KIT_WORKERS"  # helpers.sweep: the most worker processes a sweep may use
DEFAULT_NOTEBOOKS = sorted(str(p.relative_to(REPO)) for p in (REPO / "solutions").glob("*.ipynb"))
TIMEOUT = 3600
# Trainings of one notebook run compared with each other: (label, numerator run, denominator run).
TRAINING_PAIRS = (("per-step / per-epoch training", "ex1_per_step", "ex1_per_epoch"),)


@dataclass
class Wait:
    notebook: str
    path: str  # "serial" or "parallel"
    wall: float
    round: int = 1
    trainings: list[dict] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    cpu: float = float("nan")  # CPU seconds of every process of the run: executor, kernel, workers
    executor_cpu: float = float("nan")  # of that, this process (nbclient: receiving the outputs)

    @property
    def training_seconds(self) -> float:
        return sum(float(t["seconds"]) for t in self.trainings)

    @property
    def training_cpu_seconds(self) -> float:
        return sum(float(t.get("cpu_seconds", "nan")) for t in self.trainings)


def run_once(notebook: str, path: str, quick: int | None, round_number: int = 1) -> Wait:
    """Execute a temporary copy of ``notebook`` in a new kernel; ``path`` picks serial or parallel."""
    nb = notebooks.read(REPO / notebook)
    saved = {k: os.environ.get(k) for k in (TRAINING_LOG_ENV, WORKERS_ENV, QUICK_EPOCHS_ENV)}
    with tempfile.TemporaryDirectory(prefix="nb-wait-") as work:
        log = Path(work) / "trainings.jsonl"
        os.environ[TRAINING_LOG_ENV] = str(log)  # the kernel inherits this environment
        if path == "serial":
            os.environ[WORKERS_ENV] = "1"
        else:
            os.environ.pop(WORKERS_ENV, None)
        if quick:
            os.environ[QUICK_EPOCHS_ENV] = str(quick)
        else:
            os.environ.pop(QUICK_EPOCHS_ENV, None)
        try:
            load_before = os.getloadavg()[0]
            cpu_before = _cpu_seconds()
            start = time.perf_counter()
            run_notebook(nb, cwd=work, timeout=TIMEOUT)
            wall = time.perf_counter() - start
            cpu_after = _cpu_seconds()
            load_after = os.getloadavg()[0]
            trainings = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return Wait(
        notebook, path, wall, round_number, trainings, load_before, load_after,
        cpu=sum(cpu_after) - sum(cpu_before), executor_cpu=cpu_after[0] - cpu_before[0],
    )


def _cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children) user+system CPU seconds. The kernel is a child that
    has been waited for once ``run_notebook`` returns, and it waits for its own workers, so the
    second figure covers the kernel and every worker it forked."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _spread(values: list[float]) -> str:
    """``median`` alone for one value, ``median (min-max)`` for several."""
    median = f"{statistics.median(values):.2f}"
    return median if len(values) == 1 else f"{median} ({min(values):.2f}-{max(values):.2f})"


def training_ratios(waits: list[Wait]) -> list[str]:
    """Each :data:`TRAINING_PAIRS` ratio, wall and CPU, per notebook and path, over the rounds."""
    lines = []
    for label, top, bottom in TRAINING_PAIRS:
        found: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for w in waits:
            runs = {t["run"]: t for t in w.trainings}
            if top in runs and bottom in runs:
                wall = float(runs[top]["seconds"]) / float(runs[bottom]["seconds"])
                cpu = float(runs[top].get("cpu_seconds", "nan")) / float(runs[bottom].get("cpu_seconds", "nan"))
                found.setdefault((w.notebook, w.path), []).append((wall, cpu))
        for (notebook, path), pairs in found.items():
            lines.append(
                f"{Path(notebook).name} [{path}]: {label} = {_spread([p[0] for p in pairs])} wall, "
                f"{_spread([p[1] for p in pairs])} CPU ({len(pairs)} run{'s' if len(pairs) > 1 else ''})"
            )
    return lines


def table(waits: list[Wait]) -> str:
    header = (
        f"{'notebook':<30}{'round':>6}{'path':>9} {'wall s':>8}{'training s':>12}{'(CPU s)':>9}{'trainings':>11}"
        f"{'all CPU s':>11}{'(executor)':>11}{'load before/after':>20}"
    )
    lines = [header]
    for w in waits:
        lines.append(
            f"{Path(w.notebook).name:<30}{w.round:>6}{w.path:>9} {w.wall:>8.1f}{w.training_seconds:>12.1f}"
            f"{w.training_cpu_seconds:>9.1f}"
            f"{len(w.trainings):>11}{w.cpu:>11.1f}{w.executor_cpu:>11.1f}{w.load_before:>12.2f} / {w.load_after:.2f}"
        )
    by_round: dict[tuple[str, int], dict[str, Wait]] = {}
    for w in waits:
        by_round.setdefault((w.notebook, w.round), {})[w.path] = w
    parallel: dict[str, list[float]] = {}
    for (nb, _), p in by_round.items():
        if {"serial", "parallel"} <= p.keys():
            parallel.setdefault(nb, []).append(p["parallel"].wall / p["serial"].wall)
    pairs = training_ratios(waits)
    if parallel or pairs:
        lines.append("")
    for nb, values in parallel.items():
        rounds = f" ({len(values)} rounds)" if len(values) > 1 else ""
        lines.append(f"{Path(nb).name}: parallel / serial wall = {_spread(values)}{rounds}")
    lines += pairs
    lines.append("")
    lines.append("trainings (fit seconds each, wall/CPU, in the order they finished):")
    several_rounds = any(w.round > 1 for w in waits)
    for w in waits:
        runs = ", ".join(
            f"{t['run']} {float(t['seconds']):.1f}/{float(t.get('cpu_seconds', 'nan')):.1f}" for t in w.trainings
        )
        where = f"{w.path}, round {w.round}" if several_rounds else w.path
        lines.append(f"  {Path(w.notebook).name} [{where}]: {runs or '(none)'}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Wall time of each solution notebook, executed top to bottom.")
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="default: every solutions/*.ipynb")
    parser.add_argument(
        "--quick", nargs="?", type=int, const=5, default=None, metavar="EPOCHS",
        help="train EPOCHS epochs per training (KIT_QUICK_EPOCHS; default 5)",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--serial", action="store_true", help="force the serial path (KIT_WORKERS=1)")
    how.add_argument("--compare", action="store_true", help="run each notebook serial, then parallel; print the ratio")
    parser.add_argument(
        "--parallel-first", action="store_true",
        help="with --compare: parallel, then serial (pair it with a serial-first run when the load drifts)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N",
        help="execute everything N times, in rounds, and report each ratio's median and range (default 1)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat takes a positive number of rounds, got {args.repeat}")
    if args.quick is not None and args.quick < 1:
        parser.error(f"--quick takes a positive number of epochs, got {args.quick}")
    args.notebooks = args.notebooks or DEFAULT_NOTEBOOKS
    for name in args.notebooks:
        if not (REPO / name).is_file() or not name.endswith(".ipynb"):
            parser.error(
                f"no notebook at {name} (paths are relative to the repository, "
                "e.g. solutions/02_adamw_weight_decay.ipynb)"
            )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = ["serial", "parallel"] if args.compare else ["serial"] if args.serial else ["parallel"]
    if args.compare and args.parallel_first:
        paths.reverse()
    cores = len(os.sched_getaffinity(0))
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    waits: list[Wait] = []
    for round_number in range(1, args.repeat + 1):
        for notebook in args.notebooks:
            for path in paths:
                print(f"round {round_number}/{args.repeat}: executing {notebook} ({path}) ...", file=sys.stderr,
                      flush=True)
                waits.append(run_once(notebook, path, args.quick, round_number))
                print(f"  {waits[-1].wall:.1f} s", file=sys.stderr, flush=True)
    epochs = f"KIT_QUICK_EPOCHS={args.quick}" if args.quick else "full length (no KIT_QUICK_EPOCHS)"
    print(f"notebook wait, {started}, {cores} usable cores, {epochs}")
    print(table(waits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
