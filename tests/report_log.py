"""Record what every judged check reports during the tests, to compare the checks' behaviour across a change.

With ``KIT_REPORT_LOG=DIR`` set, each check's ``judge`` (and so its ``evaluate`` and the grader's
verdicts, judged in-process) is wrapped; after each test, the text of every report it returned
(title, each criterion's mark, name and hint) is appended to ``DIR/<worker>.jsonl`` under the test's
id. Run the tests once on the base commit and once on the change: ``tools/compare_reports.py BEFORE
AFTER`` then shows, test by test, every report a refactor of the checks changed. Without the
variable nothing is wrapped or patched.

Reports made in other processes (graded kernels, ``kit`` run as a command) are not recorded.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported when the log is on: conftest imports this module for every test run
    from helpers.checks.check import Check
    from helpers.checks.report import CheckReport

LOG_ENV = "KIT_REPORT_LOG"
# A test's temporary folder differs from run to run (pytest numbers its base folder under the system's
# temporary folder, xdist adds the worker); a hint naming a file in it must not.
_TMP = re.compile(re.escape(tempfile.gettempdir()) + r"/pytest-of-[^/\s]+/pytest-\d+/(popen-gw\d+/)?")

_returned: list[CheckReport] = []
_wrapped: set[int] = set()  # ids of the checks whose judge is wrapped


def normalised(text: str) -> str:
    return _TMP.sub("<tmp>/", text)


def _recording(judge: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
    def judge_and_record(*args: object, **kwargs: object) -> CheckReport:
        report = judge(*args, **kwargs)
        _returned.append(report)
        return report

    return judge_and_record


def _wrap(check: Check[Any]) -> None:
    if id(check) not in _wrapped:
        _wrapped.add(id(check))
        object.__setattr__(check, "judge", _recording(check.judge))  # Check is frozen; a test-only wrapper


def _all_checks() -> list[Check[Any]]:
    from authoring_example import check_warmup_factor

    from helpers.checks.registry import all_checks

    return [*all_checks(), check_warmup_factor]


class _FixedDraws:
    """The grader draws its probe seed and the quiz's decoys at random for every run, so that no
    learner can know them; with the log on, every run draws the same, so that two logs compare."""

    @staticmethod
    def randbelow(n: int) -> int:
        return 20_261_207 % n

    @staticmethod
    def randbits(k: int) -> int:
        return 0x5EED & ((1 << k) - 1)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(LOG_ENV):
        from kit.grade import verdicts

        for check in _all_checks():
            _wrap(check)
        pytest.MonkeyPatch().setattr(verdicts, "secrets", _FixedDraws)  # for the whole session


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    folder = os.environ.get(LOG_ENV)
    _returned.clear()
    yield
    if not folder or not _returned:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    line = json.dumps({"test": item.nodeid, "reports": [normalised(r.text()) for r in _returned]},
                      ensure_ascii=False)
    _returned.clear()
    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / f"{worker}.jsonl", "a", encoding="utf-8") as log:
        log.write(line + "\n")
