"""Evidence: what a graded notebook's kernel hands to the grader, as plain data only.

In a graded run the learner's kernel decides nothing. The grader puts an *evidence cell* in place
of every check cell it judges; that cell calls :func:`record_cell`, which evaluates the check's
arguments in the notebook's namespace (so it sees the learner's objects exactly as the check
would), runs each check's ``collect_*`` twin (live objects -> plain data) and writes the result
to ``$KIT_EVIDENCE_DIR/<check id>.json`` (arrays as ``.npy``, weights as ``.pt``). The grader
then loads those files, never importing or running learner code, and applies the same
``judge_*`` functions the learner-side ``check_*`` functions use.

Everything here can be replaced by learner code in its kernel; that gains nothing, because the
grader judges the values written, with lengths and tables it drew for this run.
"""

from __future__ import annotations

import ast
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from helpers.checks.report import raised
from helpers.evidence_codec import Evidence, EvidenceError, Tensors, to_plain

__all__ = ["EvidenceError", "Tensors", "has_record", "load_record", "read_folder", "record_cell", "record_name"]

EVIDENCE_ENV = "KIT_EVIDENCE_DIR"
ARRAY_KEY = "__npy__"
TENSORS_KEY = "__pt__"
MAX_JSON_BYTES = 8_000_000
MAX_ARRAY_BYTES = 16_000_000
MAX_TENSOR_BYTES = 32_000_000


def record_name(check_id: str) -> str:
    """The file one check's evidence record is written to, in the evidence folder."""
    return f"{check_id}.json"


def has_record(files: Mapping[str, bytes], check_id: str) -> bool:
    """Whether the run wrote an evidence record for ``check_id`` (usable or not)."""
    return record_name(check_id) in files


def evidence_dir(fallback: str | os.PathLike | None = None) -> Path:
    """The folder evidence goes to: ``$KIT_EVIDENCE_DIR``, else ``fallback``."""
    folder = os.environ.get(EVIDENCE_ENV) or fallback
    if not folder:
        raise RuntimeError(f"{EVIDENCE_ENV} is not set: evidence is written only in a graded run")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- kernel side: writing


class _Writer:
    """Writes the arrays and state dicts of one check's evidence as side files, named after the check."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder, self.stem, self.count = folder, stem, 0

    def _name(self, suffix: str) -> str:
        self.count += 1
        return f"{self.stem}.{self.count}{suffix}"

    def side(self, value: object) -> dict[str, str]:
        """Write an array (``.npy``, no pickles) or a state dict (``.pt``); the reference to it."""
        if isinstance(value, np.ndarray):
            name = self._name(".npy")
            np.save(self.folder / name, np.ascontiguousarray(value), allow_pickle=False)
            return {ARRAY_KEY: name}
        import torch

        assert isinstance(value, Tensors)
        name = self._name(".pt")
        torch.save({k: v.detach().cpu().clone() for k, v in value.items()}, self.folder / name)
        return {TENSORS_KEY: name}


def _calls(source: str) -> list[ast.Call]:
    """The check calls of a check cell (each statement a call ``check_x(...)``)."""
    calls = []
    for statement in ast.parse(source).body:
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
                and isinstance(statement.value.func, ast.Name)):
            raise ValueError("a judged check cell holds only check_*(...) calls")
        calls.append(statement.value)
    return calls


def _evaluate(node: ast.expr, namespace: dict[str, Any]) -> Any:
    return eval(compile(ast.Expression(node), "<check argument>", "eval"), namespace)  # noqa: S307 - the notebook's own names


def collect_call(call: ast.Call, namespace: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate one check call's arguments and run its collector; errors become data."""
    from helpers.checks.registry import JUDGED

    name = call.func.id  # type: ignore[attr-defined]
    try:
        args = [_evaluate(a, namespace) for a in call.args]
        kwargs = {k.arg: _evaluate(k.value, namespace) for k in call.keywords if k.arg}
    except Exception as exc:  # noqa: BLE001 - e.g. the learner deleted the function
        return {"function": name, "raised": raised(exc)}
    try:
        data = JUDGED[name].collect_graded(args, kwargs, {**options, "namespace": namespace})
    except Exception as exc:  # noqa: BLE001 - misuse (TypeError, ValueError) as the learner-side check raises it
        return {"function": name, "raised": raised(exc)}
    if isinstance(data, Evidence):
        return {"function": name, "kind": data.KIND, "version": data.VERSION, "data": data}
    return {"function": name, "data": data}


def record_cell(check_id: str, source: str, namespace: dict[str, Any], options: Mapping[str, Any] | None = None,
                fallback_dir: str | None = None) -> None:
    """The body of an evidence cell: collect every check call of ``source``, write one JSON."""
    folder = evidence_dir(fallback_dir)
    writer = _Writer(folder, check_id)
    records = [collect_call(call, namespace, dict(options or {})) for call in _calls(source)]
    # The evidence through its codec; anything else a patched collector returned is kept as its repr.
    text = json.dumps({"check": check_id, "calls": to_plain(records, writer.side)}, allow_nan=False,
                      default=lambda value: repr(value)[:300])
    (folder / record_name(check_id)).write_text(text, encoding="utf-8")
    print(f"evidence recorded for {check_id}")


# --------------------------------------------------------------------------- grader side: reading


def read_folder(folder: Path, limit: int = MAX_TENSOR_BYTES) -> dict[str, bytes]:
    """Regular files of an evidence folder (no symlinks followed), as :class:`RunOutcome.evidence` holds them."""
    files: dict[str, bytes] = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or path.stat().st_size > limit:
            continue
        files[path.name] = path.read_bytes()
    return files


def _resolve(value: Any, files: Mapping[str, bytes]) -> Any:
    if isinstance(value, dict):
        if set(value) == {ARRAY_KEY}:
            return _load_array(files, value[ARRAY_KEY])
        if set(value) == {TENSORS_KEY}:
            return _load_tensors(files, value[TENSORS_KEY])
        return {k: _resolve(v, files) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, files) for v in value]
    return value


def _side_file(files: Mapping[str, bytes], name: Any, limit: int) -> bytes:
    if not isinstance(name, str) or name not in files:
        raise EvidenceError(f"evidence file {name!r} is missing")
    blob = files[name]
    if len(blob) > limit:
        raise EvidenceError(f"evidence file {name!r} is larger than {limit} bytes")
    return blob


def _load_array(files: Mapping[str, bytes], name: Any) -> np.ndarray:
    blob = _side_file(files, name, MAX_ARRAY_BYTES)
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any garbled file
        raise EvidenceError(f"evidence file {name!r} is not a numpy array ({raised(exc)})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu" or array.ndim != 1:
        raise EvidenceError(f"evidence file {name!r} is not a 1-d numeric array")
    return array.astype(float)


def _load_tensors(files: Mapping[str, bytes], name: Any) -> Tensors:
    import torch

    blob = _side_file(files, name, MAX_TENSOR_BYTES)
    try:
        tensors = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001
        raise EvidenceError(f"evidence file {name!r} is not a weights file ({raised(exc)})") from None
    if not isinstance(tensors, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                for k, v in tensors.items()):
        raise EvidenceError(f"evidence file {name!r} is not a state dict of tensors")
    return Tensors(tensors)


def load_record(files: Mapping[str, bytes], check_id: str) -> list[dict[str, Any]]:
    """The calls recorded for one check, side files resolved; :class:`EvidenceError` if unusable."""
    if not has_record(files, check_id):
        raise EvidenceError("no evidence was written for this check")
    blob = files[record_name(check_id)]
    if len(blob) > MAX_JSON_BYTES:
        raise EvidenceError(f"the evidence for this check is larger than {MAX_JSON_BYTES} bytes")
    try:
        record = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EvidenceError(f"the evidence for this check is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(record, dict) or record.get("check") != check_id or not isinstance(record.get("calls"), list):
        raise EvidenceError("the evidence for this check is not in the grader's format")
    calls = []
    for call in record["calls"]:
        if not isinstance(call, dict) or not isinstance(call.get("function"), str):
            raise EvidenceError("the evidence for this check is not in the grader's format")
        calls.append(_resolve(call, files))
    return calls
