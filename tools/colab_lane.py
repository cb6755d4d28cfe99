"""The Colab-profile lane of ``make test``: the kit on (most of) Colab's package set.

Colab runs ipywidgets 7.7.1 and older numpy/pandas/scikit-learn/matplotlib than ``make lab``
installs. This lane layers those versions (``tools/colab_profile.txt``) over the kit's venv in a
cached ``pip install --target`` overlay (never touching the venv), then

1. runs the widget and quiz unit tests with the overlay first on ``PYTHONPATH``;
2. executes every solution top to bottom in quick mode (the grader's ``QUICK_EPOCHS``) in a kernel
   that sees the overlay, the venv's packages and a fake ``google.colab`` module, but not the
   kit itself, started in an empty folder: the setup cell takes its Colab path and really clones
   the kit (from a snapshot of this working tree, through git's ``insteadOf``: no network);
3. asserts that no cell errs, that every widget cell shows a widget view
   (``application/vnd.jupyter.widget-view+json``) whose model the kernel really opened, that no
   output line shows ✗ or a negative epoch, and that the kit and ipywidgets 7.7.1 were the ones
   imported. It prints what each part cost and the outputs of every widget cell.

Not covered: Colab's real front end, Python 3.13 and torch 2.11 (not installable here: the venv's
torch is used). The overlay lives in ``$KIT_COLAB_CACHE`` (default ``~/.cache/kit-colab-overlay``),
one folder per hash of the profile and the interpreter, built on first use and then reused.

Usage: ``python tools/colab_lane.py [--no-notebooks] [--no-unit] [NOTEBOOK ...]`` (``make colab``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from kit.launch import SETUP_CELL_ID  # the setup cell's id, defined once

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "tools" / "colab_profile.txt"
CACHE_ENV = "KIT_COLAB_CACHE"
DEFAULT_CACHE = Path.home() / ".cache" / "kit-colab-overlay"
STAMP = ".kit-overlay-complete"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
# Cells that display a widget (besides those whose committed outputs hold a widget view).
WIDGET_CALL = re.compile(r"^\s*(lr_explorer|quiz_widget)\(", re.MULTILINE)
NEGATIVE_EPOCH = re.compile(r"\bepoch\s+-\d")
PROBE_ID = "colab-lane-probe"
UNIT_TESTS = (
    "tests/test_colab_widgets.py",
    "tests/test_lr_explorer.py",
    "tests/test_quiz_widgets.py",
    "tests/test_quiz.py",
)
# ipywidgets 7.7.1 opens comms through ipykernel.comm.Comm, which this machine's ipykernel 7
# deprecates (Colab's ipykernel 6 does not warn): the only warning the lane silences.
COMM_WARNING = "ignore:The `ipykernel.comm.Comm` class has been deprecated:DeprecationWarning"
CELL_TIMEOUT = 900


class LaneError(RuntimeError):
    """The lane could not run (bad profile, failed overlay build): not a finding about the kit."""


# --- the overlay ---------------------------------------------------------------------------------


def profile_requirements(path: Path = PROFILE) -> list[str]:
    """The pinned requirement lines of the profile (comments and blank lines dropped)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][A-Za-z0-9.]*", line):
            raise LaneError(f"{path}: every line must pin one version (name==version), got {line!r}")
        lines.append(line)
    if not lines:
        raise LaneError(f"{path}: no requirements")
    return lines


def overlay_key(requirements: Sequence[str], python_tag: str | None = None) -> str:
    """The overlay's cache key: the pinned packages and the interpreter they were built for."""
    tag = python_tag or f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}-{platform.machine()}"
    digest = hashlib.sha256("\n".join([tag, *requirements]).encode("utf-8")).hexdigest()
    return f"{tag}-{digest[:16]}"


def cache_root(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    return Path(env[CACHE_ENV]).expanduser() if env.get(CACHE_ENV) else DEFAULT_CACHE


def ensure_overlay(root: Path, requirements: Sequence[str], python: str = sys.executable) -> tuple[Path, bool]:
    """The overlay folder for ``requirements``, built with ``pip install --target`` if absent.

    Returns ``(folder, built)``. A build goes to a temporary sibling folder and is renamed into
    place only when pip succeeded, so an interrupted build is never reused; two lanes building at
    once both succeed (the second keeps the first's folder)."""
    target = root / overlay_key(requirements)
    if (target / STAMP).is_file():
        return target, False
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        listing = building / "requirements.txt"
        listing.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        done = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile",
             "--no-warn-conflicts", "--target", str(building / "site"), "-r", str(listing)],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise LaneError(f"pip could not build the Colab-profile overlay:\n{tail}")
        (building / "site" / STAMP).write_text("\n".join(requirements) + "\n", encoding="utf-8")
        if target.exists() and not (target / STAMP).is_file():
            shutil.rmtree(target)  # an older, incomplete folder of the same key
        try:
            os.rename(building / "site", target)
        except OSError:
            if not (target / STAMP).is_file():
                raise
        return target, True
    finally:
        shutil.rmtree(building, ignore_errors=True)


_VERSIONS = """
import importlib.metadata as md, json, sys
print(json.dumps({name: (md.version(name), str(md.distribution(name).locate_file(''))) for name in sys.argv[1:]}))
"""


def overlay_problems(overlay: Path, requirements: Sequence[str], python: str = sys.executable) -> list[str]:
    """Which pinned packages a process with the overlay first on ``PYTHONPATH`` does *not* get
    from the overlay at the pinned version (``[]``: the profile is really in effect)."""
    names = [line.split("==")[0] for line in requirements]
    env = {**os.environ, "PYTHONPATH": str(overlay)}
    done = subprocess.run([python, "-c", _VERSIONS, *names], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return [f"could not read package versions: {done.stderr.strip()[-500:]}"]
    found = json.loads(done.stdout)
    problems = []
    for line, name in zip(requirements, names, strict=True):
        version, where = found[name]
        if version != line.split("==")[1] or Path(where).resolve() != overlay.resolve():
            problems.append(f"{name}: got {version} from {where}, expected {line} from the overlay")
    return problems


# --- the Colab-like kernel -----------------------------------------------------------------------


def snapshot_repository(source: Path, dest: Path, ref: str) -> Path:
    """A git repository at ``dest`` whose branch ``ref`` holds this working tree as a clone of it
    would after a commit (tracked and untracked-but-not-ignored files, current contents)."""
    done = subprocess.run(
        ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True,
    )
    if done.returncode != 0:
        raise LaneError(f"{source} must be a git checkout (the setup cell clones it): {done.stderr.decode().strip()}")
    listed = done.stdout.decode("utf-8").split("\0")
    for name in filter(None, listed):
        origin = source / name
        if origin.is_file():  # a deleted-but-tracked file is skipped, as a commit would drop it
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, dest / name)
    git = ["git", "-C", str(dest), "-c", "user.name=colab-lane", "-c", "user.email=lane@localhost",
           "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", ref], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "colab lane snapshot"], check=True)
    return dest


def make_kernel(work: Path, overlay: Path) -> tuple[Path, Path]:
    """A ``--without-pip`` venv whose site folder lists the overlay, a fake ``google.colab`` and
    the kit venv's packages, in that order, plus a kernelspec starting ipykernel in it.

    Paths listed in a ``.pth`` file are not site folders, so the venv's own ``.pth`` files (the
    kit's editable install among them) are not processed: ``helpers`` is not importable, as on a
    fresh Colab runtime. Returns ``(python, kernelspec folder)``."""
    venv = work / "kernel-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    fake = work / "fake-colab"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text(
        '"""Stand-in for Colab\'s google.colab (tools/colab_lane.py): only its presence matters."""\n',
        encoding="utf-8",
    )
    purelib = sysconfig.get_paths()["purelib"]
    (site / "colab-lane.pth").write_text(f"{overlay}\n{fake}\n{purelib}\n", encoding="utf-8")
    python = venv / "bin" / "python"
    specs = work / "kernels"
    (specs / "colab-profile").mkdir(parents=True)
    (specs / "colab-profile" / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab profile (lane)",
        "language": "python",
    }), encoding="utf-8")
    return python, specs


def kernel_env(repo_snapshot: Path, repo_url: str, quick_epochs: int) -> dict[str, str]:
    """The kernel's environment: quick mode, the clone redirected to the snapshot, no Studio."""
    from helpers.cloud import STUDIO_ENV_VAR

    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", STUDIO_ENV_VAR, "VIRTUAL_ENV") and not k.startswith(("PYTEST_", "KIT_"))}
    env.update({
        "KIT_QUICK_EPOCHS": str(quick_epochs),
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{repo_snapshot.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": repo_url,
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    return env


# --- verdicts on an executed notebook ------------------------------------------------------------


def widget_cell_ids(committed: NotebookNode) -> list[str]:
    """Cells that must show a widget: a widget view in the committed outputs, or a widget call."""
    ids = []
    for cell in committed.cells:
        if cell.cell_type != "code":
            continue
        shown = any(WIDGET_VIEW_MIME in output.get("data", {}) for output in cell.get("outputs", []))
        if shown or WIDGET_CALL.search(cell.source):
            ids.append(cell.get("id", ""))
    return ids


def _texts(cell: Mapping[str, Any]) -> Iterable[str]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            yield output.get("text", "")
        for mime in ("text/plain", "text/markdown"):
            if mime in output.get("data", {}):
                yield output["data"][mime]


def _stderr(cell: Mapping[str, Any]) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


@dataclass
class Verdict:
    """What the lane found in one executed notebook."""

    problems: list[str] = field(default_factory=list)
    widgets: dict[str, list[str]] = field(default_factory=dict)  # cell id -> mime types of its outputs
    stderr_cells: dict[str, str] = field(default_factory=dict)  # cell id -> first stderr line


def demonstration_ids(committed: NotebookNode) -> set[str]:
    """Cells whose committed (full-length) outputs already show ✗: deliberate demonstrations, such
    as a check run on the pitfall version on purpose. Their ✗ is the lesson, not a quick-mode defect."""
    return {cell.get("id", "") for cell in committed.cells
            if cell.cell_type == "code" and any("✗" in text for text in _texts(cell))}


def judge(executed: NotebookNode, widget_ids: Sequence[str], demonstrations: Iterable[str] = ()) -> Verdict:
    """Problems of an executed notebook: errors, widget cells without a live widget view, a
    widget showing a problem (the LR explorer's ⚠ message or "no schedule" readout), ✗ lines
    (except in ``demonstrations``), negative epochs (cells are named by id)."""
    verdict = Verdict()
    demonstrations = set(demonstrations)
    state = executed.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    by_id = {cell.get("id", ""): cell for cell in executed.cells if cell.cell_type == "code"}
    for cell_id, cell in by_id.items():
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                verdict.problems.append(f"{cell_id}: {output.get('ename')}: {output.get('evalue')}")
        for text in _texts(cell):
            for line in text.splitlines():
                if "✗" in line and cell_id not in demonstrations:
                    verdict.problems.append(f"{cell_id}: prints ✗: {line.strip()}")
                if NEGATIVE_EPOCH.search(line):
                    verdict.problems.append(f"{cell_id}: negative epoch: {line.strip()}")
        if _stderr(cell).strip():
            verdict.stderr_cells[cell_id] = _stderr(cell).strip().splitlines()[0][:160]
    for model_id, model in state.items():
        value = model.get("state", {}).get("value")
        if isinstance(value, str) and ("⚠" in value or "no schedule" in value):
            shown = re.sub(r"<[^>]+>", "", value).strip()
            kind = model.get("model_name", "widget")
            verdict.problems.append(f"a {kind} ({model_id}) shows a problem: {shown[:200]}")
    for cell_id in widget_ids:
        cell = by_id.get(cell_id)
        if cell is None:
            verdict.problems.append(f"{cell_id}: widget cell missing from the notebook")
            continue
        mimes = [mime for output in cell.get("outputs", []) for mime in output.get("data", {})]
        verdict.widgets[cell_id] = mimes
        views = [o["data"][WIDGET_VIEW_MIME] for o in cell.get("outputs", []) if WIDGET_VIEW_MIME in o.get("data", {})]
        if not views:
            verdict.problems.append(f"{cell_id}: no widget view (outputs: {mimes or 'none'})")
        for view in views:
            if view.get("model_id") not in state:
                verdict.problems.append(
                    f"{cell_id}: widget view of model {view.get('model_id')!r}, which the kernel never opened")
        if "Traceback" in _stderr(cell):
            verdict.problems.append(f"{cell_id}: a traceback on stderr beside the widget")
    return verdict


def probe_source(kit_dir: str) -> str:
    """The lane's own last cell: where helpers came from, and which ipywidgets ran."""
    return (
        "import helpers, ipywidgets, os\n"
        "print('helpers from clone:',\n"
        f"      os.path.abspath(helpers.__file__).startswith(os.path.abspath({kit_dir!r}) + os.sep))\n"
        "print('ipywidgets', ipywidgets.__version__)"
    )


def judge_probe(executed: NotebookNode, ipywidgets_version: str) -> list[str]:
    """Problems found by the probe cell and the setup cell: the Colab path must have been taken."""
    cells = {cell.get("id", ""): cell for cell in executed.cells if cell.cell_type == "code"}
    problems = []
    setup = "".join(_texts(cells[SETUP_CELL_ID])) if SETUP_CELL_ID in cells else ""
    if "Course kit ready on colab" not in setup:
        problems.append(f"{SETUP_CELL_ID}: did not take its Colab path (printed {setup.strip()[:200]!r})")
    probe = "".join(_texts(cells.get(PROBE_ID, {})))
    if "helpers from clone: True" not in probe:
        problems.append(f"{PROBE_ID}: helpers was not imported from the clone ({probe.strip()[:200]!r})")
    if f"ipywidgets {ipywidgets_version}\n" not in probe + "\n":
        problems.append(f"{PROBE_ID}: expected ipywidgets {ipywidgets_version} in the kernel ({probe.strip()[:200]!r})")
    return problems


# --- the lane --------------------------------------------------------------------------------------


def run_notebook(path: Path, work: Path, specs: Path, env: dict[str, str], ipywidgets_version: str,
                 save: Path | None = None) -> Verdict:
    """Execute one solution in the Colab-like kernel from an empty folder; judge what it showed."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    from helpers.cloud import KIT_DIR

    committed = nbformat.read(path, as_version=4)
    widget_ids = widget_cell_ids(committed)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.append(nbformat.v4.new_code_cell(probe_source(KIT_DIR), id=PROBE_ID))
    content = work / f"content-{path.stem}"
    content.mkdir()
    km = KernelManager(kernel_name="colab-profile", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]))
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, allow_errors=True, record_timing=False,
                            resources={"metadata": {"path": str(content)}})
    try:
        client.execute(env=env, cleanup_kc=True)
    finally:
        if km.has_kernel:  # nbclient leaves a kernel it did not create running
            km.shutdown_kernel(now=True)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save / path.name)
    verdict = judge(nb, widget_ids, demonstration_ids(committed))
    verdict.problems += judge_probe(nb, ipywidgets_version)
    return verdict


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load {one:.2f}/{five:.2f}/{fifteen:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/colab_lane.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solutions/*.ipynb")
    parser.add_argument("--no-unit", action="store_true", help="skip the widget and quiz unit tests")
    parser.add_argument("--no-notebooks", action="store_true", help="skip executing the solutions")
    parser.add_argument("--save", type=Path, metavar="DIR", help="also write the executed notebooks to DIR")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from helpers.cloud import REF, REPO_URL
    from kit.grade.run import QUICK_EPOCHS

    started = time.perf_counter()
    costs: list[tuple[str, float]] = []
    failures: list[str] = []
    requirements = profile_requirements()
    ipywidgets_version = next(line.split("==")[1] for line in requirements if line.startswith("ipywidgets=="))

    t = time.perf_counter()
    overlay, built = ensure_overlay(cache_root(), requirements)
    costs.append((f"overlay ({'built' if built else 'cached'}: {overlay})", time.perf_counter() - t))
    t = time.perf_counter()
    problems = overlay_problems(overlay, requirements)
    costs.append(("overlay check (versions really come from it)", time.perf_counter() - t))
    if problems:
        print("colab lane: the overlay is not in effect:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"colab lane: profile {', '.join(requirements)} over {sys.prefix} (torch stays the venv's)", flush=True)

    if not args.no_unit:
        t = time.perf_counter()
        # The overlay first, then this checkout (whatever `helpers` the venv's editable install names).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(overlay), str(REPO)]),
               "KIT_COLAB_LANE_IPYWIDGETS": ipywidgets_version}
        done = subprocess.run([sys.executable, "-m", "pytest", *UNIT_TESTS, "-q", "-p", "no:cacheprovider",
                               "-W", COMM_WARNING], cwd=REPO, env=env)
        costs.append((f"unit tests under the profile ({len(UNIT_TESTS)} files)", time.perf_counter() - t))
        if done.returncode != 0:
            failures.append(f"unit tests under the Colab profile failed (exit {done.returncode})")

    if not args.no_notebooks:
        notebooks = [p.resolve() for p in args.notebooks] or sorted((REPO / "solutions").glob("*.ipynb"))
        with tempfile.TemporaryDirectory(prefix="kit-colab-lane-") as tmp:
            work = Path(tmp)
            t = time.perf_counter()
            snapshot = snapshot_repository(REPO, work / "repo", REF)
            _python, specs = make_kernel(work, overlay)
            env = kernel_env(snapshot, REPO_URL, QUICK_EPOCHS)
            costs.append(("kernel venv, fake google.colab, repository snapshot", time.perf_counter() - t))
            for path in notebooks:
                t = time.perf_counter()
                verdict = run_notebook(path, work, specs, env, ipywidgets_version, args.save)
                seconds = time.perf_counter() - t
                costs.append((f"{path.name} top to bottom, KIT_QUICK_EPOCHS={QUICK_EPOCHS}", seconds))
                for cell_id, mimes in verdict.widgets.items():
                    print(f"  {path.name} widget cell {cell_id}: {', '.join(mimes) or 'no output'}")
                for cell_id, line in verdict.stderr_cells.items():
                    print(f"  {path.name} cell {cell_id} wrote to stderr: {line}")
                status = "ok" if not verdict.problems else f"{len(verdict.problems)} problem(s)"
                print(f"colab lane: {path.name}: {status} ({seconds:.0f} s)", flush=True)
                failures += [f"{path.name}: {problem}" for problem in verdict.problems]

    print(f"colab lane cost ({_load()}):")
    for name, seconds in costs:
        print(f"  {seconds:7.1f} s  {name}")
    print(f"  {time.perf_counter() - started:7.1f} s  total")
    if failures:
        print("colab lane FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("colab lane passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LaneError as error:
        print(f"colab lane could not run: {error}", file=sys.stderr)
        sys.exit(2)
