"""Students' and instructors' notebooks: copies without solutions, and nbgrader sources that grade.

The student copy of every chapter is checked for leftovers; one is executed in smoke mode, as a
student would first open it. For graders, ``nbgrader-source`` output goes through nbgrader's own
``generate_assignment`` and ``autograde``: an unanswered copy scores zero, a copy answered with the
book's solutions scores full marks.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tools import chapters

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()
GRADED = CHAPTERS[0]  # the chapter nbgrader grades in the tests: the first, and one of the quickest


def run(*args, cwd=ROOT, timeout=1800):
    env = {**os.environ, "VAE_BOOK_SMOKE": "1"}  # the kernels nbgrader starts run the chapter in smoke mode
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


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


def test_unbalanced_solution_markers_are_reported():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-start} ex\n```")])
    with pytest.raises(ValueError, match="never closed"):
        chapters.strip_solutions(nb)


@pytest.mark.slow
def test_a_student_copy_runs_in_smoke_mode(tmp_path, monkeypatch):
    """As a student first opens it: every cell runs, and each check says the exercise is not answered yet."""
    (copy,) = chapters.student_copies([GRADED], tmp_path)
    nb = nbformat.read(copy, as_version=4)
    monkeypatch.setenv("VAE_BOOK_SMOKE", "1")
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": tmp_path}}).execute()
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    printed = ["".join(o.get("text", "") for o in c.outputs) for c in checks]
    assert printed and all("not answered yet" in text for text in printed), printed


# nbgrader -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_nbgrader_source_marks_solutions_tests_and_locked_cells(path):
    nb = nbformat.read(path, as_version=4)
    source = chapters.nbgrader_source(nb, path.name)
    kinds = [c.metadata["nbgrader"] for c in source.cells]
    answers = [c for c, k in zip(source.cells, kinds, strict=True) if k["solution"]]
    tests = [c for c, k in zip(source.cells, kinds, strict=True) if k["grade"]]
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    assert len(tests) == len(checks) and all(k["points"] == chapters.POINTS_PER_CHECK for k in kinds if k["grade"])
    assert all("### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source for c in answers)
    assert all(k["locked"] for k in kinds if not k["solution"]), "every cell but the answers is read-only"
    assert len({k["grade_id"] for k in kinds}) == len(kinds), "grade ids must be unique"
    assert not any("{solution" in c.source for c in source.cells)


def test_a_check_that_cannot_fail_is_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('fine')", metadata={"tags": ["check"]})])
    with pytest.raises(ValueError, match="cell 0: a check cell that calls no vaelib.check_answer"):
        chapters.nbgrader_source(nb, "x.ipynb")


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    result = run(sys.executable, "-m", "nbgrader", *args, cwd=course)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-5000:]}"
    return result


def with_solutions(released: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The released notebook answered as the book's solutions answer it (solution markers dropped)."""
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    answered = nbformat.from_dict(released)
    for cell in answered.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            markers = ("### BEGIN SOLUTION", "### END SOLUTION")
            cell.source = "\n".join(line for line in solutions[grade_id].splitlines() if line.strip() not in markers)
    return answered


@pytest.mark.slow
def test_nbgrader_grades_zero_unanswered_and_full_marks_with_solutions(tmp_path):
    course, assignment = tmp_path / "course", GRADED.stem
    (course / "nbgrader_config.py").parent.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'vae-book'\n"
        "c.Execute.timeout = 1800  # seconds per cell; smoke mode needs far less\n"
    )
    (written,) = chapters.nbgrader_sources([GRADED], course / "source")
    nbgrader(course, "generate_assignment", assignment, "--force")
    released = course / "release" / assignment / GRADED.name
    release = nbformat.read(released, as_version=4)
    assert "raise NotImplementedError" in "".join(c.source for c in release.cells), "solutions were not cleared"
    assert "### BEGIN SOLUTION" not in "".join(c.source for c in release.cells)
    for student, nb in (("unanswered", release), ("solved", with_solutions(release, nbformat.read(written, 4)))):
        target = course / "submitted" / student / assignment / GRADED.name
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    nbgrader(course, "autograde", assignment, "--create", "--force")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {}
        for student in ("unanswered", "solved"):
            notebook = gradebook.find_submission_notebook(GRADED.stem, assignment, student)
            scores[student] = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}
    maximum = sum(m for _, m in scores["solved"].values())
    assert maximum == chapters.POINTS_PER_CHECK * len(scores["solved"]) > 0
    failed = {name: score for name, score in scores["solved"].items() if score[0] != score[1]}
    assert not failed, f"{GRADED.name}: these solutions do not pass their own checks under nbgrader: {failed}"
    scored = {name: score for name, score in scores["unanswered"].items() if score[0] != 0}
    assert not scored, f"{GRADED.name}: an unanswered copy scores points: {scored}"
