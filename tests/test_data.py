"""The course data: sizes, dtypes, batching, determinism, and no network access."""

from __future__ import annotations

import socket

import pytest
import torch

from helpers.data import (
    DATASET,
    STEPS_PER_EPOCH,
    CourseDataModule,
    TensorBatches,
    batch_loader,
    make_course_arrays,
    make_course_splits,
    split_sizes,
    steps_per_epoch,
)


@pytest.fixture(scope="module")
def splits():
    return make_course_splits()


@pytest.fixture(scope="module")
def datamodule():
    dm = CourseDataModule()
    dm.setup("fit")
    return dm


def test_split_sizes_shapes_and_dtypes(splits) -> None:
    sizes = {name: len(getattr(splits, f"y_{name}")) for name in ("train", "val", "test")}
    assert sizes == {"train": 14_400, "val": 1_600, "test": 4_000}
    for name in ("train", "val", "test"):
        x, y = getattr(splits, f"x_{name}"), getattr(splits, f"y_{name}")
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (sizes[name], 100)
        assert set(y.unique().tolist()) == {0, 1}


def test_splits_are_disjoint(splits) -> None:
    rows = torch.cat([splits.x_train, splits.x_val, splits.x_test])
    assert len(torch.unique(rows, dim=0)) == 20_000


def test_the_recipe_still_gives_the_course_data(splits) -> None:
    """A fingerprint of the data the course's runs were measured on (exact labels per split, the first
    features to 6 decimals): a change to DATASET, SPLITS or the seeds changes every figure, so it
    must be deliberate."""
    assert [int(y.sum()) for y in (splits.y_train, splits.y_val, splits.y_test)] == [7146, 805, 2022]
    first = torch.tensor([0.378610, 4.941832, 2.529858], dtype=torch.float64)
    assert torch.allclose(splits.x_train[0, :3].double(), first, atol=1e-5), splits.x_train[0, :3]


def test_the_published_sizes_follow_from_the_recipe(splits, datamodule) -> None:
    """split_sizes and STEPS_PER_EPOCH (what checks and benchmarks use without generating the data)
    agree with the generated splits and the data module."""
    assert split_sizes() == (len(splits.y_train), len(splits.y_val), len(splits.y_test))
    assert sum(split_sizes()) == DATASET["n_samples"]
    assert STEPS_PER_EPOCH == datamodule.steps_per_epoch == len(datamodule.train_dataloader())
    assert steps_per_epoch(7) == CourseDataModule(batch_size=7).steps_per_epoch
    assert splits.x_train.shape[1] == DATASET["n_features"]
    arrays = make_course_arrays()
    assert torch.equal(torch.as_tensor(arrays[0], dtype=torch.float32), splits.x_train)


def test_generated_without_network(monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("the course data must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    dm = CourseDataModule()
    dm.prepare_data()
    dm.setup("fit")
    assert len(next(iter(dm.train_dataloader()))[0]) == 32


def test_train_loader_450_full_batches_of_32(datamodule) -> None:
    loader = datamodule.train_dataloader()
    assert datamodule.steps_per_epoch == 450
    assert len(loader) == 450
    sizes = [len(y) for _, y in loader]
    assert len(sizes) == 450 and set(sizes) == {32}
    x, y = next(iter(loader))
    assert x.shape == (32, 100) and x.dtype == torch.float32 and y.dtype == torch.int64


def test_train_epoch_visits_every_example_once(datamodule) -> None:
    seen = torch.cat([x for x, _ in datamodule.train_dataloader()])
    assert len(seen) == 14_400
    assert len(torch.unique(seen, dim=0)) == 14_400


def test_train_drops_the_last_partial_batch_but_eval_keeps_it() -> None:
    dm = CourseDataModule(batch_size=7)  # 14,400 = 7 * 2,057 + 1; 1,600 = 7 * 228 + 4
    train_sizes = [len(y) for _, y in dm.train_dataloader()]
    assert len(train_sizes) == 2_057 == dm.steps_per_epoch and set(train_sizes) == {7}
    val_sizes = [len(y) for _, y in dm.val_dataloader()]
    assert len(val_sizes) == 229 and val_sizes[-1] == 4 and sum(val_sizes) == 1_600
    assert sum(len(y) for _, y in dm.test_dataloader()) == 4_000


def test_eval_loaders_are_in_order(datamodule, splits) -> None:
    x, y = next(iter(datamodule.val_dataloader()))
    assert torch.equal(x, splits.x_val[:32]) and torch.equal(y, splits.y_val[:32])
    x, y = next(iter(datamodule.test_dataloader()))
    assert torch.equal(x, splits.x_test[:32])


def test_same_seed_same_first_batch_different_seed_different() -> None:
    def first_batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        torch.manual_seed(seed * 7 + 1)  # the global RNG must not matter
        return next(iter(CourseDataModule(shuffle_seed=seed).train_dataloader()))

    a, b, c = first_batch(123), first_batch(123), first_batch(5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_each_epoch_is_reshuffled(datamodule) -> None:
    """Two passes over one loader (two epochs) draw two different orders, neither the stored one."""
    loader = datamodule.train_dataloader()
    first_epoch, second_epoch = next(iter(loader))[0], next(iter(loader))[0]
    assert not torch.equal(first_epoch, second_epoch)
    assert not torch.equal(first_epoch, datamodule.splits.x_train[:32])


@pytest.mark.parametrize("bad", [0, -32, 1.5, True, "32", None])
def test_bad_batch_size(bad) -> None:
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got"):
        CourseDataModule(batch_size=bad)


def test_tensor_batches_length_mismatch() -> None:
    with pytest.raises(ValueError, match=r"5 feature rows but 4 labels"):
        TensorBatches(torch.zeros(5, 3), torch.zeros(4, dtype=torch.int64))


def test_batch_loader_gathers_whole_batches() -> None:
    x = torch.arange(10, dtype=torch.float32).unsqueeze(1)
    y = torch.arange(10)
    batches = list(batch_loader(x, y, 4, shuffle=False, drop_last=False))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert torch.equal(batches[0][0][:, 0], torch.tensor([0.0, 1.0, 2.0, 3.0]))
