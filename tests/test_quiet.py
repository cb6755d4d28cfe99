"""Warning filters: pl_bolts' UnderReviewWarning and friends are silenced, nothing else is.

The import-order tests run in a fresh interpreter under Python's default filters, because the
test process has already imported pl_bolts and pytest rewrites the filters around each test.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from helpers import quiet

SCRIPT = """
import sys, warnings
if sys.argv[1] == "with-helpers":
    import helpers
with warnings.catch_warnings(record=True) as caught:
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR
    import torch
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=2, max_epochs=10)
    warnings.warn("an unrelated warning the learner must see", UserWarning)
for w in caught:
    print(f"{w.category.__name__}: {str(w.message)[:70]}")
"""


@pytest.fixture(scope="module")
def fresh_runs() -> dict[str, list[str]]:
    """Both modes at once (each spends ~10 s importing pl_bolts): mode -> warnings it printed."""
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    running = {
        mode: subprocess.Popen(
            [sys.executable, "-c", SCRIPT, mode], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for mode in ("with-helpers", "without-helpers")
    }
    shown = {}
    for mode, process in running.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        shown[mode] = out.splitlines()
    return shown


def test_helpers_silences_pl_bolts_but_not_other_warnings(fresh_runs) -> None:
    assert fresh_runs["with-helpers"] == ["UserWarning: an unrelated warning the learner must see"]


def test_without_helpers_pl_bolts_does_warn(fresh_runs) -> None:
    """The control: the same script without ``import helpers`` shows the noise we filter."""
    shown = fresh_runs["without-helpers"]
    assert "UserWarning: an unrelated warning the learner must see" in shown
    under_review = [line for line in shown if line.startswith("UnderReviewWarning:")]
    assert any("LinearWarmupCosineAnnealingLR" in line for line in under_review)
    assert any(line.startswith("UserWarning: pkg_resources is deprecated") for line in shown)


@pytest.mark.parametrize(
    "message, category",
    [
        ("The feature LinearWarmupCosineAnnealingLR is currently marked under review. More text.", UserWarning),
        ("pkg_resources is deprecated as an API. See the docs.", UserWarning),
        ("The 'train_dataloader' does not have many workers which may be a bottleneck.", UserWarning),
    ],
)
def test_known_harmless_messages_are_ignored(message, category) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        quiet.install_filters()
        warnings.warn(message, category)
    assert caught == []


@pytest.mark.parametrize(
    "message, category",
    [
        ("pkg_resources is deprecated as an API", DeprecationWarning),  # filtered only as UserWarning
        ("The 'val_dataloader' contains NaN", UserWarning),
        ("something else entirely", RuntimeWarning),
    ],
)
def test_filters_are_narrow(message, category) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        quiet.install_filters()
        warnings.warn(message, category)
    assert [str(w.message) for w in caught] == [message]


def test_install_filters_is_idempotent() -> None:
    with warnings.catch_warnings():
        quiet.install_filters()
        quiet.install_filters()
        patches = [f for f in sys.meta_path if isinstance(f, quiet._BoltsStabilityPatch)]
        assert len(patches) <= 1


def test_lightning_info_banners_are_quiet() -> None:
    for name in quiet._CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    quiet.quiet_lightning_logs()
    assert all(logging.getLogger(name).level == logging.WARNING for name in quiet._CHATTY_LOGGERS)
