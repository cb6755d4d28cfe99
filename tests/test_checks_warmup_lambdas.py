"""Checks of the warmup notebook's lr_lambda blanks: every typical mistake gets its own hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.checks.warmup_lambdas import (
    check_exponential_warmup,
    check_linear_warmup,
    evaluate_exponential_warmup,
    evaluate_linear_warmup,
)

W = 5


def linear(epoch: int) -> float:
    return min((epoch + 1) / W, 1.0)


def exponential(epoch: int) -> float:
    return 1.0 if epoch >= W - 1 else 0.01 ** (1 - epoch / (W - 1))


def failed(report) -> dict[str, str]:
    return {c.name: c.hint for c in report.failed()}


def test_reference_solutions_pass(capsys) -> None:
    assert evaluate_linear_warmup(linear, W).passed
    assert evaluate_exponential_warmup(exponential, W).passed
    check_linear_warmup(linear, W)
    check_exponential_warmup(exponential, W)
    out = capsys.readouterr().out
    assert out.count("— well done") == 2 and "✗" not in out


def test_other_correct_forms_pass() -> None:
    """Returning numpy or tensor numbers, or the other common exponential formula, is fine."""
    assert evaluate_linear_warmup(lambda e: np.float32(min((e + 1) / W, 1.0)), W).passed
    assert evaluate_linear_warmup(lambda e: torch.tensor(min((e + 1) / W, 1.0)), W).passed
    assert evaluate_exponential_warmup(lambda e: min(0.01 ** (1 - (e + 1) / W), 1.0), W).passed


def test_epoch_over_w_pitfall() -> None:
    hints = failed(evaluate_linear_warmup(lambda e: min(e / W, 1.0), W))
    assert "epoch / W makes the first epoch learn nothing" in hints["epoch 0 trains (factor > 0)"]
    assert "reaches 1 only at epoch 5" in hints["reaches 1 at the last warmup epoch (epoch 4)"]


def test_lr_instead_of_factor() -> None:
    hints = failed(evaluate_linear_warmup(lambda e: 0.1 * min((e + 1) / W, 1.0), W))
    assert list(hints) == ["returns a factor, not a learning rate"]
    assert "level off at 0.1 instead of 1" in hints["returns a factor, not a learning rate"]
    assert "returns a factor, not a learning rate" in failed(
        evaluate_exponential_warmup(lambda e: 0.1 * exponential(e), W)
    )


def test_not_reaching_one() -> None:
    hints = failed(evaluate_linear_warmup(lambda e: min((e + 1) / (W + 2), 1.0), W))
    assert "factor at epoch 4 is 0.714286, not 1" in hints["reaches 1 at the last warmup epoch (epoch 4)"]


def test_not_holding_one_afterwards() -> None:
    hints = failed(evaluate_linear_warmup(lambda e: linear(e) if e < W else 0.5, W))
    assert list(hints) == ["holds 1 after the warmup (epochs 5-15)"]
    assert "factor at epoch 5 is 0.5" in hints["holds 1 after the warmup (epochs 5-15)"]


def test_exceeding_one() -> None:
    hints = failed(evaluate_linear_warmup(lambda e: (e + 1) / W, W))
    assert "cap it with min(..., 1.0)" in hints["never exceeds 1"]


def test_non_monotone_warmup() -> None:
    values = [0.2, 0.6, 0.4, 0.8, 1.0]
    hints = failed(evaluate_linear_warmup(lambda e: values[e] if e < W else 1.0, W))
    assert "goes from 0.6 to 0.4 at epoch 2" in hints["rises every warmup epoch"]


def test_no_warmup_at_all() -> None:
    hints = failed(evaluate_linear_warmup(lambda e: 1.0, W))
    assert "already 1" in hints["warmup starts below the full LR"]


def test_exponential_that_is_linear() -> None:
    hints = failed(evaluate_exponential_warmup(linear, W))
    assert list(hints) == ["grows by a constant ratio (exponential)"]
    assert "which is linear warmup" in hints["grows by a constant ratio (exponential)"]


def test_linear_that_is_not_linear() -> None:
    hints = failed(evaluate_linear_warmup(exponential, W))
    assert list(hints) == ["grows in equal steps (linear)"]


def test_unfilled_blank_is_reported_not_raised(capsys) -> None:
    def linear_warmup(epoch: int) -> float:
        raise NotImplementedError("return the factor min((epoch + 1) / WARMUP_EPOCHS, 1.0)")

    check_linear_warmup(linear_warmup, W)
    out = capsys.readouterr().out
    assert "✗ the blank in linear_warmup is filled in — not yet: return the factor min((epoch + 1)" in out  # issue 15 wording
    assert "0/1 passed" in out


@pytest.mark.parametrize(
    ("fn", "fragment"),
    [
        (lambda e: 1 / (e - 2), "linear_warmup(2) raised ZeroDivisionError"),
        (lambda e: "0.2", "returned '0.2' (str)"),
        (lambda e: None, "returned None"),
        (lambda e: float("nan"), "returned nan"),
    ],
)
def test_broken_functions_are_reported(fn, fragment: str) -> None:
    report = evaluate_linear_warmup(fn, W)
    assert not report.passed and fragment in report.hints()[0]


def test_short_warmups_skip_the_shape_criterion() -> None:
    report = evaluate_linear_warmup(lambda e: min((e + 1) / 2, 1.0), 2)
    assert report.passed
    assert any(c.passed is None for c in report.criteria)


def test_misuse_raises() -> None:
    with pytest.raises(TypeError, match="pass your lr_lambda function itself"):
        check_linear_warmup(0.2, W)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="warmup_epochs must be a whole number >= 2"):
        check_exponential_warmup(exponential, 1)
    with pytest.raises(ValueError, match="warmup_epochs"):
        check_linear_warmup(linear, 5.0)  # type: ignore[arg-type]


def test_warmup_demo_is_seeded_and_validates_input() -> None:
    """Short runs (batch 256: 56 steps per epoch), a few seconds in all."""
    from helpers.warmup_demo import compare_warmup, moving_average, train_steps

    first = train_steps(0.02, 1, epochs=2, batch_size=256, seed=7)
    again = train_steps(0.02, 1, epochs=2, batch_size=256, seed=7)
    np.testing.assert_array_equal(first.losses, again.losses)
    np.testing.assert_array_equal(first.val_acc, again.val_acc)
    assert first.steps_per_epoch == 56 and len(first.losses) == 112 and first.epochs == 2
    assert first.lrs[0] == pytest.approx(0.02 / 56)  # warmup counted in batches
    assert first.lrs[55] == pytest.approx(0.02) and first.lrs[-1] == pytest.approx(0.02)
    flat = train_steps(0.02, 0, epochs=1, batch_size=256, seed=7)
    assert np.all(flat.lrs == 0.02) and not flat.diverged
    np.testing.assert_allclose(moving_average(np.array([1.0, 3.0, 5.0]), 2), [1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train_steps(0.05, 0, optimizer="lion")
    with pytest.raises(ValueError, match="warmup_epochs must be a whole number >= 1"):
        compare_warmup(0.05, 0)
    with pytest.raises(ValueError, match="must not exceed epochs"):
        compare_warmup(0.05, 3, epochs=2)


def test_report_names_the_function_checked() -> None:
    def pitfall_warmup(epoch: int) -> float:
        return min(epoch / W, 1.0)

    names = [c.name for c in evaluate_linear_warmup(pitfall_warmup, W).criteria]
    assert names[0] == "pitfall_warmup returns a number for epochs 0-15"
    assert evaluate_linear_warmup(lambda e: linear(e), W).criteria[0].name.startswith("linear_warmup returns")
