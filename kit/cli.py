"""The ``kit`` command: one entry point for instructors and maintainers, shaped like otter's.

Each subcommand lives in its own module and keeps its own options; this file only dispatches,
importing a subcommand's module when it runs (``kit --help`` stays instant).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from kit.course import SOLUTIONS_DIR, STARTERS_DIR

# name -> (module, function taking argv, one line for `kit --help`)
# The grader's main() reports usage errors itself and takes the command name first.
_GRADER = "kit.grade.__main__"
COMMANDS: dict[str, tuple[str, str, str]] = {
    "assign": ("kit.starters", "main",
               f"generate the starters in {STARTERS_DIR}/ (and the hint data) from {SOLUTIONS_DIR}/"),
    "execute": ("kit.execute", "main", "execute solution notebooks top to bottom, in place, recording cell times"),
    "launch": ("kit.launch", "main", "rewrite the launch badges and cloud setup cells (and README's table)"),
    "grade": ("kit.grade.__main__", "main", "grade a folder of learner notebooks (docs/GRADING.md)"),
    "check": ("kit.grade.__main__", "main", "grade one notebook as the instructor would and print its feedback"),
    "merge": ("kit.grade.__main__", "main", "combine the outputs of sharded grading runs"),
    "slurm": ("kit.slurm.__main__", "main", "grade a folder on a Slurm cluster: a job array of shards, then a merge"),
    "quiz": ("kit.quiz_keys", "main", "hash a new quiz answer, or validate a quiz file"),
    "gradescope-autograder": ("kit.lms.autograder", "main", "write the Gradescope autograder zip (docs/GRADING.md)"),
    "release": ("kit.release", "main", "write the learner copy of the course (no solutions, no answer keys)"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: kit COMMAND [options]   (kit COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {about}" for name, (_, _, about) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"kit: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[name]
    run: Callable[[list[str]], int] = getattr(importlib.import_module(module), function)
    return run([name, *rest] if module == _GRADER else rest)


if __name__ == "__main__":
    sys.exit(main())
