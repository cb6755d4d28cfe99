"""Narrow filters for warnings and log lines that are known to be harmless in this kit.

Each filter names one message (never a whole category) so that real problems still show.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# Lightning's checkpoint connector calls SLURMEnvironment.detect() on every fit/test whatever the
# trainer's cluster environment, and detect() warns when `srun` is on the PATH but not in use.
SRUN_HINT = r"The `srun` command is available on your system but is not used"

# (message regex, category) pairs; every one was seen in this kit's notebooks or tests.
_KNOWN_HARMLESS: tuple[tuple[str, type[Warning]], ...] = (
    # pl_bolts 0.7.0 marks most of its API "under review" and warns on import and use.
    (r"The feature .* is currently marked under review", Warning),
    # pl_bolts and pytorch-lightning 1.9 import pkg_resources (pinned setuptools<81 keeps it).
    (r"pkg_resources is deprecated as an API", UserWarning),
    (r"Deprecated call to `pkg_resources\.declare_namespace", DeprecationWarning),
    (r"In the future `np\.object` will be defined", FutureWarning),
    (r"`ModuleAvailableCache` is a special case of `RequirementCache`", DeprecationWarning),
    # Lightning advice that does not apply to in-memory tensors on a 2-core CPU.
    (r".*does not have many workers which may be a bottleneck", Warning),
    (r".*`max_epochs` was not set", Warning),
    (r"GPU available but not used", Warning),
    # Where Slurm is installed: a hint for multi-process jobs; course trainings are one process
    # (helpers.training.single_process_environment), this covers a Trainer built by hand.
    (SRUN_HINT, Warning),
    # Lightning 2.6 on torch 2.14 warns about its own use of a deprecated pytree API.
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", Warning),
)

# Lightning prints start-up banners ("GPU available: False ...", tips) at INFO level.
_CHATTY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning_fabric", "pytorch_lightning")


class _BoltsStabilityPatch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """pl_bolts 0.7.0 calls ``warnings.filterwarnings("once", ...)`` for every feature it marks
    "under review", at import time. Those filters go in front of ours and win, so the module is
    loaded with that one call replaced by a no-op; the warnings themselves are then ignored above.
    """

    target = "pl_bolts.utils.stability"

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self.target:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.__dict__["filterwarnings"] = lambda *args, **kwargs: None


@contextlib.contextmanager
def no_srun_hint() -> Iterator[None]:
    """Silence :data:`SRUN_HINT` for one fit or test, also where a test runner reset the filters."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=SRUN_HINT)
        yield


def quiet_lightning_logs() -> None:
    """Lightning sets its loggers to INFO when it is imported; call again after that import."""
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_filters() -> None:
    """Silence exactly the known-harmless warnings and Lightning's INFO banners."""
    for message, category in _KNOWN_HARMLESS:
        warnings.filterwarnings("ignore", message=message, category=category)
    quiet_lightning_logs()
    if "pl_bolts.utils.stability" not in sys.modules and not any(
        isinstance(finder, _BoltsStabilityPatch) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _BoltsStabilityPatch())
