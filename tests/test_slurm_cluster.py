"""`kit slurm` on a real (one-node) Slurm cluster: a mixed class graded in 4 shards equals a local
`kit grade --jobs 2`; a killed shard is reported by the merge and recovered by `resubmit`.

CI starts the cluster (.ci/slurm/start.sh); elsewhere these tests skip with the reason. Jobs ask
for --oversubscribe so that they run beside CI's own job (the test suite runs inside `srun`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import build_class, build_toy_solutions
from slurm_cluster import unavailable
from slurm_compare import assert_same_reports, report_files

from kit.grade import rows as R
from kit.slurm import plan as P

pytestmark = pytest.mark.skipif(bool(unavailable()), reason=f"no Slurm cluster: {unavailable()}")
REPO = Path(__file__).resolve().parents[1]
# Correct, unfinished, wrong (twice), hostile (exits its kernel, kills itself, deletes files), malformed (twice).
MIXED = ["alice", "bob", "carol", "dan", "ivan", "ken", "nick", "olga", "pat"]
KILLED = ["alice", "carol", "ivan", "olga"]
JOB = ["--sbatch-line=--oversubscribe", "--mem", "1G", "--cpus-per-task", "1"]
# The memory default is a share of what the grader may use (the machine / --jobs, or a Slurm job's
# grant), which differs between the local run and the shards: both are given the same value, so
# that their summaries can be compared line by line.
SAME_LIMITS = ["--max-memory-mb", "2048"]


def _kit(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("slurm-cluster")
    solution = build_toy_solutions(base / "solutions")
    build_class(base / "all", nbformat.read(solution, as_version=4))
    for name, learners in (("mixed", MIXED), ("killed", KILLED)):
        for learner in learners:
            shutil.copytree(base / "all" / learner, base / name / learner)
    local = _kit("grade", str(base / "mixed"), "--out", str(base / "local"), "--solutions", str(base / "solutions"),
                 "--quick", "--jobs", "2", *SAME_LIMITS)
    assert local.returncode == 0, local.stderr[-3000:]
    return {"base": base, "solutions": base / "solutions"}


def test_four_shards_two_at_a_time_equal_a_local_run(toy: dict[str, Path]) -> None:
    base, out = toy["base"], toy["base"] / "slurm"
    done = _kit("slurm", "submit", str(base / "mixed"), "--out", str(out), "--solutions", str(toy["solutions"]),
                "--quick", "--shards", "4", "--max-running", "2", *JOB, *SAME_LIMITS, "--wait", "--poll", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "shards: 4/4 done" in done.stderr and "merge: ended" in done.stderr  # the progress lines
    assert_same_reports(base / "local", out)
    assert sorted(p.name for p in (out / "parts").iterdir()) == [f"shard-{i}-of-4" for i in range(1, 5)]
    assert "Sandbox: on" in (out / "summary.md").read_text()
    assert not (out / P.MISSING_FILE).exists()


def _running(job: str, task: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        state = subprocess.run(["squeue", "-h", "-r", "-j", f"{job}_{task}", "-o", "%T"], capture_output=True,
                               text=True).stdout.strip()
        if state == "RUNNING":
            return
        time.sleep(0.2)
    pytest.fail(f"task {task} of job {job} did not start")


def test_a_killed_shard_is_reported_and_recovered_by_resubmit(toy: dict[str, Path]) -> None:
    base, out = toy["base"], toy["base"] / "killed-out"
    done = _kit("slurm", "submit", str(base / "killed"), "--out", str(out), "--solutions", str(toy["solutions"]),
                "--quick", "--shards", "2", *JOB)
    assert done.returncode == 0, done.stderr[-3000:]
    plan = P.load(out)
    shards_job = plan.jobs[0]
    _running(shards_job, 1, time.monotonic() + 300)
    assert subprocess.run(["scancel", f"{shards_job}_1"]).returncode == 0
    waited = _kit("slurm", "wait", str(out), "--poll", "1")
    assert waited.returncode == 1, waited.stderr[-3000:]
    report = (out / P.MISSING_FILE).read_text()
    assert not (out / "grades.csv").exists()
    assert "1 of 2 shard(s) left no result" in report and "## Shard 1/2" in report and "## Shard 2/2" not in report
    assert "CANCELLED" in report and str(plan.log(1)) in report
    assert all(learner in report for learner in plan.shards[0].learners)
    again = _kit("slurm", "resubmit", str(out), "--wait", "--poll", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resubmitting shard(s) 1;" in again.stderr and f"--array=1 {plan.script(P.SHARDS_SCRIPT)}" in again.stderr
    assert not (out / P.MISSING_FILE).exists()
    # Every learner graded exactly once, as in the local run of the same notebooks.
    local = [r for r in R.read_csv(base / "local" / "grades.csv") if r.learner in KILLED]
    got = R.read_csv(out / "grades.csv")
    assert len(got) == len(local) and report_files(out)["grades.csv"] == _rows_text(local)


def _rows_text(rows: list[R.Row]) -> str:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"kit-rows-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    R.write_csv(rows, folder / "grades.csv")
    (folder / "summary.md").write_text("")
    (folder / "feedback").mkdir(exist_ok=True)
    text = report_files(folder)["grades.csv"]
    shutil.rmtree(folder)
    return text


def test_ci_checks_the_solutions_inside_a_slurm_job() -> None:
    """CI runs this whole session, nbval over solutions/ included, inside `srun` (.ci/run's
    TEST_LAUNCH), so every solution notebook is also checked as a job on the cluster runs it."""
    if not os.environ.get("CI"):
        pytest.skip("not CI: nbval over solutions/ ran outside Slurm here (CI runs it inside srun)")
    assert os.environ.get("SLURM_JOB_ID"), "the cluster is up but the test session is not inside a Slurm job"
    assert os.environ.get("SLURM_JOB_NAME") == "kit-ci"
