"""The closed forms the widget draws agree with the real torch / pl_bolts schedulers, recorded."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

import helpers  # noqa: F401  (installs the kit's warning filters before pl_bolts is imported)
from helpers.schedule_families import (
    FAMILIES,
    ScheduleConfig,
    closed_form_curve,
    closed_form_values,
    recorded_curve,
)
from helpers.schedules import record_lr, warmup_cosine_lr

small_config = partial(ScheduleConfig, total_epochs=30, steps_per_epoch=5, warmup_start_lr=0.002, eta_min=0.001,
                       step_size=7, gamma=0.5)


# linear warmup + cosine with 0 warmup epochs is rejected by validation (see IMPOSSIBLE below).
CASES = [
    (family, interval, warmup)
    for family in FAMILIES
    for interval in ("epoch", "step")
    for warmup in (0, 1, 2, 8)
    if not (family == "linear_warmup_cosine" and warmup == 0)
]


@pytest.mark.parametrize(("family", "interval", "warmup"), CASES)
def test_closed_form_equals_recorded_scheduler(family: str, interval: str, warmup: int) -> None:
    config = small_config(family=family, warmup_epochs=warmup, interval=interval)
    drawn, recorded = closed_form_curve(config), recorded_curve(config)
    assert drawn.steps_per_epoch == recorded.steps_per_epoch == (5 if interval == "step" else 1)
    assert drawn.interval == recorded.interval == interval
    assert drawn.per_step.shape == recorded.per_step.shape == (30 * drawn.steps_per_epoch,)
    np.testing.assert_allclose(drawn.per_step, recorded.per_step, rtol=0, atol=1e-12)


def test_linear_warmup_cosine_is_pl_bolts_per_epoch_and_the_course_formula() -> None:
    config = ScheduleConfig(family="linear_warmup_cosine", warmup_epochs=10, total_epochs=100, base_lr=0.1)
    bolts = record_lr(lambda opt: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=10, max_epochs=100), 100,
                      base_lr=0.1)
    drawn = closed_form_values(config)
    np.testing.assert_allclose(drawn, bolts.per_step, rtol=0, atol=1e-12)
    formula = [warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=10, max_epochs=100) for e in range(100)]
    np.testing.assert_allclose(drawn, formula, rtol=0, atol=1e-12)
    # pl_bolts divides the ramp by W - 1: the peak is reached one epoch before the cosine starts.
    assert drawn[9] == pytest.approx(0.1) and drawn[10] == pytest.approx(0.1) and drawn[8] < 0.1


def test_linear_warmup_cosine_per_step_at_course_steps_per_epoch() -> None:
    config = ScheduleConfig(family="linear_warmup_cosine", warmup_epochs=1, total_epochs=3, interval="step",
                            steps_per_epoch=450)
    bolts = record_lr(
        lambda opt: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=450, max_epochs=1350),
        3,
        steps_per_epoch=450,
        interval="step",
    )
    np.testing.assert_allclose(closed_form_values(config), bolts.per_step, rtol=0, atol=1e-12)


def test_cosine_only_is_cosine_annealing_lr() -> None:
    config = ScheduleConfig(family="cosine", total_epochs=50, eta_min=0.01, warmup_epochs=99)  # warmup ignored
    torch_curve = record_lr(lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50, eta_min=0.01), 50)
    np.testing.assert_allclose(closed_form_values(config), torch_curve.per_step, rtol=0, atol=1e-12)


def test_exponential_warmup_multiplies_by_a_constant_factor() -> None:
    config = ScheduleConfig(family="exp_warmup_cosine", base_lr=0.1, warmup_start_lr=0.001, warmup_epochs=4,
                            total_epochs=20)
    values = closed_form_values(config)
    np.testing.assert_allclose(values[1:5] / values[:4], np.full(4, 100 ** 0.25))
    assert values[0] == pytest.approx(0.001) and values[4] == pytest.approx(0.1)


def test_step_decay_counts_from_the_end_of_warmup() -> None:
    config = ScheduleConfig(family="step", base_lr=0.1, warmup_epochs=2, total_epochs=12, step_size=4, gamma=0.5)
    np.testing.assert_allclose(
        closed_form_values(config), [0.0, 0.05, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025]
    )


def test_constant_after_warmup() -> None:
    config = ScheduleConfig(family="constant", base_lr=0.2, warmup_epochs=4, total_epochs=8, warmup_start_lr=0.0)
    np.testing.assert_allclose(closed_form_values(config), [0.0, 0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.2])


def test_warmup_zero_is_allowed_where_it_means_no_warmup() -> None:
    for family in ("exp_warmup_cosine", "constant", "step"):
        assert not ScheduleConfig(family=family, warmup_epochs=0).has_warmup
    np.testing.assert_allclose(
        closed_form_values(ScheduleConfig(family="exp_warmup_cosine", warmup_epochs=0, total_epochs=20)),
        closed_form_values(ScheduleConfig(family="cosine", total_epochs=20)),
    )


def test_eta_min_equal_to_base_lr_is_a_flat_line() -> None:
    values = closed_form_values(ScheduleConfig(family="cosine", base_lr=0.05, eta_min=0.05, total_epochs=10))
    np.testing.assert_allclose(values, np.full(10, 0.05))


IMPOSSIBLE = [
    ({"warmup_epochs": 100, "total_epochs": 100},
     r"warmup \(100 epochs\) must end before training does \(100 epochs\)"),
    ({"warmup_epochs": 120, "total_epochs": 100}, r"must end before training does"),
    ({"family": "constant", "warmup_epochs": 5, "total_epochs": 5}, r"must end before training does"),
    ({"base_lr": -0.1}, r"base LR must be positive, got -0.1"),
    ({"base_lr": 0.0}, r"base LR must be positive"),
    ({"eta_min": 0.2, "base_lr": 0.1}, r"eta_min \(0.2\) is above the base LR \(0.1\)"),
    ({"family": "cosine", "eta_min": -0.001}, r"eta_min must be 0 or more"),
    ({"warmup_start_lr": -0.01}, r"warmup start LR must be 0 or more"),
    ({"warmup_start_lr": 0.5, "base_lr": 0.1}, r"warmup start LR \(0.5\) is above the base LR \(0.1\)"),
    ({"family": "exp_warmup_cosine", "warmup_start_lr": 0.0}, r"exponential warmup cannot start at LR 0"),
    ({"family": "linear_warmup_cosine", "warmup_epochs": 0}, r"needs at least 1 warmup epoch"),
    ({"family": "step", "gamma": 1.5}, r"gamma .* must be in \(0, 1\]"),
    ({"family": "step", "gamma": 0.0}, r"gamma .* must be in \(0, 1\]"),
    ({"family": "step", "step_size": 0}, r"step size .* at least 1"),
    ({"total_epochs": 0}, r"total_epochs must be a whole number of at least 1"),
    ({"steps_per_epoch": 2.5}, r"steps_per_epoch must be a whole number"),
    ({"warmup_epochs": 2.5}, r"warmup epochs must be a whole number"),
    ({"base_lr": float("nan")}, r"base_lr must be a finite number"),
    ({"family": "linear"}, r"family must be one of"),
    ({"interval": "batch"}, r"interval must be 'epoch'"),
]


@pytest.mark.parametrize(("settings", "message"), IMPOSSIBLE)
def test_impossible_settings_raise_a_clear_value_error(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScheduleConfig(**settings)


def test_settings_a_family_ignores_are_not_validated() -> None:
    # eta_min has no meaning after a constant or step schedule, warmup none for cosine only.
    constant = closed_form_values(ScheduleConfig(family="constant", eta_min=5.0, base_lr=0.1, warmup_epochs=0))
    assert np.allclose(constant, 0.1)  # eta_min plays no part
    cosine = closed_form_values(ScheduleConfig(family="cosine", warmup_epochs=500, warmup_start_lr=-1.0,
                                               total_epochs=10))
    assert len(cosine) == 10 and cosine[0] == pytest.approx(0.1)  # no warmup: starts at the base LR
