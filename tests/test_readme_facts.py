"""Every figure README.md states about the executed solutions matches what those solutions printed.

The "Start here" table's *Expected result* and *Time here* columns, and the intro's 100-epoch
training time, are read line by line. Each labelled figure (measured accuracies, the chosen weight
decay, the train−val gaps, the seed count, each notebook's training time) is compared with the
committed outputs, and any other number in those columns must be one some output or course setting
shows: a README figure nobody measured fails, naming the README line that is stale.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import settings

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_spec = importlib.util.spec_from_file_location("readme_times_for_facts", REPO / "tools" / "readme_times.py")
assert _spec is not None and _spec.loader is not None
readme_times = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = readme_times
_spec.loader.exec_module(readme_times)

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
MARKER = re.compile(r"<!--.*?-->")


def printed(notebook: str) -> dict[str, str]:
    """Cell id -> the text that cell printed (streams and plain-text results) in the committed run."""
    nb = nbformat.read(REPO / "solutions" / f"{notebook}.ipynb", as_version=4)
    return {cell.id: readme_times._printed(cell) for cell in nb.cells if cell.cell_type == "code"}


def sources(notebook: str) -> dict[str, str]:
    nb = nbformat.read(REPO / "solutions" / f"{notebook}.ipynb", as_version=4)
    return {cell.id: cell.source for cell in nb.cells}


def find(pattern: str, text: str, what: str) -> re.Match[str]:
    match = re.search(pattern, text, re.MULTILINE)
    assert match, (f"the executed solution no longer prints {what} (pattern {pattern!r}): "
                   "execute it, or update this test")
    return match


def readme_row(notebook: str) -> tuple[int, str]:
    """(line number, 'Expected result' + 'Time here' text) of the table row for ``notebook``."""
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("| ") and f"`notebooks/{notebook}.ipynb`" in line:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            return number, MARKER.sub("", " | ".join(cells[3:]))
    raise AssertionError(f"README.md: no 'Start here' row for notebooks/{notebook}.ipynb")


def says(text: str, pattern: str, line: int, what: str) -> str:
    match = re.search(pattern, text)
    assert match, f"README.md line {line} no longer states {what} (pattern {pattern!r}): update this test with it"
    return match.group(1)


def stale(line: int, what: str, readme: str, outputs: object) -> str:
    return f"README.md line {line} is stale: it says {what} {readme}, the executed solution shows {outputs}"


def only_shown_numbers(text: str, line: int, shown: set[str]) -> None:
    unknown = sorted(set(NUMBER.findall(text)) - shown)
    assert not unknown, (f"README.md line {line} states {', '.join(unknown)}, which no output of the executed "
                         f"solution (nor a course setting) shows; figures it may quote: {', '.join(sorted(shown))}")


def accuracy(value: float) -> str:
    return f"{value:.4f}"


def test_notebook_00_row() -> None:
    line, text = readme_row("00_warmup_strategies")
    out = printed("00_warmup_strategies")
    demo = find(r"adam, base lr (\S+), batch size \d+, warmup (\d+) epochs", out["ex0-demo-run"], "the demo's settings")
    seconds = find(r"^time: (\d+(?:\.\d+)?) s$", out["ex0-demo-run"], "the demo's training time").group(1)
    rows = re.findall(r"^\s*\d+\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+$", out["ex0-demo-seeds"], re.MULTILINE)
    assert rows, "the executed 00 solution prints no per-seed table"
    lower = sum(float(warm) < float(plain) for plain, warm in rows)
    means = find(r"no warmup ([\d.]+), warmup ([\d.]+)", out["ex0-demo-seeds"], "the mean accuracies")
    plain, warm = (f"{float(v):.3f}" for v in means.groups())

    lr = says(text, r"Adam lr ([\d.]+)", line, "the demo's LR")
    assert lr == demo.group(1), stale(line, "Adam lr", lr, demo.group(1))
    assert says(text, r"(\d+)-epoch warmup", line, "the warmup length") == demo.group(2)
    counted = says(text, r"for (\d+ of \d+) seeds", line, "how many seeds")
    assert counted == f"{lower} of {len(rows)}", stale(line, "seeds", counted, f"{lower} of {len(rows)}")
    quoted = says(text, r"mean val accuracy ([\d.]+ vs [\d.]+)", line, "the mean accuracies")
    assert quoted == f"{warm} vs {plain}", stale(line, "mean val accuracy (warmup vs none)", quoted,
                                                 f"{warm} vs {plain}")
    time = says(text, r"printed ([\d.]+) s", line, "the demo's time")
    assert time == seconds, stale(line, "the warmup comparison's time", f"{time} s", f"{seconds} s")
    only_shown_numbers(text, line, {demo.group(1), demo.group(2), str(lower), str(len(rows)), warm, plain, seconds})


def test_notebook_01_row() -> None:
    line, text = readme_row("01_warmup_cosine")
    out, src = printed("01_warmup_cosine"), sources("01_warmup_cosine")
    test_acc = find(r"^test accuracy ([\d.]+) ·", out["ex1-accuracy-exact"], "the test accuracy").group(1)
    per_step = find(r"warmup stepped per step: .* test ([\d.]+) ·", out["ex1-per-step-accuracy"],
                    "the per-step test accuracy").group(1)
    course = find(r"The course reports ([\d.]+) with warmup", src["ex1-accuracy-intro"], "the course's figure").group(1)
    time = readme_times.figures()["01"]

    target = says(text, r"test accuracy ≥ ([\d.]+)", line, "the target")
    assert float(target) == settings.TARGET_ACCURACY, stale(line, "the target", target, settings.TARGET_ACCURACY)
    assert says(text, r"course: ([\d.]+)", line, "the course's accuracy") == course, stale(line, "course:", "", course)
    measured = says(text, r"measured here: ([\d.]+)", line, "the measured accuracy")
    assert measured == test_acc, stale(line, "measured here:", measured, test_acc)
    stepped = says(text, r"per-step warmup ([\d.]+)", line, "the per-step accuracy")
    assert stepped == per_step, stale(line, "per-step warmup", stepped, per_step)
    assert time in text, stale(line, "the training time", text.split("|")[-1].strip(), time)
    only_shown_numbers(text, line, {target, course, test_acc, per_step, *NUMBER.findall(time)})


def test_notebook_02_row() -> None:
    line, text = readme_row("02_adamw_weight_decay")
    out, src = printed("02_adamw_weight_decay"), sources("02_adamw_weight_decay")
    tests = find(r"Adam\s+test accuracy: ([\d.]+)\s+\(train−val gap ([\d.]+)\)\s+AdamW test accuracy: ([\d.]+)\s+"
                 r"\(train−val gap ([\d.]+)\)", out["ex2-test"], "both test accuracies and gaps")
    adam, adam_gap, adamw, adamw_gap = tests.groups()
    chosen = find(r"chosen weight decay: ([\d.]+)", out["ex2-chosen"], "the chosen weight decay").group(1)
    margin = find(r"adam_run\.test_acc >= ([\d.]+)", src["ex2-targets"], "the margin AdamW must beat Adam by").group(1)
    points = f"{float(margin) * 100:g}"
    time = readme_times.figures()["02"]

    target = says(text, r"AdamW test accuracy ≥ ([\d.]+)", line, "the target")
    assert float(target) == settings.TARGET_ACCURACY, stale(line, "the target", target, settings.TARGET_ACCURACY)
    assert says(text, r"≥ (\d+) points above Adam", line, "the margin") == points, stale(line, "points", "", points)
    quoted = says(text, r"Adam ([\d.]+), AdamW", line, "Adam's accuracy")
    assert quoted == adam, stale(line, "Adam", quoted, adam)
    quoted = says(text, r"weight decay ([\d.]+) chosen", line, "the chosen weight decay")
    assert quoted == chosen, stale(line, "weight decay … chosen", quoted, chosen)
    quoted = says(text, r"chosen on validation ([\d.]+)", line, "AdamW's accuracy")
    assert quoted == adamw, stale(line, "AdamW … chosen on validation", quoted, adamw)
    quoted = says(text, r"train−val gap ([\d.]+ vs [\d.]+)", line, "the gaps")
    assert quoted == f"{adam_gap} vs {adamw_gap}", stale(line, "train−val gap (Adam vs AdamW)", quoted,
                                                         f"{adam_gap} vs {adamw_gap}")
    assert time in text, stale(line, "the training time", text.split("|")[-1].strip(), time)
    only_shown_numbers(text, line, {target, points, adam, adamw, chosen, adam_gap, adamw_gap, *NUMBER.findall(time)})


def test_the_intro_quotes_a_measured_100_epoch_time() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"a (\d+)-epoch training of the\s+course MLP took <!-- time:ex1-run -->(\d+) s", text)
    assert match, "README.md's intro no longer quotes the 100-epoch training time: update this test"
    line = text[: match.start()].count("\n") + 1
    assert int(match.group(1)) == settings.COURSE_EPOCHS, stale(line, "epochs", match.group(1), settings.COURSE_EPOCHS)
    run_end = find(r"epoch (\d+)/\1 · .* · (\d+) s$", printed("01_warmup_cosine")["ex1-train"],
                   "the first training's time")
    assert run_end.group(1) == match.group(1), stale(line, "epochs", match.group(1), run_end.group(1))
    assert match.group(2) == run_end.group(2), stale(line, "the 100-epoch time", f"{match.group(2)} s",
                                                     f"{run_end.group(2)} s")


@pytest.mark.parametrize(("readme", "wrong"), [
    ("measured here: 0.8900", "measured here: 0.8901"),
    ("Adam 0.8428", "Adam 0.8420"),
    ("weight decay 0.3 chosen", "weight decay 0.1 chosen"),
    ("train−val gap 0.133 vs 0.030", "train−val gap 0.133 vs 0.031"),
    ("for 5 of 5 seeds", "for 4 of 5 seeds"),
    ("(the warmup comparison printed ", "(about 18 s in all; the warmup comparison printed "),
])
def test_a_stale_figure_fails_with_its_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, readme: str,
                                            wrong: str) -> None:
    """The checks above on a README copy with one figure changed: each fails and names the line."""
    text = README.read_text(encoding="utf-8")
    assert readme in text
    copy = tmp_path / "README.md"
    copy.write_text(text.replace(readme, wrong), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "README", copy)
    line = text[: text.index(readme)].count("\n") + 1
    failures = []
    for check in (test_notebook_00_row, test_notebook_01_row, test_notebook_02_row):
        try:
            check()
        except AssertionError as error:
            failures.append(str(error))
    assert len(failures) == 1 and f"README.md line {line}" in failures[0], failures
