"""Shared fixtures: paths of the repository and a per-test log folder for training runs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"
