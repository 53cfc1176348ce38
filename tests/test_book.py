"""The book as a whole: chapters covered by nbval, Colab cells, stripped notebooks, student copies, lint, build."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import vaelib
from tools import chapters

from . import browser

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()
SMOKE_BUILD = ROOT / "_build" / "smoke"


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
def test_colab_cell_comes_first_and_matches_config(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.metadata.get("tags") == chapters.COLAB_TAGS, "the first cell must be the Colab cell, kept off the page"
    assert first.source == chapters.colab_cell_source(), "run: python -m tools.chapters sync-colab"


def test_colab_cell_does_nothing_outside_colab_and_installs_on_colab():
    code = TransformerManager().transform_cell(chapters.colab_cell_source())
    ipython = mock.Mock()
    exec(code, {"get_ipython": lambda: ipython})
    assert not ipython.method_calls, "outside Colab the cell must not run anything"
    with mock.patch.dict(sys.modules, {"google.colab": mock.Mock()}):
        exec(code, {"get_ipython": lambda: ipython})
    (call,) = ipython.method_calls
    line = " ".join(map(str, call.args))
    url, _ = chapters.repository()
    assert "pip" in line and "pyro-ppl" in line and url in line
    assert "torch" not in line.replace("pyro-ppl", ""), "Colab already has torch; reinstalling breaks it"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell_reads_the_smoke_switch_and_picks_the_device(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    setup = code[1]
    assert "vaelib.smoke_mode()" in setup and "vaelib.pick_device()" in setup, "the second code cell is the setup"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_copy_keeps_no_solution(path, tmp_path):
    (copy,) = chapters.student_copies([path], tmp_path)
    original, student = nbformat.read(path, as_version=4), nbformat.read(copy, as_version=4)
    assert "{exercise}" in "".join(c.source for c in original.cells), f"{path.name} has no exercises"
    solution_cells = [c for c in original.cells if c not in student.cells]
    assert solution_cells, f"{path.name} has no solutions"
    text = "\n".join(c.source for c in student.cells)
    assert "{solution" not in text
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    for cell in solution_cells:
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.source not in text, "a solution's code survived in the student copy"
    checks = [c for c in original.cells if "check" in c.metadata.get("tags", [])]
    assert all(c in student.cells for c in checks), "check cells must stay in student copies"


@pytest.mark.parametrize("path", [ROOT / "chapters" / "intro.md", *CHAPTERS], ids=lambda p: p.name)
def test_citations_are_local_to_their_page(path):
    """Two pages citing one work would otherwise make duplicate citations (a build warning)."""
    if path.suffix == ".md":
        texts = [path.read_text()]
    else:
        texts = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    prefix = chapters.citation_prefix(path)
    for text in texts:
        assert chapters.localize_citations(text, prefix) == text, "run: python -m tools.chapters localize-citations"


def test_unbalanced_solution_markers_are_reported():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-start} ex\n```")])
    with pytest.raises(ValueError, match="never closed"):
        chapters.strip_solutions(nb)


def test_ruff_is_clean():
    for command in (("check", "."), ("format", "--check", ".")):
        result = run(sys.executable, "-m", "ruff", *command)
        assert result.returncode == 0, result.stdout + result.stderr


def test_benchmark_runs_in_smoke_mode(tmp_path):
    env = {**os.environ, "VAE_BOOK_DATA": str(tmp_path)}  # no MNIST there: the stand-in is used
    result = run(sys.executable, "benchmarks/data_pipeline.py", "--smoke", env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if ":" in line}
    # Speed is the benchmark's output, not a test: only check the report is complete and sane.
    assert float(lines["data iteration speed-up"].split()[3].rstrip("x")) > 0
    assert float(lines["whole-epoch speed-up"].split()[2].rstrip("x")) > 0
    assert "offline stand-in" in result.stdout
    # Same initial weights and model: the two pipelines must reach nearly the same test ELBO.
    difference = float(lines["final test ELBO difference (tensor - per-item)"].split()[-2])
    assert abs(difference) < 5, result.stdout


@pytest.fixture(scope="session")
def smoke_book():
    """Build the whole book once in smoke mode, strict (-W -n): (result of the build, html folder)."""
    shutil.rmtree(SMOKE_BUILD, ignore_errors=True)  # a cached build would hide execution errors
    env = {**os.environ, "VAE_BOOK_SMOKE": "1"}
    env.pop("MPLBACKEND", None)  # Agg in the kernels would keep every figure out of the book
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    result = run(jupyter_book, "build", ".", "--path-output", str(SMOKE_BUILD), "-W", "-n", "--keep-going", env=env)
    return result, SMOKE_BUILD / "_build" / "html"


def test_book_builds_without_warnings(smoke_book):
    """Warnings are errors and every reference must resolve; every chapter page exists without tracebacks."""
    result, html = smoke_book
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    for path in CHAPTERS:
        page = html / path.relative_to(ROOT).with_suffix(".html")
        assert page.exists(), f"{page} was not built"
        assert "<img" in page.read_text(), f"{page.name} shows no figure: did the kernels draw inline?"
        assert colab_link(path) in page.read_text(), f"{page.name} has no Colab button for its notebook"
        assert not re.search(r"epochs:\s+0%\|", page.read_text()), f"{page.name} lists a progress bar's every state"
        assert not unexpected_errors(page), f"{page.name} shows an error outside a raises-exception cell"


def test_evaluation_page_shows_the_recorded_full_run(smoke_book):
    """A smoke build shows chapter 6's recorded full-budget rows beside its own short run."""
    _, html = smoke_book
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((html / "chapters" / "06_evaluation.html").read_text(), "html.parser")
    outputs = "\n".join(output.get_text() for output in soup.select("div.cell_output"))
    record = vaelib.load_record("evaluation_full")
    assert "No recorded full-budget run" not in outputs
    assert f"recorded run: full budget, {record['date']}" in outputs
    assert all(f"{row['ll']:.2f}" in outputs for row in record["results"]["table"])


def colab_link(notebook: Path) -> str:
    """The address the page's Colab launch button must open: this notebook, on the configured branch."""
    url, branch = chapters.repository()
    repository = url.removeprefix("https://github.com/").rstrip("/")
    notebook = notebook.relative_to(ROOT).as_posix()
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/{notebook}"


def unexpected_errors(page: Path) -> list[str]:
    """Tracebacks on a built page that are not in a cell tagged raises-exception."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(), "html.parser")
    found = []
    for output in soup.select("div.cell_output"):
        if "Traceback" not in output.get_text():
            continue
        cell = output.find_parent("div", class_="cell")
        if cell is None or "tag_raises-exception" not in cell.get("class", []):
            found.append(output.get_text()[:300])
    return found


def test_pages_render_in_chromium(smoke_book):
    """Each chapter in headless Chromium: maths typeset, images loaded, no console errors; a screenshot each."""
    missing = browser.missing_requirements()
    if missing:
        if os.environ.get("VAE_BOOK_REQUIRE_BROWSER"):
            pytest.fail("the browser test cannot run without: " + "; ".join(missing))
        pytest.skip("needs " + "; ".join(missing))
    from playwright.sync_api import sync_playwright

    result, html = smoke_book
    assert result.returncode == 0, "the book did not build"
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages = ["chapters/intro", "chapters/notation", *(p.relative_to(ROOT).with_suffix("").as_posix() for p in CHAPTERS)]
    problems = {}
    with browser.serve(html) as base, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_FLAGS)
        for name in pages:
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            errors, refused = [], []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            browser.route_offline(page, refused)
            page.goto(base + name + ".html", wait_until="load")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
            page.evaluate("MathJax.startup.promise")
            typeset = page.locator("mjx-container").count()
            math_errors = page.locator("mjx-merror").count()
            broken = page.evaluate(
                "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
            )
            images = page.evaluate("document.images.length")
            page.screenshot(path=str(shots / f"{Path(name).name}.png"), full_page=False)
            found = []
            if name != "chapters/intro" and typeset == 0:
                found.append("no typeset maths")
            if math_errors:
                found.append(f"{math_errors} maths errors")
            if broken:
                found.append(f"broken images {broken}")
            if name.endswith(tuple(p.stem for p in CHAPTERS)) and images == 0:
                found.append("no figures")  # every chapter draws at least one
            if errors or refused:
                found.append(f"console errors {errors}, remote requests {refused}")
            if found:
                problems[name] = found
            page.close()
        chromium.close()
    assert not problems, problems


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
