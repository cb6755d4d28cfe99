"""The training times the README quotes, read from the executed solutions' own outputs.

Every figure in README.md between ``<!-- time:KEY -->`` and ``<!-- /time -->`` is generated here
from what the committed solutions printed when they were last executed (each training's final
progress line ``epoch 100/100 · … · 72 s``, a sweep's ``sweep: … in 210 s wall``), so the README
never quotes a time nobody measured. After re-executing the solutions (``make solutions``):

    python tools/readme_times.py            # show the figures the outputs give
    python tools/readme_times.py --write    # put them into README.md
    python tools/readme_times.py --check    # exit 1 if README.md is stale (tests/test_colab_readme_times.py)
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SOLUTIONS = REPO / "solutions"
MARK = re.compile(r"<!-- time:([a-z0-9-]+) -->(.*?)<!-- /time -->", re.DOTALL)
# A single training's last progress line (helpers.progress.EpochProgress), e.g.
# "epoch 100/100 · train_loss 0.0266 · train_acc 0.9933 · val_acc 0.8831 · 72 s".
RUN_END = re.compile(r"^epoch (\d+)/\1 · .* · (\d+) s$", re.MULTILINE)
# A sweep's summary (helpers.sweep): its trainings may run side by side, so its wall time counts.
SWEEP = re.compile(r"sweep: (\d+) trainings, \d+ s of training in (\d+) s wall")
# The same, as the sweep cell printed it before helpers.sweep had a summary.
SWEEP_MINUTES = re.compile(r"trained (\d+) models in (\d+(?:\.\d+)?) minutes")


@dataclass
class Times:
    """The trainings one executed notebook printed: per training cell, its wall seconds."""

    runs: list[tuple[str, int, int]] = field(default_factory=list)  # (cell id, trainings, wall seconds)

    @property
    def trainings(self) -> int:
        return sum(count for _, count, _ in self.runs)

    @property
    def seconds(self) -> int:
        return sum(wall for _, _, wall in self.runs)


def _printed(cell: nbformat.NotebookNode) -> str:
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        elif "text/plain" in output.get("data", {}):
            texts.append(output["data"]["text/plain"])
    return "\n".join(texts)


def training_times(path: Path) -> Times:
    """Wall seconds of every training cell of an executed notebook, as its outputs printed them."""
    times = Times()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        text = _printed(cell)
        sweep, minutes = SWEEP.search(text), SWEEP_MINUTES.search(text)
        if sweep:
            times.runs.append((cell.get("id", ""), int(sweep.group(1)), int(sweep.group(2))))
            continue
        if minutes:
            times.runs.append((cell.get("id", ""), int(minutes.group(1)), round(float(minutes.group(2)) * 60)))
            continue
        for match in RUN_END.finditer(text):
            times.runs.append((cell.get("id", ""), 1, int(match.group(2))))
    return times


def duration(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _runs(count: int) -> str:
    return f"{count} run" + ("" if count == 1 else "s")


def figures(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """KEY -> the README text for it, from the solutions' outputs (``ValueError`` if one is missing)."""
    ex1 = training_times(solutions / "01_warmup_cosine.ipynb")
    ex2 = training_times(solutions / "02_adamw_weight_decay.ipynb")
    for name, times in (("01_warmup_cosine", ex1), ("02_adamw_weight_decay", ex2)):
        if not times.runs:
            raise ValueError(
                f"solutions/{name}.ipynb prints no training time (no final 'epoch N/N · … · S s' line or "
                "'sweep: … in S s wall'): execute it first (make solutions), "
                "or update the patterns in tools/readme_times.py"
            )
    return {
        "ex1-run": f"{ex1.runs[0][2]} s",
        "01": f"{duration(ex1.seconds)} of training ({_runs(ex1.trainings)}: "
        + " + ".join(f"{wall} s" for _, _, wall in ex1.runs) + ")",
        "02": f"{duration(ex2.seconds)} of training ({_runs(ex2.trainings)}"
        + (", the sweep's counted by its wall time" if any(count > 1 for _, count, _ in ex2.runs) else "") + ")",
    }


def render(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """``text`` with every marked figure replaced; also the keys it marks that have no value."""
    unknown = sorted({key for key in MARK.findall(text) for key in [key[0]] if key not in values})
    def fill(m: re.Match[str]) -> str:
        return f"<!-- time:{m.group(1)} -->{values.get(m.group(1), m.group(2))}<!-- /time -->"

    return MARK.sub(fill, text), unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/readme_times.py", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 1 when README.md differs from the outputs")
    group.add_argument("--write", action="store_true", help="rewrite the marked figures in README.md")
    args = parser.parse_args(argv)
    try:
        values = figures()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    for key, value in values.items():
        print(f"{key}: {value}")
    text = README.read_text(encoding="utf-8")
    new, unknown = render(text, values)
    missing = sorted(set(values) - {key for key, _ in MARK.findall(text)})
    if unknown or missing:
        print(f"README.md: unknown time keys {unknown}, keys not marked {missing}", file=sys.stderr)
        return 1
    if args.write and new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md: times written")
    elif args.check and new != text:
        print("README.md: times are stale; run `python tools/readme_times.py --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
