"""Time and peak memory of the Gradescope autograder, run in the local /autograder harness.

    python benchmarks/gradescope_autograder.py [--full] [--exercise NAME ...]

Builds the autograder zip (kit.lms.autograder), submits copies of the executed solutions (every
check passes, so every cell runs), runs ``run_autograder`` in the bubblewrap harness
(kit.lms.autograder_harness) and samples, every 0.2 s, the summed resident memory of every
process below the harness (the grader, its pytest child and the Jupyter kernel). Prints the wall
time, the peak, the score and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from kit.course import course
from kit.lms import autograder, autograder_harness


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(root: Path, python: str) -> tuple[float, int, int]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "KIT_AUTOGRADER_PYTHON": python}
    start = time.monotonic()
    proc = subprocess.Popen(autograder_harness.command(root, python), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    thread = threading.Thread(target=sample)
    thread.start()
    code = proc.wait()
    thread.join()
    return time.monotonic() - start, peak[0], code


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--exercise", action="append", default=None)
    args = parser.parse_args()
    solutions = course().solutions
    names = args.exercise or sorted(p.stem for p in solutions.glob("*.ipynb"))
    print(f"load before: {os.getloadavg()}; mode {'full' if args.full else 'quick'}; exercises {names}")
    with tempfile.TemporaryDirectory(prefix="kit-ag-bench-") as tmp:
        zip_path = autograder.build(Path(tmp) / "autograder.zip", solutions, names, not args.full, "visible", None)
        root = autograder_harness.lay_out(zip_path, [solutions / f"{n}.ipynb" for n in names], Path(tmp) / "ag")
        seconds, peak, code = measure(root, sys.executable)
        found = root / "results" / "results.json"
        score = json.loads(found.read_text())["score"] if found.exists() else None
    print(f"exit {code}; wall {seconds:.1f} s; peak RSS of the process tree {peak / 2**30:.2f} GiB; score {score}")
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
