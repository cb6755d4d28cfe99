"""A class's grades.csv rows, written by hand to exercise the class report: two exercises, a
spread of scores, repeated ✗ hints, a check not graded in quick mode, files that could not be
graded, names from several scripts, a late learner."""

from __future__ import annotations

from kit.grade import rows as R
from kit.grade.class_report import ClassInfo

CHECKS = {"01_warmup_cosine": ("wc-check-scheduler", "wc-check-native", "wc-check-train"),
          "02_adamw_weight_decay": ("aw-check-optimizer", "aw-check-choice")}
HINT_ZERO = "✗ the learning rate is 0 in the first epoch — start the warmup at (epoch + 1) / warmup_epochs"
HINT_PEAK = "✗ peak learning rate 0.05 at epoch 25 — the peak must be base_lr"
HINT_DECAY = "✗ weight_decay passed to Adam — AdamW decouples it"


def class_rows() -> list[R.Row]:
    rows: list[R.Row] = []
    for i in range(12):
        learner = f"10{i:02d}"
        for exercise, checks in CHECKS.items():
            sub = f"{learner}/{exercise}.ipynb"
            group = []
            for j, check in enumerate(checks):
                if check == "wc-check-train":
                    group.append(R.Row(learner, exercise, sub, check, R.NOT_GRADED_QUICK, 0, 0, 2,
                                       message="needs the full training"))
                    continue
                ok = (i + j) % 3 != 0 if exercise.startswith("01") else i % 4 != 0
                if ok:
                    group.append(R.Row(learner, exercise, sub, check, R.PASSED, 1, 2, 2))
                    continue
                hint = HINT_ZERO if j == 0 else HINT_PEAK if exercise.startswith("01") else HINT_DECAY
                group.append(R.Row(learner, exercise, sub, check, R.FAILED, 0, 0, 2, message=f"{hint}\n  ✓ other"))
            rows += [*group, R.total_row(group, message="graded in 40 s")]
    bad = R.Row("2001", "01_warmup_cosine", "2001/01.ipynb", R.SUBMISSION_CHECK, R.TRUNCATED_JSON, 0, 0, 6,
                message="the notebook file ends early (after 1200 bytes): upload it again")
    return [*rows, bad, R.total_row([bad], max_points=6)]


def class_info() -> ClassInfo:
    names = {f"10{i:02d}": n for i, n in enumerate(["Ada Lovelace", "Zoë Ångström", "李小龙", "Ada Lovelace",
                                                    "Ольга Петрова", "🙂 Smile", "Grace Hopper", "Alan Turing",
                                                    "محمد علي", "Kofi Mensah", "Ana Souza", "Tomás Ruiz"])}
    names["2001"] = "Pat Truncated"
    return ClassInfo(names=names, late=frozenset({"1002"}), points=20.0,
                     skipped=(("lovelaceada_1000_1_report.pdf", "not a notebook (.pdf): not graded"),
                              ("../evil.ipynb", "'..' in the path (would be written outside the output folder)")),
                     lms="canvas")


SETTINGS: dict[str, object] = {"mode": "quick", "sandbox": True, "jobs": 2, "submissions": 25, "seconds": 512.3,
                               "probe_seeds": {"01_warmup_cosine": 4711},
                               "not_graded_in_quick_mode": {"01_warmup_cosine": ["wc-check-train"]}}
