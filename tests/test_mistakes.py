"""helpers.mistakes: each recogniser names its mistake, and only that mistake (held-out variants of
the right answer and of other mistakes get no hint from it)."""

from __future__ import annotations

import math

import pytest

from helpers.mistakes import exponential_exponent_over_w, literal_learning_rate, native_factor_mistake, non_whole_warmup


def factors(f, n=16):
    return [f(e) for e in range(n)]


S = 0.01


@pytest.mark.parametrize("w", [3, 5, 8])
def test_exponent_over_w_is_named_in_both_shapes(w: int) -> None:
    ends_at_w_minus_1 = factors(lambda e: 1.0 if e >= w - 1 else S ** (1 - e / w))
    ends_at_w = factors(lambda e: 1.0 if e >= w else S ** (1 - e / w))
    for values in (ends_at_w_minus_1, ends_at_w):
        hint = exponential_exponent_over_w(values, w)
        assert hint is not None and f"divides the epoch by W ({w})" in hint and f"W - 1 ({w - 1})" in hint
        assert "epoch + 1" not in hint


@pytest.mark.parametrize(
    "f",
    [
        lambda e: 1.0 if e >= 4 else S ** (1 - e / 4),  # right (W = 5)
        lambda e: min((e + 1) / 5, 1.0),  # linear
        lambda e: 1.0 if e >= 4 else 0.02 * 2.1**e,  # some other ratio
        lambda e: 1.0 if e >= 4 else S ** (1 - (e + 1) / 5),  # epoch + 1 shift
    ],
)
def test_exponent_over_w_is_not_claimed_for_other_answers(f) -> None:
    assert exponential_exponent_over_w(factors(f), 5) is None


def named(hint: str | None) -> str:
    """The hint of a recogniser expected to name its mistake (None fails here, not as a TypeError in ``in``)."""
    assert hint is not None
    return hint


def native(m, ramp, progress, base=0.1):
    w = int(0.25 * m)
    return [base * (ramp(e, w) if e < w else 0.5 * (1 + math.cos(math.pi * progress(e, w, m)))) for e in range(m)]


RIGHT_RAMP = lambda e, w: e / max(1, w - 1)  # noqa: E731
RIGHT_PROGRESS = lambda e, w, m: (e - w) / (m - w)  # noqa: E731


@pytest.mark.parametrize("m", [20, 37, 100])
def test_native_cosine_progress_over_m_is_named(m: int) -> None:
    hint = native_factor_mistake(native(m, RIGHT_RAMP, lambda e, w, m: (e - w) / m), m, 0.1)
    assert hint is not None and f"divides by num_epochs (M = {m})" in hint and f"M - W ({m - int(0.25 * m)})" in hint


def test_native_other_named_slips() -> None:
    assert "epoch / M" in named(native_factor_mistake(native(100, RIGHT_RAMP, lambda e, w, m: e / m), 100, 0.1))
    assert "does not subtract the warmup" in named(native_factor_mistake(native(100, RIGHT_RAMP, lambda e, w,
        m: e / (m - w)), 100, 0.1))
    assert "divides by W (25)" in named(native_factor_mistake(native(100, lambda e, w: e / w, RIGHT_PROGRESS), 100,
        0.1))


def test_native_right_or_unknown_answers_get_no_named_mistake() -> None:
    assert native_factor_mistake(native(100, RIGHT_RAMP, RIGHT_PROGRESS), 100, 0.1) is None
    assert native_factor_mistake(native(100, RIGHT_RAMP, RIGHT_PROGRESS, base=0.2), 100, 0.1) is None  # wrong scale
    assert native_factor_mistake([0.1] * 100, 100, 0.1) is None
    assert native_factor_mistake(native(100, RIGHT_RAMP, RIGHT_PROGRESS)[:99], 100, 0.1) is None


def test_non_whole_warmup() -> None:
    assert "warmup_epochs is 9.25" in named(non_whole_warmup(0.25 * 37, 37))
    assert "int(0.25 * num_epochs) = 12" in named(non_whole_warmup(12.5, 50))
    assert non_whole_warmup(25.0, 100) is None and non_whole_warmup(25, 100) is None and non_whole_warmup(None,
        1) is None


def test_literal_learning_rate() -> None:
    hint = literal_learning_rate(0.005, 0.0123, 0.005)
    assert hint is not None and "lr=0.005 (the template's value, typed in)" in hint and "self.learning_rate" in hint
    assert "typed in" not in named(literal_learning_rate(0.01, 0.0123, 0.005))
    assert literal_learning_rate(0.0123, 0.0123, 0.005) is None
