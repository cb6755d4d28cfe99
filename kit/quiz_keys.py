"""``kit quiz``: the instructor's side of the self-marking quiz (hash a new answer, validate a file).

The learner's kernel only marks answers (:mod:`helpers.quiz`); writing keys is an instructor's job.
"""

from __future__ import annotations

import argparse
import json
import string
from pathlib import Path

from helpers.quiz import DEFAULT_QUIZ, DIFFICULTIES, answer_hash, load_quiz, normalise_choice, normalise_number


def main(argv: list[str] | None = None) -> int:
    """``hash QUESTION_ID ANSWER [--file F]`` or ``validate [FILE]``."""
    parser = argparse.ArgumentParser(prog="kit quiz", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    hash_cmd = sub.add_parser("hash", help="print the answer_hash to store for a question")
    hash_cmd.add_argument("question_id")
    hash_cmd.add_argument("answer", help="an option letter, or a number")
    hash_cmd.add_argument("--decimals", type=int, default=None, help="for numbers: decimals as in the quiz file")
    hash_cmd.add_argument("--file", default=str(DEFAULT_QUIZ))
    validate_cmd = sub.add_parser("validate", help="check a quiz file")
    validate_cmd.add_argument("file", nargs="?", default=str(DEFAULT_QUIZ))
    args = parser.parse_args(argv)
    if args.command == "validate":
        quiz = load_quiz(args.file)
        counts = {d: sum(q.difficulty == d for q in quiz.questions) for d in DIFFICULTIES}
        print(f"{Path(args.file).name}: {len(quiz.questions)} questions OK ({counts})")
        return 0
    salt = json.loads(Path(args.file).read_text(encoding="utf-8"))["salt"]
    if args.decimals is None:
        normalised = normalise_choice(args.answer)
        if normalised not in string.ascii_uppercase or len(normalised) != 1:
            parser.error("a choice answer is one letter; for a number pass --decimals")
    else:
        normalised = normalise_number(float(args.answer), args.decimals)
    print(answer_hash(salt, args.question_id, normalised))
    return 0
