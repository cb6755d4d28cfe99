"""helpers.checks.optimizer_config: every form Lightning accepts, taken apart the same way."""

import pytest
import torch

from helpers.checks.optimizer_config import parse_configure_optimizers


@pytest.fixture
def opt_sched():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, 1)


def test_optimizer_alone(opt_sched):
    opt, _ = opt_sched
    got = parse_configure_optimizers(opt)
    assert (got.form, got.optimizer, got.scheduler, got.scheduler_config) == ("optimizer", opt, None, "missing")


def test_two_lists_with_a_config_dict(opt_sched):
    opt, sched = opt_sched
    got = parse_configure_optimizers(([opt], [{"scheduler": sched, "interval": "step", "frequency": 2}]))
    assert (got.form, got.optimizer, got.scheduler, got.interval, got.frequency) == ("lists", opt, sched, "step", 2)
    empty = parse_configure_optimizers(([], []))
    assert (empty.form, empty.optimizer, empty.scheduler_config) == ("lists", None, "missing")


def test_dict_forms(opt_sched):
    opt, sched = opt_sched
    bare = parse_configure_optimizers({"optimizer": opt, "lr_scheduler": sched})
    assert (bare.form, bare.scheduler_config, bare.scheduler) == ("dict", "bare", sched)
    assert (bare.interval, bare.frequency) == ("epoch", 1)
    config = parse_configure_optimizers({"optimizer": opt, "lr_scheduler": {"interval": "epoch"}})
    assert (config.scheduler_config, config.has_scheduler, config.scheduler) == ("dict", False, None)
    missing = parse_configure_optimizers({"optimizer": opt})
    assert (missing.form, missing.scheduler_config, missing.optimizer) == ("dict", "missing", opt)


def test_sequence_reads_its_first_element(opt_sched):
    opt, sched = opt_sched
    got = parse_configure_optimizers([{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}])
    assert (got.form, got.returned_type) == ("sequence", "list")
    assert (got.optimizer, got.scheduler, got.interval) == (opt, sched, "step")
    assert got.inner is not None and got.inner.form == "dict"


@pytest.mark.parametrize(
    "returned, kind", [(None, "NoneType"), ((), "tuple"), ({"lr_scheduler": 1}, "dict"), (3, "int")]
)
def test_other(returned, kind):
    got = parse_configure_optimizers(returned)
    assert (got.form, got.returned_type, got.optimizer, got.scheduler) == ("other", kind, None, None)
