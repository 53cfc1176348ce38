"""Students on Colab: the Colab cell, the notebooks' runtime type, and each chapter run on Colab's packages.

The end-to-end test builds a stand-in for a fresh Colab runtime (see ``tests/colab.py``): only the
packages Colab ships that the book uses, a ``google.colab`` module, no Pyro, no vaelib. One runtime
serves every chapter, in reading order, as for a student who works through the book: each chapter's
first cell runs as written, except that it installs vaelib from a snapshot of this checkout
(``git+file://localhost/...``, whose branch ``tools.chapters.COLAB_REF`` holds it, as the Pages
workflow moves that branch on GitHub) instead of GitHub; then the chapter runs in smoke mode. pip
reaches the package index for Pyro, as on Colab, at the version in requirements.lock.

This is also the suite's pass on real MNIST: where ``../shared/data/MNIST/raw`` lies beside the
project, the chapters read it (``VAE_BOOK_DATA``), as a student on Colab downloads it; elsewhere
they run on the offline stand-in, as in the smoke build.
"""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import vaelib
from tools import chapters

from . import colab

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()
LOCK = ROOT / "requirements.lock"  # what CI installs; the runtime's pip installs Pyro at its version
SHARED_MNIST = ROOT.parent / "shared" / "data"  # real MNIST, beside the project's own checkouts
REAL_MNIST = (SHARED_MNIST / "MNIST" / "raw").exists()
PROBE = """\
import json, sys
from importlib import metadata
import google.colab, pyro, torch, vaelib
print(json.dumps({"vaelib": vaelib.__file__, "pyro": pyro.__file__, "torch": torch.__file__,
                  "colab": "google.colab" in sys.modules,
                  "installed_from": json.loads(metadata.distribution("vaelib").read_text("direct_url.json"))}))"""


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_cell_comes_first_and_matches_config(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.metadata.get("tags") == chapters.COLAB_TAGS, "the first cell must be the Colab cell, kept off the page"
    assert first.source == chapters.colab_cell_source(), "run: python -m tools.chapters sync-colab"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_opens_on_a_gpu_runtime_on_colab(path):
    metadata = nbformat.read(path, as_version=4).metadata
    for key, value in chapters.COLAB_NOTEBOOK_METADATA.items():
        hint = "run: python -m tools.chapters sync-colab"
        assert metadata.get(key) == value, f"{path.name}: notebook metadata {key!r} must be {value!r}; {hint}"


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
    assert "pip" in line and "pyro-ppl" in line and f"git+{url}@{chapters.COLAB_REF}" in line
    assert "torch" not in line.replace("pyro-ppl", ""), "Colab already has torch; reinstalling breaks it"


@pytest.fixture(scope="session")
def colab_site(tmp_path_factory):
    """(folder of Colab's packages, {name: version}), linked from this environment."""
    site = tmp_path_factory.mktemp("colab") / "site"
    return site, colab.build_colab_site(site)


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory):
    """This working tree as a git repository, on the branch the Colab cell installs from."""
    return colab.snapshot_repository(ROOT, tmp_path_factory.mktemp("repository"), chapters.COLAB_REF)


def snapshot_commit(snapshot: Path) -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=snapshot, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture(scope="session")
def colab_runtime(colab_site, tmp_path_factory):
    """(runtime, its content/ folder): one fresh Colab runtime that every chapter runs on, in reading order."""
    site, _ = colab_site
    root = tmp_path_factory.mktemp("colab-runtime")
    return colab.new_runtime(root / "runtime", site), root / "content"


def execute_in(runtime: colab.Runtime, nb, workdir: Path, monkeypatch, data: Path | None = None) -> None:
    """Run ``nb`` on ``runtime``'s kernel in ``workdir`` (raises CellExecutionError), smoke mode on.

    ``data``: the MNIST folder the chapters read (``VAE_BOOK_DATA``); None leaves it unset, as on Colab.
    """
    for name in ("PYTHONPATH", "PYTHONHOME", "MPLBACKEND", "VAE_BOOK_DATA", "VAE_BOOK_CHECKPOINTS"):
        monkeypatch.delenv(name, raising=False)  # the kernel inherits this process's environment
    for name, value in runtime.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VAE_BOOK_SMOKE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one core per kernel: the other test worker has the other one
    monkeypatch.setenv("PIP_CONSTRAINT", str(LOCK))  # the Colab cell's pip installs the lock's versions
    if data is not None:
        monkeypatch.setenv("VAE_BOOK_DATA", str(data))
    workdir.mkdir(exist_ok=True)
    NotebookClient(nb, kernel_name=colab.KERNEL_NAME, timeout=1800, resources={"metadata": {"path": workdir}}).execute()


def test_the_stand_in_runtime_has_colab_packages_and_nothing_else(colab_site, tmp_path, monkeypatch):
    """What the chapters are tested against: a chapter importing what Colab lacks fails, naming the package."""
    site, versions = colab_site
    assert {"torch", "torchvision", "numpy", "matplotlib", "scikit-learn", "ipykernel"} <= set(versions)
    assert not {"pyro-ppl", "vaelib", "jupyter-book", "nbval", "pytest", "nbformat"} & set(versions)
    runtime = colab.new_runtime(tmp_path / "runtime", site)
    cells = ["import sys\nassert 'google.colab' in sys.modules\nimport torch, sklearn, matplotlib", "import nbformat"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    with pytest.raises(CellExecutionError, match="No module named 'nbformat'"):
        execute_in(runtime, nb, tmp_path / "content", monkeypatch)
    assert not nb.cells[0].outputs, "Colab's own packages must import"


def test_a_reinstalled_colab_package_is_found_and_this_environment_is_untouched(colab_site, tmp_path):
    """A cell that reinstalls one of Colab's packages is caught, and the linked originals stay as they are."""
    site, versions = colab_site
    runtime = colab.new_runtime(tmp_path / "runtime", site)
    wheel = tmp_path / "tqdm-0.0.1-py3-none-any.whl"  # a stand-in 'tqdm' that pip installs offline
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tqdm_standin.py", "")
        archive.writestr("tqdm-0.0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tqdm\nVersion: 0.0.1\n")
        archive.writestr("tqdm-0.0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("tqdm-0.0.1.dist-info/RECORD", "")
    install = [runtime.python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)]
    result = subprocess.run(install, env=runtime.environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert colab.reinstalled(runtime, versions) == {"tqdm": f"0.0.1 (Colab has {versions['tqdm']})"}
    import tqdm  # this environment's tqdm, which the runtime's pip saw as installed elsewhere

    assert Path(tqdm.__file__).exists() and tqdm.__version__ == versions["tqdm"]


@pytest.mark.slow
@pytest.mark.xdist_group("colab")
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_on_colab_after_its_first_cell(path, colab_site, colab_runtime, snapshot, monkeypatch):
    """On the one Colab runtime, in reading order: the chapter's first cell installs what is missing (the
    first chapter's installs it, later ones find it installed), then the chapter runs; on real MNIST
    where it lies beside the project. The probe after each chapter shows what its kernel imported."""
    site, versions = colab_site
    runtime, content = colab_runtime  # content: Colab's folder, nothing of ours in it
    nb = nbformat.read(path, as_version=4)
    url, _ = chapters.repository()
    first = nb.cells[0]
    requirement = f"git+{url}@{chapters.COLAB_REF}"
    assert first.source.count(requirement) == 1, f"{path.name}: the first cell does not install vaelib"
    first.source = first.source.replace(f"git+{url}", colab.pip_url(snapshot))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    shared = [name for name in vaelib.SHARED_MODELS if (content / "checkpoints" / f"{name}_smoke.pt").exists()]
    try:
        execute_in(runtime, nb, content, monkeypatch, data=SHARED_MNIST if REAL_MNIST else None)
    except CellExecutionError as error:
        printed = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []))
        pytest.fail(f"{path.name} fails on Colab's packages after its Colab cell (it printed {printed!r}):\n{error}")
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    probe = json.loads(printed.strip().splitlines()[-1])  # the stream may arrive in pieces
    assert probe["colab"], "google.colab was not imported in the kernel, so the Colab cell installed nothing"
    assert Path(probe["vaelib"]).is_relative_to(runtime.site), f"vaelib came from {probe['vaelib']}, not the cell"
    assert Path(probe["torch"]).is_relative_to(site), f"torch came from {probe['torch']}, not Colab's copy"
    vcs = probe["installed_from"].get("vcs_info", {})
    assert vcs.get("requested_revision") == chapters.COLAB_REF, probe["installed_from"]
    assert vcs.get("commit_id") == snapshot_commit(snapshot), "vaelib is not the commit the branch points at"
    installed = runtime.installed()
    assert {"pyro-ppl", "vaelib"} <= set(installed), installed
    locked = dict(line.split("==") for line in LOCK.read_text().splitlines() if "==" in line)
    assert installed["pyro-ppl"] == locked["pyro-ppl"], "the Colab cell's pip ignored requirements.lock"
    again = colab.reinstalled(runtime, versions)
    assert not again, f"{path.name}: the Colab cell reinstalls what Colab already has: {again}"
    if path.stem == "05_latent_space":  # in the runtime's own content/checkpoints/, where chapter 3 ran before
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        for name in shared:
            assert f"{name}: loaded checkpoints/{name}_smoke.pt" in text, f"chapter 5 did not load {name}"


@pytest.mark.xdist_group("colab")
def test_a_downloaded_chapter_installs_the_commit_the_book_was_built_from(colab_runtime, snapshot):
    """A book built with VAE_BOOK_COMMIT serves notebooks whose Colab cell names that commit: pip installs it.

    _ext/colab_ref.py writes the cell (tests/test_ext.py builds a book with it); here pip, on the Colab
    runtime, resolves the pinned requirement to exactly that commit of the repository.
    """
    sys.path.insert(0, str(ROOT / "_ext"))
    from colab_ref import pin_install

    runtime, _ = colab_runtime
    commit = snapshot_commit(snapshot)
    url, _ = chapters.repository()
    pinned = pin_install(chapters.colab_cell_source(), commit).replace(f"git+{url}", colab.pip_url(snapshot))
    (requirement,) = re.findall(r'"vaelib @ ([^"]+)"', pinned)
    command = [runtime.python, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed", "--quiet"]
    command += ["--report", "-", f"vaelib @ {requirement}"]
    result = subprocess.run(command, env=runtime.environment(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (item,) = json.loads(result.stdout)["install"]
    assert item["download_info"]["vcs_info"]["commit_id"] == commit, item["download_info"]
    assert requirement.endswith(f"@{commit}"), requirement
