"""Programmatic fixtures for the grader: a toy exercise and a class of learner submissions.

The toy solution follows the kit's conventions (ids, ``### BEGIN SOLUTION`` blanks, ``check`` and
``hidden-check`` cells, a stand-in training whose epoch count follows ``KIT_QUICK_EPOCHS``, one
check that adapts to quick mode and one that needs the full training). It is executed for real, its
starter is made by ``kit.starters``, and
every submission is derived from that starter: the correct one fills the blanks with the
solution's cells, the others add one typical mistake or one kind of bad input each.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from kit.execute import run_notebook
from kit.grade import rows as R
from kit.starters import make_starter

TOY = "00_toy"

_SETUP = '''\
import os

from helpers.checks.report import CheckReport


def course_epochs(default):
    """Stand-in for helpers.training.course_epochs (same variable, without importing torch)."""
    return min(default, int(os.environ.get("KIT_QUICK_EPOCHS", default)))


def fit_and_test(epochs):
    """Stand-in for the kit's trainer: reports how many epochs it would train."""
    return {"epochs": epochs}


def check_value(title, name, call, expected, hint):
    report = CheckReport(title)
    try:
        report.add(name, call() == expected, hint)
    except NotImplementedError as exc:
        report.add(name, False, f"not finished yet: {exc}")
    report.show()
'''

_DOUBLE = '''\
def double(x):
    ### BEGIN SOLUTION: return twice the input
    return 2 * x
    ### END SOLUTION
'''

_ANSWER = '''\
def optimizer_name():
    ### BEGIN SOLUTION: name the optimizer with decoupled weight decay
    return "AdamW"
    ### END SOLUTION
'''

_CHECK_DOUBLE = 'check_value("Checking double", "double(3) == 6", lambda: double(3), 6, "double(3) should be 6")\n'
_CHECK_ANSWER = ('check_value("Checking the quiz", "decoupled weight decay", optimizer_name, "AdamW",\n'
                 '            "which optimizer applies weight decay outside the adaptive update?")\n')
_TRAIN = "result = fit_and_test(course_epochs(100))\n"
# Quick-mode aware (prints the epoch count it expects): graded in quick mode against the solution's quick output.
_CHECK_TRAIN = ('check_value("Checking training", f"trained for all {course_epochs(100)} epochs", lambda: '
                'result["epochs"],\n'
                '            course_epochs(100), "train for num_epochs epochs")\n')
# Needs the full training: the solution itself prints ✗ in quick mode, so quick mode does not grade it.
_CHECK_TARGET = ('check_value("Checking the target", "trained 100 epochs", lambda: result["epochs"], 100, '
                 '"train for 100 epochs")\n')
_HIDDEN = ('check_value("Checking double on negatives", "double(-4) == -8", lambda: double(-4), -8, '
           '"negative inputs too")\n')


def _code(cell_id: str, source: str, tags: list[str] | None = None) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = cell_id
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _markdown(cell_id: str, source: str) -> NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    cell["id"] = cell_id
    return cell


def toy_solution_source() -> NotebookNode:
    """The toy solution before execution."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kit"] = {"exercise": TOY, "role": "solution"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _markdown("toy-intro", "# Toy exercise\nFill in the two functions, then run the checks."),
        _code("toy-setup", _SETUP),
        _code("toy-blank-double", _DOUBLE),
        _code("toy-check-double", _CHECK_DOUBLE, ["check"]),
        _code("toy-hidden-double", _HIDDEN, ["hidden-check"]),
        _code("toy-blank-answer", _ANSWER),
        _code("toy-check-answer", _CHECK_ANSWER, ["check"]),
        _code("toy-train", _TRAIN),
        _code("toy-check-train", _CHECK_TRAIN, ["check"]),
        _code("toy-check-target", _CHECK_TARGET, ["check"]),
    ]
    return nb


def build_toy_solutions(folder: Path) -> Path:
    """Execute the toy solution and save it as ``folder/00_toy.ipynb`` (the toy registry)."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = run_notebook(toy_solution_source(), cwd=folder, timeout=120)
    path = folder / f"{TOY}.ipynb"
    nbformat.write(nb, path)
    return path


def toy_starter(solution: NotebookNode) -> NotebookNode:
    return make_starter(solution, f"{TOY}.ipynb").notebook


def _cell(nb: NotebookNode, cell_id: str) -> NotebookNode:
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _solved(starter: NotebookNode, solution: NotebookNode) -> NotebookNode:
    nb = copy.deepcopy(starter)
    for cell_id in ("toy-blank-double", "toy-blank-answer"):
        _cell(nb, cell_id).source = _cell(solution, cell_id).source
    return nb


def _with_double(nb: NotebookNode, body: str) -> NotebookNode:
    _cell(nb, "toy-blank-double").source = "def double(x):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    return nb


def _insert_after(nb: NotebookNode, anchor: str, cell_id: str, source: str) -> NotebookNode:
    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == anchor)
    nb.cells.insert(index + 1, _code(cell_id, source))
    return nb


def build_class(root: Path, solution: NotebookNode) -> dict[str, Path]:
    """Write the fixture class under ``root``; returns {fixture name: path}."""
    starter = toy_starter(solution)
    good = _solved(starter, solution)
    notebooks: dict[str, NotebookNode | bytes] = {}

    notebooks["alice/00_toy.ipynb"] = good
    notebooks["bob/00_toy.ipynb"] = copy.deepcopy(starter)
    notebooks["carol/00_toy.ipynb"] = _with_double(copy.deepcopy(good), "return 3 * x")
    notebooks["dan/00_toy.ipynb"] = _with_double(copy.deepcopy(good), "return abs(2 * x)")
    edited = copy.deepcopy(good)
    _with_double(edited, "return x + 1")
    _cell(edited, "toy-check-double").source = 'print("Checking double")\nprint("  ✓ double(3) == 6")\n'
    notebooks["erin/00_toy.ipynb"] = edited
    deleted = copy.deepcopy(good)
    deleted.cells = [c for c in deleted.cells if "check" not in c.metadata.get("tags", [])]
    notebooks["frank/00_toy.ipynb"] = deleted
    notebooks["grace/00_toy.ipynb"] = _insert_after(copy.deepcopy(good), "toy-setup", "oops", "1 / 0\n")
    notebooks["heidi/00_toy.ipynb"] = _with_double(copy.deepcopy(good), "while True:\n    pass")
    notebooks["ivan/00_toy.ipynb"] = _insert_after(copy.deepcopy(good), "toy-check-answer", "bye",
                                                   "import os\nos._exit(3)\n")
    notebooks["judy/00_toy.ipynb"] = _insert_after(copy.deepcopy(good), "toy-setup", "leave",
                                                   "import sys\nsys.exit(1)\n")
    notebooks["ken/00_toy.ipynb"] = _insert_after(copy.deepcopy(good), "toy-check-double", "kill",
                                                  "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    notebooks["leo/00_toy.ipynb"] = _with_double(copy.deepcopy(good), 'print("x" * 3_000_000)\nreturn 2 * x')
    noisy = _insert_after(copy.deepcopy(good), "toy-setup", "noise", 'print("y" * 5_000_000)\n')
    notebooks["mia/00_toy.ipynb"] = noisy
    notebooks["nick/00_toy.ipynb"] = _insert_after(
        copy.deepcopy(good), "toy-setup", "files",
        "import os\nfor name in os.listdir('.'):\n    os.remove(name)\nopen('scratch.txt', 'w').write('x' * 10000)\n",
    )
    notebooks["uma/00_toy.ipynb"] = _with_double(copy.deepcopy(good), "block = bytearray(4 * 1024 ** 3)\nreturn 2 * x")
    notebooks["olga/00_toy.ipynb"] = b"this is not a notebook\n"
    whole = nbformat.writes(good).encode()
    notebooks["pat/00_toy.ipynb"] = whole[: len(whole) // 2]
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    notebooks["quinn/00_toy.ipynb"] = json.dumps(v3).encode()
    other = copy.deepcopy(good)
    other.metadata["kit"] = {"exercise": "99_unknown", "role": "starter"}
    notebooks["rita/homework.ipynb"] = other
    notebooks["sam/00_toy.ipynb"] = good
    notebooks["sam/00_toy (1).ipynb"] = starter
    notebooks["00_toy - tina.ipynb"] = good
    paths = {}
    for rel, content in notebooks.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else nbformat.writes(content).encode())
        paths[rel] = path
    return paths


# --------------------------------------------------------------------------- a toy judged by evidence

KIT_TOY = "00_kit_toy"

_KIT_SETUP = '''\
import math

import torch
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR
from torch.optim.lr_scheduler import LambdaLR

from helpers.checks.adamw import check_optimizer, check_weight_decay_choice
from helpers.checks.warmup_cosine import check_configure_optimizers, check_native_schedule, check_warmup_schedule
from helpers.quiz import check_answers
from helpers.training import ClassifierModule, course_epochs

num_epochs = course_epochs(100)
base_lr = 0.1
'''

KIT_SCHEDULER = '''\
def make_warmup_scheduler(optimizer, num_epochs):
    ### BEGIN SOLUTION: pl_bolts' warmup + cosine, a quarter of the epochs warming up
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=int(0.25 * num_epochs), max_epochs=num_epochs,
                                         warmup_start_lr=0.0)
    ### END SOLUTION
'''

KIT_NATIVE = '''\
def make_native_scheduler(optimizer, num_epochs):
    warmup_epochs = int(0.25 * num_epochs)

    def factor(epoch):
        ### BEGIN SOLUTION: the same schedule as a LambdaLR factor
        if epoch < warmup_epochs:
            return epoch / max(1, warmup_epochs - 1)
        return 0.5 * (1 + math.cos(math.pi * (epoch - warmup_epochs) / (num_epochs - warmup_epochs)))
        ### END SOLUTION

    return LambdaLR(optimizer, factor)
'''

KIT_MODEL = '''\
class LightningModel(ClassifierModule):
    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.learning_rate)
        ### BEGIN SOLUTION: the scheduler over self.num_epochs, per epoch
        scheduler = make_warmup_scheduler(optimizer, self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch", "frequency": 1}}
        ### END SOLUTION
'''

KIT_ADAMW = '''\
class AdamWModel(ClassifierModule):
    def __init__(self, weight_decay, learning_rate=0.005, num_epochs=num_epochs):
        super().__init__(learning_rate=learning_rate, num_epochs=num_epochs)
        self.weight_decay = weight_decay

    def configure_optimizers(self):
        ### BEGIN SOLUTION: AdamW with the model's learning rate and weight decay
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        ### END SOLUTION
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def choose_weight_decay(sweep_table):
    ### BEGIN SOLUTION: the weight decay with the best validation accuracy
    return float(sweep_table["val_acc"].idxmax())
    ### END SOLUTION
'''

KIT_ANSWERS = {"q1": "B", "q2": "C", "q3": "D", "q4": 0.0, "q5": 0.03, "q6": "C", "q7": "B", "q8": "A", "q9": "D",
               "q10": 0.01, "q11": 0.01, "q12": 0.10022, "q13": "D", "q14": "A"}


def answers_source(answers: dict[str, object]) -> str:
    lines = "".join(f"    answers[{k!r}] = {v!r}\n" for k, v in answers.items())
    return ("def quiz_answers():\n    answers = {}\n    ### BEGIN SOLUTION: one line per question\n"
            f"{lines}    ### END SOLUTION\n    return answers\n")


KIT_CHECKS = {
    "kit-check-scheduler": "check_warmup_schedule(make_warmup_scheduler, num_epochs=num_epochs, base_lr=base_lr)\n",
    "kit-check-native": "check_native_schedule(make_native_scheduler, num_epochs=num_epochs, base_lr=base_lr)\n",
    "kit-check-configure": "check_configure_optimizers(LightningModel, num_epochs=num_epochs)\n",
    "kit-check-quiz": "check_answers(quiz_answers)\n",
    "kit-check-optimizer": ("check_optimizer(AdamWModel, num_epochs=num_epochs)\n"
                            "check_weight_decay_choice(choose_weight_decay)\n"),
}


def kit_solution_source() -> NotebookNode:
    """A toy solution whose checks are the kit's own (judged from evidence), with no training."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kit"] = {"exercise": KIT_TOY, "role": "solution"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _markdown("kit-intro", "# Kit toy\nThe kit's own checks, judged from evidence."),
        _code("kit-setup", _KIT_SETUP),
        _markdown("kit-scheduler-md", "Write the **warmup + cosine** scheduler."),
        _code("kit-blank-scheduler", KIT_SCHEDULER),
        _markdown("kit-check-scheduler-md", "Check your scheduler at several lengths:"),
        _code("kit-check-scheduler", KIT_CHECKS["kit-check-scheduler"], ["check"]),
        _code("kit-blank-native", KIT_NATIVE),
        _markdown("kit-check-native-md", "Check the native schedule against pl_bolts."),
        _code("kit-check-native", KIT_CHECKS["kit-check-native"], ["check"]),
        _code("kit-blank-model", KIT_MODEL),
        _code("kit-check-configure", KIT_CHECKS["kit-check-configure"], ["check"]),
        _code("kit-blank-quiz", answers_source(KIT_ANSWERS)),
        _markdown("kit-check-quiz-md", "Mark your quiz answers."),
        _code("kit-check-quiz", KIT_CHECKS["kit-check-quiz"], ["check"]),
        _code("kit-blank-adamw", KIT_ADAMW),
        _markdown("kit-check-optimizer-md", "Check the optimizer and the choice."),
        _code("kit-check-optimizer", KIT_CHECKS["kit-check-optimizer"], ["check"]),
    ]
    return nb


def build_kit_solutions(folder: Path) -> Path:
    """Execute the kit toy and save it as ``folder/00_kit_toy.ipynb``."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = run_notebook(kit_solution_source(), cwd=folder, timeout=300)
    path = folder / f"{KIT_TOY}.ipynb"
    nbformat.write(nb, path)
    return path


def kit_submission(solution: NotebookNode, **blanks: str) -> NotebookNode:
    """The kit toy's starter with the solution's blanks filled, except those given here
    (cell id -> source); ``extra`` cells go in with :func:`with_cell`."""
    starter = make_starter(solution, f"{KIT_TOY}.ipynb").notebook
    nb = copy.deepcopy(starter)
    for cell_id in ("kit-blank-scheduler", "kit-blank-native", "kit-blank-model", "kit-blank-quiz", "kit-blank-adamw"):
        _cell(nb, cell_id).source = blanks.get(cell_id.replace("-", "_"), "".join(_cell(solution, cell_id).source))
    return nb


def kit_starter(solution: NotebookNode) -> NotebookNode:
    return make_starter(solution, f"{KIT_TOY}.ipynb").notebook


def with_cell(nb: NotebookNode, anchor: str, cell_id: str, source: str) -> NotebookNode:
    """``nb`` with a code cell inserted after cell ``anchor``."""
    return _insert_after(copy.deepcopy(nb), anchor, cell_id, source)


# --------------------------------------------------------------------------- a judged warmup-lambda toy

LAMBDA_TOY = "00_lambda_toy"
LAMBDA_SOLUTION = '''\
def linear_warmup(epoch, warmup_epochs=WARMUP_EPOCHS):
    ### BEGIN SOLUTION: the factor min((epoch + 1) / warmup_epochs, 1.0)
    return min((epoch + 1) / warmup_epochs, 1.0)
    ### END SOLUTION
'''
LAMBDA_HARD_CODED = '''\
def linear_warmup(epoch, warmup_epochs=WARMUP_EPOCHS):
    return min((epoch + 1) / 5, 1.0)  # right at the notebook's 5 only
'''


def lambda_solution_source() -> NotebookNode:
    """A one-blank exercise judged from evidence at probe warmup lengths (helpers.checks.warmup_lambdas)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kit"] = {"exercise": LAMBDA_TOY, "role": "solution"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _markdown("lt-intro", "# Lambda toy\nA linear warmup factor, judged at other warmup lengths too."),
        _code("lt-setup", "from helpers.checks.warmup_lambdas import check_linear_warmup\n\nWARMUP_EPOCHS = 5\n"),
        _code("lt-blank-linear", LAMBDA_SOLUTION),
        _markdown("lt-check-md", "Check your linear warmup:"),
        _code("lt-check-linear", "check_linear_warmup(linear_warmup, WARMUP_EPOCHS)\n", ["check"]),
    ]
    return nb


def build_lambda_solutions(folder: Path) -> Path:
    """Execute the lambda toy and save it as ``folder/00_lambda_toy.ipynb``."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = run_notebook(lambda_solution_source(), cwd=folder, timeout=120)
    path = folder / f"{LAMBDA_TOY}.ipynb"
    nbformat.write(nb, path)
    return path


def lambda_submission(solution: NotebookNode, body: str | None = None) -> NotebookNode:
    """The lambda toy's starter with its blank filled (by the solution's code, or ``body``)."""
    nb = copy.deepcopy(make_starter(solution, f"{LAMBDA_TOY}.ipynb").notebook)
    own = "".join(_cell(solution, "lt-blank-linear").source)
    _cell(nb, "lt-blank-linear").source = body if body is not None else own
    return nb


def processes_with(marker: bytes) -> list[int]:
    """Processes (other than this one) whose command line contains ``marker``: what a graded
    submission may have left running."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@contextlib.contextmanager
def watched_grading(temp: Path) -> Iterator[list[str]]:
    """While a test grades: :mod:`tempfile` writes into ``temp`` (so what a run leaves behind there is
    seen) and every run token the grader kills is recorded, in order (the test then checks that no
    process of any of them survived)."""
    import pytest

    from kit.grade import run as run_module

    tokens: list[str] = []
    kill = run_module.kill_token

    def recording_kill(token: str) -> int:
        tokens.append(token)
        return kill(token)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(temp))
        mp.setattr(run_module, "kill_token", recording_kill)
        yield tokens


def statuses_by_learner(rows: Iterable[R.Row]) -> dict[str, tuple[str, ...]]:
    """Per learner, the statuses of its check rows in grading order (totals and the row for the
    submission as a whole left out)."""
    got: dict[str, list[str]] = {}
    for row in rows:
        if not row.is_total and row.check != R.SUBMISSION_CHECK:
            got.setdefault(row.learner, []).append(row.status)
    return {learner: tuple(statuses) for learner, statuses in got.items()}
