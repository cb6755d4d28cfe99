"""What a LightningModule's ``configure_optimizers`` returned, read once for every check.

Lightning accepts, for one optimizer: the optimizer alone; ``([optimizers], [schedulers])``;
a dict ``{"optimizer": ..., "lr_scheduler": ...}`` whose scheduler is bare or a config dict
``{"scheduler": ..., "interval": ..., "frequency": ...}``; or a list/tuple holding one of these.
The checks differ in which forms they accept (Exercise 1 insists on the config dict), so this
module only says which form it is and where the optimizer, scheduler, interval and frequency are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

FORMS = ("optimizer", "lists", "dict", "sequence", "other")
SCHEDULER_CONFIGS = ("missing", "bare", "dict")


@dataclass(frozen=True)
class OptimizerConfig:
    """One ``configure_optimizers`` result, taken apart.

    ``form``: ``"optimizer"`` (an Optimizer alone), ``"lists"`` (two lists/tuples), ``"dict"`` (a
    dict with an ``"optimizer"`` key), ``"sequence"`` (another non-empty list/tuple: the fields
    come from its first element, ``inner`` is that element's own parse), ``"other"`` (anything
    else, ``returned_type`` names it). ``scheduler_config``: whether the scheduler was absent,
    bare, or a config dict (then ``has_scheduler`` says whether it had the ``"scheduler"`` key).
    ``interval``/``frequency`` are as written (Lightning's defaults ``"epoch"``/``1`` when absent).
    """

    form: str
    returned_type: str
    optimizer: Any = None
    scheduler: Any = None
    scheduler_config: str = "missing"
    has_scheduler: bool = False
    interval: Any = "epoch"
    frequency: Any = 1
    inner: OptimizerConfig | None = None


def _scheduler_fields(config: Any) -> dict[str, Any]:
    """The scheduler, its kind of config, interval and frequency from an ``lr_scheduler`` value."""
    if config is None:
        return {"scheduler_config": "missing"}
    if isinstance(config, dict):
        return {"scheduler_config": "dict", "has_scheduler": "scheduler" in config,
                "scheduler": config.get("scheduler"), "interval": config.get("interval", "epoch"),
                "frequency": config.get("frequency", 1)}
    return {"scheduler_config": "bare", "has_scheduler": True, "scheduler": config}


def parse_configure_optimizers(returned: Any) -> OptimizerConfig:
    """Take apart what ``configure_optimizers`` returned (never raises)."""
    kind = type(returned).__name__
    if isinstance(returned, torch.optim.Optimizer):
        return OptimizerConfig("optimizer", kind, optimizer=returned)
    sequence = isinstance(returned, (list, tuple))
    if sequence and len(returned) == 2 and all(isinstance(part, (list, tuple)) for part in returned):
        optimizers, schedulers = returned
        return OptimizerConfig("lists", kind, optimizer=optimizers[0] if optimizers else None,
                               **_scheduler_fields(schedulers[0] if schedulers else None))
    if isinstance(returned, dict) and "optimizer" in returned:
        return OptimizerConfig("dict", kind, optimizer=returned["optimizer"],
                               **_scheduler_fields(returned.get("lr_scheduler")))
    if sequence and returned:
        inner = parse_configure_optimizers(returned[0])
        return replace(inner, form="sequence", returned_type=kind, inner=inner)
    return OptimizerConfig("other", kind)
