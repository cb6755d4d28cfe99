"""The worked example of docs/AUTHORING.md works as the document says: the solution passes, the
starter's blank and a named mistake get their hints, and evidence survives JSON but not forgery."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from authoring_example import CHECK_CELL, SOLUTION_CELL, FactorEvidence, check_warmup_factor

from kit.transforms.starter import blank_source


def _run(cell: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"check_warmup_factor": check_warmup_factor}
    exec(cell, namespace)
    return namespace


def _factor(cell: str) -> Callable[[int, int], float]:
    factor: Callable[[int, int], float] = _run(cell)["warmup_factor"]
    return factor


def test_the_solution_cell_passes_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    _run(SOLUTION_CELL + CHECK_CELL)
    assert capsys.readouterr().out.splitlines()[-1] == "  4/4 passed — well done"


def test_the_starter_blank_stops_at_the_first_rule() -> None:
    starter, blanks = blank_source(SOLUTION_CELL)
    report = check_warmup_factor.evaluate(_factor(starter), warmup_epochs=4)
    assert blanks == 1 and [c.name for c in report.criteria] == ["the blank is filled in"]
    assert report.hints() == ["not yet: grow linearly to 1 over warmup_epochs epochs, then hold 1"]


def test_a_named_mistake_replaces_the_generic_hint() -> None:
    report = check_warmup_factor.evaluate(lambda epoch, w: min(1.0, epoch / w), 4)
    assert report.hints()[0].startswith("epoch / W is 0 at epoch 0")
    other = check_warmup_factor.evaluate(lambda epoch, w: 0.0 if epoch == 0 else 1.0, 4)
    assert other.hints() == ["the factor at epoch 0 is 0"]


def test_evidence_judged_after_json_gives_the_learners_report() -> None:
    evidence = check_warmup_factor.collect(_factor(SOLUTION_CELL), 5)
    loaded = FactorEvidence.from_json(json.loads(json.dumps(evidence.to_json())))
    assert check_warmup_factor.judge(loaded, None).text() == check_warmup_factor.evaluate(_factor(SOLUTION_CELL),
                                                                                          5).text()


@pytest.mark.parametrize("change", [
    {"version": 2}, {"warmup_epochs": True}, {"warmup_epochs": 0}, {"factors": [1.0]}, {"blank": None},
    {"factors": [float("nan")] * 8}, {"factors": ["1"] * 8},
])
def test_forged_evidence_is_refused_on_load(change: dict[str, object]) -> None:
    good = FactorEvidence(4, (0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0)).to_json()
    with pytest.raises(ValueError, match="evidence"):
        FactorEvidence.from_json({**good, **change})


def test_misuse_raises_with_the_call_to_write() -> None:
    with pytest.raises(TypeError, match="check_warmup_factor"):
        check_warmup_factor(0.5, 4)
