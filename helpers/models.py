"""The course's multilayer perceptron."""

from __future__ import annotations

import torch
from torch import nn


class PyTorchMLP(nn.Module):
    """100 -> 100 -> ReLU -> 50 -> ReLU -> classes: small enough to train 100 epochs on a CPU."""

    def __init__(self, num_features: int = 100, num_classes: int = 2) -> None:
        super().__init__()
        for name, value in (("num_features", num_features), ("num_classes", num_classes)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.all_layers = nn.Sequential(
            nn.Linear(num_features, 100),
            nn.ReLU(),
            nn.Linear(100, 50),
            nn.ReLU(),
            nn.Linear(50, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.all_layers(x)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (15,252 for the course MLP)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
