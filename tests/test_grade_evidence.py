"""Judged checks end to end (the kit toy, quick mode, 2 jobs): tampering gains nothing, fairness holds.

Every submission is the kit toy's starter (blanks wrong) or its solution plus one kind of attack
or one fairness case (tests/grade_fixtures.py builds the toy). The verdicts are computed by the
grader from evidence, so each row's status and points are asserted exactly.
"""

from __future__ import annotations

import copy
import uuid

import nbformat
import pytest
from grade_fixtures import (
    KIT_ANSWERS,
    KIT_TOY,
    answers_source,
    build_kit_solutions,
    kit_starter,
    kit_submission,
    with_cell,
)

from kit.grade import rows as R
from kit.grade.__main__ import main

P, F, E = R.PASSED, R.FAILED, R.ERROR
CHECKS = ("kit-check-scheduler", "kit-check-native", "kit-check-configure", "kit-check-quiz", "kit-check-optimizer")
FULL, ZERO = (1, 1, 1, 1, 1), (0, 0, 0, 0, 0)

# Kit objects replaced in the kernel (on the starter, whose blanks are all wrong): each must gain nothing.
_ALWAYS_PASS_REPORT = '''\
import helpers.checks.report as report_module
import helpers.checks.warmup_cosine as wc
import helpers.quiz as quiz

class Passing(report_module.CheckReport):
    @property
    def passed(self):
        return True
    def failed(self):
        return []
    def add(self, name, passed, hint=""):
        return super().add(name, True, "")

report_module.CheckReport = wc.CheckReport = quiz.CheckReport = Passing
report_module.Criterion.__init__ = lambda self, name, passed, hint="": object.__setattr__(self, "name", name) or \\
    object.__setattr__(self, "passed", True) or object.__setattr__(self, "hint", "")
'''
_FAKE_CHECKS = '''\
import helpers.checks.warmup_cosine as wc
import helpers.quiz as quiz
wc.check_warmup_schedule = wc.check_native_schedule = wc.check_configure_optimizers = (
    lambda *a, **k: print("  ✓ all good"))
check_warmup_schedule = check_native_schedule = check_configure_optimizers = check_answers = wc.check_warmup_schedule
quiz.check_answers = wc.check_warmup_schedule
'''
# A collector that returns the course length's correct curve for every length it is asked.
_FAKE_COLLECTORS = '''\
import numpy as np
import helpers.checks.warmup_cosine as wc
import helpers.checks.quiz_answers as qa
from helpers.checks.warmup_cosine_evidence import LRRun, ScheduleEvidence, SchedulerInfo
from helpers.schedules import warmup_cosine_lr

def fake(factory, num_epochs=100, base_lr=0.1, probes=()):
    right = np.array([warmup_cosine_lr(e, base_lr=base_lr, warmup_epochs=25, max_epochs=100) for e in range(100)])
    info = SchedulerInfo("LambdaLR", "torch.optim.lr_scheduler")
    return ScheduleEvidence(num_epochs, base_lr, {n: LRRun(np.resize(right, n), 1, "", info)
                                                  for n in (num_epochs, 100, *probes)})

def fake_answers(answers, quiz=None):
    return qa.QuizEvidence({f"q{i}": "Z" for i in range(1, 15)})

# Well-formed evidence of the right kind from the kit's own classes, computed from hard-coded lengths.
for check in (wc.check_warmup_schedule, wc.check_native_schedule):
    object.__setattr__(check, "collect", fake)
object.__setattr__(qa.ANSWERS, "collect", fake_answers)
'''
# The evidence writer itself replaced: it writes plausible evidence (a hard-coded 25-epoch warmup).
_FAKE_WRITER = '''\
import json, os
import numpy as np
import helpers.evidence as ev
from helpers.schedules import warmup_cosine_lr

def forged(check_id, source, namespace, options=None, fallback_dir=None):
    folder = ev.evidence_dir(fallback_dir)
    probes = list((options or {}).get("probes", []))
    runs = {}
    for n in (100, *probes):
        lr = np.array([warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=25, max_epochs=max(n, 26)) for e in range(n)])
        np.save(folder / f"f{n}.npy", lr)
        runs[str(n)] = {"lr": {"__npy__": f"f{n}.npy"}, "steps_per_epoch": 1, "error": "",
                        "scheduler": {"name": "LambdaLR", "module": "torch.optim.lr_scheduler"}}
    name = source.split("(")[0]
    data = {"num_epochs": 100, "base_lr": 0.1, "runs": runs}
    if name == "check_answers":
        data = {"answers": {f"q{i}": "Z" for i in range(1, 15)}}
    kind = {"check_answers": "quiz-answers"}.get(name, "warmup-cosine-schedule")
    record = {"check": check_id, "calls": [{"function": name, "kind": kind, "version": 1, "data": data}]}
    (folder / f"{check_id}.json").write_text(json.dumps(record))

ev.record_cell = forged
'''
_SILENT = '''\
import builtins, io, sys
builtins.print = lambda *args, **kwargs: None
sys.stdout = io.StringIO()
'''
_BROKEN_JSON = '''\
import json
json.dumps = lambda *args, **kwargs: '{"check": "kit-check-scheduler", "calls": [{"function": "x"'
'''
_NUMPY = '''\
import numpy as np
np.allclose = lambda *a, **k: True
np.abs = lambda x: x * 0
np.diff = lambda x, *a, **k: np.ones(max(len(x) - 1, 0))
'''
# Written after every evidence cell ran: overwrites the real evidence with a hard-coded schedule.
_OVERWRITE = '''\
import json, os
from pathlib import Path
import numpy as np
from helpers.schedules import warmup_cosine_lr
folder = Path(os.environ["KIT_EVIDENCE_DIR"])
record = json.loads((folder / "kit-check-scheduler.json").read_text())
for n, run in record["calls"][0]["data"]["runs"].items():
    if int(n) < 20:
        continue
    lr = np.array([warmup_cosine_lr(e, base_lr=0.1, warmup_epochs=10, max_epochs=int(n)) for e in range(int(n))])
    np.save(folder / f"over{n}.npy", lr)
    run.update(lr={"__npy__": f"over{n}.npy"}, error="")
(folder / "kit-check-scheduler.json").write_text(json.dumps(record))
(folder / "kit-check-quiz.json").write_text("{not json")
'''
# Brute-force the quiz file the sandbox shows (its hashes are decoys in grading).
_RECOVER_KEYS = '''\
import json, string
from pathlib import Path
import helpers.quiz as quiz
data = json.loads(Path(quiz.DEFAULT_QUIZ).read_text())
recovered = {}
for q in data["questions"]:
    if q["kind"] == "choice":
        for letter in string.ascii_uppercase[:len(q["options"])]:
            if quiz.answer_hash(data["salt"], q["id"], letter) == q["answer_hash"]:
                recovered[q["id"]] = letter
    else:
        for k in range(-20000, 20000):
            text = quiz._grid_text(k, q["decimals"])
            if quiz.answer_hash(data["salt"], q["id"], text) == q["answer_hash"]:
                recovered[q["id"]] = float(text)
                break
quiz_answers = lambda: recovered
'''
# The instructor's solution, if it can be found from the kit: executed cell by cell.
_RUN_SOLUTIONS = '''\
import json
from pathlib import Path
import helpers
for folder in Path(helpers.__file__).resolve().parents[1].glob("**/solutions"):
    for path in folder.glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code" and "check" not in cell["metadata"].get("tags", []):
                exec("".join(cell["source"]), globals())
'''

# Adam with L2 disguised as AdamW (class name and module claimed): behaviour shows the L2.
# (Not the decoupled_weight_decay flag: in torch 2.x that flag really makes Adam decoupled.)
_DISGUISED_ADAMW = '''\
class AdamW(torch.optim.Adam):
    def __init__(self, params, lr=0.001, weight_decay=0.01, **kwargs):
        super().__init__(params, lr=lr, weight_decay=weight_decay, **kwargs)

AdamW.__name__ = AdamW.__qualname__ = "AdamW"
AdamW.__module__ = "torch.optim.adamw"
torch.optim.AdamW = AdamW
'''
ADAM_L2 = '''\
class AdamWModel(ClassifierModule):
    def __init__(self, weight_decay, learning_rate=0.005, num_epochs=num_epochs):
        super().__init__(learning_rate=learning_rate, num_epochs=num_epochs)
        self.weight_decay = weight_decay

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def choose_weight_decay(sweep_table):
    return 0.1  # typed in: right on the example table only
'''

HARD_CODED_40 = '''\
def make_warmup_scheduler(optimizer, num_epochs):
    warmup = 25 if num_epochs == 100 else 10  # right at the course length and at 40 epochs only
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=warmup, max_epochs=num_epochs, warmup_start_lr=0.0)
'''
FLOAT_WARMUP = '''\
def make_warmup_scheduler(optimizer, num_epochs):
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=0.25 * num_epochs, max_epochs=num_epochs,
                                         warmup_start_lr=0.0)
'''
NATIVE_OFF_BY_ONE = '''\
def make_native_scheduler(optimizer, num_epochs):
    warmup_epochs = int(0.25 * num_epochs)

    def factor(epoch):
        if epoch < warmup_epochs:
            return (epoch + 1) / warmup_epochs
        return 0.5 * (1 + math.cos(math.pi * (epoch - warmup_epochs) / (num_epochs - warmup_epochs)))

    return LambdaLR(optimizer, factor)
'''


def _class(solution: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    starter = kit_starter(solution)
    good = kit_submission(solution)
    tamper = {name: with_cell(starter, "kit-setup", "attack", source) for name, source in {
        "report": _ALWAYS_PASS_REPORT, "checks": _FAKE_CHECKS, "collectors": _FAKE_COLLECTORS,
        "writer": _FAKE_WRITER, "silent": _SILENT, "json": _BROKEN_JSON, "numpy": _NUMPY,
        "solutions": _RUN_SOLUTIONS,
    }.items()}
    tamper["overwrite"] = with_cell(starter, "kit-check-quiz", "attack", _OVERWRITE)
    tamper["keys"] = with_cell(starter, "kit-blank-quiz", "attack", _RECOVER_KEYS)
    tamper["adamw"] = with_cell(kit_submission(solution, kit_blank_adamw=ADAM_L2), "kit-setup", "attack",
                                _DISGUISED_ADAMW)
    twelve = dict(KIT_ANSWERS, q1="A", q5=0.5)
    within = dict(KIT_ANSWERS, q12="0,10025", q5=0.030049, q4=-0.0)  # inside the tolerance, written differently
    regenerated = copy.deepcopy(good)
    for cell in regenerated.cells:
        cell["id"] = uuid.uuid4().hex[:8]
    by_hand = copy.deepcopy(good)
    setup = next(c for c in by_hand.cells if c.get("id") == "kit-setup")
    setup.source = "".join(setup.source).replace("num_epochs = course_epochs(100)", "num_epochs = 50")
    return {
        "solution": good,
        "starter": starter,
        **{f"tamper-{name}": nb for name, nb in tamper.items()},
        "silent-solution": with_cell(good, "kit-setup", "quiet", _SILENT),
        "hard-coded-40": kit_submission(solution, kit_blank_scheduler=HARD_CODED_40),
        "float-warmup": kit_submission(solution, kit_blank_scheduler=FLOAT_WARMUP),
        "native-off-by-one": kit_submission(solution, kit_blank_native=NATIVE_OFF_BY_ONE),
        "twelve-of-fourteen": kit_submission(solution, kit_blank_quiz=answers_source(twelve)),
        "within-tolerance": kit_submission(solution, kit_blank_quiz=answers_source(within)),
        "regenerated-ids": regenerated,
        "epochs-by-hand": by_hand,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, R.Row]]:
    base = tmp_path_factory.mktemp("evidence")
    solution = nbformat.read(build_kit_solutions(base / "solutions"), as_version=4)
    for learner, nb in _class(solution).items():
        (base / "class" / learner).mkdir(parents=True)
        nbformat.write(nb, base / "class" / learner / f"{KIT_TOY}.ipynb")
    status = main([str(base / "class"), "--out", str(base / "out"), "--solutions", str(base / "solutions"),
                   "--quick", "--jobs", "2"])
    assert status == 0
    rows: dict[str, dict[str, R.Row]] = {}
    for row in R.read_csv(base / "out" / "grades.csv"):
        rows.setdefault(row.learner, {})[row.check] = row
    return rows


def _points(rows: dict[str, R.Row]) -> tuple[float, ...]:
    return tuple(rows[c].points for c in CHECKS)


def test_solution_full_marks_starter_zero(graded) -> None:
    assert _points(graded["solution"]) == FULL
    assert _points(graded["starter"]) == ZERO


@pytest.mark.parametrize("attack", ["report", "checks", "collectors", "writer", "silent", "json", "numpy",
                                    "solutions", "overwrite"])
def test_tampering_with_kit_objects_or_evidence_gains_no_point(graded,
                                                               attack: str) -> None:
    rows = graded[f"tamper-{attack}"]
    assert _points(rows) == ZERO, {c: (rows[c].status, rows[c].message) for c in CHECKS}
    assert all(rows[c].status != P for c in CHECKS)  # failed or error (a broken json also breaks the kernel)
    assert rows["TOTAL"].points == 0


def test_recovered_quiz_keys_are_decoys(graded) -> None:
    rows = graded["tamper-keys"]
    assert _points(rows)[:3] == (0, 0, 0) and rows["kit-check-optimizer"].points == 0
    quiz = rows["kit-check-quiz"]
    assert quiz.status == F and quiz.points < 0.5  # numbers never match a decoy; letters at chance


def test_disguised_adam_is_judged_by_its_updates(graded) -> None:
    rows = graded["tamper-adamw"]
    assert _points(rows) == (1, 1, 1, 1, 0)  # the rest is the solution's
    message = rows["kit-check-optimizer"].message
    assert "Adam with weight_decay, the common mistake" in message
    assert "returns 0.1 whatever the table says" in message


def test_broken_evidence_fails_with_a_message(graded) -> None:
    rows = graded["tamper-json"]
    assert all("evidence" in rows[c].message for c in CHECKS)
    assert "evidence" in graded["tamper-overwrite"]["kit-check-quiz"].message


def test_printing_replaced_does_not_cost_a_correct_notebook(graded) -> None:
    assert _points(graded["silent-solution"]) == FULL


def test_hard_coded_and_float_warmups_fail_at_a_probe(graded) -> None:
    hard = graded["hard-coded-40"]
    assert (hard["kit-check-scheduler"].status, hard["kit-check-scheduler"].points) == (F, 0)
    assert "✗ lengths follow num_epochs" in hard["kit-check-scheduler"].message
    # configure_optimizers uses the same hard-coded scheduler: caught there too.
    assert "✗ max_epochs follows self.num_epochs" in hard["kit-check-configure"].message
    assert _points(hard) == (0, 1, 0, 1, 1)
    floating = graded["float-warmup"]
    assert "✗ lengths follow num_epochs" in floating["kit-check-scheduler"].message
    assert _points(floating) == (0, 1, 0, 1, 1)  # right at 100 (25.0), wrong where 25 % is not whole
    off = graded["native-off-by-one"]
    assert _points(off) == (1, 0, 1, 1, 1) and "equals pl_bolts" in off["kit-check-native"].message


def test_quiz_scores_each_question(graded) -> None:
    row = graded["twelve-of-fourteen"]["kit-check-quiz"]
    assert (row.status, row.passed, row.max_points) == (F, 0, 1)
    assert row.points == pytest.approx(12 / 14, abs=1e-4)
    assert row.message.startswith("12/14 right; ✗ q1 (easy)")
    assert graded["twelve-of-fourteen"]["TOTAL"].points == pytest.approx(4 + 12 / 14, abs=1e-3)
    assert graded["within-tolerance"]["kit-check-quiz"].status == P


def test_regenerated_ids_graded_as_the_solution(graded) -> None:
    rows = graded["regenerated-ids"]
    assert _points(rows) == FULL
    assert all(rows[c].restored == "" and "deleted" not in rows[c].message for c in CHECKS)


def test_epochs_set_by_hand_are_reported(graded) -> None:
    rows = graded["epochs-by-hand"]
    # The schedules are right, judged at 100 and the probes; the optimizer check's epoch criterion names it.
    assert _points(rows) == (1, 1, 1, 1, 0)
    assert "num_epochs is 50, set by hand" in rows["kit-check-optimizer"].message
    assert "num_epochs is set by hand (50)" in rows["TOTAL"].message
