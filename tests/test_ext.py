"""The book's small Sphinx extensions in _ext/, tested without a build."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from progress_bars import collapse_progress_lines  # noqa: E402


def test_progress_bar_lines_collapse_to_the_last_state():
    printed = (
        "untrained test ELBO: -578.5\n"
        "epochs:   0%|          | 0/8 [00:00<?, ?it/s]\n"
        "epochs:  12%|█▎        | 1/8 [00:02<00:19,  2.80s/it]\n"
        "epochs: 100%|██████████| 8/8 [00:22<00:00,  2.92s/it]\n"
        "epochs: 100%|██████████| 8/8 [00:22<00:00,  2.86s/it]\n"
        "\n"
        "after 8 epochs: test ELBO -107.2\n"
    )
    assert collapse_progress_lines(printed) == (
        "untrained test ELBO: -578.5\n"
        "epochs: 100%|██████████| 8/8 [00:22<00:00,  2.86s/it]\n"
        "after 8 epochs: test ELBO -107.2\n"
    )


def test_other_output_is_left_alone():
    printed = "a table\n\nwith a blank line\nratio: 12%| of the time, not a bar\n"
    assert collapse_progress_lines(printed) == printed
    two_bars = "models:  50%|█ | 1/2\nmodels: 100%|██| 2/2\nbeta:  50%|x | 1/2\nbeta: 100%|xx| 2/2"
    assert collapse_progress_lines(two_bars) == "models: 100%|██| 2/2\nbeta: 100%|xx| 2/2"


def test_fingerprint_follows_files_and_settings(tmp_path, monkeypatch):
    from execution_inputs import fingerprint

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    monkeypatch.delenv("DEMO_SETTING", raising=False)
    first = fingerprint(tmp_path, ["lib"], ["DEMO_SETTING"])
    assert fingerprint(tmp_path, ["lib"], ["DEMO_SETTING"]) == first, "the same inputs give the same fingerprint"
    monkeypatch.setenv("DEMO_SETTING", "")
    assert fingerprint(tmp_path, ["lib"], ["DEMO_SETTING"]) != first, "set-but-empty differs from unset"
    monkeypatch.delenv("DEMO_SETTING")
    (tmp_path / "lib" / "a.py").write_text("x = 2\n")
    assert fingerprint(tmp_path, ["lib"], ["DEMO_SETTING"]) != first, "a changed file changes it"
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    (tmp_path / "lib" / "__pycache__").mkdir()
    (tmp_path / "lib" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert fingerprint(tmp_path, ["lib"], ["DEMO_SETTING"]) == first, "compiled files do not count"
    (tmp_path / "lib" / "b.py").write_text("")
    assert fingerprint(tmp_path, ["lib"], ["DEMO_SETTING"]) != first, "a new file changes it"


TINY_BOOK_CONFIG = """\
title: tiny
only_build_toc_files: true
execute:
  execute_notebooks: cache
sphinx:
  local_extensions:
    execution_inputs: {ext}
  config:
    execution_inputs: [lib]
    execution_environment: [DEMO_SETTING]
"""


def build_tiny_book(book: Path, setting: str) -> str:
    """Build the tiny book with DEMO_SETTING=setting; return the text of its one page."""
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    env = {**os.environ, "DEMO_SETTING": setting}
    result = subprocess.run(
        [jupyter_book, "build", str(book), "-W"], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return (book / "_build" / "html" / "page.html").read_text()


def run_stamp(page: str) -> str:
    """The line the tiny notebook prints: its setting, its file and the moment it ran."""
    return re.search(r"setting \S+ file \S+ at \d+", page).group(0)


@pytest.mark.slow
def test_notebooks_run_again_when_their_inputs_change(tmp_path):
    """Without the extension the second and third builds would serve the first build's cached output."""
    import nbformat

    ext = Path(__file__).resolve().parents[1] / "_ext"
    book = tmp_path / "book"
    (book / "lib").mkdir(parents=True)
    (book / "lib" / "value.json").write_text('"one"')
    (book / "_config.yml").write_text(TINY_BOOK_CONFIG.format(ext=ext))
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Page"),
        nbformat.v4.new_code_cell(
            "import json, os, time\n"
            'value = json.load(open("lib/value.json"))\n'
            'print("setting", os.environ["DEMO_SETTING"], "file", value, "at", time.time_ns())'
        ),
    ]
    nbformat.write(nb, book / "page.ipynb")

    first = run_stamp(build_tiny_book(book, "a"))
    assert first.startswith("setting a file one")
    assert run_stamp(build_tiny_book(book, "a")) == first, "unchanged inputs: the cached output is kept"
    assert run_stamp(build_tiny_book(book, "b")).startswith("setting b file one"), "a changed setting runs it again"
    (book / "lib" / "value.json").write_text('"two"')
    third = run_stamp(build_tiny_book(book, "b"))
    assert third.startswith("setting b file two"), "a changed file runs it again"
    (book / "lib" / "notes.txt").write_text("not a source file")
    assert run_stamp(build_tiny_book(book, "b")) == third, "other files do not count"
    shutil.rmtree(book / "_build" / ".jupyter_cache")
    assert run_stamp(build_tiny_book(book, "b")) != third, "a cache deleted by hand means a fresh run"


@pytest.mark.slow
def test_a_figure_without_alt_text_is_named_in_a_build_warning(tmp_path):
    """_ext/figure_alt.py: the cell whose figure has no alt text is named; metadata alt reaches the <img>."""
    import nbformat

    book = tmp_path / "book"
    book.mkdir()
    ext = Path(__file__).resolve().parents[1] / "_ext"
    (book / "_config.yml").write_text(
        f"title: tiny\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: force\n"
        f"sphinx:\n  local_extensions:\n    figure_alt: {ext}\n"
    )
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    draw = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [{0}, {1}])\nplt.show()"
    described = {"mystnb": {"image": {"alt": "A straight line rising from left to right."}}}
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Page"),
        nbformat.v4.new_code_cell(draw.format(0, 1), metadata=described),
        nbformat.v4.new_code_cell(draw.format(1, 0)),
    ]
    nbformat.write(nb, book / "page.ipynb")
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the inline backend draws the figures
    result = subprocess.run([jupyter_book, "build", str(book)], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "alt text" in line]
    assert len(warnings) == 1, warnings
    assert "page.ipynb, cell 2 ('import matplotlib.pyplot as plt'): a figure has no alt text" in warnings[0]
    page = (book / "_build" / "html" / "page.html").read_text()
    assert 'alt="A straight line rising from left to right."' in page
