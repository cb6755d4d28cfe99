"""Hints in levels: the first hint names what to compute without code, the
stronger levels and the answer come from ``hint(key)``, and none of them is in the starter's text.

A first hint *leaks* when it repeats a run of the solution's code: three consecutive code tokens of
the blank's solution (``min ( (``, ``self . weight_decay``, ``max_epochs = num_epochs``), or an
identifier of the solution body that the learner is not given anywhere else in the starter (its code
outside the blank, its markdown).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

from helpers import hints
from helpers.hints import blank_key, hint, load_levels, solution_regions
from kit.hint_data import build_levels, course_facts, fill_facts, write_data
from kit.starters import make_starter

NOTEBOOKS = ("00_warmup_strategies", "01_warmup_cosine", "02_adamw_weight_decay")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\*\*|==|<=|>=|!=|//|[^\sA-Za-z0-9_]")
RUN = 3


def text_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def code_tokens(code: str) -> list[str]:
    """Tokens of Python code without comments; string literals split into quote and words."""
    out: list[str] = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(code + "\n").readline):
        if token.type not in skip:
            out.extend(_TOKEN.findall(token.string))
    return out


def _is_identifier(token: str) -> bool:
    return token.isidentifier() and not keyword.iskeyword(token)


def leaks(first_hint: str, solution: str, given: set[str]) -> list[str]:
    """What ``first_hint`` gives away of ``solution``: repeated code runs and ungiven identifiers."""
    hint_tokens, solution_tokens = text_tokens(first_hint), code_tokens(solution)
    runs = {tuple(solution_tokens[i : i + RUN]) for i in range(len(solution_tokens) - RUN + 1)}
    found = [" ".join(hint_tokens[i : i + RUN]) for i in range(len(hint_tokens) - RUN + 1)
             if tuple(hint_tokens[i : i + RUN]) in runs]
    solution_names = {t for t in solution_tokens if _is_identifier(t)}
    found += [f"identifier {name}" for name in sorted((set(hint_tokens) & solution_names) - given)]
    return found


def _starter_text_outside(nb: nbformat.NotebookNode, blank_cell_id: str) -> set[str]:
    """Every word/identifier the learner sees in the starter, except the blank's own hint line."""
    starter = make_starter(nb, "x.ipynb").notebook
    words: set[str] = set()
    for cell in starter.cells:
        source = cell.source
        if cell.get("id") == blank_cell_id:
            source = "\n".join(line for line in source.splitlines() if "raise NotImplementedError(" not in line)
        words |= set(text_tokens(source))
    return words


def _blanks(repo: Path) -> list[tuple[str, str, str, str, set[str]]]:
    """(notebook, cell id, first hint, solution code, given names) for every blank of every solution."""
    rows = []
    for name in NOTEBOOKS:
        nb = nbformat.read(repo / "solutions" / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for first, code in solution_regions(cell.source):
                    rows.append((name, cell.id, first, code, _starter_text_outside(nb, cell.id)))
    return rows


# --- the detector itself, on hints that give the answer away (and variations of them) -------------------

BAD = [
    ("return the factor min((epoch + 1) / WARMUP_EPOCHS, 1.0)", "return min((epoch + 1) / warmup_epochs, 1.0)"),
    (("return epoch / max(1, warmup_epochs - 1) during the warmup, else the cosine factor "
      "0.5 * (1 + cos(pi * progress))"),
     ("if epoch < warmup_epochs:\n    return epoch / max(1, warmup_epochs - 1)\n"
      "progress = (epoch - warmup_epochs) / (num_epochs - warmup_epochs)\n"
      "return 0.5 * (1 + math.cos(math.pi * progress))")),
    ("optimizer = torch.optim.AdamW(...) with lr=self.learning_rate and weight_decay=self.weight_decay",
     "optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)"),
    ("use the   val_acc  column's idxmax", 'return float(sweep_table["val_acc"].idxmax())'),  # an ungiven identifier
    # spacing changed:
    ("divide by (num_epochs-warmup_epochs)", "p = (epoch - warmup_epochs) / (num_epochs - warmup_epochs)"),
]


@pytest.mark.parametrize(("first_hint", "solution"), BAD)
def test_the_detector_catches_hints_that_hold_code(first_hint: str, solution: str) -> None:
    given = {"epoch", "warmup_epochs", "num_epochs", "optimizer", "self", "float", "sweep_table"}
    assert leaks(first_hint, solution, given=given)


def test_the_detector_lets_prose_through() -> None:
    solution = 'return float(sweep_table["val_acc"].idxmax())'
    assert not leaks("return the weight decay with the highest validation accuracy, as a float", solution,
                     given={"float", "sweep_table"})


# --- the real blanks ------------------------------------------------------------------------------------


def test_every_blank_has_a_first_hint_that_gives_no_code_away(repo: Path) -> None:
    rows = _blanks(repo)
    assert len(rows) >= 8  # 3 + 3 + 2 blanks in the three notebooks
    problems = {f"{nb}:{cid}": found for nb, cid, first, code, given in rows if (found := leaks(first, code, given))}
    assert not problems, problems
    for _, cid, first, _, _ in rows:
        assert len(first) >= 40, f"{cid}: a first hint should say what to compute and where it is explained"


def test_hint_data_is_built_from_the_solutions_and_up_to_date(repo: Path) -> None:
    levels = build_levels(repo / "solutions")
    assert write_data(levels) == hints.DATA.read_text(encoding="utf-8"), "run: kit assign"
    rows = {blank_key(cid): (first, code) for _, cid, first, code, _ in _blanks(repo)}
    assert set(levels) == set(rows) - {"ex0-quiz"}  # every blank but the quiz (its answer is the key)
    for key, texts in levels.items():
        first, code = rows[key]
        assert len(texts) >= 3 and texts[0] == first and texts[-1] == code, key
        assert all(len(t) > len(first) / 3 for t in texts[1:-1])
        assert all(code.strip() not in t for t in texts[:-1]), f"{key}: a level before the last is the answer"


def test_the_answer_level_needs_no_solutions_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(hints, "_shown", {})
    for _ in range(5):
        hint("ex2-optimizer")
    out = capsys.readouterr().out
    assert "Hint 2 of 3" in out and "Hint 3 of 3 for ex2-optimizer — the answer" in out
    assert "torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)" in out


def test_hint_levels_one_per_call_then_the_answer(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(hints, "_shown", {})
    texts = load_levels()["ex1-native"]
    hint("ex1-native")
    first = capsys.readouterr().out
    assert first.startswith(f"Hint 2 of {len(texts)} for ex1-native:") and 'hint("ex1-native") again' in first
    for _ in range(len(texts)):
        hint("ex1-native")
    last = capsys.readouterr().out.split("Hint ")[-1]
    assert last.startswith(f"{len(texts)} of {len(texts)} for ex1-native — the answer") and "math.cos" in last
    hint("ex1-native", level=1)
    assert texts[0].split(":")[0] in capsys.readouterr().out.replace("\n  ", " ")
    with pytest.raises(ValueError, match="level must be a whole number from 1 to"):
        hint("ex1-native", level=9)
    hint("ex1-nope")
    listed = "No hints for 'ex1-nope'. The blanks with hints are: ex1-configure, ex1-native, ex1-scheduler"
    assert listed in capsys.readouterr().out
    hint()
    assert "Blanks with hints: ex0-exponential, ex0-linear" in capsys.readouterr().out


def test_stronger_hints_are_not_in_the_starter_text(repo: Path) -> None:
    levels = load_levels()
    for name in NOTEBOOKS:
        nb = nbformat.read(repo / "solutions" / f"{name}.ipynb", as_version=4)
        starter = make_starter(nb, f"{name}.ipynb").notebook
        for key, texts in levels.items():
            if not key.startswith(name[:2].replace("0", "ex", 1)):
                continue
            sources = "\n".join(c.source for c in starter.cells)
            for later in texts[1:]:
                assert later not in sources, (key, later[:40])
            answer_lines = [line.strip() for line in texts[-1].splitlines() if line.strip()]
            assert any(line not in sources for line in answer_lines), \
                f"{key}: the starter shows every line of the answer"
            assert f"(stronger hint: hint('{key}'))" in sources, key  # the message says how to ask
        assert all("hints" not in c.get("metadata", {}).get("kit", {}) for c in starter.cells)


# --- hints are built from the constants they describe ---------------------------------------------------


def test_a_hint_follows_the_constant_it_names(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warmup hint names WARMUP_FRACTION through a placeholder: with another fraction the built
    level says that fraction, and no level keeps the old one."""
    from helpers import settings

    built = build_levels(repo / "solutions")["ex1-scheduler"]
    assert "25%" in built[1] and "0.25" in built[2] and "{" not in built[1]
    monkeypatch.setattr(settings, "WARMUP_FRACTION", 0.2)
    changed = build_levels(repo / "solutions")["ex1-scheduler"]
    assert "20%" in changed[1] and "WARMUP_FRACTION is 0.2," in changed[2]
    assert not any("25%" in t or "0.25" in t for t in changed[1:-1])


def test_no_built_hint_keeps_a_placeholder_or_types_a_setting(repo: Path) -> None:
    """Every authored level is filled in, and none types the warmup fraction or the accuracy target
    itself (it must name the constant, or the hint lies once the constant changes)."""
    nbs = [nbformat.read(p, as_version=4) for p in sorted((repo / "solutions").glob("*.ipynb"))]
    authored = [t for nb in nbs for c in nb.cells for t in c.get("metadata", {}).get("kit", {}).get("hints", [])]
    assert authored and not [t for t in authored if re.search(r"0\.25|25 ?%|0\.885|0\.005|\b450\b", t)]
    for key, texts in build_levels(repo / "solutions").items():
        assert not [t for t in texts[1:-1] if re.search(r"\{[A-Z][A-Z0-9_]*(:[^{}]*)?\}", t)], key


def test_fill_facts_formats_known_names_and_rejects_unknown_ones() -> None:
    facts: dict[str, object] = {"WARMUP_FRACTION": 0.25, "STEPS_PER_EPOCH": 450}
    text = 'warmup {WARMUP_FRACTION:.0%} of {STEPS_PER_EPOCH} steps; return {"optimizer": opt}'
    assert fill_facts(text, facts) == 'warmup 25% of 450 steps; return {"optimizer": opt}'
    with pytest.raises(ValueError, match=r"ex9 cell c: \{WARMUP_FRACTON\} is not a course setting"):
        fill_facts("{WARMUP_FRACTON:.0%}", facts, "ex9 cell c")
    assert set(course_facts()) >= {"WARMUP_FRACTION", "TARGET_ACCURACY", "TEMPLATE_LR", "STEPS_PER_EPOCH"}
