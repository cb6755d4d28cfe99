"""`kit slurm` without a cluster: the scripts a --dry-run writes, the options, the default shard
count, and the merge's report of shards that left no result."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from grade_fixtures import build_class, build_toy_solutions

from kit.grade import rows as R
from kit.grade.__main__ import main as grade
from kit.slurm import plan as P
from kit.slurm.__main__ import main
from kit.slurm.scripts import array_spec

LEARNERS = ["alice", "bob", "carol", "dan", "ivan", "olga"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("slurm-scripts")
    solution = build_toy_solutions(base / "solutions")
    build_class(base / "all", nbformat.read(solution, as_version=4))
    for learner in LEARNERS:
        shutil.copytree(base / "all" / learner, base / "inbox" / learner)
    return {"base": base, "solutions": base / "solutions", "inbox": base / "inbox"}


def _dry(toy: dict[str, Path], out: Path, *extra: str) -> int:
    return main(["submit", str(toy["inbox"]), "--out", str(out), "--solutions", str(toy["solutions"]), "--quick",
                 "--dry-run", *extra])


def _sbatch_lines(script: Path) -> list[str]:
    return [line.removeprefix("#SBATCH ") for line in script.read_text().splitlines() if line.startswith("#SBATCH ")]


def test_dry_run_writes_two_readable_scripts_and_prints_the_commands(toy: dict[str, Path], capsys) -> None:
    out = toy["base"] / "dry"
    assert _dry(toy, out, "--shards", "3", "--max-running", "2", "--partition", "short", "--account", "ml101",
                "--time", "00:20:00", "--mem", "6G", "--cpus-per-task", "2", "--sbatch-line=--qos=course",
                "--no-sandbox") == 0
    printed = capsys.readouterr().out.splitlines()
    shards, merge = out / "slurm" / "shards.sbatch", out / "slurm" / "merge.sbatch"
    assert printed == [f"sbatch --parsable {shards}",
                       f"sbatch --parsable --dependency=afterany:<shards job id> {merge}"]
    lines = _sbatch_lines(shards)
    for option in ("--array=1-3%2", "--partition=short", "--account=ml101", "--time=00:20:00", "--mem=6G",
                   "--cpus-per-task=2", "--qos=course", "--requeue", "--open-mode=append",
                   f"--output={out}/slurm/logs/shard-%a.log"):
        assert option in lines, option
    assert {"--partition=short", "--account=ml101", "--qos=course", f"--output={out}/slurm/logs/merge.log"} <= set(
        _sbatch_lines(merge))
    for script in (shards, merge):  # valid bash, as a user would submit it again
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = shards.read_text()
    assert '--shard "$shard/3"' in text and "--no-sandbox" in text and '--jobs "${SLURM_CPUS_PER_TASK:-1}"' in text
    assert f"-m kit slurm merge {out}" in merge.read_text()
    plan = P.load(out)
    assert [len(s.submissions) for s in plan.shards] == [2, 2, 2] and plan.jobs == []
    assert sorted(learner for s in plan.shards for learner in s.learners) == LEARNERS


def test_default_shard_count_follows_the_target_time(toy: dict[str, Path]) -> None:
    solutions = toy["solutions"]
    each = P.estimated_seconds(solutions, None, quick=True)["00_toy"]
    assert each == P.FLOOR_SECONDS  # the toy records no cell times: the floor
    shards, longest = P.split(toy["inbox"], solutions, None, None, True, target_seconds=2 * each, cpus=1)
    assert len(shards) == 3 and longest == 2 * each  # six submissions, two per shard
    assert len(P.split(toy["inbox"], solutions, None, None, True, target_seconds=2 * each, cpus=2)[0]) == 2
    assert len(P.split(toy["inbox"], solutions, None, None, True, target_seconds=1e6, cpus=1)[0]) == 1
    assert len(P.split(toy["inbox"], solutions, None, None, True, target_seconds=1, cpus=1)[0]) == 6  # one per pair
    assert P.slurm_time(61) == "00:02:00" and P.slurm_time(25 * 3600) == "1-01:00:00"
    assert array_spec([1, 2, 3, 4], 2) == "1-4%2" and array_spec([2, 4], None) == "2,4" and array_spec([3], 1) == "3%1"


@pytest.mark.parametrize("extra, fragment", [
    (["--shards", "0"], "--shards must be at least 1"),
    (["--shards", "7"], "only 6 learner/exercise pair"),
    (["--jobs", "2"], "--jobs is set by kit slurm"),
    (["--shard=1/2"], "--shard is set by kit slurm"),
    (["--sbatch-line=qos=x"], "--sbatch-line takes one sbatch option"),
    (["--max-running", "0"], "at least 1"),
])
def test_bad_options_are_misuse(toy: dict[str, Path], tmp_path: Path, capsys, extra: list[str], fragment: str) -> None:
    assert _dry(toy, tmp_path / "out", *extra) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "out" / "slurm" / "plan.json").exists()


def test_an_output_folder_is_used_once_and_never_inside_the_inbox(toy: dict[str, Path], tmp_path: Path,
                                                                  capsys) -> None:
    assert _dry(toy, tmp_path / "once") == 0
    assert _dry(toy, tmp_path / "once") == 2
    assert "already holds a Slurm grading" in capsys.readouterr().err
    assert _dry(toy, toy["inbox"] / "grades") == 2
    assert "inside the submissions folder" in capsys.readouterr().err
    assert not (toy["inbox"] / "grades").exists()


def test_merge_names_what_is_missing_and_writes_no_partial_grades(toy: dict[str, Path], tmp_path: Path,
                                                                  capsys) -> None:
    out = tmp_path / "out"
    assert _dry(toy, out, "--shards", "3", "--no-sandbox") == 0
    plan = P.load(out)
    # Shard 1 finished (graded for real, published as the script does); shard 2 hit its time limit;
    # shard 3 never ran.
    common = ["--solutions", str(toy["solutions"]), "--quick", "--no-sandbox"]
    assert grade([str(toy["inbox"]), "--out", str(plan.part(1)), "--shard", "1/3", *common]) == 0
    plan.log(2).write_text("== shard 2/3: job 7_2 on node1, restart 0\nGrading 2 submission(s) ...\n"
                           "slurmstepd: error: *** JOB 9 ON node1 CANCELLED AT 2026-01-01T10:00:00 DUE TO TIME LIMIT "
                           "***\n")
    capsys.readouterr()
    assert main(["merge", str(out)]) == 1
    report = (out / P.MISSING_FILE).read_text()
    assert not (out / "grades.csv").exists()
    assert "2 of 3 shard(s) left no result" in report and f"kit slurm resubmit {out}" in report
    two, three = plan.shards[1], plan.shards[2]
    section2 = report.split("## Shard 2/3")[1].split("## Shard 3/3")[0]
    assert "DUE TO TIME LIMIT" in section2 and str(plan.log(2)) in section2
    assert all(learner in section2 for learner in two.learners) and "00_toy" in section2
    section3 = report.split("## Shard 3/3")[1]
    assert "never started" in section3 and all(learner in section3 for learner in three.learners)
    assert "## Shard 1/3" not in report
    assert report in capsys.readouterr().err
    # A part that graded other submissions than planned (the inbox changed) is not merged either.
    (plan.part(1) / "run.json").write_text(json.dumps({"shard": "1/2"}))
    assert main(["merge", str(out)]) == 1
    assert re.search(r"## Shard 1/3\n\n- why: its part is shard '1/2'", (out / P.MISSING_FILE).read_text())


def test_resubmit_and_wait_need_a_submitted_grading(toy: dict[str, Path], tmp_path: Path, capsys) -> None:
    assert main(["wait", str(tmp_path)]) == 2
    assert "not the output folder of `kit slurm submit`" in capsys.readouterr().err
    assert _dry(toy, tmp_path / "dry") == 0
    assert main(["wait", str(tmp_path / "dry")]) == 2
    assert "never submitted" in capsys.readouterr().err


def test_a_restarted_shard_replaces_its_part_and_a_killed_one_leaves_none(toy: dict[str, Path]) -> None:
    """The shard script run as Slurm runs it (array variables set), twice for a requeue: the part is
    published once, whole; a run killed midway publishes nothing."""
    out = toy["base"] / "requeue"
    assert _dry(toy, out, "--shards", "2", "--no-sandbox") == 0
    plan = P.load(out)
    script = plan.script(P.SHARDS_SCRIPT)
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_JOB_ID": "70", "SLURM_JOB_ID": "72",
           "SLURM_CPUS_PER_TASK": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for restart in ("0", "1"):  # a requeued task keeps its job id; SLURM_RESTART_COUNT counts up
        done = subprocess.run(["bash", str(script)], env={**env, "SLURM_RESTART_COUNT": restart},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert sorted(p.name for p in plan.part(2).parent.iterdir()) == ["shard-2-of-2"]
    graded = [r.submission for r in R.read_csv(plan.part(2) / "grades.csv") if r.is_total]
    assert sorted(graded) == sorted(plan.shards[1].submissions)  # each once, not twice
    # Killed mid-grading, as Slurm ends a job (SIGKILL to the whole process group): nothing is published.
    killed = subprocess.Popen(["bash", str(script)], env={**env, "SLURM_ARRAY_TASK_ID": "1"}, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)  # the grader is starting or grading: a shard of three submissions takes longer
    assert killed.poll() is None
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not plan.part(1).exists()
    assert main(["merge", str(out)]) == 1 and "## Shard 1/2" in (out / P.MISSING_FILE).read_text()


def test_kubernetes_indexed_job_renders_and_parses(toy: dict[str, Path], capsys) -> None:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with Jupyter; the kit writes the YAML without it
    out = toy["base"] / "k8s"
    args = ["kubernetes", str(toy["inbox"]), "--out", str(out), "--solutions", str(toy["solutions"]), "--quick",
            "--shards", "3", "--max-running", "2", "--mem", "6G", "--cpus-per-task", "2",
            "--image", "registry.example/kit:1", "--claim", "course-work", "--mount", str(toy["base"])]
    assert main(args) == 0
    job = yaml.safe_load((out / "slurm" / "kubernetes-job.yaml").read_text())
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 3, 2)
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example/kit:1" and pod["restartPolicy"] == "Never"
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "6Gi"}
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "course-work"
    assert container["volumeMounts"][0]["mountPath"] == str(toy["base"])
    command = container["command"]
    assert command[:2] == ["bash", "-c"] and subprocess.run(["bash", "-n", "-c", command[2]]).returncode == 0
    # JOB_COMPLETION_INDEX 0..2 -> shards 1..3, published into the parts kit slurm merge reads.
    assert "shard=$((JOB_COMPLETION_INDEX + 1))" in command[2] and '--shard "$shard/3"' in command[2]
    assert f"{out}/parts/shard-$shard-of-3" in command[2] and "--jobs 2" in command[2]
    assert f"kit slurm merge {out}" in capsys.readouterr().out
    assert main([*args[:-1], "/elsewhere"]) == 2  # paths the pods cannot see


def test_a_node_without_user_namespaces_fails_the_shard_with_the_local_message(toy: dict[str, Path],
                                                                              tmp_path: Path) -> None:
    """No silent fallback on a compute node that forbids user namespaces: the shard stops with
    kit grade's message, publishes nothing, and the merge quotes that message."""
    out = tmp_path / "nouserns"
    assert _dry(toy, out, "--shards", "2") == 0
    plan = P.load(out)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "SLURM_ARRAY_TASK_ID": "1",
           "SLURM_ARRAY_JOB_ID": "80", "SLURM_JOB_ID": "81"}
    with plan.log(1).open("w") as log:  # what Slurm's --output does
        done = subprocess.run(["bash", str(plan.script(P.SHARDS_SCRIPT))], env=env, stdout=log,
                              stderr=subprocess.STDOUT, timeout=300)
    assert done.returncode == 2 and not plan.part(1).exists()
    assert main(["merge", str(out)]) == 1
    section = (out / P.MISSING_FILE).read_text().split("## Shard 1/2")[1].split("## Shard 2/2")[0]
    assert "failed: error: cannot sandbox the learners' code: bwrap cannot create the sandbox's namespaces" in section
    assert "No permissions to create new namespace" in section


def test_a_shard_slurm_ended_is_named_by_its_state_when_its_log_does_not_say(toy: dict[str, Path], tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """slurmstepd may write '*** CANCELLED ***' after the merge job has read the log: Slurm's own
    state of the task names it then; without one, the last log line still does."""
    from kit.slurm import parts

    out = tmp_path / "out"
    assert _dry(toy, out, "--shards", "2", "--no-sandbox") == 0
    plan = P.load(out)
    plan.jobs += ["41", "42", "43", "44"]  # submitted, then resubmitted: the newest array (43) counts first
    for index in (1, 2):
        plan.log(index).write_text(f"== shard {index}/2: job 43_{index} on node1, restart 0\nGrading ...\n")
    asked: list[tuple[str, int]] = []

    def state(job: str, index: int) -> str | None:
        asked.append((job, index))
        return {("43", 1): "CANCELLED", ("41", 2): "COMPLETED"}.get((job, index))

    monkeypatch.setattr(parts, "task_state", state)
    reasons = {gap.shard.index: gap.reason for gap in parts.missing(plan)}
    assert reasons == {1: "ended by Slurm: CANCELLED", 2: "ended without a result (last log line: Grading ...)"}
    assert asked == [("43", 1), ("43", 2), ("41", 2)]
