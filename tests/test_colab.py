"""Students on Colab: the Colab cell, the notebooks' runtime type, and each chapter run on Colab's packages.

The end-to-end test builds a stand-in for a fresh Colab runtime (see ``tests/colab.py``): only the
packages Colab ships that the book uses, a ``google.colab`` module, no Pyro, no vaelib. Each chapter's
first cell runs as written, except that it installs vaelib from a snapshot of this checkout
(``git+file://localhost/...``) instead of GitHub; then the chapter runs in smoke mode. pip reaches
the package index for Pyro, as on Colab.
"""

import json
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

from tools import chapters

from . import colab

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters.toc_chapters()
PROBE = """\
import json, sys
import google.colab, pyro, torch, vaelib
print(json.dumps({"vaelib": vaelib.__file__, "pyro": pyro.__file__, "torch": torch.__file__,
                  "colab": "google.colab" in sys.modules}))"""


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
    assert "pip" in line and "pyro-ppl" in line and url in line
    assert "torch" not in line.replace("pyro-ppl", ""), "Colab already has torch; reinstalling breaks it"


@pytest.fixture(scope="session")
def colab_site(tmp_path_factory):
    """(folder of Colab's packages, {name: version}), linked from this environment."""
    site = tmp_path_factory.mktemp("colab") / "site"
    return site, colab.build_colab_site(site)


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory):
    """This working tree as a git repository, on the branch the Colab cell installs from."""
    _, branch = chapters.repository()
    return colab.snapshot_repository(ROOT, tmp_path_factory.mktemp("repository"), branch)


def execute_in(runtime: colab.Runtime, nb, workdir: Path, monkeypatch) -> None:
    """Run ``nb`` on ``runtime``'s kernel in ``workdir`` (raises CellExecutionError), smoke mode on."""
    for name in ("PYTHONPATH", "PYTHONHOME", "MPLBACKEND"):  # the kernel inherits this process's environment
        monkeypatch.delenv(name, raising=False)
    for name, value in runtime.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VAE_BOOK_SMOKE", "1")
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
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_on_colab_after_its_first_cell(path, colab_site, snapshot, tmp_path, monkeypatch):
    """A fresh Colab runtime per chapter: the first cell installs what is missing, then the chapter runs."""
    site, versions = colab_site
    runtime = colab.new_runtime(tmp_path / "runtime", site)
    nb = nbformat.read(path, as_version=4)
    url, branch = chapters.repository()
    first = nb.cells[0]
    assert first.source.count(f"git+{url}@{branch}") == 1, f"{path.name}: the first cell does not install vaelib"
    first.source = first.source.replace(f"git+{url}", colab.pip_url(snapshot))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    try:
        execute_in(runtime, nb, tmp_path / "content", monkeypatch)  # content: Colab's folder, nothing of ours in it
    except CellExecutionError as error:
        printed = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []))
        pytest.fail(f"{path.name} fails on Colab's packages after its Colab cell (it printed {printed!r}):\n{error}")
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    probe = json.loads(printed.strip().splitlines()[-1])  # the stream may arrive in pieces
    assert probe["colab"], "google.colab was not imported in the kernel, so the Colab cell installed nothing"
    assert Path(probe["vaelib"]).is_relative_to(runtime.site), f"vaelib came from {probe['vaelib']}, not the cell"
    assert Path(probe["torch"]).is_relative_to(site), f"torch came from {probe['torch']}, not Colab's copy"
    installed = runtime.installed()
    assert {"pyro-ppl", "vaelib"} <= set(installed), installed
    again = colab.reinstalled(runtime, versions)
    assert not again, f"{path.name}: the Colab cell reinstalls what Colab already has: {again}"
