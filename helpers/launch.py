"""Launch links for every notebook, generated from one repository setting.

A fork changes ``REPO_URL`` (and ``REF`` if it publishes another branch or a tag); every badge,
the setup cell's clone command and the README's launch table follow from these two values.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote

# The single repository setting (a fork edits this line).
REPO_URL = "https://github.com/lr-course-kit/lr-warmup-weight-decay-kit"
# The branch or tag that badges open and the cloud setup cell clones.
REF = "main"

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
STUDIO_BADGE = "https://pl-bolts-doc-images.s3.us-east-2.amazonaws.com/app-2/studio-badge.svg"
_GITHUB = "https://github.com/"


def _github_slug(repo_url: str = REPO_URL) -> str:
    """``owner/name`` of a GitHub repository URL (Colab opens files of GitHub repositories only)."""
    if not repo_url.startswith(_GITHUB) or repo_url.endswith("/"):
        raise ValueError(f"REPO_URL must look like https://github.com/<owner>/<repo>, got {repo_url!r}")
    slug = repo_url[len(_GITHUB) :].removesuffix(".git")
    if slug.count("/") != 1 or "" in slug.split("/"):
        raise ValueError(f"REPO_URL must look like https://github.com/<owner>/<repo>, got {repo_url!r}")
    return slug


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


def colab_url(path: str) -> str:
    """Colab opens one file of a GitHub repository at the pinned ref (not the whole repository)."""
    return f"https://colab.research.google.com/github/{_github_slug()}/blob/{REF}/{_check_notebook_path(path)}"


def studio_url() -> str:
    """Lightning opens a new Studio with a copy of the whole repository."""
    return f"https://lightning.ai/new?repo_url={quote(REPO_URL, safe='')}"


def badge_markdown(path: str) -> str:
    """The source of a notebook's first cell (id ``launch-badges``) for the notebook at ``path``,
    a path relative to the repository root, e.g. ``notebooks/00_warmup_strategies.ipynb``."""
    colab = f"[![Open In Colab]({COLAB_BADGE})]({colab_url(path)})"
    studio = f"[![Open in Lightning Studio]({STUDIO_BADGE})]({studio_url()})"
    return (
        f"{colab} {studio}\n"
        "\n"
        "The badges open this notebook in Google Colab or the whole course repository in a Lightning "
        "Studio; there, run the setup cell below first (on your own machine it does nothing)."
    )
