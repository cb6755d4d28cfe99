"""The class report's content from a hand-made class: distribution, pass rates and weights, the
✗ hints counted once per learner, files not graded with their reason, the run's settings, and a
file that needs nothing but itself (no script, no link, no remote resource)."""

from __future__ import annotations

import re
from pathlib import Path

from class_report_fixtures import HINT_DECAY, HINT_PEAK, HINT_ZERO, SETTINGS, class_info, class_rows

from kit.grade import class_report
from kit.grade import rows as R


def test_frequent_mistakes_count_learners() -> None:
    found = {(check, text): n for _, check, text, n in class_report.frequent_mistakes(class_rows())}
    # 01: check j fails when (i + j) % 3 == 0, i in 0..11 -> 4 learners each; 02: i % 4 == 0 -> 3 learners.
    assert found[("wc-check-scheduler", HINT_ZERO)] == 4 and found[("wc-check-native", HINT_PEAK)] == 4
    assert found[("aw-check-optimizer", HINT_ZERO)] == 3 and found[("aw-check-choice", HINT_DECAY)] == 3
    assert not any(text.startswith("✓") for _, text in found)
    again = R.Row("1000", "01_warmup_cosine", "again.ipynb", "wc-check-scheduler", R.FAILED, 0, 0, 2, message=HINT_ZERO)
    counted = {(c, t): n for _, c, t, n in class_report.frequent_mistakes([*class_rows(), again])}
    assert counted[("wc-check-scheduler", HINT_ZERO)] == 4  # the same learner twice counts once


def test_report_content(tmp_path: Path) -> None:
    path = class_report.write(tmp_path, class_rows(), SETTINGS, class_info())
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"(src|href)=['\"]?(https?:)?//", html)
    assert "<h2>01_warmup_cosine</h2>" in html and "<h2>02_adamw_weight_decay</h2>" in html
    assert "the learning rate is 0 in the first epoch" in html
    assert "truncated-json" in html and "upload it again" in html and "Pat Truncated" in html
    assert "../evil.ipynb" in html and "not a notebook (.pdf)" in html
    assert "4711" in html and "on (bubblewrap)" in html and "wc-check-train" in html
    assert "李小龙" in html and "محمد علي" in html and "late" in html
    assert "8 / 12" in html  # wc-check-scheduler: passed / graded
    assert "not graded" in html  # the quick-mode check has no pass rate
    assert html.count("<tr>") > 40


def test_an_empty_run_still_renders(tmp_path: Path) -> None:
    html = class_report.write(tmp_path, [], {"mode": "full"}).read_text()
    assert "Every file found was graded" in html and "No check printed" in html
