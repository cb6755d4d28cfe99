"""Argument checks with one wording, so a misused helper says what it wanted and what it got.

Every message reads ``<name> must be <what>, got <what it got>``. ``bool`` is never a number
here (``True`` is an ``int`` to Python, never an epoch count to a learner), except where text is
read as ``float()`` reads it. Type checks raise ``TypeError`` naming the type received; range
checks raise ``ValueError`` naming the value.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, SupportsFloat, TypeGuard


def is_int(value: object, *, numpy: bool = False) -> TypeGuard[int]:
    """An ``int`` that is not a ``bool`` (with ``numpy=True`` also ``np.int64`` and the like)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, numbers.Integral) if numpy else isinstance(value, int)


def is_number(value: object, *, numpy: bool = False) -> TypeGuard[float]:
    """An ``int`` or ``float`` that is not a ``bool`` (with ``numpy=True`` also numpy scalars)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, numbers.Real) if numpy else isinstance(value, (int, float))


def as_number(value: object) -> float | None:
    """``value`` as a float if it is a number (not a bool), else None: for reading plain data."""
    return float(value) if is_number(value) else None


def finite_float(value: object, *, text: bool = False) -> float | None:
    """A finite float from what learner code gave (an int, a float, a numpy scalar, a one-element
    tensor), else None: a bool, a string, bytes or a complex number is no number, unless ``text=True``,
    which takes what ``float()`` takes, text ("0.1") and bool included, for cells typed into tables.
    Out of float's range (``10**400``) or not real (a complex tensor) gives None too."""
    if not isinstance(value, (SupportsFloat, str)) or (not text and isinstance(value, (bool, str, bytes, complex))):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        return None
    return number if math.isfinite(number) else None


def _fail_type(name: str, value: object, what: str) -> TypeError:
    return TypeError(f"{name} must be {what}, got {type(value).__name__}")


def require_type(name: str, value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is an instance of ``types``; else TypeError ``<name> must be <what>``."""
    if not isinstance(value, types):
        raise _fail_type(name, value, what)
    return value


def require_int(name: str, value: object, *, what: str = "a whole number") -> int:
    """``value`` if it is an int (not a bool); else TypeError."""
    if not is_int(value):
        raise _fail_type(name, value, what)
    return value


def require_number(name: str, value: object, *, what: str = "a number") -> int | float:
    """``value`` if it is an int or float (not a bool); else TypeError."""
    if not is_number(value):
        raise _fail_type(name, value, what)
    return value


def require_bool(name: str, value: object, *, what: str = "True or False") -> bool:
    """``value`` if it is a bool (not 0/1, not a string); else TypeError."""
    if not isinstance(value, bool):
        raise _fail_type(name, value, what)
    return value


def require_at_least(name: str, value: int | float, minimum: int | float, *, what: str | None = None) -> int | float:
    """``value`` if it is at least ``minimum``; else ValueError naming the value."""
    if not value >= minimum:
        raise ValueError(f"{name} must be {what or f'at least {minimum}'}, got {value}")
    return value


def require_positive(name: str, value: int | float, *, what: str = "positive") -> int | float:
    """``value`` if it is greater than 0 (NaN is not); else ValueError naming the value."""
    if not value > 0:
        raise ValueError(f"{name} must be {what}, got {value}")
    return value


def require_whole(name: str, value: object, minimum: int, *, what: str | None = None,
                  maximum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in ``minimum..maximum``; else one ValueError naming
    the value's repr, for arguments where a wrong type and a wrong range get the same advice."""
    if not is_int(value) or value < minimum or (maximum is not None and value > maximum):
        default = f"a whole number >= {minimum}" if maximum is None else f"a whole number in {minimum}..{maximum}"
        raise ValueError(f"{name} must be {what or default}, got {value!r}")
    return value
