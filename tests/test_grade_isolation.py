"""The sandbox of one submission, probed from inside by real notebooks run through run_graded_copy.

Each probe notebook does what a hostile learner would (look around, write, delete, connect,
leave processes behind) and writes what it observed to ``KIT_EVIDENCE_DIR``; the tests assert
both what it saw and, from outside, that nothing it could not reach was changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from kit.grade import run as run_module
from kit.grade import sandbox
from kit.grade.assemble import GradedCopy
from kit.grade.run import Limits, run_graded_copy

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sandbox._probe() != "", reason=f"no sandbox here: {sandbox._probe()}")
LIMITS = Limits(cell_timeout=60, submission_timeout=180, memory_mb=4096)


def _notebook(*sources: str) -> GradedCopy:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"probe-{i}"
    return GradedCopy(nb)


def _run(*sources: str, **kwargs) -> run_module.RunOutcome:
    return run_graded_copy(_notebook(*sources), kwargs.pop("limits", LIMITS), **kwargs)


def _observed(outcome: run_module.RunOutcome) -> dict:
    assert "obs.json" in outcome.evidence, outcome.stderr_tail
    return json.loads(outcome.evidence["obs.json"])


SAVE = "import json, os\njson.dump(obs, open(os.path.join(os.environ['KIT_EVIDENCE_DIR'], 'obs.json'), 'w'))\n"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def canaries(tmp_path_factory: pytest.TempPathFactory):
    """Files a learner must not change: in an instructor folder, in $HOME, in the checkout."""
    instructor = tmp_path_factory.mktemp("instructor")
    tag = uuid.uuid4().hex[:8]
    files = [instructor / "answers.txt", Path.home() / f".kit-canary-{tag}", REPO / f".kit-canary-{tag}"]
    for path in files:
        path.write_text(f"canary {tag}\n")
    before = {str(p): _sha(p) for p in files}
    yield {"files": files, "before": before, "instructor": instructor}
    for path in files[1:]:
        path.unlink(missing_ok=True)


LOOK = r'''
import errno, glob, json, os, pathlib, stat, sys
import helpers
obs = {"helpers": helpers.__file__, "cwd": os.getcwd(), "uid": os.getuid(), "root": sorted(os.listdir("/")),
       "prefix": [sys.prefix, sys.base_prefix, sys.executable]}
obs["parents"] = {str(p): sorted(os.listdir(p)) for p in pathlib.Path(helpers.__file__).resolve().parents}
found = []
for top, dirs, files in os.walk("/"):
    if top in ("/proc", "/sys", "/dev"):
        dirs[:] = []
        continue
    found += [os.path.join(top, f) for f in files if f.endswith(".ipynb")]
obs["ipynb"] = sorted(found)
obs["exists"] = {p: os.path.lexists(p) for p in PATHS}
obs["env"] = dict(os.environ)
obs["tmp"] = sorted(os.listdir("/tmp"))
obs["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
def attempt(action, path):
    try:
        action(path)
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
obs["write"] = {p: attempt(lambda q: open(q, "a").write("learner was here"), p) for p in TARGETS}
obs["delete"] = {p: attempt(os.remove, p) for p in TARGETS}
obs["mkdir"] = {p: attempt(os.mkdir, p) for p in ("/kit/helpers/evil", "/opt/kit-python/evil", "/usr/evil", "/evil")}
'''


@pytest.fixture(scope="module")
def looked(canaries, tmp_path_factory):
    targets = [str(p) for p in canaries["files"]] + [
        "/kit/helpers/__init__.py", "/kit/helpers/quiz_data/warmup_quiz.json",
        f"{sandbox.VENV_INSIDE}/pyvenv.cfg", "/usr/bin/env", "/etc/passwd",
        str(REPO / "helpers" / "__init__.py"), str(REPO / "solutions" / "01_warmup_cosine.ipynb"),
        f"{sandbox.VENV_INSIDE}/lib/python3.11/site-packages/sitecustomize.py",
    ]
    paths = [str(REPO), str(REPO / "solutions"), str(Path.home()), str(canaries["instructor"]), "/etc/shadow",
             sys.prefix, sys.base_prefix, str(tmp_path_factory.mktemp("kit-grade-neighbour"))]
    code = f"PATHS = {paths!r}\nTARGETS = {targets!r}\n" + LOOK
    masks = {"helpers/quiz_data/warmup_quiz.json": b'{"masked": true}\n'}
    outcome = _run(code + SAVE, "import json\nprint(open('/kit/helpers/quiz_data/warmup_quiz.json').read())",
                   masks=masks)
    return _observed(outcome), outcome


def test_the_kit_is_the_bound_copy_and_nothing_above_it(looked) -> None:
    obs, _ = looked
    assert obs["helpers"] == "/kit/helpers/__init__.py"
    assert obs["parents"] == {"/kit/helpers": obs["parents"]["/kit/helpers"], "/kit": ["helpers", "kit_capture.py"],
                              "/": obs["root"]}
    assert not {"solutions", "tests", "notebooks", "Makefile"} & set(obs["parents"]["/kit/helpers"])
    assert set(obs["root"]) <= {"bin", "dev", "etc", "grade", "home", "kit", "lib", "lib32", "lib64", "libx32",
                                "opt", "proc", "sbin", "tmp", "usr"}
    assert obs["prefix"] == [sandbox.VENV_INSIDE, sandbox.BASE_INSIDE, f"{sandbox.VENV_INSIDE}/bin/python"]
    assert obs["cwd"] == sandbox.WORK_INSIDE and obs["uid"] == (sandbox.UID if os.geteuid() else obs["uid"]) != 0


def test_no_instructor_notebook_checkout_or_home_is_visible(looked) -> None:
    obs, _ = looked
    outside_work = [p for p in obs["ipynb"] if not p.startswith(sandbox.WORK_INSIDE + "/")]
    # Only notebooks shipped inside installed packages may exist; none is the instructor's.
    assert all(p.startswith((sandbox.VENV_INSIDE + "/lib/", sandbox.BASE_INSIDE + "/lib/", "/usr/share/"))
               for p in outside_work), outside_work
    names = {p.name for p in REPO.glob("solutions/*.ipynb")} | {p.name for p in REPO.glob("notebooks/*.ipynb")}
    assert not [p for p in outside_work if Path(p).name in names]
    assert [p for p in obs["ipynb"] if p.startswith(sandbox.WORK_INSIDE)] == [f"{sandbox.WORK_INSIDE}/submission.ipynb"]
    host_paths = dict(obs["exists"])
    # checkout, solutions, home, instructor folder, venv, base interpreter, /etc/shadow, a host temp folder
    assert host_paths == dict.fromkeys(host_paths, False)
    # at most the kernel's connection file
    assert len(obs["tmp"]) <= 1 and all(n.startswith("tmp") and n.endswith(".json") for n in obs["tmp"])


def test_environment_carries_no_instructor_variables(looked) -> None:
    obs, _ = looked
    env = obs["env"]
    assert env["HOME"] == sandbox.HOME_INSIDE and env["IPYTHONDIR"].startswith(sandbox.HOME_INSIDE)
    assert env["KIT_EVIDENCE_DIR"] == f"{sandbox.WORK_INSIDE}/evidence"
    leaked = {k for k, v in env.items() if str(REPO) in v or str(Path.home()) in v}
    assert not leaked
    # Only what the sandbox sets, plus what pytest and ipykernel set in their own processes.
    own = {"PYTEST_CURRENT_TEST", "PYTEST_VERSION", "GIT_PAGER", "PAGER", "CLICOLOR", "TERM", "JPY_PARENT_PID",
           "MPLBACKEND", "FORCE_COLOR", "CLICOLOR_FORCE", "PWD", "JPY_SESSION_NAME", "PYDEVD_USE_FRAME_EVAL"}
    allowed = set(sandbox.sandbox_env({})) | {"KIT_EVIDENCE_DIR", run_module.TOKEN_VAR, "OMP_NUM_THREADS"} | own
    assert set(env) - allowed == set()


def test_writes_and_deletes_outside_the_work_folder_fail(looked, canaries) -> None:
    obs, _ = looked
    for action in ("write", "delete"):
        results = obs[action]
        for path, result in results.items():
            inside_ro = path.startswith(("/kit/", "/opt/", "/usr/", "/etc/"))
            # A root grader runs the learner as a uid of its own: root-owned files refuse it (EACCES)
            # before the read-only mount would (EROFS).
            assert result in (("EROFS", "EACCES") if inside_ro else ("ENOENT",)), (action, path, result)
    assert set(obs["mkdir"]) == {"/kit/helpers/evil", "/opt/kit-python/evil", "/usr/evil", "/evil"}
    assert set(obs["mkdir"].values()) <= {"EROFS", "EACCES"}
    assert {str(p): _sha(p) for p in canaries["files"]} == canaries["before"]


def test_masks_replace_kit_files_inside_only(looked) -> None:
    _, outcome = looked
    assert outcome.cells["probe-1"].kind == "passed"
    assert json.loads((REPO / "helpers/quiz_data/warmup_quiz.json").read_text()) != {"masked": True}
    shown = _run("obs = {'quiz': open('/kit/helpers/quiz_data/warmup_quiz.json').read()}\n" + SAVE,
                 masks={"helpers/quiz_data/warmup_quiz.json": b'{"masked": true}\n'})
    assert _observed(shown)["quiz"] == '{"masked": true}\n'
    with pytest.raises(ValueError, match="inside helpers/"):
        _run("1", masks={"../solutions/x": b""})


def test_only_its_own_processes_are_visible(looked) -> None:
    obs, _ = looked
    # bwrap's init, pytest, the kernel (and whatever the kernel runs for os.listdir): a handful.
    assert len(obs["processes"]) <= 6 and 1 in obs["processes"]


def test_no_network_not_even_to_a_host_listener() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    code = f'''
import socket
obs = {{}}
for host in ("127.0.0.1", "10.0.2.2", "1.1.1.1"):
    try:
        socket.create_connection((host, {port} if host == "127.0.0.1" else 80), timeout=3).close()
        obs[host] = "connected"
    except OSError as exc:
        obs[host] = type(exc).__name__
obs["interfaces"] = sorted(name for _, name in socket.if_nameindex())
'''
    try:
        obs = _observed(_run(code + SAVE))
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()
    assert obs["127.0.0.1"] == "ConnectionRefusedError"
    assert obs["10.0.2.2"] == obs["1.1.1.1"] == "OSError"  # Network is unreachable
    assert obs["interfaces"] == ["lo"]


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_detached_processes_do_not_survive_their_run() -> None:
    marker = f"kit-daemon-{uuid.uuid4().hex[:8]}"
    code = f'''
import os, subprocess, sys, time
# 1: double fork + setsid, environment cleared (no grader token), stdio closed
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve("/bin/sh", ["/bin/sh", "-c", "sleep 300; : {marker}-a"], {{}})
    os._exit(0)
# 2: a nohup'd background process in a new session
subprocess.Popen(["/bin/sh", "-c", "sleep 300; : {marker}-b"], start_new_session=True, env={{}},
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
obs = {{"mine": sorted(p for p in os.listdir("/proc") if p.isdigit()
                      and b"{marker}" in open(f"/proc/{{p}}/cmdline", "rb").read())}}
'''
    outcome = _run(code + SAVE)
    assert len(_observed(outcome)["mine"]) == 2  # they did run inside
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []


def test_home_tmp_and_startup_files_do_not_reach_the_next_run() -> None:
    plant = r'''
import os, pathlib, site, sys
home = pathlib.Path.home()
evil = "open('/grade/work/evidence/ran.txt', 'a').write('startup ran\n')\n"
targets = [home / ".ipython/profile_default/startup/00-evil.py", home / ".config/evil.txt",
           pathlib.Path(site.getusersitepackages()) / "evil.pth",
           pathlib.Path(site.getusersitepackages()) / "sitecustomize.py",
           pathlib.Path("/tmp/evil.txt"), pathlib.Path("/tmp/sitecustomize.py")]
made = []
for path in targets:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("import os; " + evil if path.suffix == ".pth" else evil)
    made.append(str(path))
obs = {"made": made, "home": str(home)}
'''
    first = _observed(_run(plant + SAVE))
    assert len(first["made"]) == 6
    look = f'''
import os
obs = {{"exists": {{p: os.path.exists(p) for p in {first["made"]!r}}},
        "ran": os.path.exists("/grade/work/evidence/ran.txt"), "home": sorted(os.listdir(os.path.expanduser("~")))}}
'''
    second = _run(look + SAVE)
    obs = _observed(second)
    assert obs["exists"] == dict.fromkeys(first["made"], False)
    assert obs["ran"] is False and "ran.txt" not in second.evidence
    assert set(obs["home"]) <= {".ipython", ".jupyter", ".config", ".cache", ".local"}


def test_unsandboxed_runs_say_so_and_still_work() -> None:
    outcome = _run("obs = {'helpers': __import__('helpers').__file__}\n" + SAVE,
                   limits=Limits(cell_timeout=60, submission_timeout=180, memory_mb=4096, sandbox=False))
    assert outcome.sandbox is False
    assert _observed(outcome)["helpers"].endswith("/kit/helpers/__init__.py")  # the staged copy, not the checkout


def test_evidence_never_follows_links(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    folder = tmp_path / "evidence"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text("{}")
    (folder / "sub" / "b.npy").write_bytes(b"\x93NUMPY")
    (folder / "link.txt").symlink_to(secret)
    (folder / "dirlink").symlink_to(tmp_path)
    os.mkfifo(folder / "fifo")
    (folder / "big.bin").write_bytes(b"x" * 2000)
    assert sandbox.read_evidence(folder, max_file=1000) == {"a.json": b"{}", "sub/b.npy": b"\x93NUMPY"}
    assert run_module.read_regular(folder / "link.txt", 100) is None
    assert run_module.read_regular(folder / "fifo", 100) is None


def test_remove_tree_deletes_what_a_learner_locked(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "a" / "b").mkdir(parents=True)
    (base / "a" / "b" / "f").write_text("x")
    (base / "a" / "b").chmod(0)
    (base / "a").chmod(0o500)
    sandbox.remove_tree(base)
    assert not base.exists()
