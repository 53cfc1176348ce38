"""Chapter notebooks: where they are, their Colab cell, student copies and nbgrader sources.

    python -m tools.chapters sync-colab        # every chapter's Colab cell (_config.yml, COLAB_REF); GPU runtime
    python -m tools.chapters student-copies student/   # copies with solution cells removed
    python -m tools.chapters nbgrader-source source/   # nbgrader source notebooks, one assignment each
    python -m tools.chapters localize-citations  # per-page citation keys (no duplicate citations)

A solution is everything from a markdown cell that opens ``{solution-start}`` to the
markdown cell with ``{solution-end}``, plus any cell tagged ``solution`` and any markdown
cell with a one-piece ``{solution}`` directive. Check cells (tagged ``check``) are kept.
An exercise's starter cell is tagged ``exercise``; it comes before the exercise's solution.
"""

from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
COLAB_TAG = "colab"
# "remove-cell" keeps the install cell out of the rendered page (it would stand above the title);
# the notebook, and so Colab, still has it.
COLAB_TAGS = [COLAB_TAG, "remove-cell"]

# Notebook metadata that makes Colab open a chapter on a GPU runtime (T4, the free one).
COLAB_NOTEBOOK_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}

# Which vaelib the Colab cell installs. A stored notebook cannot name its own commit, so it names this
# branch, which the Pages workflow (.github/workflows/book.yml) moves to each commit it publishes: the
# launch button opens the notebook at that commit (_ext/colab_ref.py), whose cell then installs the
# library of that same commit. The notebooks the book serves for download are pinned to the commit
# itself at build time (_ext/colab_ref.py), so they keep installing it after later deployments.
COLAB_REF = "published"

COLAB_TEMPLATE = """\
# Runs only on Google Colab: installs what Colab lacks (Pyro and this book's vaelib).
# For fast training pick a GPU: Runtime > Change runtime type. Elsewhere this cell does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q pyro-ppl "vaelib @ git+{url}@{ref}\""""


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml: the one place they are set."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"], config["repository"].get("branch", "main")


def colab_cell_source(ref: str = COLAB_REF) -> str:
    """The Colab cell, installing vaelib from ``ref`` of the repository (:data:`COLAB_REF` in the stored
    notebooks; the build's commit in the notebooks the book serves)."""
    url, _ = repository()
    return COLAB_TEMPLATE.format(url=url, ref=ref)


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
    """Make the first cell of each notebook the Colab cell and ask Colab for a GPU; return the notebooks changed."""
    changed = []
    source = colab_cell_source()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        first = nb.cells[0] if nb.cells else None
        if first is not None and COLAB_TAG in first.get("metadata", {}).get("tags", []):
            first.source = source
            first.metadata["tags"] = list(COLAB_TAGS)
        else:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(COLAB_TAGS)})
            nb.cells.insert(0, cell)
        nb.metadata.update(copy.deepcopy(COLAB_NOTEBOOK_METADATA))
        if nbformat.writes(nb) != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


_START = re.compile(r"\{solution-start\}")
_END = re.compile(r"\{solution-end\}")
_WHOLE = re.compile(r"\{solution\}")


def solution_roles(nb: nbformat.NotebookNode) -> list[str | None]:
    """For each cell: "start" or "end" (the markers), "solution" (a solution cell), or None."""
    roles, inside = [], False
    for cell in nb.cells:
        text = cell.source if cell.cell_type == "markdown" else ""
        if _START.search(text):
            if inside:
                raise ValueError("a {solution-start} opens before the previous one was closed")
            inside = True
            roles.append("start")
        elif _END.search(text):
            if not inside:
                raise ValueError("a {solution-end} without its {solution-start}")
            inside = False
            roles.append("end")
        elif inside or "solution" in cell.get("metadata", {}).get("tags", []) or _WHOLE.search(text):
            roles.append("solution")
        else:
            roles.append(None)
    if inside:
        raise ValueError("a {solution-start} is never closed by {solution-end}")
    return roles


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solution cells (see the module docstring)."""
    copy_ = nbformat.from_dict(nb)
    copy_.cells = [cell for cell, role in zip(nb.cells, solution_roles(nb), strict=True) if role is None]
    return copy_


def student_copies(paths: list[Path], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out / path.name
        try:
            copy_ = strip_solutions(nbformat.read(path, as_version=4))
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from None
        nbformat.write(copy_, target)
        written.append(target)
    return written


_EXERCISE = re.compile(r"\{exercise\}")
_LABEL = re.compile(r"^:label:\s*(\S+)", re.MULTILINE)
_CHECK_CALL = re.compile(r"\bvaelib\.(check_answer|check_log_likelihood_report)\(")  # vaelib's checks
POINTS_PER_CHECK = 1
# check_answer prints and returns False for a wrong answer (a student's check cell must not raise);
# an nbgrader test cell scores only when it raises nothing, so its checks go through this instead.
GRADED_CHECK = """\
def _must_pass(check, *args, **kwargs):  # nbgrader: this cell's points need the check below to pass
    assert check(*args, **kwargs), "this answer does not pass its check yet"
    return True


"""


def _nbgrader(cell, grade_id: str, *, solution=False, grade=False, points=None) -> None:
    cell.metadata["nbgrader"] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
        **({"points": points} if grade else {}),
    }


def nbgrader_source(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """An nbgrader source notebook made from a chapter (``name`` is used in error messages).

    Each exercise's solution code goes between nbgrader's solution markers, in the exercise's
    starter cell (or in a cell of its own, for an exercise without one); each check cell becomes an
    autograded test cell worth :data:`POINTS_PER_CHECK`; every other cell is read-only. The
    solution's prose and the ``{solution-start}``/``{solution-end}`` markers are left out: the
    book's solution dropdowns keep the explanations, the notebook grades what can be checked.
    """
    cells, label, answer, solution, used = [], "exercise", None, [], set()

    def unique(grade_id: str) -> str:
        base, n = grade_id, 2
        while grade_id in used:
            grade_id, n = f"{base}-{n}", n + 1
        used.add(grade_id)
        return grade_id

    def close_solution() -> None:
        nonlocal answer
        if not solution:
            return
        region = "### BEGIN SOLUTION\n" + "\n\n".join(solution) + "\n### END SOLUTION"
        if answer is None:  # an open exercise without a starter cell: the solution is the answer cell
            answer = nbformat.v4.new_code_cell(region)
            _nbgrader(answer, unique(f"{label}-answer"), solution=True)
            cells.append(answer)
        else:
            answer.source = answer.source.rstrip("\n") + "\n" + region
        solution.clear()

    try:
        roles = solution_roles(nb)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    inside = False  # between {solution-start} and {solution-end}
    for index, (cell, role) in enumerate(zip(nb.cells, roles, strict=True)):
        cell = copy.deepcopy(cell)
        tags = cell.metadata.get("tags", [])
        if role in ("start", "end"):
            inside = role == "start"
            if role == "end":
                close_solution()
                answer = None
            continue
        if role == "solution":
            if cell.cell_type == "code" and cell.source.strip():
                solution.append(cell.source.strip("\n"))
                if not inside:  # a lone cell tagged solution: its own region
                    close_solution()
            continue
        if cell.cell_type == "markdown" and _EXERCISE.search(cell.source):
            found = _LABEL.search(cell.source)
            label, answer = (found.group(1) if found else f"exercise-{index}"), None
        if cell.cell_type == "code" and "exercise" in tags:
            _nbgrader(cell, unique(f"{label}-answer"), solution=True)
            answer = cell
        elif cell.cell_type == "code" and "check" in tags:
            if not _CHECK_CALL.search(cell.source):
                raise ValueError(
                    f"{name}, cell {index}: a check cell that calls no vaelib.check_answer (or another vaelib "
                    "check) cannot grade; make it call vaelib.check_answer, or remove its 'check' tag"
                )
            cell.source = GRADED_CHECK + _CHECK_CALL.sub(lambda m: f"_must_pass(vaelib.{m.group(1)}, ", cell.source)
            _nbgrader(cell, unique(f"{label}-check"), grade=True, points=POINTS_PER_CHECK)
        else:
            _nbgrader(cell, unique(f"cell-{index}"))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    close_solution()
    source = nbformat.from_dict(nb)
    source.cells = cells
    return source


def nbgrader_sources(paths: list[Path], out: Path) -> list[Path]:
    """Write ``out/<chapter>/<chapter>.ipynb`` for each chapter: ``out`` is an nbgrader course's source folder."""
    written = []
    for path in paths:
        target = out / path.stem / path.name
        source = nbgrader_source(nbformat.read(path, as_version=4), path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source, target)
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
    sub.add_parser("sync-colab", help="rewrite every chapter's Colab cell from _config.yml; ask Colab for a GPU")
    student = sub.add_parser("student-copies", help="write chapters without solutions")
    student.add_argument("out", type=Path, help="folder for the student notebooks")
    grader = sub.add_parser("nbgrader-source", help="write nbgrader source notebooks, one assignment per chapter")
    grader.add_argument("out", type=Path, help="the course's source folder (DIR/<chapter>/<chapter>.ipynb)")
    sub.add_parser("localize-citations", help="give every page's citations its own key prefix")
    args = parser.parse_args(argv)
    if args.command in ("student-copies", "nbgrader-source"):
        out = args.out.expanduser().resolve()
        sources = {path.parent.resolve() for path in toc_chapters()}
        if out in sources:  # the copies would replace the notebooks they are made from, solutions and all
            what = "student copies" if args.command == "student-copies" else "nbgrader sources"
            parser.error(f"{args.out} holds the chapters themselves; write the {what} elsewhere, e.g. student/")
        if out.exists() and not out.is_dir():
            parser.error(f"{args.out} is a file; give a folder for the notebooks, e.g. student/")
    try:
        _run(args)
    except ValueError as error:  # a notebook the command cannot handle: say which, and what to do
        parser.exit(2, f"error: {error}\n")


def _run(args: argparse.Namespace) -> None:
    if args.command == "sync-colab":
        for path in sync_colab(toc_chapters()):
            print(f"updated {path.relative_to(ROOT)}")
    elif args.command == "localize-citations":
        for path in localize_all([ROOT / "chapters" / "intro.md", *toc_chapters()]):
            print(f"updated {path.relative_to(ROOT)}")
    elif args.command == "nbgrader-source":
        for path in nbgrader_sources(toc_chapters(), args.out):
            print(f"wrote {path}")
    else:
        for path in student_copies(toc_chapters(), args.out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
