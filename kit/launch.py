"""Launch links for every notebook, generated from one repository setting.

A fork changes ``helpers.cloud.REPO_URL`` (and ``REF`` if it publishes another branch or a tag); every badge,
the setup cell's clone command and the README's launch table follow from these two values.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote

from helpers.cloud import REF, REPO_URL  # the one repository setting lives beside the code that clones it
from kit.course import SOLUTIONS_DIR, STARTERS_DIR, course

if TYPE_CHECKING:  # nbformat is imported only where notebooks are edited
    from nbformat import NotebookNode

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
STUDIO_BADGE = "https://pl-bolts-doc-images.s3.us-east-2.amazonaws.com/app-2/studio-badge.svg"
_GITHUB = "https://github.com/"

# The ids of the two launch cells, defined here only (kit.transforms.starter and tools/colab_lane.py import them).
BADGE_CELL_ID = "launch-badges"
SETUP_CELL_ID = "cloud-setup"
SETUP_TAG = "setup"
# The starters the README links to, in the order learners take them.
README_NOTEBOOKS = (
    "notebooks/00_warmup_strategies.ipynb",
    "notebooks/01_warmup_cosine.ipynb",
    "notebooks/02_adamw_weight_decay.ipynb",
)
README_START = "<!-- launch-badges:start (generated: kit launch --readme) -->"
README_END = "<!-- launch-badges:end -->"


@dataclass(frozen=True)
class Published:
    """Where learners fetch the course from: the repository and the branch or tag every badge and
    clone points at. ``kit release --repo-url/--ref`` passes its own; everything else uses
    :func:`home`, the setting in ``helpers.cloud``."""

    repo_url: str
    ref: str

    def github_slug(self) -> str:
        """``owner/name`` of the repository (Colab opens files of GitHub repositories only)."""
        repo_url = self.repo_url
        if not repo_url.startswith(_GITHUB) or repo_url.endswith("/"):
            raise ValueError(f"REPO_URL must look like https://github.com/<owner>/<repo>, got {repo_url!r}")
        slug = repo_url[len(_GITHUB) :].removesuffix(".git")
        if slug.count("/") != 1 or "" in slug.split("/"):
            raise ValueError(f"REPO_URL must look like https://github.com/<owner>/<repo>, got {repo_url!r}")
        return slug


def home() -> Published:
    """The course's own setting (read when called, so a test may patch ``REPO_URL``/``REF``)."""
    return Published(REPO_URL, REF)


def _check_notebook_path(path: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"path must be a str such as 'notebooks/00_warmup_strategies.ipynb', got {type(path).__name__}")
    pure = PurePosixPath(path)
    if "\\" in path or pure.is_absolute() or ".." in pure.parts or pure.suffix != ".ipynb":
        raise ValueError(
            f"path must be a notebook path relative to the repository root, such as "
            f"'notebooks/00_warmup_strategies.ipynb', got {path!r}"
        )
    return pure.as_posix()


def colab_url(path: str, at: Published | None = None) -> str:
    """Colab opens one file of a GitHub repository at the pinned ref (not the whole repository)."""
    at = at or home()
    return f"https://colab.research.google.com/github/{at.github_slug()}/blob/{at.ref}/{_check_notebook_path(path)}"


def studio_url(at: Published | None = None) -> str:
    """Lightning opens a new Studio with a copy of the whole repository."""
    return f"https://lightning.ai/new?repo_url={quote((at or home()).repo_url, safe='')}"


def badge_line(path: str, at: Published | None = None) -> str:
    """The two badges for the notebook at ``path`` on one markdown line."""
    colab = f"[![Open In Colab]({COLAB_BADGE})]({colab_url(path, at)})"
    studio = f"[![Open in Lightning Studio]({STUDIO_BADGE})]({studio_url(at)})"
    return f"{colab} {studio}"


def badge_markdown(path: str, at: Published | None = None) -> str:
    """The source of a notebook's first cell (id ``launch-badges``) for the notebook at ``path``,
    a path relative to the repository root, e.g. ``notebooks/00_warmup_strategies.ipynb``."""
    return (
        f"{badge_line(path, at)}\n"
        "\n"
        "The badges open this notebook in Google Colab or the whole course repository in a Lightning "
        "Studio; there, run the setup cell below first (on your own machine it does nothing)."
    )


def setup_cell_source(at: Published | None = None) -> str:
    """The source of every notebook's second cell (id ``cloud-setup``, tag ``setup``).

    It cannot import ``helpers`` before the kit is on disk, so it carries the bootstrap itself:
    detect the cloud, find the repository (a Lightning Studio opened from the badge holds it one
    folder up) or clone it, then hand over to :func:`helpers.cloud.prepare_runtime`. Where
    ``helpers`` is importable (a local ``make lab``), the ``if`` is false and nothing happens.
    """
    from helpers.cloud import KIT_DIR, STUDIO_ENV_VAR
    from kit.notebooks import SKIP, marker_line

    at = at or home()
    return f'''{marker_line(SKIP)}
# Colab or Lightning Studio: fetch the course kit and install what this runtime lacks.
# On your own machine (`make lab`) the kit is installed already and this cell does nothing.
import importlib.util, os, subprocess, sys

REPO_URL, REF = "{at.repo_url}", "{at.ref}"
find_spec = importlib.util.find_spec
if find_spec("helpers") is None and (
    (find_spec("google") and find_spec("google.colab")) or "{STUDIO_ENV_VAR}" in os.environ
):
    kit = ".." if os.path.isfile("../helpers/cloud.py") else "{KIT_DIR}"
    if not os.path.isdir(kit):
        subprocess.run(["git", "clone", "--depth", "1", "--branch", REF, REPO_URL, kit], check=True)
    sys.path.insert(0, os.path.abspath(kit))
    from helpers.cloud import prepare_runtime

    prepare_runtime(kit)'''


def readme_block(at: Published | None = None) -> str:
    """The README's launch table, one row per starter, from the same setting as the notebooks."""
    rows = [f"| `{path}` | {badge_line(path, at)} |" for path in README_NOTEBOOKS]
    return "\n".join([README_START, "| Notebook | Open in the cloud |", "|---|---|", *rows, README_END])


def repo_path_of(notebook: Path) -> str:
    """``notebooks/<name>.ipynb`` or ``solutions/<name>.ipynb``: the path the badges link to
    (the folder name decides, so a copy in another ``solutions/`` folder links like the original)."""
    if notebook.parent.name not in (STARTERS_DIR, SOLUTIONS_DIR) or notebook.suffix != ".ipynb":
        raise ValueError(f"{notebook}: expected a .ipynb file inside a notebooks/ or solutions/ folder")
    return f"{notebook.parent.name}/{notebook.name}"


def refresh_launch_cells(nb: NotebookNode, repo_path: str, at: Published | None = None) -> list[str]:
    """Make cells 1 and 2 of ``nb`` current (in place); returns what changed, ``[]`` if nothing.

    Only the two launch cells' sources, ids and the ``setup`` tag are touched; a cell with
    another id at either position stays and the launch cell is inserted before it.
    """
    import nbformat

    changes = []
    badges = badge_markdown(repo_path, at)
    first = nb.cells[0] if nb.cells else None
    if first is None or first.get("id") != BADGE_CELL_ID or first.cell_type != "markdown":
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(badges, id=BADGE_CELL_ID))
        changes.append(f"cell 1: inserted the {BADGE_CELL_ID!r} markdown cell")
    elif first.source != badges:
        first.source = badges
        changes.append(f"cell 1 ({BADGE_CELL_ID}): badge links updated")

    setup = setup_cell_source(at)
    second = nb.cells[1] if len(nb.cells) > 1 else None
    if second is None or second.get("id") != SETUP_CELL_ID or second.cell_type != "code":
        nb.cells.insert(1, nbformat.v4.new_code_cell(setup, id=SETUP_CELL_ID, metadata={"tags": [SETUP_TAG]}))
        changes.append(f"cell 2: inserted the {SETUP_CELL_ID!r} code cell")
    else:
        if second.source != setup:
            second.source = setup
            second.outputs = []
            changes.append(f"cell 2 ({SETUP_CELL_ID}): setup code updated")
        tags = second.metadata.setdefault("tags", [])
        if SETUP_TAG not in tags:
            tags.append(SETUP_TAG)
            changes.append(f"cell 2 ({SETUP_CELL_ID}): tag {SETUP_TAG!r} added")
    return changes


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it (messages stay short)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _executed(nb: NotebookNode) -> bool:
    return any(c.cell_type == "code" and (c.get("execution_count") or c.get("outputs")) for c in nb.cells)


def update_notebook(path: Path, *, check: bool = False, force: bool = False) -> tuple[bool, list[str]]:
    """Bring one notebook's launch cells up to date. Returns (ok, messages).

    An executed notebook is not changed without ``force``: its committed outputs must be what a
    real run of its current sources produced, so refresh the cells before executing it.
    """
    from kit import notebooks

    nb = notebooks.read(path)
    changes = refresh_launch_cells(nb, repo_path_of(path))
    if not changes:
        return True, []
    shown = _shown(path)
    lines = [f"{shown}: {change}" for change in changes]
    if check:
        return False, [*lines, f"{shown}: out of date (run `kit launch`)"]
    if _executed(nb) and not force:
        return False, [
            *lines,
            (f"{shown}: not written: the notebook is executed and its outputs would no longer match its "
             "source. Run `kit launch` before executing it, or pass --force and re-execute "
             "it afterwards (`make solutions`)."),
        ]
    notebooks.write_atomic(nb, path)
    tail = " (executed notebook: re-execute it now, e.g. `make solutions`)" if _executed(nb) else ""
    return True, [*lines, f"{shown}: written{tail}"]


def update_readme(path: Path, *, check: bool = False, at: Published | None = None) -> tuple[bool, list[str]]:
    """Replace the README's block between the launch markers with :func:`readme_block`."""
    block = readme_block(at)
    text = Path(path).read_text(encoding="utf-8")
    shown = _shown(path)
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False, [f"{shown}: no launch block; add the two lines {README_START!r} and {README_END!r}"]
    current = text[start : end + len(README_END)]
    if current == block:
        return True, []
    if check:
        return False, [f"{shown}: launch block out of date (run `kit launch --readme`)"]
    Path(path).write_text(text[:start] + block + text[end + len(README_END) :], encoding="utf-8")
    return True, [f"{shown}: launch block written"]


def main(argv: Sequence[str] | None = None) -> int:
    """``kit launch [NOTEBOOK ...] [--check] [--force] [--readme]``."""
    parser = argparse.ArgumentParser(
        prog="kit launch",
        description="Refresh the launch cells (badges, cloud setup) of solution notebooks "
        "and the README's launch table.",
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solutions/*.ipynb and README.md")
    parser.add_argument("--check", action="store_true", help="report what is out of date, write nothing")
    parser.add_argument("--force", action="store_true", help="also change notebooks that were already executed")
    parser.add_argument("--readme", action="store_true", help="only the README's launch block")
    args = parser.parse_args(argv)

    targets = [] if args.readme else args.notebooks or sorted(course().solutions.glob("*.ipynb"))
    jobs: list[Callable[[], tuple[bool, list[str]]]] = [
        functools.partial(update_notebook, path, check=args.check, force=args.force) for path in targets
    ]
    if args.readme or not args.notebooks:
        jobs.append(lambda: update_readme(course().readme, check=args.check))
    ok, quiet = True, True
    for job in jobs:
        try:
            good, lines = job()
        except (OSError, ValueError) as exc:
            good, lines = False, [str(exc)]
        for line in lines:
            print(line, file=sys.stdout if good else sys.stderr)
        ok, quiet = ok and good, quiet and not lines
    if quiet:
        print("nothing to change: every launch cell checked is current")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
