"""Sphinx extension: every figure a notebook cell draws has alt text that says what it shows.

A figure drawn by a code cell reaches the page as an ``<img>``; without alt text Sphinx writes the
image's file name (a hash) there, which is all a screen reader would say. myst-nb takes alt text
from the cell's metadata::

    "metadata": {"mystnb": {"image": {"alt": "Two panels: ..."}}}

This extension warns, naming the notebook, the cell and its first line, for every image output of a
code cell whose alt text is missing or says nothing (a file name, matplotlib's ``<Figure size ...>``,
fewer than four words). In a strict build (``-W``) that warning fails the build. The alt text should
describe what the figure shows, in words, without LaTeX: what is plotted against what, and what a
reader sees in it. The caption (``mystnb.figure.caption``) stays the place for the explanation.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
MIN_WORDS = 4
ALT_KEY = ("mystnb", "image", "alt")  # where a cell's metadata keeps its figures' alt text
_FILE_NAME = re.compile(r"^\S+\.(png|jpe?g|gif|svg|pdf)$", re.IGNORECASE)


def alt_problem(alt: str | None, uri: str = "") -> str | None:
    """Why ``alt`` does not describe a figure (None when it does)."""
    text = (alt or "").strip()
    if not text:
        return "has no alt text"
    if text == uri or text == uri.rsplit("/", 1)[-1] or _FILE_NAME.match(text):
        return f"has a file name as alt text ({text!r})"
    if text.startswith("<Figure size") or text.startswith("<matplotlib"):
        return f"has matplotlib's repr as alt text ({text!r})"
    if len(text.split()) < MIN_WORDS:
        return f"has alt text too short to say what it shows ({text!r})"
    if "$" in text or "\\" in text:
        return f"has LaTeX in its alt text, which a screen reader reads out symbol by symbol ({text[:60]!r})"
    return None


def _first_line(cell: nodes.Element) -> str:
    for part in cell.findall(nodes.container):
        if part.get("nb_element") == "cell_code_source" and part.astext().strip():
            return part.astext().strip().splitlines()[0][:70]
    return ""


def _check(app, doctree, docname) -> None:
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        for image in cell.findall(nodes.image):
            problem = alt_problem(image.get("alt"), image.get("uri", ""))
            if problem is None:
                continue
            path = app.env.doc2path(docname, False)
            first = _first_line(cell)
            LOGGER.warning(
                "%s, cell %s%s: a figure %s. Give the cell metadata %s: a sentence that says what the figure shows.",
                path,
                cell.get("cell_index"),
                f" ({first!r})" if first else "",
                problem,
                ".".join(ALT_KEY),
                location=(docname, cell.line),
                type="figure_alt",
            )
            break  # one warning per cell: the metadata holds one alt text for all its figures


def setup(app):
    app.connect("doctree-resolved", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
