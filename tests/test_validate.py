"""helpers.validate: one wording for argument checks; bool is never a number."""

import math

import numpy as np
import pytest
import torch

from helpers import validate as v


@pytest.mark.parametrize(
    "value, expected", [(3, True), (True, False), (3.0, False), ("3", False), (np.int64(3), False)]
)
def test_is_int(value, expected):
    assert v.is_int(value) is expected


def test_is_int_numpy_opt_in():
    assert v.is_int(np.int64(3), numpy=True) is True
    assert v.is_int(np.float64(3), numpy=True) is False


@pytest.mark.parametrize("value, expected", [(3, True), (0.5, True), (False, False), (None, False), ("1", False)])
def test_is_number(value, expected):
    assert v.is_number(value) is expected


def test_as_number():
    assert v.as_number(2) == 2.0 and isinstance(v.as_number(2), float)
    assert v.as_number(True) is None and v.as_number("x") is None


class _FloatRaises:
    """An object whose own ``__float__`` fails, as learner code may return."""

    def __float__(self) -> float:
        raise ValueError("no")


# (value, without text, with text=True): a number is read either way; text and bool only with text=True
FINITE_FLOAT_CASES: list[tuple[object, float | None, float | None]] = [
    (2, 2.0, 2.0), (-0.25, -0.25, -0.25), (True, None, 1.0), (False, None, 0.0),
    ("0.1", None, 0.1), (" 3 ", None, 3.0), ("x", None, None), ("nan", None, None), (np.str_("2"), None, 2.0),
    (b"1", None, None), (1j, None, None), (complex(2, 0), None, None), (np.complex128(1 + 2j), None, 1.0),
    (np.float32(0.5), 0.5, 0.5), (np.int64(3), 3.0, 3.0), (np.float64("inf"), None, None),
    (torch.tensor(0.5), 0.5, 0.5), (torch.tensor([0.5]), 0.5, 0.5), (torch.tensor([1.0, 2.0]), None, None),
    (torch.tensor(1 + 1j), None, None), (np.array(1.5), 1.5, 1.5), (np.array([1.0, 2.0]), None, None),
    (math.nan, None, None), (math.inf, None, None), (-math.inf, None, None), (10**400, None, None),
    (2**53 + 1, 2.0**53, 2.0**53), (None, None, None), ([1.0], None, None), (_FloatRaises(), None, None),
]


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("value, number, from_text", FINITE_FLOAT_CASES)
def test_finite_float(value: object, number: float | None, from_text: float | None) -> None:
    for got, expected in ((v.finite_float(value), number), (v.finite_float(value, text=True), from_text)):
        assert got == expected and (got is None or type(got) is float), (value, got, expected)


def test_require_int_rejects_bool_with_the_type_named():
    assert v.require_int("n", 4) == 4
    with pytest.raises(TypeError, match=r"^n must be a whole number, got bool$"):
        v.require_int("n", True)
    with pytest.raises(TypeError, match=r"^n must be a count, got float$"):
        v.require_int("n", 4.0, what="a count")


def test_require_number_and_type_and_bool():
    assert v.require_number("lr", 0.1) == 0.1
    with pytest.raises(TypeError, match=r"^lr must be a number, got str$"):
        v.require_number("lr", "0.1")
    with pytest.raises(TypeError, match=r"^lr must be a number, got bool$"):
        v.require_number("lr", False)
    with pytest.raises(TypeError, match=r"^x must be a list, got tuple$"):
        v.require_type("x", (1,), list, "a list")
    assert v.require_bool("flag", False) is False
    with pytest.raises(TypeError, match=r"^flag must be True or False, got int$"):
        v.require_bool("flag", 1)


def test_range_checks_name_the_value():
    assert v.require_at_least("n", 1, 1) == 1
    with pytest.raises(ValueError, match=r"^n must be at least 1, got 0$"):
        v.require_at_least("n", 0, 1)
    with pytest.raises(ValueError, match=r"^lr must be positive, got nan$"):
        v.require_positive("lr", math.nan)
    with pytest.raises(ValueError, match=r"^lr must be positive, got -1$"):
        v.require_positive("lr", -1)


def test_require_whole_one_value_error_for_type_and_range():
    assert v.require_whole("k", 0, 0) == 0
    with pytest.raises(ValueError, match=r"^k must be a whole number >= 1, got True$"):
        v.require_whole("k", True, 1)
    with pytest.raises(ValueError, match=r"^k must be a whole number in 0\.\.9, got 10$"):
        v.require_whole("k", 10, 0, maximum=9)
    with pytest.raises(ValueError, match=r"^k must be a positive whole number, got '2'$"):
        v.require_whole("k", "2", 1, what="a positive whole number")
