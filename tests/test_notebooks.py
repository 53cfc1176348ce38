"""The chapter notebooks as files: all in the toc, stored stripped, a setup cell, alt text for figures.

Executing them is the smoke build's job (tests/test_build.py: ``test_chapter_executes``) and, on Colab's
packages and on real MNIST where it is beside the project, the Colab pass's (tests/test_colab.py).
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest

from tools import chapters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from figure_alt import ALT_KEY, alt_problem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()


def test_every_notebook_in_chapters_is_in_the_toc():
    """The smoke build executes what _toc.yml lists: a notebook missing there would be tested by nothing."""
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb"))
    listed = sorted(p.relative_to(ROOT).as_posix() for p in CHAPTERS)
    assert listed == notebooks, "every notebook in chapters/ must be listed in _toc.yml, and only those"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run nbstripout"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell_reads_the_smoke_switch_and_picks_the_device(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "setup" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: one code cell tagged 'setup', found {len(tagged)}"
    assert tagged[0] is code[1], "the setup cell comes right after the Colab cell"
    setup = tagged[0].source
    assert "vaelib.smoke_mode()" in setup and "vaelib.pick_device()" in setup


def alt_text(cell) -> str | None:
    value = cell.metadata
    for key in ALT_KEY:
        value = value.get(key, {}) if isinstance(value, dict) else {}
    return value or None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_captioned_figure_has_alt_text(path):
    """A cell with a figure caption draws a figure: its alt text (metadata mystnb.image.alt) must describe it.

    Cells that draw a figure without a caption are caught by _ext/figure_alt.py in the build.
    """
    nb = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "figure" not in cell.metadata.get("mystnb", {}):
            continue
        problem = alt_problem(alt_text(cell))
        if problem:
            first = cell.source.splitlines()[0] if cell.source else ""
            problems.append(f"cell {index} ({first[:60]!r}) {problem}")
    assert not problems, f"{path.name}: give these cells metadata {'.'.join(ALT_KEY)}:\n" + "\n".join(problems)


def test_alt_text_that_says_nothing_is_refused():
    assert alt_problem(None) == "has no alt text"
    assert "file name" in alt_problem("3f2a9c.png")
    assert "repr" in alt_problem("<Figure size 640x480 with 1 Axes>")
    assert "too short" in alt_problem("a plot")
    assert "LaTeX" in alt_problem("The ELBO of $q$ against its mean and spread")
    assert alt_problem("Two line plots: the ELBO against the mean of q, and against its spread.") is None
