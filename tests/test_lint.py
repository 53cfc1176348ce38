"""Source hygiene: ruff, and citations local to their page."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import chapters

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", [ROOT / "chapters" / "intro.md", *chapters.toc_chapters()], ids=lambda p: p.name)
def test_citations_are_local_to_their_page(path):
    """Two pages citing one work would otherwise make duplicate citations (a build warning)."""
    if path.suffix == ".md":
        texts = [path.read_text()]
    else:
        texts = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    prefix = chapters.citation_prefix(path)
    for text in texts:
        assert chapters.localize_citations(text, prefix) == text, "run: python -m tools.chapters localize-citations"


def test_ruff_is_clean():
    for command in (("check", "."), ("format", "--check", ".")):
        result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
