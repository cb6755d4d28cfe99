"""The course MLP: architecture, parameter count, and argument checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models import PyTorchMLP, count_parameters


def test_course_mlp_has_15252_parameters() -> None:
    # (100*100 + 100) + (100*50 + 50) + (50*2 + 2)
    assert count_parameters(PyTorchMLP()) == 15_252


def test_layers_and_output_shape() -> None:
    model = PyTorchMLP()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(100, 100), (100, 50), (50, 2)]
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 2
    assert model(torch.zeros(4, 100)).shape == (4, 2)


def test_other_sizes() -> None:
    model = PyTorchMLP(num_features=3, num_classes=5)
    assert model(torch.zeros(2, 3)).shape == (2, 5)
    assert count_parameters(model) == (3 * 100 + 100) + (100 * 50 + 50) + (50 * 5 + 5)


def test_count_parameters_skips_frozen_ones() -> None:
    model = PyTorchMLP()
    for p in model.all_layers[0].parameters():
        p.requires_grad_(False)
    assert count_parameters(model) == 15_252 - (100 * 100 + 100)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"num_features": 0}, "num_features"), ({"num_classes": -1}, "num_classes"),
     ({"num_classes": 2.0}, "num_classes")],
)
def test_bad_sizes(kwargs, name) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be a positive int, got"):
        PyTorchMLP(**kwargs)
