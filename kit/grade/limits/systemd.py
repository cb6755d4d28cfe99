"""A systemd user scope per submission: limits for an unprivileged instructor on cgroup v2.

``systemd-run --user --scope`` starts the sandbox in a transient scope with ``TasksMax``,
``MemoryMax``, ``MemorySwapMax=0`` and ``CPUQuota``; the user manager may lack a controller
(no delegation), so after the start the grader reads the scope's properties back and names
every limit that did not take effect.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from kit.grade.limits.budget import Budget
from kit.grade.limits.cgroups import CGROUP_ROOT, read_v2_usage
from kit.grade.limits.usage import Usage

Runner = Callable[[list[str]], str]


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def scope_command(unit: str, budget: Budget, command: list[str]) -> list[str]:
    """``command`` run inside a new user scope with the budget's limits."""
    return ["systemd-run", "--user", "--scope", "--quiet", "--collect", f"--unit={unit}",
            "-p", f"TasksMax={budget.tasks}", "-p", f"MemoryMax={budget.memory_mb}M", "-p", "MemorySwapMax=0",
            "-p", f"CPUQuota={round(budget.cpus * 100)}%", "--", *command]


SHOWN = ("TasksMax", "MemoryMax", "MemorySwapMax", "CPUQuotaPerSecUSec", "ControlGroup")


def show_command(unit: str) -> list[str]:
    return ["systemctl", "--user", "show", f"{unit}.scope", *(f"--property={p}" for p in SHOWN)]


def parse_show(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def not_in_effect(properties: dict[str, str], budget: Budget) -> list[str]:
    """The limits the scope does not carry (systemd prints 'infinity' for an unset or unsupported one)."""
    wanted_quota_us = round(budget.cpus * 100) * 10_000  # CPUQuota=100% is 1 s of CPU per second
    missing = []
    if properties.get("TasksMax") != str(budget.tasks):
        missing.append("tasks")
    if properties.get("MemoryMax") != str(budget.memory_mb * 1024 ** 2):
        missing.append("memory")
    if properties.get("MemorySwapMax") != "0":
        missing.append("swap")
    if _usec(properties.get("CPUQuotaPerSecUSec", "")) != wanted_quota_us:
        missing.append("cpu")
    return missing


def _usec(text: str) -> int | None:
    """systemd's time span ('1s', '500ms', '1.500000s') in microseconds."""
    units = (("ms", 1_000), ("us", 1), ("s", 1_000_000))
    for suffix, factor in units:
        if text.endswith(suffix):
            try:
                return round(float(text[: -len(suffix)]) * factor)
            except ValueError:
                return None
    return None


class ScopeGroup:
    def __init__(self, unit: str, budget: Budget, run: Runner, cgroup_root: Path) -> None:
        self.unit, self.budget, self._run, self.cgroup_root = unit, budget, run, cgroup_root
        self.folder: Path | None = None
        self.sampled_tasks = 0

    def preexec(self) -> None:
        return None

    def wrap(self, command: list[str]) -> list[str]:
        return scope_command(self.unit, self.budget, command)

    def started(self) -> list[str]:
        """Read the scope back (it appears once systemd-run registered it)."""
        properties: dict[str, str] = {}
        for _ in range(40):
            properties = parse_show(self._run(show_command(self.unit)))
            if properties.get("ControlGroup"):
                break
            time.sleep(0.05)
        if properties.get("ControlGroup"):
            self.folder = self.cgroup_root / properties["ControlGroup"].lstrip("/")
        return not_in_effect(properties, self.budget)

    def sample(self) -> None:
        if self.folder is not None:
            self.sampled_tasks = max(self.sampled_tasks, read_v2_usage(self.folder).tasks_peak)

    def usage(self) -> Usage:
        return read_v2_usage(self.folder, self.sampled_tasks) if self.folder is not None else Usage()

    def close(self) -> bool:
        self._run(["systemctl", "--user", "stop", f"{self.unit}.scope"])
        return True


class SystemdScope:
    """An unprivileged grader with a systemd user manager on cgroup v2."""

    name = "systemd-scope"

    def __init__(self, run: Runner = _run, cgroup_root: Path = CGROUP_ROOT) -> None:
        self._run, self.cgroup_root = run, cgroup_root

    def available(self) -> str:
        if shutil.which("systemd-run") is None or shutil.which("systemctl") is None:
            return "systemd-run is not installed"
        if not (self.cgroup_root / "cgroup.controllers").exists():
            return "not a cgroup v2 machine"
        if not self._run(["systemctl", "--user", "show", "--property=Version"]).strip():
            return "no systemd user manager (systemctl --user fails)"
        return ""

    def unenforced(self) -> list[str]:
        return []

    def group(self, name: str, budget: Budget) -> ScopeGroup:
        return ScopeGroup(name, budget, self._run, self.cgroup_root)

    def leftover_units(self, prefix: str) -> list[str]:
        text = self._run(["systemctl", "--user", "list-units", "--type=scope", "--all", "--plain", "--no-legend",
                          f"{prefix}*"])
        return [line.split()[0].removesuffix(".scope") for line in text.splitlines() if line.strip()]

    def stop(self, unit: str) -> None:
        self._run(["systemctl", "--user", "stop", f"{unit}.scope"])
