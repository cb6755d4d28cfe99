"""helpers.checks.adamw: each common mistake gets its own ✗ line and hint; nothing is trained."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import torch
from solution_cells import run_cells

from helpers.checks.adamw import (
    PROBE_WEIGHT_DECAY,
    check_optimizer,
    check_weight_decay_choice,
    example_sweep_table,
)
from helpers.settings import COURSE_EPOCHS, QUICK_EPOCHS_ENV
from helpers.training import ClassifierModule


@pytest.fixture(autouse=True)
def _full_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(QUICK_EPOCHS_ENV, raising=False)


class Solution(ClassifierModule):
    """The template with the blank filled in correctly."""

    def __init__(self, weight_decay: float, learning_rate: float = 0.005, num_epochs: int = 100) -> None:
        super().__init__(learning_rate=learning_rate, num_epochs=num_epochs)
        self.weight_decay = weight_decay

    def make_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)

    def configure_optimizers(self) -> Any:
        optimizer = self.make_optimizer()
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def _variant(make_optimizer=None, **overrides: Any) -> type:
    """A subclass of Solution with another optimizer line and/or other constructor defaults."""
    namespace: dict[str, Any] = {}
    if make_optimizer is not None:
        namespace["make_optimizer"] = make_optimizer
    if overrides:
        def __init__(self, weight_decay: float, **kwargs: Any) -> None:
            Solution.__init__(self, weight_decay, **{**overrides, **kwargs})

        namespace["__init__"] = __init__
    return type("LightningModel", (Solution,), namespace)


def _lines(report) -> dict[str, Any]:
    return {c.name: c for c in report.criteria}


def _failed_hint(report, fragment: str) -> str:
    """The hint of the single failed criterion; it must contain ``fragment``."""
    failed = report.failed()
    assert len(failed) == 1, report.text()
    assert fragment in failed[0].hint, report.text()
    return failed[0].hint


# --------------------------------------------------------------------------------------------
# check_optimizer
# --------------------------------------------------------------------------------------------


def test_the_solution_notebooks_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """The solution's own blanks, run from its cells, pass the notebook's check calls."""
    namespace = run_cells("02_adamw_weight_decay.ipynb", "ex2-imports", "ex2-blank-optimizer", "ex2-blank-choice",
                          num_epochs=COURSE_EPOCHS, sweep_table=example_sweep_table())
    namespace["check_optimizer"](namespace["LightningModel"], weight_decay=0.1, num_epochs=COURSE_EPOCHS)
    namespace["check_weight_decay_choice"](namespace["choose_weight_decay"])
    out = capsys.readouterr().out
    assert out.count("— well done") == 2 and "✗" not in out, out


def test_correct_solution_passes_every_criterion() -> None:
    report = check_optimizer.evaluate(Solution, weight_decay=0.1, num_epochs=100)
    assert report.passed, report.text()
    assert all(c.passed for c in report.criteria)
    assert len(report.criteria) == 6
    assert "well done" in report.text()


def test_adam_with_weight_decay_is_named_as_the_common_mistake() -> None:
    model = _variant(lambda self: torch.optim.Adam(self.parameters(), lr=self.learning_rate,
                                                   weight_decay=self.weight_decay))
    hint = _failed_hint(check_optimizer.evaluate(model), "common mistake")
    assert "torch.optim.AdamW" in hint and "L2" in hint


def test_untouched_template_adam_is_reported() -> None:
    model = _variant(lambda self: torch.optim.Adam(self.parameters(), lr=self.learning_rate))
    report = check_optimizer.evaluate(model)
    assert "still the template's torch.optim.Adam" in _lines(report)["optimizer is AdamW (decoupled weight decay)"].hint
    # Adam without weight_decay also ignores self.weight_decay
    assert "weight_decay is the one you pass, not AdamW's default 0.01" in [c.name for c in report.failed()]


def test_other_optimizer_is_named() -> None:
    model = _variant(lambda self: torch.optim.SGD(self.parameters(), lr=self.learning_rate,
                                                  weight_decay=self.weight_decay))
    _failed_hint(check_optimizer.evaluate(model), "found torch.optim.SGD")


def test_adam_with_decoupled_flag_counts_as_adamw() -> None:
    model = _variant(
        lambda self: torch.optim.Adam(
            self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay, decoupled_weight_decay=True
        )
    )
    assert check_optimizer.evaluate(model).passed


def test_weight_decay_left_at_adamw_default_is_caught() -> None:
    model = _variant(lambda self: torch.optim.AdamW(self.parameters(), lr=self.learning_rate))
    hint = _failed_hint(check_optimizer.evaluate(model), "AdamW's default")
    assert f"weight_decay={PROBE_WEIGHT_DECAY}" in hint and "self.weight_decay" in hint


def test_weight_decay_hard_coded_to_another_value_is_caught() -> None:
    model = _variant(lambda self: torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=0.2))
    _failed_hint(check_optimizer.evaluate(model), "weight_decay 0.2")


def test_hard_coded_learning_rate_is_caught() -> None:
    model = _variant(lambda self: torch.optim.AdamW(self.parameters(), lr=0.001, weight_decay=self.weight_decay))
    hint = _failed_hint(check_optimizer.evaluate(model), "hard-coded lr")
    assert "lr=0.001" in hint and "self.learning_rate is 0.005" in hint


def test_changed_template_learning_rate_is_caught() -> None:
    _failed_hint(check_optimizer.evaluate(_variant(learning_rate=0.001)), "keep the template's 0.005")


@pytest.mark.parametrize(
    ("configure", "fragment"),
    [
        (lambda self: self.make_optimizer(), "no scheduler is returned"),
        (
            lambda self: (lambda o: {"optimizer": o, "lr_scheduler": torch.optim.lr_scheduler.StepLR(o, 10)})(
                self.make_optimizer()
            ),
            "found StepLR",
        ),
        (
            lambda self: (lambda o: ([o], [torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50)]))(
                self.make_optimizer()
            ),
            "T_max is 50 but num_epochs is 100",
        ),
        (
            lambda self: (
                lambda o: {
                    "optimizer": o,
                    "lr_scheduler": {
                        "scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=self.num_epochs),
                        "interval": "step",
                    },
                }
            )(self.make_optimizer()),
            "steps every 'step'",
        ),
    ],
    ids=["missing", "other-scheduler", "t-max", "per-step"],
)
def test_scheduler_changes_are_caught(configure, fragment: str) -> None:
    model = type("LightningModel", (Solution,), {"configure_optimizers": configure})
    _failed_hint(check_optimizer.evaluate(model), fragment)


def test_tuple_of_lists_with_the_right_scheduler_passes() -> None:
    def configure(self):
        optimizer = self.make_optimizer()
        return [optimizer], [torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)]

    assert check_optimizer.evaluate(type("LightningModel", (Solution,), {"configure_optimizers": configure})).passed


def test_cut_epochs_are_caught_and_skipped_in_quick_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    short = _variant(num_epochs=20)
    _failed_hint(check_optimizer.evaluate(short), "the model's num_epochs is 20")
    _failed_hint(check_optimizer.evaluate(Solution, num_epochs=30), "num_epochs is 30")
    monkeypatch.setenv(QUICK_EPOCHS_ENV, "3")
    report = check_optimizer.evaluate(short)
    assert report.passed
    skipped = [c for c in report.criteria if c.passed is None]
    assert len(skipped) == 1 and "quick mode" in skipped[0].line()


@pytest.mark.parametrize(("value", "fragment"), [(0.0, "nothing decays"), (50.0, "absurd")])
def test_weight_decay_value_out_of_range(value: float, fragment: str) -> None:
    _failed_hint(check_optimizer.evaluate(Solution, weight_decay=value), fragment)


def test_unfilled_blank_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    def blank(self):
        raise NotImplementedError("use torch.optim.AdamW with lr=self.learning_rate")

    model = _variant(blank)
    report = check_optimizer.evaluate(model)
    assert [c.line() for c in report.criteria] == [
        (f"✗ the blank in {model.__name__}.configure_optimizers is filled in — not yet: use torch.optim.AdamW with "
            f"lr=self.learning_rate")
    ]
    assert check_optimizer(model) is None  # type: ignore[func-returns-value]  # it prints, returns nothing
    assert "✗ the blank in" in capsys.readouterr().out  # the blank's own wording


def test_constructor_without_weight_decay_is_reported() -> None:
    class NoArgument(ClassifierModule):
        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters())

    report = check_optimizer.evaluate(NoArgument)
    assert not report.passed and "takes weight_decay" in report.hints()[0]


def test_misuse_raises_with_what_to_pass() -> None:
    with pytest.raises(TypeError, match="pass the class itself"):
        check_optimizer.evaluate(Solution(0.1))
    with pytest.raises(TypeError, match="weight_decay must be a number"):
        check_optimizer.evaluate(Solution, weight_decay="0.1")
    with pytest.raises(TypeError, match="num_epochs must be an int"):
        check_optimizer.evaluate(Solution, num_epochs=100.0)


# --------------------------------------------------------------------------------------------
# check_weight_decay_choice
# --------------------------------------------------------------------------------------------


@pytest.fixture
def table() -> pd.DataFrame:
    """A sweep table where validation favours 0.1, test 0.3 and training 0.01."""
    return example_sweep_table().assign(seconds=30.0)


def by_validation(sweep_table: pd.DataFrame) -> float:
    return float(sweep_table["val_acc"].idxmax())


def test_choice_by_validation_passes(table: pd.DataFrame) -> None:
    report = check_weight_decay_choice.evaluate(by_validation, table)
    assert report.passed and all(c.passed for c in report.criteria[1:]), report.text()
    assert len(report.criteria) == 7
    # a hand-made table has no sweep runs behind it: the notebook skips the weights, the grader fails them
    assert report.criteria[0].passed is None and "no sweep_weight_decay(...) result" in report.criteria[0].hint


def test_choice_by_test_accuracy_is_caught(table: pd.DataFrame) -> None:
    def by_test(sweep_table):
        return sweep_table["test_acc"].idxmax()

    report = check_weight_decay_choice.evaluate(by_test, table)
    hints = report.hints()
    assert len(hints) == 2, report.text()
    assert "best is at [0.1]" in hints[0]
    assert "reads test metrics" in hints[1]


def test_test_reading_is_caught_even_when_it_agrees_with_validation(table: pd.DataFrame) -> None:
    def val_then_test(sweep_table):  # a learner's tie-breaker that peeks at the test set
        ranked = sweep_table.sort_values(["val_acc", "test_acc"], ascending=False)
        return ranked.index[0]

    _failed_hint(check_weight_decay_choice.evaluate(val_then_test, table), "it reads test metrics")


def test_test_following_without_needing_the_column_is_caught(table: pd.DataFrame) -> None:
    def by_any_test_column(sweep_table):
        columns = [c for c in sweep_table.columns if c.startswith("test")] or ["val_acc"]
        return sweep_table[columns[0]].idxmax()

    report = check_weight_decay_choice.evaluate(by_any_test_column, table)
    assert "follows test accuracy" in report.hints()[-1], report.text()


def test_choice_by_training_accuracy_is_caught(table: pd.DataFrame) -> None:
    report = check_weight_decay_choice.evaluate(lambda t: t["train_acc"].idxmax(), table)
    assert "follows training accuracy" in report.hints()[-1]


def test_typed_in_number_is_caught_even_when_right(table: pd.DataFrame) -> None:
    _failed_hint(check_weight_decay_choice.evaluate(lambda t: 0.1, table), "instead of typing a number")


def test_default_left_in_place_is_named(table: pd.DataFrame) -> None:
    report = check_weight_decay_choice.evaluate(0.01, table)
    assert "AdamW's default" in report.hints()[0]


def test_number_choice_is_judged_against_the_table(table: pd.DataFrame) -> None:
    assert check_weight_decay_choice.evaluate(0.1, table).passed
    report = check_weight_decay_choice.evaluate(0.3, table)
    assert "this is the best test accuracy" in report.hints()[-1]


def test_choice_outside_the_sweep_is_caught(table: pd.DataFrame) -> None:
    _failed_hint(check_weight_decay_choice.evaluate(lambda t: 0.2, table), "return one of")


def test_unfilled_choice_blank_is_reported(table: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    def choose_weight_decay(sweep_table):
        raise NotImplementedError("pick the weight decay with the best validation accuracy")

    report = check_weight_decay_choice.evaluate(choose_weight_decay, table)
    assert [c.line() for c in report.criteria] == [
        ("✗ the blank in choose_weight_decay is filled in — not yet: pick the weight decay with the best validation "
            "accuracy")
    ]
    assert check_weight_decay_choice(choose_weight_decay, table) is None  # type: ignore[func-returns-value]  # it prints, returns nothing
    assert "0/1 passed" in capsys.readouterr().out


def test_crashing_choice_is_reported(table: pd.DataFrame) -> None:
    report = check_weight_decay_choice.evaluate(lambda t: t["validation"].idxmax(), table)
    assert not report.passed and "KeyError" in report.hints()[0]


@pytest.mark.parametrize(("returned", "shown"), [
    (None, "got None"),
    ("abc", "got 'abc'"),
    (torch.tensor([0.1, 0.3]), "got tensor([0.1000, 0.3000])"),
    (10**400, "got 1000000000"),  # beyond float's range: a number it is not, and nothing raised
    (float("nan"), "got nan"),
])
def test_an_answer_that_is_no_number_is_shown_as_returned(table: pd.DataFrame, returned: object, shown: str) -> None:
    report = check_weight_decay_choice.evaluate(lambda t: returned, table)
    failed = report.failed()
    assert [c.name for c in failed] == ["choice is one of the swept weight decays"], report.text()
    assert failed[0].hint.startswith(shown) and "raised" not in failed[0].hint


def test_a_table_cell_beyond_float_is_no_number_not_a_crash(table: pd.DataFrame) -> None:
    huge = table.astype({"val_acc": object})
    huge.loc[0.3, "val_acc"] = 10**400
    report = check_weight_decay_choice.evaluate(by_validation, huge)
    assert "0.1 has val_acc 0.8930; the best is at [0.1]" not in report.text()
    assert any("val_acc nan" in hint for hint in report.hints()), report.text()


def test_sweep_too_small_narrow_or_short(table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    _failed_hint(check_weight_decay_choice.evaluate(by_validation, table.iloc[1:4]), "only 3 values")
    narrow = table.rename(index={0.01: 0.02})
    _failed_hint(check_weight_decay_choice.evaluate(by_validation, narrow), "include 0.01 and 1")
    short = table.assign(epochs=[100, 100, 20, 100, 100])
    _failed_hint(check_weight_decay_choice.evaluate(by_validation, short), "{0.1: 20}")
    monkeypatch.setenv(QUICK_EPOCHS_ENV, "2")
    assert check_weight_decay_choice.evaluate(by_validation, short).passed


def test_learner_table_is_never_modified(table: pd.DataFrame) -> None:
    before = table.copy()

    def mutating(sweep_table):
        sweep_table["val_acc"] = 0.0
        return 0.1

    check_weight_decay_choice.evaluate(mutating, table)
    pd.testing.assert_frame_equal(table, before)


def test_without_a_table_the_function_is_judged_on_the_example() -> None:
    report = check_weight_decay_choice.evaluate(by_validation)
    assert report.title == "Checking by_validation on an example sweep table"
    assert report.passed and len(report.criteria) == 4, report.text()
    test_report = check_weight_decay_choice.evaluate(lambda t: t["test_acc"].idxmax())
    assert "the best is at [0.1]" in test_report.hints()[0]
    assert "reads test metrics" in test_report.hints()[1]
    with pytest.raises(TypeError, match="pass the sweep table too"):
        check_weight_decay_choice.evaluate(0.1)


def test_choice_misuse_raises(table: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="pandas DataFrame"):
        check_weight_decay_choice.evaluate(by_validation, table.to_dict())
    with pytest.raises(ValueError, match="'val_acc' column"):
        check_weight_decay_choice.evaluate(by_validation, table.drop(columns="val_acc"))
    with pytest.raises(TypeError, match="choose_weight_decay"):
        check_weight_decay_choice.evaluate("0.1", table)


# --------------------------------------------------------------------------------------------
# the typed evidence, as the grader loads it
# --------------------------------------------------------------------------------------------


def _through_json(evidence: Any) -> Any:
    """The evidence written and read back as the grader does (arrays as side files, every field checked)."""
    import json

    from helpers.evidence_codec import from_plain, to_plain

    files: dict[str, object] = {}

    def side(value: object) -> str:
        files[f"side.{len(files)}"] = value
        return f"side.{len(files) - 1}"

    plain = json.loads(json.dumps(to_plain(evidence, side)))
    return from_plain(type(evidence), plain, lambda kind, name: files[str(name)])


@pytest.mark.parametrize("make_optimizer", [None, lambda self: torch.optim.Adam(
    self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)], ids=["solution", "adam-l2"])
def test_optimizer_evidence_judges_the_same_after_json(make_optimizer) -> None:
    evidence = check_optimizer.collect(_variant(make_optimizer), weight_decay=0.1, num_epochs=COURSE_EPOCHS)
    assert check_optimizer.judge(_through_json(evidence), None).text() == check_optimizer.judge(evidence, None).text()


def test_choice_evidence_judges_the_same_after_json(table: pd.DataFrame) -> None:
    for choice in (by_validation, lambda t: t["test_acc"].idxmax(), 0.3):
        evidence = check_weight_decay_choice.collect(choice, table)
        assert (check_weight_decay_choice.judge(_through_json(evidence), None).text()
                == check_weight_decay_choice.judge(evidence, None).text())


def test_forged_choice_evidence_gains_nothing(table: pd.DataFrame) -> None:
    import dataclasses

    from helpers.checks.adamw import Answer, Answers

    evidence = check_weight_decay_choice.collect(lambda t: 0.1, table)
    assert isinstance(evidence.choice, Answers)
    # right answers claimed for fewer altered tables than the judge shows: none was recorded for them
    fewer = dataclasses.replace(evidence, choice=dataclasses.replace(evidence.choice, on_altered=(Answer(0.1),)))
    hint = _failed_hint(check_weight_decay_choice.judge(fewer, None), "failed on an altered copy")
    assert "no answer was recorded" in hint
    # the grader fixes sweep_table=None when the check cell passes no table: judged on its own example
    example = check_weight_decay_choice.judge(dataclasses.replace(evidence, sweep_table=None), None)
    assert example.title.endswith("on an example sweep table") and not example.passed
