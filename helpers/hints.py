"""Hints in levels for the blanks: ``hint("ex1-native")`` prints the next, stronger hint each call.

Level 1 is the blank's own ``NotImplementedError`` message (what to compute and where it is
explained, without code). The levels after it get more concrete; the last one is the solution's
code of that blank. ``hint()`` lists the blanks, ``hint(key, level=n)`` shows one level again.

Why a data file: the starter notebook must not carry the stronger hints in plain text (filling a
blank would be copying its message), and a released kit has no ``solutions/`` folder, so the
answer level cannot be read from there at run time. ``kit assign`` (:mod:`kit.hint_data`) builds
``helpers/hint_data/hints.json`` from the solutions (the levels are authored in each blank cell's
``metadata.kit.hints``, the answer is the code between the markers) and ``--check`` says when it is
stale. The texts are base64-encoded: that keeps them from being read at a glance, it is **not a
secret** (anyone can decode them), like the quiz's hashes.
"""

from __future__ import annotations

import base64
import json
import re
import textwrap
from pathlib import Path

DATA_IN_PACKAGE = "hint_data/hints.json"  # the hint data file, relative to the helpers package
DATA_IN_COURSE = f"{__package__}/{DATA_IN_PACKAGE}"  # the same file, relative to a course checkout's root
DATA = Path(__file__).parent / DATA_IN_PACKAGE
BLANKS_KEY = "blanks"  # the data file's key of the levels by blank key
METADATA_KEY = "hints"  # cell.metadata["kit"]["hints"]: the levels between the first hint and the answer
# The solution markers around a blank's answer in a solution cell (the starter generator reads them too).
BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"
BEGIN = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN_MARKER)}(?::[ \t]*(?P<hint>.*?))?[ \t]*$")
END = re.compile(rf"^[ \t]*{re.escape(END_MARKER)}[ \t]*$")

_shown: dict[str, int] = {}  # key -> last level shown in this kernel


def blank_key(cell_id: str, index: int = 0) -> str:
    """The name a learner types for a blank: the cell id without ``blank-`` (``ex1-blank-native`` ->
    ``ex1-native``), with ``-2``, ``-3`` ... for further blanks of the same cell."""
    key = cell_id.replace("-blank-", "-").replace("blank-", "")
    return key if index == 0 else f"{key}-{index + 1}"


def solution_regions(source: str) -> list[tuple[str, str]]:
    """``(first hint, dedented solution code)`` for every marked region of one cell's source."""
    regions: list[tuple[str, str]] = []
    hint: str | None = None
    body: list[str] = []
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin:
            hint, body = (begin.group("hint") or "").strip(), []
        elif END.match(line) and hint is not None:
            regions.append((hint, textwrap.dedent("\n".join(body)).strip("\n")))
            hint = None
        elif hint is not None:
            body.append(line)
    return regions


def encode_level(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_level(text: str) -> str:
    return base64.b64decode(text.encode("ascii")).decode("utf-8")


def load_levels(path: Path = DATA) -> dict[str, list[str]]:
    """The decoded levels by blank key."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: [decode_level(t) for t in texts] for key, texts in data[BLANKS_KEY].items()}


def hint(key: str | None = None, *, level: int | None = None) -> None:
    """Print the next hint for blank ``key`` (e.g. ``"ex1-native"``); the last level is the answer.

    ``hint()`` lists the blanks that have hints; ``level=n`` shows level ``n`` (1 = the blank's own
    message) without moving on.
    """
    levels = load_levels()
    if key is None:
        print("Blanks with hints: " + ", ".join(sorted(levels)) + '. Call e.g. hint("ex1-native").')
        return
    if key not in levels:
        close = [k for k in sorted(levels) if k.split("-")[0] == str(key).split("-")[0]] or sorted(levels)
        print(f"No hints for {key!r}. The blanks with hints are: {', '.join(close)}.")
        return
    texts = levels[key]
    if level is None:
        number = min(_shown.get(key, 1) + 1, len(texts))  # level 1 is already in the error message
    elif isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= len(texts):
        number = level
    else:
        raise ValueError(f"level must be a whole number from 1 to {len(texts)} for {key!r}, got {level!r}")
    _shown[key] = max(_shown.get(key, 1), number)
    last = number == len(texts)
    more = "" if last else f'  (call hint("{key}") again for a stronger one)'
    print(f"Hint {number} of {len(texts)} for {key}{' — the answer' if last else ''}:{more}")
    text = texts[number - 1]
    if not last:  # prose: wrapped; the answer is code and keeps its lines
        text = textwrap.fill(text, width=96)
    print(textwrap.indent(text, "  "))
