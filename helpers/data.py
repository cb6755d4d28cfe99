"""The course's synthetic classification data, generated locally and deterministically.

Nothing is downloaded: scikit-learn's ``make_classification`` builds the same 20,000 examples
on every machine, split 14,400 / 1,600 / 4,000 into train / validation / test.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

DATA_SEED = 123
SPLIT_SEED = 1


@dataclass(frozen=True)
class CourseSplits:
    """Features (float32) and labels (int64) of the three splits, as tensors."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def make_course_splits() -> CourseSplits:
    """Generate the course data set and split it exactly as the course does."""
    x, y = make_classification(
        n_samples=20000,
        n_features=100,
        n_informative=10,
        n_redundant=40,
        n_repeated=25,
        n_clusters_per_class=5,
        flip_y=0.05,
        class_sep=0.5,
        random_state=DATA_SEED,
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=SPLIT_SEED, shuffle=True
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=0.1, random_state=SPLIT_SEED, shuffle=True
    )

    def as_tensors(features, labels) -> tuple[torch.Tensor, torch.Tensor]:
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
    """The course data as a ``LightningDataModule`` (batch size 32, shuffled train, drop_last)."""

    def __init__(self, batch_size: int = 32, shuffle_seed: int = 123) -> None:
        super().__init__()
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
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
        """Optimizer steps in one training epoch (450 at batch size 32)."""
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
