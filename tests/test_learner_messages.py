"""What the self-checks say to a learner, end to end through the public
checks' ``evaluate``: the actual mistake is named, a forgotten ``return`` is a ✗ line, and the
printed text is plain (no Markdown backticks)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR
from torch.optim.lr_scheduler import LambdaLR

import helpers  # noqa: F401  (the kit's warning filters before pl_bolts)
from helpers.checks import adamw, warmup_cosine, warmup_lambdas
from helpers.training import ClassifierModule

W = 5


def failing(report) -> list[str]:
    return [c.line() for c in report.criteria if c.passed is False]


def plain(report) -> str:
    text = report.text()
    assert "`" not in text, text  # printed output is plain text, not Markdown
    return text


# --- Ex1: a warmup of 0.25 * num_epochs left as a float -------------------------------------------------


def float_warmup(optimizer, num_epochs):
    return LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=0.25 * num_epochs, max_epochs=num_epochs,
                                         warmup_start_lr=0.0)


@pytest.mark.parametrize("num_epochs", [100, 50, 4])
def test_a_float_warmup_fails_and_is_named(num_epochs: int) -> None:
    report = warmup_cosine.check_warmup_schedule.evaluate(float_warmup, num_epochs=num_epochs, base_lr=0.1)
    assert not report.passed, report.text()
    assert "not a whole number" in " ".join(failing(report)), report.text()
    assert "hard-coding" not in " ".join(failing(report))  # it is not a hard-coded length
    plain(report)


# --- Ex1: the native factor with the cosine progress over M ----------------------------------------------


def native_over_m(optimizer, num_epochs):
    w = int(0.25 * num_epochs)

    def factor(epoch):
        if epoch < w:
            return epoch / max(1, w - 1)
        return 0.5 * (1 + math.cos(math.pi * (epoch - w) / num_epochs))

    return LambdaLR(optimizer, factor)


def test_native_progress_over_m_is_named() -> None:
    report = warmup_cosine.check_native_schedule.evaluate(native_over_m, num_epochs=100, base_lr=0.1)
    lines = " ".join(failing(report))
    assert "divides by num_epochs (M = 100)" in lines and "M - W (75)" in lines, report.text()
    assert "peak" not in lines
    plain(report)


# --- Ex0: the exponential exponent over W ---------------------------------------------------------------


@pytest.mark.parametrize("last", [W - 1, W])
def test_exponential_exponent_over_w_is_named_not_epoch_plus_one(last: int) -> None:
    def exponential_warmup(epoch):
        return 1.0 if epoch >= last else 0.01 ** (1 - epoch / W)

    report = warmup_lambdas.check_exponential_warmup.evaluate(exponential_warmup, W)
    lines = " ".join(failing(report))
    assert lines and "divides the epoch by W (5)" in lines, report.text()
    assert "epoch + 1" not in lines
    plain(report)


def test_an_unfilled_blank_reads_naturally() -> None:
    def linear_warmup(epoch):
        raise NotImplementedError("return the fixed factor ...")

    text = plain(warmup_lambdas.check_linear_warmup.evaluate(linear_warmup, W))
    assert "✗ linear_warmup is filled in" not in text
    assert "✗ the blank in linear_warmup is filled in — not yet: return the fixed factor ..." in text


def test_a_factor_without_return_is_named() -> None:
    def linear_warmup(epoch):
        min((epoch + 1) / W, 1.0)

    text = plain(warmup_lambdas.check_linear_warmup.evaluate(linear_warmup, W))
    assert "linear_warmup(0) returned None" in text and "return line missing" in text


def test_a_scheduler_without_return_is_a_plain_cross_line() -> None:
    def make_warmup_scheduler(optimizer, num_epochs):
        LinearWarmupCosineAnnealingLR(optimizer, warmup_epochs=int(0.25 * num_epochs), max_epochs=num_epochs)

    text = plain(warmup_cosine.check_warmup_schedule.evaluate(make_warmup_scheduler, num_epochs=100, base_lr=0.1))
    assert "✗" in text and "returns None" in text and "return scheduler" in text


# --- Ex2: a learning rate typed in, and the choice check's wording -------------------------------------


class Typed(ClassifierModule):
    def __init__(self, weight_decay: float, learning_rate: float = 0.005, num_epochs: int = 100) -> None:
        super().__init__(learning_rate=learning_rate, num_epochs=num_epochs)
        self.weight_decay = weight_decay

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=0.005, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.num_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def test_a_typed_in_learning_rate_does_not_pass_as_the_template() -> None:
    report = adamw.check_optimizer.evaluate(Typed, num_epochs=100)
    assert not report.passed, report.text()
    lines = " ".join(failing(report))
    assert "typed in" in lines and "self.learning_rate" in lines, report.text()
    plain(report)


def test_the_choice_check_quotes_the_learners_own_choice() -> None:
    table = adamw.example_sweep_table() if hasattr(adamw, "example_sweep_table") else None
    assert table is not None
    mine = table.copy()
    mine["val_acc"] = [0.80, 0.81, 0.82, 0.90, 0.70][: len(mine)]  # the learner's sweep: best at its 4th value
    own = float(mine["val_acc"].idxmax())

    def choose_weight_decay(sweep_table: pd.DataFrame) -> float:
        return float(sweep_table["val_acc"].idxmax())

    text = plain(adamw.check_weight_decay_choice.evaluate(choose_weight_decay, mine))
    assert f"{own:g}" in text, text
    example_best = float(table["val_acc"].idxmax())
    example = plain(adamw.check_weight_decay_choice.evaluate(choose_weight_decay))
    # on the made-up table the value is the function's answer there, and the line says so
    assert f"weight decay {example_best:g} is" not in example, example


def test_no_markdown_backticks_in_any_check_message(repo) -> None:
    """Check output is plain text in stdout: no string a check can print holds a backtick
    (docstrings may use reST ``code``)."""
    import ast

    sources = [*sorted((repo / "helpers" / "checks").glob("*.py")),
               repo / "helpers" / "mistakes.py", repo / "helpers" / "learner_code.py"]
    found = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(first.value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and ast.get_docstring(node) and isinstance(first := node.body[0], ast.Expr)
        }
        found += [f"{path.name}:{node.lineno}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and "`" in node.value
                  and id(node) not in docstrings]
    assert not found, found


def test_configure_optimizers_without_return_is_named() -> None:
    class NoReturn(Typed):
        def configure_optimizers(self):
            torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)

    text = plain(adamw.check_optimizer.evaluate(NoReturn, num_epochs=100))
    assert "it returned NoneType (is its return line missing?)" in text

    class Ex1NoReturn(ClassifierModule):
        def configure_optimizers(self):
            torch.optim.SGD(self.parameters(), lr=self.learning_rate)

    text = plain(warmup_cosine.check_configure_optimizers.evaluate(Ex1NoReturn, num_epochs=100))
    assert "configure_optimizers returned NoneType (is its return line missing?)" in text, text
