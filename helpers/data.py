"""The course's synthetic classification data, generated locally and deterministically.

Nothing is downloaded: scikit-learn's ``make_classification`` builds the same 20,000 examples
on every machine, split 14,400 / 1,600 / 4,000 into train / validation / test.

This module is the one home of the data set's recipe (:data:`DATASET`, :data:`SPLITS`), of its
split sizes and of the optimizer steps per epoch they give (:data:`STEPS_PER_EPOCH`): the data
module, the checks, the benchmarks and the tests all read them here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lightning as L
import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from helpers.validate import is_int

DATA_SEED = 123
SPLIT_SEED = 1
# The arguments of sklearn's make_classification that define the course data.
DATASET: dict[str, Any] = {
    "n_samples": 20000,
    "n_features": 100,
    "n_informative": 10,
    "n_redundant": 40,
    "n_repeated": 25,
    "n_clusters_per_class": 5,
    "flip_y": 0.05,
    "class_sep": 0.5,
    "random_state": DATA_SEED,
}
NUM_CLASSES = 2  # make_classification's default n_classes
# Test share of all examples, then validation share of what remains (train_test_split's test_size).
SPLITS = {"test": 0.2, "val": 0.1}
BATCH_SIZE = 32


def split_sizes() -> tuple[int, int, int]:
    """(train, validation, test) example counts, by train_test_split's rule (test part rounded up)."""
    n = DATASET["n_samples"]
    test = math.ceil(SPLITS["test"] * n)
    val = math.ceil(SPLITS["val"] * (n - test))
    return n - test - val, val, test


def steps_per_epoch(batch_size: int = BATCH_SIZE) -> int:
    """Optimizer steps in one training epoch at ``batch_size`` (the last partial batch is dropped)."""
    return split_sizes()[0] // batch_size


STEPS_PER_EPOCH = steps_per_epoch()  # 450: 14,400 training examples in batches of 32


@dataclass(frozen=True)
class CourseSplits:
    """Features (float32) and labels (int64) of the three splits, as tensors."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def make_course_arrays() -> tuple[np.ndarray, ...]:
    """``x_train, x_val, x_test, y_train, y_val, y_test`` as NumPy arrays, split as the course does."""
    x, y = make_classification(**DATASET)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=SPLITS["test"], random_state=SPLIT_SEED, shuffle=True
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=SPLITS["val"], random_state=SPLIT_SEED, shuffle=True
    )
    return x_train, x_val, x_test, y_train, y_val, y_test


def make_course_splits() -> CourseSplits:
    """Generate the course data set and split it exactly as the course does."""
    x_train, x_val, x_test, y_train, y_val, y_test = make_course_arrays()

    def as_tensors(features: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.as_tensor(features, dtype=torch.float32), torch.as_tensor(labels, dtype=torch.int64)

    return CourseSplits(*as_tensors(x_train, y_train), *as_tensors(x_val, y_val), *as_tensors(x_test, y_test))


class TensorBatches(Dataset):
    """A dataset indexed by a whole list of positions, so one batch is one tensor gather.

    The usual ``TensorDataset`` + default collate fetches 32 single rows and stacks them,
    which costs more than the MLP's forward pass on this data.
    """

    def __init__(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        if len(features) != len(labels):
            raise ValueError(f"{len(features)} feature rows but {len(labels)} labels")
        self.features = features
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(indices)
        return self.features[index], self.labels[index]


def batch_loader(
    features: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    drop_last: bool,
    generator: torch.Generator | None = None,
) -> DataLoader:
    """A ``DataLoader`` whose sampler yields whole batches of indices."""
    data = TensorBatches(features, labels)
    order = RandomSampler(data, generator=generator) if shuffle else SequentialSampler(data)
    return DataLoader(data, batch_size=None, sampler=BatchSampler(order, batch_size, drop_last=drop_last))


class CourseDataModule(L.LightningDataModule):
    """The course data as a ``LightningDataModule`` (batch size :data:`BATCH_SIZE`, shuffled train,
    drop_last)."""

    def __init__(self, batch_size: int = BATCH_SIZE, shuffle_seed: int = DATA_SEED) -> None:
        super().__init__()
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = batch_size
        self.shuffle_seed = shuffle_seed
        self.splits: CourseSplits | None = None

    def prepare_data(self) -> None:
        """Nothing to download: the data is generated in :meth:`setup`."""

    def setup(self, stage: str | None = None) -> None:
        if self.splits is None:
            self.splits = make_course_splits()

    def _splits(self) -> CourseSplits:
        self.setup()
        assert self.splits is not None
        return self.splits

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in one training epoch (:data:`STEPS_PER_EPOCH` at :data:`BATCH_SIZE`)."""
        return len(self._splits().y_train) // self.batch_size

    def train_dataloader(self) -> DataLoader:
        s = self._splits()
        generator = torch.Generator().manual_seed(self.shuffle_seed)
        return batch_loader(s.x_train, s.y_train, self.batch_size, shuffle=True, drop_last=True, generator=generator)

    def val_dataloader(self) -> DataLoader:
        s = self._splits()
        return batch_loader(s.x_val, s.y_val, self.batch_size, shuffle=False, drop_last=False)

    def test_dataloader(self) -> DataLoader:
        s = self._splits()
        return batch_loader(s.x_test, s.y_test, self.batch_size, shuffle=False, drop_last=False)
