"""Shared fixtures: paths of the repository and a per-test log folder for training runs; the report log's hooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_log import pytest_configure, pytest_runtest_protocol  # noqa: F401 - hooks: KIT_REPORT_LOG

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"
