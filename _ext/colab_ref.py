"""Sphinx extension: the book's Colab links open the library of the commit the book was built from.

Build with ``VAE_BOOK_COMMIT=<commit>`` (the Pages workflow sets it to the commit it builds) and

* each page's Colab launch button opens ``.../blob/<commit>/chapters/<page>.ipynb``: the notebook
  exactly as it was built, not the branch named in ``_config.yml``, which may have moved on;
* each notebook the book serves for download (``_sources/**.ipynb``) has the vaelib install in its
  Colab cell pinned to ``@<commit>``, so a downloaded copy installs that library however old it gets.

A stored notebook cannot name its own commit: its Colab cell installs from the branch
``tools.chapters.COLAB_REF``, which the Pages workflow moves to the commit it has just deployed, so
the notebook the launch button opens installs that commit too. Without ``VAE_BOOK_COMMIT`` (a local
build, whose commit may not be on GitHub) the links stay as configured. A chapter whose Colab cell
has no vaelib install to pin is named in a warning (an error in a ``-W`` build).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
COMMIT_ENV = "VAE_BOOK_COMMIT"
COLAB_TAG = "colab"  # tools.chapters.COLAB_TAG: the first cell, run only on Colab
# git+URL@REF inside the quoted requirement "vaelib @ git+URL@REF"
INSTALL = re.compile(r'("vaelib @ git\+[^"@\s]+)@[^"\s]+"')
COMMIT = re.compile(r"[0-9a-f]{7,40}|v?\d+(\.\d+)*")  # a commit (hex) or a release tag such as v1.2.0


def build_commit() -> str | None:
    """``$VAE_BOOK_COMMIT``, checked: a commit hash or a release tag, or None when unset or empty."""
    commit = os.environ.get(COMMIT_ENV, "").strip()
    if not commit:
        return None
    if not COMMIT.fullmatch(commit):
        raise ValueError(
            f"{COMMIT_ENV}={commit!r} is neither a commit hash (7-40 lowercase hex digits) nor a release tag "
            f"such as v1.2.0; set it to the commit being built, e.g. {COMMIT_ENV}=$(git rev-parse HEAD)"
        )
    return commit


def pin_install(source: str, commit: str) -> str:
    """``source`` (a Colab cell) with its vaelib install pinned to ``commit``; ValueError when it has none."""
    pinned, count = INSTALL.subn(lambda match: f'{match.group(1)}@{commit}"', source)
    if count != 1:
        raise ValueError(f'the Colab cell has {count} "vaelib @ git+URL@REF" installs, not 1')
    return pinned


def pin_notebook(path: Path, commit: str) -> None:
    """Pin the Colab cell (the first cell, tagged ``colab``) of the notebook at ``path`` in place."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0] if nb.cells else None
    if first is None or COLAB_TAG not in first.get("metadata", {}).get("tags", []):
        raise ValueError("its first cell is not the Colab cell (run: python -m tools.chapters sync-colab)")
    first.source = pin_install(first.source, commit)
    nbformat.write(nb, path)


def _pin_launch_buttons(app, config) -> None:
    commit = build_commit()
    if commit:
        config.html_theme_options["repository_branch"] = commit  # what the launch buttons' URLs name


def _pin_downloads(app, exception) -> None:
    commit = build_commit()
    if exception is not None or app.builder.format != "html" or not commit:
        return
    for path in sorted((Path(app.outdir) / "_sources").glob("**/*.ipynb")):
        try:
            pin_notebook(path, commit)
        except ValueError as error:
            LOGGER.warning("colab_ref: %s cannot install vaelib at %s: %s", path.name, commit, error)


def setup(app):
    build_commit()  # a malformed VAE_BOOK_COMMIT stops the build at once
    app.connect("config-inited", _pin_launch_buttons)
    app.connect("build-finished", _pin_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
