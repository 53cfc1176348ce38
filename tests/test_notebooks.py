"""The chapter notebooks as files: all covered by nbval, stored stripped, a setup cell, alt text for figures."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import chapters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from figure_alt import ALT_KEY, alt_problem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()


def run(*args, env=None, timeout=1800):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)


def test_every_chapter_in_the_toc_is_executed_by_nbval():
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb"))
    listed = sorted(p.relative_to(ROOT).as_posix() for p in CHAPTERS)
    assert listed == notebooks, "every notebook in chapters/ must be listed in _toc.yml, and only those"
    collected = run(sys.executable, "-m", "pytest", "--collect-only", "-q")  # what `python -m pytest` runs
    assert collected.returncode == 0, collected.stdout + collected.stderr
    for path in listed:
        assert f"{path}::Cell 0" in collected.stdout, f"{path} is in _toc.yml but nbval does not collect it"


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


SHARED_MNIST = ROOT.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_MNIST / "MNIST" / "raw").exists(), reason="real MNIST is not beside the project")
def test_chapters_run_in_smoke_mode_on_real_mnist(tmp_path):
    """Smoke mode is also what a reader with MNIST gets for a quick check: every chapter must pass on it too."""
    env = {**os.environ, "VAE_BOOK_SMOKE": "1", "VAE_BOOK_DATA": str(SHARED_MNIST)}
    env.pop("MPLBACKEND", None)
    notebooks = [str(path.relative_to(ROOT)) for path in CHAPTERS]
    result = run(sys.executable, "-m", "pytest", "-q", *notebooks, env=env)  # pyproject's addopts: no cache folder
    assert result.returncode == 0, result.stdout[-5000:]
    assert re.search(r"\b\d+ passed\b", result.stdout) and "failed" not in result.stdout, result.stdout[-2000:]
