"""The book's text pages: the code on the pitfalls page runs as printed, and its citations are local."""

import re
from pathlib import Path

import pytest

from tools import chapters

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "chapters" / name for name in ("pitfalls.md", "where_next.md", "published_numbers.md")]
PITFALLS = ROOT / "chapters" / "pitfalls.md"


def code_blocks(path: Path) -> list[tuple[str, str]]:
    """(heading just above, code) of every ```python block of a page."""
    text = path.read_text()
    blocks = []
    for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
        heading = re.findall(r"^#+ (.+)$", text[: match.start()], flags=re.M)[-1]
        blocks.append((heading, match.group(1)))
    return blocks


@pytest.mark.parametrize(("heading", "code"), code_blocks(PITFALLS), ids=[h for h, _ in code_blocks(PITFALLS)])
def test_pitfall_code_runs_as_printed(heading, code):
    exec(compile(code, f"pitfalls.md: {heading}", "exec"), {})  # noqa: S102 - our own page


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_citations_are_local_and_pages_are_in_the_toc(path):
    text = path.read_text()
    prefix = path.stem.split("_", 1)[0] + "-"
    assert chapters.localize_citations(text, prefix) == text, f"cite keys on {path.name} need the prefix {prefix}"
    assert f"file: chapters/{path.stem}" in (ROOT / "_toc.yml").read_text(), f"{path.name} is not in _toc.yml"


def test_references_parse_as_bibtex():
    """references.bib parses strictly (a broken entry otherwise surfaces only as a failed book build)."""
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "references.bib"), bib_format="bibtex").entries
    assert len(entries) > 50, f"only {len(entries)} entries parsed from references.bib"
