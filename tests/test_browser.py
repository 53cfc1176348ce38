"""The built book in headless Chromium, as a reader meets it.

Each page: maths typeset, images loaded and described (alt text), no console errors, no requests
leaving this machine, a download button that gives the page's notebook; a screenshot of each lands in
``_build/screenshots/``. One download goes through the button itself, as a reader would take it.
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest

from tools import chapters

from . import browser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from figure_alt import alt_problem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()
# The page's own images (figures, and any in the text), not the theme's buttons; with the first code line
# of the cell that drew each (textContent: a hide-input cell's code is in the page, only folded).
IMAGES = """[...document.querySelectorAll("article img")].map(i => ({
    src: i.getAttribute("src"), alt: i.getAttribute("alt"),
    loaded: i.complete && i.naturalWidth > 0,
    cell: ((i.closest("div.cell") || {querySelector: () => null}).querySelector("div.cell_input") || {textContent: ""})
        .textContent.trim().split("\\n")[0].slice(0, 60),
}))"""
DOWNLOAD_LINK = ".dropdown-download-buttons a[href$='.ipynb']"


@pytest.fixture(scope="module")
def chromium():
    browser.require("the browser test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_FLAGS)
        yield instance
        instance.close()


def image_problems(images: list[dict]) -> list[str]:
    found = []
    for image in images:
        where = f"image {Path(image['src'] or '?').name} (cell {image['cell']!r})"
        if not image["loaded"]:
            found.append(f"{where} did not load")
        problem = alt_problem(image["alt"], image["src"] or "")
        if problem:
            found.append(f"{where} {problem}; set the cell's metadata mystnb.image.alt")
    return found


def test_pages_render_in_chromium(smoke_book, chromium):
    """Each chapter: maths typeset, figures loaded with alt text, no console errors, a notebook to download."""
    result, html = smoke_book
    assert result.returncode == 0, "the book did not build"
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages = ["chapters/intro", "chapters/notation", *(p.relative_to(ROOT).with_suffix("").as_posix() for p in CHAPTERS)]
    problems = {}
    with browser.serve(html) as base:
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
            images = page.evaluate(IMAGES)
            page.screenshot(path=str(shots / f"{Path(name).name}.png"), full_page=False)
            found = image_problems(images)
            if name != "chapters/intro" and typeset == 0:
                found.append("no typeset maths")
            if math_errors:
                found.append(f"{math_errors} maths errors")
            if name.endswith(tuple(p.stem for p in CHAPTERS)):
                if not images:
                    found.append("no figures")  # every chapter draws at least one
                found += download_problems(page, Path(name).name + ".ipynb")
            if errors or refused:
                found.append(f"console errors {errors}, remote requests {refused}")
            if found:
                problems[name] = found
            page.close()
    assert not problems, json.dumps(problems, indent=1)


def download_problems(page, notebook: str) -> list[str]:
    """The page's download button must link to its notebook, served as a notebook that opens."""
    links = page.locator(DOWNLOAD_LINK)
    if links.count() != 1:
        return [f"{links.count()} notebook links in the download menu, not 1"]
    href = links.first.get_attribute("href")
    if Path(href).name != notebook:
        return [f"the download button gives {href}, not {notebook}"]
    response = page.request.get(links.first.evaluate("a => a.href"))
    if not response.ok:
        return [f"the download button's {href} answers {response.status}"]
    try:
        nbformat.validate(nbformat.reads(response.text(), as_version=4))
    except Exception as error:  # not JSON, or not a notebook: the reader gets a file Jupyter cannot open
        return [f"the download button's {href} is not a valid notebook: {error}"]
    return []


def test_download_button_gives_the_notebook(smoke_book, chromium, tmp_path):
    """Through the menu, as a reader clicks it: the file that arrives is the chapter's notebook."""
    result, html = smoke_book
    assert result.returncode == 0, "the book did not build"
    chapter = CHAPTERS[0]
    with browser.serve(html) as base:
        context = chromium.new_context(accept_downloads=True)
        page = context.new_page()
        browser.route_offline(page, [])
        downloads = []
        keep = downloads.append
        context.on("page", lambda popup: popup.on("download", lambda d: keep(d)))  # the link opens a new tab
        page.on("download", lambda d: keep(d))
        page.goto(base + chapter.relative_to(ROOT).with_suffix(".html").as_posix(), wait_until="load")
        page.get_by_role("button", name="Download this page").click()
        page.locator(DOWNLOAD_LINK).click()
        for _ in range(100):  # up to 10 s
            if downloads:
                break
            page.wait_for_timeout(100)
        assert downloads, "clicking the .ipynb item of the download menu downloaded nothing"
        saved = tmp_path / downloads[0].suggested_filename
        downloads[0].save_as(saved)
        context.close()
    assert saved.name == chapter.name
    json.loads(saved.read_text())  # a notebook is JSON: Jupyter and Colab open it as such
    downloaded = nbformat.read(saved, as_version=4)
    nbformat.validate(downloaded)
    source = nbformat.read(chapter, as_version=4)
    assert [c.source for c in downloaded.cells] == [c.source for c in source.cells], "not the chapter's notebook"
