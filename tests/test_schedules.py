"""The LR recorder and the warmup-cosine closed form, against torch and pl_bolts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, ReduceLROnPlateau, SequentialLR

from helpers.schedules import LRCurve, record_lr, warmup_cosine_lr


def cosine_closed_form(t: int, *, base: float, eta_min: float, T: int) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2


def test_per_epoch_cosine_matches_closed_form() -> None:
    curve = record_lr(lambda opt: CosineAnnealingLR(opt, T_max=30, eta_min=0.001), 30, base_lr=0.05)
    expected = [cosine_closed_form(t, base=0.05, eta_min=0.001, T=30) for t in range(30)]
    assert curve.interval == "epoch" and curve.steps_per_epoch == 1 and curve.epochs == 30
    np.testing.assert_allclose(curve.per_step, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.per_epoch, expected, rtol=0, atol=1e-12)


def test_per_step_cosine_matches_closed_form() -> None:
    curve = record_lr(lambda opt: CosineAnnealingLR(opt, T_max=40), 8, steps_per_epoch=5, interval="step")
    expected = [cosine_closed_form(t, base=0.1, eta_min=0.0, T=40) for t in range(40)]
    assert len(curve.per_step) == 40 and curve.epochs == 8
    np.testing.assert_allclose(curve.per_step, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.per_epoch, expected[::5], rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.epoch_axis[:6], [0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_epoch_interval_holds_lr_within_an_epoch() -> None:
    factory = lambda opt: CosineAnnealingLR(opt, T_max=6)  # noqa: E731
    by_epoch = record_lr(factory, 6)
    with_steps = record_lr(factory, 6, steps_per_epoch=4, interval="epoch")
    assert with_steps.per_step.reshape(6, 4).std(axis=1).max() == 0.0
    np.testing.assert_array_equal(with_steps.per_epoch, by_epoch.per_epoch)
    # Stepped per batch instead, the same scheduler finishes its cosine 4x sooner.
    by_step = record_lr(factory, 6, steps_per_epoch=4, interval="step")
    assert by_step.per_step[6] == pytest.approx(0.0, abs=1e-12)
    assert not np.array_equal(by_step.per_step, with_steps.per_step)


def test_lambda_and_sequential_schedulers_record_quietly() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        halving = record_lr(lambda opt: LambdaLR(opt, lambda e: 0.5**e), 4, base_lr=0.8)
        chained = record_lr(
            lambda opt: SequentialLR(
                opt, [LinearLR(opt, 0.1, 1.0, total_iters=3), CosineAnnealingLR(opt, T_max=5)], milestones=[3]
            ),
            8,
        )
    assert [str(w.message) for w in caught] == []
    np.testing.assert_allclose(halving.per_epoch, [0.8, 0.4, 0.2, 0.1])
    np.testing.assert_allclose(chained.per_epoch[:4], [0.01, 0.04, 0.07, 0.1], atol=1e-12)
    assert chained.per_epoch[3:].argmax() == 0  # the cosine part only decays


def test_curve_repr_is_a_summary() -> None:
    curve = record_lr(lambda opt: CosineAnnealingLR(opt, T_max=10), 10)
    assert repr(curve) == "LRCurve(10 epochs x 1 steps, interval='epoch', first=0.1, max=0.1, last=0.002447)"


@pytest.mark.parametrize(
    "warmup, max_epochs, start, eta_min",
    [(25, 100, 0.0, 0.0), (1, 10, 0.0, 0.0), (5, 20, 0.01, 0.001), (10, 11, 0.0, 0.0), (2, 3, 0.05, 0.0)],
)
def test_warmup_cosine_lr_matches_pl_bolts_every_epoch(warmup, max_epochs, start, eta_min) -> None:
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    curve = record_lr(
        lambda opt: LinearWarmupCosineAnnealingLR(
            opt, warmup_epochs=warmup, max_epochs=max_epochs, warmup_start_lr=start, eta_min=eta_min
        ),
        max_epochs + 1,
    )
    ours = [
        warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=warmup, max_epochs=max_epochs, warmup_start_lr=start,
                         eta_min=eta_min)
        for e in range(max_epochs + 1)
    ]
    assert np.max(np.abs(curve.per_epoch - np.array(ours))) < 1e-12


def test_warmup_cosine_lr_landmarks() -> None:
    lr = lambda e: warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=25, max_epochs=100)  # noqa: E731
    assert lr(0) == 0.0
    assert lr(24) == pytest.approx(0.1) and lr(25) == pytest.approx(0.1)  # pl_bolts divides by W-1
    assert lr(12) == pytest.approx(0.1 * 12 / 24)
    assert lr(100) == pytest.approx(0.0, abs=1e-15)
    assert lr(62) == pytest.approx(0.05 * (1 + math.cos(math.pi * 37 / 75)))


def test_pl_bolts_without_warmup_stays_at_warmup_start_lr() -> None:
    """Upstream trap (pl_bolts 0.7.0): warmup_epochs=0 never leaves warmup_start_lr (default 0).

    warmup_cosine_lr documents this; if pl_bolts ever fixes it, this test says so.
    """
    from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR

    curve = record_lr(lambda opt: LinearWarmupCosineAnnealingLR(opt, warmup_epochs=0, max_epochs=10), 10)
    assert np.all(curve.per_epoch == 0.0)
    assert warmup_cosine_lr(0, base_lr=0.1, warmup_epochs=0, max_epochs=10) == pytest.approx(0.1)


# --- bad arguments -------------------------------------------------------------------------

def cosine10(opt):
    return CosineAnnealingLR(opt, T_max=10)


@pytest.mark.parametrize("epochs", [0, -5, 2.5, True, "10"])
def test_record_lr_bad_epochs(epochs) -> None:
    with pytest.raises(ValueError, match=r"epochs must be a positive whole number, got"):
        record_lr(cosine10, epochs)


@pytest.mark.parametrize("steps", [0, -1, 1.0])
def test_record_lr_bad_steps_per_epoch(steps) -> None:
    with pytest.raises(ValueError, match=r"steps_per_epoch must be a positive whole number, got"):
        record_lr(cosine10, 10, steps_per_epoch=steps)


@pytest.mark.parametrize("interval", ["batch", "Epoch", "", None])
def test_record_lr_unknown_interval(interval) -> None:
    with pytest.raises(ValueError, match=r"interval must be one of \('epoch', 'step'\), got"):
        record_lr(cosine10, 10, interval=interval)


@pytest.mark.parametrize("base_lr", [0, -0.1, "0.1"])
def test_record_lr_bad_base_lr(base_lr) -> None:
    with pytest.raises(ValueError, match=r"base_lr must be a positive number, got"):
        record_lr(cosine10, 10, base_lr=base_lr)


def test_record_lr_needs_a_callable_factory() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    expected = r"scheduler_factory must be a function taking an optimizer.*got CosineAnnealingLR"
    with pytest.raises(TypeError, match=expected):
        record_lr(CosineAnnealingLR(optimizer, T_max=10), 10)  # type: ignore[arg-type]  # the wrong type is the point


def test_record_lr_rejects_reduce_on_plateau() -> None:
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau depends on a monitored metric"):
        record_lr(lambda opt: ReduceLROnPlateau(opt), 10)


def test_record_lr_rejects_a_factory_returning_no_scheduler() -> None:
    with pytest.raises(TypeError, match=r"scheduler_factory returned int, which has no step\(\) method"):
        record_lr(lambda opt: 3, 10)


def test_lrcurve_is_what_record_lr_returns() -> None:
    assert isinstance(record_lr(cosine10, 2), LRCurve)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(warmup_epochs=10, max_epochs=10), r"warmup_epochs \(10\) must be shorter than max_epochs \(10\)"),
        (dict(warmup_epochs=12, max_epochs=10), r"warmup_epochs \(12\) must be shorter than max_epochs \(10\)"),
        (dict(warmup_epochs=-1, max_epochs=10), r"warmup_epochs must be a whole number >= 0, got -1"),
        (dict(warmup_epochs=2.5, max_epochs=10), r"warmup_epochs must be a whole number >= 0, got 2.5"),
        (dict(warmup_epochs=2, max_epochs=0), r"max_epochs must be a positive whole number, got 0"),
        (dict(warmup_epochs=2, max_epochs=-10), r"max_epochs must be a positive whole number, got -10"),
        (dict(warmup_epochs=2, max_epochs=10.0), r"max_epochs must be a positive whole number, got 10.0"),
    ],
)
def test_warmup_cosine_lr_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        warmup_cosine_lr(3, base_lr=0.1, **kwargs)


@pytest.mark.parametrize("epoch", [-1, 1.5, None])
def test_warmup_cosine_lr_bad_epoch(epoch) -> None:
    with pytest.raises(ValueError, match=r"epoch must be a whole number >= 0, got"):
        warmup_cosine_lr(epoch, base_lr=0.1, warmup_epochs=2, max_epochs=10)
