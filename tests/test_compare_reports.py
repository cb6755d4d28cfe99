"""The report log (tests/report_log.py) and tools/compare_reports.py: a change to what a check reports
is found, test by test, and an unchanged run compares equal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import compare_reports as cr
from report_log import LOG_ENV, normalised

# A test module run in its own pytest process with the log on: its factor function follows VARIANT,
# so two runs differ exactly where a change to the function would change the report.
_TOY_TEST = '''\
import os

from authoring_example import check_warmup_factor


def factor(epoch, warmup_epochs):
    if os.environ.get("VARIANT") == "late":
        return min(1.0, epoch / warmup_epochs)
    return min(1.0, (epoch + 1) / warmup_epochs)


def test_factor():
    check_warmup_factor.evaluate(factor, 4)


def test_twice():
    check_warmup_factor.evaluate(factor, 2)
    check_warmup_factor.evaluate(factor, 3)


def test_no_check():
    assert factor(4, 4) == 1.0
'''


def _write(folder: Path, name: str, records: list[dict[str, str | list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return folder


def test_equal_logs_compare_equal(tmp_path: Path) -> None:
    records: list[dict[str, str | list[str]]] = [{"test": "t::a", "reports": ["Title\n  ✓ x"]},
                                                  {"test": "t::b", "reports": []}]
    before, after = _write(tmp_path / "b", "gw0.jsonl", records), _write(tmp_path / "a", "main.jsonl", records[::-1])
    result = cr.compare(cr.read_log(before), cr.read_log(after))
    assert result.same and (result.tests, result.reports) == (2, 1)
    assert cr.main([str(before), str(after)]) == 0


def test_a_changed_hint_and_a_missing_test_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _write(tmp_path / "b", "gw0.jsonl", [{"test": "t::a", "reports": ["Title\n  ✗ x — old hint"]},
                                                  {"test": "t::gone", "reports": ["T"]}])
    after = _write(tmp_path / "a", "gw0.jsonl", [{"test": "t::a", "reports": ["Title\n  ✗ x — new hint"]},
                                                 {"test": "t::new", "reports": ["T"]}])
    result = cr.compare(cr.read_log(before), cr.read_log(after))
    assert list(result.differing) == ["t::a"]
    assert "-  ✗ x — old hint" in result.differing["t::a"] and "+  ✗ x — new hint" in result.differing["t::a"]
    assert (result.only_before, result.only_after) == (["t::gone"], ["t::new"])
    assert cr.main([str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert "1 tests in both logs, 1 reports compared: 1 tests differ, 1 only before, 1 only after" in out
    assert "=== t::a" in out and "only before: t::gone" in out and "only after: t::new" in out


def test_the_order_of_a_tests_reports_is_not_compared(tmp_path: Path) -> None:
    before = _write(tmp_path / "b", "x.jsonl", [{"test": "t::a", "reports": ["A", "B", "B"]}])
    after = _write(tmp_path / "a", "x.jsonl", [{"test": "t::a", "reports": ["B", "A", "B"]}])
    assert cr.compare(cr.read_log(before), cr.read_log(after)).same
    fewer = _write(tmp_path / "f", "x.jsonl", [{"test": "t::a", "reports": ["B", "A", "A"]}])
    assert not cr.compare(cr.read_log(before), cr.read_log(fewer)).same


def test_an_extra_report_in_a_test_is_a_difference(tmp_path: Path) -> None:
    before = _write(tmp_path / "b", "x.jsonl", [{"test": "t::a", "reports": ["A"]}])
    after = _write(tmp_path / "a", "x.jsonl", [{"test": "t::a", "reports": ["A", "B"]}])
    assert list(cr.compare(cr.read_log(before), cr.read_log(after)).differing) == ["t::a"]


@pytest.mark.parametrize(("content", "message"), [
    (None, "no *.jsonl files"),
    ("not json\n", "not a test's record"),
    ('{"test": "t::a"}\n', "not a test's record"),
    ('["t::a", []]\n', "not a test's record"),
    ('{"test": 3, "reports": []}\n', "'test' must be a string"),
    ('{"test": "t::a", "reports": [1]}\n', "'reports' a list of strings"),
    ('{"test": "t::a", "reports": []}\n{"test": "t::a", "reports": []}\n', "recorded twice"),
])
def test_an_unreadable_log_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
                                    message: str) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    if content is not None:
        (bad / "gw0.jsonl").write_text(content, encoding="utf-8")
    good = _write(tmp_path / "good", "gw0.jsonl", [{"test": "t::a", "reports": []}])
    with pytest.raises(cr.LogError, match=message.replace("*", r"\*")):
        cr.read_log(bad)
    assert cr.main([str(bad), str(good)]) == 2 and message in capsys.readouterr().err


def test_temporary_folders_are_normalised() -> None:
    named = f"cannot read {tempfile.gettempdir()}/pytest-of-root/pytest-17/test_x0/ev.json"
    assert normalised(named) == "cannot read <tmp>/test_x0/ev.json"
    assert normalised(named.replace("17/", "17/popen-gw1/")) == "cannot read <tmp>/test_x0/ev.json"
    elsewhere = f"{tempfile.gettempdir()}/elsewhere/x"
    assert normalised(elsewhere) == elsewhere


def _run_toy(tmp_path: Path, log: Path, variant: str) -> None:
    """The toy test module in a pytest process of its own, with the log on and this suite's hooks."""
    (tmp_path / "conftest.py").write_text("from report_log import pytest_configure, pytest_runtest_protocol\n")
    (tmp_path / "test_toy.py").write_text(_TOY_TEST)
    env = {**os.environ, LOG_ENV: str(log), "VARIANT": variant,
           "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_toy.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_log_of_a_test_run_finds_a_changed_check(tmp_path: Path) -> None:
    logs = {name: tmp_path / "logs" / name for name in ("right", "again", "late")}
    for name, log in logs.items():
        _run_toy(tmp_path, log, "late" if name == "late" else "right")
    right = cr.read_log(logs["right"])
    assert list(right) == ["test_toy.py::test_factor", "test_toy.py::test_twice"]  # no report, no record
    assert right["test_toy.py::test_factor"][0].startswith("Warmup factor over 4 epochs\n  ✓ the blank is filled in")
    assert [r.splitlines()[0] for r in right["test_toy.py::test_twice"]] == [
        "Warmup factor over 2 epochs", "Warmup factor over 3 epochs"]
    assert cr.compare(right, cr.read_log(logs["again"])).same
    late = cr.compare(right, cr.read_log(logs["late"]))
    assert sorted(late.differing) == ["test_toy.py::test_factor", "test_toy.py::test_twice"]
    assert "+  ✗ epoch 0 trains (factor > 0) — epoch / W is 0 at epoch 0" in late.differing["test_toy.py::test_factor"]
