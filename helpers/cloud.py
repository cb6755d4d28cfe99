"""Make a fresh Colab or Lightning Studio runtime ready for the course; do nothing elsewhere.

A notebook's ``cloud-setup`` cell (see :func:`kit.launch.setup_cell_source`) cannot import
this module before the kit is on disk, so the cell itself finds or clones the repository (the
command of :func:`clone_command`), puts it on ``sys.path`` and then calls :func:`prepare_runtime`,
which installs only the packages that runtime lacks. Locally nothing here runs: ``make lab``
already installed everything, and the cell skips itself because ``helpers`` is importable.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, MutableSequence
from pathlib import Path
from typing import Any

# The single repository setting (a fork edits these lines): every badge, the setup cell's clone
# command and the README's launch table follow from them (kit.launch builds those).
REPO_URL = "https://github.com/lr-course-kit/lr-warmup-weight-decay-kit"
# The branch or tag that badges open and the cloud setup cell clones.
REF = "main"

# Lightning Studios set this variable in every Studio process (lightning_sdk and litdata read it
# to find the current Studio); Colab is recognised by its `google.colab` module instead.
STUDIO_ENV_VAR = "LIGHTNING_CLOUD_SPACE_ID"
# Where the setup cell clones the kit on Colab, relative to the notebook's folder.
KIT_DIR = "lr-warmup-weight-decay-kit"
# The learner runtime's packages and their versions, at the course's root (the one source of versions).
REQUIREMENTS_FILE = "requirements.txt"

# Module the notebooks import -> its distribution name in requirements.txt, whose version spec is
# used. torch and torchvision are absent on purpose: cloud runtimes ship a build that fits their
# hardware, and replacing it is a multi-GB download that breaks their CUDA setup.
NEEDED_MODULES: tuple[tuple[str, str], ...] = (
    ("lightning", "lightning"),
    ("torchmetrics", "torchmetrics"),
    ("pl_bolts", "lightning-bolts"),
    # pl_bolts imports pkg_resources, which setuptools 81 removed.
    ("pkg_resources", "setuptools"),
    ("sklearn", "scikit-learn"),
    ("pandas", "pandas"),
    ("matplotlib", "matplotlib"),
    # Installed only where absent: Colab's ipywidgets 7.7.1 matches its front end and stays (the
    # kit's widgets work on 7.7.1 and 8.x, see helpers/widgets_compat.py).
    ("ipywidgets", "ipywidgets"),
)

Runner = Callable[..., Any]
FindSpec = Callable[[str], Any]


def module_available(name: str, importable: FindSpec | None = None) -> bool:
    """Whether ``name`` can be imported, without importing it (a missing parent package such as
    ``google`` counts as "not importable", not as an error)."""
    find = importable or importlib.util.find_spec
    try:
        return find(name) is not None
    except (ModuleNotFoundError, ValueError):
        return False


def detect_cloud(env: Mapping[str, str] | None = None, importable: FindSpec | None = None) -> str | None:
    """``"colab"``, ``"lightning-studio"`` or ``None`` (any other machine)."""
    env = os.environ if env is None else env
    if module_available("google.colab", importable):
        return "colab"
    if STUDIO_ENV_VAR in env:
        return "lightning-studio"
    return None


def clone_command(folder: str = KIT_DIR) -> list[str]:
    """The shallow clone of this repository at the pinned ref that the setup cell runs."""
    return ["git", "clone", "--depth", "1", "--branch", REF, REPO_URL, folder]


def _distribution(line: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return match.group(0).lower().replace("_", "-") if match else ""


def requirement_specs(kit_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Distribution name -> its line in the kit's requirements.txt (the one source of versions)."""
    path = Path(kit_dir) / REQUIREMENTS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: prepare_runtime needs the course repository checked out "
            f"(the notebook's setup cell clones it into {KIT_DIR!r})"
        )
    specs = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            specs[_distribution(line)] = line
    return specs


def missing_requirements(kit_dir: str | os.PathLike[str], importable: FindSpec | None = None) -> list[str]:
    """The requirement specs whose module this runtime cannot import, in a stable order."""
    if not module_available("torch", importable):
        raise RuntimeError(
            "torch is not installed in this runtime. The kit never installs torch itself (the right "
            "build depends on the hardware): install it from https://pytorch.org, then run this cell again."
        )
    specs = requirement_specs(kit_dir)
    missing = []
    for module, distribution in NEEDED_MODULES:
        if module_available(module, importable):
            continue
        if distribution not in specs:
            raise ValueError(f"{REQUIREMENTS_FILE} has no line for {distribution!r} (needed for `import {module}`)")
        missing.append(specs[distribution])
    return missing


def prepare_runtime(
    kit_dir: str | os.PathLike[str] = KIT_DIR,
    *,
    run: Runner | None = None,
    env: Mapping[str, str] | None = None,
    importable: FindSpec | None = None,
    path: MutableSequence[str] | None = None,
    python: str | None = None,
) -> list[list[str]]:
    """On Colab or a Lightning Studio: pip-install what the runtime lacks and make the kit at
    ``kit_dir`` importable in this very kernel. Elsewhere: do nothing, print nothing.

    Returns the commands it ran (``[]`` locally). The keyword arguments exist so that tests can
    simulate a runtime; by default they are ``subprocess.run``, ``os.environ``,
    ``importlib.util.find_spec``, ``sys.path`` and ``sys.executable``.
    """
    cloud = detect_cloud(env, importable)
    if cloud is None:
        return []
    run = subprocess.run if run is None else run
    path = sys.path if path is None else path
    python = sys.executable if python is None else python
    kit = os.path.abspath(kit_dir)

    commands = []
    specs = missing_requirements(kit, importable)
    if specs:
        print(f"Installing what this {cloud} runtime lacks: {' '.join(specs)}")
        command = [python, "-m", "pip", "install", "--quiet", *specs]
        run(command, check=True)
        commands.append(command)
    # The kit is used from its folder, not pip-installed: an install would only be importable
    # after a runtime restart, while a sys.path entry works in this kernel at once.
    if kit not in path:
        path.insert(0, kit)
    # Packages pip just added to site-packages are invisible to the import system's cached
    # directory listings until the caches are dropped.
    importlib.invalidate_caches()
    print(f"Course kit ready on {cloud}: helpers imported from {os.path.basename(kit)}/")
    return commands
