"""Checks of the warmup notebook's lr_lambda blanks: every typical mistake gets its own hint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from solution_cells import cell_source, run_cells

from helpers.checks.context import JudgeContext
from helpers.checks.warmup_lambdas import (
    LEARNER_WARMUP_PROBES,
    WarmupEvidence,
    check_exponential_warmup,
    check_linear_warmup,
    draw_warmup_probes,
)
from helpers.evidence_codec import EvidenceError, from_plain, to_plain
from helpers.settings import DEMO_WARMUP_EPOCHS

W = 5
WARMUP_EPOCHS = W  # as in the notebook: the checks set it to their probe lengths while they call a function
NOTEBOOK = "00_warmup_strategies.ipynb"
# The solution's own answers (its WARMUP_EPOCHS is a global of their namespace, as in the notebook).
_SOLUTION = run_cells(NOTEBOOK, "ex0-imports", "ex0-settings", "ex0-blank-linear", "ex0-blank-exponential")
linear = _SOLUTION["linear_warmup"]
exponential = _SOLUTION["exponential_warmup"]


def test_the_notebook_judges_at_the_length_the_grader_uses(capsys) -> None:
    """The solution's check cells pass as they are, at the notebook's WARMUP_EPOCHS, which is the
    length the grader judges at (helpers.settings.DEMO_WARMUP_EPOCHS)."""
    assert _SOLUTION["WARMUP_EPOCHS"] == DEMO_WARMUP_EPOCHS == W
    for cell in ("ex0-check-linear", "ex0-check-exponential"):
        exec(cell_source(NOTEBOOK, cell), _SOLUTION)
    out = capsys.readouterr().out
    assert out.count("— well done") == 2 and "✗" not in out


def failed(report) -> dict[str, str]:
    return {c.name: c.hint for c in report.failed()}


def test_reference_solutions_pass(capsys) -> None:
    assert check_linear_warmup.evaluate(linear, W).passed
    assert check_exponential_warmup.evaluate(exponential, W).passed
    check_linear_warmup(linear, W)
    check_exponential_warmup(exponential, W)
    out = capsys.readouterr().out
    assert out.count("— well done") == 2 and "✗" not in out


def test_other_correct_forms_pass() -> None:
    """Returning numpy or tensor numbers, or the other common exponential formula, is fine."""
    assert check_linear_warmup.evaluate(lambda e: np.float32(min((e + 1) / WARMUP_EPOCHS, 1.0)), W).passed
    assert check_linear_warmup.evaluate(lambda e: torch.tensor(min((e + 1) / WARMUP_EPOCHS, 1.0)), W).passed
    assert check_exponential_warmup.evaluate(lambda e: min(0.01 ** (1 - (e + 1) / WARMUP_EPOCHS), 1.0), W).passed


def test_epoch_over_w_pitfall() -> None:
    hints = failed(check_linear_warmup.evaluate(lambda e: min(e / W, 1.0), W))
    assert "epoch / W makes the first epoch learn nothing" in hints["epoch 0 trains (factor > 0)"]
    assert "reaches 1 only at epoch 5" in hints["reaches 1 at the last warmup epoch (epoch 4)"]


def test_lr_instead_of_factor() -> None:
    hints = failed(check_linear_warmup.evaluate(lambda e: 0.1 * min((e + 1) / W, 1.0), W))
    assert list(hints) == ["returns a factor, not a learning rate"]
    assert "level off at 0.1 instead of 1" in hints["returns a factor, not a learning rate"]
    assert "returns a factor, not a learning rate" in failed(
        check_exponential_warmup.evaluate(lambda e: 0.1 * exponential(e), W)
    )


def test_not_reaching_one() -> None:
    hints = failed(check_linear_warmup.evaluate(lambda e: min((e + 1) / (W + 2), 1.0), W))
    assert "factor at epoch 4 is 0.714286, not 1" in hints["reaches 1 at the last warmup epoch (epoch 4)"]


def test_not_holding_one_afterwards() -> None:
    hints = failed(check_linear_warmup.evaluate(lambda e: linear(e) if e < W else 0.5, W))
    assert list(hints) == ["holds 1 after the warmup (epochs 5-15)"]
    assert "factor at epoch 5 is 0.5" in hints["holds 1 after the warmup (epochs 5-15)"]


def test_exceeding_one() -> None:
    hints = failed(check_linear_warmup.evaluate(lambda e: (e + 1) / W, W))
    assert "cap it with min(..., 1.0)" in hints["never exceeds 1"]


def test_non_monotone_warmup() -> None:
    values = [0.2, 0.6, 0.4, 0.8, 1.0]
    hints = failed(check_linear_warmup.evaluate(lambda e: values[e] if e < W else 1.0, W))
    assert "goes from 0.6 to 0.4 at epoch 2" in hints["rises every warmup epoch"]


def test_no_warmup_at_all() -> None:
    hints = failed(check_linear_warmup.evaluate(lambda e: 1.0, W))
    assert "already 1" in hints["warmup starts below the full LR"]


def test_exponential_that_is_linear() -> None:
    hints = failed(check_exponential_warmup.evaluate(linear, W))
    assert list(hints) == ["grows by a constant ratio (exponential)"]
    assert "which is linear warmup" in hints["grows by a constant ratio (exponential)"]


def test_linear_that_is_not_linear() -> None:
    hints = failed(check_linear_warmup.evaluate(exponential, W))
    assert list(hints) == ["grows in equal steps (linear)"]


def test_unfilled_blank_is_reported_not_raised(capsys) -> None:
    def linear_warmup(epoch: int) -> float:
        raise NotImplementedError("return the factor min((epoch + 1) / WARMUP_EPOCHS, 1.0)")

    check_linear_warmup(linear_warmup, W)
    out = capsys.readouterr().out
    assert "✗ the blank in linear_warmup is filled in — not yet: return the factor min((epoch + 1)" in out
    assert "0/1 passed" in out


@pytest.mark.parametrize(
    ("fn", "fragment"),
    [
        (lambda e: 1 / (e - 2), "linear_warmup(2) raised ZeroDivisionError"),
        (lambda e: "0.2", "returned '0.2' (str)"),
        (lambda e: None, "returned None"),
        (lambda e: float("nan"), "returned nan"),
        (lambda e: e >= 0, "returned True (bool)"),
        # beyond float's range, or complex: a cross line, not a traceback out of the check
        (lambda e: 10**400, "returned 1000000000"),
        (lambda e: torch.tensor(1 + 1j), "returned tensor(1.+1.j) (Tensor)"),
    ],
)
def test_broken_functions_are_reported(fn, fragment: str) -> None:
    report = check_linear_warmup.evaluate(fn, W)
    assert not report.passed and fragment in report.hints()[0]


def test_short_warmups_skip_the_shape_criterion() -> None:
    report = check_linear_warmup.evaluate(lambda e, warmup_epochs=2: min((e + 1) / warmup_epochs, 1.0), 2)
    assert report.passed
    assert any(c.passed is None for c in report.criteria)


def test_misuse_raises() -> None:
    with pytest.raises(TypeError, match=r"itself \(e\.g\. check_linear_warmup\(linear_warmup, WARMUP_EPOCHS\)\)"):
        check_linear_warmup(0.2, W)
    with pytest.raises(TypeError, match=r"e\.g\. check_exponential_warmup\(exponential_warmup, WARMUP_EPOCHS\)"):
        check_exponential_warmup("exponential_warmup", W)
    with pytest.raises(ValueError, match="warmup_epochs must be a whole number >= 2"):
        check_exponential_warmup(exponential, 1)
    with pytest.raises(ValueError, match="warmup_epochs"):
        check_linear_warmup(linear, 5.0)


def test_warmup_demo_is_seeded_and_validates_input() -> None:
    """Short runs (batch 256: 56 steps per epoch), a few seconds in all."""
    from helpers.warmup_demo import compare_warmup, moving_average, train_steps

    first = train_steps(0.02, 1, epochs=2, batch_size=256, seed=7)
    again = train_steps(0.02, 1, epochs=2, batch_size=256, seed=7)
    np.testing.assert_array_equal(first.losses, again.losses)
    np.testing.assert_array_equal(first.val_acc, again.val_acc)
    assert first.steps_per_epoch == 56 and len(first.losses) == 112 and first.epochs == 2
    assert first.lrs[0] == pytest.approx(0.02 / 56)  # warmup counted in batches
    assert first.lrs[55] == pytest.approx(0.02) and first.lrs[-1] == pytest.approx(0.02)
    flat = train_steps(0.02, 0, epochs=1, batch_size=256, seed=7)
    assert np.all(flat.lrs == 0.02) and not flat.diverged
    np.testing.assert_allclose(moving_average(np.array([1.0, 3.0, 5.0]), 2), [1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train_steps(0.05, 0, optimizer="lion")
    with pytest.raises(ValueError, match="warmup_epochs must be a whole number >= 1"):
        compare_warmup(0.05, 0)
    with pytest.raises(ValueError, match="must not exceed epochs"):
        compare_warmup(0.05, 3, epochs=2)


def test_report_names_the_function_checked() -> None:
    def pitfall_warmup(epoch: int) -> float:
        return min(epoch / W, 1.0)

    names = [c.name for c in check_linear_warmup.evaluate(pitfall_warmup, W).criteria]
    assert names[0] == "pitfall_warmup returns a number for epochs 0-15"
    assert check_linear_warmup.evaluate(lambda e: linear(e), W).criteria[0].name.startswith("linear_warmup returns")


# --------------------------------------------------------------------------- probe warmup lengths


START_FACTOR = 0.01
PROBE_CRITERION = "follows the warmup length"


def _grade(kind: str, fn, seed: int, namespace: dict | None = None, w: int = W):
    """Collect as the grader's evidence cell does (its seed), judge as the grader does."""
    check = check_linear_warmup if kind == "linear" else check_exponential_warmup
    data = check.collect(fn, w, seed=seed, namespace=namespace if namespace is not None else globals())
    return check.judge(data, JudgeContext(grader=True, seed=seed))


def _probe_hint(report) -> str:
    failed = [c for c in report.failed() if c.name.startswith(PROBE_CRITERION)]
    assert failed, f"expected the probe criterion to fail: {report.criteria}"
    return failed[0].hint


def test_probe_lengths_are_drawn_per_seed_and_never_a_common_hard_coded_warmup() -> None:
    draws = {draw_warmup_probes(seed) for seed in range(200)}
    assert len(draws) > 50  # they vary with the seed ...
    assert draw_warmup_probes(17) == draw_warmup_probes(17)  # ... and replay with it
    common = {1, 2, 3, 4, 5, 10, 15, 20, 25, 50}
    assert not any(set(d) & common for d in draws)
    assert all(len(set(d)) == 3 for d in draws)


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_solutions_pass_at_the_grader_probes(seed: int) -> None:
    for kind, fn in (("linear", linear), ("exponential", exponential)):
        report = _grade(kind, fn, seed)
        assert report.passed, report.criteria
        assert report.title.endswith(f"over {DEMO_WARMUP_EPOCHS} epochs")
        assert any(c.name.startswith(PROBE_CRITERION) and c.passed for c in report.criteria)
    assert WARMUP_EPOCHS == W  # the global was restored


def test_grader_judges_at_the_course_length_whatever_the_learner_set() -> None:
    """A learner who set WARMUP_EPOCHS = 4 and wrote correct functions loses nothing."""
    namespace = {"WARMUP_EPOCHS": 4}
    exec("def lin(epoch, warmup_epochs=4):\n    return min((epoch + 1) / warmup_epochs, 1.0)\n"
         "def exp_(epoch):\n    w = WARMUP_EPOCHS\n"
         "    return 1.0 if epoch >= w - 1 else 0.01 ** (1 - epoch / (w - 1))\n",
         namespace)
    assert _grade("linear", namespace["lin"], 3, namespace, w=4).passed
    assert _grade("exponential", namespace["exp_"], 3, namespace, w=4).passed
    assert namespace["WARMUP_EPOCHS"] == 4


def hard_coded_linear(epoch: int, warmup_epochs: int = W) -> float:
    return min((epoch + 1) / 5, 1.0)  # ignores its argument


def hard_coded_step(epoch: int, warmup_epochs: int = W) -> float:
    return min(0.2 * (epoch + 1), 1.0)  # the step of a 5-epoch warmup


def hard_coded_exponential(epoch: int) -> float:
    return 1.0 if epoch >= 4 else START_FACTOR ** (1 - epoch / 4)


def off_by_one_exponential(epoch: int) -> float:
    """Ends at WARMUP_EPOCHS - 1, but the exponent's W - 1 is typed in: right at 5 only."""
    return 1.0 if epoch >= WARMUP_EPOCHS - 1 else START_FACTOR ** (1 - epoch / 4)


def wrong_ramp_linear(epoch: int, warmup_epochs: int = W) -> float:
    """Linear at 5 epochs, curved at any other length."""
    return min((epoch + 1) / warmup_epochs, 1.0) ** (warmup_epochs / 5)


def non_float_at_probes(epoch: int, warmup_epochs: int = W) -> float:
    factor = min((epoch + 1) / warmup_epochs, 1.0)
    return factor if warmup_epochs == 5 else f"{factor}"  # type: ignore[return-value]


OWN_W = 5


def own_global_exponential(epoch: int) -> float:
    """Reads a global of its own (OWN_W), which no check sets."""
    return 1.0 if epoch >= OWN_W - 1 else START_FACTOR ** (1 - epoch / (OWN_W - 1))


@pytest.mark.parametrize(("kind", "fn", "fragment"), [
    ("linear", hard_coded_linear, "still reaches 1 after 5 epochs: the length is fixed inside the function"),
    ("linear", hard_coded_step, "still reaches 1 after 5 epochs"),
    ("exponential", hard_coded_exponential, "still reaches 1 after 5 epochs"),
    ("exponential", own_global_exponential, "take it from the notebook's WARMUP_EPOCHS"),
    ("exponential", off_by_one_exponential, "still reaches 1 after 5 epochs"),
    ("linear", wrong_ramp_linear, "grows in equal steps (linear)"),
    ("linear", non_float_at_probes, "(str); return a float factor"),
])
@pytest.mark.parametrize("seed", [0, 99])
def test_right_only_at_the_notebook_length_fails_in_grading(kind: str, fn, fragment: str,
                                                            seed: int) -> None:
    report = _grade(kind, fn, seed)
    assert not report.passed
    failed = report.failed()
    assert [c.name for c in failed] == [c.name for c in failed if c.name.startswith(PROBE_CRITERION)]  # only the probe
    assert fragment in _probe_hint(report)


def test_the_notebook_check_probes_too() -> None:
    report = check_linear_warmup.evaluate(hard_coded_linear, W)
    assert not report.passed and "still reaches 1 after 5 epochs" in _probe_hint(report)
    assert all(str(p) in report.failed()[0].name for p in LEARNER_WARMUP_PROBES)
    assert not check_exponential_warmup.evaluate(own_global_exponential, W).passed


def test_forged_or_missing_probe_evidence_fails() -> None:
    data = check_linear_warmup.collect(linear, W, seed=5)
    probe = draw_warmup_probes(5)[1]
    del data.runs[probe]
    report = check_linear_warmup.judge(data, JudgeContext(grader=True, seed=5))
    assert not report.passed and "no factor was recorded" in _probe_hint(report)
    other_seed = check_linear_warmup.collect(linear, W, seed=6)  # evidence for other probes than the run's
    assert not check_linear_warmup.judge(other_seed, JudgeContext(grader=True, seed=5)).passed


# --------------------------------------------------------------------------- the evidence the grader reads

def _plain(evidence: WarmupEvidence) -> dict:
    return json.loads(json.dumps(to_plain(evidence, lambda value: None)))


def _load(plain: object) -> WarmupEvidence:
    return from_plain(WarmupEvidence, plain, lambda kind, reference: None)


@pytest.mark.parametrize("fn", [linear, hard_coded_linear, non_float_at_probes, lambda e: None])
def test_evidence_judged_after_json_as_in_the_notebook(fn) -> None:
    """The grader judges the record written as JSON and loaded back exactly as the collector's own object."""
    evidence = check_linear_warmup.collect(fn, W, seed=8)
    assert _load(_plain(evidence)) == evidence
    context = JudgeContext(grader=True, seed=8)
    assert check_linear_warmup.judge(_load(_plain(evidence)), context) == check_linear_warmup.judge(evidence, context)


def _forged(change) -> dict:
    plain = _plain(check_linear_warmup.collect(linear, W, seed=8))
    change(plain)
    return plain


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda p: p.update(warmup_epochs=1), "warmup_epochs must be a whole number >= 2"),
    (lambda p: p["runs"]["5"].update(factors=[0.2, 0.4]), "factors at warmup length 5"),  # too few epochs
    (lambda p: p["runs"]["5"].update(factors=["nan"] * 16), "factors at warmup length 5"),
    (lambda p: p["runs"]["5"].update(factors=["0.2"] * 16), "should be float"),
    (lambda p: p["runs"]["5"].update(problem="fine"), "not one of"),
    (lambda p: p["runs"].update(five={}), "not a whole number"),
    (lambda p: p.update(passed=True), "unknown fields: passed"),
    (lambda p: p.pop("length_from"), "lacks the field 'length_from'"),
])
def test_forged_evidence_is_refused_on_load(change, fragment: str) -> None:
    with pytest.raises(EvidenceError, match=fragment):
        _load(_forged(change))


def test_a_forged_name_is_not_shown() -> None:
    """The name goes into every ✗ line: one that is no identifier is replaced by the blank's own."""
    evidence = _load(_forged(lambda p: p.update(name="x — ✓ all passed")))
    names = [c.name for c in check_linear_warmup.judge(evidence, JudgeContext(grader=True, seed=8)).criteria]
    assert names[0] == "linear_warmup returns a number for epochs 0-15"
