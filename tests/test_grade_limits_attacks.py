"""Per-submission limits, for real: one hostile toy submission per kind of attack, each graded
beside a correct one with --jobs 2 under small limits, in the mode this machine gives (cgroups
as root) and in the forced rlimit fallback.

Every attack is bounded just above the limit it tests (count, size, time), so a regression
fails the test instead of taking the machine down. Asserted: each neighbour's exact grade, the
limit named in the attacker's total row (and ``resource-limit`` rows where a check could not run
to its end), and that nothing is left afterwards: no cgroup, mount, folder or process of the run;
and that a killed grader's leftovers are removed (and reported) by the next run.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from grade_fixtures import (
    TOY,
    _insert_after,
    _solved,
    build_toy_solutions,
    processes_with,
    statuses_by_learner,
    toy_starter,
    watched_grading,
)

from kit.grade import rows as R
from kit.grade import run as run_module
from kit.grade import sandbox
from kit.grade.__main__ import main
from kit.grade.limits import disk, slots
from kit.grade.limits.cgroups import CgroupV1
from kit.grade.limits.session import clean_leftovers, session

REPO = Path(__file__).resolve().parents[1]
GOOD = (R.PASSED,) * 5
TASKS, MEMORY_MB, DISK_MB, FILES, OPEN = 64, 384, 48, 1000, 256
SMALL = ["--max-tasks", str(TASKS), "--max-memory-mb", str(MEMORY_MB), "--max-disk-mb", str(DISK_MB),
         "--max-files", str(FILES), "--max-open-files", str(OPEN), "--cell-timeout", "40", "--timeout", "150",
         "--memory-mb", "3072"]
needs_root_sandbox = pytest.mark.skipif(sandbox._probe() != "" or os.geteuid() != 0,
                                        reason="needs bwrap and root (cgroups, tmpfs mounts, uid slots)")

# Each attack stops at its bound; counts are printed for the report.
FORK_PROCESSES = '''import subprocess, time
started = []
try:
    for _ in range(TASKS + 40):
        started.append(subprocess.Popen(["sleep", "30"]))
except OSError as exc:
    print("refused after", len(started), exc)
time.sleep(1.5)  # held long enough to be sampled where tasks are counted by sampling (rlimit mode)
for child in started:
    child.kill()
    child.wait()
'''
FORK_THREADS = '''import threading, time
stop, threads = threading.Event(), []
try:
    for _ in range(TASKS + 40):
        thread = threading.Thread(target=stop.wait, args=(30,))
        thread.start()
        threads.append(thread)
except RuntimeError as exc:
    print("refused after", len(threads), exc)
time.sleep(1.5)
stop.set()
for thread in threads:
    thread.join()
'''
MEMORY_SPREAD = '''import os, time
children = []
for _ in range(6):  # 6 x 100 MB against the limit: the kernel kills the biggest members
    pid = os.fork()
    if pid == 0:
        block = b"\\x01" * (100 * 1024 ** 2)
        time.sleep(3)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
'''
FULL_TMP = '''chunk = b"t" * 1024 ** 2
with open("/tmp/fill", "wb") as handle:
    for _ in range(DISK_MB + 32):
        handle.write(chunk)
'''
BIG_FILES = '''chunk = b"b" * 1024 ** 2
for n in range(DISK_MB // 8 + 4):
    with open(f"big-{n}.bin", "wb") as handle:
        for _ in range(8):
            handle.write(chunk)
'''
TINY_FILES = '''import pathlib
folder = pathlib.Path.home() / "tiny"
folder.mkdir()
for n in range(FILES + 500):
    (folder / str(n)).write_bytes(b"x")
'''
CPU_HOG = '''import os, time
children = []
for _ in range(4):  # 4 busy processes for 3 s each, against a share of 1 core
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 3
        while time.monotonic() < end:
            pass
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
'''
OUTPUT_FLOOD = '''import os
line = b"o" * 1024 * 64
for _ in range((DISK_MB + 32) * 16):
    os.write(1, line)
    os.write(2, line)
'''
OPEN_FILES = '''handles, error = [], None
try:
    for _ in range(OPEN + 100):
        handles.append(open("/dev/null"))
except OSError as exc:  # EMFILE: re-raised after cleaning up, so the cell is reported
    error = exc
for handle in handles:
    handle.close()
if error:
    raise error
'''
SLEEPERS = '''import os
for _ in range(5):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 100000; : MARKER"])
        os._exit(0)
'''
ATTACKS = {"fork-processes": FORK_PROCESSES, "fork-threads": FORK_THREADS, "memory-spread": MEMORY_SPREAD,
           "full-tmp": FULL_TMP, "big-files": BIG_FILES, "tiny-files": TINY_FILES, "cpu-hog": CPU_HOG,
           "output-flood": OUTPUT_FLOOD, "open-files": OPEN_FILES, "sleepers": SLEEPERS}
# The limit each attack must be named by (output flood: its disk fills, or pytest's memory when the
# kernel forwards the flood as output). The CPU quota only binds when the hog would get more than
# its share: on a loaded machine it may not, so the CPU hog is asserted by its neighbour's grade.
NAMED = {"fork-processes": ("tasks",), "fork-threads": ("tasks",), "memory-spread": ("memory",),
         "full-tmp": ("disk",), "big-files": ("disk",), "tiny-files": ("files",), "cpu-hog": (),
         "output-flood": ("disk", "memory"), "open-files": (), "sleepers": ()}


def _class(base: Path, attacks: dict[str, str], marker: str) -> Path:
    solution = nbformat.read(build_toy_solutions(base / "solutions"), as_version=4)
    good = _solved(toy_starter(solution), solution)
    inbox = base / "class"
    constants = f"TASKS, DISK_MB, FILES, OPEN = {TASKS}, {DISK_MB}, {FILES}, {OPEN}\n"
    for n, (kind, code) in enumerate(attacks.items()):
        attacker = _insert_after(copy.deepcopy(good), "toy-blank-answer", "attack",
                                 constants + code.replace("MARKER", marker))
        for learner, nb in ((f"{n:02d}a-{kind}", attacker), (f"{n:02d}b-good", good)):
            path = inbox / learner / f"{TOY}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
    return inbox


def _our_cgroups(run_id: str) -> list[Path]:
    return [child for parent in CgroupV1().parents() if parent.is_dir()
            for child in parent.glob(f"{slots.PREFIX}{run_id}-*")]


def _grade(base: Path, attacks: dict[str, str], extra: list[str]) -> dict[str, Any]:
    marker = f"kit-sleeper-{uuid.uuid4().hex[:8]}"
    inbox = _class(base, attacks, marker)
    temp = base / "tmp"
    temp.mkdir()
    with watched_grading(temp) as tokens:
        start = time.monotonic()
        status = main([str(inbox), "--out", str(base / "out"), "--solutions", str(base / "solutions"),
                       "--jobs", "2", *SMALL, *extra])
        seconds = time.monotonic() - start
    rows = R.read_csv(base / "out" / "grades.csv")
    return {"status": status, "rows": rows, "statuses": statuses_by_learner(rows), "temp": temp, "marker": marker,
            "tokens": tokens, "seconds": seconds, "out": base / "out",
            "totals": {r.learner: r for r in rows if r.is_total}}


@pytest.fixture(scope="module")
def cgroup_batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _grade(tmp_path_factory.mktemp("limits-cgroup"), ATTACKS, [])


def _check_attacks(batch: dict[str, Any], kinds: list[str]) -> None:
    assert batch["status"] == 0
    for n, kind in enumerate(kinds):
        assert batch["statuses"][f"{n:02d}b-good"] == GOOD, kind  # the neighbour's exact grade
        total = batch["totals"][f"{n:02d}a-{kind}"]
        named = [limit for limit in NAMED[kind] if f"reached the {limit} limit" in total.message]
        assert named or not NAMED[kind], (kind, total.message)
        if kind != "output-flood":  # the checks that ran before the attack keep their verdict
            assert batch["statuses"][f"{n:02d}a-{kind}"][:2] == (R.PASSED, R.PASSED), kind
        print(f"{kind}: {total.points:g}/{total.max_points:g}; {total.message}")


@needs_root_sandbox
def test_each_attack_is_stopped_by_its_named_limit_and_the_neighbour_keeps_its_grade(cgroup_batch: dict[str, Any],
                                                                                      ) -> None:
    _check_attacks(cgroup_batch, list(ATTACKS))
    statuses = cgroup_batch["statuses"]
    assert statuses["09a-sleepers"] == GOOD  # nothing to stop: the sandbox ends them
    # Open files are refused inside the process (EMFILE): the grader cannot see it, the learner's cell can.
    assert "attack (OSError)" in cgroup_batch["totals"]["08a-open-files"].message
    for n, kind in enumerate(ATTACKS):
        for row in cgroup_batch["rows"]:
            if row.learner == f"{n:02d}a-{kind}" and row.status == R.RESOURCE_LIMIT:
                assert "stopped by the" in row.message and " limit (" in row.message


@needs_root_sandbox
def test_the_limits_are_recorded_and_nothing_is_left(cgroup_batch: dict[str, Any]) -> None:
    import json

    record = json.loads((cgroup_batch["out"] / "run.json").read_text())["limits"]
    assert record["mode"] == "cgroup-v1" and record["tasks"] == TASKS and record["memory_mb"] == MEMORY_MB
    assert record["not_enforced"] == []
    assert f"tasks {TASKS}, memory {MEMORY_MB} MB" in (cgroup_batch["out"] / "summary.md").read_text()
    run_id = session().run.id
    assert _our_cgroups(run_id) == []
    assert list(disk.mounts_from(f"{slots.PREFIX}{run_id}")) == []
    assert list(cgroup_batch["temp"].iterdir()) == []
    assert processes_with(cgroup_batch["marker"].encode()) == []
    assert len(cgroup_batch["tokens"]) >= 20  # a batch of 20 mixed submissions
    assert all(run_module.processes_with_token(t) == [] for t in cgroup_batch["tokens"])


RLIMIT_ATTACKS = {k: ATTACKS[k] for k in ("fork-processes", "sleepers")}  # the disk is the same tmpfs as above


@needs_root_sandbox
def test_the_forced_rlimit_fallback_holds_too(tmp_path: Path) -> None:
    batch = _grade(tmp_path, RLIMIT_ATTACKS, ["--limits", "rlimit"])
    _check_attacks(batch, list(RLIMIT_ATTACKS))
    import json

    record = json.loads((batch["out"] / "run.json").read_text())["limits"]
    assert record["mode"] == "rlimit" and any("CPU share" in m for m in record["not_enforced"])
    assert list(disk.mounts_from(f"{slots.PREFIX}{session('rlimit').run.id}")) == []
    assert list(batch["temp"].iterdir()) == []


def test_require_limits_refuses_a_mode_that_cannot_enforce_all(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if sandbox._probe() != "":
        pytest.skip(f"no sandbox here: {sandbox._probe()}")
    (tmp_path / "class").mkdir()
    status = main([str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--limits", "rlimit",
                   "--require-limits"])
    assert status == 2 and "--require-limits" in capsys.readouterr().err and not (tmp_path / "out").exists()


@needs_root_sandbox
def test_a_killed_graders_leftovers_are_removed_by_the_next_run(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    solution = nbformat.read(build_toy_solutions(tmp_path / "solutions"), as_version=4)
    slow = _insert_after(_solved(toy_starter(solution), solution), "toy-setup", "slow", "import time\ntime.sleep(60)\n")
    path = tmp_path / "class" / "slow" / f"{TOY}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(slow, path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(REPO)}
    grader = subprocess.Popen([sys.executable, "-m", "kit.grade", str(tmp_path / "class"), "--out",
                               str(tmp_path / "out"), "--solutions", str(tmp_path / "solutions"), *SMALL],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ours = session().run.id
    try:
        deadline = time.monotonic() + 120
        theirs: list[tuple[str, str]] = []
        while time.monotonic() < deadline and not theirs:  # the submission's disk is mounted: it runs
            theirs = [m for m in disk.mounts_from(slots.PREFIX) if str(temp) in m[0]]
            time.sleep(0.2)
        assert theirs, "the grader never started the submission"
        time.sleep(3)
    finally:
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
    run_id = slots.run_of(theirs[0][1])
    assert run_id is not None and run_id != ours
    assert _our_cgroups(run_id) and list(temp.iterdir())  # what the killed grader left
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(temp))
        session.cache_clear()
        session()  # a later run
    err = capsys.readouterr().err
    assert "removed what an earlier grading run left when it was killed" in err and "cgroup(s)" in err
    assert _our_cgroups(run_id) == [] and list(disk.mounts_from(f"{slots.PREFIX}{run_id}")) == []
    assert list(temp.iterdir()) == []
    assert not slots.run_alive(run_id) and clean_leftovers(session()) == {
        "cgroup(s)": 0, "scope(s)": 0, "mount(s)": 0, "folder(s)": 0}
