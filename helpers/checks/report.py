"""The one output style every self-check shares: a title, then one ✓/✗ line per criterion.

A check never raises because an answer is wrong; it reports ✗ with a specific hint. It raises
only when it is called wrongly (an argument of the wrong type), with a message saying how.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PASS, FAIL, SKIP = "✓", "✗", "–"


def raised(exc: BaseException) -> str:
    """What learner code raised, as hints quote it: the exception's type and the start of its message."""
    return f"{type(exc).__name__}: {str(exc)[:300]}"


@dataclass(frozen=True)
class Criterion:
    """One line of a check: what was checked, whether it held, and what to do if not."""

    name: str
    passed: bool | None  # None: not checked (e.g. in a grader's quick mode)
    hint: str = ""

    def line(self) -> str:
        if self.passed is None:
            return f"{SKIP} {self.name} (not checked: {self.hint})"
        if self.passed:
            return f"{PASS} {self.name}"
        return f"{FAIL} {self.name} — {self.hint}" if self.hint else f"{FAIL} {self.name}"


@dataclass
class CheckReport:
    """The criteria of one check cell, in the order they were checked."""

    title: str
    criteria: list[Criterion] = field(default_factory=list)

    def add(self, name: str, passed: bool, hint: str = "") -> bool:
        """Record a criterion; returns ``passed`` so later criteria can depend on it."""
        self.criteria.append(Criterion(name, bool(passed), hint))
        return bool(passed)

    def skip(self, name: str, reason: str) -> None:
        self.criteria.append(Criterion(name, None, reason))

    @property
    def passed(self) -> bool:
        """True when no criterion failed (skipped ones do not count against)."""
        return all(c.passed is not False for c in self.criteria)

    def failed(self) -> list[Criterion]:
        return [c for c in self.criteria if c.passed is False]

    def hints(self) -> list[str]:
        return [c.hint for c in self.failed()]

    def text(self) -> str:
        lines = [self.title, *(f"  {c.line()}" for c in self.criteria)]
        checked = [c for c in self.criteria if c.passed is not None]
        ok = sum(bool(c.passed) for c in checked)
        lines.append(f"  {ok}/{len(checked)} passed" + ("" if ok < len(checked) else " — well done"))
        return "\n".join(lines)

    def show(self) -> None:
        print(self.text())
