"""The smoke build of the whole book: strict, every page complete, no tracebacks, no library noise.

The build itself is the session fixture ``smoke_book`` (tests/conftest.py), shared with the browser test.
It is the test suite's one stand-in execution of every chapter (nbval stays for local work:
``pytest --nbval-lax chapters/03_pyro_vae.ipynb``): the build fails on any cell error
(``allow_errors: false``) and on any warning (``-W``), and ``test_chapter_executes`` names the
chapter that failed, with its traceback, from the build's execution record.
"""

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from jupyter_cache import get_cache

import vaelib
from tools import chapters

from .conftest import SMOKE_CACHE, SMOKE_CHECKPOINTS, SMOKE_REPORTS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import latent_maps  # noqa: E402

CHAPTERS = chapters.toc_chapters()
# The one notice a page may show on stderr: vaelib's warning that the offline stand-in replaces MNIST.
STAND_IN_NOTICE = re.compile(rf"^\S.*:\d+: {vaelib.StandInDataWarning.__name__}: .*$")


def page_of(notebook: Path, html: Path) -> Path:
    return html / notebook.relative_to(ROOT).with_suffix(".html")


def colab_link(notebook: Path) -> str:
    """The address the page's Colab launch button must open: this notebook, on the configured branch."""
    url, branch = chapters.repository()
    repository = url.removeprefix("https://github.com/").rstrip("/")
    notebook = notebook.relative_to(ROOT).as_posix()
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/{notebook}"


def first_line(cell) -> str:
    source = cell.select_one("div.cell_input") if cell is not None else None
    return source.get_text().strip().splitlines()[0][:60] if source and source.get_text().strip() else "?"


def unexpected_errors(soup: BeautifulSoup) -> list[str]:
    """Tracebacks on a built page that are not in a cell tagged raises-exception."""
    found = []
    for output in soup.select("div.cell_output"):
        if "Traceback" not in output.get_text():
            continue
        cell = output.find_parent("div", class_="cell")
        if cell is None or "tag_raises-exception" not in cell.get("class", []):
            found.append(output.get_text()[:300])
    return found


def without_stand_in_notice(text: str) -> str:
    """``text`` less the stand-in notice (its warning line and the source line the warnings module adds)."""
    kept, skipping = [], False
    for line in text.splitlines():
        if STAND_IN_NOTICE.match(line):
            skipping = True
        elif not (skipping and line.startswith("  ")):
            skipping = False
            kept.append(line)
    return "\n".join(kept).strip()


def library_noise(soup: BeautifulSoup) -> list[str]:
    """Each rendered stderr output other than the stand-in notice, with the first line of its cell."""
    found = []
    for output in soup.select("div.cell_output .output.stderr"):
        rest = without_stand_in_notice(output.get_text())
        if rest:
            found.append(f"cell {first_line(output.find_parent('div', class_='cell'))!r}: {rest[:400]}")
    return found


def failed_checks(soup: BeautifulSoup) -> list[str]:
    """Exercise check cells whose output does not say the book's solution is correct."""
    found = []
    for cell in soup.select("div.cell.tag_check"):
        printed = " ".join(o.get_text() for o in cell.select("div.cell_output"))
        if "correct." not in printed or "not yet" in printed or "not answered" in printed:
            found.append(f"{first_line(cell)!r}: {printed.strip()[:200]!r}")
    return found


def test_stderr_is_checked_for_noise_but_the_stand_in_notice_may_show():
    notice = (
        "/tmp/ipykernel_1/2.py:1: StandInDataWarning: MNIST is not available (no network); using the stand-in\n"
        "  train = vaelib.load_mnist(train=True)\n"
    )
    assert without_stand_in_notice(notice) == ""
    noise = "/venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found.\n  from x import y\n"
    assert without_stand_in_notice(notice + noise) == noise.strip()


def execution_failure(path: Path) -> str | None:
    """Why the smoke build did not execute ``path`` to the end (its traceback), or None when it did.

    myst-nb keeps each executed notebook in the build's jupyter-cache: a notebook that ran without error
    has a cache record matching its code cells; one that failed has its traceback on its project record
    and in ``reports/<docname>.err.log``.
    """
    report = SMOKE_REPORTS.joinpath(*path.relative_to(ROOT).with_suffix(".err.log").parts)
    if report.exists():
        return report.read_text()
    cache = get_cache(str(SMOKE_CACHE))
    try:
        record = cache.get_project_record(str(path))
    except KeyError:
        return f"the smoke build never executed {path.name} (no record in {SMOKE_CACHE})"
    if record.traceback:
        return record.traceback
    try:
        cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return f"the smoke build executed {path.name} but cached no successful run of its current code cells"
    return None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_executes(smoke_book, path):
    """Every cell of the chapter runs in smoke mode, in the strict build (no error, no warning)."""
    failure = execution_failure(path)
    assert failure is None, f"{path.name} fails in the smoke build:\n{failure[-6000:]}"


def test_every_chapter_in_the_toc_is_executed_by_the_smoke_build(smoke_book):
    """The notebooks in chapters/ are exactly those in _toc.yml, and the build executes every one of them.

    The build executes what the toc lists (``only_build_toc_files``), with execution on; its cache then
    holds one record per executed notebook: no chapter can be left out of every test.
    """
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb"))
    listed = sorted(p.relative_to(ROOT).as_posix() for p in CHAPTERS)
    assert listed == notebooks, "every notebook in chapters/ must be listed in _toc.yml, and only those"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["only_build_toc_files"] and config["execute"]["execute_notebooks"] in ("cache", "force", "auto")
    executed = {Path(record.uri).resolve() for record in get_cache(str(SMOKE_CACHE)).list_project_records()}
    missing = [p for p in listed if (ROOT / p).resolve() not in executed]
    assert not missing, f"the smoke build executed no run of {missing}"
    failed = [p for p in listed if execution_failure(ROOT / p)]
    assert not failed, f"these chapters fail in the smoke build: {failed} (see test_chapter_executes)"


def test_chapter_5_loads_chapter_3s_models_from_the_builds_own_folder(smoke_book):
    """The smoke build keeps the shared checkpoints in its folder (VAE_BOOK_CHECKPOINTS), not chapters/checkpoints/,
    where another run of the chapters (the Colab pass, a reader's build) could be writing at the same time."""
    _, html = smoke_book
    outputs = (html / "chapters" / "05_latent_space.html").read_text()
    for name in vaelib.SHARED_MODELS:
        path = SMOKE_CHECKPOINTS / f"{name}_smoke.pt"
        assert path.is_file(), f"chapter 3 did not save {name} into the build's folder"
        assert f"{name}: loaded {path}" in outputs, f"chapter 5 did not load {path}"


def test_the_book_built_after_npm_ci_carries_the_live_latent_map(smoke_book):
    """What README's command 1 gives: after `npm ci` the build copies onnxruntime-web beside the pages, and
    chapter 3's page loads the map's script with the runtime's address (without it: an empty data-runtime)."""
    runtime = ROOT / "node_modules" / "onnxruntime-web" / "dist"
    if not (runtime / latent_maps.RUNTIME_FILES[0]).exists():
        if os.environ.get("VAE_BOOK_REQUIRE_BROWSER"):
            pytest.fail("the live map needs onnxruntime-web: npm ci, at the project root")
        pytest.skip("needs onnxruntime-web (npm ci, at the project root), as README's command 1 runs it")
    _, html = smoke_book
    for name in latent_maps.RUNTIME_FILES:
        assert (html / "_static" / latent_maps.RUNTIME_DIR / name).is_file(), f"{name} is not in the build"
    page = (html / "chapters" / "03_pyro_vae.html").read_text()
    assert f'data-runtime="{latent_maps.RUNTIME_DIR}/{latent_maps.RUNTIME_FILES[0]}"' in page
    assert latent_maps.PLACEHOLDER.search(page), "chapter 3's page has no live latent map"


def test_checkpoint_folder_follows_its_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("VAE_BOOK_CHECKPOINTS", raising=False)
    assert vaelib.checkpoint_path("mlp_z2", "smoke") == Path("checkpoints") / "mlp_z2_smoke.pt"
    monkeypatch.setenv("VAE_BOOK_CHECKPOINTS", str(tmp_path))
    assert vaelib.checkpoint_path("mlp_z2", "smoke") == tmp_path / "mlp_z2_smoke.pt"
    assert vaelib.checkpoint_path("mlp_z2", "smoke", root="elsewhere") == Path("elsewhere") / "mlp_z2_smoke.pt"
    assert "VAE_BOOK_CHECKPOINTS" in vaelib.ENVIRONMENT, "the build must run the chapters again when it changes"
    monkeypatch.setenv("VAE_BOOK_CHECKPOINTS", f" {tmp_path}")
    with pytest.raises(ValueError, match="has spaces around the path"):
        vaelib.checkpoint_path("mlp_z2", "smoke")


def test_book_builds_without_warnings(smoke_book):
    """Warnings are errors and every reference must resolve; every chapter page exists without tracebacks."""
    result, html = smoke_book
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    for path in CHAPTERS:
        page = page_of(path, html)
        assert page.exists(), f"{page} was not built"
        text = page.read_text()
        assert "<img" in text, f"{page.name} shows no figure: did the kernels draw inline?"
        assert colab_link(path) in text, f"{page.name} has no Colab button for its notebook"
        assert not re.search(r"epochs:\s+0%\|", text), f"{page.name} lists a progress bar's every state"
        assert not unexpected_errors(BeautifulSoup(text, "html.parser")), f"{page.name} shows an error"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_pages_show_no_library_noise(smoke_book, path):
    """A page shows no library warning (or other stderr) except the offline stand-in's notice."""
    _, html = smoke_book
    page = page_of(path, html)
    assert page.exists(), f"{page} was not built"
    noise = library_noise(BeautifulSoup(page.read_text(), "html.parser"))
    assert not noise, f"{page.name} shows library output on stderr:\n" + "\n".join(noise)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_solution_passes_its_check(smoke_book, path):
    """In the book the solutions run before the checks: every check must print that the answer is correct."""
    _, html = smoke_book
    page = page_of(path, html)
    assert page.exists(), f"{page} was not built"
    failed = failed_checks(BeautifulSoup(page.read_text(), "html.parser"))
    assert not failed, f"{page.name}: these checks do not accept the book's own solution:\n" + "\n".join(failed)


def test_evaluation_page_shows_the_recorded_full_run(smoke_book):
    """A smoke build shows chapter 6's recorded full-budget rows beside its own short run."""
    _, html = smoke_book
    soup = BeautifulSoup((html / "chapters" / "06_evaluation.html").read_text(), "html.parser")
    outputs = "\n".join(output.get_text() for output in soup.select("div.cell_output"))
    record = vaelib.load_record("evaluation_full")
    assert "No recorded full-budget run" not in outputs
    assert f"recorded run: full budget, {record['date']}" in outputs
    assert all(f"{row['ll']:.2f}" in outputs for row in record["results"]["table"])
