"""How each limits mode builds its files and commands (fake cgroup roots, a fake systemctl), the
budget's defaults, the verdict texts and the rows a stopping limit turns into ``resource-limit``.
The modes are run for real in tests/test_grade_limits_attacks.py (cgroup v1 and rlimits here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.grade import rows as R
from kit.grade.engine import _limit_rows
from kit.grade.errors import GradeUsageError
from kit.grade.limits import budget as B
from kit.grade.limits import cgroups, session, slots
from kit.grade.limits.systemd import ScopeGroup, SystemdScope, not_in_effect, parse_show, scope_command
from kit.grade.limits.usage import LimitHit, Usage, hits

SMALL = B.Budget(tasks=64, memory_mb=384, disk_mb=48, files=1000, open_files=256, cpus=0.5)


def test_cgroup_v2_group_writes_every_limit_under_the_root(tmp_path: Path) -> None:
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    group = cgroups.V2Group(tmp_path, "kit-grade-abcdefabcdef-1", SMALL)
    folder = tmp_path / "kit-grade-abcdefabcdef-1"
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+pids +memory"
    assert (folder / "pids.max").read_text() == "64"
    assert (folder / "memory.max").read_text() == str(384 * 1024 ** 2)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "cpu.max").read_text() == "50000 100000"
    (folder / "memory.peak").write_text(str(400 * 1024 ** 2))
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n")
    (folder / "pids.events").write_text("max 7\n")
    (folder / "pids.peak").write_text("64\n")
    (folder / "cpu.stat").write_text("usage_usec 9\nnr_throttled 3\nthrottled_usec 2500000\n")
    usage = group.usage()
    assert (usage.memory_peak, usage.oom_kills, usage.tasks_peak, usage.tasks_refused) == (400 * 1024 ** 2, 2, 64, 7)
    assert (usage.cpu_throttled, usage.cpu_throttled_s) == (3, 2.5)


def test_cgroup_v1_group_writes_each_controller_under_the_graders_own_cgroup(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroups, "own_v1_path", lambda c: "/job7" if c == "memory" else "/")
    for controller in cgroups.V1_CONTROLLERS:
        (tmp_path / controller / "job7").mkdir(parents=True)
    (tmp_path / "memory" / "job7" / "memory.memsw.limit_in_bytes").parent.mkdir(exist_ok=True)
    name = "kit-grade-abcdefabcdef-2"
    # The group opens cgroup.procs to join: a fake root has plain files there.
    for controller, parent in (("pids", ""), ("memory", "job7"), ("cpu", "")):
        folder = tmp_path / controller / parent / name
        folder.mkdir(parents=True)
        (folder / "cgroup.procs").write_text("")
        (folder / "memory.memsw.limit_in_bytes").write_text("") if controller == "memory" else None
    monkeypatch.setattr(Path, "mkdir", lambda self, *a, **k: None)  # the folders exist already
    group = cgroups.V1Group(tmp_path, name, SMALL)
    group.started()
    assert (tmp_path / "pids" / name / "pids.max").read_text() == "64"
    memory = tmp_path / "memory" / "job7" / name
    assert (memory / "memory.limit_in_bytes").read_text() == str(384 * 1024 ** 2)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(384 * 1024 ** 2)  # no swap on top
    assert (memory / "memory.swappiness").read_text() == "0"
    assert (tmp_path / "cpu" / name / "cpu.cfs_quota_us").read_text() == "50000"
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n")
    (memory / "memory.max_usage_in_bytes").write_text(str(384 * 1024 ** 2))
    (tmp_path / "pids" / name / "pids.events").write_text("max 9\n")
    usage = group.usage()
    assert (usage.oom_kills, usage.tasks_refused) == (4, 9)


def test_own_v1_path_reads_proc_self_cgroup(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text("9:name=systemd:/\n8:pids:/slurm/job1\n4:memory:/process_api/x\n2:cpu,cpuacct:/a\n0::/\n")
    assert cgroups.own_v1_path("pids", proc) == "/slurm/job1"
    assert cgroups.own_v1_path("memory", proc) == "/process_api/x"
    assert cgroups.own_v1_path("cpu", proc) == "/a" and cgroups.own_v1_path("freezer", proc) == "/"


def test_cgroup_availability_says_why_not(tmp_path: Path) -> None:
    assert "no cgroup v2 controller" in cgroups.CgroupV2(tmp_path).available()
    assert "no cgroup v1 hierarchy for pids, memory, cpu" in cgroups.CgroupV1(tmp_path).available()


def test_systemd_scope_command_and_its_check_afterwards() -> None:
    command = scope_command("kit-grade-abcdefabcdef-3", SMALL, ["bwrap", "--args", "5", "--", "python"])
    assert command[:7] == ["systemd-run", "--user", "--scope", "--quiet", "--collect",
                           "--unit=kit-grade-abcdefabcdef-3", "-p"]
    assert {"TasksMax=64", "MemoryMax=384M", "MemorySwapMax=0", "CPUQuota=50%"} <= set(command)
    assert command[command.index("--") + 1:] == ["bwrap", "--args", "5", "--", "python"]
    took = parse_show(f"TasksMax=64\nMemoryMax={384 * 1024 ** 2}\nMemorySwapMax=0\nCPUQuotaPerSecUSec=500ms\n"
                      "ControlGroup=/user.slice/u.service/kit-grade-abcdefabcdef-3.scope\n")
    assert not_in_effect(took, SMALL) == []
    # A user manager without memory/pids delegation leaves them at infinity.
    ignored = parse_show("TasksMax=infinity\nMemoryMax=infinity\nMemorySwapMax=infinity\nCPUQuotaPerSecUSec=500ms\n")
    assert not_in_effect(ignored, SMALL) == ["tasks", "memory", "swap"]


def test_systemd_scope_group_reads_the_scope_back_and_stops_it(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    scope = tmp_path / "user.slice" / "kit-grade-abcdefabcdef-4.scope"
    scope.mkdir(parents=True)
    (scope / "memory.peak").write_text("1000")

    def fake(command: list[str]) -> str:
        calls.append(command)
        if command[2] == "show":
            return ("TasksMax=64\nMemoryMax=402653184\nMemorySwapMax=0\nCPUQuotaPerSecUSec=500ms\n"
                    "ControlGroup=/user.slice/kit-grade-abcdefabcdef-4.scope\n")
        return ""

    group = SystemdScope(fake, tmp_path).group("kit-grade-abcdefabcdef-4", SMALL)
    assert isinstance(group, ScopeGroup) and group.started() == [] and group.usage().memory_peak == 1000
    group.close()
    assert calls[-1] == ["systemctl", "--user", "stop", "kit-grade-abcdefabcdef-4.scope"]


def test_budget_derives_from_the_solutions_peaks_with_a_margin_and_floors() -> None:
    assert B.derived([], jobs=2).source == "defaults" and B.derived([], jobs=2).memory_mb == B.FALLBACK["memory_mb"]
    budget = B.derived([{"memory_mb": 1500.0, "tasks": 30.0}, {"memory_mb": 2500.0}], jobs=2, memory_total_mb=65536)
    assert budget.memory_mb == B.MARGIN * 2500 + 1 and budget.tasks == B.FLOOR["tasks"]
    assert budget.disk_mb == B.FALLBACK["disk_mb"] and budget.cpus == B.cpu_share(2)
    assert B.cpu_share(4, cores=2) == 0.5 and B.cpu_share(1, cores=2) == 2.0
    assert B.peaks_of({B.PEAKS_KEY: {"memory_mb": 10, "tasks": True, "disk_mb": -1}}) == {"memory_mb": 10.0}
    assert B.overridden(budget, tasks=9, files=None).tasks == 9
    # Four jobs on an 8 GB machine: the margin would ask 10 GB each; each gets its 2 GB share.
    assert B.derived([{"memory_mb": 2500.0}], jobs=4, memory_total_mb=8192).memory_mb == 2048
    assert B.derived([], jobs=8, memory_total_mb=8192).memory_mb == B.FLOOR["memory_mb"]


def test_inside_a_slurm_job_the_shares_are_of_the_jobs_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU", "SLURM_CPUS_PER_TASK",
                 "SLURM_CPUS_ON_NODE"):
        monkeypatch.delenv(name, raising=False)
    assert B.slurm_memory_mb() is None
    monkeypatch.setenv("SLURM_MEM_PER_NODE", "6000")
    assert B.slurm_memory_mb() is None  # not inside a job: a stray variable is not a grant
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert B.slurm_memory_mb() == 6000 and B.memory_share_mb(2) == 3000
    monkeypatch.delenv("SLURM_MEM_PER_NODE")
    monkeypatch.setenv("SLURM_MEM_PER_CPU", "1500")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert B.slurm_memory_mb() == 1500 and B.cpu_share(1) == 1.0 and B.cpu_share(2) == 0.5
    monkeypatch.setenv("SLURM_MEM_PER_CPU", "garbage")
    assert B.slurm_memory_mb() is None


def test_hits_name_the_limit_its_value_and_what_was_reached() -> None:
    mb = 1024 ** 2
    found = hits(Usage(memory_peak=384 * mb, oom_kills=2, tasks_peak=20, tasks_refused=5, disk_peak=48 * mb,
                       files_peak=1000, cpu_throttled=4, cpu_throttled_s=1.5), 64, 384, 48, 1000, 0.5)
    assert [h.limit for h in found] == ["memory", "tasks", "disk", "files", "cpu"]
    assert found[0].text == "memory limit (384 MB): memory above 384 MB (peak 384 MB, 2 process(es) killed)"
    assert found[1].text == "tasks limit (64): more than 64 tasks (processes and threads: reached 64; 5 more refused)"
    assert hits(Usage(memory_peak=100 * mb, tasks_peak=20, disk_peak=mb, files_peak=10), 64, 384, 48, 1000, 1) == []


def test_a_stopping_limit_turns_unfinished_checks_into_resource_limit_rows() -> None:
    rows = [R.Row("a", "ex", "a.ipynb", "c1", R.PASSED, 1, 1, 1), R.Row("a", "ex", "a.ipynb", "c2", R.FAILED, 0, 0, 1),
            R.Row("a", "ex", "a.ipynb", "c3", R.KERNEL_DIED, 0, 0, 1, message="not run")]
    memory = LimitHit("memory", "384 MB", "memory above 384 MB (peak 384 MB)")
    changed = _limit_rows(rows, (memory,))
    assert [r.status for r in changed] == [R.PASSED, R.FAILED, R.RESOURCE_LIMIT]
    assert changed[2].message.startswith("stopped by the memory limit (384 MB): memory above 384 MB")
    assert _limit_rows(rows, (LimitHit("cpu", "1 core(s)", "held"),)) == rows  # CPU only slows


def test_a_forced_mode_must_exist_and_work(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(GradeUsageError, match="unknown limits mode 'cgroup-v3'"):
        session.choose("cgroup-v3")
    monkeypatch.setenv(session.MODE_ENV, "rlimit")
    assert session.choose(None)[0].name == "rlimit"
    monkeypatch.setattr(session, "backends", lambda: {"cgroup-v2": cgroups.CgroupV2(Path("/nonexistent"))})
    with pytest.raises(GradeUsageError, match="cannot use limits mode cgroup-v2: no cgroup v2 controller"):
        session.choose("cgroup-v2")


def test_names_carry_the_run_and_a_dead_run_is_recognised() -> None:
    run = slots.Run()
    name = run.name(3)
    assert name.startswith(slots.PREFIX) and slots.run_of(name) == run.id and slots.run_of(name + "-x1y2") == run.id
    assert slots.run_alive(run.id) and slots.run_of("kit-grade-fonts-abc") is None
    assert not slots.run_alive("0123456789ab")


@pytest.mark.skipif(os.geteuid() != 0, reason="uid slots are for a root grader")
def test_uid_slots_are_distinct_non_root_and_free_again_after_release() -> None:
    first, second = slots.UidSlot(), slots.UidSlot()
    try:
        assert first.uid != second.uid and min(first.uid, second.uid) >= slots.uid_base() > 0
    finally:
        uid = first.uid
        first.release()
        second.release()
    again = slots.UidSlot()
    assert again.uid == uid
    again.release()
