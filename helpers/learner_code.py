"""When a helper calls learner code that returns ``None`` (a forgotten ``return``), say so in one ✗ line.

A helper that records a learner's scheduler would otherwise fail deep inside torch with
"unsupported operand type(s) for *: 'float' and 'NoneType'" or "NoneType has no step()". Raising
:class:`MissingReturn` instead names the function; in IPython it is shown as that one ✗ line (its
``_render_traceback_``) rather than a traceback through helper code, and helpers that can carry on
(``helpers.plots.lr_curve``) print the line and continue so the check cell below can report.
"""

from __future__ import annotations

import types

from helpers.checks.report import FAIL  # the line reads like a failed criterion of the check cell below


class MissingReturn(TypeError):
    """Learner code returned ``None`` where a helper needed a value."""

    def __init__(self, what: str, needed: str = "a scheduler") -> None:
        super().__init__(f"{what} returned None instead of {needed}: is its return line missing?")

    def line(self) -> str:
        return f"{FAIL} {self}"

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [self.line()]


def _cell_function(cell: object) -> types.FunctionType | None:
    """The named function held in a closure cell, if any (empty cells raise ValueError)."""
    try:
        value = cell.cell_contents  # type: ignore[attr-defined]
    except ValueError:
        return None
    return value if isinstance(value, types.FunctionType) and value.__name__.isidentifier() else None


def learner_functions(function: object) -> list[str]:
    """Names of the plain functions a (lambda) factory calls or closes over, e.g.
    ``lambda optimizer: make_warmup_scheduler(optimizer, n)`` -> ``["make_warmup_scheduler"]``."""
    code, scope = getattr(function, "__code__", None), getattr(function, "__globals__", {})
    names = [n for n in (code.co_names if code else ()) if isinstance(scope.get(n), types.FunctionType)]
    for value in map(_cell_function, getattr(function, "__closure__", None) or ()):
        if value is not None and value.__name__ not in names:
            names.append(value.__name__)
    return names


def describe(function: object, default: str = "your scheduler function") -> str:
    """A readable name for learner code: its own name, or the one function a lambda wraps."""
    name = getattr(function, "__name__", "")
    if name.isidentifier():
        return name
    called = learner_functions(function)
    return called[0] if len(called) == 1 else default


def describe_factor(function: object) -> str:
    """Who returned None inside a scheduler: usually the factor function given to ``LambdaLR``.

    A one-argument function the factory uses is taken for the factor itself
    (``lambda_schedule(linear_warmup)``); a function that builds the scheduler is where the factor
    lives (``... inside make_native_scheduler``).
    """
    scope = getattr(function, "__globals__", {})
    used = [_cell_function(cell) for cell in getattr(function, "__closure__", None) or ()]
    used += [scope[name] for name in learner_functions(function) if name in scope]
    functions = list(dict.fromkeys(f for f in used if f is not None))
    factors = [f.__name__ for f in functions if f.__code__.co_argcount == 1]
    if factors:
        return f"the LR factor function ({' or '.join(factors)})"
    if functions:
        return f"the LR factor function inside {' or '.join(f.__name__ for f in functions)}"
    own = getattr(function, "__name__", "")
    return f"the LR factor function inside {own}" if own.isidentifier() else "the LR factor function (the lr_lambda)"


def is_none_arithmetic(error: BaseException) -> bool:
    """torch's error when a factor function (``lr_lambda``) returned None."""
    return isinstance(error, TypeError) and not isinstance(error, MissingReturn) and "'NoneType'" in str(error)
