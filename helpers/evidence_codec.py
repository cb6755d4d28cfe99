"""Typed evidence: what a check's collector returns, and its strict way to and from plain data.

Every check's evidence is a frozen dataclass deriving from :class:`Evidence`. Its fields are
typed with a small vocabulary only (``bool``, ``int``, ``float``, ``str``, ``None`` in a union,
``np.ndarray`` for 1-d numbers, :class:`Tensors` for a state dict, ``tuple[X, ...]``,
``dict[str | int, X]``, ``Literal[...]`` and nested frozen dataclasses), so one codec writes
every kind and validates every kind on load: a judge never sees a field of the wrong type, a
missing or extra key, or a string where a number belongs. Arrays and tensors travel as side
files (:mod:`helpers.evidence`); non-finite floats as the strings ``"nan"``, ``"inf"``, ``"-inf"``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import numpy as np

MAX_TEXT = 2000  # longer strings in evidence are refused: every message a judge quotes is clipped far below
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class EvidenceError(ValueError):
    """Evidence that is missing, garbled, too large or of the wrong shape: the check fails with this message."""


class Tensors(dict):  # str -> torch.Tensor (torch is imported only where weights are)
    """A state dict, written as a ``.pt`` file and loaded back with ``weights_only=True``."""


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Base of a check's evidence. ``KIND`` names it in the written record; ``VERSION`` changes
    whenever a field does, so a grader never reads evidence written for another layout."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def validate(self) -> None:
        """Invariants beyond the fields' types (lengths that must agree, ranges), checked when
        evidence is loaded: raise :class:`EvidenceError` saying which does not hold."""


E = TypeVar("E", bound=Evidence)
Side = Callable[[object], object]  # writes an array or Tensors as a side file, returns its reference


def to_plain(value: object, side: Side) -> object:
    """JSON-ready data: dataclasses as dicts of their fields, arrays and tensors through ``side``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name), side) for f in dataclasses.fields(value)}
    if isinstance(value, (np.ndarray, Tensors)):
        return side(value)
    if isinstance(value, Mapping):
        return {str(k): to_plain(v, side) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, side) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


Load = Callable[[type, object], object]  # (np.ndarray or Tensors, the side-file reference) -> the loaded value


def from_plain(cls: type[E], data: object, load: Load) -> E:
    """``cls`` rebuilt from plain data, every field checked against its annotation, then validated."""
    evidence = typing.cast(E, _decode(cls, data, load, cls.__name__))
    evidence.validate()
    return evidence


def from_record(cls: type[E], call: Mapping[str, object], load: Load) -> E:
    """The evidence of one recorded call (``kind``, ``version``, ``data``), refused unless it was
    written as this very class and version."""
    if call.get("kind") != cls.KIND or call.get("version") != cls.VERSION:
        raise EvidenceError(f"it was not written as {cls.KIND!r} version {cls.VERSION}")
    return from_plain(cls, call.get("data"), load)


def check_field(cls: type, name: str, value: object) -> object:
    """``value`` validated as field ``name`` of ``cls`` (for values the grader substitutes)."""
    return _decode(get_type_hints(cls)[name], value, _no_side_files, f"{cls.__name__}.{name}")


def _no_side_files(kind: type, reference: object) -> object:
    raise EvidenceError(f"a {kind.__name__} cannot be given here")


def _decode(hint: object, value: object, load: Load, where: str) -> object:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _decode_union(get_args(hint), value, load, where)
    if origin is Literal:
        if value in get_args(hint):
            return value
        raise EvidenceError(f"{where} is {str(value)[:40]!r}, not one of {get_args(hint)}")
    if origin is tuple:
        return _decode_tuple(get_args(hint), value, load, where)
    if origin in (dict, Mapping, typing.Mapping):
        return _decode_dict(get_args(hint), value, load, where)
    if hint is type(None):
        if value is None:
            return None
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, value, load, where)
    elif hint in (np.ndarray, Tensors):
        return load(typing.cast(type, hint), value)
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value in _NON_FINITE:
            return _NON_FINITE[value]
    elif hint is str:
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return value
    else:
        raise TypeError(f"{where}: evidence fields cannot be typed {hint!r}")
    raise EvidenceError(f"{where} should be {getattr(hint, '__name__', hint)}, not {type(value).__name__}")


def _decode_union(options: tuple[object, ...], value: object, load: Load, where: str) -> object:
    if value is None and type(None) in options:
        return None
    errors = []
    for option in (o for o in options if o is not type(None)):
        try:
            return _decode(option, value, load, where)
        except EvidenceError as exc:
            errors.append(str(exc))
    raise EvidenceError(errors[0] if len(errors) == 1 else f"{where} has none of its allowed types")


def _decode_tuple(args: tuple[object, ...], value: object, load: Load, where: str) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise EvidenceError(f"{where} should be a list, not {type(value).__name__}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], v, load, f"{where}[{i}]") for i, v in enumerate(value))
    if len(args) != len(value):
        raise EvidenceError(f"{where} should have {len(args)} items, not {len(value)}")
    return tuple(_decode(a, v, load, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))


def _decode_dict(args: tuple[object, ...], value: object, load: Load, where: str) -> dict[object, object]:
    if not isinstance(value, dict):
        raise EvidenceError(f"{where} should be a mapping, not {type(value).__name__}")
    key_type, value_type = args
    decoded: dict[object, object] = {}
    for key, item in value.items():
        if key_type is int:
            if not (isinstance(key, str) and key.lstrip("-").isdigit() and len(key) < 12):
                raise EvidenceError(f"{where} has the key {str(key)[:20]!r}, not a whole number")
            key = int(key)
        decoded[key] = _decode(value_type, item, load, f"{where}[{key!r}]")
    return decoded


def _decode_dataclass(cls: type, value: object, load: Load, where: str) -> object:
    if not isinstance(value, dict):
        raise EvidenceError(f"{where} should be a mapping, not {type(value).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    extra = set(value) - set(fields)
    if extra:
        raise EvidenceError(f"{where} has unknown fields: {', '.join(sorted(str(k)[:30] for k in extra)[:5])}")
    hints = get_type_hints(cls)
    given = {}
    for name, field in fields.items():
        if name in value:
            given[name] = _decode(hints[name], value[name], load, f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise EvidenceError(f"{where} lacks the field {name!r}")
    return cls(**given)
