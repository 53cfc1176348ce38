"""The book's small Sphinx extensions in _ext/, tested on their own and in tiny books.

The tiny books are built in this process (``build_book`` in tests/conftest.py).
"""

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from tools import chapters

from .conftest import build_book

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from colab_ref import COMMIT_ENV, build_commit, pin_install  # noqa: E402
from progress_bars import collapse_progress_lines  # noqa: E402

EXT = Path(__file__).resolve().parents[1] / "_ext"


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


def build_tiny_book(book: Path, setting: str, monkeypatch) -> str:
    """Build the tiny book with DEMO_SETTING=setting; return the text of its one page."""
    monkeypatch.setenv("DEMO_SETTING", setting)
    status, printed = build_book(book, strict=True)
    assert status == 0, printed[-3000:]
    return (book / "_build" / "html" / "page.html").read_text()


def run_stamp(page: str) -> str:
    """The line the tiny notebook prints: its setting, its file and the moment it ran."""
    return re.search(r"setting \S+ file \S+ at \d+", page).group(0)


@pytest.mark.slow
def test_notebooks_run_again_when_their_inputs_change(tmp_path, monkeypatch):
    """Without the extension the second and third builds would serve the first build's cached output."""
    ext = EXT
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

    def build(setting):
        return run_stamp(build_tiny_book(book, setting, monkeypatch))

    first = build("a")
    assert first.startswith("setting a file one")
    assert build("a") == first, "unchanged inputs: the cached output is kept"
    assert build("b").startswith("setting b file one"), "a changed setting runs it again"
    (book / "lib" / "value.json").write_text('"two"')
    third = build("b")
    assert third.startswith("setting b file two"), "a changed file runs it again"
    (book / "lib" / "notes.txt").write_text("not a source file")
    assert build("b") == third, "other files do not count"
    shutil.rmtree(book / "_build" / ".jupyter_cache")
    assert build("b") != third, "a cache deleted by hand means a fresh run"


@pytest.mark.slow
def test_a_figure_without_alt_text_is_named_in_a_build_warning(tmp_path, monkeypatch):
    """_ext/figure_alt.py: the cell whose figure has no alt text is named; metadata alt reaches the <img>."""
    book = tmp_path / "book"
    book.mkdir()
    ext = EXT
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
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the inline backend draws the figures
    status, printed = build_book(book)
    assert status == 0, printed[-3000:]
    found = [line for line in printed.splitlines() if "alt text" in line]
    assert len(found) == 1, found
    assert "page.ipynb, cell 2 ('import matplotlib.pyplot as plt'): a figure has no alt text" in found[0]
    page = (book / "_build" / "html" / "page.html").read_text()
    assert 'alt="A straight line rising from left to right."' in page


COMMIT = "0123456789abcdef0123456789abcdef01234567"


def colab_book(folder: Path, *, colab_cell: bool = True) -> Path:
    """A one-page book with the Colab launch button, the chapters' Colab cell and _ext/colab_ref.py."""
    url, branch = chapters.repository()
    folder.mkdir(parents=True)
    (folder / "_config.yml").write_text(
        "title: tiny\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n"
        f"repository:\n  url: {url}\n  branch: {branch}\n"
        "launch_buttons:\n  colab_url: https://colab.research.google.com\n"
        f"sphinx:\n  local_extensions:\n    colab_ref: {EXT}\n"
    )
    (folder / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    cells = [nbformat.v4.new_markdown_cell("# Page"), nbformat.v4.new_code_cell("print('hello')")]
    if colab_cell:
        cells.insert(0, nbformat.v4.new_code_cell(chapters.colab_cell_source(), metadata={"tags": chapters.COLAB_TAGS}))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "page.ipynb")
    return folder


def colab_button(page: str) -> str:
    (url,) = set(re.findall(r'https://colab\.research\.google\.com/github/[^"]+', page))
    return url


@pytest.mark.slow
def test_a_book_built_at_a_commit_sends_colab_readers_to_that_commit(tmp_path, monkeypatch):
    """_ext/colab_ref.py: with VAE_BOOK_COMMIT the launch button opens the notebook at that commit and the
    downloadable notebook installs vaelib at it; without, both stay as stored and configured."""
    url, branch = chapters.repository()
    repository = url.removeprefix("https://github.com/").rstrip("/")
    built = {}
    for name, commit in (("local", None), ("pages", COMMIT)):
        book = colab_book(tmp_path / name)
        if commit:
            monkeypatch.setenv(COMMIT_ENV, commit)
        else:
            monkeypatch.delenv(COMMIT_ENV, raising=False)
        status, printed = build_book(book, strict=True)
        assert status == 0, printed[-3000:]
        html = book / "_build" / "html"
        download = nbformat.read(html / "_sources" / "page.ipynb", as_version=4)
        built[name] = colab_button((html / "page.html").read_text()), download.cells[0].source, download
    assert built["local"][0] == f"https://colab.research.google.com/github/{repository}/blob/{branch}/page.ipynb"
    assert built["local"][1] == chapters.colab_cell_source(), "a local build serves the notebook as stored"
    assert built["pages"][0] == f"https://colab.research.google.com/github/{repository}/blob/{COMMIT}/page.ipynb"
    assert built["pages"][1] == chapters.colab_cell_source(ref=COMMIT)
    assert f'"vaelib @ git+{url}@{COMMIT}"' in built["pages"][1]
    assert [c.source for c in built["pages"][2].cells[1:]] == [c.source for c in built["local"][2].cells[1:]]


def test_a_notebook_without_a_colab_cell_to_pin_fails_a_strict_build(tmp_path, monkeypatch):
    book = colab_book(tmp_path / "book", colab_cell=False)
    monkeypatch.setenv(COMMIT_ENV, COMMIT)
    status, printed = build_book(book, strict=True)
    assert status != 0 and "page.ipynb cannot install vaelib at" in printed, printed[-3000:]
    assert "first cell is not the Colab cell" in printed


def test_the_commit_to_pin_is_checked_and_pinned_once():
    assert pin_install(chapters.colab_cell_source(), "v1.2.0") == chapters.colab_cell_source(ref="v1.2.0")
    with pytest.raises(ValueError, match='0 "vaelib @ git'):
        pin_install("%pip install pyro-ppl", COMMIT)
    with pytest.raises(ValueError, match='2 "vaelib @ git'):
        pin_install(chapters.colab_cell_source() * 2, COMMIT)


def test_a_malformed_commit_is_refused_with_what_to_set(monkeypatch):
    monkeypatch.setenv(COMMIT_ENV, "main")
    with pytest.raises(ValueError, match=r"VAE_BOOK_COMMIT='main' is neither a commit hash .*git rev-parse HEAD"):
        build_commit()
    monkeypatch.setenv(COMMIT_ENV, "")
    assert build_commit() is None
    monkeypatch.setenv(COMMIT_ENV, COMMIT)
    assert build_commit() == COMMIT
