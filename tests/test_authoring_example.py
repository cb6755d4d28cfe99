"""The worked example of docs/AUTHORING.md works as the document says: the solution passes, the
starter's blank and a named mistake get their hints, and evidence survives JSON but not forgery."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from authoring_example import CHECK_CELL, SOLUTION_CELL, FactorEvidence, check_warmup_factor

from helpers.evidence_codec import EvidenceError, from_record, to_plain
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


def _through_json(evidence: FactorEvidence, **change: object) -> FactorEvidence:
    """As the grader gets it: written as a record, through JSON, loaded and validated as FactorEvidence."""
    call = {"kind": evidence.KIND, "version": evidence.VERSION, "data": to_plain(evidence, _no_side_files)}
    data = call["data"]
    assert isinstance(data, dict)
    call["data"] = {**data, **{k: v for k, v in change.items() if k in data}}
    call.update({k: v for k, v in change.items() if k in ("kind", "version")})
    return from_record(FactorEvidence, json.loads(json.dumps(call)), _no_side_files)


def _no_side_files(*_: object) -> object:
    raise AssertionError("this evidence has no arrays or weights")


def test_evidence_judged_after_json_gives_the_learners_report() -> None:
    evidence = check_warmup_factor.collect(_factor(SOLUTION_CELL), 5)
    assert check_warmup_factor.judge(_through_json(evidence), None).text() == \
        check_warmup_factor.evaluate(_factor(SOLUTION_CELL), 5).text()


@pytest.mark.parametrize("change", [
    {"version": 2}, {"kind": "other"}, {"warmup_epochs": True}, {"warmup_epochs": 0}, {"factors": [1.0]},
    {"blank": None}, {"factors": [float("nan")] * 8}, {"factors": ["1"] * 8},
])
def test_forged_evidence_is_refused_on_load(change: dict[str, object]) -> None:
    good = FactorEvidence(4, (0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0))
    with pytest.raises(EvidenceError):
        _through_json(good, **change)


def test_an_unknown_field_is_refused_on_load() -> None:
    call = {"kind": "warmup-factor", "version": 1, "data": {"warmup_epochs": 4, "secret": 1}}
    with pytest.raises(EvidenceError, match="unknown fields: secret"):
        from_record(FactorEvidence, call, _no_side_files)


def test_misuse_raises_with_the_call_to_write() -> None:
    with pytest.raises(TypeError, match="check_warmup_factor"):
        check_warmup_factor(0.5, 4)


def test_the_whole_example_stays_under_a_hundred_lines() -> None:
    """docs/AUTHORING.md promises a maintainer well under 100 lines for a check, evidence and rules included."""
    example = Path(__file__).with_name("authoring_example.py").read_text(encoding="utf-8")
    assert len(example.splitlines()) < 100
    assert "under 100 lines" in (Path(__file__).parents[1] / "docs" / "AUTHORING.md").read_text(encoding="utf-8")
