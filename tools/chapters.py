"""Chapter notebooks: where they are, their Colab cell, and student copies without solutions.

    python -m tools.chapters sync-colab        # rewrite every chapter's Colab cell from _config.yml
    python -m tools.chapters student-copies student/   # copies with solution cells removed
    python -m tools.chapters localize-citations  # per-page citation keys (no duplicate citations)

A solution is everything from a markdown cell that opens ``{solution-start}`` to the
markdown cell with ``{solution-end}``, plus any cell tagged ``solution`` and any markdown
cell with a one-piece ``{solution}`` directive. Check cells (tagged ``check``) are kept.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
COLAB_TAG = "colab"
# "remove-cell" keeps the install cell out of the rendered page (it would stand above the title);
# the notebook, and so Colab, still has it.
COLAB_TAGS = [COLAB_TAG, "remove-cell"]

COLAB_TEMPLATE = """\
# Runs only on Google Colab: installs what Colab lacks (Pyro and this book's vaelib).
# For fast training pick a GPU: Runtime > Change runtime type. Elsewhere this cell does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q pyro-ppl "vaelib @ git+{url}@{branch}\""""


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml: the one place they are set."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"], config["repository"].get("branch", "main")


def colab_cell_source() -> str:
    url, branch = repository()
    return COLAB_TEMPLATE.format(url=url, branch=branch)


def toc_chapters() -> list[Path]:
    """The notebooks listed in _toc.yml, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc.get("parts", []) for entry in part.get("chapters", [])]
    paths = []
    for name in files:
        path = ROOT / name
        if path.with_suffix(".ipynb").exists():
            paths.append(path.with_suffix(".ipynb"))
    return paths


def sync_colab(paths: list[Path]) -> list[Path]:
    """Make the first cell of each notebook the Colab cell; return the notebooks changed."""
    changed = []
    source = colab_cell_source()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0] if nb.cells else None
        if first is not None and COLAB_TAG in first.get("metadata", {}).get("tags", []):
            if first.source == source and first.metadata["tags"] == COLAB_TAGS:
                continue
            first.source = source
            first.metadata["tags"] = list(COLAB_TAGS)
        else:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(COLAB_TAGS)})
            nb.cells.insert(0, cell)
        nbformat.write(nb, path)
        changed.append(path)
    return changed


_START = re.compile(r"\{solution-start\}")
_END = re.compile(r"\{solution-end\}")
_WHOLE = re.compile(r"\{solution\}")


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solution cells (see the module docstring)."""
    kept, inside = [], False
    for cell in nb.cells:
        text = cell.source if cell.cell_type == "markdown" else ""
        if _START.search(text):
            if inside:
                raise ValueError("a {solution-start} opens before the previous one was closed")
            inside = True
            continue
        if _END.search(text):
            if not inside:
                raise ValueError("a {solution-end} without its {solution-start}")
            inside = False
            continue
        if inside or "solution" in cell.get("metadata", {}).get("tags", []) or _WHOLE.search(text):
            continue
        kept.append(cell)
    if inside:
        raise ValueError("a {solution-start} is never closed by {solution-end}")
    copy = nbformat.from_dict(nb)
    copy.cells = kept
    return copy


def student_copies(paths: list[Path], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out / path.name
        nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


_CITE = re.compile(r"\{(cite(?::[a-z]+)?)\}`([^`]+)`")
_BIBLIOGRAPHY = re.compile(r"(```\{bibliography\}[^\n]*\n)((?::[a-z]+:[^\n]*\n)*)")


def citation_prefix(path: Path) -> str:
    """The key prefix of a page's local bibliography: '01-' for 01_elbo.ipynb, 'intro-' for intro.md."""
    return path.stem.split("_", 1)[0] + "-"


def localize_citations(text: str, prefix: str) -> str:
    """Prefix every cited key and give each {bibliography} the matching :keyprefix:.

    sphinxcontrib-bibtex warns "duplicate citation" when two pages with their own bibliography
    cite the same work; a per-page key prefix keeps each page's references local to it.
    """

    def cite(match: re.Match) -> str:
        keys = [k.strip() for k in match.group(2).split(",")]
        keys = [k if k.startswith(prefix) else prefix + k for k in keys]
        return "{" + match.group(1) + "}`" + ",".join(keys) + "`"

    def bibliography(match: re.Match) -> str:
        options = [line for line in match.group(2).splitlines(keepends=True) if not line.startswith(":keyprefix:")]
        return match.group(1) + f":keyprefix: {prefix}\n" + "".join(options)

    return _BIBLIOGRAPHY.sub(bibliography, _CITE.sub(cite, text))


def localize_all(paths: list[Path]) -> list[Path]:
    changed = []
    for path in paths:
        prefix = citation_prefix(path)
        if path.suffix == ".md":
            text = path.read_text()
            new = localize_citations(text, prefix)
            if new != text:
                path.write_text(new)
                changed.append(path)
            continue
        nb = nbformat.read(path, as_version=4)
        dirty = False
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                new = localize_citations(cell.source, prefix)
                dirty |= new != cell.source
                cell.source = new
        if dirty:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync-colab", help="rewrite every chapter's Colab cell from _config.yml")
    student = sub.add_parser("student-copies", help="write chapters without solutions")
    student.add_argument("out", type=Path, help="folder for the student notebooks")
    sub.add_parser("localize-citations", help="give every page's citations its own key prefix")
    args = parser.parse_args(argv)
    if args.command == "student-copies":
        out = args.out.expanduser().resolve()
        sources = {path.parent.resolve() for path in toc_chapters()}
        if out in sources:  # the copies would replace the notebooks they are made from, solutions and all
            parser.error(f"{args.out} holds the chapters themselves; write the student copies elsewhere, e.g. student/")
        if out.exists() and not out.is_dir():
            parser.error(f"{args.out} is a file; give a folder for the student notebooks, e.g. student/")
    if args.command == "sync-colab":
        for path in sync_colab(toc_chapters()):
            print(f"updated {path.relative_to(ROOT)}")
    elif args.command == "localize-citations":
        for path in localize_all([ROOT / "chapters" / "intro.md", *toc_chapters()]):
            print(f"updated {path.relative_to(ROOT)}")
    else:
        for path in student_copies(toc_chapters(), args.out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
