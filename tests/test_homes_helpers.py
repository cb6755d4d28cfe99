"""Facts read on two sides come from one home: the Slurm job variables (the trainings' worker
count and the grader's memory share), the hint data file (the learner's kernel and kit assign),
the quick mode's variable (the trainings and kit execute)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import hints, parallel
from kit.course import course
from kit.grade.limits import budget

SLURM_VARIABLES = ("SLURM_JOB_ID", "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_MEM_PER_NODE",
                   "SLURM_MEM_PER_CPU")


@pytest.fixture
def no_slurm(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SLURM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_one_decision_says_whether_a_slurm_grant_applies(no_slurm: pytest.MonkeyPatch) -> None:
    no_slurm.setenv("SLURM_CPUS_PER_TASK", "1")
    no_slurm.setenv("SLURM_MEM_PER_NODE", "6000")
    assert not parallel.in_slurm_job()
    assert parallel._slurm_cpus() is None and budget.slurm_memory_mb() is None  # stray variables: no grant
    no_slurm.setenv(parallel.SLURM_JOB_ENV, "42")
    assert parallel.in_slurm_job()
    assert parallel._slurm_cpus() == 1 and budget.slurm_memory_mb() == 6000


@pytest.mark.parametrize("value", ["", "0", "-2", "1.5", "4G", " ", "\u00b9", "\u00b2\u00b3"])
def test_a_malformed_slurm_number_is_ignored_not_a_crash(no_slurm: pytest.MonkeyPatch, value: str) -> None:
    # "¹" passes str.isdigit but int() refuses it: a reader testing isdigit would raise ValueError.
    no_slurm.setenv(parallel.SLURM_JOB_ENV, "42")
    no_slurm.setenv("SLURM_CPUS_PER_TASK", value)
    no_slurm.setenv("SLURM_MEM_PER_NODE", value)
    assert parallel.slurm_number("SLURM_CPUS_PER_TASK") is None
    assert parallel._slurm_cpus() is None and budget.slurm_memory_mb() is None
    no_slurm.setenv("SLURM_CPUS_ON_NODE", " 3 ")
    assert parallel._slurm_cpus() == 3  # the next variable is read


def test_the_course_and_the_kernel_name_the_same_hint_data_file() -> None:
    assert course().hint_data == hints.DATA.resolve()
    assert course().hint_data.relative_to(course().root).as_posix() == hints.DATA_IN_COURSE


@pytest.mark.parametrize("value", ["", "0", "two", "-1"])
def test_kit_execute_refuses_an_invalid_quick_mode_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    from helpers.settings import QUICK_EPOCHS_ENV, quick_epochs
    from kit.execute import main

    monkeypatch.setenv(QUICK_EPOCHS_ENV, value)
    with pytest.raises(ValueError, match="positive whole number") as raised:
        quick_epochs()
    with pytest.raises(SystemExit) as exited:
        main([str(tmp_path / "never_read.ipynb")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(f"kit execute: error: {raised.value}\n") and "no such notebook" not in err
