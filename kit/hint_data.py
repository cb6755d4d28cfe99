"""Build ``helpers/hint_data/hints.json`` from the solutions (part of ``kit assign``).

The levels are authored in each blank cell's ``metadata.kit.hints``; the answer is the code
between the solution markers. :func:`helpers.hints.hint` reads the file in the learner's kernel.

An authored level names a course setting instead of typing its value: ``{WARMUP_FRACTION:.0%}``
becomes ``25%`` (any name of :func:`course_facts`, with an optional ``format`` spec), so a changed
constant changes its hints at the next build. Other braces (a dict literal in a hint) stay as written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from helpers.hints import BLANKS_KEY, DATA, METADATA_KEY, blank_key, encode_level, solution_regions
from kit.course import Course, course
from kit.notebooks import AS_VERSION, KIT_METADATA, kit_metadata

# {NAME} or {NAME:spec}: an upper-case name, as the constants in helpers.settings / helpers.data are spelled.
_PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)(?::([^{}]*))?\}")


def course_facts() -> dict[str, object]:
    """The values a hint may name: helpers.settings' constants, and the data set's batch size and
    steps per epoch (read at call time, so a changed constant is what the next build uses)."""
    from helpers import data, settings

    return {**settings.facts(), "BATCH_SIZE": data.BATCH_SIZE, "STEPS_PER_EPOCH": data.STEPS_PER_EPOCH}


def fill_facts(text: str, facts: dict[str, object], where: str = "a hint") -> str:
    """``text`` with every ``{NAME}`` / ``{NAME:spec}`` replaced by ``format(facts[NAME], spec)``;
    ``ValueError`` for a name that is not a course setting (a typo must not reach a learner)."""

    def value(match: re.Match[str]) -> str:
        name, spec = match.group(1), match.group(2) or ""
        if name not in facts:
            raise ValueError(f"{where}: {{{name}}} is not a course setting (known: {', '.join(sorted(facts))})")
        return format(facts[name], spec)

    return _PLACEHOLDER.sub(value, text)


def build_levels(solutions_dir: Path) -> dict[str, list[str]]:
    """Every blank's levels, from the solution notebooks: first hint, authored levels, answer."""
    import nbformat

    levels: dict[str, list[str]] = {}
    facts = course_facts()
    for path in sorted(solutions_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=AS_VERSION)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            authored = kit_metadata(cell).get(METADATA_KEY)
            if authored is None:
                continue
            where = f"{path.name} cell {cell.get('id')}"
            regions = solution_regions(cell.source)
            if len(regions) != 1:
                raise ValueError(f"{where}: hints need exactly one marked region, found {len(regions)}")
            if not (isinstance(authored, list) and all(isinstance(t, str) and t.strip() for t in authored)):
                raise ValueError(f"{where}: metadata.{KIT_METADATA}.{METADATA_KEY} must be a list of non-empty strings")
            first, answer = regions[0]
            levels[blank_key(cell.id)] = [first, *(fill_facts(t, facts, where) for t in authored), answer]
    return levels


def write_data(levels: dict[str, list[str]], path: Path = DATA) -> str:
    """The data file's text for ``levels`` (written to ``path`` unless that already holds it)."""
    data = {
        "about": "Hint levels for helpers.hints.hint(); base64 only keeps them from being read at a glance "
        "(not a secret). Built from solutions/ by: kit assign",
        BLANKS_KEY: {key: [encode_level(t) for t in texts] for key, texts in sorted(levels.items())},
    }
    return json.dumps(data, indent=1, ensure_ascii=True) + "\n"


def sync(where: Course | None = None, check: bool = False) -> bool:
    """Rebuild the course's hint data from its ``solutions/`` (or, with ``check``, only compare);
    True if it was stale. ``kit assign`` calls this, so regenerating the starters refreshes the hints."""
    where = where or course()
    data = where.hint_data
    levels = build_levels(where.solutions)
    current = data.read_text(encoding="utf-8") if data.is_file() else None
    if not levels and current is None:
        return False  # a course whose blanks have no authored hints needs no data file
    text = write_data(levels)
    shown = data.relative_to(where.root)
    if current == text:
        print(f"up to date  {shown}")
        return False
    if check:
        print(f"OUT OF DATE {shown} (run kit assign)")
        return True
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text(text, encoding="utf-8")
    print(f"wrote       {shown}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kit.hint_data",
                                     description="Build the hint data file from solutions/.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the data file is stale")
    args = parser.parse_args(argv)
    stale = sync(check=args.check)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
