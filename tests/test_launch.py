"""Launch links and setup cells: every notebook opens itself, the README table follows the setting,
and ``kit launch`` refreshes only what is stale (never an executed notebook unasked)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest

from helpers.cloud import KIT_DIR, STUDIO_ENV_VAR
from kit import launch

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\((https://[^)\s]+)\)")


def notebook_params(folder: str) -> list:
    paths = sorted((REPO / folder).glob("*.ipynb"))
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{folder}/ has no notebooks yet"))]
    return [pytest.param(p, id=f"{folder}/{p.name}") for p in paths]


ALL_NOTEBOOKS = notebook_params("notebooks") + notebook_params("solutions")


def links(markdown: str) -> tuple[str, str]:
    """The Colab and the Studio link of a badge cell (badge image URLs excluded)."""
    found = [url for url in LINK.findall(markdown) if not url.endswith(".svg")]
    colab = [u for u in found if u.startswith("https://colab.research.google.com/github/")]
    studio = [u for u in found if u.startswith("https://lightning.ai/new?")]
    assert len(colab) == 1 and len(studio) == 1, f"expected one Colab and one Studio link, found {found}"
    return colab[0], studio[0]


def test_badge_links_point_at_the_notebook_and_the_repository():
    colab, studio = links(launch.badge_markdown("notebooks/01_warmup_cosine.ipynb"))
    owner_repo = launch.REPO_URL.removeprefix("https://github.com/")
    assert colab == f"https://colab.research.google.com/github/{owner_repo}/blob/{launch.REF}/notebooks/01_warmup_cosine.ipynb"
    assert parse_qs(urlparse(studio).query) == {"repo_url": [launch.REPO_URL]}
    assert "%2F" in studio  # the repository URL is URL-encoded, not pasted raw


@pytest.mark.parametrize("bad", ["/abs/x.ipynb", "../x.ipynb", "notebooks/x.py", "notebooks\\x.ipynb"])
def test_badge_markdown_rejects_paths_outside_the_repository(bad):
    with pytest.raises(ValueError, match="relative to the repository root"):
        launch.badge_markdown(bad)


def test_badge_markdown_names_the_type_it_needs():
    with pytest.raises(TypeError, match="must be a str"):
        launch.badge_markdown(Path("notebooks/x.ipynb"))  # type: ignore[arg-type]


def test_setting_must_be_a_github_repository(monkeypatch):
    monkeypatch.setattr(launch, "REPO_URL", "https://gitlab.com/a/b")
    with pytest.raises(ValueError, match=re.escape("https://github.com/<owner>/<repo>")):
        launch.badge_markdown("notebooks/x.ipynb")


def test_setup_cell_source_is_skipped_by_nbval_and_carries_the_setting():
    source = launch.setup_cell_source()
    assert source.splitlines()[0] == "# NBVAL_SKIP"
    compile(source, "cloud-setup", "exec")
    for value in (launch.REPO_URL, launch.REF, KIT_DIR, STUDIO_ENV_VAR, "google.colab", "prepare_runtime(kit)"):
        assert value in source


@pytest.mark.parametrize("path", ALL_NOTEBOOKS)
def test_notebook_starts_with_its_own_badges_and_the_setup_cell(path: Path):
    nb = nbformat.read(path, as_version=4)
    own = f"{path.parent.name}/{path.name}"
    first, second = nb.cells[0], nb.cells[1]
    assert (first.cell_type, first.get("id")) == ("markdown", launch.BADGE_CELL_ID)
    colab, studio = links(first.source)
    assert colab.endswith(f"/blob/{launch.REF}/{own}") and colab == launch.colab_url(own)
    assert parse_qs(urlparse(studio).query) == {"repo_url": [launch.REPO_URL]}
    assert (second.cell_type, second.get("id")) == ("code", launch.SETUP_CELL_ID)
    assert launch.SETUP_TAG in second.metadata.get("tags", [])
    assert second.source.splitlines()[0] == "# NBVAL_SKIP"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS)
def test_notebook_launch_cells_are_current(path: Path):
    nb = nbformat.read(path, as_version=4)
    stale = launch.refresh_launch_cells(nb, launch.repo_path_of(path))
    assert not stale, f"{stale}: run `kit launch` (solutions), then `make solutions starters`"


def test_readme_launch_block_is_generated_from_the_setting():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert launch.readme_block() in text, "README launch table is stale: run `kit launch --readme`"
    for path in launch.README_NOTEBOOKS:
        assert launch.badge_line(path) in text


class BadgeLinks(HTMLParser):
    """(link target, image source) for every image inside a link of rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.href: str | None = None
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.href = attrs.get("href")
        elif tag == "img" and self.href:
            self.found.append((self.href, attrs.get("src")))

    def handle_endtag(self, tag):
        if tag == "a":
            self.href = None


def rendered_badges(markdown: str) -> list[tuple[str, str]]:
    mistune = pytest.importorskip("mistune", reason="mistune (a JupyterLab/nbconvert dependency) renders the markdown")
    parser = BadgeLinks()
    parser.feed(mistune.create_markdown(escape=False, plugins=["table"])(markdown))
    return parser.found


def test_readme_renders_two_badges_per_starter():
    found = rendered_badges((REPO / "README.md").read_text(encoding="utf-8"))
    for path in launch.README_NOTEBOOKS:
        assert (launch.colab_url(path), launch.COLAB_BADGE) in found
    studio = [pair for pair in found if pair == (launch.studio_url(), launch.STUDIO_BADGE)]
    assert len(studio) == len(launch.README_NOTEBOOKS)


def test_badge_cell_renders_as_two_image_links():
    found = rendered_badges(launch.badge_markdown("solutions/01_warmup_cosine.ipynb"))
    assert found == [
        (launch.colab_url("solutions/01_warmup_cosine.ipynb"), launch.COLAB_BADGE),
        (launch.studio_url(), launch.STUDIO_BADGE),
    ]


def test_readme_lists_exactly_the_starters():
    starters = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    if not starters:
        pytest.skip("notebooks/ has no starters yet")
    assert starters == sorted(Path(p).name for p in launch.README_NOTEBOOKS)


# --- the command, on copies in a temporary folder --------------------------------------------------


def placeholder_notebook(executed: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("badges go here", id=launch.BADGE_CELL_ID),
        nbformat.v4.new_code_cell("# NBVAL_SKIP\npass", id=launch.SETUP_CELL_ID, metadata={"tags": ["setup"]}),
        nbformat.v4.new_code_cell("x = 1\nx", id="ex0-work"),
    ]
    if executed:
        nb.cells[1].execution_count = 1
        nb.cells[2].execution_count = 2
        nb.cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=2)]
    return nb


def write(tmp_path: Path, nb: nbformat.NotebookNode, name: str = "00_demo.ipynb") -> Path:
    folder = tmp_path / "solutions"
    folder.mkdir(exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_check_reports_stale_cells_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, placeholder_notebook(executed=False))
    before = path.read_bytes()
    assert launch.main(["--check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "cell 1 (launch-badges)" in err and "cell 2 (cloud-setup)" in err
    assert path.read_bytes() == before


def test_refresh_then_check_passes_and_keeps_other_cells(tmp_path, capsys):
    path = write(tmp_path, placeholder_notebook(executed=False))
    assert launch.main([str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source == launch.badge_markdown("solutions/00_demo.ipynb")
    assert nb.cells[1].source == launch.setup_cell_source()
    assert [c.id for c in nb.cells] == [launch.BADGE_CELL_ID, launch.SETUP_CELL_ID, "ex0-work"]
    written = path.read_bytes()
    assert launch.main(["--check", str(path)]) == 0
    assert launch.main([str(path)]) == 0 and path.read_bytes() == written  # idempotent
    assert "is current" in capsys.readouterr().out


def test_executed_notebook_is_refused_without_force(tmp_path, capsys):
    path = write(tmp_path, placeholder_notebook(executed=True))
    before = path.read_bytes()
    assert launch.main([str(path)]) == 1
    assert "not written: the notebook is executed" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_force_keeps_the_real_execution_counts(tmp_path, capsys):
    path = write(tmp_path, placeholder_notebook(executed=True))
    assert launch.main(["--force", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]
    assert nb.cells[2].outputs[0]["data"] == {"text/plain": "1"}
    assert "re-execute" in capsys.readouterr().out


def test_missing_launch_cells_are_inserted(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title", id="title")]
    path = write(tmp_path, nb)
    assert launch.main([str(path)]) == 0
    cells = nbformat.read(path, as_version=4).cells
    assert [c.id for c in cells] == [launch.BADGE_CELL_ID, launch.SETUP_CELL_ID, "title"]
    assert cells[1].metadata["tags"] == [launch.SETUP_TAG]


def test_notebook_outside_notebooks_or_solutions_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "x.ipynb"
    nbformat.write(placeholder_notebook(executed=False), path)
    assert launch.main(["--check", str(path)]) == 1
    assert "inside a notebooks/ or solutions/ folder" in capsys.readouterr().err


def test_readme_block_is_rewritten_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Kit\n\n{launch.README_START}\nold\n{launch.README_END}\n\nmore\n", encoding="utf-8")
    assert launch.update_readme(readme, check=True)[0] is False
    assert launch.update_readme(readme)[0] is True
    assert readme.read_text(encoding="utf-8") == f"# Kit\n\n{launch.readme_block()}\n\nmore\n"
    assert launch.update_readme(readme, check=True) == (True, [])
