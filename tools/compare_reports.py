"""Compare two logs of the checks' reports, test by test: did a change alter what learners read?

Each log is a folder of ``*.jsonl`` files written by the tests with ``KIT_REPORT_LOG`` set (see
tests/report_log.py): one line per test, its id and the text of every report its checks returned.

    KIT_REPORT_LOG=/tmp/before python -m pytest tests -n 2 --dist loadscope   # on the base commit
    KIT_REPORT_LOG=/tmp/after  python -m pytest tests -n 2 --dist loadscope   # on the change

(the same options for both: a module-scoped fixture's reports are logged under the test that first
uses it, which depends on how the tests are spread over workers)
    python tools/compare_reports.py /tmp/before /tmp/after

Prints how many tests and reports were compared, then a diff for each test whose reports differ
and the tests found in one log only. Exit status: 0 when every test in both logs has the same
reports, 1 when one differs or a test is in one log only, 2 when a log cannot be read.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import dataclass
from pathlib import Path


class LogError(Exception):
    """A log folder that is missing, empty or holds a line that is not a test's record."""


@dataclass(frozen=True)
class Comparison:
    tests: int  # in both logs
    reports: int  # compared, in the tests in both logs
    differing: dict[str, str]  # test id -> unified diff of its reports
    only_before: list[str]
    only_after: list[str]

    @property
    def same(self) -> bool:
        return not (self.differing or self.only_before or self.only_after)


def read_log(folder: Path) -> dict[str, list[str]]:
    """Test id -> the texts of its reports, in the order they were returned."""
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        raise LogError(f"{folder}: no *.jsonl files (was KIT_REPORT_LOG set to it while the tests ran?)")
    log: dict[str, list[str]] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                record = json.loads(line)
                test, reports = record["test"], record["reports"]
            except (ValueError, KeyError, TypeError) as exc:
                raise LogError(f"{path}:{number}: not a test's record ({exc})") from None
            if not isinstance(test, str) or not isinstance(reports, list) or not all(
                    isinstance(r, str) for r in reports):
                raise LogError(f"{path}:{number}: 'test' must be a string and 'reports' a list of strings")
            if test in log:
                raise LogError(f"{path}:{number}: {test} is recorded twice (two runs in one folder?)")
            log[test] = reports
    return log


def compare(before: dict[str, list[str]], after: dict[str, list[str]]) -> Comparison:
    """Each test's reports as a multiset: their order is not compared, since the grader judges a
    class's notebooks in parallel and so returns their reports in the order the notebooks finish."""
    both = sorted(before.keys() & after.keys())
    differing = {}
    for test in both:
        old, new = sorted(before[test]), sorted(after[test])
        if old != new:
            old_lines, new_lines = "\n\n".join(old).splitlines(), "\n\n".join(new).splitlines()
            differing[test] = "\n".join(difflib.unified_diff(old_lines, new_lines, "before", "after", lineterm=""))
    return Comparison(len(both), sum(len(before[t]) for t in both), differing,
                      sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the log of the base commit's test run")
    parser.add_argument("after", type=Path, help="the log of the change's test run")
    args = parser.parse_args(argv)
    try:
        result = compare(read_log(args.before), read_log(args.after))
    except (LogError, OSError) as exc:
        print(f"compare_reports: {exc}", file=sys.stderr)
        return 2
    print(f"{result.tests} tests in both logs, {result.reports} reports compared: "
          f"{len(result.differing)} tests differ, {len(result.only_before)} only before, "
          f"{len(result.only_after)} only after")
    for test, diff in result.differing.items():
        print(f"\n=== {test}\n{diff}")
    for label, tests in (("only before", result.only_before), ("only after", result.only_after)):
        for test in tests:
            print(f"{label}: {test}")
    return 0 if result.same else 1


if __name__ == "__main__":
    sys.exit(main())
