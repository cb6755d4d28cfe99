"""pytest plugin loaded into the grading child (``-p kit.grade.capture``).

It adds two machine-readable properties to every nbval cell in the junit XML: ``kit_kind``
(passed / differs / exception / timeout / kernel-died) and, for the grader's check cells, the
printed output ``kit_output`` (truncated), which becomes the learner's hint, and the cell's
``kit_seconds``. It also makes a dead kernel fail the running cell at once instead of after the
whole cell timeout, applies per-cell timeouts (``--kit-timeouts FILE``: JSON ``{"N": seconds}``
for nbval's ``Cell N``) and writes the running cell to ``--kit-progress FILE`` for the grader's
progress line.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from queue import Empty
from typing import Any

import pytest

# The protocol between the grader (kit.grade.run, kit.transforms.graded, kit.grade.engine) and this
# plugin. It is copied alone into the sandbox and imports nothing of the kit, so it is their home.
MAX_OUTPUT_ENV = "KIT_GRADE_MAX_OUTPUT"
TIMEOUTS_OPTION = "--kit-timeouts"
PROGRESS_OPTION = "--kit-progress"
META_KEY = "kit_grade"  # cell metadata of the grader's check cells, whose printed output is kept
# junit properties of a cell
KIND_PROPERTY, SECONDS_PROPERTY, OUTPUT_PROPERTY, ERROR_PROPERTY = "kit_kind", "kit_seconds", "kit_output", "kit_error"
# a cell's kind, the value of KIND_PROPERTY
PASSED, DIFFERS, EXCEPTION, TIMEOUT = "passed", "differs", "exception", "timeout"
KERNEL_DIED, SKIPPED, GRADER_ERROR = "kernel-died", "skipped", "grader-error"

MAX_OUTPUT = int(os.environ.get(MAX_OUTPUT_ENV, "4000"))  # the grader raises it for references
_POLL = 1.0


class KernelDied(RuntimeError):
    """The kernel process ended while a cell ran (os._exit, a crash, the memory limit)."""


def _patch_await_reply() -> None:
    from nbval.kernel import RunningKernel

    original = RunningKernel.await_reply
    if getattr(original, "_kit_patched", False):
        return

    def await_reply(self: Any, msg_id: str, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise Empty
            try:
                return original(self, msg_id, timeout=_POLL if left is None else min(_POLL, left))
            except Empty:
                if not self.is_alive():
                    raise KernelDied("the kernel died while this cell ran") from None

    await_reply._kit_patched = True  # type: ignore[attr-defined]
    RunningKernel.await_reply = await_reply


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kit-grade")
    group.addoption(TIMEOUTS_OPTION, default=None, help="JSON file {cell number: timeout seconds}")
    group.addoption(PROGRESS_OPTION, default=None, help="file the running cell number is written to")


_TIMEOUTS: dict[int, float] = {}
_STARTED: dict[str, float] = {}


def pytest_configure(config: pytest.Config) -> None:
    _patch_await_reply()
    path = config.getoption(TIMEOUTS_OPTION, None)
    if path:
        with open(path) as handle:
            _TIMEOUTS.update({int(k): float(v) for k, v in json.load(handle).items()})


def cell_number(name: str) -> int | None:
    """N of nbval's test name ``Cell N`` (the N-th code cell); None for any other name."""
    return int(name[5:]) if name.startswith("Cell ") and name[5:].isdigit() else None


def _cell_number(item: pytest.Item) -> int | None:
    return cell_number(getattr(item, "name", ""))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    number = _cell_number(item)
    if number is None:
        return
    if number in _TIMEOUTS:  # nbval reads the option when the cell starts
        item.config.option.nbval_cell_timeout = _TIMEOUTS[number]
    _STARTED[item.nodeid] = time.monotonic()
    path = item.config.getoption(PROGRESS_OPTION, None)
    if path:
        total = sum(_cell_number(i) is not None for i in item.session.items)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as handle:
            handle.write(f"{number} {total}\n")
        os.replace(tmp, path)


def _output_text(outputs: list[Any] | None) -> str:
    parts = []
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            parts.append(out.get("text", ""))
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}\n")
    text = "".join(parts)
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n… (output truncated)"


def _kind(item: pytest.Item, call: pytest.CallInfo) -> str:
    if call.excinfo is None:
        return PASSED
    exc = call.excinfo.value
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    if isinstance(exc, KernelDied) or (kernel is not None and not kernel.is_alive()) or (
        isinstance(exc, RuntimeError) and "Kernel dead" in str(exc)
    ):
        return KERNEL_DIED
    message = str(getattr(exc, "args", [""])[0]) if getattr(exc, "args", None) else ""
    if "Timeout" in message:
        return TIMEOUT
    if message == "Cell outputs differ":
        return DIFFERS
    if message == "Cell execution caused an exception":
        return EXCEPTION
    if isinstance(exc, pytest.skip.Exception):
        return SKIPPED
    return GRADER_ERROR


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    if call.when != "call" or not hasattr(item, "cell"):
        return
    outcome.get_result()
    # junit XML takes properties from the teardown report, which copies the item's list.
    kind = _kind(item, call)
    item.user_properties.append((KIND_PROPERTY, kind))
    if item.nodeid in _STARTED:
        item.user_properties.append((SECONDS_PROPERTY, f"{time.monotonic() - _STARTED[item.nodeid]:.3f}"))
    outputs = getattr(item, "test_outputs", None)
    if item.cell.get("metadata", {}).get(META_KEY):
        item.user_properties.append((OUTPUT_PROPERTY, _output_text(outputs)))
    elif kind != PASSED:
        errors = [o for o in outputs or [] if o.get("output_type") == "error"]
        if errors:
            item.user_properties.append(
                (ERROR_PROPERTY, f"{errors[-1].get('ename')}: {str(errors[-1].get('evalue'))[:300]}")
            )
