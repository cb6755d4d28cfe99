"""Two rules of the project's guide that a reviewer would otherwise check by eye.

* No function in ``helpers/`` or ``kit/`` is longer than 60 lines.
* Code says why, not where a change came from: no comment or string in the project's Python refers
  to an issue of the tracker (its number, or "the issue").
* A course number has one home (``helpers/settings.py``, or ``helpers/data.py`` for the data
  set's facts) and is imported everywhere else. The matching is narrow on purpose: a number counts
  as a course number only where its surroundings say so (``100`` as an ``epochs`` argument, ``0.1``
  as a learning rate), so a progress bar's 100 % or a 0.25 s refresh interval is not flagged.
  Messages count too: ``"keep course_epochs(100)"`` in a hint repeats the setting just as code would.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import data, settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("helpers", "kit")
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Fact:
    """A course number and the identifiers near which typing it means repeating it."""

    home: str
    value: float
    context: str  # regex on the nearby identifiers; "" flags the value anywhere

    def seen_in(self, value: object, names: set[str]) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != self.value:
            return False
        return not self.context or any(re.search(self.context, name, re.IGNORECASE) for name in names)


_EPOCHS = r"epoch"
_LENGTH = r"epoch|warmup|length|^[nmw]$"
_WARMUP_DIVISOR = r"epoch|warmup|length|^Mod$"  # 1 / WARMUP_FRACTION, e.g. "n % 4": the warmup is whole
FACTS = (
    Fact("settings.COURSE_EPOCHS", settings.COURSE_EPOCHS, _EPOCHS),
    Fact("settings.QUICK_EPOCHS", settings.QUICK_EPOCHS, _WARMUP_DIVISOR),
    Fact("settings.WARMUP_FRACTION", settings.WARMUP_FRACTION, _LENGTH),
    Fact("settings.DEMO_WARMUP_EPOCHS", settings.DEMO_WARMUP_EPOCHS, r"warmup"),
    Fact("settings.BASE_LR", settings.BASE_LR, r"lr|learning_rate"),
    Fact("settings.TEMPLATE_LR", settings.TEMPLATE_LR, r"lr|learning_rate"),
    Fact("settings.TARGET_ACCURACY", settings.TARGET_ACCURACY, ""),
    Fact("settings.COURSE_SEED", settings.COURSE_SEED, r"seed"),
    Fact("data.STEPS_PER_EPOCH", data.STEPS_PER_EPOCH, ""),
    Fact("data.BATCH_SIZE", data.BATCH_SIZE, r"batch"),
)
HOMES = {"helpers/settings.py", "helpers/data.py"}


@functools.cache
def _sources() -> tuple[tuple[str, ast.Module], ...]:
    return tuple((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
                 for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")))


def _names(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.keyword) and sub.arg:
            found.add(sub.arg)
    return found


def _numbers_with_context(tree: ast.Module) -> Iterator[tuple[int, object, set[str]]]:
    """Every number literal with the identifiers of what it is given to, compared with or stored in."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = [*zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True),
                     *((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None)]
            for arg, default in pairs:
                if isinstance(default, ast.Constant):
                    yield default.lineno, default.value, {arg.arg}
        elif isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
            yield node.value.lineno, node.value.value, {node.arg or ""}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield node.value.lineno, node.value.value, set().union(*(_names(t) for t in targets))
        elif isinstance(node, (ast.BinOp, ast.Compare, ast.Call)):
            parts = [node.left, node.right] if isinstance(node, ast.BinOp) else (
                [node.left, *node.comparators] if isinstance(node, ast.Compare) else [node.func, *node.args])
            operator = {type(node.op).__name__} if isinstance(node, ast.BinOp) else set()
            for part in parts:
                if isinstance(part, ast.Constant):
                    yield part.lineno, part.value, operator.union(*(_names(p) for p in parts if p is not part))


# "name=1", "name(1)" or "name: 1" inside a message: the name says what the number is.
_NAMED_NUMBER = re.compile(r"([A-Za-z_]\w*)\s*[=(:]\s*(\d+(?:\.\d+)?)(?![\d.])")


def _numbers_in_messages(tree: ast.Module) -> Iterator[tuple[int, object, set[str]]]:
    """Every number a string literal (not a docstring) writes right after a name, with that name."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for match in _NAMED_NUMBER.finditer(node.value):
                number = float(match.group(2))
                yield node.lineno, int(number) if number.is_integer() else number, {match.group(1)}


def repeated_course_numbers() -> list[str]:
    found = []
    for rel, tree in _sources():
        if rel in HOMES:
            continue
        for line, value, names in [*_numbers_with_context(tree), *_numbers_in_messages(tree)]:
            for fact in FACTS:
                if fact.seen_in(value, names):
                    found.append(f"{rel}:{line}: {value!r} near {sorted(names)} repeats {fact.home}")
    return sorted(set(found))


def long_functions() -> list[str]:
    found = []
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{rel}:{node.lineno} {node.name} is {length} lines")
    return found


def test_no_function_longer_than_the_limit() -> None:
    assert long_functions() == []


def test_course_numbers_are_imported_not_typed() -> None:
    assert repeated_course_numbers() == []


@pytest.mark.parametrize(("source", "flagged"), [
    ("def train(num_epochs=100): ...", True),
    ("fit(model, max_epochs=100)", True),
    ("QUICK_EPOCHS = 4", True),
    ("w = int(0.25 * num_epochs)", True),
    ("ok = n % 4 == 0", True),
    ("opt = SGD(params, lr=0.1)", True),
    ("if accuracy >= 0.885: ...", True),
    ("steps = 450", True),
    ("WARMUP_EPOCHS = 5", True),
    ("bar = Progress(total=100)", False),
    ("def refresh(min_interval=0.25): ...", False),
    ("share = part / 100", False),
    ("retries = 5", False),
    ("small = 1 if n >= 4 else n // 2", False),
])
def test_the_literal_rule_catches_repetitions_not_every_number(source: str, flagged: bool) -> None:
    hits = [(value, names) for _, value, names in _numbers_with_context(ast.parse(source))
            if any(fact.seen_in(value, names) for fact in FACTS)]
    assert bool(hits) is flagged, hits


@pytest.mark.parametrize(("source", "flagged"), [
    ('hint = "keep num_epochs = course_epochs(100)"', True),
    ('hint = f"pass lr=0.005, got {lr}"', True),
    ('hint = "warmup_epochs: 5"', True),
    ('hint = "the course reaches about 0.89 after 100 epochs"', False),
    ('hint = "width: 100%"', False),
    ('def f():\n    """Train with num_epochs=100."""', False),
])
def test_the_literal_rule_reads_messages_too(source: str, flagged: bool) -> None:
    hits = [(value, names) for _, value, names in _numbers_in_messages(ast.parse(source))
            if any(fact.seen_in(value, names) for fact in FACTS)]
    assert bool(hits) is flagged, hits


def test_the_literal_rule_knows_the_settings_it_guards() -> None:
    """Every number in settings.py is in FACTS, so a new setting is not silently unguarded."""
    numbers = {name for name, value in settings.facts().items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    assert numbers <= {fact.home.split(".", 1)[1] for fact in FACTS}


# "issue 15", "issues 3 and 4", "issue #2", "(per the issue)", "the issue's picture"
ISSUE_REFERENCE = re.compile(r"\bissues?\s+#?\d|\b(?:the|this|per the)\s+issue\b", re.IGNORECASE)
CODE_FOLDERS = ("helpers", "kit", "tests", "benchmarks", "tools")


def issue_references(text: str) -> list[str]:
    return [f"line {n}: {line.strip()}" for n, line in enumerate(text.splitlines(), start=1)
            if ISSUE_REFERENCE.search(line)]


def test_no_code_refers_to_a_tracker_issue() -> None:
    paths = [path for folder in CODE_FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))
             if path != Path(__file__).resolve()]  # this file quotes such references as the rule's cases
    found = [f"{path.relative_to(ROOT).as_posix()} {hit}"
             for path in paths for hit in issue_references(path.read_text("utf-8"))]
    assert found == []


@pytest.mark.parametrize(("line", "flagged"), [
    ("# --- issue 15 item 3: the explorer ---", True),
    ('"""Hints in levels (Issue 14 item 1): ..."""', True),
    ("# see issue #2", True),
    ("# What a fresh runtime has (per the issue): torch", True),
    ('"""The issue\'s picture: 45,000 steps."""', True),
    ("# a learner's issue with the blank is named in its hint", False),
    ("issues = find_problems(nb)", False),
    ("# two issues remain when 3 epochs are given", False),
])
def test_the_issue_rule_catches_references_not_the_word(line: str, flagged: bool) -> None:
    assert bool(issue_references(line)) is flagged
