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

# The guard in install_filters, exercised where it matters: in an interpreter that has not imported
# pl_bolts yet (this test process has, so there the patch is never installed at all).
GUARD_SCRIPT = """
import sys, warnings
before = list(sys.meta_path)
if sys.argv[1] == "guard":
    import helpers  # installs the filters and the pl_bolts patch once
    from helpers import quiet
    quiet.install_filters()
    quiet.install_filters()
    print("finders added before pl_bolts:", len([f for f in sys.meta_path if f not in before]))
import pl_bolts.optimizers.lr_scheduler
if sys.argv[1] == "guard":
    quiet.install_filters()
    print("finders added after pl_bolts:", len([f for f in sys.meta_path if f not in before]))
under_review = [f for f in warnings.filters if f[0] == "once" and f[1] and "under review" in f[1].pattern]
print("under-review once filters:", len(under_review))
"""


@pytest.fixture(scope="module")
def fresh_runs() -> dict[str, list[str]]:
    """All scripts at once (each spends ~10 s importing pl_bolts): mode -> lines it printed."""
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    scripts = {"with-helpers": SCRIPT, "without-helpers": SCRIPT, "guard": GUARD_SCRIPT, "guard-control": GUARD_SCRIPT}
    running = {
        mode: subprocess.Popen(
            [sys.executable, "-c", script, mode],
            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for mode, script in scripts.items()
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
        warnings.warn(message, category, stacklevel=1)
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
        warnings.warn(message, category, stacklevel=1)
    assert [str(w.message) for w in caught] == [message]


def test_install_filters_is_idempotent_and_neutralises_pl_bolts_once_filters(fresh_runs) -> None:
    """Installed once however often it is called; pl_bolts then adds none of its "once" filters
    (they would sit in front of ours and win); nothing more is installed after pl_bolts is loaded."""
    assert fresh_runs["guard"] == [
        "finders added before pl_bolts: 1",
        "finders added after pl_bolts: 1",
        "under-review once filters: 0",
    ]


def test_without_helpers_pl_bolts_adds_under_review_once_filters(fresh_runs) -> None:
    """The control for the test above: pl_bolts on its own adds its "once" filters (152 in 0.7.0)."""
    [line] = fresh_runs["guard-control"]
    assert line.startswith("under-review once filters: ") and int(line.split(": ")[1]) > 0


LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning_fabric", "pytorch_lightning")


def test_lightning_info_banners_are_quiet() -> None:
    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    quiet.quiet_lightning_logs()
    assert [logging.getLogger(name).level for name in LIGHTNING_LOGGERS] == [logging.WARNING] * len(LIGHTNING_LOGGERS)
