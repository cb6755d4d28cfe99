"""The grader's own measure of trained weights: the course MLP loaded from a state dict and scored
on the course data, so no accuracy a learner's kernel reports has to be believed."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from helpers.data import CourseSplits


@lru_cache(maxsize=1)
def _splits() -> CourseSplits:
    from helpers.data import make_course_splits

    return make_course_splits()


def course_accuracy(weights: Mapping[str, torch.Tensor], split: str) -> float:
    """Accuracy of the course MLP with ``weights`` (a ClassifierModule's state dict) on the course
    data's ``split`` ("val" or "test"); ValueError when they are not the course MLP's weights."""
    from helpers.models import PyTorchMLP

    mlp = PyTorchMLP()
    inner = {k[len("model."):]: v for k, v in weights.items() if k.startswith("model.")}
    try:
        mlp.load_state_dict(inner, strict=True)
    except (RuntimeError, KeyError) as exc:
        raise ValueError(f"not the course MLP's weights ({str(exc).splitlines()[0][:160]})") from None
    splits = _splits()
    x, y = getattr(splits, f"x_{split}"), getattr(splits, f"y_{split}")
    mlp.eval()
    with torch.no_grad():
        return float((mlp(x.float()).argmax(dim=1) == y).float().mean())
